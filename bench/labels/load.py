"""The labelled responses the detectors are trained and evaluated on, with the frozen test split locked away.

    from load import training_rows, test_rows, holdout_rows   # (bench/labels on sys.path)
    rows = training_rows()                             # dev.jsonl (+ corrections) and the pool's dev split
    final = test_rows(final_report=True)               # only bench/detectors.py --final may ask for these
    second = holdout_rows(final_report=True)           # the same for the second held-out set
    third = holdout2_rows(final_report=True)           # and for the third (round 4)
    fourth = holdout3_rows(final_report=True)          # and for the fourth (round 5)
    fifth = held_out_rows("holdout4", final_report=True)  # and the fifth (round 6); holdout5 the sixth (round 7)

Two label sets, one row shape (``id, source, set, split, model, drawn, prompt, context, response, flattery,
refusal, emoji, note``):

* ``dev`` - ``../shared/data/labels/dev.jsonl`` (482 responses, texts inline) with the re-check against the
  rubric clarifications applied from ``dev_corrections.jsonl`` (one row per changed label: ``id, field, old,
  new, reason``; ``old`` must equal the value in dev.jsonl, so a changed upstream file is an error, not a silent
  mix). Every dev.jsonl row is training data: the detectors before this set were tuned on it.
* ``pool`` - the responses drawn by ``draw.py`` and labelled by reading, assembled in ``labels.jsonl`` (one row
  per response: locator ``source, file, record, side, sha`` + ``split, round, flattery, refusal, emoji, note``);
  texts resolved from ``../shared`` by :func:`sources.resolve` (digest-checked).

**The held-out sets.** ``split == "test"`` (the frozen test split, rounds 1-2), ``split == "holdout"`` (the
second held-out set, round 3), ``split == "holdout2"`` (the third, round 4: every round-4 row, all answers to
prompts no earlier round or dev.jsonl holds) and ``split == "holdout3"`` (the fourth, round 5, drawn the same way
after the other three had been scored) and ``split == "holdout4"`` (the fifth, round 6, drawn the same way after
all four had been scored) and ``split == "holdout5"`` (the sixth, round 7, drawn the same way after all five had
been scored, before the next design was written) and ``split == "holdout6"`` (the seventh, round 8, drawn after
holdout5 was scored and reserved for the design after that) were fixed at draw time (``draw.py``), before any label
existed. All seven are treated alike: :func:`training_rows` never returns their rows, :func:`pool_rows` refuses them, and
:func:`held_out_rows` (and its named shorthands :func:`test_rows` ... :func:`holdout3_rows`) returns them only when
called with ``final_report=True`` - which only the final report (``bench/detectors.py --final``) does; a set in
:data:`RESERVED` (drawn for a design not yet settled) the final report leaves unscored too. Nothing
that designs rules, chooses features or fits weights and thresholds (``bench/train_detectors.py``) calls them. ``test_split.sha256`` records, per held-out
set, the SHA-256 of its sorted ids (fixed at draw time) and of its sorted ids + labels;
``tests/test_detector_labels.py`` recomputes them, so no set can drift or be re-drawn unnoticed.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterable
from functools import cache
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import sources  # noqa: E402

DEV_JSONL = sources.SHARED / "labels" / "dev.jsonl"
LABELS = HERE / "labels.jsonl"
CORRECTIONS = HERE / "dev_corrections.jsonl"
FINGERPRINT = HERE / "test_split.sha256"
#: the stratified validation sample of the shipped detectors on benchmark answers (``validation.py``)
VALIDATION = HERE / "validation.jsonl"
VALIDATION_DESIGN = HERE / "validation_design.json"
LABEL_FIELDS = ("flattery", "refusal", "emoji")
REFUSAL_LEVELS = ("none", "partial", "full")
#: splits of ``labels.jsonl``: ``dev`` is tuning data, the others are held out for the final report only
HELD_OUT = ("test", "holdout", "holdout2", "holdout3", "holdout4", "holdout5", "holdout6")
SPLITS = ("dev", *HELD_OUT)
#: held-out sets drawn for a detector design not yet settled: never tuned on (they are in HELD_OUT) and not scored
#: by the final report either, so the design they were drawn for gets their one clean figure. That design removes
#: its set from here in the commit that scores it.
RESERVED: tuple[str, ...] = ("holdout6",)


#: test rows whose label lines (not texts) the detector engineer saw in a terminal listing while shard 00 was
#: arriving; the final report also shows the test split without them (see README.md)
GLIMPSED_TEST_IDS = frozenset(
    "L0000 L0005 L0006 L0009 L0014 L0016 L0019 L0027 L0028 L0030 L0031 L0032 L0035 L0037".split()
)


#: holdout rows whose label lines (not texts) the second detector engineer saw in a terminal listing (a grep of
#: labels.jsonl for the split name) before the final report; it also shows the holdout set without them
GLIMPSED_HOLDOUT_IDS = frozenset(
    "L2700 L2704 L2705 L2711 L2717 L2724 L2728 L2741 L2743 L2751 L2753 L2755 L2757 L2759 L2761 L2763 L2765 "
    "L2766 L2769 L2770 L2772 L2774 L2778 L2781 L2786 L2799".split()
)


class FrozenSplitError(RuntimeError):
    """Someone asked for a held-out set (the frozen test split or a holdout set) outside the final report."""


def _jsonl(path: Path) -> list[dict]:
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError as e:
                raise ValueError(f"{path}:{n}: not JSON ({e})") from None
    return out


def _check_labels(row: dict, where: str) -> None:
    if row.get("flattery") not in (0, 1) or row.get("emoji") not in (0, 1):
        raise ValueError(
            f"{where}: flattery/emoji must be 0 or 1, got {row.get('flattery')!r}/{row.get('emoji')!r}"
        )
    if row.get("refusal") not in REFUSAL_LEVELS:
        raise ValueError(f"{where}: refusal must be one of {REFUSAL_LEVELS}, got {row.get('refusal')!r}")


# ------------------------------------------------------------------------------------------------ dev.jsonl
def corrections() -> list[dict]:
    """The dev re-check as ``{id, field, old, new, reason}`` rows (empty when the file does not exist)."""
    return _jsonl(CORRECTIONS) if CORRECTIONS.is_file() else []


@cache
def _dev_rows() -> tuple[dict, ...]:
    rows = {r["id"]: r for r in _jsonl(DEV_JSONL)}
    for c in corrections():
        r = rows.get(c["id"])
        where = f"{CORRECTIONS.name}: {c['id']}.{c.get('field')}"
        if r is None:
            raise ValueError(f"{where}: no such id in {DEV_JSONL}")
        if c["field"] not in LABEL_FIELDS:
            raise ValueError(f"{where}: not a label field")
        if r[c["field"]] != c["old"]:
            raise ValueError(
                f"{where}: dev.jsonl holds {r[c['field']]!r}, the correction expects {c['old']!r}"
            )
        r[c["field"]] = c["new"]
    out = []
    for r in rows.values():
        _check_labels(r, f"{DEV_JSONL.name}: {r['id']}")
        out.append(
            {
                "id": r["id"],
                "source": r["source"],
                "set": "dev",
                "split": "dev",
                "model": r.get("model"),
                "drawn": None,
                "round": 0,
                "prompt": r["prompt"],
                "context": r["prompt"],
                "response": r["response"],
                **{k: r[k] for k in LABEL_FIELDS},
                "note": r.get("note", ""),
            }
        )
    return tuple(out)


def dev_rows() -> list[dict]:
    """dev.jsonl with the corrections applied (all of it is training data)."""
    return [dict(r) for r in _dev_rows()]


# ------------------------------------------------------------------------------------------------ the pool
@cache
def _pool_labelled() -> tuple[dict, ...]:
    """Locator + labels per labelled pool row (``labels.jsonl``), validated."""
    rows = _jsonl(LABELS)
    seen: set[str] = set()
    for r in rows:
        if r["id"] in seen:
            raise ValueError(f"{LABELS.name}: {r['id']} appears twice")
        seen.add(r["id"])
        _check_labels(r, f"{LABELS.name}: {r['id']}")
        if r.get("split") not in SPLITS:
            raise ValueError(f"{LABELS.name}: {r['id']}: split {r.get('split')!r}")
    return tuple(rows)


def pool_split_ids() -> dict[str, str]:
    """``id -> split`` of every pool row."""
    return {r["id"]: r["split"] for r in _pool_labelled()}


def _with_text(loc: dict) -> dict:
    t = sources.resolve(loc)
    return {
        "id": loc["id"],
        "source": loc["source"],
        "set": "pool",
        "split": loc["split"],
        "model": loc.get("model") or t["model"],
        "drawn": loc.get("drawn"),
        "round": loc.get("round"),
        "prompt": t["prompt"],
        "context": t["context"],
        "response": t["response"],
        **{k: loc[k] for k in LABEL_FIELDS},
        "note": loc.get("note", ""),
    }


def pool_rows(split: str = "dev") -> list[dict]:
    """Labelled pool rows of the dev split, texts resolved. The held-out sets are refused: see
    :func:`test_rows` and :func:`holdout_rows`."""
    if split in HELD_OUT:
        raise FrozenSplitError(
            f"the pool's {split} split is frozen: only {split}_rows(final_report=True) returns it "
            "(bench/detectors.py --final); never use it to design rules or fit the detectors"
        )
    if split != "dev":
        raise ValueError(f"unknown split {split!r} (one of {SPLITS})")
    return [_with_text(r) for r in _pool_labelled() if r["split"] == "dev"]


def training_rows() -> list[dict]:
    """Everything the detectors may be designed and fitted on: dev.jsonl (corrected) + the pool's dev split."""
    return dev_rows() + pool_rows("dev")


