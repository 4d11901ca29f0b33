"""Join the drawn locators with the annotators' label files into ``labels.jsonl`` (the file the benches read).

    python bench/labels/assemble.py --pool /tmp/pool/pool.jsonl --labels /tmp/out/shard_*.jsonl
    python bench/labels/assemble.py --pool /tmp/pool4/pool.jsonl --labels /tmp/out4/*.jsonl --keep   # round 4

Every drawn row must have exactly one label row and every label row a drawn row; anything else is an error, so
a lost or duplicated label cannot slip into the evaluation. A label row that names a ``sha`` must name the drawn
row's. With ``--keep`` the rows already in the output file stay as they are (byte for byte) and the pool's rows
are appended; a pool row whose id or text is already there is an error.
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
    ap.add_argument(
        "--keep",
        action="store_true",
        help="keep the rows already in --out and append the pool's (a later round drawn with draw.py --earlier)",
    )
    args = ap.parse_args(argv)
    pool = [json.loads(line) for line in args.pool.read_text(encoding="utf-8").splitlines() if line.strip()]
    kept_lines: list[str] = []
    kept_ids: set[str] = set()
    if args.keep:
        kept_lines = [line for line in args.out.read_text(encoding="utf-8").splitlines() if line.strip()]
        kept = [json.loads(line) for line in kept_lines]
        kept_ids, shas = {r["id"] for r in kept}, {r["sha"] for r in kept}
        clash = [r["id"] for r in pool if r["id"] in kept_ids or r["sha"] in shas]
        if clash:
            raise SystemExit(
                f"{len(clash)} pool rows are already in {args.out} (same id or text), e.g. {clash[:5]}"
            )
    labels: dict[str, dict] = {}
    for path in args.labels:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            row = json.loads(line)
            if row["id"] in labels:
                raise SystemExit(f"{path}:{n}: {row['id']} labelled twice")
            labels[row["id"]] = row
    drawn = {r["id"]: r for r in pool}
    extra = sorted(set(labels) - set(drawn))
    if extra:
        raise SystemExit(f"labels for ids that were never drawn: {extra[:10]}")
    moved = [i for i, row in labels.items() if "sha" in row and row["sha"] != drawn[i]["sha"]]
    if moved:
        raise SystemExit(f"labels whose sha is not the drawn row's (a label on another text): {moved[:10]}")
    missing = [r["id"] for r in pool if r["id"] not in labels]
    if missing:
        raise SystemExit(f"{len(missing)} drawn rows have no label yet, e.g. {missing[:5]}")
    if args.adjudications.exists():
        for line in args.adjudications.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            adj = json.loads(line)
            if adj["id"] in kept_ids:  # a row of an earlier round, kept as assembled (already applied)
                continue
            if adj["id"] not in labels:
                raise SystemExit(f"adjudication for {adj['id']}, which is neither labelled here nor kept")
            row = labels[adj["id"]]
            if row[adj["field"]] != adj["old"]:
                raise SystemExit(f"adjudication {adj} does not match the label {row[adj['field']]!r}")
            row[adj["field"]] = adj["new"]
            row["note"] = (row["note"] + "; " if row["note"] else "") + f"adjudicated: {adj['reason']}"
    with open(args.out, "w", encoding="utf-8") as fh:
        fh.writelines(line + "\n" for line in kept_lines)
        for r in pool:
            r = {"round": 1} | r
            row = {k: r[k] for k in FIELDS if k in r} | {k: labels[r["id"]][k] for k in LABELS}
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(
        f"{len(pool)} labelled rows -> {args.out}" + (f" (after {len(kept_lines)} kept)" if args.keep else "")
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
