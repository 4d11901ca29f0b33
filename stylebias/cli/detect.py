"""``stylebias detect``: what the flattery and refusal detectors see in one reply, sentence by sentence.

For a linguist extending ``features/``: each sentence unit with the patterns that fired, its score under each
classifier, then the decisions with their reasons. Edit a pattern in ``features/*.yaml``, run again, see the
effect at once.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from ..errors import UsageError
from . import app
from .common import console, write_json


def _read(value: str | None, path: Path | None, what: str) -> str | None:
    if path is not None:
        if value is not None:
            raise UsageError(f"give the {what} as text or with --{what}-file, not both")
        try:
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise UsageError(f"cannot read {what} file {path}: {e}") from None
    if value == "-":
        return sys.stdin.read()
    return value


def _signals(pairs: list) -> str:
    return ", ".join(f"{s} {w:+.2f}" for s, w in pairs)


@app.command("detect")
def detect(
    text: Annotated[
        str | None,
        typer.Argument(help="The reply to analyse ('-' reads stdin; or use --text-file).", show_default=False),
    ] = None,
    prompt: Annotated[
        str | None,
        typer.Option("--prompt", "-p", help="The prompt the reply answers (context for both detectors).", show_default=False),
    ] = None,
    text_file: Annotated[
        Path | None, typer.Option("--text-file", help="Read the reply from this file.", show_default=False)
    ] = None,
    prompt_file: Annotated[
        Path | None, typer.Option("--prompt-file", help="Read the prompt from this file.", show_default=False)
    ] = None,
    json_out: Annotated[
        str | None,
        typer.Option("--json", help="Write the whole analysis as JSON to this file ('-' for stdout).", show_default=False),
    ] = None,
) -> None:
    """Show, per sentence, which flattery/refusal patterns and signals fired, the classifiers' scores and the
    decisions with their reasons.

    Example: stylebias detect "What a curious term! It comes from Latin." --prompt "What does oblique mean?"
    """
    from ..extract.detectors import explain_detection

    reply = _read(text, text_file, "text")
    if reply is None:
        raise UsageError("give a reply: stylebias detect TEXT (or '-' for stdin, or --text-file FILE)")
    res = explain_detection(reply, _read(prompt, prompt_file, "prompt"))
    if json_out is not None:
        write_json(json_out, res)
        if json_out == "-":
            return

    for u in res["units"]:
        console.print(f"[bold][{u['index']}][/] {escape(u['text'])}", soft_wrap=False)
        f, r = u.get("flattery"), u.get("refusal")
        if f:
            console.print(
                f"    flattery  {'[bold green]FIRES[/] ' if f['fires'] else ''}"
                f"patterns: {escape(', '.join(f['patterns']) or '-')}  unit score {f['score']:+.2f}, "
                f"reply logit with this unit alone {f['reply_logit_alone']:+.2f}"
            )
            console.print(f"[dim]              {escape(_signals(f['top_signals']))}[/]")
        if r:
            scope = f" (removed by scope: {escape(', '.join(r['removed_by_scope']))})" if r["removed_by_scope"] else ""
            console.print(
                f"    refusal   labels: {escape(', '.join(r['labels']) or '-')}{scope}  "
                f"patterns: {escape(', '.join(r['patterns']) or '-')}  unit score any {r['score_any']:+.2f} / "
                f"full {r['score_full']:+.2f}"
            )
            console.print(f"[dim]              {escape(_signals(r['top_signals_any']))}[/]")
        if not f and not r:
            console.print("[dim]    (not scored: no pattern fired and not an opening or closing sentence)[/]")
    fl, rf = res["flattery"], res["refusal"]
    console.print(
        f"[bold]flattery = {fl['flattery']}[/] (flattery_count {fl['flattery_count']}): {escape(fl['reason'])}"
        + (f"; prompt context {escape(_signals(fl['context']))}" if fl["context"] else "")
    )
    console.print(
        f"[bold]refusal = {rf['refusal']}[/] (refusal_score {rf['refusal_score']:.3f}): {escape(rf['reason'])}"
    )
    if rf["context_any"]:
        console.print(f"  reply-level signals (any head): {escape(_signals(rf['context_any']))}")
    console.print(f"[dim]model: {escape(res['model'])}[/]")
