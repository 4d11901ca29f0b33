"""Linear time: how extraction cost grows with the response length, per feature family and input shape.

    python bench/linearity.py [--n 16000] [--factor 4] [--repeat 3] [--only SHAPE] [--mb 1048576]

For every shape in ``tests/_shapes.py`` (ordinary prose, runs that grow - a word followed by 32,000 dashes, a
table delimiter row, a URL, whitespace -, repeated markdown markers, CJK/Hangul/emoji without spaces, deep
nesting, detector phrases) and every feature family, prints the ratio of the CPU time at ``factor * n``
characters to the time at ``n`` (median of ``--repeat``; linear is ~``factor``, quadratic ~``factor`` squared;
the bound is 5 for a factor of 4), then the seconds of the whole ``full`` set on one ``--mb``-character text of
each shape (target: under 1 s each). CPU time and the load average are printed, so a busy machine shows.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from stylebias.extract import FEATURE_SETS, extract_one  # noqa: E402
from stylebias.extract.core import clear_memos  # noqa: E402
from stylebias.extract.runner import warm_up  # noqa: E402
from tests._shapes import SHAPES, growth  # noqa: E402

FAMILIES = ("verbosity", "structure", "emoji", "flattery", "refusal", "tone", "script")
BOUND = 5.0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=16_000)
    ap.add_argument("--factor", type=int, default=4)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--only", help="shapes whose name contains this")
    ap.add_argument("--mb", type=int, default=1 << 20, help="characters of the single large text (0 = skip)")
    args = ap.parse_args()
    warm_up()
    shapes = [s for s in SHAPES if not args.only or args.only in s]
    print(f"cores: {os.cpu_count()}, load average at start: {os.getloadavg()}")
    print(
        f"\n## CPU time at {args.factor * args.n:,} chars / at {args.n:,} chars (median of {args.repeat})\n"
    )
    print("| shape | " + " | ".join(FAMILIES) + " |")
    print("|---|" + "---:|" * len(FAMILIES))
    worst: dict[str, tuple[float, str]] = {f: (0.0, "") for f in FAMILIES}
    for shape in shapes:
        cells = []
        for fam in FAMILIES:
            names = list(FEATURE_SETS[fam])
            t1, t4 = growth(
                lambda t, names=names: extract_one(t, "prompt", names),
                shape,
                args.n,
                args.factor,
                args.repeat,
            )
            ratio = (t4 + 1e-4) / (t1 + 1e-4)  # + 0.1 ms: a family that costs nothing has ratio ~1, not noise
            if ratio > worst[fam][0]:
                worst[fam] = (ratio, shape)
            flag = " ⚠" if ratio > BOUND else ""
            cells.append(f"{ratio:.1f}{flag} ({1000 * t4:.1f} ms)")
        print(f"| {shape} | " + " | ".join(cells) + " |", flush=True)
    print(
        f"\nworst ratio per family (bound {BOUND}): "
        + ", ".join(f"{f} {r:.1f} ({s})" for f, (r, s) in worst.items())
    )
    print(f"load average: {os.getloadavg()}")

    if args.mb:
        full = list(FEATURE_SETS["full"])
        print(f"\n## One {args.mb:,}-character text of each shape, all {len(full)} features (CPU seconds)\n")
        slowest = (0.0, "")
        rows = []
        for shape in shapes:
            text = SHAPES[shape](args.mb)
            clear_memos()
            t0 = time.process_time()
            extract_one(text, "prompt", full)
            sec = time.process_time() - t0
            rows.append((sec, shape))
            slowest = max(slowest, (sec, shape))
        for sec, shape in sorted(rows, reverse=True)[:15]:
            print(f"  {shape:<28} {sec:5.2f} s")
        print(f"\nslowest: {slowest[0]:.2f} s ({slowest[1]}); target < 1 s; load average {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
