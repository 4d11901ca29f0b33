"""``rerank``: board and outputs parsing, the solver, known-strength recovery, CLI contract, real validation."""

from __future__ import annotations

import csv
import gzip
import json
import math
import shutil

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from stylebias.errors import DataError, UsageError
from stylebias.rerank import read_model_outputs, read_score_board, rerank_leaderboard, solve_offset
from tests.test_fit_cli import REF, run, text_of, write_annotations

REF_AE = "gpt4_1106_preview"


@pytest.fixture
def rr(fixtures):
    return fixtures / "rerank"


# ------------------------------------------------------------------------------------------ board parsing
def test_alpaca_eval_csv_with_unnamed_first_column(rr):
    board = read_score_board(rr / "ae2_leaderboard.csv")
    assert board.attrs["scale"] == "percent"
    assert board["model"].tolist()[:2] == ["NullModel", "claude-3-5-sonnet-20240620"]
    row = board.set_index("model").loc["Meta-Llama-3-8B-Instruct"]
    assert row["score"] == pytest.approx(22.56990260931677)
    assert row["lc"] == pytest.approx(22.92, abs=0.01) and row["se"] == pytest.approx(1.2576, abs=1e-4)


def test_other_boards_need_score_column(tmp_path):
    p = tmp_path / "board.json"
    p.write_text(json.dumps([{"model": "a", "wr": 0.25}, {"model": "b", "wr": 0.5}]))
    with pytest.raises(UsageError, match="--score-column"):
        read_score_board(p)
    board = read_score_board(p, score_column="wr")
    assert board["score"].tolist() == [25.0, 50.0] and board.attrs["scale"] == "fraction"
    p2 = tmp_path / "board2.json"
    p2.write_text(json.dumps({"models": [{"name": "a", "s": 30}, {"name": "b", "s": "n/a"}]}))
    with pytest.raises(DataError, match="'b'.*not a number"):
        read_score_board(p2, score_column="s")
    p3 = tmp_path / "b.csv"
    p3.write_text("model,score\na,30\na,40\n")
    with pytest.raises(DataError, match="appears twice"):
        read_score_board(p3, score_column="score")


# ---------------------------------------------------------------------------------------- outputs parsing
def test_outputs_plain_gz_and_rejects_ledger(rr, tmp_path):
    outs = read_model_outputs([str(rr)])
    assert len(outs.files) == 4 and len(outs.rejects) == 0
    assert outs.outputs.groupby("generator").size().to_dict() == {
        "Meta-Llama-3-8B-Instruct": 24,
        "Qwen1.5-72B-Chat": 24,
        "claude-3-5-sonnet-20240620": 24,
        REF_AE: 24,
    }
    bad = tmp_path / "bad.json"
    good = {"instruction": "q", "output": "a", "generator": "m"}
    bad.write_text(
        json.dumps(
            [
                good,
                [1],
                {"instruction": "q2", "generator": "m"},
                {**good, "generator": 7},
                good,
                {**good, "generator": " "},
            ]
        )
    )
    outs = read_model_outputs(str(bad))
    assert len(outs.outputs) == 1
    rej = outs.rejects.set_index("record")["reason"].to_dict()
    assert set(rej) == {2, 3, 4, 5, 6}
    assert "expected an object" in rej[2] and "missing field 'output'" in rej[3]
    assert "'generator' is a int" in rej[4] and "duplicate answer" in rej[5] and "empty" in rej[6]
    assert (outs.rejects["file"] == str(bad)).all()


# ------------------------------------------------------------------------------------------------ solver
def test_solver_inverts_the_mean_win_rate():
    rng = np.random.default_rng(0)
    for d in (-3.0, -0.4, 0.0, 1.7):
        g = rng.normal(0.3, 1.2, 500)
        p = float(expit(d + g).mean())
        assert solve_offset(p, g) == pytest.approx(d, abs=1e-9)
    assert solve_offset(0.25, np.zeros(0)) == pytest.approx(math.log(1 / 3))
    with pytest.raises(ValueError):
        solve_offset(1.0, np.zeros(3))


def _outputs_file(path, generator, lengths):
    recs = [
        {
            "instruction": f"Question {i}: explain topic {i}.",
            "output": text_of(int(n)),
            "generator": generator,
        }
        for i, n in enumerate(lengths)
    ]
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        json.dump(recs, fh)
    return path