def held_out_rows(split: str, *, final_report: bool = False) -> list[dict]:
    """One held-out set (one of :data:`HELD_OUT`), texts resolved - for the final
    report only."""
    if split not in HELD_OUT:
        raise ValueError(f"{split!r} is not a held-out split (one of {HELD_OUT})")
    if final_report is not True:
        raise FrozenSplitError(f"{split}_rows() is for the final report only: call it with final_report=True")
    return [_with_text(r) for r in _pool_labelled() if r["split"] == split]


def test_rows(*, final_report: bool = False) -> list[dict]:
    """The frozen test split, texts resolved - for the final report only."""
    return held_out_rows("test", final_report=final_report)


def holdout_rows(*, final_report: bool = False) -> list[dict]:
    """The second held-out set (round 3), texts resolved - for the final report only."""
    return held_out_rows("holdout", final_report=final_report)


def holdout2_rows(*, final_report: bool = False) -> list[dict]:
    """The third held-out set (round 4), texts resolved - for the final report only."""
    return held_out_rows("holdout2", final_report=final_report)


def holdout3_rows(*, final_report: bool = False) -> list[dict]:
    """The fourth held-out set (round 5), texts resolved - for the final report only."""
    return held_out_rows("holdout3", final_report=final_report)


# ------------------------------------------------------------------------------------------------ validation
@cache
def _validation_labelled() -> tuple[dict, ...]:
    """Locator + stratum + labels per row of the validation sample, checked against its design."""
    strata = json.loads(VALIDATION_DESIGN.read_text(encoding="utf-8"))["strata"]
    rows = _jsonl(VALIDATION)
    if len({r["id"] for r in rows}) != len(rows):
        raise ValueError(f"{VALIDATION.name}: an id appears twice")
    for r in rows:
        _check_labels(r, f"{VALIDATION.name}: {r['id']}")
        if r.get("stratum") not in strata:
            raise ValueError(f"{VALIDATION.name}: {r['id']}: stratum {r.get('stratum')!r} not in the design")
    drawn = {h: sum(r["stratum"] == h for r in rows) for h in strata}
    if any(drawn[h] != v["drawn"] for h, v in strata.items()):
        raise ValueError(f"{VALIDATION.name}: rows per stratum {drawn} differ from the design's")
    return tuple(rows)


