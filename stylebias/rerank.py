"""Re-rank a published leaderboard that has model outputs and scores but no votes (AlpacaEval and the like).

Many boards publish each model's answers and its win rate against one reference model, not the individual
judge votes. Given a style model fitted on vote data (``stylebias fit --save``), this module asks: what would
each model's win rate be if its answers had the same style as the reference's?

Method (one model ``m`` at a time, instructions ``i`` shared with the reference):

1. pair features ``x_i`` of ``m``'s answer (side A) against the reference's answer (side B), with the saved
   model's feature list; ``g_i = gamma . (x_i / scale)`` is the style push on the logit, using the saved
   coefficients ``gamma`` and per-feature scales. The saved *means* are not used: they only centre the
   training design, and a constant on the logit is absorbed by the free offset ``d`` below.
2. solve ``mean_i sigma(d + g_i) = p`` for ``d`` (``p`` = reported win rate as a fraction; the left side is
   strictly increasing in ``d``, so ``brentq`` finds the unique root).
3. style-neutral win rate = ``sigma(d)``: the same model with zero style difference (``x = 0``) on every
   instruction. This is AlpacaEval's length-controlled win rate generalised to every style family.

Assumptions (``docs/rerank.md``): the board's judge behaves like the judge the effects were learned from;
style effects add on the logit scale and do not depend on the model; the board's score is the mean
preference over the same instructions the outputs hold (ties count half); the reference is fixed. A
reported 0 % or 100 % has no finite ``d``: it is clipped to half a vote from the boundary, with a note.
"""

from __future__ import annotations

import math
import os
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import brentq
from scipy.special import expit

from .errors import DataError, StyleBiasWarning, UsageError
from .outputs import plain
from .progress import track

SCORE_COLUMN = "win_rate"
#: Arena-Hard-Auto's leaderboard CSV (v0.1 ``show_result.py --output``): ``model, score, rating_q025, ...``.
ARENA_HARD_SCORE = "score"
LC_COLUMN = "length_controlled_winrate"
SE_COLUMN = "standard_error"
OUTPUT_FIELDS = ("instruction", "output", "generator")


# ------------------------------------------------------------------------------------------- the board
def read_score_board(path: str | Path, score_column: str | None = None) -> pd.DataFrame:
    """Read a score leaderboard into ``model, score`` (+ ``lc``, ``se`` when the file has them).

    AlpacaEval's CSV is read natively: first column = model name (its header may be empty or ``name``),
    ``win_rate`` in percent against the reference, ``length_controlled_winrate`` and ``standard_error`` kept.
    Arena-Hard-Auto's boards too: v0.1's leaderboard CSV (``model, score, ...``: ``score`` is the win rate
    against the baseline in percent) and v2's printed table (``show_result.py``'s output saved as text:
    ``Model  Scores (%)  CI (%)`` rows). Other boards: CSV with a ``model``/``name`` column (else the first
    column), JSON as a list of objects, ``{"models": [...]}``, or ``{model: score}``; ``score_column`` names
    the score. Scores in [0, 1] are read as fractions, larger ones as percent (returned in percent either
    way, ``attrs["scale"]`` says which).
    """
    p = Path(path)
    if not p.is_file():
        raise UsageError(f"leaderboard file not found: {p}")
    column = score_column or SCORE_COLUMN
    suffixes = [s.lower() for s in p.suffixes]
    if ".json" in suffixes:
        raw = _json_board(p, column)
    elif _is_printed_table(p):
        raw, column = _printed_board(p), ARENA_HARD_SCORE
    else:
        raw = _csv_board(p)
    if score_column is None and column not in raw.columns and ARENA_HARD_SCORE in raw.columns:
        column = ARENA_HARD_SCORE  # Arena-Hard-Auto's leaderboard CSV
    if column not in raw.columns:
        hint = "" if score_column else " (use --score-column to name the score column)"
        raise UsageError(
            f"{p}: no score column {column!r}{hint}; columns: {', '.join(map(str, raw.columns[1:]))}"
        )
    out = pd.DataFrame({"model": raw["model"].astype(str).str.strip()})
    for src, dst in ((column, "score"), (LC_COLUMN, "lc"), (SE_COLUMN, "se")):
        if src in raw.columns and (dst == "score" or src != column):
            out[dst] = pd.to_numeric(raw[src], errors="coerce")
    bad = out["score"].isna() | ~np.isfinite(out["score"])
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(
            f"model {out['model'].iloc[i]!r}: score {column!r} is not a number ({raw[column].iloc[i]!r})",
            file=str(p),
            record=i + 2 if ".json" not in suffixes else i + 1,
        )
    if (out["model"] == "").any() or out["model"].duplicated().any():
        dup = out["model"][out["model"].duplicated() | (out["model"] == "")].iloc[0]
        raise DataError(f"model name {dup!r} is empty or appears twice", file=str(p))
    scale = "fraction" if out["score"].between(0, 1).all() and out["score"].max() <= 1.0 else "percent"
    if scale == "fraction":
        for c in ("score", "lc", "se"):
            if c in out.columns:
                out[c] = out[c] * 100.0
    if ((out["score"] < 0) | (out["score"] > 100)).any():
        i = int(np.flatnonzero(((out["score"] < 0) | (out["score"] > 100)).to_numpy())[0])
        raise DataError(
            f"model {out['model'].iloc[i]!r}: win rate {out['score'].iloc[i]!r} is outside 0-100 %",
            file=str(p),
        )
    out.attrs["scale"] = scale
    out.attrs["score_column"] = column
    out.attrs["file"] = str(p)
    return out.reset_index(drop=True)


