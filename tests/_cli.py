"""Running the console entry point inside a test, as a user would from a shell."""

from __future__ import annotations

from stylebias.cli import main


def run(capsys, *args: str) -> tuple[int, str, str]:
    """Run ``stylebias ARGS``; return (exit code, stdout, stderr)."""
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err