def test_recovers_known_strength_from_simulated_votes(tmp_path):
    """Votes simulated with a known length effect; a new model's board score is the expected win rate for
    strength d. The style-neutral score must come back to sigma(d), far from the raw score."""
    import stylebias
    from stylebias.rating.persist import fit_style_model, save_fitted
    from tests.test_fit_cli import GAMMA

    data = write_annotations(tmp_path / "ann.json", n_instructions=800)
    fitted, metrics = fit_style_model(stylebias.load_battles([str(data)]), "tokens", jobs=1)
    save_fitted(fitted, tmp_path / "model", metrics)

    rng = np.random.default_rng(5)
    n = 300
    ref_len = np.maximum(5, rng.normal(120, 40, n)).astype(int)
    new_len = np.maximum(5, rng.normal(320, 60, n)).astype(int)  # a verbose new model
    out_dir = tmp_path / "outputs"
    out_dir.mkdir()
    _outputs_file(out_dir / "ref.json.gz", REF, ref_len)
    _outputs_file(out_dir / "new.json.gz", "new", new_len)
    d = -0.6
    x = (new_len - ref_len) / (new_len + ref_len + 1)
    p_board = 100 * float(expit(d + GAMMA * x).mean())
    board = pd.DataFrame({"model": ["new", REF], "score": [p_board, 50.0]})
    res = rerank_leaderboard(board, [str(out_dir)], REF, tmp_path / "model", jobs=1, rounds=50)
    row = res.models.set_index("model").loc["new"]
    truth = 100 * float(expit(d))
    assert p_board - truth > 15  # the test is meaningful: style moves the raw score a lot
    assert row["score_style_neutral"] == pytest.approx(truth, abs=2.5)
    assert row["score_style_neutral_low"] <= row["score_style_neutral"] <= row["score_style_neutral_high"]
    assert row["n_matched"] == n and row["rank_raw"] == 1 and row["rank"] == 2


def test_boundary_scores_are_clipped_with_a_note(rr):
    board = pd.DataFrame({"model": ["Qwen1.5-72B-Chat", REF_AE], "score": [0.0, 50.0]})
    with pytest.warns(UserWarning, match="not on the board"):
        res = rerank_leaderboard(board, [str(rr)], REF_AE, "alpaca_eval_style", jobs=1, rounds=0)
    assert res.outputs_not_on_board == ["Meta-Llama-3-8B-Instruct", "claude-3-5-sonnet-20240620"]
    row = res.models.set_index("model").loc["Qwen1.5-72B-Chat"]
    assert "clipped" in row["note"] and 0 < row["score_style_neutral"] < 50
    assert "score_style_neutral_low" not in res.models.columns


