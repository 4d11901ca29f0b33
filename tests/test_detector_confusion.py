"""The detectors' measured misclassification: ``bench/detector_confusion.py`` counts (hand label, detector
label) the right way round, and the shipped ``models/detectors/confusion.json`` adds up."""

from __future__ import annotations

import json

import numpy as np

from stylebias.rating.simex import DETECTOR_LEVELS
from stylebias.resources import models_dir
from tests._bench import load_bench

confusion = load_bench("detector_confusion")


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


def test_a_stratified_sample_keeps_each_strata_counts() -> None:
    # stratum "yes": 10 replies the detector flags, drawn 4 (3 truly flattering); "no": 990, drawn 4 (1 is)
    rows = [{"stratum": "yes", "flattery": f, "refusal": "none"} for f in (1, 1, 1, 0)]
    rows += [{"stratum": "no", "flattery": f, "refusal": "none"} for f in (1, 0, 0, 0)]
    preds = [{"flattery": 1, "refusal": "none"}] * 4 + [{"flattery": 0, "refusal": "none"}] * 4
    m = confusion.stratified(rows, preds, {"yes": 10, "no": 990})
    assert m["flattery"]["by_stratum"] == {"yes": [[0, 1], [0, 3]], "no": [[3, 0], [1, 0]]}
    assert m["flattery"]["pooled"] == [[3, 1], [1, 3]] and m["strata"]["yes"] == {"size": 10, "drawn": 4}


def test_f1_of_a_table_by_head() -> None:
    refusal = np.array([[90.0, 5, 5], [2, 6, 2], [0, 2, 8]])  # rows: none, partial, full
    assert confusion.f1(refusal, "any") == 2 * 18 / (2 * 18 + 10 + 2)
    assert confusion.f1(refusal, "full") == 2 * 8 / (2 * 8 + 7 + 2)
    assert confusion.f1(np.array([[9.0, 1], [1, 9]]), "flattery") == 0.9


def test_the_shipped_counts_add_up_per_measurement() -> None:
    doc = json.loads((models_dir() / "detectors" / "confusion.json").read_text(encoding="utf-8"))
    assert doc["levels"] == {k: list(v) for k, v in DETECTOR_LEVELS.items()}
    assert doc["measurements"]["loso"]["rows"] == 3442  # every tuning row, each labelled without its source
    validation = doc["measurements"].pop("validation")
    assert sum(s["drawn"] for s in validation["strata"].values()) == validation["rows"]
    for name in DETECTOR_LEVELS:
        by = validation[name]["by_stratum"]
        assert set(by) == set(validation["strata"])
        assert np.array_equal(sum(np.array(c) for c in by.values()), np.array(validation[name]["pooled"]))
        for h, c in by.items():
            assert np.array(c).sum() == validation["strata"][h]["drawn"]
    for m in doc["measurements"].values():
        assert sum(m["by_source_rows"].values()) == m["rows"]
        for name in DETECTOR_LEVELS:
            pooled = np.array(m[name]["pooled"])
            assert pooled.sum() == m["rows"]
            assert np.array_equal(sum(np.array(c) for c in m[name]["by_source"].values()), pooled)
    assert "holdout6" not in doc["measurements"]["held_out"]["how"]  # a reserved set is never read
