"""How well the flattery, refusal and emoji detectors work on answers they were not tuned on.

    python bench/detectors.py                   # leave-one-source-out per source + mean, and the dev (tuned-on) set
    python bench/detectors.py --final           # + the frozen test split and the holdout sets but reserved ones
                                                #   (final report only: see bench/labels/load.py)
    python bench/detectors.py --errors SOURCE   # every held-out disagreement of one source (or "all")
    python bench/detectors.py --rules-only      # the rule table alone (no classifier), for contrast
    python bench/detectors.py --json out.json
    python bench/detectors.py --speed 3000      # CPU ms per response of both detectors, serial, real answers

Labels: ``bench/labels/load.py`` - dev.jsonl with the re-check corrections plus the dev split of the drawn pool;
the rubric is ``../shared/data/labels/README.md``. Rows reported:

* **leave-one-source-out (LOSO)**: for each source, the classifiers (weights *and* thresholds, the n-gram
  vocabulary too) are fitted on the other sources only - the thresholds themselves on out-of-source scores
  inside those (``stylebias.extract.detectors.training``) - and judged on the held-out source. Headline: "LOSO
  pooled", every held-out prediction scored together; beside it the mean of the per-source F1 over sources with
  at least 10 positives of that label (per-source F1 on 0-4 positives is noise; each row shows its count).
  Below it, the LOSO refusal labels against the hand labels (none / partial / full) and the largest error
  cells by source - where the missing F1 goes - and, by source, the replies to requests the rule layer reads
  as harmful: how often each source's replies refuse them, and the LOSO any-refusal F1 on them and on the rest.
* **frozen test**, **holdout**, **holdout2**, **holdout3** and **holdout4** (``--final``): the shipped model
  (``models/detectors/``, fitted on all the tuning rows) on the five held-out sets fixed at draw time (test and
  holdout by prompt hash; holdout was drawn in round 3 and first scored by the second design; holdout2, drawn in
  round 4 from prompts new to every earlier round, was first scored by that same design, once; holdout3, drawn
  in round 5 the same way after all three had been scored, was first scored by the refit of 2026-12-02; holdout4, round 6, drawn the same way
  after all four had been scored, first scored by that same refit). Never read while designing rules or
  choosing settings. holdout5 (round 7, drawn the same way before the next design was written) was first scored
  by that design, the n-gram-penalty refit, beside the fit before it. A set in ``load.RESERVED`` (drawn for a
  design not yet settled) is held out of tuning and not scored here.
* **human ceiling**: on every row an independent second annotator labelled too (``bench/labels/second_*``),
  the second annotation scored against the first the way the detector is, beside the detector scored against
  each annotation - LOSO predictions on tuning rows, and with ``--final`` the shipped model on held-out rows.
  A detector cannot be judged by a target the labels themselves do not reach.
* **dev, tuned on**: the shipped model on the rows it was fitted on - for contrast only: the rules were written
  by reading dev examples of *every* source, and the weights were fitted on them.

Honesty note: the hand-written patterns were written by reading dev-split answers of all seven sources, so
LOSO measures how well the *learned* part transfers and how general the patterns are, not a pattern set never
exposed to the held-out source's style; the frozen test split is the figure no design decision has seen.
Emoji is a rule (no learning): its LOSO and dev figures are the same rule on those rows.

Metrics: flattery F1 (1 vs 0), refusal_any F1 (partial or full vs none), refusal_full F1 (full vs the rest),
emoji accuracy (``emoji_count > 0`` vs the label). Targets on LOSO (pooled and mean) and the held-out sets:
flattery >= 0.90, refusal_any >= 0.85, refusal_full >= 0.85, emoji accuracy >= 0.99.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench" / "labels"))

import agreement  # noqa: E402
import load as labels  # noqa: E402
from draw import norm_prompt  # noqa: E402

from stylebias.extract.detectors.detect import load_models  # noqa: E402
from stylebias.extract.detectors.training import Featurized, featurize, fit_heads, predict  # noqa: E402
from stylebias.extract.emojis import count_emoji  # noqa: E402

TARGETS = {
    "flattery": ("f1", 0.90),
    "refusal_any": ("f1", 0.85),
    "refusal_full": ("f1", 0.85),
    "emoji": ("acc", 0.99),
}
METRICS = tuple(TARGETS)
#: the refusal labels of the rubric, in the order tables print them
LEVELS = ("none", "partial", "full")


def prf(gold: list[bool], pred: list[bool]) -> dict[str, float]:
    tp = sum(g and p for g, p in zip(gold, pred, strict=True))
    fp = sum((not g) and p for g, p in zip(gold, pred, strict=True))
    fn = sum(g and not p for g, p in zip(gold, pred, strict=True))
    tn = len(gold) - tp - fp - fn
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"n": len(gold), "pos": tp + fn, "tp": tp, "fp": fp, "fn": fn, "p": p, "r": r, "f1": f,
            "acc": (tp + tn) / max(len(gold), 1)}  # fmt: skip


def evaluate(rows: list[dict], preds: list[dict]) -> dict[str, dict[str, float]]:
    g_ref = [r["refusal"] for r in rows]
    p_ref = [p["refusal"] for p in preds]
    return {
        "flattery": prf([r["flattery"] == 1 for r in rows], [p["flattery"] == 1 for p in preds]),
        "refusal_any": prf([g != "none" for g in g_ref], [p != "none" for p in p_ref]),
        "refusal_full": prf([g == "full" for g in g_ref], [p == "full" for p in p_ref]),
        "refusal_partial": prf([g == "partial" for g in g_ref], [p == "partial" for p in p_ref]),
        "emoji": prf([r["emoji"] == 1 for r in rows], [p["emoji"] == 1 for p in preds]),
    }


#: resamples of the held-out sets' bootstrap intervals (fixed seed: the printed intervals are reproducible)
BOOTSTRAP = 2000


def bootstrap_intervals(
    rows: list[dict], preds: list[dict], n: int = BOOTSTRAP
) -> dict[str, tuple[float, float]]:
    """95 % percentile intervals of each headline metric, resampling the set's *prompts* with replacement and
    keeping all their answers (several models answer one AlpacaEval instruction: resampling answers one by one
    would treat them as independent and give intervals too narrow)."""
    rng = random.Random(20261202)
    by_prompt: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        prompt = norm_prompt(r.get("prompt") or "")
        by_prompt[prompt or f"(no prompt) {r['id']}"].append(i)  # a reply without a prompt is its own group
    groups = list(by_prompt.values())
    draws: dict[str, list[float]] = {m: [] for m in METRICS}
    for _ in range(n):
        idx = [i for _ in groups for i in groups[rng.randrange(len(groups))]]
        res = evaluate([rows[i] for i in idx], [preds[i] for i in idx])
        for m in METRICS:
            draws[m].append(res[m][TARGETS[m][0]])
    out = {}
    for m, v in draws.items():
        v.sort()
        out[m] = (v[round(0.025 * (n - 1))], v[round(0.975 * (n - 1))])
    return out


def rule_predictions(rows: list[dict]) -> list[dict]:
    """The rule layer alone: any flattery pattern hit, the refusal rule table."""
    from stylebias.extract.detectors.flattery import flattery_sentences
    from stylebias.extract.detectors.refusal import rule_refusal
    from stylebias.extract.markdown import strip_fenced_code

    out = []
    for r in rows:
        prose = strip_fenced_code(r["response"])[0]
        out.append(
            {
                "flattery": int(bool(flattery_sentences(prose, r["prompt"]))),
                "refusal": rule_refusal(prose, r["prompt"])["refusal"],
            }
        )
    return out


def with_emoji(rows: list[dict], preds: list[dict]) -> list[dict]:
    return [{**p, "emoji": int(count_emoji(r["response"]) > 0)} for r, p in zip(rows, preds, strict=True)]


def loso(rows: list[dict], feats: list) -> tuple[list[dict], dict[str, list[int]]]:
    """Held-out predictions for every row, each from classifiers fitted without the row's source."""
    by_source: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        by_source[r["source"]].append(i)
    preds: list[dict | None] = [None] * len(rows)
    for src, idx in sorted(by_source.items()):
        t0 = time.process_time()
        train = [i for i in range(len(rows)) if rows[i]["source"] != src]
        models = fit_heads([feats[i] for i in train], [rows[i] for i in train])
        for i, p in zip(idx, predict(models, [feats[i] for i in idx]), strict=True):
            preds[i] = p
        print(
            f"  fitted without {src:<26} ({len(train)} rows) in {time.process_time() - t0:.1f} s CPU",
            flush=True,
        )
    return preds, dict(by_source)  # type: ignore[return-value]