# ------------------------------------------------------------------------------------------------- CLI
def test_cli_json_contract_and_not_reranked(capsys, rr, tmp_path):
    out = tmp_path / "r.json"
    code, stdout, err = run(
        capsys, "rerank", str(rr / "ae2_leaderboard.csv"), "--outputs", str(rr), "--reference", REF_AE,
        "--load", "alpaca_eval_style", "--json", str(out), "--csv", str(tmp_path / "r.csv"), "--rounds", "20",
    )  # fmt: skip
    assert code == 0, err
    doc = json.loads(out.read_text())
    models = {m["model"]: m for m in doc["models"]}
    assert set(models) == {
        REF_AE,
        "Meta-Llama-3-8B-Instruct",
        "claude-3-5-sonnet-20240620",
        "Qwen1.5-72B-Chat",
    }
    for m in doc["models"]:
        assert {"model", "score_raw", "score_style_neutral", "rank_raw", "rank"} <= set(m)
    assert sorted(m["rank"] for m in doc["models"]) == [1, 2, 3, 4]
    assert models[REF_AE]["score_style_neutral"] == 50.0
    # answers longer than the reference's lose credit, shorter ones gain it (the judge rewards length)
    for m in doc["models"]:
        if abs(m["style_push_logit"]) > 0.1:
            assert (m["score_style_neutral"] < m["score_raw"]) == (m["style_push_logit"] > 0), m
    assert {r["model"] for r in doc["not_reranked"]} == {"NullModel", "Yi-34B-Chat"}
    assert all("no outputs" in r["reason"] for r in doc["not_reranked"])
    assert "Not re-ranked" in stdout and "NullModel" in stdout
    with open(tmp_path / "r.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 4 and "score_style_neutral" in rows[0]


def test_cli_outputs_not_on_board_are_listed(capsys, rr, tmp_path):
    board = tmp_path / "b.csv"
    lines = (rr / "ae2_leaderboard.csv").read_text().splitlines()
    board.write_text("\n".join(x for x in lines if not x.startswith("Qwen")) + "\n")
    out = tmp_path / "r.json"
    code, _, err = run(
        capsys,
        "rerank",
        str(board),
        "--outputs",
        str(rr),
        "--reference",
        REF_AE,
        "--json",
        str(out),
        "--rounds",
        "0",
    )
    assert code == 0, err
    assert "not on the board" in err and "Qwen1.5-72B-Chat" in err
    assert json.loads(out.read_text())["outputs_not_on_board"] == ["Qwen1.5-72B-Chat"]


def test_cli_reference_missing_is_usage_error(capsys, rr):
    code, _, err = run(
        capsys, "rerank", str(rr / "ae2_leaderboard.csv"), "--outputs", str(rr / "Qwen1.5-72B-Chat.json.gz"),
        "--reference", REF_AE,
    )  # fmt: skip
    assert code == 1 and "no outputs for the reference model" in err


def test_cli_tampered_artifact_is_data_error(capsys, rr, tmp_path):
    from stylebias.resources import models_dir

    folder = tmp_path / "m"
    shutil.copytree(models_dir() / "alpaca_eval_style", folder)
    env = json.loads((folder / "artifact.json").read_text())
    env["payload"]["coef"] = ["0.9"]
    (folder / "artifact.json").write_text(json.dumps(env))
    code, _, err = run(
        capsys, "rerank", str(rr / "ae2_leaderboard.csv"), "--outputs", str(rr), "--reference", REF_AE,
        "--load", str(folder),
    )  # fmt: skip
    assert code == 2 and "'coef'" in err and "artifact.json" in err
    code, _, err = run(
        capsys, "rerank", str(rr / "ae2_leaderboard.csv"), "--outputs", str(rr), "--reference", REF_AE,
        "--load", str(tmp_path / "nowhere"),
    )  # fmt: skip
    assert code == 2 and "no saved model" in err


# ------------------------------------------------------------------------------------ real validation
def test_real_validation_matches_reported_rho(shared_data):
    """The figure in docs/rerank.md: shipped model, AE2 board, the 14 mapped models with outputs."""
    from scipy.stats import spearmanr

    from tests.conftest import ROOT

    ae = shared_data / "alpaca_eval"
    board = ae / "leaderboards" / "src__data_AlpacaEval_2__weighted_alpaca_eval_gpt4_turbo_leaderboard.csv"
    with open(ROOT / "bench" / "name_map_alpaca_lmarena.csv", newline="") as fh:
        name_map = {
            r["alpaca_eval"]: r["lmarena"]
            for r in csv.DictReader(fh)
            if r["lmarena"] and r["outputs"] == "model_outputs"
        }
    human = json.loads(
        (
            shared_data / "lmarena_leaderboards" / "2025-04-24" / "leaderboard-text-style-control.json"
        ).read_text()
    )["full"]
    outputs = [str(ae / "model_outputs" / f"{m}.json.gz") for m in name_map]
    res = rerank_leaderboard(board, outputs, REF_AE, "alpaca_eval_style", jobs=1, rounds=0)
    t = res.models[res.models["model"].isin(name_map)]
    assert len(t) == 14
    h = [human[name_map[m]]["rating"] for m in t["model"]]
    rho = {c: spearmanr(t[c], h).statistic for c in ("score_raw", "lc", "score_style_neutral")}
    assert rho["score_raw"] == pytest.approx(0.767, abs=0.01)
    assert rho["lc"] == pytest.approx(0.855, abs=0.01)
    assert rho["score_style_neutral"] == pytest.approx(0.829, abs=0.01)


def test_cli_summarises_many_models_without_outputs(capsys, rr, tmp_path):
    """A board of 203 models, a few with outputs: one summary line with the count, every name in --json."""
    board = tmp_path / "big.csv"
    lines = (rr / "ae2_leaderboard.csv").read_text().splitlines()
    extra = [f"model-{i:03d},{20 + i / 10},1.0,1,1,0,805,20.0,community,900,20.0," for i in range(201)]
    board.write_text("\n".join([*lines, *extra]) + "\n")
    out = tmp_path / "r.json"
    code, stdout, err = run(
        capsys, "rerank", str(board), "--outputs", str(rr), "--reference", REF_AE, "--json", str(out),
        "--rounds", "0",
    )  # fmt: skip
    assert code == 0, err
    not_reranked = json.loads(out.read_text())["not_reranked"]
    assert len(not_reranked) == 203  # NullModel, Yi-34B-Chat and the 201 added
    assert "203 models" in stdout and f"not_reranked in --json {out}" in stdout
    assert "model-150" not in stdout  # not one row per model
    assert len(stdout.splitlines()) < 40
