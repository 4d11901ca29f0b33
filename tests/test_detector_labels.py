"""The detector label sets: the held-out sets (frozen test split, holdout, holdout2-6) cannot drift and
are refused outside the final report."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

LABELS_DIR = Path(__file__).resolve().parent.parent / "bench" / "labels"
sys.path.insert(0, str(LABELS_DIR))

import load  # noqa: E402


@pytest.mark.parametrize("split", load.HELD_OUT)
def test_held_out_fingerprint_matches_the_recorded_one(split: str) -> None:
    """Each held-out set's sorted ids (fixed at draw time) and labels hash to what test_split.sha256 records."""
    recorded = load.read_fingerprint()
    now = load.current_fingerprint()
    assert now[f"{split}_ids"] == recorded[f"{split}_ids"] > 0
    assert now[f"{split}_ids_sha256"] == recorded[f"{split}_ids_sha256"], f"the set of {split} rows changed"
    assert now[f"{split}_labels_sha256"] == recorded[f"{split}_labels_sha256"], f"a {split} label changed"


#: each held-out set as it was when it was first scored (a reserved one: as labelled; adding a later set must leave
#: every earlier one as it was): rows, and the first 16 hex digits of the ids' and the labels' SHA-256
FIRST_SCORED = {
    "test": (613, "5d5ec2322c41c926", "d7ff7dd0c8f2bc11"),  # by the first detector redesign
    "holdout": (323, "df10e0186f8bf063", "f0bbf1a81ed1e5a3"),  # by the second
    "holdout2": (340, "dabe0f31938a4f89", "76aeb22905eee3f5"),  # by the second, after round 4
    "holdout3": (300, "ceff9cf924e97ad2", "0626e09e1b21907b"),  # by the refit of 2026-12-02
    "holdout4": (300, "fbaaf6601ec269cd", "7709ee04cd6b5bb8"),  # by the same refit, after holdout3
    "holdout5": (230, "eecbdb99404b3969", "3c3ce6f3afad691c"),  # by the penalty refit and the fit before
    "holdout6": (210, "09754f34d2c1537c", "cb95b7840ffa2826"),  # reserved for the next design, not scored
}


@pytest.mark.parametrize("split", load.HELD_OUT)
def test_held_out_fingerprint_is_the_one_it_was_first_scored_with(split: str) -> None:
    rows, ids, labels = FIRST_SCORED[split]
    recorded = load.read_fingerprint()
    assert recorded[f"{split}_ids"] == rows
    assert recorded[f"{split}_ids_sha256"].startswith(ids)
    assert recorded[f"{split}_labels_sha256"].startswith(labels)


@pytest.mark.parametrize(
    ("split", "round_", "size"),
    [
        ("holdout2", 4, 340),
        ("holdout3", 5, 300),
        ("holdout4", 6, 300),
        ("holdout5", 7, 230),
        ("holdout6", 8, 210),
    ],
)
def test_a_late_holdout_is_its_round_and_nothing_else(split: str, round_: int, size: int) -> None:
    """Each late held-out set is exactly its round's draw, and that round put nothing anywhere else."""
    rows = load._pool_labelled()
    held = [r for r in rows if r["split"] == split]
    assert len(held) == load.read_fingerprint()[f"{split}_ids"] == size
    assert {r["round"] for r in held} == {round_}
    assert all(r["split"] == split for r in rows if r.get("round") == round_)
    assert not any(k in r for r in held for k in ("response", "prompt", "text")), "locators only, no text"


def test_fingerprint_reacts_to_any_label_change() -> None:
    rows = [r for r in load._pool_labelled() if r["split"] == "test"]
    flipped = [dict(rows[0], refusal="full" if rows[0]["refusal"] != "full" else "none"), *rows[1:]]
    assert load.labels_fingerprint(flipped) != load.labels_fingerprint(rows)


@pytest.mark.parametrize("split", load.HELD_OUT)
def test_held_out_sets_are_refused_unless_the_final_report_asks(split: str) -> None:
    named = {
        "test": load.test_rows,
        "holdout": load.holdout_rows,
        "holdout2": load.holdout2_rows,
        "holdout3": load.holdout3_rows,
    }
    if split in named:
        with pytest.raises(load.FrozenSplitError, match="final report"):
            named[split]()
    with pytest.raises(load.FrozenSplitError, match="final report"):
        load.held_out_rows(split)
    with pytest.raises(load.FrozenSplitError, match="frozen"):
        load.pool_rows(split)
    with pytest.raises(ValueError, match="unknown split"):
        load.pool_rows("train")


