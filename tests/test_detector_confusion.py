"""The detectors' measured misclassification: ``bench/detector_confusion.py`` counts (hand label, detector
label) the right way round, and the shipped ``models/detectors/confusion.json`` adds up."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np

from stylebias.rating.simex import DETECTOR_LEVELS
from stylebias.resources import models_dir

ROOT = Path(__file__).resolve().parent.parent
# loaded from its file (bench/ holds scripts named like packages; see test_detector_bench.py)
_spec = importlib.util.spec_from_file_location(
    "bench_detector_confusion", ROOT / "bench" / "detector_confusion.py"
)
confusion = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(confusion)


def test_rows_are_the_hand_label_and_columns_what_the_detector_says() -> None:
    rows = [
        {"refusal": "full", "flattery": 1},
        {"refusal": "full", "flattery": 0},
        {"refusal": "none", "flattery": 0},
    ]
    preds = [
        {"refusal": "none", "flattery": 1},
        {"refusal": "full", "flattery": 1},
        {"refusal": "none", "flattery": 0},
    ]
    assert confusion.counts(rows, preds, "refusal") == [[1, 0, 0], [0, 0, 0], [1, 0, 1]]
    assert confusion.counts(rows, preds, "flattery") == [[1, 1], [0, 1]]


def test_the_shipped_counts_add_up_per_measurement() -> None:
    doc = json.loads((models_dir() / "detectors" / "confusion.json").read_text(encoding="utf-8"))
    assert doc["levels"] == {k: list(v) for k, v in DETECTOR_LEVELS.items()}
    assert doc["measurements"]["loso"]["rows"] == 3442  # every tuning row, each labelled without its source
    for m in doc["measurements"].values():
        assert sum(m["by_source_rows"].values()) == m["rows"]
        for name in DETECTOR_LEVELS:
            pooled = np.array(m[name]["pooled"])
            assert pooled.sum() == m["rows"]
            assert np.array_equal(sum(np.array(c) for c in m[name]["by_source"].values()), pooled)
    assert "holdout6" not in doc["measurements"]["held_out"]["how"]  # a reserved set is never read