_PRINTED_ROW = re.compile(r"^\s*\d+\s+(\S+)\s+(-?[\d.]+)\s+\(-?([\d.]+) / \+([\d.]+)\)\s*$")


def _is_printed_table(p: Path) -> bool:
    """Arena-Hard-Auto v2's ``show_result.py`` output (a pandas ``to_string`` table under its header)."""
    try:
        with open(p, encoding="utf-8", errors="replace") as fh:
            head = fh.read(65536)
    except OSError:
        return False
    return re.search(r"^\s*Model\s+Scores \(%\)\s+CI \(%\)\s*$", head, re.MULTILINE) is not None


def _printed_board(p: Path) -> pd.DataFrame:
    """``model, score, ci_low, ci_high`` from the first table of a saved ``show_result.py`` printout (other
    lines - headers, the feature coefficients, a second category - are ignored; each row must parse)."""
    rows, started = [], False
    for number, line in enumerate(p.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        if re.match(r"^\s*Model\s+Scores \(%\)", line):
            if started:
                break  # a second table (another category): one board per file
            started = True
            continue
        if not started or not line.strip():
            continue
        m = _PRINTED_ROW.match(line)
        if m is None:
            if re.match(r"^\s*\d+\s", line):
                raise DataError(
                    f"unreadable row of a show_result.py table: {line.strip()!r}", file=str(p), record=number
                )
            break
        rows.append(
            {"model": m[1], ARENA_HARD_SCORE: float(m[2]), "ci_low": float(m[3]), "ci_high": float(m[4])}
        )
    if not rows:
        raise DataError("no rows under the 'Model  Scores (%)  CI (%)' header", file=str(p))
    return pd.DataFrame(rows)


def _csv_board(p: Path) -> pd.DataFrame:
    try:
        raw = pd.read_csv(p, dtype={0: str}, keep_default_na=False, na_values=[""])
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise DataError(f"not a CSV leaderboard: {exc}", file=str(p)) from None
    if raw.shape[1] < 2:
        raise DataError("leaderboard CSV needs a model column and a score column", file=str(p))
    names = [str(c) for c in raw.columns]
    key = next((c for c in ("model", "name") if c in names), names[0])
    return raw.rename(columns={key: "model"})


def _json_board(p: Path, column: str) -> pd.DataFrame:
    import gzip
    import json

    try:
        opener = gzip.open if p.suffix.lower() == ".gz" else open
        with opener(p, "rt", encoding="utf-8") as fh:
            doc = json.load(fh)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"not a JSON leaderboard: {exc}", file=str(p)) from None
    if isinstance(doc, dict) and isinstance(doc.get("models"), list):
        doc = doc["models"]
    if isinstance(doc, dict) and all(isinstance(v, int | float) for v in doc.values()):
        return pd.DataFrame({"model": list(doc), column: list(doc.values())})
    if isinstance(doc, list) and all(isinstance(r, dict) for r in doc):
        frame = pd.DataFrame(doc)
        key = next((c for c in ("model", "name", "generator") if c in frame.columns), None)
        if key is None:
            raise DataError("JSON leaderboard rows need a 'model' (or 'name') field", file=str(p))
        return frame.rename(columns={key: "model"})
    raise DataError(
        "unrecognised JSON leaderboard: expected a list of objects, {'models': [...]} or {model: score}",
        file=str(p),
    )


