"""Shared pieces of the command line: the console, progress bars, output files, exit codes.

The CLI only parses options, calls the library and prints; everything it prints comes from library
objects. Exit codes: 0 ok, 1 usage error, 2 data error, 3 degenerate result (printed first: too many records
rejected, every rating equal, or a part that could not be fitted; the outputs are still written).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import sys
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from ..outputs import safe_cell, write_text
from ..progress import use_reporter

EXIT_OK, EXIT_USAGE, EXIT_DATA, EXIT_DEGENERATE = 0, 1, 2, 3

#: Width of the tables when no terminal is attached at all (output piped or redirected with no terminal to
#: ask): wide enough that a table is never wrapped, so model names reach a file or a pipe whole.
UNWRAPPED_WIDTH = 1000


def output_width() -> int | None:
    """``None`` (rich's own choice: ``COLUMNS``, else the real width of any terminal on stdin, stdout or
    stderr) when there is a terminal to ask; :data:`UNWRAPPED_WIDTH` when there is none, instead of rich's
    fallback of 80 columns that wrapped model names in piped output."""
    if os.environ.get("COLUMNS", "").isdigit():
        return None
    for fd in (0, 1, 2):
        try:
            if os.get_terminal_size(fd).columns > 0:
                return None
        except (OSError, ValueError):
            continue
    return UNWRAPPED_WIDTH


console = Console(stderr=False, highlight=False, width=output_width())
err_console = Console(stderr=True, highlight=False, width=output_width())


def data_to_stdout(args: Sequence[str]) -> bool:
    """True when the command line asks for ``--json -`` or ``--csv -`` (machine output on stdout)."""
    for i, a in enumerate(args):
        if a in ("--json=-", "--csv=-"):
            return True
        if a in ("--json", "--csv") and i + 1 < len(args) and args[i + 1] == "-":
            return True
    return False


@contextlib.contextmanager
def tables_on_stderr(enabled: bool) -> Iterator[None]:
    """Send the human-readable tables to stderr while stdout carries JSON/CSV, so pipes get clean data."""
    if not enabled:
        yield
        return
    console.stderr = True
    try:
        yield
    finally:
        console.stderr = False


class RichReporter:
    """Draws one rich progress bar per library task (see :mod:`stylebias.progress`)."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress

    def open(
        self, description: str, total: float | None
    ) -> tuple[Callable[[float], None], Callable[[], None]]:
        task_id = self.progress.add_task(description, total=total)

        def advance(n: float = 1) -> None:
            self.progress.advance(task_id, n)

        def close() -> None:
            t = self.progress.tasks[task_id] if task_id < len(self.progress.tasks) else None
            if t is not None and t.total is None:
                self.progress.update(task_id, total=t.completed or 1, completed=t.completed or 1)
            elif t is not None:
                self.progress.update(task_id, completed=t.total)

        return advance, close


@contextlib.contextmanager
def progress_bars(quiet: bool) -> Iterator[None]:
    """Show rich progress bars (on stderr) for library work inside the block unless ``quiet``."""
    if quiet:
        with use_reporter(None):
            yield
        return
    progress = Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=False,
    )
    with progress, use_reporter(RichReporter(progress)):
        yield


@contextlib.contextmanager
def shown_warnings(quiet: bool) -> Iterator[None]:
    """Print library warnings as one readable line each (suppressed with --quiet)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        # third-party noise that says nothing about the user's data
        for mod in ("shap", "lightgbm", "numba", "spacy", "matplotlib"):
            warnings.filterwarnings("ignore", module=mod)
        try:
            yield
        finally:
            if not quiet:
                seen: set[str] = set()
                for w in caught:
                    msg = str(w.message)
                    if msg not in seen and w.category.__module__.startswith(("stylebias", "builtins")):
                        seen.add(msg)
                        err_console.print(f"[yellow]warning:[/] {escape(msg)}", markup=True, highlight=False)


def write_json(path: Path | str, payload: Any) -> None:
    """Write ``payload`` as stable, indented JSON (byte-identical for identical input); ``-`` = stdout."""
    _emit(path, json.dumps(payload, indent=2, ensure_ascii=False, allow_nan=False) + "\n", newline="\n")


def write_csv(path: Path | str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Write a CSV whose text cells cannot be executed as formulas by a spreadsheet; ``-`` = stdout.

    Only text cells are neutralised: numbers (e.g. -3.2) stay numbers.
    """
    buf = io.StringIO(newline="")
    w = csv.writer(buf)
    w.writerow([safe_cell(h) for h in header])
    for row in rows:
        w.writerow([safe_cell(v) for v in row])
    _emit(path, buf.getvalue(), newline="")


def _emit(path: Path | str, text: str, newline: str) -> None:
    """``text`` to stdout for ``-``, else written atomically to ``path``."""
    if str(path) == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        write_text(path, text, newline)


def write_outputs(
    json_out: Path | None,
    doc: Callable[[], Any],
    csv_out: Path | None = None,
    table: Callable[[], tuple[Sequence[str], Iterable[Sequence[Any]]]] | None = None,
) -> None:
    """A command's ``--json`` document (``doc()``) and ``--csv`` table (``table()`` = header, rows), each
    built and written only where asked, with a line saying where (none for stdout)."""
    for path, write in (
        (json_out, lambda p: write_json(p, doc())),
        (csv_out, lambda p: write_csv(p, *table())),
    ):
        if path is not None:
            write(path)
            if str(path) != "-":
                console.print(f"[dim]wrote {escape(str(path))}[/]")


def show_problems(problems: Sequence[Any]) -> None:
    """Say first, on stderr and even with ``--quiet``, why the result about to be shown is degenerate."""
    for p in problems:
        err_console.print(f"[bold red]problem:[/] {escape(str(p))}", markup=True, highlight=False)


def finish(problems: Sequence[Any]) -> None:
    """End a command whose result is degenerate with exit code 3 (after its tables and files)."""
    if problems:
        err_console.print(
            f"[bold red]exit {EXIT_DEGENERATE}:[/] degenerate result ({len(problems)} problem(s), listed first)",
            markup=True,
            highlight=False,
        )
        raise typer.Exit(EXIT_DEGENERATE)


def heading(text: str) -> None:
    """A rule with a title (``--by`` groups): as wide as the terminal, at most 100 columns."""
    from rich.rule import Rule

    console.print(Rule(text), width=min(console.width, 100))


def shift_style(arrow: str) -> str:
    """The colour of a rank-shift arrow: green up, red down, dim unchanged."""
    return "green" if arrow.startswith("↑") else ("red" if arrow.startswith("↓") else "dim")


def fail(message: str, code: int) -> None:
    err_console.print(f"[bold red]error:[/] {escape(message)}", markup=True, highlight=False)
    sys.exit(code)
