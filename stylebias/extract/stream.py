"""Write every response's style features to a file with a summary (``stylebias features``).

Rows carry ``battle_id``, ``side`` (a/b) and ``model``; texts stream through ``iter_response_features`` and
the file is written block by block, so memory stays bounded. Metadata-only battles give their ``meta_*``
counts as the ``lmarena`` features; ``pairs=True`` also writes the pair features the rating fit uses.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..battles import BattleSet
from ..errors import DataError, UsageError
from ..outputs import safe_cell
from .pairs import META_FEATURES, pair_features
from .registry import base_features, resolve_features
from .runner import iter_response_features

SUFFIXES = (".parquet", ".csv")
SIDES = ("a", "b")
#: per-response labels, tallied in the summary instead of averaged
LABELS = ("refusal", "script")


@dataclass
class FeatureFiles:
    """What :func:`write_features` wrote: files, counts, per-feature means and the label counts (refusal
    levels, scripts)."""

    data: dict[str, int]
    features: list[str]
    outputs: list[str]
    responses: int = 0
    battles: int = 0
    sums: dict[str, float] = field(default_factory=dict)
    #: responses where each numeric feature applied (not NaN: English measures of non-Latin prose are not)
    counts: dict[str, int] = field(default_factory=dict)
    refusal: dict[str, int] = field(default_factory=dict)
    scripts: dict[str, int] = field(default_factory=dict)

    def means(self) -> dict[str, float | None]:
        """Mean of every numeric feature over the responses it applied to (``None`` when there were none)."""
        return {n: (total / self.counts[n] if self.counts.get(n) else None) for n, total in self.sums.items()}

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` summary: ``{data, responses, battles, features, outputs, means, refusal}`` (and
        ``scripts`` when the script was asked for)."""
        out = {
            "data": self.data,
            "responses": self.responses,
            "battles": self.battles,
            "features": self.features,
            "outputs": self.outputs,
            "means": self.means(),
            "refusal": dict(sorted(self.refusal.items())),
        }
        if "script" in self.features:
            out["scripts"] = dict(sorted(self.scripts.items()))
        return out

    def add(self, rows: pd.DataFrame) -> None:
        """Count one written block into the means and label tallies."""
        self.responses += len(rows)
        for n in self.features:
            if n in LABELS:
                tally = self.refusal if n == "refusal" else self.scripts
                for k, v in rows[n].value_counts().items():
                    tally[str(k)] = tally.get(str(k), 0) + int(v)
            else:
                col = rows[n].astype("float64")
                self.sums[n] += float(col.sum())
                self.counts[n] = self.counts.get(n, 0) + int(col.notna().sum())


def pairs_path(out: Path) -> Path:
    """Where ``--pairs`` writes: ``<output>_pairs.<ext>`` beside the per-response file."""
    return out.with_name(f"{out.stem}_pairs{out.suffix}")


def write_features(
    data: BattleSet,
    output: str | Path,
    features: Any = "full",
    *,
    pairs: bool = False,
    jobs: int | None = None,
    cache: bool | str = True,
) -> FeatureFiles:
    """Write one row per response (and with ``pairs`` one per battle) of ``data``'s style features.

    Raises:
        UsageError: ``output`` is not ``.parquet`` or ``.csv``; an unknown feature name.
        DataError: no battles, or metadata-only battles asked for features only texts give.
    """
    output = Path(output)
    if output.suffix not in SUFFIXES:
        raise UsageError(f"--output must end in {' or '.join(SUFFIXES)}, got {output.name!r}")
    requested = resolve_features(features)
    names = base_features(
        requested
    )  # per response: a derived pair feature's inputs (registry.DERIVED_FEATURES)
    battles = data.battles
    if not len(battles):
        raise DataError("no battles to extract features from")
    has_text = (battles["response_a"].notna() & battles["response_b"].notna()).to_numpy()
    if not has_text.all() and any(n not in META_FEATURES for n in names):
        raise DataError(
            f"{int((~has_text).sum())} battle(s) have no response texts (metadata-only data); only "
            "--features lmarena can be read from their style metadata"
        )
    jobs = 0 if jobs is None else jobs
    summary = FeatureFiles(data.accounting(), names, [str(output)], battles=len(battles))
    summary.sums = dict.fromkeys((n for n in names if n not in LABELS), 0.0)
    with TableSink(output) as sink:
        for rows in text_rows(battles, has_text, names, jobs, cache):
            sink.write(rows)
            summary.add(rows)
        for rows in metadata_rows(battles.loc[~has_text], names):
            sink.write(rows)
            summary.add(rows)
    if pairs:
        z = pair_features(data, [n for n in requested if n != "script"], jobs=jobs, cache=cache)
        ids = battles[["battle_id", "model_a", "model_b", "winner", "pref_a"]].copy()
        ids["winner"] = ids["winner"].astype(object)
        path = pairs_path(output)
        with TableSink(path) as sink:
            sink.write(pd.concat([ids.reset_index(drop=True), z.reset_index(drop=True)], axis=1))
        summary.outputs.append(str(path))
    return summary