# ----------------------------------------------------------------------------------------- the outputs
@dataclass
class ModelOutputs:
    """Answers read from AlpacaEval ``model_outputs.json`` files or LLM-judge benchmark folders (Arena-Hard-Auto,
    MT-Bench ``model_answer/``), with a rejects ledger. ``key`` is what answers are matched on: the
    instruction text (AlpacaEval) or the question id (benchmarks); ``meta_*`` the answers' own style counts."""

    outputs: pd.DataFrame  # generator, key, instruction, output, [meta_*], source_file, source_record
    rejects: pd.DataFrame  # file, record, reason
    files: list[str] = field(default_factory=list)


def read_model_outputs(paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]]) -> ModelOutputs:
    """Read ``{instruction, output, generator}`` records from files, directories or globs (``.gz`` ok).

    A record that is not an object, lacks a field or has a non-string one is rejected with its file and
    1-based record number; so is a second answer by the same generator to the same instruction (the
    first is kept). The model name is the ``generator`` field, not the file name.

    A folder laid out as an LLM-judge benchmark (``model_answer/``, e.g. Arena-Hard-Auto's, or the
    ``model_answer/`` folder itself) is read as that benchmark's answers instead: one per (model, question),
    the model named by its answer file, matched on the question id (:func:`stylebias.formats.benchmark_answers`).
    """
    from .formats import (
        ANSWER_DIR,
        DEFAULT_MAX_RECORD_BYTES,
        JSON_EXTS,
        Bad,
        benchmark_answers,
        expand_paths,
        iter_json_records,
        split_ext,
    )

    rows: list[dict[str, Any]] = []
    rejects: list[dict[str, Any]] = []
    files: list[str] = []
    seen: set[tuple[str, str]] = set()
    given = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
    named = {os.fspath(p) for p in given}
    plain: list[Any] = []
    for p in given:
        folder = Path(p)
        if folder.is_dir() and ((folder / ANSWER_DIR).is_dir() or folder.name == ANSWER_DIR):
            got, bad = benchmark_answers(folder)
            rows += got
            rejects += bad
            files += sorted({r["source_file"] for r in got})
        else:
            plain.append(p)
    for display, path, _ in expand_paths(plain) if plain else []:
        if split_ext(path)[0] not in JSON_EXTS:
            if display in named:
                raise UsageError(f"{display}: model outputs must be JSON (.json, .jsonl, optionally .gz)")
            continue  # a leaderboard CSV next to the outputs in the same folder
        files.append(display)
        for number, rec in iter_json_records(path, DEFAULT_MAX_RECORD_BYTES):
            if isinstance(rec, Bad):
                rejects.append({"file": display, "record": number, "reason": rec.reason})
                continue
            reason = _output_problem(rec)
            if reason is None:
                key = (rec["generator"].strip(), rec["instruction"])
                if key in seen:
                    reason = f"duplicate answer by {key[0]!r} to the same instruction (first one kept)"
                else:
                    seen.add(key)
            if reason is not None:
                rejects.append({"file": display, "record": number, "reason": reason})
                continue
            rows.append(
                {
                    "generator": rec["generator"].strip(),
                    "key": rec["instruction"],
                    "instruction": rec["instruction"],
                    "output": rec["output"],
                    "source_file": display,
                    "source_record": number,
                }
            )
    cols = ["generator", "key", "instruction", "output", "source_file", "source_record"]
    meta = sorted({k for r in rows for k in r if k.startswith("meta_")})
    return ModelOutputs(
        pd.DataFrame(rows, columns=cols + meta),
        pd.DataFrame(rejects, columns=["file", "record", "reason"]),
        files,
    )


