"""The canonical battle table, its validation, and the rejects ledger.

Every loader turns its source schema into this one table, so the rest of stylebias (features, rating,
explanations, reports) never looks at a source format again. Two promises hold for every load:

* one row of ``BattleSet.battles`` per accepted battle, with the columns in :data:`CORE_COLUMNS`;
* every input record ends up either accepted or in ``BattleSet.rejects`` with its file, record number and
  reason, and per file ``accepted + rejected == read`` (see :meth:`BattleSet.check_accounting`).

Multi-turn conversations keep every assistant turn the voter saw: turn texts are joined with
:data:`TURN_SEPARATOR` (a blank line), so line-based counts (headers, lists, bold) and token counts equal the
per-turn sums LMArena uses; ``turns`` records how many user turns there were.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .outputs import plain

#: Allowed values of ``winner``. LMArena's ``tie (bothbad)`` and the 140k release's ``both_bad`` map to
#: ``tie_bothbad``.
WINNERS: tuple[str, ...] = ("model_a", "model_b", "tie", "tie_bothbad")

#: Columns every battle table has, in this order. ``prompt``/``response_*`` are null in metadata-only data.
CORE_COLUMNS: tuple[str, ...] = (
    "battle_id",
    "model_a",
    "model_b",
    "prompt",
    "response_a",
    "response_b",
    "turns",
    "winner",
    "pref_a",
    "judge",
    "language",
    "source_file",
    "source_record",
)

#: Style metadata a source may carry (LMArena ``conv_metadata``), flattened to one number per side.
#: Dict-valued source fields (``header_count_a = {h1: .., h6: ..}``) are summed, as FastChat does.
META_COLUMNS: tuple[str, ...] = (
    "meta_tokens_a",
    "meta_tokens_b",
    "meta_header_count_a",
    "meta_header_count_b",
    "meta_list_count_a",
    "meta_list_count_b",
    "meta_bold_count_a",
    "meta_bold_count_b",
)

#: How assistant turns are joined into ``response_a``/``response_b`` (and user turns into ``prompt``).
TURN_SEPARATOR = "\n\n"

REJECT_COLUMNS: tuple[str, ...] = ("file", "record", "reason")
#: One row per input file in :attr:`BattleSet.sources`.
SOURCE_COLUMNS: tuple[str, ...] = ("file", "format", "read", "accepted", "rejected")

_THINK_RE = re.compile(r"<think>.*?(?:</think>|\Z)\s*", re.DOTALL | re.IGNORECASE)


def strip_hidden_reasoning(text: str) -> str:
    """Remove ``<think>…</think>`` blocks: hidden reasoning is not text the voter saw.

    An unclosed ``<think>`` hides everything after it (the model never finished thinking in view).
    """
    if "<think>" not in text.lower():
        return text
    return _THINK_RE.sub("", text).strip()


def winner_from_pref(pref_a: float) -> str:
    """The hard label that goes with a (possibly soft) share of the vote for A."""
    if pref_a > 0.5:
        return "model_a"
    if pref_a < 0.5:
        return "model_b"
    return "tie"


PREF_FROM_WINNER: dict[str, float] = {"model_a": 1.0, "model_b": 0.0, "tie": 0.5, "tie_bothbad": 0.5}


class Ledger:
    """Collects accepted rows and rejected records for one source file while a loader walks it.

    Loaders account for every input record exactly once, either one at a time (:meth:`accept`,
    :meth:`reject`) or in bulk for vectorised paths (:meth:`accept_frame`, :meth:`reject_many`). Accepted
    dict rows are flushed into DataFrame chunks every :attr:`flush_every` rows, so a million-row text-free
    file never holds a million Python dicts at once. :meth:`to_battleset` returns the file's
    :class:`BattleSet` with its one-row accounting.
    """

    flush_every = 20_000

    def __init__(self, file: str, fmt: str) -> None:
        self.file = file
        self.format = fmt
        self.rows: list[dict[str, Any]] = []
        self.rejects: list[dict[str, Any]] = []
        self.read = 0
        self._frames: list[pd.DataFrame] = []
        self._reject_frames: list[pd.DataFrame] = []
        self._accepted = 0
        self._rejected = 0

    @property
    def accepted(self) -> int:
        return self._accepted

    @property
    def rejected(self) -> int:
        return self._rejected

    def accept(self, record: int | str, row: dict[str, Any]) -> None:
        """Keep one battle; ``row`` holds canonical column values (missing ones become null)."""
        self.read += 1
        self._accepted += 1
        row.setdefault("source_file", self.file)
        row.setdefault("source_record", record)
        self.rows.append(row)
        if len(self.rows) >= self.flush_every:
            self._flush_rows()

    def reject(self, record: int | str, reason: str) -> None:
        """Record why one input record could not become a battle."""
        self.read += 1
        self._rejected += 1
        self.rejects.append({"file": self.file, "record": record, "reason": reason})

    def accept_frame(self, frame: pd.DataFrame, records: Sequence[int | str] | np.ndarray) -> None:
        """Keep many battles at once (vectorised loaders); ``records`` numbers them like :meth:`accept`."""
        if len(frame) != len(records):
            raise ValueError(f"accept_frame: {len(frame)} rows but {len(records)} record numbers")
        frame = frame.reset_index(drop=True)  # an empty frame is kept too: it carries the columns
        if "source_file" not in frame.columns:
            frame["source_file"] = self.file
        if "source_record" not in frame.columns:
            frame["source_record"] = np.asarray(records)
        self._flush_rows()
        self._frames.append(frame)
        self.read += len(frame)
        self._accepted += len(frame)

    def reject_many(self, records: Sequence[int | str] | np.ndarray, reasons: str | Sequence[str]) -> None:
        """Reject many records at once; ``reasons`` is one reason for all or one per record."""
        n = len(records)
        if not n:
            return
        if not isinstance(reasons, str) and len(reasons) != n:
            raise ValueError(f"reject_many: {n} records but {len(reasons)} reasons")
        self._reject_frames.append(
            pd.DataFrame(
                {
                    "file": pd.Series([self.file] * n, dtype=object),
                    "record": pd.Series(list(np.asarray(records).tolist()), dtype=object),
                    "reason": pd.Series(
                        [reasons] * n if isinstance(reasons, str) else list(reasons), dtype=object
                    ),
                }
            )
        )
        self.read += n
        self._rejected += n

    def _flush_rows(self) -> None:
        if self.rows:
            self._frames.append(pd.DataFrame.from_records(self.rows))
            self.rows = []

    def summary(self) -> dict[str, Any]:
        return dict(
            zip(
                SOURCE_COLUMNS,
                (self.file, self.format, self.read, self._accepted, self._rejected),
                strict=True,
            )
        )

    def to_battleset(self) -> BattleSet:
        """The file's battles (canonical columns and dtypes), rejects and one-row accounting."""
        self._flush_rows()
        if self._frames:
            frames = [f for f in self._frames if len(f)] or self._frames[:1]
            battles = normalize_battles(
                pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0], copy=False
            )
        else:
            battles = empty_battles()
        self._frames = []
        parts = list(self._reject_frames)
        if self.rejects:
            parts.append(pd.DataFrame(self.rejects, columns=list(REJECT_COLUMNS)).astype(object))
        rejects = pd.concat(parts, ignore_index=True) if parts else empty_rejects()
        return BattleSet(battles, rejects, pd.DataFrame([self.summary()]))