def validation_rows(*, final_report: bool = False) -> list[dict]:
    """The validation sample, texts resolved - to measure the shipped detectors, never to design or fit them
    (a figure measured on rows a design was tuned on says how well it memorised)."""
    if final_report is not True:
        raise FrozenSplitError(
            "validation_rows() measures the shipped detectors: call it with final_report=True"
        )
    return [_with_text({**r, "split": "validation", "drawn": r["stratum"]}) | {"stratum": r["stratum"]}
            for r in _validation_labelled()]  # fmt: skip


# ------------------------------------------------------------------------------------------------ fingerprint
def ids_fingerprint(ids: Iterable[str]) -> str:
    return hashlib.sha256("\n".join(sorted(ids)).encode()).hexdigest()


def labels_fingerprint(rows: Iterable[dict]) -> str:
    """SHA-256 of the sorted ``id flattery refusal emoji`` lines (text-free: hashing reads no response)."""
    lines = sorted(f"{r['id']} {r['flattery']} {r['refusal']} {r['emoji']}" for r in rows)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def current_fingerprint() -> dict[str, str | int]:
    """What ``test_split.sha256`` must hold, per held-out set: its ids of the draw, and ids + labels."""
    out: dict[str, str | int] = {}
    for split in HELD_OUT:
        rows = [r for r in _pool_labelled() if r["split"] == split]
        out[f"{split}_ids"] = len(rows)
        out[f"{split}_ids_sha256"] = ids_fingerprint(r["id"] for r in rows)
        out[f"{split}_labels_sha256"] = labels_fingerprint(rows)
    return out


