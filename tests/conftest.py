"""Shared test helpers: where the fixtures and the real third-party data live."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` (real third-party data). CI has it; skip loudly elsewhere."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data folder not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def synthetic_explanation():
    """``explain_battles`` on ``tests.test_explain_core.synthetic()`` (2,400 votes, nested 4 x 3 folds, trees,
    30 bootstrap replicates, the BT view), fitted once per run: test_explain_core reads it and
    test_explain_persist saves, reloads and tampers with its vote model. Tests only read it."""
    from stylebias.explain import explain_battles
    from tests.test_explain_core import SYNTHETIC_FIT, synthetic

    df, X = synthetic()
    return explain_battles(df, X, **SYNTHETIC_FIT)


@pytest.fixture(autouse=True, scope="session")
def _isolated_feature_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Tests never read or write the user's feature cache (~/.cache/stylebias): one fresh cache per run."""
    import os

    if "STYLEBIAS_CACHE_DIR" not in os.environ:
        os.environ["STYLEBIAS_CACHE_DIR"] = str(tmp_path_factory.mktemp("feature_cache"))


# Hypothesis: the normal suite uses each test's modest max_examples; HYPOTHESIS_PROFILE=fuzz raises every
# robustness test (tests/test_robust_*.py, via tests/_fuzz.py) to at least 2,000 cases for the figures in
# docs/robustness.md.
def _hypothesis_profiles() -> None:
    import os

    from hypothesis import HealthCheck, settings

    settings.register_profile(
        "fuzz",
        max_examples=2000,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
        print_blob=True,
    )
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


_hypothesis_profiles()
