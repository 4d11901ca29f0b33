"""``stylebias rank`` end to end: real loader, JSON shape, determinism, options, exit codes."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from tests._cli import run

LN10 = math.log(10)


def write_meta_jsonl(
    path, n=3000, seed=0, models=("alpha", "bravo", "charlie", "delta", "=echo"), languages=True
):
    """Metadata-only battles in the arena-human-preference-100k shape (conv_metadata dicts)."""
    rng = np.random.default_rng(seed)
    k = len(models)
    beta = np.linspace(0.3, -0.3, k)
    verbose = np.linspace(1.0, 0.0, k)[::-1]  # the weakest model writes the longest answers
    a = rng.integers(0, k, n)
    b = (a + rng.integers(1, k, n)) % k
    ta = np.rint(rng.lognormal(np.log(200 + 600 * verbose[a]), 0.6))  # habits plus answer-to-answer spread
    tb = np.rint(rng.lognormal(np.log(200 + 600 * verbose[b]), 0.6))
    x = (ta - tb) / (ta + tb + 1)
    eta = LN10 * (beta[a] - beta[b]) + 0.8 * (x - x.mean()) / x.std()
    p = 1 / (1 + np.exp(-eta))
    u = rng.random(n)
    winner = np.where(rng.random(n) < 0.2, "tie", np.where(u < p, "model_a", "model_b"))
    with open(path, "w") as fh:
        for i in range(n):
            meta = {
                "sum_assistant_a_tokens": int(ta[i]),
                "sum_assistant_b_tokens": int(tb[i]),
                "header_count_a": {"h1": int(rng.integers(0, 3)), "h2": 0},
                "header_count_b": {"h1": int(rng.integers(0, 3)), "h2": 0},
                "list_count_a": {"ordered": int(rng.integers(0, 5)), "unordered": 0},
                "list_count_b": {"ordered": int(rng.integers(0, 5)), "unordered": 0},
                "bold_count_a": {"**": int(rng.integers(0, 4)), "__": 0},
                "bold_count_b": {"**": int(rng.integers(0, 4)), "__": 0},
            }
            rec = {
                "question_id": f"q{i}",
                "model_a": models[a[i]],
                "model_b": models[b[i]],
                "winner": str(winner[i]),
                "judge": f"user{i % 97}",
                "turn": 1,
                "anony": True,
                "language": ("English" if i % 3 else "German") if languages else "English",
                "tstamp": 1.7e9 + i,
                "conv_metadata": meta,
            }
            fh.write(json.dumps(rec) + "\n")
    return path


@pytest.fixture(scope="module")
def meta_file(tmp_path_factory):
    return write_meta_jsonl(tmp_path_factory.mktemp("rank") / "battles.jsonl")


def test_rank_json_has_the_documented_shape(capsys, meta_file, tmp_path):
    out = tmp_path / "r.json"
    code, stdout, stderr = run(capsys, "rank", str(meta_file), "--json", str(out), "--quiet")
    assert code == 0, stderr
    doc = json.loads(out.read_text())
    assert set(doc) >= {"models", "features", "data"}
    for m in doc["models"]:
        assert set(m) >= {
            "model",
            "battles",
            "rating",
            "rating_low",
            "rating_high",
            "rank",
            "rating_raw",
            "rank_raw",
        }
        assert m["rating_low"] <= m["rating"] <= m["rating_high"]
    assert [f["name"] for f in doc["features"]] == ["tokens", "header_count", "list_count", "bold_count"]
    for f in doc["features"]:
        assert set(f) >= {"name", "coef", "low", "high"} and f["low"] <= f["coef"] <= f["high"]
    assert doc["data"] == {"read": 3000, "accepted": 3000, "rejected": 0}
    assert sum(m["battles"] for m in doc["models"]) == 2 * 3000
    assert doc["settings"]["feature_set"] == "lmarena"  # metadata-only data -> lmarena by default
    # style control: the long-winded weakest model loses its length bonus, the strongest gains
    by = {m["model"]: m for m in doc["models"]}
    assert by["=echo"]["rating_raw"] > by["=echo"]["rating"]
    assert doc["features"][0]["low"] > 0  # length helps, clearly
    flat = " ".join(stdout.split())
    assert "Style effects" in flat and "multiplies the odds of winning by" in flat
    assert "→" in stdout and "↓" in stdout  # rank raw -> controlled with a shift arrow


def test_json_is_byte_identical_across_runs_and_worker_counts(capsys, meta_file, tmp_path):
    outs = []
    for i, jobs in enumerate(("1", "2", "2")):
        out = tmp_path / f"b{i}.json"
        args = ["rank", str(meta_file), "--ci", "bootstrap", "--rounds", "12", "--seed", "7", "--jobs", jobs]
        code, _, err = run(capsys, *args, "--json", str(out), "--quiet")
        assert code == 0, err
        outs.append(out.read_bytes())
    assert outs[0] == outs[1] == outs[2]
    doc = json.loads(outs[0])
    assert doc["settings"]["ci"] == "bootstrap" and doc["settings"]["rounds"] == 12


def test_options_anchor_min_battles_by_csv_winrate(capsys, meta_file, tmp_path):
    out, csv = tmp_path / "a.json", tmp_path / "a.csv"
    code, stdout, err = run(
        capsys,
        "rank",
        str(meta_file),
        "--anchor",
        "bravo=1200",
        "--winrate-vs",
        "bravo",
        "--ties",
        "davidson",
        "--reg",
        "1.0",
        "--json",
        str(out),
        "--csv",
        str(csv),
        "--quiet",
    )
    assert code == 0, err
    doc = json.loads(out.read_text())
    by = {m["model"]: m for m in doc["models"]}
    assert by["bravo"]["rating"] == 1200 and by["bravo"]["winrate"] == 0.5
    assert doc["settings"]["ties"] == "davidson" and doc["fit"]["tie_parameter"][0] != 0
    table = pd.read_csv(csv)
    assert "'=echo" in set(table["model"])  # formula-like names are neutralised in CSV
    assert "win rate vs bravo" in stdout

    code, _, err = run(capsys, "rank", str(meta_file), "--by", "language", "--json", str(out), "--quiet")
    assert code == 0, err
    doc = json.loads(out.read_text())
    assert doc["by"] == "language" and [g["value"] for g in doc["groups"]] == ["English", "German"]
    assert sum(sum(m["battles"] for m in g["models"]) for g in doc["groups"]) == 2 * 3000

    code, _, err = run(capsys, "rank", str(meta_file), "--min-battles", "100000", "--quiet")
    assert code == 2 and "no battles left" in err


def test_feature_choice_and_no_style(capsys, meta_file, tmp_path):
    out = tmp_path / "n.json"
    code, _, err = run(capsys, "rank", str(meta_file), "--features", "none", "--json", str(out), "--quiet")
    assert code == 0, err
    doc = json.loads(out.read_text())
    assert doc["features"] == [] and all(m["rating"] == m["rating_raw"] for m in doc["models"])
    code, _, err = run(capsys, "rank", str(meta_file), "--features", "tokens", "--json", str(out), "--quiet")
    assert code == 0, err
    assert [f["name"] for f in json.loads(out.read_text())["features"]] == ["tokens"]


def test_usage_and_data_errors_have_exit_codes(capsys, meta_file, tmp_path):
    assert run(capsys, "rank", str(meta_file), "--anchor", "bravo")[0] == 1
    code, _, err = run(capsys, "rank", str(meta_file), "--anchor", "nobody=1000", "--quiet")
    assert code == 1 and "nobody" in err
    assert run(capsys, "rank", str(meta_file), "--ties", "coin", "--quiet")[0] == 1
    assert run(capsys, "rank", str(meta_file), "--features", "sparkle", "--quiet")[0] == 1
    one = tmp_path / "one.jsonl"
    one.write_text(json.dumps({"model_a": "a", "model_b": "b", "winner": "model_a"}) + "\n")
    code, _, err = run(capsys, "rank", str(one), "--features", "none", "--quiet")
    assert code == 0, err  # two models, one battle: finite ratings (with a warning)
    code, _, err = run(capsys, "rank", str(tmp_path / "missing.jsonl"), "--quiet")
    assert code in (1, 2) and "missing.jsonl" in err


def test_warnings_are_shown_unless_quiet(capsys, tmp_path):
    one = tmp_path / "one.jsonl"
    one.write_text(json.dumps({"model_a": "a", "model_b": "b", "winner": "model_a"}) + "\n")
    code, _, err = run(capsys, "rank", str(one), "--features", "none")
    assert code == 0 and "never lost: a" in err


@pytest.mark.slow
def test_demo_runs_without_a_path(capsys, tmp_path):
    out = tmp_path / "demo.json"
    code, stdout, err = run(capsys, "rank", "--features", "lmarena", "--json", str(out), "--quiet")
    assert code == 0, err
    doc = json.loads(out.read_text())
    # AlpacaEval (all vs gpt4_1106_preview) and PandaLM share no model: two components, never mixed
    assert len(doc["components"]) == 2
    assert {m["model"] for m in doc["components"][1]["models"]} == {
        "llama-7b",
        "bloom-7b",
        "cerebras-gpt-6.7B",
        "opt-7b",
        "pythia-6.9b",
    }
    assert "component 2 of 2" in stdout
