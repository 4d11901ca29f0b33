"""A headless Chromium driven by Selenium, for the report's browser tests (and screenshots by hand).

Debian's ``chromium`` and ``chromium-driver`` (``/usr/bin/chromium``, ``/usr/bin/chromedriver``); Selenium
Manager is kept offline (``SE_OFFLINE``) and given both paths, so nothing is downloaded. In CI (``CI`` set to
true) a missing browser is an error, elsewhere the tests that need it skip.
"""

from __future__ import annotations

import os
import shutil

import pytest

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def browser_paths() -> tuple[str | None, str | None]:
    """``(browser, driver)`` paths on PATH, or ``None`` for the one that is missing."""
    browser = next((p for p in map(shutil.which, BROWSERS) if p), None)
    return browser, shutil.which("chromedriver")


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def require_browser(with_driver: bool = True) -> None:
    """Skip the calling test without a browser (and driver), unless in CI, where that is a failure."""
    browser, driver = browser_paths()
    missing = [] if browser else ["chromium"]
    if with_driver:
        missing += [] if driver else ["chromedriver"]
        try:
            import selenium  # noqa: F401
        except ImportError:
            missing.append("selenium (pip install '.[test]')")
    if not missing:
        return
    message = f"{' and '.join(missing)} not found (Debian: apt-get install chromium chromium-driver)"
    if in_ci():
        pytest.fail(f"CI must run the browser tests: {message}")
    pytest.skip(message)


def chrome(width: int = 1280, height: int = 900):
    """A headless Chromium WebDriver with the browser console log enabled (caller quits it)."""
    os.environ.setdefault("SE_OFFLINE", "true")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser, driver = browser_paths()
    options = webdriver.ChromeOptions()
    options.binary_location = browser or ""
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
    ):
        options.add_argument(arg)
    options.add_argument(f"--window-size={width},{height}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(executable_path=driver), options=options)
