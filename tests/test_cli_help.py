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
