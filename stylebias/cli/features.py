"""``stylebias features``: extract style features for every response (and every battle with ``--pairs``).

Per-response rows carry ``battle_id``, ``side`` (a/b) and ``model``; the extraction streams in blocks, so the
output file is written block by block and memory stays bounded.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from ..errors import DataError, UsageError
from . import app
from .common import console, err_console, progress_bars, safe_cell, shown_warnings, write_json
from .options import (
    DEFAULT_MAX_RECORD_BYTES,
    AnswersOpt,
    ColumnOpt,
    FormatOpt,
    LabelOpt,
    MaxRecordOpt,
    PathsArg,
    load_input,
)

_SUFFIXES = (".parquet", ".csv")


def _writer(path: Path) -> Any:
    """An incremental table writer for .parquet or .csv (text cells neutralised against formula injection)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".parquet":
        return _ParquetSink(path)
    return _CsvSink(path)


class _ParquetSink:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.writer: Any = None

    def write(self, df: Any) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pandas(df, preserve_index=False)
        if self.writer is None:
            self.writer = pq.ParquetWriter(str(self.path), table.schema)
        self.writer.write_table(table)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


class _CsvSink:
    def __init__(self, path: Path) -> None:
        self.fh = open(path, "w", encoding="utf-8", newline="")
        self.header = True

    def write(self, df: Any) -> None:
        import pandas as pd

        df = df.copy()
        for col in df.columns:
            # text columns are pandas' Arrow-backed "str" dtype, not object: neutralise both (numbers stay numbers)
            if df[col].dtype == object or pd.api.types.is_string_dtype(df[col].dtype):
                df[col] = df[col].map(safe_cell)
        df.to_csv(self.fh, index=False, header=self.header)
        self.header = False

    def close(self) -> None:
        self.fh.close()


def _pairs_path(out: Path) -> Path:
    return out.with_name(f"{out.stem}_pairs{out.suffix}")


