"""``stylebias features``: output files, ids, --pairs, metadata-only data, usage errors, exit codes."""

from __future__ import annotations

import pandas as pd
import pytest

from stylebias.cli import main


def run(args: list[str]) -> int:
    try:
        main(args)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def test_features_parquet_with_pairs(fixtures, tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("STYLEBIAS_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "f.parquet"
    src = str(fixtures / "formats" / "lmarena_conversations.jsonl")
    # the fixture is mostly deliberately bad records (a loader test): allow them
    assert (
        run(["features", src, "-o", str(out), "--pairs", "--jobs", "1", "--quiet", "--max-rejected", "1"])
        == 0
    )
    resp = pd.read_parquet(out)
    pairs = pd.read_parquet(tmp_path / "f_pairs.parquet")
    assert list(resp.columns[:3]) == ["battle_id", "side", "model"]
    assert len(resp) == 2 * len(pairs)
    assert set(resp["side"]) == {"a", "b"}
    assert {"tokens", "refusal", "emoji_count", "positivity"} <= set(resp.columns)
    assert list(pairs.columns[:5]) == ["battle_id", "model_a", "model_b", "winner", "pref_a"]
    # the first fixture battle: A has a header, two list items and bold; B is one plain sentence
    first = resp[resp["battle_id"] == pairs.loc[0, "battle_id"]].set_index("side")
    assert first.loc["a", "header_count"] == 1 and first.loc["a", "list_count"] == 2
    assert pairs.loc[0, "header_count"] == pytest.approx(1 / 2)
    assert (tmp_path / "cache" / "features.sqlite").exists()


def test_features_csv_lmarena_from_metadata(fixtures, tmp_path, capsys) -> None:
    out = tmp_path / "meta.csv"
    src = str(fixtures / "formats" / "arena_metadata.jsonl")
    cmd = ["features", src, "-o", str(out), "--features", "lmarena", "--no-cache", "--max-rejected", "1"]
    assert run(cmd) == 0
    df = pd.read_csv(out)
    assert list(df.columns) == [
        "battle_id",
        "side",
        "model",
        "tokens",
        "header_count",
        "list_count",
        "bold_count",
    ]
    assert df["tokens"].notna().all()
    printed = capsys.readouterr()
    assert "Style features of" in printed.out


def test_metadata_only_full_is_a_data_error(fixtures, tmp_path, capsys) -> None:
    src = str(fixtures / "formats" / "arena_metadata.jsonl")
    code = run(["features", src, "-o", str(tmp_path / "x.parquet"), "--features", "full", "--no-cache", "-q"])
    assert code == 2
    assert "metadata-only" in capsys.readouterr().err


def test_usage_errors(tmp_path, capsys) -> None:
    assert run(["features", "-o", str(tmp_path / "x.txt"), "-q"]) == 1
    assert "--output must end in" in capsys.readouterr().err
    assert run(["features", "-o", str(tmp_path / "x.parquet"), "--features", "tokenz", "-q"]) == 1
    assert "unknown feature(s): 'tokenz'" in capsys.readouterr().err


def test_features_without_output_is_a_usage_error_and_writes_nothing(fixtures, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    src = str(fixtures / "formats" / "generic_votes.csv")
    code = run(["features", src, "--column", "model_a=left_model", "--column", "model_b=right_model",
                "--column", "winner=verdict", "--features", "tokens"])  # fmt: skip
    assert code == 1
    assert "--output" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