def _output_problem(rec: Any) -> str | None:
    if not isinstance(rec, dict):
        return f"record is a JSON {type(rec).__name__}, expected an object with {', '.join(OUTPUT_FIELDS)}"
    for key in OUTPUT_FIELDS:
        value = rec.get(key)
        if value is None:
            return f"missing field {key!r}"
        if not isinstance(value, str):
            return f"field {key!r} is a {type(value).__name__}, expected text"
    if not rec["generator"].strip():
        return "empty 'generator' (model name)"
    return None


# ------------------------------------------------------------------------------------------ the solver
def solve_offset(p: float, g: np.ndarray) -> float:
    """The unique ``d`` with ``mean(sigma(d + g)) = p`` (``0 < p < 1``), by ``brentq`` on a safe bracket."""
    g = np.asarray(g, dtype=np.float64)
    if not 0.0 < p < 1.0:
        raise ValueError(f"p must be strictly between 0 and 1, got {p!r}")
    if len(g) == 0:
        return float(math.log(p / (1 - p)))
    logit = math.log(p / (1 - p))
    # mean sigma(d+g) lies between sigma(d+min g) and sigma(d+max g): this bracket contains the root
    lo, hi = logit - float(g.max()) - 1.0, logit - float(g.min()) + 1.0

    def f(d: float) -> float:
        return float(expit(d + g).mean()) - p

    return float(brentq(f, lo, hi, xtol=1e-12, rtol=1e-14, maxiter=200))


# ------------------------------------------------------------------------------------------- re-ranking
@dataclass
class RerankResult:
    """Raw and style-neutral scores of every re-ranked model, plus everything that was left out and why."""

    models: pd.DataFrame
    not_reranked: pd.DataFrame  # model, reason
    outputs_not_on_board: list[str]
    rejects: pd.DataFrame
    effects: pd.DataFrame
    settings: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        """``{"models": [{model, score_raw, score_style_neutral, rank_raw, rank, ...}], "not_reranked": ...}``."""
        effects = self.effects.drop(columns=["sentence"])
        return {
            "models": plain(self.models.to_dict("records")),
            "not_reranked": plain(self.not_reranked.to_dict("records")),
            "outputs_not_on_board": list(self.outputs_not_on_board),
            "rejects": {"count": len(self.rejects), "first": plain(self.rejects.head(50).to_dict("records"))},
            "effects": plain(effects.to_dict("records")),
            "settings": plain(self.settings),
        }


def _competition_rank(values: np.ndarray) -> np.ndarray:
    """1 = best (highest); equal values share the better rank ("1, 2, 2, 4")."""
    return pd.Series(values).rank(method="min", ascending=False).to_numpy(dtype=np.int64)


@dataclass
class ReferencePairs:
    """Board models' answers (side A) paired with the reference's (B) on shared instructions, in board
    order; per model ``n_matched, n_unmatched, n_reference_missing``; the models left out and why."""

    pairs: pd.DataFrame
    info: dict[str, dict[str, int]]
    not_reranked: list[dict[str, str]]
    reference_answers: pd.Series

    def rows_of(self) -> dict[str, slice]:
        starts = np.cumsum([0] + [v["n_matched"] for v in self.info.values()])
        return {m: slice(starts[k], starts[k + 1]) for k, m in enumerate(self.info)}