@app.command("features")
def features(
    paths: PathsArg = None,
    output: Annotated[
        Path,
        typer.Option("--output", "-o", help="Per-response features (.parquet or .csv).", show_default=False),
    ] = Path("features.parquet"),
    feature_spec: Annotated[
        str,
        typer.Option(
            "--features",
            help=(
                "lmarena (tokens, headers, lists, bold), style (one feature per concept), full (all 21), a "
                "family (verbosity, structure, emoji, flattery, refusal, tone), or a comma list."
            ),
        ),
    ] = "full",
    pairs: Annotated[
        bool,
        typer.Option("--pairs", help="Also write battle-level pair features to <output>_pairs.<ext>."),
    ] = False,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Worker processes (0 = all cores).", min=0)] = 0,
    no_cache: Annotated[
        bool,
        typer.Option("--no-cache", help="Do not read or write the feature cache ($STYLEBIAS_CACHE_DIR)."),
    ] = False,
    json_out: Annotated[
        Path | None,
        typer.Option(
            "--json",
            help="Write a summary {data, responses, battles, outputs, means, refusal} as JSON ('-' = stdout).",
            show_default=False,
        ),
    ] = None,
    fmt: FormatOpt = None,
    column: ColumnOpt = None,
    label: LabelOpt = None,
    answers: AnswersOpt = None,
    max_record_bytes: MaxRecordOpt = DEFAULT_MAX_RECORD_BYTES,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress bars, warnings or tables.")
    ] = False,
) -> None:
    """Extract style features (length, markdown, emoji, flattery, refusal, tone) from battle files.

    Writes one row per response (battle_id, side, model, features) as Parquet or CSV, and with --pairs the
    battle-level pair features the rating fit uses. Feature definitions: features/README.md.

        stylebias features battles.jsonl -o feats.parquet --features style --pairs
    """
    import pandas as pd

    from ..extract import iter_response_features, pair_features, resolve_features
    from ..extract.pairs import META_FEATURES

    if output.suffix not in _SUFFIXES:
        raise UsageError(f"--output must end in {' or '.join(_SUFFIXES)}, got {output.name!r}")
    names = resolve_features(feature_spec)
    data = load_input(paths, fmt, column, max_record_bytes, quiet, labels=label, answers=answers)
    battles = data.battles
    if not len(battles):
        raise DataError("no battles to extract features from")
    has_text = battles["response_a"].notna() & battles["response_b"].notna()
    if not has_text.all() and any(n not in META_FEATURES for n in names):
        raise DataError(
            f"{int((~has_text).sum())} battle(s) have no response texts (metadata-only data); only "
            "--features lmarena can be read from their style metadata"
        )
    cache: bool = not no_cache
    t0 = time.perf_counter()
    n_resp = 0
    means: dict[str, list[float]] = {n: [] for n in names if n != "refusal"}
    refusal_counts: dict[str, int] = {}
    with shown_warnings(quiet), progress_bars(quiet):
        sink = _writer(output)
        try:
            text_idx = battles.index[has_text.to_numpy()]
            meta = battles.loc[~has_text.to_numpy()]

            def texts() -> Iterator[str]:
                for i in text_idx:
                    yield battles.at[i, "response_a"]
                    yield battles.at[i, "response_b"]

            def prompts() -> Iterator[str | None]:
                for i in text_idx:
                    p = battles.at[i, "prompt"]
                    yield p
                    yield p

            sides = ("a", "b")
            for block in iter_response_features(
                texts(), prompts(), features=names, jobs=jobs, cache=cache, total=2 * len(text_idx)
            ):
                rows = block.index.to_numpy()
                b_idx = text_idx[rows // 2]
                side = [sides[r % 2] for r in rows]
                ids = pd.DataFrame(
                    {
                        "battle_id": battles.loc[b_idx, "battle_id"].to_numpy(),
                        "side": side,
                        "model": [battles.at[i, f"model_{s}"] for i, s in zip(b_idx, side, strict=True)],
                    }
                )
                out = pd.concat([ids, block.reset_index(drop=True)], axis=1)
                sink.write(out)
                n_resp += len(out)
                _accumulate(out, names, means, refusal_counts)
            if len(meta):
                for s in sides:
                    part = pd.DataFrame(
                        {
                            "battle_id": meta["battle_id"].to_numpy(),
                            "side": s,
                            "model": meta[f"model_{s}"].to_numpy(),
                            **{n: meta[f"meta_{n}_{s}"].to_numpy(dtype="float64") for n in names},
                        }
                    )
                    sink.write(part)
                    n_resp += len(part)
                    _accumulate(part, names, means, refusal_counts)
        finally:
            sink.close()
        pair_path = None
        if pairs:
            z = pair_features(data, names, jobs=jobs, cache=cache)
            ids = battles[["battle_id", "model_a", "model_b", "winner", "pref_a"]].copy()
            ids["winner"] = ids["winner"].astype(object)
            pair_path = _pairs_path(output)
            psink = _writer(pair_path)
            try:
                psink.write(pd.concat([ids.reset_index(drop=True), z.reset_index(drop=True)], axis=1))
            finally:
                psink.close()
    dt = time.perf_counter() - t0
    if json_out is not None:
        write_json(
            json_out,
            {
                "data": data.accounting(),
                "responses": n_resp,
                "battles": len(battles),
                "features": names,
                "outputs": [str(output)] + ([str(pair_path)] if pair_path else []),
                "means": {
                    n: (sum(p[0::2]) / sum(p[1::2]) if sum(p[1::2]) else None) for n, p in means.items()
                },
                "refusal": dict(sorted(refusal_counts.items())),
            },
        )
    if not quiet:
        _print(output, pair_path, n_resp, len(battles), dt, means, refusal_counts)


def _accumulate(df: Any, names: list[str], means: dict[str, list[float]], refusal: dict[str, int]) -> None:
    for n in names:
        if n == "refusal":
            for k, v in df[n].value_counts().items():
                refusal[str(k)] = refusal.get(str(k), 0) + int(v)
        else:
            col = df[n].astype("float64")
            means[n].append(float(col.sum()))
            means[n].append(float(len(col)))


def _print(
    output: Path,
    pair_path: Path | None,
    n_resp: int,
    n_battles: int,
    dt: float,
    sums: dict[str, list[float]],
    refusal: dict[str, int],
) -> None:
    table = Table(
        title=f"Style features of {n_resp:,} responses ({n_battles:,} battles)", title_justify="left"
    )
    table.add_column("feature")
    table.add_column("mean", justify="right")
    for n, parts in sums.items():
        total, count = sum(parts[0::2]), sum(parts[1::2])
        table.add_row(n, f"{total / count:,.3f}" if count else "-")
    if refusal:
        table.add_row("refusal", ", ".join(f"{k} {v:,}" for k, v in sorted(refusal.items())))
    console.print(table)
    err_console.print(f"wrote {output}" + (f" and {pair_path}" if pair_path else "") + f" in {dt:.1f}s")