def test_the_validation_sample_only_measures_and_matches_its_design() -> None:
    with pytest.raises(load.FrozenSplitError, match="measures the shipped detectors"):
        load.validation_rows()
    rows = load._validation_labelled()
    design = json.loads(load.VALIDATION_DESIGN.read_text(encoding="utf-8"))
    assert len(rows) == sum(v["drawn"] for v in design["strata"].values())
    assert not {r["sha"] for r in rows} & {
        r["sha"] for r in load._pool_labelled()
    }  # no labelled answer again
    assert {r["source"] for r in rows} <= set(design["population"]) and "hh_rlhf_harmless" not in design[
        "population"
    ]


def test_the_validation_second_opinion_covers_the_refusal_and_flattery_strata_once() -> None:
    rows = {r["id"]: r for r in load._validation_labelled()}
    second = load._jsonl(load.HERE / "second_opinion_validation.jsonl")
    assert len({s["id"] for s in second}) == len(second)
    assert {s["id"] for s in second} == {i for i, r in rows.items() if r["stratum"] != "plain"}
    for s in second:
        load._check_labels(s, s["id"])


def test_every_label_is_valid_and_ids_unique() -> None:
    rows = load._pool_labelled()
    assert len({r["id"] for r in rows}) == len(rows)
    assert {r["split"] for r in rows} == {"dev", *load.HELD_OUT}


@pytest.mark.shared
def test_training_rows_never_hold_a_held_out_row(shared_data: Path) -> None:
    held = {i for i, s in load.pool_split_ids().items() if s in load.HELD_OUT}
    rows = load.training_rows()
    assert rows and not held & {r["id"] for r in rows}
    assert {r["split"] for r in rows} == {"dev"}


@pytest.mark.shared
@pytest.mark.parametrize(
    ("split", "round_"), [("holdout2", 4), ("holdout3", 5), ("holdout4", 6), ("holdout5", 7), ("holdout6", 8)]
)
def test_a_late_holdout_shares_no_id_text_or_prompt_with_any_earlier_row(
    shared_data: Path, split: str, round_: int
) -> None:
    """Rounds 4 to 8 only drew answers to prompts new to dev.jsonl and to every earlier round: no training row
    (nor any row of an earlier round) has one of their ids, texts or prompts. Only digests of texts are compared."""
    pool = load._pool_labelled()
    held = [r for r in pool if r["split"] == split]
    earlier = [r for r in pool if r.get("round", 1) < round_]

    def prompt_key(text: str) -> str:
        return load.sources.digest(" ".join(text.lower().split()))

    new_prompts = {prompt_key(load.sources.resolve(r)["prompt"]) for r in held}
    training = load.training_rows()
    assert not {r["id"] for r in held} & {r["id"] for r in training}
    assert not {r["sha"] for r in held} & {load.sources.digest(r["response"]) for r in training}
    assert not new_prompts & {prompt_key(r["prompt"]) for r in training}
    assert not {r["sha"] for r in held} & {r["sha"] for r in earlier}
    assert not new_prompts & {prompt_key(load.sources.resolve(r)["prompt"]) for r in earlier}


@pytest.mark.shared
def test_dev_corrections_apply_to_dev_jsonl(shared_data: Path) -> None:
    raw = {json.loads(x)["id"]: json.loads(x) for x in load.DEV_JSONL.read_text().splitlines() if x.strip()}
    fixed = {r["id"]: r for r in load.dev_rows()}
    cs = load.corrections()
    assert cs, "the re-check against the rubric clarifications changed some dev labels"
    for c in cs:
        assert raw[c["id"]][c["field"]] == c["old"] != c["new"] == fixed[c["id"]][c["field"]]
        assert c["reason"]


@pytest.mark.shared
def test_a_stale_correction_is_an_error(
    shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = tmp_path / "dev_corrections.jsonl"
    first = json.loads(load.DEV_JSONL.read_text().splitlines()[0])
    bad.write_text(
        json.dumps({"id": first["id"], "field": "refusal", "old": "bogus", "new": "full", "reason": "x"})
    )
    monkeypatch.setattr(load, "CORRECTIONS", bad)
    load._dev_rows.cache_clear()
    try:
        with pytest.raises(ValueError, match="the correction expects 'bogus'"):
            load.dev_rows()
    finally:
        load._dev_rows.cache_clear()


def test_glimpsed_ids_are_held_out_rows() -> None:
    """The rows reported separately by the final report are rows of their held-out set (bench/labels/README.md)."""
    split = load.pool_split_ids()
    assert load.GLIMPSED_TEST_IDS and all(split[i] == "test" for i in load.GLIMPSED_TEST_IDS)
    assert load.GLIMPSED_HOLDOUT_IDS and all(split[i] == "holdout" for i in load.GLIMPSED_HOLDOUT_IDS)
