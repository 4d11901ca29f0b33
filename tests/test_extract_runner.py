"""The batch runner's scheduling: when a pool is started, how work is cut, and that neither changes values."""

from __future__ import annotations

import pandas as pd
import pytest

from stylebias.extract import resolve_features, response_features, runner
from stylebias.extract.runner import estimate_seconds, plan_chunks, pool_pays, resolve_jobs


def test_pool_pays_only_for_enough_work() -> None:
    assert not pool_pays(10.0, 1)
    assert not pool_pays(0.05, 2)  # a few dozen answers: start-up would cost more than it saves
    assert pool_pays(5.0, 2)
    # the break-even grows with start-up cost and shrinks with more workers
    small = next(s / 100 for s in range(1, 1000) if pool_pays(s / 100, 2))
    assert 0.2 < small < 1.5
    assert pool_pays(small, 4)


def test_estimate_grows_with_count_length_and_features() -> None:
    full = resolve_features("full")
    lm = resolve_features("lmarena")
    assert estimate_seconds(full, [1000] * 10) < estimate_seconds(full, [1000] * 20)
    assert estimate_seconds(full, [100] * 10) < estimate_seconds(full, [10_000] * 10)
    assert estimate_seconds(lm, [1000] * 10) < estimate_seconds(full, [1000] * 10) / 5


def test_plan_chunks_covers_every_position_once_biggest_first() -> None:
    costs = [0.001] * 500 + [2.0] + [0.001] * 300 + [0.5]
    chunks = plan_chunks(costs, max_items=64, target=0.03)
    flat = sorted(i for c in chunks for i in c)
    assert flat == list(range(len(costs)))
    assert all(c == sorted(c) for c in chunks)  # each chunk keeps input order
    assert chunks[0] == [500] and chunks[1] == [801]  # the slow answers go out first, alone
    totals = [sum(costs[i] for i in c) for c in chunks]
    assert totals == sorted(totals, reverse=True)
    assert max(len(c) for c in chunks) <= 64
    assert max(totals[2:]) <= 0.03 + 1e-12  # the rest: small chunks, so workers finish together


def test_small_input_runs_serially_whatever_jobs_says(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_pool(self):
        raise AssertionError("a pool was started for 3 answers")

    monkeypatch.setattr(runner._Extractor, "_get_pool", no_pool)
    for jobs in (0, None, 2, 8):
        f = response_features(["Great question!", "I can't help.", "- a\n- b"], jobs=jobs, cache=False)
        assert len(f) == 3


def test_resolve_jobs() -> None:
    cores = runner.available_cores()
    assert resolve_jobs(None) == resolve_jobs(0) == cores
    assert resolve_jobs(1) == 1
    assert resolve_jobs(-1) == cores
    assert resolve_jobs(3) == 3


@pytest.mark.slow
def test_forced_pool_with_priming_gives_the_serial_frame(monkeypatch: pytest.MonkeyPatch, real_texts) -> None:
    """Tiny chunks, a parent that primes on the first answers, results taken as they finish: same frame."""
    texts, prompts = real_texts[0][:400], real_texts[1][:400]
    texts = texts + ["x " + "-" * 20_000, "word " * 5000]  # slow answers: they get chunks of their own
    prompts = prompts + [None, None]
    serial = response_features(texts, prompts, features="full", jobs=1, cache=False)
    pools: list[int] = []
    real_get_pool = runner._Extractor._get_pool

    def counting(self):
        pools.append(1)
        return real_get_pool(self)

    monkeypatch.setattr(runner._Extractor, "_get_pool", counting)
    monkeypatch.setattr(runner, "MIN_POOL_SAVING_SECONDS", float("-inf"))
    monkeypatch.setattr(runner, "CHUNK_SECONDS", 0.002)
    monkeypatch.setattr(runner, "PRIME_SECONDS", 0.02)
    parallel = response_features(texts, prompts, features="full", jobs=2, cache=False)
    assert pools, "the pool never ran"
    pd.testing.assert_frame_equal(serial, parallel, check_exact=True)


@pytest.fixture(scope="module")
def real_texts(shared_data) -> tuple[list[str], list[str]]:
    import gzip
    import json

    rows = json.loads(gzip.open(shared_data / "alpaca_eval/model_outputs/Storm-7B.json.gz").read())
    return [r["output"] for r in rows], [r["instruction"] for r in rows]
