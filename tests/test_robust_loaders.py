"""Robustness: loaders on structural corruptions of real rows, oversized records in every container.

``test_formats_fuzz.py`` flips bytes; here the corruptions are semantic (the file stays well-formed): keys
deleted, values of the wrong type, duplicated records, huge and truncated fields, in every text format
(LMArena and HH-RLHF JSONL, AlpacaEval and PandaLM JSON arrays, Kaggle and generic CSV, arena-140k
Parquet). The
contract checked: the load either refuses the whole file with a DataError naming it, or every record written
is accounted for exactly once (accepted battle or reject with a reason) - nothing lost, nothing doubled.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from stylebias import load_battles, validate_battles
from stylebias.cli import main
from stylebias.errors import DataError
from tests._fuzz import examples

FX = Path(__file__).resolve().parent / "fixtures" / "formats"


def _csv_rows(name: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO((FX / name).read_text(encoding="utf-8"))))


def _jsonl_rows(name: str) -> list[dict]:
    """The well-formed lines (the fixture also holds deliberately broken ones)."""
    out = []
    for line in (FX / name).read_text(encoding="utf-8").splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if isinstance(rec, dict):
            out.append(rec)
    return out


def _parquet_rows(name: str) -> list[dict]:
    import pyarrow.parquet as pq

    return pq.read_table(FX / name).to_pylist()


SOURCES: dict[str, list[dict]] = {
    "arena.jsonl": _jsonl_rows("lmarena_conversations.jsonl"),
    "alpaca.json": json.load(gzip.open(FX / "alpaca_eval_annotations.json.gz")),
    "pandalm.json": json.loads((FX / "pandalm_testset.json").read_text()),
    "kaggle.csv": _csv_rows("kaggle_train.csv"),
    "arena140k.parquet": _parquet_rows("arena140k.parquet"),
    "hh.jsonl": _jsonl_rows("../hh_rlhf_sample.jsonl"),
    "generic.csv": _csv_rows("generic_votes.csv"),
}
GENERIC = {
    "model_a": "left_model",
    "model_b": "right_model",
    "winner": "verdict",
    "response_a": "answer_left",
    "response_b": "answer_right",
    "prompt": "question",
}
LOAD_KW: dict[str, dict] = {"generic.csv": {"format": "generic", "columns": GENERIC}}
WRONG = [None, 1, 2.5, True, "", [], {}, ["x"], {"a": 1}, "model_a", -1, 1e308]

mutation = st.tuples(
    st.sampled_from(["delete", "type", "duplicate", "huge", "truncate", "wrap"]),
    st.integers(0, 10_000),  # record
    st.integers(0, 10_000),  # key
    st.sampled_from(range(len(WRONG))),
)


def mutate(rows: list[dict], muts: list, csv_like: bool) -> list[dict]:
    rows = [dict(r) for r in rows]
    for kind, ri, ki, wi in muts:
        r = rows[ri % len(rows)]
        keys = sorted(r)
        if not keys:
            continue
        k = keys[ki % len(keys)]
        if kind == "delete":
            if csv_like:
                r[k] = ""
            else:
                del r[k]
        elif kind == "type":
            r[k] = str(WRONG[wi]) if csv_like else WRONG[wi]
        elif kind == "duplicate":
            rows.insert(ri % len(rows), dict(r))
        elif kind == "huge":
            r[k] = "x" * 5000
        elif kind == "truncate" and isinstance(r[k], str):
            r[k] = r[k][: len(r[k]) // 2]
        elif kind == "wrap" and not csv_like:
            r[k] = [r[k]]
    return rows


def write(path: Path, rows: list[dict]) -> None:
    if path.suffix == ".jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    elif path.suffix == ".json":
        path.write_text(json.dumps(rows))
    elif path.suffix == ".csv":
        fields = list(dict.fromkeys(k for r in rows for k in r))
        with open(path, "w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fields)
            w.writeheader()
            w.writerows(rows)
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            table = pa.Table.from_pylist(rows)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
            assume(False)  # Parquet is typed: a column cannot mix these values
        pq.write_table(table, path)


def check_every_record_accounted(loaded, n_written: int, name: str) -> None:
    loaded.check_accounting()
    assert loaded.read == n_written, f"{name}: wrote {n_written} records, loader read {loaded.read}"
    assert loaded.read == loaded.accepted + loaded.rejected
    assert len(loaded.battles) == loaded.accepted
    got = [int(x) for x in loaded.battles["source_record"]] + [int(x) for x in loaded.rejects["record"]]
    assert sorted(got) == list(range(1, n_written + 1)), "a record was lost or counted twice"
    assert loaded.rejects["reason"].map(lambda r: isinstance(r, str) and len(r) > 0).all()


@pytest.mark.filterwarnings("ignore::stylebias.errors.StyleBiasWarning")
@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(sorted(SOURCES)), muts=st.lists(mutation, min_size=1, max_size=6))
def test_structurally_corrupted_rows_are_all_accounted_for(name: str, muts: list) -> None:
    rows = mutate(SOURCES[name], muts, csv_like=name.endswith(".csv"))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        write(path, rows)
        try:
            loaded = load_battles(path, allow_empty=True, max_record_bytes=4096, **LOAD_KW.get(name, {}))
        except DataError as exc:
            assert name in str(exc)  # whole-file refusal (e.g. a required column gone) names the file
            event("whole file refused with DataError")
            return
    check_every_record_accounted(loaded, len(rows), name)
    event("loaded, some records rejected" if loaded.rejected else "loaded, every record accepted")


def test_unmutated_sources_load_completely() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for name, rows in SOURCES.items():
            path = Path(tmp) / name
            write(path, rows)
            loaded = load_battles(path, allow_empty=True, **LOAD_KW.get(name, {}))
            check_every_record_accounted(loaded, len(rows), name)
            assert loaded.accepted > 0, name


BIG = 20_000_000  # over the 16 MiB default


def _vote(i: int, text: str = "ok") -> dict:
    return {"model_a": "a", "model_b": "b", "winner": "model_a", "prompt": f"p{i}", "response_a": text}


@pytest.mark.slow
@pytest.mark.parametrize("ext", [".json", ".jsonl", ".csv", ".parquet", "140k.parquet"])
def test_a_20mb_record_is_rejected_by_the_default_limit_naming_file_and_record(tmp_path: Path, ext: str):
    path = tmp_path / f"votes{ext}"
    if ext == "140k.parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        rows = SOURCES["arena140k.parquet"][:3]
        rows[1] = json.loads(json.dumps(rows[1], default=str))
        rows[1]["conversation_a"][1]["content"][0]["text"] = "y" * BIG
        rows = [dict(r) for r in rows]
        pq.write_table(pa.Table.from_pylist(rows, schema=pq.read_schema(FX / "arena140k.parquet")), path)
    else:
        rows = [{**_vote(0), "response_b": "x"}, {**_vote(1, "y" * BIG), "response_b": "x"}]
        rows.append({**_vote(2), "response_b": "x"})
        write(path, rows)
    loaded = load_battles(path)
    check_every_record_accounted(loaded, 3, ext)
    rej = loaded.rejects.to_dict("records")
    assert len(rej) == 1 and rej[0]["record"] == 2 and rej[0]["file"] == str(path)
    assert rej[0]["reason"].startswith("record larger than max_record_bytes")
    # the limit is configurable: raised, the record loads
    assert load_battles(path, max_record_bytes=64 << 20).accepted == 3


def test_cli_max_record_bytes_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "v.jsonl"
    write(path, [{**_vote(0), "response_b": "x"}, {**_vote(1, "y" * 5000), "response_b": "x"}])
    try:
        main(["validate", str(path), "--max-record-bytes", "2000", "--json", "-"])
    except SystemExit as exc:
        assert not exc.code
    doc = json.loads(capsys.readouterr().out)
    assert doc["files"][0]["rejected"] == 1 and doc["files"][0]["accepted"] == 1


def test_validate_battles_rejects_lone_surrogates_instead_of_crashing() -> None:
    df = pd.DataFrame(
        {
            "model_a": ["a", "a", "a"],
            "model_b": ["b", "b", "b"],
            "winner": ["model_a"] * 3,
            "response_a": ["\ud800", "ok", "ok"],
            "response_b": ["x", "y", "z"],
            "prompt": ["p", "\udfff", "fine"],
        },
        dtype=object,
    )
    bs = validate_battles(df)
    assert bs.accounting() == {"read": 3, "accepted": 1, "rejected": 2}
    reasons = dict(zip(bs.rejects["record"], bs.rejects["reason"], strict=True))
    assert reasons == {  # the loaders' wording: one reason per fault, whatever built the table
        1: "invalid text: response_a is not valid Unicode (undecodable bytes or lone surrogates)",
        2: "invalid text: prompt is not valid Unicode (undecodable bytes or lone surrogates)",
    }


@pytest.mark.parametrize(
    "record",
    [
        'a,b,model_a,"{big}\nsecond line"',  # oversized quoted field spanning lines
        'a,b,model_a,"multi\nline {big}"',  # the long line is the record's second line
        'a,b,model_a,"{big}\n""quoted"" line\nthird"',  # escaped quotes in the rest of the record
        "a,b,model_a,{big}",
    ],
)
def test_csv_oversized_record_does_not_leak_phantom_records(tmp_path: Path, record: str) -> None:
    """Regression: after the field limit fired inside a multi-line quoted field, the reader resumed mid-record
    and the rest of the record became extra records (read 4 for 3 written)."""
    path = tmp_path / "v.csv"
    body = (
        "model_a,model_b,winner,prompt\na,b,model_a,ok\n" + record.format(big="x" * 5000) + "\nc,d,tie,fine\n"
    )
    path.write_text(body)
    loaded = load_battles(path, max_record_bytes=4096)
    check_every_record_accounted(loaded, 3, "v.csv")
    assert loaded.rejects["record"].tolist() == [2]
    assert loaded.battles["prompt"].tolist() == ["ok", "fine"]


def test_csv_long_line_is_skipped_with_bounded_memory(tmp_path: Path) -> None:
    import tracemalloc

    path = tmp_path / "v.csv"
    with open(path, "w") as fh:
        fh.write("model_a,model_b,winner,prompt\na,b,model_a,ok\n")
        fh.write("a,b,model_a," + "y" * 30_000_000 + "\nc,d,tie,fine\n")
    tracemalloc.start()
    try:
        loaded = load_battles(path, max_record_bytes=100_000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    check_every_record_accounted(loaded, 3, "v.csv")
    assert peak < 10_000_000, f"peak {peak:,} bytes while skipping a 30 MB CSV line"
