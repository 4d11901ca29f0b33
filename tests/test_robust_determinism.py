"""Robustness: same input and seed -> byte-identical output, across runs, worker counts and cache states.

Each CLI command runs three times: ``--jobs 1`` with a fresh feature cache, ``--jobs 2`` with another fresh
cache (the process pool really runs: it is started whatever the estimated saving, and chunks are small),
and ``--jobs 2`` again with that cache warm. The ``--json`` bytes (and the other files the command writes) must be equal.
Bootstrap replicates are seeded per replicate (``default_rng([seed, r])``): replicate r is the same
computed alone, in a batch of any size, or on any number of threads.
"""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from stylebias.cli import main
from stylebias.extract import runner
from stylebias.rating import StyleBT
from stylebias.rating import estimator as estimator_mod
from stylebias.rating.intervals import replicate_weights
from stylebias.rating.solver import Workspace, newton

FX = Path(__file__).resolve().parent / "fixtures" / "formats"


def texts() -> list[str]:
    out = []
    for r in json.load(gzip.open(FX / "alpaca_eval_annotations.json.gz")):
        out += [r["output_1"], r["output_2"]]
    for r in json.loads((FX / "pandalm_testset.json").read_text()):
        out += [r["response1"], r["response2"]]
    return [t for t in out if isinstance(t, str) and t.strip()]


@pytest.fixture(scope="module")
def battles_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """240 battles among 6 models with real answer texts; the winner favours the longer answer."""
    rng = np.random.default_rng(11)
    pool = texts()
    models = [f"model-{c}" for c in "abcdef"]
    rows = []
    for i in range(240):
        a, b = rng.choice(len(models), 2, replace=False)
        ta, tb = pool[rng.integers(len(pool))], pool[rng.integers(len(pool))]
        p = 1 / (1 + np.exp(-(len(ta) - len(tb)) / 400 - (b - a) * 0.2))
        u = rng.random()
        winner = "tie" if abs(u - p) < 0.05 else ("model_a" if u < p else "model_b")
        rows.append(
            {
                "question_id": f"q{i}",
                "model_a": models[a],
                "model_b": models[b],
                "winner": winner,
                "prompt": f"question {i}",
                "response_a": ta + f"\n\n(answer {i}a)",
                "response_b": tb + f"\n\n(answer {i}b)",
            }
        )
    path = tmp_path_factory.mktemp("det") / "battles.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def run(args: list[str]) -> None:
    try:
        main(args)
    except SystemExit as exc:
        assert not exc.code, f"{args} exited {exc.code}"


def three_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make_args, outputs: list[str], warm: bool = True
) -> list[dict]:
    """Run a command as (jobs 1, fresh cache), (jobs 2, fresh cache), (jobs 2, warm cache; unless not ``warm``)."""
    monkeypatch.setattr(runner, "MIN_POOL_SAVING_SECONDS", float("-inf"))  # a pool even for 480 texts
    monkeypatch.setattr(runner, "PRIME_SECONDS", 0.0)  # and the parent does not take them all before forking
    monkeypatch.setattr(runner, "DEFAULT_CHUNK", 16)
    pools: list[int] = []
    real_get_pool = runner._Extractor._get_pool

    def counting_get_pool(self):
        pools.append(1)
        return real_get_pool(self)

    monkeypatch.setattr(runner._Extractor, "_get_pool", counting_get_pool)
    results = []
    for jobs, cache in (("1", "c1"), ("2", "c2"), ("2", "c2"))[: 3 if warm else 2]:
        monkeypatch.setenv("STYLEBIAS_CACHE_DIR", str(tmp_path / cache))
        out = tmp_path / "out"  # the same paths every run (outputs echo them), emptied in between
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir()
        before = len(pools)
        run(make_args(out, jobs))
        if jobs == "2" and cache == "c2" and not results[1:]:
            assert len(pools) > before, "the --jobs 2 run never used the process pool"
        results.append({name: (out / name).read_bytes() for name in outputs})
    return results


def assert_identical(results: list[dict]) -> None:
    for name in results[0]:
        assert results[0][name] == results[1][name], f"{name}: --jobs 1 and --jobs 2 differ"
        assert results[1][name] == results[-1][name], f"{name}: cold and warm cache differ"


def test_rank_text_features_bootstrap(battles_file, tmp_path, monkeypatch) -> None:
    res = three_runs(
        tmp_path,
        monkeypatch,
        lambda out, jobs: [
            "rank",
            str(battles_file),
            "--features",
            "style",
            "--ci",
            "bootstrap",
            "--rounds",
            "10",
            "--seed",
            "5",
            "--jobs",
            jobs,
            "--json",
            str(out / "r.json"),
            "--csv",
            str(out / "r.csv"),
            "--quiet",
        ],  # fmt: skip
        ["r.json", "r.csv"],
    )
    assert_identical(res)
    doc = json.loads(res[0]["r.json"])
    assert len(doc["models"]) == 6 and doc["features"]


def test_features_output_and_summary(battles_file, tmp_path, monkeypatch) -> None:
    res = three_runs(
        tmp_path,
        monkeypatch,
        lambda out, jobs: [
            "features",
            str(battles_file),
            "--features",
            "full",
            "--pairs",
            "--jobs",
            jobs,
            "-o",
            str(out / "f.csv"),
            "--json",
            str(out / "f.json"),
            "--quiet",
        ],  # fmt: skip
        ["f.csv", "f_pairs.csv", "f.json"],
    )
    assert_identical(res)
    assert res[0]["f.csv"].count(b"\n") == 481  # header + 480 responses


