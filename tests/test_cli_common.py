"""Shared CLI plumbing: machine output on stdout (`--json -`, `--csv -`), atomic files, CSV neutralisation."""

from __future__ import annotations

import csv
import io
import json

import pytest

from stylebias.cli import main
from stylebias.cli.common import data_to_stdout, write_csv, write_json


def run(args: list[str]) -> int:
    try:
        main(args)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def test_data_to_stdout_detection() -> None:
    assert data_to_stdout(["rank", "--json", "-"]) and data_to_stdout(["rank", "--csv=-"])
    assert not data_to_stdout(["rank", "--json", "out.json"]) and not data_to_stdout(["rank", "-"])


def test_rank_json_on_stdout_is_clean(fixtures, capsys: pytest.CaptureFixture[str]) -> None:
    src = str(fixtures / "formats" / "pandalm_testset.json")
    assert run(["rank", src, "--features", "none", "--json", "-"]) == 0
    out, err = capsys.readouterr()
    doc = json.loads(out)  # nothing but JSON on stdout
    assert len(doc["models"]) >= 2
    assert "Leaderboard" in err  # the readable table moved to stderr


def test_validate_csv_on_stdout(fixtures, capsys: pytest.CaptureFixture[str]) -> None:
    src = str(fixtures / "formats" / "lmarena_conversations.jsonl")
    assert run(["validate", src, "--csv", "-", "--max-rejected", "1"]) == 0  # a fixture of mostly bad records
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert rows and int(rows[0]["read"]) == int(rows[0]["accepted"]) + int(rows[0]["rejected"])


def test_write_csv_neutralises_text_but_keeps_numbers(tmp_path) -> None:
    out = tmp_path / "x.csv"
    write_csv(out, ["model", "delta"], [['=HYPERLINK("http://x")', -3.25], ["+cmd", 1.0], ["@a", -0.5]])
    rows = list(csv.reader(out.open()))
    assert rows[1] == ['\'=HYPERLINK("http://x")', "-3.25"]
    assert rows[2][0] == "'+cmd" and rows[3] == ["'@a", "-0.5"]
    assert not list(tmp_path.glob(".*.tmp"))  # atomic write leaves no temp file


def test_write_json_refuses_nan_and_leaves_old_file(tmp_path) -> None:
    out = tmp_path / "x.json"
    write_json(out, {"a": 1})
    with pytest.raises(ValueError):
        write_json(out, {"a": float("nan")})
    assert json.loads(out.read_text()) == {"a": 1}


def test_fit_and_report_write_csv(fixtures, tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    src = str(fixtures / "formats" / "pandalm_testset.json")
    eff, table = tmp_path / "effects.csv", tmp_path / "models.csv"
    assert (
        run(["fit", src, "--features", "lmarena", "--save", str(tmp_path / "m"), "--csv", str(eff), "-q"])
        == 0
    )
    rows = list(csv.DictReader(eff.open()))
    assert [r["name"] for r in rows] == ["tokens", "header_count", "list_count", "bold_count"][: len(rows)]
    assert all(float(r["low"]) <= float(r["coef"]) <= float(r["high"]) for r in rows)
    out = tmp_path / "r.html"
    assert (
        run(
            [
                "report",
                src,
                "--features",
                "lmarena",
                "--no-explain",
                "-o",
                str(out),
                "--csv",
                str(table),
                "-q",
            ]
        )
        == 0
    )
    models = list(csv.DictReader(table.open()))
    assert out.is_file() and len(models) >= 2
    assert all(float(m["rating_low"]) <= float(m["rating"]) <= float(m["rating_high"]) for m in models)
