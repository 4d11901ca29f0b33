"""Four detector designs that were tried beside the shipped one and did not win out of source, and one bound.

    python bench/detector_designs.py [--json out.json]      # about 3 min on 2 cores (5 min CPU)

Every design is judged the same way, on the same rows: for each source, fitted without it, judged on every
labelled row of it in the tuning rows *and* in the spent held-out sets (holdout .. holdout5, whose figures are
already known, so they can no longer give a clean figure; the frozen test split and the reserved set are not
read). Designs:

* ``shipped``: the pooled logistic of ``stylebias.extract.detectors.training`` on the tuning rows (as shipped);
* ``plus_spent``: the same fitted on the tuning rows *and* the spent held-out sets (1,493 more replies, many of
  them red-team chats) - does more of the same data help?
* ``boosted``: LightGBM over the same signals aggregated per reply (each unit signal present anywhere, the
  reply signals, the unit count; n-grams left out, the vocabulary gated like the logistic's: >= 5 replies of
  >= 2 sources), threshold chosen on out-of-source scores inside the training sources - does a learner that
  finds interactions help?
* ``balanced``: the shipped logistic with every source weighing the same in the loss (sample weight 1 / the
  source's row count, scaled to mean 1) - does it help when the big sources stop setting the weights, as an
  unseen source is one source among many?
* ``ordinal``: one refusal score for both decisions - the *any* head's, with a second threshold for full
  refusal chosen on the same out-of-source scores (flattery as shipped) - does sharing the any head's 304
  positives help the full decision, which has 222 of its own?
* ``red_team_known`` (a bound, not a design: it reads which source a reply is from): the shipped logistic with
  the harmful-prompt context (``features/prompts.yaml``) replaced by the truth - exactly the prompts of the
  red-team chats. Half of HH's full refusals are deflections without refusal wording that are called ``none``;
  would recognising the adversarial prompt better let the signals that read it catch them?

Printed: pooled F1 per head, the same without the red-team chats, and a 95 % bootstrap interval (prompts
resampled with all their answers, 1,000 times) of each design's F1 minus the shipped one's; then how well the
any head's out-of-source score orders the three refusal labels on the tuning rows (AUC per pair of labels).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench" / "labels"))

import load as labels  # noqa: E402
from draw import norm_prompt  # noqa: E402

from stylebias.extract.detectors.model import PooledLogistic, best_threshold  # noqa: E402
from stylebias.extract.detectors.patterns import DetectorSpec  # noqa: E402
from stylebias.extract.detectors.training import (  # noqa: E402
    HYPERPARAMETERS,
    TARGETS,
    featurize,
    fit_heads,
    head_samples,
    out_of_source_scores,
    predict,
)

#: held-out sets a final report has already scored: spent for a clean figure, still real labelled replies
SPENT = ("holdout", "holdout2", "holdout3", "holdout4", "holdout5")
HEADS = ("flattery", "any", "full")
RED_TEAM = "hh_rlhf_harmless"
BOOST = {"objective": "binary", "learning_rate": 0.05, "num_leaves": 8, "min_data_in_leaf": 10,
         "feature_fraction": 0.5, "bagging_fraction": 0.8, "bagging_freq": 1, "lambda_l2": 1.0,
         "verbose": -1, "num_threads": 2, "seed": 1}  # fmt: skip
ROUNDS = 300


def source_balanced(groups: Sequence[str]) -> np.ndarray:
    """Sample weights under which every source weighs the same in the loss (1 / its row count, mean 1)."""
    count = Counter(groups)
    w = np.array([1.0 / count[g] for g in groups])
    return w * len(w) / w.sum()


def logistic_predictions(
    rows: list[dict], feats: list, train: np.ndarray, judge: np.ndarray, weigh: Callable | None = None
) -> dict:
    models = fit_heads([feats[i] for i in train], [rows[i] for i in train], weigh)
    preds = predict(models, [feats[i] for i in judge])
    return {
        "flattery": np.array([p["flattery"] == 1 for p in preds]),
        "any": np.array([p["refusal"] != "none" for p in preds]),
        "full": np.array([p["refusal"] == "full" for p in preds]),
    }


def ordinal_predictions(
    rows: list[dict], feats: list, train: np.ndarray, judge: np.ndarray
) -> tuple[dict, np.ndarray]:
    """Refusal decided by the any head's score alone: ``any`` at its own threshold, ``full`` at a second
    threshold chosen (F1) on the same out-of-source scores against the full labels; a full call is also a
    refusal call. Returns the decisions (no ``flattery`` entry: the caller keeps the shipped one) and the
    judged rows' scores."""
    hp = HYPERPARAMETERS["any"]
    tr_rows = [rows[i] for i in train]
    samples = head_samples([feats[i] for i in train], "any")
    groups = [r["source"] for r in tr_rows]
    y_any = [TARGETS["any"](r) for r in tr_rows]
    oof = out_of_source_scores(samples, y_any, groups, hp)
    head = PooledLogistic(**hp).fit(samples, y_any, groups)
    t_any = best_threshold(oof, y_any)
    t_full = best_threshold(oof, [TARGETS["full"](r) for r in tr_rows])
    score = np.array(head.decision_many(head_samples([feats[i] for i in judge], "any")))
    full = score >= t_full
    return {"any": (score >= t_any) | full, "full": full}, score


