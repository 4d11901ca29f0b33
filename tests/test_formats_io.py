"""Streaming readers: broken records are rejected one by one, big records hit the limit, memory stays bounded."""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import tracemalloc
import warnings
from pathlib import Path

import pandas as pd
import pytest

from stylebias import load_battles
from stylebias.errors import StyleBiasWarning
from stylebias.formats import _io, lmarena, lmarena_bulk

FX = Path(__file__).resolve().parent / "fixtures" / "formats"


def vote(i: int, text: str = "answer") -> dict:
    return {
        "model_a": f"m{i % 3}",
        "model_b": f"m{i % 3 + 1}",
        "winner": "model_a",
        "response_a": text,
        "response_b": "b",
    }


def records(path: Path, limit: int = 1 << 20) -> list:
    return list(_io.iter_json_records(path, limit))


def reasons(data) -> dict[int, str]:
    return {int(r.record): r.reason for r in data.rejects.itertuples(index=False)}


def test_pretty_array_resyncs_after_a_broken_element(tmp_path: Path) -> None:
    text = json.dumps([vote(i) for i in range(5)], indent=2)
    # break element 3: drop the colon after its "winner" key
    pos = [i for i in range(len(text)) if text.startswith('"winner": ', i)][2]
    broken = text[:pos] + '"winner" ' + text[pos + len('"winner": ') :]
    p = tmp_path / "a.json"
    p.write_text(broken)
    got = records(p)
    assert [n for n, _ in got] == [1, 2, 3, 4, 5]
    assert isinstance(got[2][1], _io.Bad) and got[2][1].reason.startswith("malformed JSON")
    assert [r["model_a"] for n, r in got if not isinstance(r, _io.Bad)] == ["m0", "m1", "m0", "m1"]


def test_compact_array_and_unbalanced_element(tmp_path: Path) -> None:
    items = [json.dumps(vote(i)) for i in range(4)]
    items[1] = items[1][:-1]  # element 2 lost its closing brace
    p = tmp_path / "c.json"
    p.write_text("[" + ", ".join(items) + "]")
    data = load_battles(p, allow_empty=True)
    data.check_accounting()
    assert data.accepted == 3 and reasons(data)[2].startswith("malformed JSON")


def test_array_missing_closing_bracket_warns_but_keeps_everything(tmp_path: Path) -> None:
    p = tmp_path / "t.json"
    p.write_text(json.dumps([vote(i) for i in range(3)], indent=1)[:-1])
    with pytest.warns(StyleBiasWarning, match="without"):
        data = load_battles(p)
    assert data.accounting() == {"read": 3, "accepted": 3, "rejected": 0}


def test_oversized_array_element_is_rejected_and_the_rest_loads(tmp_path: Path) -> None:
    rows = [vote(0), vote(1, "x" * 300_000), vote(2)]
    p = tmp_path / "big.json"
    p.write_text(json.dumps(rows, indent=2))
    data = load_battles(p, max_record_bytes=100_000)
    assert data.accounting() == {"read": 3, "accepted": 2, "rejected": 1}
    assert reasons(data)[2].startswith("record larger than max_record_bytes")


