"""Every command's --help renders, explains itself and documents --json/--quiet (help reads like docs)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from stylebias.cli import app

runner = CliRunner()
COMMANDS = sorted(c.name or c.callback.__name__ for c in app.registered_commands)  # type: ignore[union-attr]


def test_root_help_lists_every_command() -> None:
    res = runner.invoke(app, ["--help"], terminal_width=200)
    assert res.exit_code == 0
    for name in COMMANDS:
        assert name in res.output


@pytest.mark.parametrize("name", COMMANDS)
def test_command_help(name: str) -> None:
    res = runner.invoke(app, [name, "--help"], terminal_width=200)
    assert res.exit_code == 0, res.output
    assert "Usage:" in res.output
    assert "--quiet" in res.output, f"{name} lacks --quiet"
    assert "--json" in res.output, f"{name} lacks --json"
    if name != "features":  # features writes its table with -o x.csv
        assert "--csv" in res.output, f"{name} lacks --csv"


def test_bootstrap_defaults_are_the_libraries() -> None:
    """The CLI writes its --boot defaults as literals (it imports no model code at start-up); they are the
    library's: explain's 100, the report's smaller default."""
    import inspect

    from stylebias.cli.explain import explain
    from stylebias.cli.report import report
    from stylebias.explain.api import DEFAULT_BOOT
    from stylebias.report.build import REPORT_BOOT

    assert inspect.signature(explain).parameters["boot"].default == DEFAULT_BOOT
    assert inspect.signature(report).parameters["boot"].default == REPORT_BOOT < DEFAULT_BOOT
