"""Anthropic HH-RLHF loader: sides by hash, shared prompt, final assistant turns, rejects accounted."""

from __future__ import annotations

import gzip
import json

import pytest

import stylebias
from stylebias.formats import detect_format
from stylebias.formats.hh import MODEL_A, MODEL_B, chosen_is_a, parse_transcript


def test_fixture_loads_with_hashed_sides(fixtures):
    path = fixtures / "hh_rlhf_sample.jsonl"
    assert detect_format(path) == "hh"
    bs = stylebias.load_battles(path)
    assert bs.accounting() == {"read": 41, "accepted": 40, "rejected": 1}
    assert bs.rejects["record"].tolist() == [8]
    assert "differ before the final assistant turn" in bs.rejects["reason"].iloc[0]
    b = bs.battles
    assert set(b["model_a"]) == {MODEL_A} and set(b["model_b"]) == {MODEL_B}
    assert set(b["winner"]) == {"model_a", "model_b"}  # the preferred answer is not always A
    assert set(b["judge"]) == {"human"}
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    del records[7]
    for rec, row in zip(records, b.to_dict("records"), strict=True):
        a_chosen = chosen_is_a(rec["chosen"], rec["rejected"])
        assert row["winner"] == ("model_a" if a_chosen else "model_b")
        assert row["hh_chosen_side"] == ("a" if a_chosen else "b")
        chosen_last = parse_transcript(rec["chosen"])[-1][1]
        rejected_last = parse_transcript(rec["rejected"])[-1][1]
        assert (row["response_a"], row["response_b"]) == (
            (chosen_last, rejected_last) if a_chosen else (rejected_last, chosen_last)
        )
        humans = [t for role, t in parse_transcript(rec["chosen"]) if role == "Human"]
        assert row["prompt"] == "\n\n".join(humans) and row["turns"] == len(humans)
        assert row["pref_a"] == (1.0 if a_chosen else 0.0)


def test_side_rule_is_the_documented_hash():
    import hashlib

    c, r = "\n\nHuman: hi\n\nAssistant: hello", "\n\nHuman: hi\n\nAssistant: go away"
    first = hashlib.sha256((c + "\x00" + r).encode()).digest()[0]
    assert chosen_is_a(c, r) == (first % 2 == 0)
    assert parse_transcript(c) == [("Human", "hi"), ("Assistant", "hello")]


@pytest.mark.shared
def test_real_hh_split_balances_sides(shared_data):
    path = shared_data / "hh_rlhf_harmless_base_test" / "test.jsonl.gz"
    bs = stylebias.load_battles(path)
    assert bs.accounting() == {"read": 2312, "accepted": 2307, "rejected": 5}
    share_a = (bs.battles["winner"] == "model_a").mean()
    assert 0.45 < share_a < 0.55
    with gzip.open(path, "rt", encoding="utf-8") as f:
        first = json.loads(f.readline())
    row = bs.battles.iloc[0]
    assert first["chosen"].endswith(row["response_a"] if row["winner"] == "model_a" else row["response_b"])
