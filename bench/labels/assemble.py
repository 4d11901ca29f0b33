"""Join the drawn locators with the annotators' label files into ``labels.jsonl`` (the file the benches read).

    python bench/labels/assemble.py --pool /tmp/pool/pool.jsonl --labels /tmp/out/shard_*.jsonl

Every drawn row must have exactly one label row and every label row a drawn row; anything else is an error, so
a lost or duplicated label cannot slip into the evaluation.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
FIELDS = ("id", "source", "file", "record", "side", "sha", "model", "drawn", "split", "round")
LABELS = ("flattery", "refusal", "emoji", "note")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pool", type=Path, required=True)
    ap.add_argument("--labels", type=Path, nargs="+", required=True)
    ap.add_argument("--out", type=Path, default=HERE / "labels.jsonl")
    ap.add_argument(
        "--adjudications",
        type=Path,
        default=HERE / "adjudications.jsonl",
        help="rows {id, field, old, new, reason}: the lead's decision where two annotators disagreed",
    )
    args = ap.parse_args(argv)
    pool = [json.loads(line) for line in args.pool.read_text(encoding="utf-8").splitlines() if line.strip()]
    labels: dict[str, dict] = {}
    for path in args.labels:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            row = json.loads(line)
            if row["id"] in labels:
                raise SystemExit(f"{path}:{n}: {row['id']} labelled twice")
            labels[row["id"]] = row
    drawn = {r["id"] for r in pool}
    extra = sorted(set(labels) - drawn)
    if extra:
        raise SystemExit(f"labels for ids that were never drawn: {extra[:10]}")
    missing = [r["id"] for r in pool if r["id"] not in labels]
    if missing:
        raise SystemExit(f"{len(missing)} drawn rows have no label yet, e.g. {missing[:5]}")
    if args.adjudications.exists():
        for line in args.adjudications.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            adj = json.loads(line)
            row = labels[adj["id"]]
            if row[adj["field"]] != adj["old"]:
                raise SystemExit(f"adjudication {adj} does not match the label {row[adj['field']]!r}")
            row[adj["field"]] = adj["new"]
            row["note"] = (row["note"] + "; " if row["note"] else "") + f"adjudicated: {adj['reason']}"
    with open(args.out, "w", encoding="utf-8") as fh:
        for r in pool:
            r = {"round": 1} | r
            row = {k: r[k] for k in FIELDS if k in r} | {k: labels[r["id"]][k] for k in LABELS}
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(pool)} labelled rows -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
