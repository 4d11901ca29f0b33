"""Battle files as partitions: what a worker does with one file, as plain functions.

A partition is one file of the expanded input (:func:`stylebias.formats.expand_paths`), read by the same
loader as in one process (:func:`stylebias.formats.load_file`), so its battles, rejects and record numbers
are the ones ``load_battles`` gives it. A worker either extracts the file's style features into its own
Parquet part (:func:`extract_partition`, through :func:`stylebias.extract.stream.write_features`) or turns
it into a fit chunk (:func:`design_partition`: model names, vote share, raw pair features). Either way it
sends back a :class:`Report`: the file's accounting row, its rejects and the warnings it raised, so the
client can show one ledger in which every input record is a battle or a reject.

Feature cache: each worker uses the cache folder of its own machine (``$STYLEBIAS_CACHE_DIR`` there, or
the given folder), since SQLite must not live on a network file system; values are keyed by content, so
a hit never changes a value. See docs/distributed.md.
"""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..battles import BattleSet, empty_battles, empty_rejects
from ..errors import DataError, StyleBiasWarning
from ..extract import pair_features, resolve_spec
from ..extract.stream import pairs_path, write_features
from ..formats import DEFAULT_MAX_RECORD_BYTES, expand_paths, load_file
from ..rating.chunks import WEIGHT
from ..rating.pipeline import battle_weights, check_finite
from ..rating.settings import FitSettings

#: One file's part of a partitioned output directory.
PART_NAME = "part-{:05d}.parquet"


@dataclass(frozen=True)
class FilePartition:
    """One input file: the name battles and rejects carry, where it is, and whether a file that holds no
    battles is skipped with a warning (a dataset's other files, a benchmark's single-answer grades)."""

    display: str
    path: str
    skip_unknown: bool = False


@dataclass(frozen=True)
class LoadOptions:
    """The ``load_battles`` options every partition is read with (``--format``, ``--column``, ...)."""

    format: str | None = None
    columns: dict[str, str] | None = None
    constants: dict[str, str] | None = None
    labels: dict[str, dict[str, str]] | None = None
    answers: str | None = None
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES

    def load(self, part: FilePartition) -> BattleSet | None:
        return load_file(
            part.display,
            part.path,
            self.format,
            skip_unknown=part.skip_unknown,
            columns=self.columns,
            constants=self.constants,
            labels=self.labels,
            answers=self.answers,
            max_record_bytes=self.max_record_bytes,
        )


def file_partitions(paths: Any) -> list[FilePartition]:
    """The partitions behind files, directories and globs, in the order ``load_battles`` reads them."""
    if paths is None or (not isinstance(paths, str | os.PathLike) and len(paths) == 0):
        from ..errors import UsageError

        raise UsageError("--dask needs battle files (the embedded demo is not partitioned)")
    return [FilePartition(d, os.fspath(p), skip) for d, p, skip in expand_paths(paths)]


@dataclass
class Report:
    """What a partition sends back besides its output: its accounting row(s), rejects and warnings."""

    sources: pd.DataFrame
    rejects: pd.DataFrame
    warnings: list[str]
    rows: int = 0
    has_text: bool = False
    features: list[str] = field(default_factory=list)
    feature_set: str | None = None
    extracted: dict[str, Any] = field(default_factory=dict)


