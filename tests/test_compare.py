"""``stylebias compare`` and the leaderboard readers, on LMArena's published boards and on ours."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from stylebias.cli import app
from stylebias.errors import DataError, UsageError
from stylebias.leaderboards import compare_leaderboards, read_leaderboard, to_lmarena_json

runner = CliRunner()


@pytest.fixture()
def boards(shared_data):
    d = shared_data / "lmarena_leaderboards" / "2025-04-24"
    return d / "leaderboard-text.json", d / "leaderboard-text-style-control.json"


@pytest.mark.shared
def test_maverick_experimental_drops_under_style_control(boards, tmp_path):
    out = tmp_path / "cmp.json"
    res = runner.invoke(
        app, ["compare", str(boards[0]), str(boards[1]), "--category", "full", "--json", str(out)]
    )
    assert res.exit_code == 0, res.output
    doc = json.loads(out.read_text())
    row = next(m for m in doc["models"] if m["model"] == "llama-4-maverick-03-26-experimental")
    assert round(row["rating_a"], 1) == 1400.7 and round(row["rating_b"], 1) == 1302.4
    assert row["delta"] == pytest.approx(1302.4366 - 1400.7144, abs=1e-3)
    assert row["rank_a"] < row["rank_b"] and row["shift"] == row["rank_a"] - row["rank_b"] < 0
    public = next(m for m in doc["models"] if m["model"] == "llama-4-maverick-17b-128e-instruct")
    assert round(public["rating_a"], 1) == 1270.8 and round(public["rating_b"], 1) == 1250.2
    assert doc["summary"]["both"] == 222
    assert "llama-4-maverick" in res.output and "↓" in res.output


@pytest.mark.shared
def test_lmarena_ranks_follow_the_interval_rule(boards):
    board = read_leaderboard(boards[0])
    top = board.iloc[0]
    assert top["rank"] == 1
    for r in board.head(30).itertuples():
        assert r.rank == 1 + int((board["rating_low"] > r.rating_high).sum())


@pytest.mark.shared
def test_categories(boards):
    coding = read_leaderboard(boards[1], "coding")
    assert len(coding) > 50
    with pytest.raises(UsageError, match="no category 'nope'.*coding"):
        read_leaderboard(boards[1], "nope")
    res = runner.invoke(app, ["compare", str(boards[0]), str(boards[1]), "--category", "nope"])
    assert res.exit_code != 0


def ours(tmp_path, name, ratings):
    doc = {
        "models": [
            {"model": m, "battles": 10, "rating": r, "rating_low": r - 5, "rating_high": r + 5, "rank": i + 1}
            for i, (m, r) in enumerate(ratings.items())
        ],
        "features": [],
        "data": {"read": 10, "accepted": 10, "rejected": 0},
    }
    p = tmp_path / name
    p.write_text(json.dumps(doc))
    return p


def test_our_boards_compare_with_models_on_one_side_only(tmp_path):
    a = ours(tmp_path, "a.json", {"x": 1100.0, "y": 1000.0, "gone": 900.0})
    b = ours(tmp_path, "b.json", {"y": 1050.0, "x": 1020.0, "new": 990.0})
    table = compare_leaderboards(read_leaderboard(a), read_leaderboard(b))
    assert list(table["model"]) == ["y", "x", "new", "gone"]
    assert list(table["present"]) == ["both", "both", "b only", "a only"]
    y = table.set_index("model").loc["y"]
    assert y["delta"] == 50.0 and y["shift"] == 1 and y["arrow"] == "↑1"
    res = runner.invoke(app, ["compare", str(a), str(b), "--csv", str(tmp_path / "c.csv")])
    assert res.exit_code == 0, res.output
    csv = pd.read_csv(tmp_path / "c.csv")
    assert list(csv["model"]) == ["y", "x", "new", "gone"]


def test_lmarena_export_round_trips(tmp_path):
    models = pd.DataFrame(
        {
            "model": ["a", "b"],
            "rating": [1010.0, 990.0],
            "rating_low": [1000.0, 980.0],
            "rating_high": [1020.0, 1000.0],
            "rating_raw": [1030.0, 970.0],
            "rating_raw_low": [1020.0, 960.0],
            "rating_raw_high": [1040.0, 980.0],
        }
    )
    p = tmp_path / "sc.json"
    p.write_text(json.dumps(to_lmarena_json(models, "full")))
    back = read_leaderboard(p)
    assert list(back["model"]) == ["a", "b"] and list(back["rating"]) == [1010.0, 990.0]
    assert list(back["rank"]) == [1, 1]  # overlapping intervals share a rank


def test_malformed_boards_are_clear_errors(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(DataError, match="bad.json.*not a JSON"):
        read_leaderboard(bad)
    bad.write_text(json.dumps({"models": [{"model": "a", "rating": "high"}]}))
    with pytest.raises(DataError, match="'a'.*not a number"):
        read_leaderboard(bad)
    bad.write_text(json.dumps([1, 2]))
    with pytest.raises(DataError, match="unrecognised leaderboard"):
        read_leaderboard(bad)
    with pytest.raises(UsageError, match="not found"):
        read_leaderboard(tmp_path / "missing.json")


@pytest.mark.shared
def test_model_filter_shows_only_matching_rows_and_keeps_json_whole(boards, tmp_path):
    out = tmp_path / "cmp.json"
    res = runner.invoke(
        app, ["compare", str(boards[0]), str(boards[1]), "-m", "MAVERICK", "--json", str(out)]
    )
    assert res.exit_code == 0, res.output
    assert (
        "1,400.7" in res.output and "1,302.4" in res.output and "1,418.1" not in res.output
    )  # o3 filtered out
    assert "220 more models not shown" in res.output
    assert len(json.loads(out.read_text())["models"]) == 222
    res = runner.invoke(app, ["compare", str(boards[0]), str(boards[1]), "-m", "no-such-model"])
    assert res.exit_code != 0
