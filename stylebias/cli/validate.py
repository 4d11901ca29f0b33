"""``stylebias validate``: load battle files and show what was read, accepted and rejected, and why.

Exit codes: 0 when the data loads, 3 when more than ``--max-rejected`` of the records are rejected (said
first), 2 when nothing is usable or a file cannot be read, 1 for usage errors.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from ..battles import SOURCE_COLUMNS
from ..errors import DataError
from . import app
from . import options as opt
from .common import console, finish, progress_bars, show_problems, shown_warnings, write_csv, write_outputs


@app.command("validate")
def validate(
    paths: opt.PathsArg = None,
    fmt: opt.FormatOpt = None,
    column: opt.ColumnOpt = None,
    label: opt.LabelOpt = None,
    answers: opt.AnswersOpt = None,
    json_out: opt.JsonOpt = None,
    rejects_out: Annotated[
        Path | None,
        typer.Option(
            "--rejects",
            help="Write every rejected record (file, record, reason) to this CSV.",
            show_default=False,
        ),
    ] = None,
    csv_out: opt.CsvOpt = None,
    examples: Annotated[int, typer.Option("--examples", help="Example records shown per reason.", min=0)] = 3,
    max_record_bytes: opt.MaxRecordOpt = opt.DEFAULT_MAX_RECORD_BYTES,
    max_rejected: opt.MaxRejectedOpt = opt.MAX_REJECTED_SHARE,
    quiet: opt.QuietOpt = False,
) -> None:
    """Check battle files: per-file read / accepted / rejected counts and the reasons for every reject.

    Run it before ranking new data: every record is either accepted or listed with its file, record
    number (1-based line, array element or data row) and reason, and the counts add up per file.

        stylebias validate battles.jsonl --rejects rejects.csv
    """
    from ..formats import load_battles
    from ..rating.checks import rejected_problem

    with shown_warnings(quiet), progress_bars(quiet):
        data = load_battles(
            paths or None,
            format=fmt,
            max_record_bytes=max_record_bytes,
            allow_empty=True,
            list_unsupported=True,
            **opt.layout_options(column, label, answers),
        )
    rejected = rejected_problem(data, max_rejected) if data.accepted else None
    problems = [] if rejected is None else [rejected]
    show_problems(problems)
    summary = {"problems": [p.to_json() for p in problems], **data.validation_summary(examples=examples)}
    cols = list(SOURCE_COLUMNS)
    write_outputs(
        json_out, lambda: summary, csv_out, lambda: (cols, [[f[c] for c in cols] for f in summary["files"]])
    )
    if rejects_out is not None:
        write_csv(
            rejects_out,
            ["file", "record", "reason"],
            data.rejects[["file", "record", "reason"]].itertuples(index=False, name=None),  # type: ignore[arg-type]
        )
    if not quiet:
        _print(summary, bool(problems))
    if data.unsupported:
        shown = "; ".join(f"{u['file']} ({u['reason']})" for u in data.unsupported[:3])
        more = f"; and {len(data.unsupported) - 3} more" if len(data.unsupported) > 3 else ""
        raise DataError(
            f"{len(data.unsupported)} of {len(data.unsupported) + len(data.sources)} file(s) could not be read "
            f"as battles: {shown}{more}. Other commands stop at the first; name the format with --format, map "
            "a table with --column, or leave those files out"
        )
    if not data.accepted:
        raise DataError(data.nothing_usable())
    finish(problems)


def _print(summary: dict, degenerate: bool = False) -> None:
    files = Table(title="Battle files", title_justify="left")
    for name, justify in (
        ("file", "left"),
        ("format", "left"),
        ("read", "right"),
        ("accepted", "right"),
        ("rejected", "right"),
    ):
        files.add_column(name, justify=justify)  # type: ignore[arg-type]
    for f in summary["files"]:
        files.add_row(
            escape(f["file"]),
            f["format"],
            f"{f['read']:,}",
            f"{f['accepted']:,}",
            f"[red]{f['rejected']:,}[/]" if f["rejected"] else "0",
        )
    for u in summary["unsupported"]:
        files.add_row(escape(u["file"]), "[red]unsupported[/]", "", "", "")
    d = summary["data"]
    if len(summary["files"]) + len(summary["unsupported"]) > 1:
        files.add_section()
        files.add_row("[b]total[/]", "", f"{d['read']:,}", f"{d['accepted']:,}", f"{d['rejected']:,}")
    console.print(files)
    if summary["unsupported"]:
        bad = Table(title="Files not read as battles", title_justify="left")
        bad.add_column("file")
        bad.add_column("reason")
        for u in summary["unsupported"]:
            bad.add_row(escape(u["file"]), escape(u["reason"]))
        console.print(bad)
    if summary["reasons"]:
        reasons = Table(title="Reject reasons", title_justify="left")
        reasons.add_column("reason")
        reasons.add_column("count", justify="right")
        reasons.add_column("file")
        reasons.add_column("examples (record: detail)")
        for r in summary["reasons"]:
            shown = "\n".join(escape(f"{e['record']}: {e['detail']}") for e in r["examples"])
            reasons.add_row(escape(r["reason"]), f"{r['count']:,}", escape(r["file"]), shown)
        console.print(reasons)
    status = "[green]ok[/]" if d["accepted"] else "[red]nothing usable[/]"
    if d["accepted"] and degenerate:
        status = "[red]too many rejected[/]"
    if summary["unsupported"]:
        status = f"[red]{len(summary['unsupported'])} file(s) unsupported[/]; readable files"
    console.print(
        f"{status}: {d['read']:,} records read = {d['accepted']:,} accepted + {d['rejected']:,} rejected",
        highlight=False,
    )