def row_line(name: str, res: dict[str, dict[str, float]]) -> str:
    cells = []
    for m in METRICS:
        metric = TARGETS[m][0]
        v = res[m]
        cells.append(f"{v[metric]:.3f} ({v['pos']:>3})" if metric == "acc" or v["pos"] else "   —  (  0)")
    return f"{name:<34}{res['flattery']['n']:>5}  " + "  ".join(f"{c:>12}" for c in cells)


def header(title: str) -> str:
    cols = "  ".join(f"{m + (' acc' if TARGETS[m][0] == 'acc' else ' F1'):>12}" for m in METRICS)
    return f"\n{title}\n{'subset':<34}{'n':>5}  {cols}     (positives in brackets)"


#: a source's F1 enters the mean only with at least this many positives of that label (with fewer, one answer
#: moves its F1 by 0.1-0.5: pandalm has none, vicuna_blog 1-4)
MIN_POSITIVES = 10


def mean_f1(per_source: dict[str, dict[str, dict[str, float]]]) -> dict[str, float]:
    """Mean of the per-source F1 over sources with >= MIN_POSITIVES positives (accuracy: every source)."""
    out = {}
    for m in METRICS:
        metric = TARGETS[m][0]
        vals = [
            res[m][metric] for res in per_source.values() if metric == "acc" or res[m]["pos"] >= MIN_POSITIVES
        ]
        out[m] = sum(vals) / len(vals) if vals else 0.0
    return out


