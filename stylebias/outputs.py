"""Values as they leave the library: plain Python for JSON documents, safe cells for CSV files, whole files.

Every ``--json`` document and every loader that reads cells of an in-memory table goes through
:func:`plain`, so one rule decides what a numpy integer, a NaN or a nested array becomes; every CSV the
library or the CLI writes goes through :func:`safe_cell`; a file is replaced whole (:func:`write_text`).
"""

from __future__ import annotations

import contextlib
import math
import os
from pathlib import Path
from typing import Any

import numpy as np


def plain(value: Any, *, digits: int | None = None, keep_nonfinite: bool = False) -> Any:
    """``value`` with numpy scalars, arrays and tuples turned into Python numbers and lists, recursively.

    Non-finite floats become ``None`` (JSON has no NaN) unless ``keep_nonfinite`` (cells a loader checks
    itself); ``digits`` rounds floats (the ``--json`` documents keep 6, far below any interval's width).
    """
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        f = float(value)
        if not math.isfinite(f):
            return f if keep_nonfinite else None
        return round(f, digits) if digits is not None else f
    if isinstance(value, np.ndarray | list | tuple):
        items = value.tolist() if isinstance(value, np.ndarray) else value
        return [plain(v, digits=digits, keep_nonfinite=keep_nonfinite) for v in items]
    if isinstance(value, dict):
        return {k: plain(v, digits=digits, keep_nonfinite=keep_nonfinite) for k, v in value.items()}
    if isinstance(value, np.generic):
        return value.item()
    return value


def records(df: Any, columns: Any, *, digits: int | None = 6) -> list[dict[str, Any]]:
    """The rows of ``df`` as dicts of plain values, for the columns of ``columns`` that ``df`` has."""
    cols = [c for c in columns if c in df.columns]
    return [
        {c: plain(v, digits=digits) for c, v in zip(cols, row, strict=True)}
        for row in df[cols].itertuples(index=False)
    ]


def write_text(path: str | os.PathLike[str], text: str, newline: str = "\n") -> Path:
    """Write ``text`` through a temporary file beside ``path``, renamed over it: a crash or a full disk
    never leaves half a file under the final name (the temporary file is removed). Returns the path."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8", newline=newline) as fh:
            fh.write(text)
        os.replace(tmp, out)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return out


_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """Neutralise spreadsheet formula injection: text cells starting with = + - @ get a leading quote."""
    if isinstance(value, str) and value.startswith(_FORMULA_PREFIXES):
        return "'" + value
    return value