def read_fingerprint(path: Path = FINGERPRINT) -> dict[str, str | int]:
    """``key value`` lines of ``test_split.sha256`` (``#`` comments allowed)."""
    out: dict[str, str | int] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            k, v = line.split(None, 1)
            out[k] = int(v) if v.isdigit() else v
    return out


def write_fingerprint(path: Path = FINGERPRINT) -> dict[str, str | int]:
    fp = current_fingerprint()
    head = (
        "# Held-out sets of the detector labels (see load.py): the frozen test split and holdout 1-6.\n"
        "# <split>_ids_*: the rows draw.py put in that split; <split>_labels_*: their labels (sorted\n"
        "# 'id flattery refusal emoji' lines). A test recomputes every line.\n"
    )
    path.write_text(head + "".join(f"{k} {v}\n" for k, v in fp.items()), encoding="utf-8")
    return fp


def write_corrections(recheck: Path, path: Path = CORRECTIONS) -> list[dict]:
    """``dev_corrections.jsonl`` from a re-check file (``{id, flattery, refusal, emoji, changed, reason}`` per
    dev.jsonl row): one row per label whose re-checked value differs from dev.jsonl's."""
    dev = {r["id"]: r for r in _jsonl(DEV_JSONL)}
    out = []
    for r in _jsonl(recheck):
        old = dev.get(r["id"])
        if old is None:
            raise ValueError(f"{recheck}: id {r['id']!r} is not in {DEV_JSONL}")
        _check_labels(r, f"{recheck.name}: {r['id']}")
        changed = [k for k in LABEL_FIELDS if r[k] != old[k]]
        if sorted(changed) != sorted(r.get("changed") or []):
            raise ValueError(
                f"{recheck.name}: {r['id']} says changed={r.get('changed')} but differs in {changed}"
            )
        for k in changed:
            out.append({"id": r["id"], "field": k, "old": old[k], "new": r[k], "reason": r.get("reason", "")})
    path.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in out), encoding="utf-8")
    _dev_rows.cache_clear()
    return out


if __name__ == "__main__":  # python bench/labels/load.py [--write-fingerprint] [--corrections RECHECK]
    from collections import Counter

    if "--corrections" in sys.argv:
        cs = write_corrections(Path(sys.argv[sys.argv.index("--corrections") + 1]))
        print(f"{len(cs)} corrections written to {CORRECTIONS}", dict(Counter(c["field"] for c in cs)))
    if "--write-fingerprint" in sys.argv:
        print(write_fingerprint())
    tr = training_rows()
    print(f"training rows: {len(tr)}", dict(Counter(r["source"] for r in tr)))
    print(
        "flattery",
        dict(Counter(r["flattery"] for r in tr)),
        "refusal",
        dict(Counter(r["refusal"] for r in tr)),
    )
    print("held-out sets:", {k: v for k, v in current_fingerprint().items() if not k.endswith("sha256")})
