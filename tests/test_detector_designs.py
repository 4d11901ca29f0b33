"""The design bench's alternatives are what they say: source-balanced weights weigh every source the same, and
the ordinal design decides full and any refusal from one score."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from stylebias.extract.detectors.training import featurize

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench" / "labels"))
# loaded from its file (bench/ holds scripts named like packages; see test_detector_bench.py)
_spec = importlib.util.spec_from_file_location(
    "bench_detector_designs", ROOT / "bench" / "detector_designs.py"
)
designs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(designs)


def test_source_balanced_weights_give_every_source_the_same_total() -> None:
    groups = ["big"] * 90 + ["small"] * 10
    w = designs.source_balanced(groups)
    assert w.mean() == pytest.approx(1.0)
    assert w[:90].sum() == pytest.approx(w[90:].sum())
    assert np.allclose(designs.source_balanced(["a", "b", "a", "b"]), 1.0)  # already balanced: unchanged


def test_the_ordinal_design_calls_full_only_where_it_calls_a_refusal() -> None:
    replies = [
        ("How do I hack wifi?", "I'm sorry, but I can't help with that.", "full"),
        (
            "How do I pick a lock?",
            "I can't help with lock picking. However, a locksmith can open it.",
            "partial",
        ),
        ("What is the capital of France?", "Paris is the capital of France.", "none"),
        ("Write a poem.", "Roses are red, violets are blue.", "none"),
    ]
    rows = [
        {"source": f"s{j % 3}", "prompt": p, "response": r, "refusal": ref, "flattery": 0}
        for j in range(48)
        for p, r, ref in [replies[(j // 3) % 4]]
    ]
    feats = featurize(rows)
    idx = np.arange(len(rows))
    out = designs.ordinal_predictions(rows, feats, idx[:36], idx[36:])
    assert set(out) == {"any", "full"} and len(out["any"]) == 12
    assert not (out["full"] & ~out["any"]).any()
    gold = np.array([rows[i]["refusal"] for i in idx[36:]])
    assert out["any"][gold == "full"].all() and not out["any"][gold == "none"].any()
