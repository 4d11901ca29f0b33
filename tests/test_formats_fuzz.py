"""Random corruptions of real rows: every record is still accounted for, and nothing but DataError escapes.

Each example takes a fixture (real AlpacaEval and PandaLM rows, LMArena/Kaggle rows in the published
schemas), applies a few random byte-level corruptions (overwrite, delete, insert, duplicate a span,
truncate) and loads the result. Either the whole file is rejected with a :class:`DataError` naming it, or
the load succeeds and per file accepted + rejected = read. For JSONL, read also equals the number of
non-blank lines: a corrupted line is one rejected record, never a lost one.
"""

from __future__ import annotations

import gzip
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stylebias import load_battles
from stylebias.errors import DataError

FX = Path(__file__).resolve().parent / "fixtures" / "formats"
SOURCES = {
    "alpaca.json": gzip.open(FX / "alpaca_eval_annotations.json.gz").read(),
    "pandalm.json": (FX / "pandalm_testset.json").read_bytes(),
    "arena.jsonl": (FX / "lmarena_conversations.jsonl").read_bytes(),
    "meta.jsonl": (FX / "arena_metadata.jsonl").read_bytes(),
    "meta.json": (FX / "clean_battle_metadata.json").read_bytes(),
    "kaggle.csv": (FX / "kaggle_train.csv").read_bytes(),
}

edit = st.tuples(
    st.sampled_from(["overwrite", "delete", "insert", "duplicate", "truncate"]),
    st.floats(0, 1, exclude_max=True),
    st.integers(1, 40),
    st.binary(min_size=1, max_size=8),
)


def corrupt(data: bytes, edits: list) -> bytes:
    for kind, where, size, junk in edits:
        i = int(where * len(data)) if data else 0
        if kind == "overwrite":
            data = data[:i] + junk + data[i + len(junk) :]
        elif kind == "delete":
            data = data[:i] + data[i + size :]
        elif kind == "insert":
            data = data[:i] + junk + data[i:]
        elif kind == "duplicate":
            data = data[:i] + data[i : i + size] + data[i:]
        else:
            data = data[: max(i, 1)]
    return data


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::stylebias.errors.StyleBiasWarning")
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(sorted(SOURCES)), edits=st.lists(edit, min_size=1, max_size=4))
def test_corrupted_files_account_for_every_record(name: str, edits: list) -> None:
    data = corrupt(SOURCES[name], edits)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        try:
            loaded = load_battles(path, allow_empty=True, max_record_bytes=4096)
        except DataError as exc:
            assert name in str(exc)
            return
    loaded.check_accounting()
    assert loaded.read == loaded.accepted + loaded.rejected
    if name.endswith(".jsonl"):
        body = data.removeprefix(b"\xef\xbb\xbf")  # a leading byte-order mark is not content
        nonblank = sum(1 for line in body.split(b"\n") if line.strip())
        assert loaded.read == nonblank
    reasons = loaded.rejects["reason"]
    assert reasons.map(lambda r: isinstance(r, str) and len(r) > 0).all()
