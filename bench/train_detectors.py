"""Fit the flattery and refusal classifiers on the dev split of the hand labels; write ``models/detectors/``.

    python bench/train_detectors.py [--out models/detectors]

Reads ``bench/labels/load.py``'s :func:`training_rows` (dev.jsonl with its corrections + the pool's dev split;
never the frozen test split), featurizes every row with the shipped patterns, fits the three heads
(``stylebias.extract.detectors.training``: weights on all rows, thresholds on out-of-source scores) and writes
``flattery.json`` and ``refusal.json`` (plain JSON weights) plus the data section of the model card. The
figures in the card come from ``bench/detectors.py`` (leave-one-source-out and the frozen test split).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench" / "labels"))

import load as labels  # noqa: E402

from stylebias.extract.detectors.training import HYPERPARAMETERS, featurize, fit_heads, model_documents  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / "models" / "detectors")
    args = ap.parse_args()
    rows = labels.training_rows()
    t0 = time.process_time()
    feats = featurize(rows)
    models = fit_heads(feats, rows)
    print(f"{len(rows)} rows featurized and fitted in {time.process_time() - t0:.1f} s CPU "
          f"(load average {os.getloadavg()[0]:.2f})")  # fmt: skip
    about = {
        "date": date.today().isoformat(),
        "training_data": {
            "rows": len(rows),
            "by_source": dict(sorted(Counter(r["source"] for r in rows).items())),
            "by_set": dict(sorted(Counter(r["set"] for r in rows).items())),
            "flattery": dict(sorted(Counter(str(r["flattery"]) for r in rows).items())),
            "refusal": dict(sorted(Counter(r["refusal"] for r in rows).items())),
            "dev_corrections": len(labels.corrections()),
            "excluded": "the held-out sets: the frozen test split and the holdout set (bench/labels/test_split.sha256)",
        },
        "hyperparameters": HYPERPARAMETERS,
        "fit": "bench/train_detectors.py; thresholds maximise F1 on out-of-source scores (one fit per source)",
    }
    args.out.mkdir(parents=True, exist_ok=True)
    for name, doc in model_documents(models, about).items():
        (args.out / name).write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        heads = doc["heads"]
        sizes = ", ".join(f"{h}: {len(m['unit_weights'])} unit + {len(m['response_weights'])} reply weights, "
                          f"threshold {m['threshold']:.3f}" for h, m in heads.items())  # fmt: skip
        print(f"wrote {args.out / name} ({sizes})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