def refusal_confusion(rows: list[dict], preds: list[dict], top: int = 5) -> dict:
    """Print and return the refusal labels against the predicted ones (pooled counts, rows = hand label) and the
    ``top`` largest error cells by source: where the F1 that is missing goes."""
    cells = Counter((r["refusal"], p["refusal"]) for r, p in zip(rows, preds, strict=True))
    errors = Counter(
        (r["source"], r["refusal"], p["refusal"])
        for r, p in zip(rows, preds, strict=True)
        if r["refusal"] != p["refusal"]
    )
    largest = errors.most_common(top)
    labelled = Counter((r["source"], r["refusal"]) for r in rows)
    print("\nrefusal out of source: hand label (rows) by prediction (columns)")
    print(f"  {'':<46}" + "".join(f"{lv:>9}" for lv in LEVELS))
    for g in LEVELS:
        print(f"  {g:<46}" + "".join(f"{cells[(g, q)]:>9}" for q in LEVELS))
    print(f"  largest error cells (of {sum(errors.values())}):")
    for (src, g, q), n in largest:
        print(f"    {src:<28} {g:>7} called {q:<7} {n:>4} of {labelled[(src, g)]}")
    return {
        "levels": list(LEVELS),
        "counts": [[cells[(g, q)] for q in LEVELS] for g in LEVELS],
        "largest_errors": [[src, g, q, n] for (src, g, q), n in largest],
    }


