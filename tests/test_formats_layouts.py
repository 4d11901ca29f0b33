"""Layouts that need no code: vote-label maps, constant model names, a column per model, 1|2 label pairs.

Each is tested on a small file here and, where one exists, on the real file in ``../shared/data``
(marked ``shared``; the LMArena file is read in place, never copied).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stylebias import load_battles
from stylebias.cli import app
from stylebias.cli.options import layout_options, parse_labels
from stylebias.errors import DataError, UsageError
from stylebias.formats import detect_format

BENCH = Path(__file__).resolve().parent / "fixtures" / "benchmarks"
LLAMA = "lmarena_llama3_70b_battles/llama3_70b_vs_other.csv"


def reasons(data) -> dict[int, str]:
    return {int(r.record): r.reason for r in data.rejects.itertuples(index=False)}


@pytest.fixture
def left_right(tmp_path: Path) -> Path:
    p = tmp_path / "votes.csv"
    p.write_text(
        "left,right,verdict,rater\n"
        "m1,m2,left,r1\n"
        "m2,m3,right,r1\n"
        "m1,m3,same,r2\n"
        "m1,m3,sideways,r2\n"
        "m3,m1,model_b,r1\n"
    )
    return p


# ------------------------------------------------------------------------------------------ label maps


def test_vote_label_map(left_right: Path) -> None:
    cols = {"model_a": "left", "model_b": "right", "winner": "verdict"}
    data = load_battles(
        left_right, columns=cols, labels={"winner": {"left": "model_a", "right": "model_b", "same": "tie"}}
    )
    assert data.battles["winner"].tolist() == [
        "model_a",
        "model_b",
        "tie",
        "model_b",
    ]  # canonical labels still read
    r = reasons(data)
    assert list(r) == [4]
    assert r[4].startswith("unknown vote label: winner='sideways' in column 'verdict'")
    assert "--label winner=" in r[4]


def test_unmapped_labels_reject_naming_the_label_and_the_fix(left_right: Path) -> None:
    data = load_battles(left_right, columns={"model_a": "left", "model_b": "right", "winner": "verdict"})
    r = reasons(data)
    assert data.accepted == 1 and set(r) == {1, 2, 3, 4}
    assert "'left'" in r[1] and "labels mapped: none" in r[1]


def test_integer_labels_from_json(tmp_path: Path) -> None:
    p = tmp_path / "v.jsonl"
    rows = [{"a": "x", "b": "y", "v": 1}, {"a": "x", "b": "y", "v": 2.0}, {"a": "x", "b": "y", "v": 0}]
    p.write_text("".join(json.dumps(r) + "\n" for r in rows))
    data = load_battles(
        p,
        columns={"model_a": "a", "model_b": "b", "winner": "v"},
        labels={"winner": {"1": "model_a", "2": "model_b"}},
    )
    assert data.battles["winner"].tolist() == ["model_a", "model_b"]
    assert reasons(data)[3].startswith("unknown vote label: winner=0")


def test_label_map_errors(left_right: Path) -> None:
    cols = {"model_a": "left", "model_b": "right", "winner": "verdict"}
    with pytest.raises(UsageError, match="unknown target label"):
        load_battles(left_right, columns=cols, labels={"winner": {"left": "A"}})
    with pytest.raises(UsageError, match="only winner"):
        load_battles(left_right, columns=cols, labels={"judge": {"r1": "x"}})
    with pytest.raises(UsageError, match="generic format"):
        load_battles(left_right, format="kaggle", labels={"winner": {"left": "model_a"}})


def test_label_and_column_option_parsing() -> None:
    assert parse_labels(["winner=left:model_a,right:model_b", "winner=same:tie"]) == {
        "winner": {"left": "model_a", "right": "model_b", "same": "tie"}
    }
    assert parse_labels(["winner=a:b:model_a"]) == {"winner": {"a:b": "model_a"}}  # the last colon splits
    for bad in (["winner"], ["winner=left"], ["winner=left:model_a,:model_b"], ["=x:model_a"]):
        with pytest.raises(UsageError):
            parse_labels(bad)
    with pytest.raises(UsageError, match="mapped twice"):
        parse_labels(["winner=left:model_a", "winner=left:model_b"])
    opts = layout_options(["model_a==llama-3-70b", "model_b=other", "winner=v"], None, None)
    assert opts == {
        "columns": {"model_b": "other", "winner": "v"},
        "constants": {"model_a": "llama-3-70b"},
        "labels": None,
        "answers": None,
    }
    with pytest.raises(UsageError, match="given twice"):
        layout_options(["model_a==x", "model_a=y"])
    with pytest.raises(UsageError, match="CANONICAL==VALUE"):
        layout_options(["model_a=="])


# ------------------------------------------------------------------------------------------ constants


def test_constant_model_name(tmp_path: Path) -> None:
    p = tmp_path / "field.csv"
    p.write_text("opponent,ours_won,answer,theirs\nm1,yes,A1,B1\nm2,no,A2,B2\nllama,yes,A3,B3\n")
    data = load_battles(
        p,
        columns={"model_b": "opponent", "winner": "ours_won", "response_a": "answer", "response_b": "theirs"},
        constants={"model_a": "llama", "judge": "crowd"},
        labels={"winner": {"yes": "model_a", "no": "model_b"}},
    )
    b = data.battles
    assert b["model_a"].tolist() == ["llama", "llama"] and b["judge"].tolist() == ["crowd", "crowd"]
    assert b["winner"].tolist() == ["model_a", "model_b"]
    assert reasons(data)[3].startswith("self-battle")  # the constant meets itself: rejected, not dropped
    with pytest.raises(UsageError, match="both as a source column and as a constant"):
        load_battles(p, columns={"model_a": "opponent"}, constants={"model_a": "x"})
    with pytest.raises(UsageError, match="unknown canonical"):
        load_battles(p, constants={"model_z": "x"})


# ------------------------------------------------------------------------------------- column per model


def test_model_columns_layout_is_detected() -> None:
    p = BENCH / "model_columns_votes.csv"
    assert detect_format(p) == "model_columns"
    data = load_battles(p)
    assert data.accounting() == {"read": 5, "accepted": 4, "rejected": 1}
    b = data.battles
    assert b["model_a"].unique().tolist() == ["model-x"] and b["model_b"].unique().tolist() == ["field"]
    assert b["winner"].tolist() == ["model_a", "model_b", "model_a", "tie"]
    assert b["prompt"].tolist()[:2] == ["Name a prime number.", "Say hi in French."]
    assert b["response_a"].tolist()[0] == "**7** is prime." and b["response_b"].tolist()[0] == "9"
    assert b["category_labels"].tolist()[0] == "STEM Questions"
    assert "preference" not in b.columns and "model-x" not in b.columns  # used columns are not extras
    r = reasons(data)
    assert r[5].startswith("unknown vote label: winner='neither' in column 'preference'")


def test_model_columns_explicit_columns_and_format(tmp_path: Path) -> None:
    p = BENCH / "model_columns_votes.csv"
    # naming the two answer columns fixes their order (here B first)
    data = load_battles(p, format="model_columns", columns={"response_a": "field", "response_b": "model-x"})
    assert data.battles["model_a"].unique().tolist() == ["field"]
    assert data.battles["winner"].tolist()[:3] == ["model_b", "model_a", "model_b"]
    other = tmp_path / "plain.csv"
    other.write_text("a,b,c\n1,2,3\n")
    with pytest.raises(DataError, match="not a 'model_columns' layout"):
        load_battles(other, format="model_columns")


# ---------------------------------------------------------------------------------------------- pairs


def test_pairs_layout_llmbar_sample() -> None:
    p = BENCH / "llmbar_natural_sample.json"
    assert detect_format(p) == "pairs"
    data = load_battles(p)
    raw = json.loads(p.read_text())
    assert data.accounting() == {"read": 6, "accepted": 3, "rejected": 3}
    b = data.battles
    assert b["model_a"].unique().tolist() == ["output_1"] and b["model_b"].unique().tolist() == ["output_2"]
    assert b["winner"].tolist() == [{1: "model_a", 2: "model_b"}[r["label"]] for r in raw[:3]]
    assert b["prompt"].tolist() == [r["input"] for r in raw[:3]]
    assert b["response_a"].tolist() == [r["output_1"] for r in raw[:3]]
    r = reasons(data)
    assert r[4].startswith("unknown vote label: winner=3") and r[5].startswith(
        "unknown vote label: winner=None"
    )
    assert r[6].startswith("missing response")
    # names can be given; labels can be remapped (e.g. a file whose 1 means the second output)
    named = load_battles(p, constants={"model_a": "gpt-4", "model_b": "llama"})
    assert named.sources["format"].tolist() == ["generic"]
    assert named.battles["model_a"].unique().tolist() == ["gpt-4"]
    flipped = load_battles(p, labels={"winner": {"1": "model_b", "2": "model_a"}})
    assert (flipped.battles["winner"] != b["winner"]).all()


def test_alpaca_eval_keeps_its_own_detection() -> None:
    fx = Path(__file__).resolve().parent / "fixtures" / "formats"
    assert detect_format(fx / "alpaca_eval_annotations.json.gz") == "alpaca_eval"


# ------------------------------------------------------------------------------------------ CLI


def test_cli_validate_with_labels_and_constants(left_right: Path) -> None:
    res = CliRunner().invoke(
        app,
        [
            "validate",
            str(left_right),
            "--column",
            "model_a=left",
            "--column",
            "model_b=right",
            "--column",
            "winner=verdict",
            "--column",
            "judge==crowd",
            "--label",
            "winner=left:model_a,right:model_b,same:tie",
            "--json",
            "-",
            "-q",
        ],
    )
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    assert summary["data"] == {"read": 5, "accepted": 4, "rejected": 1}
    assert summary["reasons"][0]["reason"] == "unknown vote label"


def test_cli_bad_label_option_is_a_usage_error(left_right: Path) -> None:
    res = CliRunner().invoke(app, ["validate", str(left_right), "--label", "winner=left", "-q"])
    assert res.exit_code == 1


# ------------------------------------------------------------------------------- real files (../shared)


@pytest.mark.shared
def test_lmarena_llama3_70b_battles_read_without_options(shared_data: Path) -> None:
    import csv

    path = shared_data / LLAMA
    assert detect_format(path) == "model_columns"
    data = load_battles(path)
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert (
        data.accounting()
        == {"read": len(rows), "accepted": len(rows), "rejected": 0}
        == {
            "read": 720,
            "accepted": 720,
            "rejected": 0,
        }
    )
    b = data.battles
    assert set(b["model_a"]) == {"llama-3-70b-instruct"} and set(b["model_b"]) == {"not_llama"}
    assert (
        (b["winner"] == "model_a").sum()
        == sum(r["preference"] == "llama-3-70b-instruct" for r in rows)
        == 371
    )
    assert b["prompt"].tolist() == [r["question"] for r in rows]
    assert b["response_b"].tolist() == [r["not_llama"] for r in rows]
    assert set(b["category_labels"]) == {r["category_labels"] for r in rows}


@pytest.mark.shared
def test_lmarena_llama3_70b_battles_cli(shared_data: Path, tmp_path: Path) -> None:
    path = str(shared_data / LLAMA)
    res = CliRunner().invoke(app, ["validate", path, "--json", "-", "-q"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["files"][0]["format"] == "model_columns"
    out = tmp_path / "rank.json"
    res = CliRunner().invoke(app, ["rank", path, "--features", "lmarena", "--json", str(out), "-q"])
    assert res.exit_code == 0, res.output
    models = {m["model"] for m in json.loads(out.read_text())["models"]}
    assert models == {"llama-3-70b-instruct", "not_llama"}


@pytest.mark.shared
def test_llmbar_pairs_all_files(shared_data: Path) -> None:
    folder = shared_data / "llmbar_pairs"
    data = load_battles(folder)
    assert set(data.sources["format"]) == {"pairs"} and data.rejected == 0
    for f in sorted(folder.glob("*.json")):
        raw = json.loads(f.read_text())
        part = data.battles[data.battles["source_file"] == str(f)]
        assert len(part) == len(raw)
        assert part["winner"].tolist() == [{1: "model_a", 2: "model_b"}[r["label"]] for r in raw]
        assert part["prompt"].tolist() == [r["input"] for r in raw]
    assert data.accepted == 885


def test_counts_that_are_not_counts_reject_their_row(tmp_path: Path) -> None:
    """turns must be a whole number >= 0 and meta_* a number >= 0; inf / nan turns are rejects, not crashes."""
    p = tmp_path / "counts.csv"
    p.write_text(
        "model_a,model_b,winner,turns,meta_tokens_a,meta_tokens_b\n"
        "m1,m2,model_a,2,10,12\n"
        "m1,m2,model_b,inf,10,12\n"
        "m1,m2,tie,nan,10,12\n"
        "m1,m2,tie,1.5,10,12\n"
        "m1,m2,tie,1,-3,12\n"
        "m1,m2,tie,1,x,12\n"
    )
    data = load_battles(str(p), format="generic")
    assert data.battles["turns"].tolist() == [2]
    assert reasons(data) == {
        2: "bad value: turns='inf' is not a count",
        3: "bad value: turns='nan' is not a count",
        4: "bad value: turns='1.5' is not a count",
        5: "bad value: meta_tokens_a='-3' is not a count",
        6: "bad value: meta_tokens_a='x' is not a number",
    }


@pytest.mark.shared
def test_constants_and_label_maps_on_the_real_llama3_file(shared_data: Path) -> None:
    """The same real file read the generic way: constant model names, the vote's own labels mapped."""
    path = shared_data / LLAMA
    data = load_battles(
        path,
        columns={"prompt": "question", "response_a": "llama-3-70b-instruct", "response_b": "not_llama",
                 "winner": "preference"},
        constants={"model_a": "llama-3-70b", "model_b": "the-field", "judge": "arena-crowd"},
        labels={"winner": {"llama-3-70b-instruct": "model_a", "not_llama": "model_b"}},
    )  # fmt: skip
    assert data.accounting() == {"read": 720, "accepted": 720, "rejected": 0}
    b = data.battles
    assert set(b["model_a"]) == {"llama-3-70b"} and set(b["model_b"]) == {"the-field"}
    assert set(b["judge"]) == {"arena-crowd"} and (b["winner"] == "model_a").sum() == 371
    # without the label map every row is an unknown vote label, named with the fix
    unmapped = load_battles(
        path,
        columns={"response_a": "llama-3-70b-instruct", "response_b": "not_llama", "winner": "preference"},
        constants={"model_a": "llama-3-70b", "model_b": "the-field"},
        allow_empty=True,
    )
    assert unmapped.rejected == 720 and "--label winner=" in unmapped.rejects["reason"].iloc[0]