def check_board(board: str | Path | pd.DataFrame, score_column: str | None = None) -> pd.DataFrame:
    """The board as ``model, score`` (percent): read from a file, or a caller's frame checked."""
    board_df = board.copy() if isinstance(board, pd.DataFrame) else read_score_board(board, score_column)
    if not {"model", "score"} <= set(board_df.columns):
        raise UsageError("board frame needs columns 'model' and 'score' (percent)")
    board_df["model"] = board_df["model"].astype(str)
    scores = pd.to_numeric(board_df["score"], errors="coerce")
    if board_df["model"].duplicated().any() or not (np.isfinite(scores) & scores.between(0, 100)).all():
        raise UsageError(
            "board frame: model names must be unique and every score a number in 0-100 (percent)"
        )
    board_df["score"] = scores.astype(np.float64)
    return board_df


def pair_with_reference(
    board: pd.DataFrame, outs: ModelOutputs, reference: str, min_matched: int = 20
) -> ReferencePairs:
    """:class:`ReferencePairs` of the board (``UsageError`` if the reference or every model lacks outputs)."""
    by_model = {m: g for m, g in outs.outputs.groupby("generator", sort=False)}
    if reference not in by_model:
        have = ", ".join(sorted(by_model)[:12]) + (" ..." if len(by_model) > 12 else "")
        raise UsageError(
            f"no outputs for the reference model {reference!r} among the outputs given "
            f"(generators found: {have or 'none'}); add its model_outputs.json"
        )
    ref_rows = by_model[reference].set_index("key")
    ref_out = ref_rows["output"]
    meta = [c for c in outs.outputs.columns if c.startswith("meta_")]
    not_reranked: list[dict[str, str]] = []
    frames: list[pd.DataFrame] = []
    info: dict[str, dict[str, int]] = {}
    for m in board["model"].astype(str):
        if m == reference:
            continue
        if m not in by_model:
            not_reranked.append({"model": m, "reason": "no outputs given for this model"})
            continue
        mine = by_model[m]
        shared = mine[mine["key"].isin(ref_out.index)]
        n_unmatched = len(mine) - len(shared)
        if len(shared) < min_matched:
            not_reranked.append(
                {
                    "model": m,
                    "reason": f"only {len(shared)} instruction(s) shared with the reference "
                    f"(need {min_matched}; {n_unmatched} of its outputs have no reference answer)",
                }
            )
            continue
        frame = pd.DataFrame(
            {
                "model_a": m,
                "model_b": reference,
                "prompt": shared["instruction"].to_numpy(),
                "response_a": shared["output"].to_numpy(),
                "response_b": ref_out.loc[shared["key"]].to_numpy(),
                "source_file": shared["source_file"].to_numpy(),
                "source_record": shared["source_record"].to_numpy(),
            }
        )
        for col in meta:  # the answers' own style counts, A = the model, B = the reference
            frame[f"{col}_a"] = shared[col].to_numpy()
            frame[f"{col}_b"] = ref_rows.loc[shared["key"], col].to_numpy()
        frames.append(frame)
        info[m] = {
            "n_matched": len(shared),
            "n_unmatched": n_unmatched,
            "n_reference_missing": len(ref_out) - len(shared),
        }
    if not frames:
        raise UsageError(
            "no model on the board could be re-ranked: "
            + "; ".join(f"{r['model']}: {r['reason']}" for r in not_reranked[:5])
        )
    return ReferencePairs(pd.concat(frames, ignore_index=True), info, not_reranked, ref_out)


def coefficient_draws(bt: Any, rounds: int, rng: np.random.Generator) -> np.ndarray | None:
    """``rounds`` draws of the style coefficients from their saved covariance (``None`` for 0 rounds)."""
    if rounds <= 0:
        return None
    P, K = bt.n_models_, len(bt.coef_)
    cov = bt.covariance_[P : P + K, P : P + K]
    return rng.multivariate_normal(np.asarray(bt.coef_, dtype=np.float64), cov, size=rounds, method="eigh")


