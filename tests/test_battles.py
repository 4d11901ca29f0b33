"""The canonical battle table, the rejects ledger and the accounting invariant."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from stylebias.battles import (
    CORE_COLUMNS,
    WINNERS,
    BattleSet,
    Ledger,
    normalize_battles,
    strip_hidden_reasoning,
    winner_from_pref,
)
from stylebias.rows import validate_battles


def test_strip_hidden_reasoning() -> None:
    assert strip_hidden_reasoning("plain") == "plain"
    assert strip_hidden_reasoning("<think>secret</think>\n\nAnswer") == "Answer"
    assert strip_hidden_reasoning("A <THINK>x</THINK> B") == "A B"
    assert strip_hidden_reasoning("Answer <think>never closed") == "Answer"


def test_winner_from_pref() -> None:
    assert [winner_from_pref(p) for p in (1.0, 0.51, 0.5, 0.2)] == ["model_a", "model_a", "tie", "model_b"]


def test_ledger_mixes_rows_frames_and_bulk_rejects() -> None:
    ledger = Ledger("f.jsonl", "lmarena")
    ledger.flush_every = 2  # exercise the chunked flushing
    for i in range(5):
        ledger.accept(i + 1, {"model_a": "a", "model_b": "b", "winner": "model_a", "pref_a": 1.0, "x": i})
    ledger.reject(6, "self-battle: x")
    frame = pd.DataFrame(
        {"model_a": ["c", "d"], "model_b": ["d", "e"], "winner": ["tie", "model_b"], "pref_a": [0.5, 0.0]}
    )
    ledger.accept_frame(frame, np.array([7, 8]))
    ledger.reject_many(np.array([9, 10]), "unknown vote label: 'q'")
    ledger.reject_many([11], ["empty model name: model_a is empty"])
    assert (ledger.read, ledger.accepted, ledger.rejected) == (11, 7, 4)
    data = ledger.to_battleset()
    data.check_accounting()
    assert data.accounting() == {"read": 11, "accepted": 7, "rejected": 4}
    assert data.battles["source_record"].tolist() == [1, 2, 3, 4, 5, 7, 8]
    assert (data.battles["source_file"] == "f.jsonl").all()
    assert data.rejects["record"].tolist() == [9, 10, 11, 6]
    with pytest.raises(ValueError):
        ledger.accept_frame(frame, [1])
    with pytest.raises(ValueError):
        ledger.reject_many([1, 2], ["only one"])


def test_check_accounting_catches_a_lost_row() -> None:
    ledger = Ledger("f", "generic")
    ledger.accept(1, {"model_a": "a", "model_b": "b", "winner": "tie", "pref_a": 0.5})
    data = ledger.to_battleset()
    data.sources.loc[0, "read"] = 2
    with pytest.raises(AssertionError, match="accepted 1 \\+ rejected 0 != read 2"):
        data.check_accounting()


def test_normalize_gives_canonical_order_and_dtypes() -> None:
    df = pd.DataFrame(
        {
            "extra": [1, 2],
            "meta_tokens_b": ["3", None],
            "model_b": ["b", "c"],
            "model_a": ["a", "b"],
            "battle_id": [10, None],
            "winner": ["model_a", "tie"],
            "pref_a": [1, 0.5],
            "turns": [None, 2],
        }
    )
    out = normalize_battles(df)
    assert list(out.columns) == [*CORE_COLUMNS, "meta_tokens_b", "extra"]
    assert out["battle_id"].tolist()[0] == "10" and pd.isna(out["battle_id"].tolist()[1])
    assert out["turns"].tolist() == [1, 2] and out["turns"].dtype == "int32"
    assert list(out["winner"].cat.categories) == list(WINNERS)
    assert out["meta_tokens_b"].dtype == "float64"
    assert out["model_a"].dtype == "str"


def test_validate_battles_moves_bad_rows_to_rejects() -> None:
    df = pd.DataFrame(
        {
            "model_a": ["a", "a", "", "a", "a", "a"],
            "model_b": ["b", "a", "b", "b", "b", "b"],
            "winner": ["model_a", "tie", "tie", "nope", "model_b", "tie"],
            "pref_a": [1.0, 0.5, 0.5, 0.5, 0.9, 0.5],
            "response_a": ["x", "x", "x", "x", "x", None],
            "response_b": ["y", "y", "y", "y", "y", "y"],
        }
    )
    data = validate_battles(df, source="pipeline")
    data.check_accounting()
    assert data.accepted == 1
    # the loaders' rules and wording (one reason per fault, whatever built the table)
    assert list(data.rejects["reason"]) == [
        "self-battle: model_a == model_b == 'a'",
        "empty model name: model_a is empty",
        "unknown vote label: winner='nope'",
        "unknown vote label: pref_a 0.9 contradicts winner 'model_b'",
        "missing response: response_a is missing",
    ]


def test_reject_reasons_and_summary() -> None:
    ledger = Ledger("f.json", "alpaca_eval")
    for i in range(3):
        ledger.reject(i + 1, f"no vote: preference is {i}")
    ledger.reject(4, "self-battle: model_a == model_b == 'x'")
    ledger.accept(5, {"model_a": "a", "model_b": "b", "winner": "tie", "pref_a": 0.5})
    data = ledger.to_battleset()
    reasons = data.reject_reasons()
    assert reasons.to_dict("records")[0] == {"file": "f.json", "reason": "no vote", "count": 3}
    summary = data.validation_summary(examples=2)
    assert summary["data"] == {"read": 5, "accepted": 1, "rejected": 4}
    assert summary["files"] == [
        {"file": "f.json", "format": "alpaca_eval", "read": 5, "accepted": 1, "rejected": 4}
    ]
    first = summary["reasons"][0]
    assert (first["reason"], first["count"], len(first["examples"])) == ("no vote", 3, 2)
    assert first["examples"][0] == {"record": 1, "detail": "no vote: preference is 0"}
    assert isinstance(first["examples"][0]["record"], int)


def test_concat_keeps_every_file_accounted() -> None:
    parts = []
    for name in ("a", "b"):
        ledger = Ledger(name, "generic")
        ledger.accept(1, {"model_a": "x", "model_b": "y", "winner": "tie", "pref_a": 0.5, f"only_{name}": 1})
        ledger.reject(2, "self-battle: z")
        parts.append(ledger.to_battleset())
    data = BattleSet.concat(parts)
    data.check_accounting()
    assert data.accounting() == {"read": 4, "accepted": 2, "rejected": 2}
    assert {"only_a", "only_b"} <= set(data.battles.columns)
    assert BattleSet.concat([]).accepted == 0
