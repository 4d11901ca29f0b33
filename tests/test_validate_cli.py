"""``stylebias validate``: tables, JSON, rejects CSV and exit codes (0 ok, 1 usage, 2 data)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from stylebias.cli import main

FX = Path(__file__).resolve().parent / "fixtures" / "formats"


def run(args: list[str]) -> int:
    try:
        main(args)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def test_validate_fixture_with_rejects(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_json = tmp_path / "v.json"
    out_csv = tmp_path / "rejects.csv"
    code = run(
        [
            "validate",
            str(FX / "lmarena_conversations.jsonl"),
            "--json",
            str(out_json),
            "--rejects",
            str(out_csv),
        ]
    )
    assert code == 3  # 8 of 12 records rejected: more than --max-rejected 50 %, said first
    captured = capsys.readouterr()
    printed = captured.out
    assert "Battle files" in printed and "Reject reasons" in printed
    assert "12 records read = 4 accepted + 8 rejected" in printed
    assert "8 of 12 records (67%) were rejected" in captured.err
    payload = json.loads(out_json.read_text())
    assert set(payload) == {"problems", "files", "unsupported", "reasons", "data"}
    assert [p["kind"] for p in payload["problems"]] == ["rejected"]
    assert payload["data"] == {"read": 12, "accepted": 4, "rejected": 8}
    assert payload["files"][0]["format"] == "lmarena"
    kinds = {r["reason"] for r in payload["reasons"]}
    assert {
        "unknown vote label",
        "self-battle",
        "missing response",
        "malformed JSON",
        "turn-count mismatch",
        "empty model name",
        "non-text response",
    } == kinds
    assert sum(r["count"] for r in payload["reasons"]) == 8
    rows = list(csv.DictReader(out_csv.open()))
    assert len(rows) == 8 and {r["record"] for r in rows} == {str(n) for n in range(5, 13)}


def test_validate_demo_by_default(tmp_path: Path) -> None:
    out_json, out_csv = tmp_path / "v.json", tmp_path / "files.csv"
    assert run(["validate", "--quiet", "--json", str(out_json), "--csv", str(out_csv)]) == 0
    payload = json.loads(out_json.read_text())
    assert [f["format"] for f in payload["files"]] == ["alpaca_eval", "pandalm"]
    assert payload["data"]["read"] == payload["data"]["accepted"] + payload["data"]["rejected"]
    rows = list(csv.DictReader(out_csv.open()))
    assert [r["format"] for r in rows] == ["alpaca_eval", "pandalm"]
    assert sum(int(r["read"]) for r in rows) == payload["data"]["read"]
    assert all(int(r["read"]) == int(r["accepted"]) + int(r["rejected"]) for r in rows)


def test_validate_json_is_deterministic(tmp_path: Path) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    for out in (a, b):
        assert (
            run(
                [
                    "validate",
                    "-q",
                    str(FX / "kaggle_train.csv"),
                    str(FX / "pandalm_testset.json"),
                    "--json",
                    str(out),
                ]
            )
            == 0
        )
    assert a.read_bytes() == b.read_bytes()


def test_validate_generic_with_columns(tmp_path: Path) -> None:
    out_json = tmp_path / "v.json"
    args = ["validate", "-q", str(FX / "generic_votes.csv"), "--json", str(out_json)]
    for pair in (
        "model_a=left_model",
        "model_b=right_model",
        "winner=verdict",
        "response_a=answer_left",
        "response_b=answer_right",
    ):
        args += ["--column", pair]
    assert run(args) == 0
    assert json.loads(out_json.read_text())["data"] == {"read": 5, "accepted": 3, "rejected": 2}


def test_rejects_csv_neutralises_formulas(tmp_path: Path) -> None:
    p = tmp_path / "f.jsonl"
    p.write_text(
        json.dumps({"model_a": "=cmd()", "model_b": "=cmd()", "winner": "tie"})
        + "\n"
        + json.dumps({"model_a": "a", "model_b": "b", "winner": "tie"})
        + "\n"
    )
    out_csv = tmp_path / "r.csv"
    assert run(["validate", "-q", str(p), "--rejects", str(out_csv)]) == 0
    text = out_csv.read_text()
    assert "self-battle" in text and "\n=" not in text and ",=" not in text


def test_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    selfs = tmp_path / "self.jsonl"
    selfs.write_text(json.dumps({"model_a": "m", "model_b": "m", "winner": "tie"}) + "\n")
    out_json = tmp_path / "v.json"
    assert run(["validate", str(selfs), "--json", str(out_json)]) == 2  # nothing usable
    err = capsys.readouterr()
    assert "no usable battles" in err.err and "self-battle" in err.err
    assert json.loads(out_json.read_text())["data"] == {
        "read": 1,
        "accepted": 0,
        "rejected": 1,
    }  # still written
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"PAR1 nope")
    assert run(["validate", "-q", str(bad)]) == 2  # unreadable file
    assert "bad.parquet" in capsys.readouterr().err
    assert run(["validate", "-q", str(tmp_path / "missing.json")]) == 1
    assert run(["validate", "-q", "--format", "nope", str(FX / "kaggle_train.csv")]) == 1
    assert run(["validate", "-q", "--column", "model_a", str(FX / "generic_votes.csv")]) == 1
    assert run(["validate", "--no-such-option"]) == 1


def test_load_input_warns_with_counts(capsys: pytest.CaptureFixture[str]) -> None:
    from stylebias.cli.options import load_input, parse_columns

    data = load_input([str(FX / "lmarena_conversations.jsonl")], None, None, quiet=False)
    assert data.accepted == 4
    err = capsys.readouterr().err
    assert "8 of 12 records rejected" in err and "self-battle" in err and "stylebias validate" in err
    load_input([str(FX / "lmarena_conversations.jsonl")], None, None, quiet=True)
    assert capsys.readouterr().err == ""
    assert parse_columns(["model_a=x", " winner = y "]) == {"model_a": "x", "winner": "y"}
    assert parse_columns(None) is None
    from stylebias.errors import UsageError

    with pytest.raises(UsageError, match="CANONICAL=SOURCE"):
        parse_columns(["model_a"])
    with pytest.raises(UsageError, match="given twice"):
        parse_columns(["model_a=x", "model_a=y"])


def test_validate_dir_lists_unsupported_files_and_goes_on(tmp_path: Path, capsys) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "a_notes.json").write_text(json.dumps({"hello": 1}))  # not battles
    (folder / "b_broken.parquet").write_bytes(b"PAR1 nope")  # not readable
    (folder / "c_votes.csv").write_text((FX / "generic_votes.csv").read_text())
    out_json = tmp_path / "v.json"
    code = run(["validate", str(folder), "--format", "generic", "--column", "model_a=left_model",
                "--column", "model_b=right_model", "--column", "winner=verdict", "--json", str(out_json)])  # fmt: skip
    captured = capsys.readouterr()
    payload = json.loads(out_json.read_text())
    # every file is listed: the readable one with its counts, the others as unsupported with a reason
    assert [f["file"] for f in payload["files"]] == [str(folder / "c_votes.csv")]
    assert payload["files"][0]["accepted"] > 0
    reasons = {Path(u["file"]).name: u["reason"] for u in payload["unsupported"]}
    assert set(reasons) == {"a_notes.json", "b_broken.parquet"}
    assert "Parquet" in reasons["b_broken.parquet"]
    assert "unsupported" in captured.out and "c_votes.csv" in captured.out
    assert code == 2 and "2 of 3 file(s) could not be read as battles" in captured.err