def neutral_score(
    raw: float,
    n: int,
    Zs: np.ndarray,
    g: np.ndarray,
    draws: np.ndarray | None,
    se: float,
    rng: np.random.Generator,
    level: float,
) -> dict[str, Any]:
    """One model's style-neutral win rate (percent) from its reported one, with the interval over ``draws``.

    ``Zs``: its pair features over the saved scales (one row per shared instruction), ``g`` their style push
    on the logit with the saved coefficients. A reported 0 % or 100 % is clipped to half a vote from the
    boundary, with a note; ``se`` (a fraction) adds the reported score's own uncertainty to the draws.
    """
    note = ""
    p = raw / 100.0
    p_lo, p_hi = 0.5 / n, 1 - 0.5 / n
    if not p_lo <= p <= p_hi:
        note = f"reported {raw:g} % is at the boundary: clipped to {100 * min(max(p, p_lo), p_hi):.3g} %"
        p = min(max(p, p_lo), p_hi)
    d = solve_offset(p, g)
    out: dict[str, Any] = {"score_raw": raw, "score_style_neutral": 100.0 * float(expit(d))}
    if draws is not None:
        rounds = len(draws)
        ps = np.clip(p + se * rng.standard_normal(rounds), p_lo, p_hi) if se > 0 else np.full(rounds, p)
        boot = np.array([100.0 * expit(solve_offset(ps[r], Zs @ draws[r])) for r in range(rounds)])
        lo, hi = np.quantile(boot, (0.5 - level / 2, 0.5 + level / 2))
        out["score_style_neutral_low"] = float(lo)
        out["score_style_neutral_high"] = float(hi)
    out.update({"offset_logit": d, "style_push_logit": float(g.mean()), "note": note})
    return out


def reference_row(board: pd.DataFrame, reference: str, n_answers: int, intervals: bool) -> dict[str, Any]:
    """The reference itself: 50 % by definition on every version of the board."""
    rec = board.set_index("model").loc[reference]
    return {
        "model": reference,
        "score_raw": float(rec["score"]),
        "score_style_neutral": 50.0,
        "score_style_neutral_low": 50.0 if intervals else None,
        "score_style_neutral_high": 50.0 if intervals else None,
        "offset_logit": 0.0,
        "style_push_logit": 0.0,
        "lc": float(rec["lc"]) if "lc" in board.columns else None,
        "n_matched": n_answers,
        "n_unmatched": 0,
        "n_reference_missing": 0,
        "note": "reference (fixed at 50 %)",
    }


def rank_table(rows: list[dict[str, Any]], intervals: bool) -> pd.DataFrame:
    """Raw and style-neutral ranks (competition ranking), rank shift, best style-neutral score first."""
    from .rating.ranks import shift_arrow

    models = pd.DataFrame(rows)
    if not intervals:
        models = models.drop(columns=["score_style_neutral_low", "score_style_neutral_high"], errors="ignore")
    if "lc" in models.columns and models["lc"].isna().all():
        models = models.drop(columns=["lc"])
    models["rank_raw"] = _competition_rank(models["score_raw"].to_numpy())
    models["rank"] = _competition_rank(models["score_style_neutral"].to_numpy())
    models["shift"] = [shift_arrow(a, b) for a, b in zip(models["rank_raw"], models["rank"], strict=True)]
    models = models.sort_values(["rank", "model"], kind="stable").reset_index(drop=True)
    lead = ["model", "score_raw", "score_style_neutral", "rank_raw", "rank", "shift"]
    return models[lead + [c for c in models.columns if c not in lead]]


