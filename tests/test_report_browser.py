"""The report as a page to explore, checked in a real browser (headless Chromium driven by Selenium).

The demo report (without the vote model: the page's script and layout do not depend on it) is loaded from
``file://`` under its own Content-Security-Policy: a header click sorts a leaderboard, the filter box leaves
only the matching models, a row's link opens and scrolls to its card, the console stays free of errors and
CSP violations, and the policy really blocks a fetch. Skips without chromium/chromedriver, except in CI
(``CI=true``), where a missing browser fails (``.ci/run`` installs Debian's ``chromium chromium-driver``).
"""

from __future__ import annotations

import time

import pytest

from tests._browser import chrome, require_browser

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def browser():
    require_browser()
    driver = chrome(1280, 900)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def demo_page(tmp_path_factory):
    require_browser()
    from stylebias.report import build_report, write_report

    path = tmp_path_factory.mktemp("browser") / "demo.html"
    report = build_report(explain=False)
    write_report(report, path)
    return path, report


def console_problems(driver) -> list[str]:
    """Browser console entries that are errors or CSP reports (the log is drained by reading it)."""
    out = []
    for entry in driver.get_log("browser"):
        text = entry.get("message", "")
        if entry.get("level") in ("SEVERE", "ERROR") or "Content Security Policy" in text:
            out.append(f"{entry.get('level')}: {text}")
    return out


def rows(driver, table):
    """(model, sort keys of every cell) of the visible rows of ``table``, top to bottom."""
    return driver.execute_script(
        """
        return Array.from(arguments[0].tBodies[0].rows).filter(r => !r.hidden).map(r => [
          r.getAttribute('data-model'),
          Array.from(r.cells).map(c => c.hasAttribute('data-v') ? parseFloat(c.getAttribute('data-v')) : null),
        ]);""",
        table,
    )


def header(driver, table, label: str):
    from selenium.webdriver.common.by import By

    for th in table.find_elements(By.CSS_SELECTOR, "thead th"):
        if th.text.strip().lower().startswith(label.lower()):
            return th
    raise AssertionError(f"no column {label!r}")


def test_sort_filter_link_and_csp(browser, demo_page):
    from selenium.webdriver.common.by import By

    path, report = demo_page
    started = time.perf_counter()
    browser.get(path.as_uri())
    assert browser.title == report.title
    assert console_problems(browser) == []  # the inline script ran under the CSP: no violation, no error

    # sort: the first leaderboard by its controlled rating, then by Δ
    table = browser.find_element(By.CSS_SELECTOR, "#leaderboard table.leaderboard")
    before = rows(browser, table)
    col = [c.text.strip().lower() for c in table.find_elements(By.CSS_SELECTOR, "thead th")]
    ctrl = next(i for i, t in enumerate(col) if t.startswith("controlled"))
    header(browser, table, "controlled").find_element(By.TAG_NAME, "button").click()
    after = rows(browser, table)
    assert [r[1][ctrl] for r in after] == sorted(r[1][ctrl] for r in before)  # ascending
    assert [r[0] for r in after] != [r[0] for r in before]  # the page was best first: the order changed
    assert header(browser, table, "controlled").get_attribute("aria-sort") == "ascending"
    delta = next(i for i, t in enumerate(col) if t.startswith("δ"))
    button = header(browser, table, "Δ").find_element(By.TAG_NAME, "button")
    button.click()
    button.click()  # second click: descending
    ordered = rows(browser, table)
    assert [r[1][delta] for r in ordered] == sorted((r[1][delta] for r in before), reverse=True)
    part = report.parts[0].models
    assert ordered[0][0] == part.loc[part["style_gain"].idxmax(), "model"]  # what style bought most

    # filter: only the models whose name contains the text stay visible, in tables and cards
    box = browser.find_element(By.ID, "model-filter")
    assert box.is_displayed()
    box.send_keys("concise")
    shown = [
        r[0] for t in browser.find_elements(By.CSS_SELECTOR, "table.leaderboard") for r in rows(browser, t)
    ]
    everyone = set(report.rank.models["model"]) | {m for p in report.parts for m in p.models["model"]}
    expected = {m for m in everyone if "concise" in m.lower()}
    assert set(shown) == expected and len(shown) == len(expected) > 0
    cards = browser.find_elements(By.CSS_SELECTOR, "details.card")
    visible = {c.get_attribute("data-model") for c in cards if c.is_displayed()}
    assert visible == expected
    assert browser.find_element(By.ID, "filter-count").text == f"{len(expected)} of {len(cards)} models"
    box.clear()
    box.send_keys(" ")  # an empty query shows everything again
    assert len(rows(browser, table)) == len(before)

    # link: a row's model name opens its card and scrolls it into view
    model = part.loc[part["style_gain"].idxmax(), "model"]
    link = next(a for a in table.find_elements(By.CSS_SELECTOR, "td.model a") if a.text == model)
    target = link.get_attribute("href").split("#", 1)[1]
    link.click()
    time.sleep(0.3)
    card = browser.find_element(By.ID, target)
    assert card.get_attribute("data-model") == model and card.tag_name == "details"
    assert browser.execute_script("return window.location.hash") == f"#{target}"
    assert browser.execute_script("return arguments[0].open", card) is True
    top = browser.execute_script("return arguments[0].getBoundingClientRect().top", card)
    height = browser.execute_script("return window.innerHeight")
    assert 0 <= top < height / 2, top  # at the top of the window, under the sticky navigation
    assert browser.execute_script("return document.querySelector(':target') === arguments[0]", card)
    assert console_problems(browser) == []

    # and the policy is enforced: an image from the network is refused (and reported)
    refused = browser.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        document.addEventListener('securitypolicyviolation', e => done(e.violatedDirective), {once: true});
        const img = document.createElement('img');
        img.src = 'https://example.com/pixel.png';
        document.body.appendChild(img);
        setTimeout(() => done(null), 3000);
        """
    )
    assert refused and refused.startswith("img-src")
    assert time.perf_counter() - started < 30


def test_hostile_page_runs_no_data_as_code(browser, tmp_path):
    """Hostile names, prompts and answers stay text in the browser: one script on the page, no alert."""
    import numpy as np
    import pandas as pd

    from stylebias.report import build_report, write_report
    from stylebias.rows import validate_battles
    from tests.test_report import EVIL_ANSWER, EVIL_MODEL, hostile_battles

    data = validate_battles(hostile_battles(200, seed=11))
    feats = pd.DataFrame({"tokens": np.random.default_rng(0).normal(size=len(data.battles))})
    path = write_report(build_report(data, features=feats, explain=False), tmp_path / "evil.html")
    console_problems(browser)  # drain what an earlier page left in the log
    browser.get(path.as_uri())
    assert browser.execute_script("return document.scripts.length") == 1
    assert (
        browser.execute_script(
            "return document.querySelectorAll('img, iframe, [onerror], [ontoggle]').length"
        )
        == 0
    )
    text = browser.execute_script("return document.body.textContent")
    assert EVIL_MODEL in text
    browser.execute_script("document.querySelectorAll('details').forEach(d => d.open = true)")
    assert EVIL_ANSWER in browser.execute_script("return document.body.innerText")
    assert console_problems(browser) == []