@dataclass
class BattleSet:
    """Battles accepted from one or more files, the records rejected, and the per-file accounting.

    Attributes:
        battles: one row per accepted battle (:data:`CORE_COLUMNS` first, then metadata/extra columns).
        rejects: one row per rejected record: ``file``, ``record`` (line or row number, 1-based, or an id)
            and ``reason``.
        sources: one row per input file: ``file``, ``format``, ``read``, ``accepted``, ``rejected``.
        unsupported: files that could not be read as battles at all (``file``, ``reason``); only filled
            when the loader was asked to list them instead of stopping (``validate``).
    """

    battles: pd.DataFrame
    rejects: pd.DataFrame = field(default_factory=lambda: empty_rejects())
    sources: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(SOURCE_COLUMNS)))
    unsupported: list[dict[str, str]] = field(default_factory=list)

    @property
    def read(self) -> int:
        return int(self.sources["read"].sum()) if len(self.sources) else len(self.battles) + len(self.rejects)

    @property
    def accepted(self) -> int:
        return len(self.battles)

    @property
    def rejected(self) -> int:
        return len(self.rejects)

    @property
    def has_text(self) -> bool:
        """True when every battle carries both response texts (not metadata-only)."""
        return bool(len(self.battles)) and bool(
            self.battles["response_a"].notna().all() and self.battles["response_b"].notna().all()
        )

    def accounting(self) -> dict[str, int]:
        """``{"read", "accepted", "rejected"}`` for the whole set (the ``data`` block of JSON outputs)."""
        return {"read": self.read, "accepted": self.accepted, "rejected": self.rejected}

    def check_accounting(self) -> None:
        """Raise if any file's counts do not add up: a silently lost row is a bug, never a feature."""
        for src in self.sources.itertuples(index=False):
            if src.accepted + src.rejected != src.read:
                raise AssertionError(
                    f"{src.file}: accepted {src.accepted} + rejected {src.rejected} != read {src.read}"
                )
        if len(self.sources):
            if int(self.sources["accepted"].sum()) != len(self.battles):
                raise AssertionError("accepted counts do not match the battle table")
            if int(self.sources["rejected"].sum()) != len(self.rejects):
                raise AssertionError("rejected counts do not match the rejects ledger")

    def reject_reasons(self) -> pd.DataFrame:
        """Count of rejected records per (file, reason), largest first."""
        if not len(self.rejects):
            return pd.DataFrame(columns=["file", "reason", "count"])
        # Group by the reason's first clause so "unknown winner label 'x'" variants collapse.
        kind = self.rejects["reason"].astype(str).str.split(":").str[0]
        out = (
            self.rejects.assign(reason=kind)
            .groupby(["file", "reason"], sort=False)
            .size()
            .reset_index(name="count")
            .sort_values("count", ascending=False, kind="stable")
        )
        return out.reset_index(drop=True)

    def nothing_usable(self, what: str = "no usable battles") -> str:
        """The error text when no battle is left: ``what``, the files, the counts and the top reject reasons."""
        top = "; ".join(
            f"{r.reason} ({r.count})" for r in self.reject_reasons().head(3).itertuples(index=False)
        )
        files = ", ".join(self.sources["file"].astype(str).tolist()[:3]) if len(self.sources) else "the input"
        counts = "all rejected" if self.rejected == self.read else f"{self.rejected:,} rejected"
        return f"{what} in {files}: {self.read:,} records read, {counts}" + (f" — {top}" if top else "")

    def validation_summary(self, examples: int = 3) -> dict[str, Any]:
        """Per-file counts and reject reasons with a few example records, as plain JSON-ready values.

        ``{"files": [{file, format, read, accepted, rejected}], "unsupported": [{file, reason}], "reasons":
        [{file, reason, count, examples: [{record, detail}]}], "data": {read, accepted, rejected}}``;
        reasons are grouped by the text before the first colon, largest first.
        """
        files = [
            {
                "file": str(r.file),
                "format": str(r.format),
                "read": int(r.read),
                "accepted": int(r.accepted),
                "rejected": int(r.rejected),
            }
            for r in self.sources.itertuples(index=False)
        ]
        reasons: list[dict[str, Any]] = []
        if len(self.rejects):
            rej = self.rejects.assign(kind=self.rejects["reason"].astype(str).str.split(":").str[0])
            for (file, kind), group in rej.groupby(["file", "kind"], sort=False):
                reasons.append(
                    {
                        "file": str(file),
                        "reason": str(kind),
                        "count": len(group),
                        "examples": [
                            {"record": plain(r.record), "detail": str(r.reason)}
                            for r in group.head(examples).itertuples(index=False)
                        ],
                    }
                )
            reasons.sort(key=lambda r: -r["count"])
        unsupported = [{"file": str(u["file"]), "reason": str(u["reason"])} for u in self.unsupported]
        return {"files": files, "unsupported": unsupported, "reasons": reasons, "data": self.accounting()}

    def select(self, mask: pd.Series | np.ndarray) -> BattleSet:
        """A view with a subset of battles; rejects and per-file accounting are kept as loaded.

        The result describes a filtered table, so :meth:`check_accounting` applies to the set as loaded,
        not to a selection.
        """
        return BattleSet(
            self.battles.loc[np.asarray(mask)].reset_index(drop=True),
            self.rejects,
            self.sources,
            self.unsupported,
        )

    @classmethod
    def concat(cls, parts: Iterable[BattleSet]) -> BattleSet:
        """One set from several (e.g. one per file): battles, rejects and accounting rows stacked."""
        parts = list(parts)
        if not parts:
            return cls(empty_battles())
        if len(parts) == 1:
            return parts[0]
        unsupported = [u for p in parts for u in p.unsupported]
        frames = [p.battles for p in parts if len(p.battles)]
        if not frames:
            battles = empty_battles()
        elif len(frames) == 1:
            battles = frames[0]
        else:
            battles = normalize_battles(pd.concat(frames, ignore_index=True), copy=False)
        reject_frames = [p.rejects for p in parts if len(p.rejects)]
        rejects = pd.concat(reject_frames, ignore_index=True) if reject_frames else empty_rejects()
        sources = [p.sources for p in parts if len(p.sources)]
        table = (
            pd.concat(sources, ignore_index=True) if sources else pd.DataFrame(columns=list(SOURCE_COLUMNS))
        )
        return cls(battles, rejects, table, unsupported)


