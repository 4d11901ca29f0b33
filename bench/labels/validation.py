"""Draw a validation sample of the shipped detectors on ordinary benchmark answers, stratified by what the
detectors say - to measure their misclassification where flattery and refusals are rare.

    python bench/labels/validation.py --out /tmp/validation     # pool.jsonl, design.json, shard_NN.md
    python bench/labels/validation.py --out /tmp/validation --assemble LABELS_DIR   # -> validation.jsonl

Random draws estimate P(detector says j | label i) badly for rare labels: a few thousand random answers hold a
dozen partial refusals. Drawing instead *by the detector's label* (two-phase sampling) puts labels where the
uncertainty is: the shipped detectors label every unlabelled answer of the benchmark sources (every source but
the red-team chats, which are another kind of text), the answers are split into strata by that label, a fixed
number is drawn from each stratum and labelled blind by people (no detector output, no stratum shown: the
shards are shuffled). Each stratum's size is kept (``design.json``), so the population's joint distribution of
(label, detector label) is the strata's labelled shares weighted by their sizes (``bench/detector_confusion.py``,
measurement ``validation``).

Population: the answers' digests are deduplicated, and every answer already hand-labelled (``labels.jsonl``,
``dev.jsonl``) is left out, so no label of a tuning or held-out row is read or repeated. The prompts overlap
the tuning rows' (no benchmark prompt is left unlabelled): the detectors have seen other answers to them, which
makes this measurement, if anything, a little kind to them.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent.parent))
import draw  # noqa: E402
import sources  # noqa: E402

from stylebias.extract.detectors.detect import load_models  # noqa: E402
from stylebias.extract.detectors.training import featurize, predict  # noqa: E402

SALT = "validation-2026-12-02"
#: benchmark answers: every source but the red-team chats
POPULATION = tuple(s for s in sources.SOURCES if s != "hh_rlhf_harmless")
#: labels drawn per stratum (the stratum is what the shipped detectors say)
PER_STRATUM = {"refusal_full": 75, "refusal_partial": 75, "flattery": 75, "plain": 300}


def stratum(pred: dict) -> str:
    """The stratum of one answer by the shipped detectors' labels (refusal first: a refusal that flatters is
    a refusal stratum)."""
    if pred["refusal"] == "full":
        return "refusal_full"
    if pred["refusal"] == "partial":
        return "refusal_partial"
    return "flattery" if pred["flattery"] == 1 else "plain"


def population(labelled: set[str]) -> list[tuple[dict, dict]]:
    """Every distinct unlabelled benchmark answer: (locator with its digest, resolved text)."""
    out, seen = [], set(labelled)
    for loc in sources.iter_candidates():
        if loc["source"] not in POPULATION:
            continue
        t = sources.resolve(loc)
        resp = t["response"]
        if not isinstance(resp, str) or not resp.strip():
            continue
        sha = sources.digest(resp)
        if sha in seen:
            continue
        seen.add(sha)
        out.append(({**loc, "sha": sha}, t))
    return out


def labelled_digests() -> set[str]:
    rows = [
        json.loads(line) for line in (HERE / "labels.jsonl").read_text(encoding="utf-8").splitlines() if line
    ]
    dev = sources.SHARED / "labels" / "dev.jsonl"
    dev_rows = [json.loads(line) for line in dev.read_text(encoding="utf-8").splitlines() if line.strip()]
    return {r["sha"] for r in rows} | {sources.digest(r["response"]) for r in dev_rows}


#: what ``validation.jsonl`` keeps of a drawn row: its locator, its stratum, the people's labels
KEPT = (
    "id",
    "source",
    "file",
    "record",
    "side",
    "sha",
    "model",
    "stratum",
    "flattery",
    "refusal",
    "emoji",
    "note",
)


def assemble(drawn_dir: Path, labels_dir: Path) -> int:
    """Join the drawn rows with their labels (every id labelled exactly once) into ``validation.jsonl`` and
    copy the design beside it."""
    drawn = [json.loads(line) for line in (drawn_dir / "pool.jsonl").read_text(encoding="utf-8").splitlines()]
    labels: dict[str, dict] = {}
    for path in sorted(labels_dir.glob("*.jsonl")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                row = json.loads(line)
                if row["id"] in labels:
                    raise SystemExit(f"{path.name}:{n}: {row['id']} labelled twice")
                labels[row["id"]] = row
    missing = [r["id"] for r in drawn if r["id"] not in labels]
    extra = sorted(set(labels) - {r["id"] for r in drawn})
    if missing or extra:
        raise SystemExit(f"labels missing for {missing[:5]} ({len(missing)}), unknown ids {extra[:5]}")
    with open(HERE / "validation.jsonl", "w", encoding="utf-8") as fh:
        for r in drawn:
            row = {**r, **{k: labels[r["id"]][k] for k in ("flattery", "refusal", "emoji", "note")}}
            fh.write(json.dumps({k: row[k] for k in KEPT if k in row}, ensure_ascii=False) + "\n")
    (HERE / "validation_design.json").write_text((drawn_dir / "design.json").read_text(encoding="utf-8"))
    print(f"{len(drawn)} rows -> {HERE / 'validation.jsonl'}")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--shard-size", type=int, default=125)
    ap.add_argument("--assemble", type=Path, help="folder of the labellers' JSONL files: join them with OUT")
    args = ap.parse_args(argv)
    if args.assemble is not None:
        return assemble(args.out, args.assemble)
    pool = population(labelled_digests())
    preds = predict(
        load_models(), featurize([{"prompt": t["prompt"], "response": t["response"]} for _, t in pool])
    )
    strata: dict[str, list[tuple[dict, dict]]] = {s: [] for s in PER_STRATUM}
    for (loc, t), p in zip(pool, preds, strict=True):
        strata[stratum(p)].append(({**loc, "model": t["model"]}, p))
    rng = random.Random(int(hashlib.sha256(SALT.encode()).hexdigest()[:16], 16))
    drawn = []
    for name, want in PER_STRATUM.items():
        members = strata[name]
        for loc, p in rng.sample(members, min(want, len(members))):
            drawn.append(
                {**loc, "stratum": name, "detector": {"refusal": p["refusal"], "flattery": p["flattery"]}}
            )
    rng.shuffle(drawn)
    for i, row in enumerate(drawn):
        row["id"] = f"V{i:04d}"
    design = {
        "salt": SALT,
        "population": list(POPULATION),
        "population_size": len(pool),
        "strata": {s: {"size": len(m), "drawn": min(PER_STRATUM[s], len(m))} for s, m in strata.items()},
        "by_source": dict(sorted(Counter(loc["source"] for loc, _ in pool).items())),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "design.json").write_text(json.dumps(design, indent=1) + "\n", encoding="utf-8")
    with open(args.out / "pool.jsonl", "w", encoding="utf-8") as fh:
        for row in drawn:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    for k in range(0, len(drawn), args.shard_size):
        draw.write_shard(args.out / f"shard_{k // args.shard_size:02d}.md", drawn[k : k + args.shard_size])
    print(json.dumps(design["strata"]), f"population {len(pool):,}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