def test_oversized_jsonl_line_is_skipped_with_bounded_memory(tmp_path: Path) -> None:
    p = tmp_path / "huge.jsonl"
    with open(p, "w") as fh:
        fh.write(json.dumps(vote(0)) + "\n")
        fh.write(json.dumps(vote(1, "y" * 24_000_000)) + "\n")
        fh.write(json.dumps(vote(2)) + "\n")
    tracemalloc.start()
    try:
        got = records(p, limit=64_000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [n for n, _ in got] == [1, 2, 3]
    assert isinstance(got[1][1], _io.Bad) and "max_record_bytes" in got[1][1].reason
    # the reader holds a few 1 MiB buffers, never the line (peak is the same for 8 MB and 40 MB lines)
    assert peak < 8_000_000, f"peak {peak:,} bytes while skipping a 24 MB line"


def test_jsonl_line_numbers_blank_lines_bom_crlf_and_bad_utf8(tmp_path: Path) -> None:
    p = tmp_path / "x.jsonl"
    lines = [
        b"\xef\xbb\xbf" + json.dumps(vote(0)).encode(),
        b"",
        json.dumps(vote(1)).encode() + b"\r",
        b'{"model_a": "m\xff", "model_b": "n", "winner": "tie"}',
        b"   ",
        json.dumps(vote(2)).encode(),
    ]
    p.write_bytes(b"\n".join(lines))  # no newline at the end
    data = load_battles(p)
    assert data.battles["source_record"].tolist() == [1, 3, 6]
    assert reasons(data) == {4: reasons(data)[4]} and reasons(data)[4].startswith(
        "malformed line: invalid UTF-8"
    )


def test_invalid_utf8_inside_an_array_string_is_rejected_as_text(tmp_path: Path) -> None:
    body = json.dumps([vote(0), vote(1, "INVALID")]).encode().replace(b"INVALID", b"bad \xc3\x28 bytes")
    p = tmp_path / "u.json"
    p.write_bytes(body)
    data = load_battles(p)
    assert data.accepted == 1 and reasons(data)[2].startswith("invalid text")


@pytest.mark.parametrize(("ext", "opener"), [(".gz", gzip.open), (".xz", lzma.open), (".bz2", bz2.open)])
def test_compressed_inputs(tmp_path: Path, ext: str, opener) -> None:
    p = tmp_path / f"v.jsonl{ext}"
    with opener(p, "wt") as fh:
        fh.write("".join(json.dumps(vote(i)) + "\n" for i in range(4)))
    assert load_battles(p).accepted == 4


def test_csv_rows_with_wrong_field_counts_and_huge_fields(tmp_path: Path) -> None:
    p = tmp_path / "v.csv"
    p.write_text(
        f'model_a,model_b,winner\na,b,model_a\na,b\n\na,b,tie,extra\na,b,"{"z" * 5000}"\nb,c,model_b\n'
    )
    data = load_battles(p, max_record_bytes=1000)
    data.check_accounting()
    r = reasons(data)
    assert r[2].startswith("malformed CSV row") and r[3].startswith("malformed CSV row")
    assert any("max_record_bytes" in v for v in r.values())
    assert data.battles["model_a"].tolist()[0] == "a" and data.battles["model_b"].tolist()[-1] == "c"


def test_csv_field_limit_is_restored() -> None:
    import csv

    before = csv.field_size_limit()
    load_battles(FX / "kaggle_train.csv", max_record_bytes=12345)
    assert csv.field_size_limit() == before


def test_bulk_jsonl_blocks_fall_back_per_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Small blocks force many bulk blocks; broken lines send only their block to the per-line reader."""
    src = (FX / "arena_metadata.jsonl").read_text().splitlines()
    lines = src * 6
    lines[10] = lines[10][:40]  # malformed
    lines.insert(20, "")  # blank line
    p = tmp_path / "m.jsonl"
    p.write_text("\n".join(lines) + "\n")
    ref = load_battles(p)  # default: one block
    monkeypatch.setattr(lmarena_bulk, "_JSONL_CHUNK", 700)
    got = load_battles(p)
    got.check_accounting()
    assert got.accounting() == ref.accounting()
    pd.testing.assert_frame_equal(got.battles, ref.battles)
    assert reasons(got) == reasons(ref)
    assert reasons(got)[11].startswith("malformed JSON")
    assert 21 not in got.battles["source_record"].tolist() and 21 not in reasons(got)  # blank line: no record


def test_bulk_jsonl_matches_per_record_on_fixture_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = tmp_path / "m.jsonl"
    p.write_text((FX / "arena_metadata.jsonl").read_text() * 3)
    bulk = load_battles(p)
    monkeypatch.setattr(
        lmarena,
        "load_jsonl",
        lambda path, mode, ctx, fmt: lmarena.load_records(
            path, "json", fmt, ctx, lmarena.converter(mode, ctx)
        ),
    )
    slow = load_battles(p)
    pd.testing.assert_frame_equal(bulk.battles, slow.battles, check_dtype=False)
    assert reasons(bulk) == reasons(slow)


def test_no_warning_noise_on_clean_files() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_battles(FX / "clean_battle_metadata.json")
        load_battles(FX / "arena_metadata.parquet")
        load_battles(FX / "arena_metadata.jsonl")