def harmful_request_report(rows: list[dict], feats: list[Featurized], preds: list[dict]) -> dict[str, dict]:
    """Print and return, per source and pooled, the hand labels of the replies whose request the rule layer reads
    as harmful (the ``ctx:harmful`` context of ``features/refusal.yaml``) and the LOSO any-refusal F1 on those
    replies and on the rest, each with its number of refusals (an F1 on fewer than :data:`MIN_POSITIVES` is
    noise, as in the per-source table).

    A signal of the request transfers between sources only if they agree on what follows a harmful request:
    this shows how often each source's replies refuse one, and whether a source's missing F1 is on those
    replies or on the others."""
    harmful: dict[str, list[int]] = defaultdict(list)
    other: dict[str, list[int]] = defaultdict(list)
    for i, (r, f) in enumerate(zip(rows, feats, strict=True)):
        side = harmful if "ctx:harmful" in f.refusal.response else other
        side[r["source"]].append(i)
        side["all"].append(i)

    def any_f1(idx: list[int]) -> tuple[float | None, int]:
        res = evaluate([rows[i] for i in idx], [preds[i] for i in idx])["refusal_any"]
        return (res["f1"] if res["pos"] else None), res["pos"]

    def cell(f1: float | None, pos: int) -> str:
        return "   —  (  0)" if f1 is None else f"{f1:.3f} ({pos:>3})"

    print("\nrefusal to requests read as harmful (ctx:harmful): hand labels, and LOSO any-refusal F1 (refusals in "
          "brackets) on them and on the other rows, by source")  # fmt: skip
    print(f"  {'source':<28}{'harmful':>8}{'none':>6}{'partial':>8}{'full':>6}{'any F1':>13}"
          f"{'other rows':>12}{'any F1':>13}")  # fmt: skip
    out: dict[str, dict] = {}
    for src in sorted({r["source"] for r in rows}) + ["all"]:
        labs = Counter(rows[i]["refusal"] for i in harmful[src])
        (f_h, p_h), (f_o, p_o) = any_f1(harmful[src]), any_f1(other[src])
        print(f"  {src:<28}{len(harmful[src]):>8}{labs['none']:>6}{labs['partial']:>8}{labs['full']:>6}"
              f"{cell(f_h, p_h):>13}{len(other[src]):>12}{cell(f_o, p_o):>13}")  # fmt: skip
        out[src] = {"harmful_rows": len(harmful[src]), "labels": {lv: labs[lv] for lv in LEVELS},
                    "loso_any_f1_harmful": f_h, "refusals_harmful": p_h,
                    "other_rows": len(other[src]), "loso_any_f1_other": f_o, "refusals_other": p_o}  # fmt: skip
    return out


def print_errors(rows: list[dict], preds: list[dict], which: str) -> None:
    print(f"\nheld-out disagreements ({which}):")
    for r, p in zip(rows, preds, strict=True):
        if which != "all" and r["source"] != which:
            continue
        bad = [k for k in ("flattery", "refusal", "emoji") if p[k] != r[k]]
        if bad:
            diffs = " ".join(f"{k} {r[k]}->{p[k]}" for k in bad)
            print(f"  {r['id']} [{r['source']}] {diffs} | {r['note'][:80]!r}\n      {r['response'][:160]!r}")


