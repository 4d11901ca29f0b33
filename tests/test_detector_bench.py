"""The detector benchmark: held-out intervals resample prompts, so answers to one instruction move together; the
human-ceiling table scores a second annotation against the first exactly as it scores the detector."""

from __future__ import annotations

from pathlib import Path

from tests._bench import load_bench

detectors = load_bench("detectors")


def _row(prompt: str, refusal: str, flattery: int = 0) -> dict:
    return {"prompt": prompt, "refusal": refusal, "flattery": flattery, "emoji": 0}


def _pred(refusal: str, flattery: int = 0) -> dict:
    return {"refusal": refusal, "flattery": flattery, "emoji": 0}


def test_one_prompt_resampled_whole_gives_the_point_itself() -> None:
    """Every answer shares one prompt: each resample is the whole set, so the interval is the point estimate."""
    rows = [_row("q", g) for g in ("full", "full", "none", "none", "partial")]
    preds = [_pred(p) for p in ("full", "none", "none", "full", "partial")]
    point = detectors.evaluate(rows, preds)["refusal_any"]["f1"]
    lo, hi = detectors.bootstrap_intervals(rows, preds, n=200)["refusal_any"]
    assert lo == hi == point


def test_intervals_bracket_the_point_and_are_reproducible() -> None:
    rows = [_row(f"q{i}", "full" if i % 3 == 0 else "none", i % 4 == 0) for i in range(60)]
    preds = [_pred("full" if i % 3 == 0 and i % 5 else "none", i % 4 == 0 and i % 7 != 0) for i in range(60)]
    res = detectors.evaluate(rows, preds)
    ci = detectors.bootstrap_intervals(rows, preds, n=300)
    for m in ("flattery", "refusal_any", "refusal_full"):
        lo, hi = ci[m]
        assert lo < res[m]["f1"] < hi
    assert ci == detectors.bootstrap_intervals(rows, preds, n=300)  # fixed seed
    perfect = detectors.bootstrap_intervals(rows, [_pred(r["refusal"], r["flattery"]) for r in rows], n=100)
    assert perfect["refusal_any"] == perfect["flattery"] == (1.0, 1.0)


def test_ceiling_scores_a_second_annotation_like_the_detector(tmp_path: Path) -> None:
    """Rows without an out-of-sample prediction are left out of every line."""
    import json

    gold = ("full", "none", "partial", "none")
    first = {f"L{i}": {"id": f"L{i}", **_row("q", g)} for i, g in enumerate(gold)}
    second = [{"id": f"L{i}", **_pred(g)} for i, g in enumerate(("full", "full", "none", "none"))]
    second.append({"id": "L9", **_pred("full")})  # a held-out row with no prediction outside --final: skipped
    (tmp_path / "second_opinion.jsonl").write_text("".join(json.dumps(r) + "\n" for r in second))
    preds = {f"L{i}": _pred(g) for i, g in enumerate(("full", "none", "partial", "full"))}
    out = detectors.ceiling_report(first, preds, folder=tmp_path)["second_opinion.jsonl"]
    human, det = out["2nd vs 1st"]["refusal_any"], out["detector vs 1st"]["refusal_any"]
    # the second annotator finds L0, adds L1, misses L2
    assert (human["n"], human["tp"], human["fp"], human["fn"]) == (4, 1, 1, 1)
    assert (det["tp"], det["fp"], det["fn"]) == (2, 1, 0)
    # against the second annotation only L0 is shared: the detector does not flag L1
    assert out["detector vs 2nd"]["refusal_any"]["tp"] == 1


def test_agreement_f1_is_the_detector_bench_f1() -> None:
    import agreement

    gold = [True, False, True, False, True]
    pred = [True, True, False, False, True]
    assert agreement.f1_score(gold, pred) == detectors.prf(gold, pred)["f1"] == 2 / 3
    assert agreement.f1_score([False, False], [False, False]) == 1.0  # nothing to find, nothing claimed


def test_the_final_report_leaves_a_reserved_set_unscored(monkeypatch) -> None:
    """A set drawn for a design not yet settled is held out of tuning and of the final report alike; with none
    reserved the final report scores every held-out set."""
    labels = detectors.labels
    assert detectors.final_splits() == tuple(s for s in labels.HELD_OUT if s not in labels.RESERVED)
    monkeypatch.setattr(labels, "RESERVED", ("holdout5",))
    assert "holdout5" in labels.HELD_OUT and "holdout5" not in detectors.final_splits()
    assert set(detectors.final_splits()) == set(labels.HELD_OUT) - {"holdout5"}
    monkeypatch.setattr(labels, "RESERVED", ())
    assert detectors.final_splits() == labels.HELD_OUT


def test_the_refusal_confusion_counts_every_row_once_and_ranks_the_errors(capsys) -> None:
    rows = [
        {**_row("p1", "full"), "source": "hh"},
        {**_row("p2", "full"), "source": "hh"},
        {**_row("p3", "none"), "source": "ae"},
        {**_row("p4", "partial"), "source": "ae"},
        {**_row("p5", "none"), "source": "ae"},
    ]
    preds = [_pred("none"), _pred("none"), _pred("none"), _pred("full"), _pred("partial")]
    out = detectors.refusal_confusion(rows, preds, top=2)
    assert out["levels"] == ["none", "partial", "full"]
    assert out["counts"] == [[1, 1, 0], [0, 0, 1], [2, 0, 0]]
    assert sum(map(sum, out["counts"])) == len(rows)
    assert out["largest_errors"][0] == ["hh", "full", "none", 2]
    assert len(out["largest_errors"]) == 2
    printed = capsys.readouterr().out
    assert "full called none" in printed and "2 of 2" in printed


def test_harmful_request_table_splits_each_source_by_the_request_context() -> None:
    """Rows are split by whether their refusal sample carries the harmful-request context; labels are counted on
    the harmful side and any-refusal F1 is scored on each side, per source and pooled (``all``)."""
    from types import SimpleNamespace

    def feat(harmful: bool) -> SimpleNamespace:
        return SimpleNamespace(refusal=SimpleNamespace(response={"ctx:harmful": 1.0} if harmful else {}))

    rows = [
        {**_row("a", "full"), "source": "red"},
        {**_row("b", "none"), "source": "red"},
        {**_row("c", "partial"), "source": "red"},
        {**_row("d", "none"), "source": "web"},
        {**_row("e", "full"), "source": "web"},
    ]
    feats = [feat(h) for h in (True, True, False, True, False)]
    preds = [_pred(p) for p in ("none", "none", "partial", "none", "full")]
    out = detectors.harmful_request_report(rows, feats, preds)
    assert out["red"]["harmful_rows"] == 2 and out["red"]["labels"] == {"none": 1, "partial": 0, "full": 1}
    assert out["red"]["loso_any_f1_harmful"] == 0.0  # the one refusal there is missed
    assert out["red"]["loso_any_f1_other"] == 1.0
    assert out["web"]["loso_any_f1_harmful"] is None  # no refusal to score on that side
    assert out["all"]["harmful_rows"] == 3 and out["all"]["other_rows"] == 2
    assert out["all"]["labels"] == {"none": 2, "partial": 0, "full": 1}