def rerank_leaderboard(
    board: str | Path | pd.DataFrame,
    outputs: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | ModelOutputs,
    reference: str,
    model: Any,
    score_column: str | None = None,
    *,
    jobs: int | None = 1,
    cache: bool | str = True,
    rounds: int = 200,
    seed: int = 0,
    level: float = 0.95,
    min_matched: int = 20,
) -> RerankResult:
    """Style-neutral scores for a board of win rates against ``reference`` (see the module docstring).

    Args:
        board: a leaderboard file (:func:`read_score_board`) or a frame with ``model, score`` (percent).
        outputs: model-output files/dirs/globs, or an already read :class:`ModelOutputs`.
        reference: the board's reference model (its outputs must be among ``outputs``).
        model: a saved style model: folder, shipped name, or a loaded
            :class:`~stylebias.rating.persist.FittedStyleModel`.
        rounds, seed, level: the interval on each style-neutral score comes from ``rounds`` draws of the
            style coefficients (normal, from the saved covariance) and, when the board has
            ``standard_error``, of the reported win rate; 0 turns intervals off.
        min_matched: a model needs at least this many instructions shared with the reference.

    Raises:
        UsageError: the reference has no outputs, or nothing on the board can be re-ranked.
    """
    from .extract import pair_features
    from .rating.persist import FittedStyleModel, load_stylebt

    fitted = model if isinstance(model, FittedStyleModel) else load_stylebt(model)
    bt = fitted.model
    names = list(bt.feature_names_)
    if not names:
        raise UsageError("the saved model has no style features: nothing to neutralise")
    board_df = check_board(board, score_column)
    outs = outputs if isinstance(outputs, ModelOutputs) else read_model_outputs(outputs)
    paired = pair_with_reference(board_df, outs, reference, min_matched)
    on_board = set(board_df["model"])
    extra = sorted(m for m in outs.outputs["generator"].unique() if m not in on_board and m != reference)
    if extra:
        warnings.warn(
            f"outputs for {len(extra)} model(s) not on the board, ignored: {', '.join(extra)}",
            StyleBiasWarning,
            stacklevel=2,
        )
    X = pair_features(paired.pairs, list(fitted.features), jobs=jobs, cache=cache)[names]
    Zs = X.to_numpy(dtype=np.float64) / np.asarray(bt.feature_scale_, dtype=np.float64)
    g_all = Zs @ np.asarray(bt.coef_, dtype=np.float64)
    rng = np.random.default_rng(seed)
    draws = coefficient_draws(bt, rounds, rng)
    board_idx = board_df.set_index("model")
    rows: list[dict[str, Any]] = []
    spans = paired.rows_of()
    for m in track(list(paired.info), description="solving style-neutral win rates"):
        rec = board_idx.loc[m]
        se = float(rec["se"]) / 100.0 if "se" in rec.index and np.isfinite(rec.get("se", np.nan)) else 0.0
        score = neutral_score(
            float(rec["score"]),
            paired.info[m]["n_matched"],
            Zs[spans[m]],
            g_all[spans[m]],
            draws,
            se,
            rng,
            level,
        )
        note = score.pop("note")
        lc = float(rec["lc"]) if "lc" in rec.index else None
        rows.append({"model": m, **score, "lc": lc, **paired.info[m], "note": note})
    if reference in board_idx.index:
        rows.append(reference_row(board_df, reference, len(paired.reference_answers), draws is not None))
    settings = {
        "reference": reference,
        "board": board_df.attrs.get("file"),
        "score_column": board_df.attrs.get("score_column", score_column),
        "score_scale": board_df.attrs.get("scale", "percent"),
        "style_model": str(fitted.path) if fitted.path is not None else None,
        "features": names,
        "rounds": rounds,
        "seed": seed,
        "level": level,
        "output_files": len(outs.files),
        "outputs_read": len(outs.outputs) + len(outs.rejects),
        "outputs_rejected": len(outs.rejects),
    }
    return RerankResult(
        models=rank_table(rows, draws is not None),
        not_reranked=pd.DataFrame(paired.not_reranked, columns=["model", "reason"]),
        outputs_not_on_board=extra,
        rejects=outs.rejects,
        effects=bt.effects(),
        settings=settings,
    )