def empty_rejects() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in REJECT_COLUMNS})


def empty_battles() -> pd.DataFrame:
    return normalize_battles(pd.DataFrame({c: [] for c in CORE_COLUMNS}))


#: Text-valued core columns: stored with pandas' string dtype (Arrow-backed, compact; nulls are NaN).
_STRING_COLUMNS = tuple(c for c in CORE_COLUMNS if c not in ("turns", "winner", "pref_a", "source_record"))


def normalize_battles(df: pd.DataFrame, *, copy: bool = True) -> pd.DataFrame:
    """Give a battle table its canonical column order and dtypes (core first, meta next, extras last).

    Vectorised (no per-row Python), because metadata-only arena files reach millions of rows: text columns
    become pandas' ``str`` dtype with nulls kept null, ``turns`` int32, ``pref_a`` and ``meta_*`` float64,
    ``winner`` a categorical over :data:`WINNERS`.
    """
    if copy:
        df = df.copy()
    for col in CORE_COLUMNS:
        if col not in df.columns:
            df[col] = None
    extras = [c for c in df.columns if c not in CORE_COLUMNS and c not in META_COLUMNS]
    metas = [c for c in META_COLUMNS if c in df.columns]
    order = list(CORE_COLUMNS) + metas + extras
    if list(df.columns) != order:
        df = df[order]
    ids = df["battle_id"]
    if pd.api.types.is_float_dtype(ids.dtype) and np.all(np.mod(ids.dropna().to_numpy(), 1) == 0):
        # integer ids that pandas turned into floats because of a null: "10", not "10.0"
        df["battle_id"] = ids.astype("Int64")
    for col in _STRING_COLUMNS:
        if df[col].dtype != "str":
            df[col] = df[col].astype("str")
    df["turns"] = pd.to_numeric(df["turns"], errors="coerce").fillna(1).astype("int32")
    df["pref_a"] = pd.to_numeric(df["pref_a"], errors="coerce").astype("float64")
    if not isinstance(df["winner"].dtype, pd.CategoricalDtype) or list(df["winner"].cat.categories) != list(
        WINNERS
    ):
        df["winner"] = pd.Categorical(df["winner"], categories=list(WINNERS))
    for col in metas:
        df[col] = pd.to_numeric(df[col], errors="coerce").astype("float64")
    return df.reset_index(drop=True)