def text_rows(
    battles: pd.DataFrame, has_text: Any, names: list[str], jobs: int, cache: bool | str
) -> Iterator[pd.DataFrame]:
    """Blocks of per-response rows for the battles with texts (A then B for each battle, in order)."""
    text_idx = battles.index[has_text]

    def texts() -> Iterator[str]:
        for i in text_idx:
            yield battles.at[i, "response_a"]
            yield battles.at[i, "response_b"]

    def prompts() -> Iterator[str | None]:
        for i in text_idx:
            p = battles.at[i, "prompt"]
            yield p
            yield p

    blocks = iter_response_features(
        texts(), prompts(), features=names, jobs=jobs, cache=cache, total=2 * len(text_idx)
    )
    for block in blocks:
        rows = block.index.to_numpy()
        b_idx = text_idx[rows // 2]
        side = [SIDES[r % 2] for r in rows]
        ids = pd.DataFrame(
            {
                "battle_id": battles.loc[b_idx, "battle_id"].to_numpy(),
                "side": side,
                "model": [battles.at[i, f"model_{s}"] for i, s in zip(b_idx, side, strict=True)],
            }
        )
        yield pd.concat([ids, block.reset_index(drop=True)], axis=1)


def metadata_rows(meta: pd.DataFrame, names: list[str]) -> Iterator[pd.DataFrame]:
    """Per-response rows of metadata-only battles: all A sides, then all B sides, from ``meta_*``."""
    if not len(meta):
        return
    for s in SIDES:
        yield pd.DataFrame(
            {
                "battle_id": meta["battle_id"].to_numpy(),
                "side": s,
                "model": meta[f"model_{s}"].to_numpy(),
                **{n: meta[f"meta_{n}_{s}"].to_numpy(dtype="float64") for n in names},
            }
        )


class TableSink:
    """An incremental table writer for .parquet or .csv (text cells neutralised against formula injection)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.parquet: Any = None
        self.csv: Any = None if path.suffix == ".parquet" else open(path, "w", encoding="utf-8", newline="")  # noqa: SIM115
        self.header = True

    def __enter__(self) -> TableSink:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.parquet is not None:
            self.parquet.close()
        if self.csv is not None:
            self.csv.close()

    def write(self, df: pd.DataFrame) -> None:
        if self.csv is None:
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.Table.from_pandas(df, preserve_index=False)
            if self.parquet is None:
                self.parquet = pq.ParquetWriter(str(self.path), table.schema)
            self.parquet.write_table(table)
            return
        df = df.copy()
        for col in df.columns:
            # text columns are pandas' Arrow-backed "str" dtype, not object: neutralise both (numbers stay numbers)
            if df[col].dtype == object or pd.api.types.is_string_dtype(df[col].dtype):
                df[col] = df[col].map(safe_cell)
        df.to_csv(self.csv, index=False, header=self.header)
        self.header = False