def auc(score: np.ndarray, pos: np.ndarray, neg: np.ndarray) -> float:
    """P(a ``pos`` row scores above a ``neg`` row), ties counted half (the Mann-Whitney statistic)."""
    a, b = score[pos], score[neg]
    return float((a[:, None] > b[None]).mean() + 0.5 * (a[:, None] == b[None]).mean())


def ordinal_separation(rows: list[dict], score: np.ndarray, keep: np.ndarray) -> dict[str, float]:
    """How well the any head's out-of-source score orders the three refusal labels on the ``keep`` rows: if
    it cannot tell full from partial, no second threshold on it can."""
    lab = np.array([r["refusal"] for r in rows])
    out = {
        f"{a}_vs_{b}": auc(score, keep & (lab == a), keep & (lab == b))
        for a, b in (("full", "partial"), ("full", "none"), ("partial", "none"))
    }
    print(
        "the any head's score, out of source, tuning rows: AUC "
        + ", ".join(f"{k} {v:.3f}" for k, v in out.items())
    )
    return out


@contextmanager
def harmful_is(prompts: set[str]) -> Iterator[None]:
    """Within the block the ``harmful`` prompt context matches exactly ``prompts`` (every other context as
    written), for every reader of it: the rules' scope and decision table and the classifiers' signals."""
    written = DetectorSpec.prompt_matches

    def matches(self: DetectorSpec, context: str, prompt: str | None) -> bool:
        return prompt in prompts if context == "harmful" else written(self, context, prompt)

    with mock.patch.object(DetectorSpec, "prompt_matches", matches):
        yield


def reply_bag(sample) -> dict[str, float]:
    units, z = sample.as_tuple()
    bag = dict(z)
    bag.update({"u:" + s: 1.0 for u in units for s in u if not s.startswith("ng:")})
    bag["n_units"] = float(len(units))
    return bag


def boosted_predictions(
    bags: dict, ys: dict, groups: np.ndarray, train: np.ndarray, judge: np.ndarray
) -> dict:
    import lightgbm as lgb
    from scipy import sparse

    out = {}
    for head in HEADS:
        bag, y = bags[head], ys[head]
        df, seen = Counter(), defaultdict(set)
        for i in train:
            for k in bag[i]:
                df[k] += 1
                seen[k].add(groups[i])
        col = {k: j for j, k in enumerate(sorted(k for k in df if df[k] >= 5 and len(seen[k]) >= 2))}

        def matrix(idx, col=col, bag=bag):
            cells = [(a, col[k], v) for a, i in enumerate(idx) for k, v in bag[i].items() if k in col]
            r, c, v = zip(*cells, strict=True) if cells else ((), (), ())
            return sparse.csr_matrix((v, (r, c)), shape=(len(idx), len(col)), dtype=np.float32)

        oof = np.zeros(len(train))
        for g in sorted(set(groups[train])):
            inner = groups[train] == g
            m = lgb.train(BOOST, lgb.Dataset(matrix(train[~inner]), y[train[~inner]]), ROUNDS)
            oof[inner] = m.predict(matrix(train[inner]))
        m = lgb.train(BOOST, lgb.Dataset(matrix(train), y[train]), ROUNDS)
        out[head] = m.predict(matrix(judge)) >= best_threshold(oof.tolist(), y[train].tolist())
    return out


def f1(gold: np.ndarray, pred: np.ndarray) -> float:
    tp = int((gold & pred).sum())
    return 2 * tp / (int(gold.sum()) + int(pred.sum())) if tp else 0.0


def diff_interval(
    gold: np.ndarray, a: np.ndarray, b: np.ndarray, groups: list[np.ndarray], reps: int = 1000
) -> tuple[float, float]:
    """95 % interval of F1(a) - F1(b), resampling prompts with all their answers (``groups``: row indices per
    prompt), as ``bench/detectors.py`` does: answers to one prompt are not independent."""
    rng = np.random.default_rng(0)
    d = []
    for _ in range(reps):
        i = np.concatenate([groups[k] for k in rng.integers(0, len(groups), len(groups))])
        d.append(f1(gold[i], a[i]) - f1(gold[i], b[i]))
    lo, hi = np.percentile(d, [2.5, 97.5])
    return float(lo), float(hi)