def test_fit_json_and_saved_payload(battles_file, tmp_path, monkeypatch) -> None:
    res = three_runs(
        tmp_path,
        monkeypatch,
        lambda out, jobs: [
            "fit",
            str(battles_file),
            "--features",
            "style",
            "--jobs",
            jobs,
            "--save",
            str(out / "m"),
            "--json",
            str(out / "fit.json"),
            "--quiet",
        ],  # fmt: skip
        ["fit.json", "m/artifact.json"],
    )
    for r in res:  # the envelope records when it was written; everything else must match
        env = json.loads(r["m/artifact.json"])
        env.pop("created")
        r["m/artifact.json"] = json.dumps(env).encode()
    assert_identical(res)


def test_report_html_and_json(battles_file, tmp_path, monkeypatch) -> None:
    res = three_runs(
        tmp_path,
        monkeypatch,
        lambda out, jobs: [
            "report",
            str(battles_file),
            "--features",
            "style",
            "--ci",
            "bootstrap",
            "--rounds",
            "8",
            "--seed",
            "2",
            "--no-explain",
            "--jobs",
            jobs,
            "-o",
            str(out / "r.html"),
            "--json",
            str(out / "r.json"),
            "--quiet",
        ],  # fmt: skip
        ["r.html", "r.json"],
    )
    assert_identical(res)


@pytest.mark.slow
def test_explain_json_and_csv(battles_file, tmp_path, monkeypatch) -> None:
    """2 outer x 2 inner folds: every stage still runs (the nested choice with its residual trees, the final
    fit, the bootstrap, the BT view), and whether its bytes depend on the worker count or the cache does not
    depend on how many folds there are."""
    res = three_runs(
        tmp_path,
        monkeypatch,
        lambda out, jobs: [
            "explain",
            str(battles_file),
            "--features",
            "style",
            "--folds",
            "2",
            "--inner-folds",
            "2",
            "--boot",
            "10",
            "--seed",
            "4",
            "--jobs",
            jobs,
            "--json",
            str(out / "e.json"),
            "--csv",
            str(out / "e.csv"),
            "--quiet",
        ],  # fmt: skip
        ["e.json", "e.csv"],
    )
    assert_identical(res)


def test_rerank_json_and_csv(fixtures, tmp_path, monkeypatch) -> None:
    rr = fixtures / "rerank"
    res = three_runs(
        tmp_path,
        monkeypatch,
        lambda out, jobs: [
            "rerank",
            str(rr / "ae2_leaderboard.csv"),
            "--outputs",
            str(rr),
            "--reference",
            "gpt4_1106_preview",
            "--load",
            "alpaca_eval_style",
            "--rounds",
            "30",
            "--seed",
            "3",
            "--jobs",
            jobs,
            "--json",
            str(out / "r.json"),
            "--csv",
            str(out / "r.csv"),
            "--quiet",
        ],  # fmt: skip
        ["r.json", "r.csv"],
    )
    assert_identical(res)


# ------------------------------------------------------------------------------------------ bootstrap


def _data(n: int = 300, seed: int = 0):
    rng = np.random.default_rng(seed)
    a = rng.choice(list("pqrst"), n)
    b = np.array([{"p": "q", "q": "r", "r": "s", "s": "t", "t": "p"}[x] for x in a])
    z = rng.normal(size=(n, 2))
    y = (rng.random(n) < 1 / (1 + np.exp(-z[:, 0]))).astype(float)
    y[rng.random(n) < 0.1] = 0.5
    return a, b, y, z


def test_bootstrap_replicate_is_the_same_alone_in_any_batch_and_on_any_thread_count(monkeypatch) -> None:
    a, b, y, z = _data()
    captured = {}
    real = estimator_mod.bootstrap

    def spy(problem, theta, **kw):
        captured.update(problem=problem, theta=theta, kw=kw)
        return real(problem, theta, **kw)

    monkeypatch.setattr(estimator_mod, "bootstrap", spy)
    big = StyleBT(ci="bootstrap", rounds=12, seed=9, n_jobs=1).fit(a, b, y, z, ["f1", "f2"])
    small = StyleBT(ci="bootstrap", rounds=5, seed=9, n_jobs=1).fit(a, b, y, z, ["f1", "f2"])
    threaded = StyleBT(ci="bootstrap", rounds=12, seed=9, n_jobs=4).fit(a, b, y, z, ["f1", "f2"])
    assert np.array_equal(big.boot_theta_[:5], small.boot_theta_)  # batch size does not matter
    assert np.array_equal(big.boot_theta_, threaded.boot_theta_)  # neither do threads
    # replicate 7 on its own: weights from default_rng([seed, 7]) only, Newton from the full-data optimum
    problem, theta, kw = captured["problem"], captured["theta"], captured["kw"]
    counts = kw["counts"]
    w = replicate_weights(9, 7, len(problem.y), counts)
    if counts is None and problem.w is not None:
        w *= problem.w
    ws = Workspace(len(problem.y))
    alone, _ = newton(problem.with_weights(w, ws), theta, xtol=kw["xtol"], max_iter=kw["max_iter"])
    assert np.array_equal(alone, big.boot_theta_[7])
    other_seed = StyleBT(ci="bootstrap", rounds=12, seed=10, n_jobs=1).fit(a, b, y, z, ["f1", "f2"])
    assert not np.array_equal(other_seed.boot_theta_, big.boot_theta_)
