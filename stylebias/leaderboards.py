"""Leaderboard files: ours (``stylebias rank --json``) and LMArena's published ``leaderboard-*.json``.

LMArena's ``arena-catalog`` files have the shape ``{category: {model: {rating, rating_q975, rating_q025}}}``
(``leaderboard-text.json`` raw, ``leaderboard-text-style-control.json`` style-controlled). Ours is
``{"models": [{"model", "rating", "rating_low", "rating_high", "rank", ...}], ...}`` with every connected
component's table under ``components`` and, from ``rank --by``, one ranking per group under ``groups``.
Both are read into the same table (``model, rating, rating_low, rating_high, rank``) so
:func:`compare_leaderboards` can line up any two of them: rank shifts and rating deltas side by side.
:func:`style_gain_board` reads one of ours as its controlled board against its raw one: the delta is then
``style_gain`` (raw − controlled), with the interval the file holds for it.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import DataError, UsageError
from .outputs import plain
from .rating.ranks import lmarena_ranks, shift_arrow

BOARD_COLUMNS = ("model", "rating", "rating_low", "rating_high", "rank")


def _number(value: Any, file: str, model: str, key: str) -> float:
    try:
        f = float(value)
    except (TypeError, ValueError):
        raise DataError(f"model {model!r}: {key} is not a number ({value!r})", file=file) from None
    if not math.isfinite(f):
        raise DataError(f"model {model!r}: {key} is not finite ({value!r})", file=file)
    return f


def read_leaderboard(
    path: str | Path, category: str = "full", *, group: str | None = None, raw: bool = False
) -> pd.DataFrame:
    """Read a leaderboard file into ``model, rating, rating_low, rating_high, rank`` (best first).

    ``category`` selects the table of an LMArena file (``full``, ``coding``, ...). Ours holds every
    connected component (each model is in one; ranks are within its component), ``group`` selects one
    group of a ``rank --by`` file (needed when it has several) and ``raw=True`` reads its raw ratings
    instead of the style-controlled ones. Ranks of LMArena files are recomputed from their intervals with
    LMArena's rule; ours keep the rank written in the file.
    """
    p = Path(path)
    doc = _load(p)
    if isinstance(doc, dict) and isinstance(doc.get("groups"), list):
        doc = _group(doc, str(p), group)
    if isinstance(doc, dict) and isinstance(doc.get("models"), list):
        return _ours(doc, str(p), raw)
    if isinstance(doc, dict) and doc and all(isinstance(v, dict) for v in doc.values()):
        if raw:
            raise UsageError(f"{p}: an LMArena board holds one set of ratings; raw ones are in its own file")
        return _lmarena(doc, str(p), category)
    raise DataError(
        "unrecognised leaderboard: expected stylebias rank --json output ({'models': [...]} or, with --by, "
        "{'groups': [...]}) or an LMArena leaderboard-*.json ({category: {model: {rating, rating_q025, "
        "rating_q975}}})",
        file=str(p),
    )


def _load(p: Path) -> Any:
    if not p.is_file():
        raise UsageError(f"leaderboard file not found: {p}")
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"not a JSON leaderboard: {exc}", file=str(p)) from None


def _group(doc: dict[str, Any], file: str, group: str | None) -> dict[str, Any]:
    """The ranking of one group of a ``rank --by`` file (``group`` names it; optional when there is one)."""
    groups = [g for g in doc["groups"] if isinstance(g, dict)]
    rated = [g for g in groups if isinstance(g.get("models"), list)]
    names = [str(g.get("value")) for g in rated]
    by = doc.get("by", "the --by column")
    if group is None:
        if len(rated) == 1:
            return rated[0]
        raise UsageError(
            f"{file} ranks each {by} separately; choose one with --group (one of: {', '.join(names) or 'none'})"
        )
    for g in groups:
        if str(g.get("value")) == group:
            if "models" not in g:
                raise DataError(f"{by} = {group} was not rated: {g.get('error', 'no models')}", file=file)
            return g
    raise UsageError(f"{file}: no {by} = {group!r}; the groups are: {', '.join(names) or 'none'}")


def _ours(doc: dict[str, Any], file: str, raw: bool = False) -> pd.DataFrame:
    prefix = "rating_raw" if raw else "rating"
    rank_key = "rank_raw" if raw else "rank"
    tables = [doc["models"]]
    if isinstance(doc.get("components"), list):  # every component's own table (the first is doc["models"])
        tables = [c.get("models") for c in doc["components"] if isinstance(c, dict)]
    rows = []
    for table in tables:
        if not isinstance(table, list):
            raise DataError("a component has no 'models' list", file=file)
        for i, m in enumerate(table):
            if not isinstance(m, dict) or not isinstance(m.get("model"), str):
                raise DataError("models entry has no 'model' name", file=file, record=i + 1)
            name = m["model"]
            if raw and prefix not in m:
                raise DataError(f"model {name!r} has no raw rating ({prefix})", file=file)
            rating = _number(m.get(prefix), file, name, prefix)
            row = {
                "model": name,
                "rating": rating,
                "rating_low": _number(m.get(f"{prefix}_low", rating), file, name, f"{prefix}_low"),
                "rating_high": _number(m.get(f"{prefix}_high", rating), file, name, f"{prefix}_high"),
                "rank": m.get(rank_key),
            }
            for key in GAIN_KEYS:
                row[key] = _optional(m.get(key))
            rows.append(row)
    board = pd.DataFrame(rows, columns=[*BOARD_COLUMNS, *GAIN_KEYS])
    if board["rank"].isna().any() or not len(board):
        board["rank"] = lmarena_ranks(board["rating_low"].to_numpy(), board["rating_high"].to_numpy())
    board["rank"] = board["rank"].astype(np.int64)
    return _sorted(board, file)


#: What our boards say about raw − controlled (read along, used by :func:`style_gain_board`).
GAIN_KEYS = ("style_gain", "style_gain_low", "style_gain_high")


def _optional(value: Any) -> float:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    return float(value) if ok else math.nan


def style_gain_board(path: str | Path, group: str | None = None) -> pd.DataFrame:
    """One of our boards as controlled (A) against raw (B): :func:`compare_leaderboards`'s table, whose
    ``delta`` is raw − controlled = ``style_gain``, with ``delta_low``/``delta_high`` from the file."""
    a = read_leaderboard(path, group=group)
    b = read_leaderboard(path, group=group, raw=True)
    table = compare_leaderboards(a, b)
    gain = a.set_index("model")
    table["delta_low"] = table["model"].map(gain["style_gain_low"])
    table["delta_high"] = table["model"].map(gain["style_gain_high"])
    return table


def _lmarena(doc: dict[str, Any], file: str, category: str) -> pd.DataFrame:
    if category not in doc:
        raise UsageError(f"{file}: no category {category!r}; this file has: {', '.join(sorted(doc))}")
    table = doc[category]
    rows = []
    for name, entry in table.items():
        if not isinstance(entry, dict):
            raise DataError(f"category {category!r}, model {name!r}: entry is not an object", file=file)
        rating = _number(entry.get("rating"), file, name, "rating")
        low = _number(entry.get("rating_q025", rating), file, name, "rating_q025")
        high = _number(entry.get("rating_q975", rating), file, name, "rating_q975")
        rows.append({"model": str(name), "rating": rating, "rating_low": low, "rating_high": high})
    board = pd.DataFrame(rows, columns=list(BOARD_COLUMNS[:4]))
    board["rank"] = lmarena_ranks(board["rating_low"].to_numpy(), board["rating_high"].to_numpy())
    return _sorted(board, file)


def _sorted(board: pd.DataFrame, file: str) -> pd.DataFrame:
    dup = board["model"][board["model"].duplicated()]
    if len(dup):
        raise DataError(f"model {dup.iloc[0]!r} appears twice", file=file)
    return board.sort_values(["rating", "model"], ascending=[False, True], kind="stable").reset_index(
        drop=True
    )


def compare_leaderboards(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    """Line up two boards: ratings, ranks, ``delta = rating_b - rating_a``, ``shift = rank_a - rank_b``.

    Models on both boards come first (ordered by board B), then models on one board only, flagged in
    ``present`` (``both``, ``a only``, ``b only``). Positive ``shift`` means the model moved up in B.
    """
    left = a[list(BOARD_COLUMNS)].add_suffix("_a").rename(columns={"model_a": "model"})
    right = b[list(BOARD_COLUMNS)].add_suffix("_b").rename(columns={"model_b": "model"})
    out = left.merge(right, on="model", how="outer", indicator=True)
    out["present"] = out.pop("_merge").map({"both": "both", "left_only": "a only", "right_only": "b only"})
    out["present"] = out["present"].astype(str)
    out["delta"] = out["rating_b"] - out["rating_a"]
    both = out["present"] == "both"
    out["shift"] = np.where(both, out["rank_a"] - out["rank_b"], np.nan)
    out["arrow"] = [
        shift_arrow(ra, rb) if ok else ""
        for ra, rb, ok in zip(out["rank_a"], out["rank_b"], both, strict=True)
    ]
    order = np.where(out["present"] == "both", 0, np.where(out["present"] == "b only", 1, 2))
    out = out.assign(_o=order, _r=out["rating_b"].fillna(-np.inf), _ra=out["rating_a"].fillna(-np.inf))
    out = out.sort_values(["_o", "_r", "_ra", "model"], ascending=[True, False, False, True], kind="stable")
    return out.drop(columns=["_o", "_r", "_ra"]).reset_index(drop=True)


def comparison_json(table: pd.DataFrame, a_name: str, b_name: str, category: str) -> dict[str, Any]:
    """The ``compare --json`` document (``delta_low``/``delta_high`` when the table has them: one of our
    boards against its own raw ratings, :func:`style_gain_board`)."""
    cols = ["model", "present", "rating_a", "rank_a", "rating_b", "rank_b", "delta", "shift"]
    cols += [c for c in ("delta_low", "delta_high") if c in table.columns]
    models = []
    for row in table[cols].itertuples(index=False):
        rec = {c: plain(v, digits=6) for c, v in zip(cols, row, strict=True)}
        for c in ("rank_a", "rank_b", "shift"):
            if rec[c] is not None:
                rec[c] = int(rec[c])
        models.append(rec)
    both = table[table["present"] == "both"]
    return {
        "a": a_name,
        "b": b_name,
        "category": category,
        "models": models,
        "summary": {
            "both": int(len(both)),
            "a_only": int((table["present"] == "a only").sum()),
            "b_only": int((table["present"] == "b only").sum()),
            "moved_up": int((both["shift"] > 0).sum()),
            "moved_down": int((both["shift"] < 0).sum()),
            "mean_abs_delta": None if not len(both) else round(float(both["delta"].abs().mean()), 6),
            # boards anchored differently differ by a constant: the median delta shows that offset
            "median_delta": None if not len(both) else round(float(both["delta"].median()), 6),
        },
    }


def to_lmarena_json(models: pd.DataFrame, category: str = "full", raw: bool = False) -> dict[str, Any]:
    """Our ``models`` table in LMArena's schema (``raw=True`` exports the uncontrolled ratings)."""
    prefix = "rating_raw" if raw else "rating"
    return {
        category: {
            str(r["model"]): {
                "rating": float(r[prefix]),
                "rating_q975": float(r[f"{prefix}_high"]),
                "rating_q025": float(r[f"{prefix}_low"]),
            }
            for _, r in models.iterrows()
        }
    }