def prompt_key(r: dict) -> str:
    """The normalised prompt a reply answers: replies to one prompt are not independent (a reply without a
    prompt is its own)."""
    return norm_prompt(r.get("prompt") or "") or f"(no prompt) {r['id']}"


def prompt_groups(rows: list[dict]) -> list[np.ndarray]:
    """Row indices per prompt (:func:`prompt_key`)."""
    by_prompt: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        by_prompt[prompt_key(r)].append(i)
    return [np.array(v) for v in by_prompt.values()]


def judged_table(rows: list[dict], ys: dict, preds: dict, width: int = 12) -> dict:
    """Print and return, per design and head, the pooled F1, the same without the red-team chats (``None`` when
    every row is one) and the 95 % interval of the F1 difference from ``preds["shipped"]``."""
    groups = np.array([r["source"] for r in rows])
    not_hh = groups != RED_TEAM
    others = bool(not_hh.any())
    by_prompt = prompt_groups(rows)
    print(
        f"{'design':<{width}}"
        + "".join(f"{h + ' F1':>12}{'w/o HH':>9}{'Δ vs shipped (95%)':>22}" for h in HEADS)
    )
    out = {}
    for d, p in preds.items():
        res, line = {}, f"{d:<{width}}"
        for h in HEADS:
            g = ys[h].astype(bool)
            lo, hi = diff_interval(g, p[h], preds["shipped"][h], by_prompt) if d != "shipped" else (0.0, 0.0)
            res[h] = {"f1": f1(g, p[h]), "f1_without_hh": f1(g[not_hh], p[h][not_hh]) if others else None,
                      "diff_vs_shipped_95": [lo, hi]}  # fmt: skip
            without = f"{res[h]['f1_without_hh']:>9.3f}" if others else f"{'—':>9}"
            line += f"{res[h]['f1']:>12.3f}{without}{f'{lo:+.3f}…{hi:+.3f}':>22}"
        out[d] = res
        print(line)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--json", type=Path, help="also write the results as JSON")
    args = ap.parse_args()
    tuning = labels.training_rows()
    spent = [r for s in SPENT for r in labels.held_out_rows(s, final_report=True)]
    rows = tuning + spent
    feats = featurize(rows)
    with harmful_is({r["prompt"] for r in rows if r["source"] == RED_TEAM}):
        feats_known = featurize(rows)
    groups = np.array([r["source"] for r in rows])
    is_tuning = np.arange(len(rows)) < len(tuning)
    ys = {h: np.array([TARGETS[h](r) for r in rows]) for h in HEADS}
    bags = {h: [reply_bag(f.flattery if h == "flattery" else f.refusal) for f in feats] for h in HEADS}
    designs = ("shipped", "plus_spent", "boosted", "balanced", "ordinal", "red_team_known")
    preds = {d: {h: np.zeros(len(rows), bool) for h in HEADS} for d in designs}
    any_score = np.zeros(len(rows))
    for src in sorted(set(groups)):
        judge = np.where(groups == src)[0]
        train = np.where((groups != src) & is_tuning)[0]
        shipped = logistic_predictions(rows, feats, train, judge)
        ordinal, any_score[judge] = ordinal_predictions(rows, feats, train, judge)
        fitted = {
            "shipped": shipped,
            "plus_spent": logistic_predictions(rows, feats, np.where(groups != src)[0], judge),
            "boosted": boosted_predictions(bags, ys, groups, train, judge),
            "balanced": logistic_predictions(rows, feats, train, judge, source_balanced),
            "ordinal": {"flattery": shipped["flattery"], **ordinal},
            "red_team_known": logistic_predictions(rows, feats_known, train, judge),
        }
        for d, p in fitted.items():
            for h in HEADS:
                preds[d][h][judge] = p[h]
        print(f"  {src}: {len(judge)} rows judged", flush=True)
    out: dict = {"rows": len(rows), "tuning_rows": len(tuning), "spent_rows": len(spent)}
    print(f"\n{len(rows)} replies judged out of source ({len(tuning)} tuning + {len(spent)} spent held-out)")
    out["designs"] = judged_table(rows, ys, preds, width=16)
    out["ordinal_separation"] = ordinal_separation(rows, any_score, is_tuning)
    if args.json:
        args.json.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
