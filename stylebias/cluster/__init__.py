"""Beyond one machine: style features and style-controlled ratings computed on a Dask cluster.

:func:`extract_features` and :func:`rank_files` take the same inputs as ``load_battles`` plus ``dask``
(a scheduler address, ``"local"`` / ``"local:N"`` for worker processes on this machine, or a
``distributed.Client``). Each input file is a partition, loaded by the usual loader on a worker; battles
never travel to the client. Extraction writes one Parquet part per file; ranking fits Bradley-Terry + style
with :func:`stylebias.rating.partitioned.fit_partitions` (every sum over battles made on the workers), whose
ratings, intervals and bootstrap replicates equal the in-memory fit's (docs/distributed.md).

Needs the ``dask`` extra: ``pip install 'stylebias[dask]'``.
"""

from __future__ import annotations

import operator
import os
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..extract import resolve_features, resolve_spec
from ..extract.stream import LABELS, FeatureFiles, pairs_path
from ..rating.partitioned import fit_partitions
from ..rating.result import RankResult, describe_settings
from ..rating.settings import FitSettings
from .engine import DaskEngine, connect, gathered, parse_address, run_all
from .files import (
    FilePartition,
    LoadOptions,
    PartitionLedger,
    design_partition,
    extract_partition,
    file_partitions,
    no_battles,
    reemit,
)

__all__ = [
    "DaskEngine",
    "FilePartition",
    "LoadOptions",
    "PartitionLedger",
    "connect",
    "extract_features",
    "parse_address",
    "rank_files",
]


def _output_dirs(output: str | os.PathLike[str], pairs: bool) -> tuple[Path, Path | None]:
    out = Path(output)
    if out.suffix in (".parquet", ".csv"):
        raise UsageError(
            f"with --dask, --output is a directory of Parquet parts (one per input file), got {out.name!r}"
        )
    if out.exists() and not out.is_dir():
        raise UsageError(f"--output {out} exists and is not a directory")
    dirs = [out] + ([pairs_path(out)] if pairs else [])
    for d in dirs:
        d.mkdir(parents=True, exist_ok=True)
        for old in d.glob("part-*.parquet"):  # a previous run's parts: never mixed with this run's
            old.unlink()
    return out, dirs[1] if pairs else None


def extract_features(
    paths: Any,
    output: str | os.PathLike[str],
    features: Any = "full",
    *,
    dask: Any,
    pairs: bool = False,
    cache: bool | str = True,
    options: LoadOptions | None = None,
) -> tuple[FeatureFiles, PartitionLedger]:
    """Style features of every response (and with ``pairs`` every battle) in ``paths``, on the cluster.

    Writes ``output/part-NNNNN.parquet`` per input file (``output_pairs/`` for pair features), each equal
    to what ``stylebias features`` writes for that file alone; concatenated in part order they are the
    single-process output. Returns the summary (as :func:`~stylebias.extract.stream.write_features`) and
    the ledger of every input record.
    """
    names = resolve_features(features)
    parts = file_partitions(paths)
    out, pairs_dir = _output_dirs(output, pairs)
    options = options or LoadOptions()
    calls = [
        (p, i, str(out), None if pairs_dir is None else str(pairs_dir), names, cache, options)
        for i, p in enumerate(parts)
    ]
    with connect(dask) as client:
        reports = run_all(
            client, extract_partition, calls, f"extracting style features of {len(parts)} files"
        )
    ledger = PartitionLedger.of(reports)
    reemit(reports)
    ledger.check(sum(r.rows for r in reports))
    if not ledger.accepted:
        raise no_battles(ledger, "no battles to extract features from")
    summary = FeatureFiles(ledger.accounting(), names, [str(out)] + ([str(pairs_dir)] if pairs_dir else []))
    summary.sums = dict.fromkeys((n for n in names if n not in LABELS), 0.0)
    for r in reports:
        done = r.extracted
        if not done.get("outputs"):
            continue
        summary.responses += done["responses"]
        summary.battles += done["battles"]
        for n, v in done["sums"].items():
            summary.sums[n] += v
        for n, v in done["counts"].items():
            summary.counts[n] = summary.counts.get(n, 0) + v
        for tally, part in ((summary.refusal, done["refusal"]), (summary.scripts, done["scripts"])):
            for k, v in part.items():
                tally[k] = tally.get(k, 0) + v
    return summary, ledger


def rank_files(
    paths: Any,
    *,
    dask: Any,
    settings: FitSettings | None = None,
    winrate_vs: str | None = None,
    options: LoadOptions | None = None,
) -> tuple[RankResult, PartitionLedger]:
    """Raw and style-controlled ratings of the battles in ``paths``, fitted on the cluster.

    Each worker loads its files and computes their pair features once (kept in worker memory between
    passes); the fit is :func:`~stylebias.rating.partitioned.fit_partitions`. ``settings.features="auto"``
    means what it means in one process: ``style`` when every battle has texts, else ``lmarena``.
    """
    settings = (settings or FitSettings()).check()
    parts = file_partitions(paths)
    options = options or LoadOptions()
    request = settings.features
    with connect(dask) as client:
        designed = [
            client.submit(
                design_partition, p, request, options, settings.cache, None, settings.weights, pure=False
            )
            for p in parts
        ]
        chunks = [client.submit(operator.getitem, f, 0, pure=False) for f in designed]
        report_futures = [client.submit(operator.getitem, f, 1, pure=False) for f in designed]
        reports = gathered(client, report_futures, f"loading {len(parts)} files")
        del designed, report_futures
        ledger = PartitionLedger.of(reports)
        ledger.check(sum(r.rows for r in reports))
        held = [i for i, r in enumerate(reports) if r.rows]
        if not held:
            raise no_battles(ledger, "no battles to rank")
        has_text = all(reports[i].has_text for i in held)
        names, named = resolve_spec(request, has_text)
        for i in held:
            if reports[i].features != names:  # "auto" read differently from this file alone: redo it
                again = client.submit(
                    design_partition,
                    parts[i],
                    request,
                    options,
                    settings.cache,
                    has_text,
                    settings.weights,
                    pure=False,
                )
                chunks[i] = client.submit(operator.getitem, again, 0, pure=False)
        reemit(reports)
        engine = DaskEngine(client, [chunks[i] for i in held])
        result = fit_partitions(
            engine,
            names,
            settings,
            data=ledger.accounting(),
            describe=describe_settings(settings, names, named),
            winrate_vs=winrate_vs,
        )
    return result, ledger
