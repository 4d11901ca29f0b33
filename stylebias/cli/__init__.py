"""The ``stylebias`` command: a thin typer layer over the library.

Each subcommand lives in its own module in this package and registers itself on :data:`app`. The
library raises; :func:`main` turns errors into one readable line and an exit code (1 usage, 2 data); a
command whose result is degenerate ends with exit code 3 itself (``common.finish``).
"""

from __future__ import annotations

import importlib
import sys

import typer

from ..errors import DataError, StyleBiasError, UsageError
from .common import EXIT_DATA, EXIT_USAGE, data_to_stdout, fail, tables_on_stderr

app = typer.Typer(
    name="stylebias",
    help=(
        "Measure how much style (length, markdown, emoji, flattery, refusals) buys votes in pairwise LLM "
        "leaderboards, and rank models with it stripped out.\n\n"
        "With no PATH, commands use the embedded demo: AlpacaEval 2 judge votes (incl. the same model "
        "prompted _verbose and _concise, and the judge-gaming NullModel) and PandaLM human votes.\n\n"
        "Typical flow: [bold]validate[/] your battle files (nothing is dropped silently), [bold]rank[/] with "
        "and without style control, [bold]explain[/] why a model won, [bold]report[/] to one HTML file; "
        "[bold]fit[/] + [bold]rerank[/] correct a board that publishes only answers and scores; "
        "[bold]compare[/] two published leaderboards; [bold]detector-error[/] corrects the flattery and refusal "
        "effects for the detectors' measured error.\n\n"
        "Every command takes --json FILE (- for stdout) and --quiet; exit codes: 0 ok, 1 usage error, "
        "2 data error (the message names the file and record), 3 degenerate result (said first: more than "
        "--max-rejected of the records rejected, every rating equal, or a part that could not be fitted). "
        "Docs: docs/ in the source tree."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


def _version(value: bool) -> None:
    if value:
        from .. import __version__

        typer.echo(f"stylebias {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Measure and remove style bias from pairwise LLM leaderboards."""


# Subcommand modules, in the order they appear in --help. Each defines its command(s) on ``app``.
COMMAND_MODULES: tuple[str, ...] = (
    "rank",
    "explain",
    "detector_error",
    "compare",
    "validate",
    "features",
    "fit",
    "rerank",
    "report",
    "detect",
)

for _name in COMMAND_MODULES:
    importlib.import_module(f"{__name__}.{_name}")


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: run the app and map every failure to one line and an exit code.

    Click reports its own usage errors with exit code 2; here 2 means bad *data*, so they are remapped to 1.
    Library errors never reach click: they are caught here and printed as one line naming file and record.
    """
    args = sys.argv[1:] if argv is None else list(argv)
    if not args:
        args = ["--help"]
    try:
        with tables_on_stderr(data_to_stdout(args)):
            app(args=args, prog_name="stylebias", standalone_mode=True)
    except SystemExit as exc:
        if exc.code == 2:  # click/typer usage error (bad option, missing argument)
            sys.exit(EXIT_USAGE)
        raise
    except UsageError as exc:
        fail(str(exc), EXIT_USAGE)
    except (DataError, StyleBiasError) as exc:
        fail(str(exc), EXIT_DATA)
    except FileNotFoundError as exc:
        fail(str(exc), EXIT_USAGE)
    except KeyboardInterrupt:
        fail("interrupted", 130)