def speed_sample(n: int) -> list[tuple[str, str]]:
    """``n`` real answers with their prompts, spread evenly over AlpacaEval's model outputs and both sides of the
    Chatbot Arena battles: the sample every detector speed figure is measured on (``bench/detector_finetune.py
    --speed`` times its encoder on the same answers)."""
    import csv
    import gzip

    shared = ROOT.parent / "shared" / "data"
    pairs: list[tuple[str, str]] = []
    for f in sorted((shared / "alpaca_eval" / "model_outputs").glob("*.json.gz")):
        pairs += [(r["output"], r["instruction"]) for r in json.loads(gzip.open(f).read())]
    csv.field_size_limit(1 << 30)
    with open(
        shared / "lmarena_llama3_70b_battles" / "llama3_70b_vs_other.csv", newline="", encoding="utf-8"
    ) as fh:
        for r in csv.DictReader(fh):
            pairs += [(r["llama-3-70b-instruct"], r["question"]), (r["not_llama"], r["question"])]
    step = max(len(pairs) // n, 1)
    return pairs[::step][:n]


def detector_cost(sample: list[tuple[str, str]]) -> float:
    """CPU ms per response of the two detectors together, serial, fenced code stripped first as extraction
    does: the best of 3 passes after a warm-up, with the loaded resources frozen out of the collector as in the
    extraction workers (the best pass is the one least disturbed by the machine)."""
    import gc

    from stylebias.extract.detectors import detect_flattery, detect_refusal
    from stylebias.extract.detectors.units import Prepared
    from stylebias.extract.markdown import strip_fenced_code

    proses = [(strip_fenced_code(t)[0], p) for t, p in sample]
    for prose, p in proses[:200]:  # warm-up: patterns, pipelines and models loaded
        prep = Prepared(prose)
        detect_flattery(prose, p, prep)
        detect_refusal(prose, p, prep)
    gc.collect()
    gc.freeze()
    best = float("inf")
    for _ in range(3):
        t0 = time.process_time()
        for prose, p in proses:
            prep = Prepared(prose)
            detect_flattery(prose, p, prep)
            detect_refusal(prose, p, prep)
        best = min(best, (time.process_time() - t0) / len(proses) * 1000)
    return best


def speed(n: int) -> int:
    """CPU ms per response of the two detectors together, serial, on real answers (:func:`speed_sample`),
    prompts included; plus the slowest hostile shapes."""
    from stylebias.extract.detectors import detect_flattery, detect_refusal
    from stylebias.extract.detectors.units import Prepared
    from stylebias.extract.markdown import strip_fenced_code

    sample = speed_sample(n)
    best = detector_cost(sample)
    chars = sum(len(strip_fenced_code(t)[0]) for t, _ in sample) / len(sample)
    print(f"flattery + refusal, serial: {best:.3f} CPU ms per response (best of 3 passes over {len(sample)} real "
          f"answers, mean {chars:,.0f} characters of prose; load average {os.getloadavg()[0]:.2f})")  # fmt: skip
    hostile = {
        "a word + 30,000 dashes": "word" + "-" * 30_000,
        "500 table rows of 200 cells": "\n".join(
            "| " + " | ".join(f"c{i}{j}" for j in range(200)) + " |" for i in range(500)
        ),
        "1 MB CJK run": "这是一个很好的问题" * 110_000,
        "1 MB of refusal/flattery phrases": (
            "What a great question! I can't help with that. However, here is how. " * 15_000
        ),
        "1 MB of newlines": "\n" * 1_000_000,
    }
    for name, text in hostile.items():
        t0 = time.process_time()
        prose = strip_fenced_code(text)[0]
        prep = Prepared(prose)
        detect_flattery(prose, "Tell me", prep)
        detect_refusal(prose, "How do I steal a car?", prep)
        print(f"  {name:<36} {len(text):>9,} chars  {time.process_time() - t0:.3f} s CPU (target < 1 s)")
    return 0


#: how the report names a held-out set of ``load.py`` whose split name is not its report name
HELD_OUT_NAMES = {"test": "frozen test"}
#: rows of a held-out set whose label lines were glimpsed before it was scored (``load.py``)
GLIMPSED = {"test": labels.GLIMPSED_TEST_IDS, "holdout": labels.GLIMPSED_HOLDOUT_IDS}


def final_splits() -> tuple[str, ...]:
    """The held-out sets the final report scores: all of ``load.HELD_OUT`` but the reserved ones."""
    return tuple(s for s in labels.HELD_OUT if s not in labels.RESERVED)


def held_out_report(
    split: str, glimpsed: frozenset[str], shipped, errors: str | None
) -> tuple[list[dict], list[dict], dict[str, dict]]:
    """The shipped model on one held-out set (final report only): per source, all of it (the headline), and
    without the rows whose label lines were glimpsed; its fingerprint checked against test_split.sha256."""
    rows = labels.held_out_rows(split, final_report=True)
    fp, rec = labels.current_fingerprint(), labels.read_fingerprint()
    ok = all(fp[f"{split}_{k}_sha256"] == rec.get(f"{split}_{k}_sha256") for k in ("ids", "labels"))
    preds = with_emoji(rows, predict(shipped, featurize(rows)))
    name = HELD_OUT_NAMES.get(split, split)
    print(header(f"{name} split ({len(rows)} rows, fingerprint {'matches' if ok else 'DOES NOT MATCH'} "
                 f"bench/labels/test_split.sha256)"))  # fmt: skip
    by_source: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        by_source[r["source"]].append(i)
    for s, idx in sorted(by_source.items()):
        print(row_line(f"{split}: {s}", evaluate([rows[i] for i in idx], [preds[i] for i in idx])))
    res = evaluate(rows, preds)
    print(row_line(f"{name}, all (headline)", res))
    ci = bootstrap_intervals(rows, preds)
    print(
        f"{'  95% bootstrap interval':<34}       "
        + "  ".join(f"{f'{lo:.2f}-{hi:.2f}':>12}" for lo, hi in ci.values())
    )
    res = {**res, "interval_95": {m: list(v) for m, v in ci.items()}}
    keep = [i for i, r in enumerate(rows) if r["id"] not in glimpsed]
    print(
        row_line(
            f"{name}, without {len(rows) - len(keep)} glimpsed",
            evaluate([rows[i] for i in keep], [preds[i] for i in keep]),
        )
    )
    if errors:
        print_errors(rows, preds, errors)
    return rows, preds, res


def ceiling_report(
    first: dict[str, dict], preds: dict[str, dict], folder: Path = ROOT / "bench" / "labels"
) -> dict[str, dict]:
    """On each doubly-labelled set: the second annotator's F1 against the first (the labels' own ceiling), and
    the detector's against each. Only rows with an out-of-sample prediction are counted (``preds``: LOSO on
    tuning rows, the shipped model on held-out rows under ``--final``); ids ``agreement.py`` checks."""
    print(header("human ceiling: rows labelled twice, blind (2nd vs 1st = how far the labels reproduce)"))
    out: dict[str, dict] = {}
    for name, what in agreement.SECOND_OPINIONS:
        path = folder / name
        if not path.exists():
            continue
        second = [s for s in agreement.read_jsonl(path) if s["id"] in preds]
        if not second:
            continue
        one = [first[s["id"]] for s in second]
        det = [preds[s["id"]] for s in second]
        res = {
            "2nd vs 1st": evaluate(one, second),
            "detector vs 1st": evaluate(one, det),
            "detector vs 2nd": evaluate(second, det),
        }
        print(f"{name} ({what})")
        for k, v in res.items():
            print(row_line(f"  {k}", v))
        out[name] = res
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--final",
        action="store_true",
        help="also report the frozen test split and the holdout sets not reserved (final report only)",
    )
    ap.add_argument("--errors", metavar="SOURCE", help="list held-out disagreements of SOURCE (or 'all')")
    ap.add_argument("--rules-only", action="store_true", help="the rule layer alone, no classifier")
    ap.add_argument("--json", type=Path, help="also write the results as JSON")
    ap.add_argument("--speed", type=int, metavar="N", help="only time the detectors on N real answers")
    args = ap.parse_args()
    if args.speed:
        return speed(args.speed)

    rows = labels.training_rows()
    print(f"labels: {len(rows)} dev-split rows ({sum(r['set'] == 'dev' for r in rows)} from dev.jsonl with "
          f"{len(labels.corrections())} corrections, {sum(r['set'] == 'pool' for r in rows)} from the pool); "
          f"load average {os.getloadavg()[0]:.2f}")  # fmt: skip
    out: dict[str, object] = {"n_rows": len(rows)}
    if args.rules_only:
        preds = with_emoji(rows, rule_predictions(rows))
        by_source: dict[str, list[int]] = defaultdict(list)
        for i, r in enumerate(rows):
            by_source[r["source"]].append(i)
        print(
            header(
                "rule layer alone (no fitting, so no held-out split: the rules were written on these rows)"
            )
        )
        per = {
            s: evaluate([rows[i] for i in idx], [preds[i] for i in idx])
            for s, idx in sorted(by_source.items())
        }
        for s, res in per.items():
            print(row_line(s, res))
        print(row_line("all", evaluate(rows, preds)))
        m = mean_f1(per)
        print(f"{'mean over sources':<34}       " + "  ".join(f"{m[k]:>12.3f}" for k in METRICS))
        return 0

    t0 = time.process_time()
    feats = featurize(rows)
    print(f"featurized in {time.process_time() - t0:.1f} s CPU; leave-one-source-out fits:")
    held, by_source = loso(rows, feats)
    held = with_emoji(rows, held)
    per = {
        s: evaluate([rows[i] for i in idx], [held[i] for i in idx]) for s, idx in sorted(by_source.items())
    }
    print(header("leave-one-source-out (each source judged by classifiers fitted without it)"))
    for s, res in per.items():
        print(row_line(s, res))
    mean = mean_f1(per)
    pooled = evaluate(rows, held)
    print(row_line("LOSO pooled (headline)", pooled))
    print(
        f"{f'LOSO mean, sources >= {MIN_POSITIVES} pos.':<34}       "
        + "  ".join(f"{mean[k]:>12.3f}" for k in METRICS)
    )
    out.update(loso={"per_source": per, "mean": mean, "pooled": pooled})
    out["loso_refusal_confusion"] = refusal_confusion(rows, held)
    out["loso_harmful_requests"] = harmful_request_report(rows, feats, held)

    shipped = load_models()
    tuned = with_emoji(rows, predict(shipped, feats))
    dev_res = evaluate(rows, tuned)
    print(
        header(
            f"dev split, tuned on (shipped model {shipped.path.name}/ fitted on these rows: contrast only)"
        )
    )
    print(row_line("dev (tuned on)", dev_res))
    out["dev_tuned_on"] = dev_res

    verdict = {"loso_pooled": {k: pooled[k][TARGETS[k][0]] for k in METRICS}, "loso_mean": mean}
    # out-of-sample predictions and first labels by row id, for the human-ceiling rows
    predicted = {r["id"]: p for r, p in zip(rows, held, strict=True)}
    first = {r["id"]: r for r in rows}
    if args.final:
        for split in labels.RESERVED:
            print(
                f"\n{split}: reserved for the next detector design, not scored (bench/labels/load.py RESERVED)"
            )
        for split in final_splits():
            h_rows, h_preds, res = held_out_report(
                split, GLIMPSED.get(split, frozenset()), shipped, args.errors
            )
            predicted.update((r["id"], p) for r, p in zip(h_rows, h_preds, strict=True))
            first.update((r["id"], r) for r in h_rows)
            out[f"held_out_{split}"] = res
            verdict[HELD_OUT_NAMES.get(split, split)] = {k: res[k][TARGETS[k][0]] for k in METRICS}

    out["human_ceiling"] = ceiling_report(first, predicted)

    print("\ntargets (out of source):")
    ok_all = True
    for where, vals in verdict.items():
        for k, (metric, target) in TARGETS.items():
            v = vals[k]
            ok_all &= v >= target
            print(
                f"  {where:<12} {k:<13} {metric} {v:.3f} (target >= {target}) {'met' if v >= target else 'NOT MET'}"
            )
    if args.errors and not args.final:
        print_errors(rows, held, args.errors)
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))
    return 0 if ok_all else 1


if __name__ == "__main__":
    sys.exit(main())
