"""``stylebias detect``: what the flattery and refusal detectors see in one reply, sentence by sentence.

For a linguist extending ``features/``: each sentence unit with the patterns that fired, its score under each
classifier, then the decisions with their reasons. Edit a pattern in ``features/*.yaml``, run again, see the
effect at once. The analysis itself is :func:`stylebias.extract.detectors.explain_detection`; this module only
reads the inputs and prints.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from ..errors import UsageError
from . import app
from .common import console, write_csv, write_json
from .options import QuietOpt

CSV_HEADER = (
    "index",
    "text",
    "flattery_patterns",
    "flattery_score",
    "flattery_fires",
    "refusal_labels",
    "refusal_patterns",
    "refusal_score_any",
    "refusal_score_full",
)


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


def _csv_row(u: dict[str, Any]) -> list[Any]:
    f, r = u.get("flattery") or {}, u.get("refusal") or {}
    return [
        u["index"],
        u["text"],
        " ".join(f.get("patterns", [])),
        f.get("score", ""),
        int(f["fires"]) if f else "",
        " ".join(r.get("labels", [])),
        " ".join(r.get("patterns", [])),
        r.get("score_any", ""),
        r.get("score_full", ""),
    ]


def _print_units(res: dict[str, Any]) -> None:
    for u in res["units"]:
        console.print(f"[bold][{u['index']}][/] {escape(u['text'])}")
        f, r = u.get("flattery"), u.get("refusal")
        if f:
            console.print(
                f"    flattery  {'[bold green]FIRES[/] ' if f['fires'] else ''}"
                f"patterns: {escape(', '.join(f['patterns']) or '-')}  unit score {f['score']:+.2f}, "
                f"reply logit with this unit alone {f['reply_logit_alone']:+.2f}"
            )
            console.print(f"[dim]              {escape(_signals(f['top_signals']))}[/]")
        if r:
            removed = r["removed_by_scope"]
            scope = f" (removed by scope: {escape(', '.join(removed))})" if removed else ""
            console.print(
                f"    refusal   labels: {escape(', '.join(r['labels']) or '-')}{scope}  "
                f"patterns: {escape(', '.join(r['patterns']) or '-')}  unit score any {r['score_any']:+.2f} / "
                f"full {r['score_full']:+.2f}"
            )
            console.print(f"[dim]              {escape(_signals(r['top_signals_any']))}[/]")
        if not f and not r:
            console.print("[dim]    (not scored: no pattern fired and not an opening or closing sentence)[/]")


def _print_decisions(res: dict[str, Any]) -> None:
    fl, rf = res["flattery"], res["refusal"]
    context = f"; prompt context {escape(_signals(fl['context']))}" if fl["context"] else ""
    console.print(
        f"[bold]flattery = {fl['flattery']}[/] (flattery_count {fl['flattery_count']}): "
        f"{escape(fl['reason'])}{context}"
    )
    console.print(
        f"[bold]refusal = {rf['refusal']}[/] (refusal_score {rf['refusal_score']:.3f}): {escape(rf['reason'])}"
    )
    if rf["context_any"]:
        console.print(f"  reply-level signals (any head): {escape(_signals(rf['context_any']))}")
    console.print(f"[dim]model: {escape(res['model'])}[/]")


@app.command("detect")
def detect(
    text: Annotated[
        str | None,
        typer.Argument(
            help="The reply to analyse ('-' reads stdin; or use --text-file).", show_default=False
        ),
    ] = None,
    prompt: Annotated[
        str | None,
        typer.Option(
            "--prompt",
            "-p",
            help="The prompt the reply answers (context for both detectors).",
            show_default=False,
        ),
    ] = None,
    text_file: Annotated[
        Path | None, typer.Option("--text-file", help="Read the reply from this file.", show_default=False)
    ] = None,
    prompt_file: Annotated[
        Path | None, typer.Option("--prompt-file", help="Read the prompt from this file.", show_default=False)
    ] = None,
    json_out: Annotated[
        str | None,
        typer.Option("--json", help="Write the whole analysis as JSON ('-' for stdout).", show_default=False),
    ] = None,
    csv_out: Annotated[
        str | None,
        typer.Option(
            "--csv", help="Write one row per sentence unit as CSV ('-' for stdout).", show_default=False
        ),
    ] = None,
    quiet: QuietOpt = False,
) -> None:
    """Show, per sentence, which flattery/refusal patterns and signals fired, the classifiers' scores and the
    decisions with their reasons (--quiet: the decisions only).

    Example: stylebias detect "What a curious term! It comes from Latin." --prompt "What does oblique mean?"
    """
    from ..extract.detectors import explain_detection

    reply = _read(text, text_file, "text")
    if reply is None:
        raise UsageError("give a reply: stylebias detect TEXT (or '-' for stdin, or --text-file FILE)")
    res = explain_detection(reply, _read(prompt, prompt_file, "prompt"))
    if json_out is not None:
        write_json(json_out, res)
    if csv_out is not None:
        write_csv(csv_out, CSV_HEADER, [_csv_row(u) for u in res["units"]])
    if "-" in (json_out, csv_out):
        return  # stdout carries the data
    if not quiet:
        _print_units(res)
    _print_decisions(res)