@contextlib.contextmanager
def collected() -> Iterator[list[warnings.WarningMessage]]:
    """Record the warnings raised here (a worker's warnings go nowhere otherwise)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", StyleBiasWarning)
        yield caught


def _report(data: BattleSet | None, caught: list[warnings.WarningMessage], **extra: Any) -> Report:
    messages = [str(w.message) for w in caught if issubclass(w.category, StyleBiasWarning)]
    if data is None:
        return Report(pd.DataFrame(), empty_rejects(), messages, **extra)
    return Report(data.sources, data.rejects, messages, **extra)


def extract_partition(
    part: FilePartition,
    number: int,
    out_dir: str,
    pairs_dir: str | None,
    features: list[str],
    cache: bool | str,
    options: LoadOptions,
) -> Report:
    """Extract one file's style features into ``out_dir/part-NNNNN.parquet`` (and its pair features into
    ``pairs_dir``), exactly as ``stylebias features`` writes one file; a file with no battle writes none."""
    with collected() as caught:
        data = options.load(part)
        if data is None or not data.accepted:
            return _report(data, caught, extracted={"outputs": []})
        out = Path(out_dir) / PART_NAME.format(number)
        written = write_features(data, out, features, pairs=pairs_dir is not None, jobs=1, cache=cache)
        outputs = [str(out)]
        if pairs_dir is not None:
            target = Path(pairs_dir) / out.name
            os.replace(pairs_path(out), target)
            outputs.append(str(target))
    extracted = {
        "outputs": outputs,
        "responses": written.responses,
        "battles": written.battles,
        "sums": written.sums,
        "counts": written.counts,
        "refusal": written.refusal,
        "scripts": written.scripts,
    }
    return _report(data, caught, rows=len(data.battles), extracted=extracted)


def design_partition(
    part: FilePartition,
    request: Any,
    options: LoadOptions,
    cache: bool | str,
    has_text: bool | None = None,
    weights: bool = True,
) -> tuple[pd.DataFrame, Report]:
    """One file as a fit chunk: ``model_a``, ``model_b`` (categorical), ``pref_a``, the battles' ``weight``
    column as frequency weights (when ``weights`` and the file has one, checked as in one process) and the
    raw pair features the request means (``"auto"`` is decided from this file's texts unless ``has_text``
    says what all files have), every value checked finite with the file and record named."""
    with collected() as caught:
        data = options.load(part)
        battles = empty_battles() if data is None else data.battles
        local_text = bool(len(battles)) and data is not None and data.has_text
        names, named = resolve_spec(request, local_text if has_text is None else has_text)
        X = None
        if names and len(battles):
            X = pair_features(battles, names, jobs=1, cache=cache).reset_index(drop=True)
            check_finite(X, battles)
        chunk = pd.DataFrame(
            {
                "model_a": pd.Categorical(battles["model_a"].astype(object)),
                "model_b": pd.Categorical(battles["model_b"].astype(object)),
                "pref_a": battles["pref_a"].to_numpy(dtype=np.float64),
            }
        )
        w = battle_weights(battles, FitSettings(weights=weights)) if len(battles) else None
        if w is not None:
            chunk[WEIGHT] = w
        for j, name in enumerate(names):
            chunk[name] = X.iloc[:, j].to_numpy(dtype=np.float64) if X is not None else np.zeros(0)
    report = _report(data, caught, rows=len(chunk), has_text=local_text, features=names, feature_set=named)
    return chunk, report


@dataclass
class PartitionLedger:
    """Every partition's accounting and rejects on the client: the ledger of a load that never happened
    in one place. Per file, accepted + rejected = read; over all files, accepted = the battles the
    partitions hold and rejected = the rejects listed."""

    sources: pd.DataFrame
    rejects: pd.DataFrame

    @classmethod
    def of(cls, reports: list[Report]) -> PartitionLedger:
        sources = [r.sources for r in reports if len(r.sources)]
        rejects = [r.rejects for r in reports if len(r.rejects)]
        return cls(
            pd.concat(sources, ignore_index=True) if sources else pd.DataFrame(columns=["read", "accepted"]),
            pd.concat(rejects, ignore_index=True) if rejects else empty_rejects(),
        )

    def _set(self) -> BattleSet:
        return BattleSet(empty_battles(), self.rejects, self.sources)

    @property
    def read(self) -> int:
        return int(self.sources["read"].sum()) if len(self.sources) else 0

    @property
    def accepted(self) -> int:
        return int(self.sources["accepted"].sum()) if len(self.sources) else 0

    @property
    def rejected(self) -> int:
        return len(self.rejects)

    def accounting(self) -> dict[str, int]:
        return {"read": self.read, "accepted": self.accepted, "rejected": self.rejected}

    def reject_reasons(self) -> pd.DataFrame:
        return self._set().reject_reasons()

    def nothing_usable(self, what: str = "no usable battles") -> str:
        return self._set().nothing_usable(what)

    def check(self, rows: int) -> None:
        """Raise if the partitions' counts do not add up (a lost row is a bug, never a feature)."""
        for src in self.sources.itertuples(index=False):
            if src.accepted + src.rejected != src.read:
                raise AssertionError(f"{src.file}: accepted {src.accepted} + rejected {src.rejected} != read")
        if self.accepted != rows:
            raise AssertionError(f"files accepted {self.accepted:,} battles but the partitions hold {rows:,}")
        if len(self.sources) and int(self.sources["rejected"].sum()) != self.rejected:
            raise AssertionError("rejected counts do not match the rejects ledger")


def reemit(reports: list[Report]) -> None:
    """Raise the partitions' warnings here, each distinct message once."""
    for message in dict.fromkeys(m for r in reports for m in r.warnings):
        warnings.warn(message, StyleBiasWarning, stacklevel=3)


def no_battles(ledger: PartitionLedger, what: str) -> DataError:
    return DataError(ledger.nothing_usable(what))
