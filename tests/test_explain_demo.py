"""The worked example on the embedded demo, and the ``stylebias explain`` command end to end."""

from __future__ import annotations

import csv
import json

import pytest

from stylebias.cli import main
from stylebias.explain import explain_battles, load_vote_model

VERBOSE, CONCISE = "gpt-3.5-turbo-1106_verbose", "gpt-3.5-turbo-1106_concise"


def run(argv: list[str]) -> int:
    try:
        main(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


@pytest.mark.slow
def test_demo_headline_verbose_outranks_concise_only_on_style():
    res = explain_battles(
        judge="weighted_alpaca_eval_gpt4_turbo", features="lmarena", folds=3, inner_folds=2, boot=0
    )
    m = res.models.set_index("model")
    raw_gap = m.loc[VERBOSE, "rating_raw"] - m.loc[CONCISE, "rating_raw"]
    ctl_gap = m.loc[VERBOSE, "rating"] - m.loc[CONCISE, "rating"]
    assert raw_gap > 50  # raw votes: verbose clearly ahead
    assert abs(ctl_gap) < raw_gap / 2  # style control removes most of the gap
    assert m.loc[VERBOSE, "observed"] > m.loc[CONCISE, "observed"]
    # the vote model agrees: style-neutral, the gap in win rate shrinks, and length is what differs
    neutral_gap = m.loc[VERBOSE, "neutral"] - m.loc[CONCISE, "neutral"]
    assert neutral_gap < (m.loc[VERBOSE, "observed"] - m.loc[CONCISE, "observed"]) / 2
    assert res.group_points.loc[CONCISE, "length"] < res.group_points.loc[VERBOSE, "length"] - 3
    # what style cannot see: the judge-gaming NullModel stays the top model after control
    assert m["rating"].drop("gpt4_1106_preview").idxmax() == "NullModel"
    assert m.loc["NullModel", "neutral"] > 0.5
    # on this judge the vote model predicts held-out votes better than length alone
    s = res.cv.scores["log_loss"]
    assert s["vote_model"] < s["length_only"] < s["prior"]


@pytest.mark.slow
def test_cli_outputs_and_reload(tmp_path, capsys):
    out = tmp_path / "why.json"
    table = tmp_path / "why.csv"
    figs = tmp_path / "figs"
    saved = tmp_path / "vote"
    argv = ["explain", "--judge", "human", "--features", "lmarena", "--folds", "3", "--inner-folds", "3"]
    argv += ["--boot", "20", "--quiet"]
    assert (
        run([*argv, "--json", str(out), "--csv", str(table), "--plots", str(figs), "--save", str(saved)]) == 0
    )
    text = capsys.readouterr().out
    assert "Held-out vote prediction" in text and "won" in text and "style-neutral" in text
    doc = json.loads(out.read_text(encoding="utf-8"))
    for key in ("cv_log_loss", "prior_log_loss", "length_only_log_loss", "bt_style_log_loss", "auc"):
        assert key in doc["vote_model"]
    assert set(doc["models"]) == {"bloom-7b", "cerebras-gpt-6.7B", "llama-7b", "opt-7b", "pythia-6.9b"}
    assert set(doc["features"]) == {"tokens", "header_count", "list_count", "bold_count"}
    with table.open(encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[0][:4] == ["model", "battles", "observed", "predicted"] and len(rows) == 6
    names = sorted(p.name for p in figs.iterdir())
    for stem in (
        "shap_beeswarm",
        "attribution_bars",
        "length_dependence",
        "calibration",
        "forest_raw_vs_controlled",
    ):
        assert f"{stem}.png" in names and f"{stem}.svg" in names
    assert load_vote_model(saved).features == ["tokens", "header_count", "list_count", "bold_count"]

    code = run(
        ["explain", "--judge", "human", "--load", str(saved), "--model", "llama-7b", "--json", "-", "-q"]
    )
    assert code == 0
    reused = json.loads(capsys.readouterr().out)
    assert reused["vote_model"]["reused_saved_model"] is True
    assert reused["models"]["llama-7b"]["sentence"].startswith("llama-7b won ")


def test_cli_unknown_model_is_a_usage_error(capsys):
    argv = ["explain", "--judge", "human", "--features", "lmarena", "--folds", "2", "--inner-folds", "2"]
    argv += ["--search", "linear", "--boot", "0", "--model", "nope", "-q"]
    assert run(argv) == 1
    assert "not in these battles" in capsys.readouterr().err


@pytest.mark.slow
def test_real_human_votes_style_model_beats_length_only():
    """PandaLM (in the demo): held-out, the vote model beats length alone (docs/explain.md has the table)."""
    res = explain_battles(judge="human", features="style", folds=5, boot=0, bradley_terry=False)
    s = res.cv.scores["log_loss"]
    assert s["vote_model"] < s["length_only"] < s["prior"]
    assert res.cv.scores.loc["vote_model", "auc"] > 0.75
