"""The report's inline stylesheet: system fonts only (no web fonts, no network), print-friendly."""

from __future__ import annotations

from .markup import Markup

CSS = Markup(
    """
:root {
  --ink: #1f2933; --muted: #5f6b7a; --line: #d9dee4; --soft: #f4f6f8; --accent: #0072B2;
  --up: #0072B2; --down: #D55E00; --same: #6b7280; --warn: #a15c00;
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body {
  margin: 0; color: var(--ink); background: #fff;
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Liberation Sans",
    "DejaVu Sans", Arial, sans-serif;
}
header.top { background: #0b2540; color: #fff; padding: 28px 0 22px; }
header.top h1 { margin: 0 0 6px; font-size: 28px; font-weight: 650; letter-spacing: -0.01em; }
header.top p { margin: 0; color: #c9d6e3; }
.wrap { max-width: 1120px; margin: 0 auto; padding: 0 28px; }
[hidden] { display: none !important; }
nav.toc { border-bottom: 1px solid var(--line); background: var(--soft); font-size: 14px;
  position: sticky; top: 0; z-index: 5; }
nav.toc .wrap { display: flex; flex-wrap: wrap; align-items: center; }
nav.toc .filter { margin-left: auto; padding: 4px 0; color: var(--muted); }
nav.toc input { font: inherit; padding: 3px 8px; border: 1px solid var(--line); border-radius: 4px;
  width: 10em; }
#filter-count { margin-left: 6px; font-size: 13px; }
section, .card { scroll-margin-top: 84px; }
nav.toc a { display: inline-block; padding: 9px 10px 9px 0; margin-right: 6px; color: var(--accent);
  text-decoration: none; }
nav.toc a:hover { text-decoration: underline; }
section { padding: 26px 0 8px; border-bottom: 1px solid var(--line); }
section:last-of-type { border-bottom: 0; }
h2 { font-size: 21px; margin: 0 0 6px; font-weight: 650; }
h3 { font-size: 16px; margin: 20px 0 6px; font-weight: 650; }
p.lead, p.note { color: var(--muted); margin: 0 0 12px; max-width: 900px; }
p.note { font-size: 13px; }
.kpis { display: grid; grid-template-columns: repeat(auto-fit, minmax(165px, 1fr)); gap: 12px; margin: 8px 0 16px; }
.kpi { border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; background: #fff; }
.kpi .v { font-size: 22px; font-weight: 650; font-variant-numeric: tabular-nums; overflow-wrap: anywhere; }
.kpi .k { font-size: 12px; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
.kpi .s { font-size: 13px; color: var(--muted); overflow-wrap: anywhere; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 16px; font-size: 14px; }
th, td { padding: 5px 10px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
th { font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted);
  border-bottom: 2px solid var(--line); background: #fff; font-weight: 600; }
tbody tr:nth-child(even) td { background: #fafbfc; }
th button.sort { all: unset; cursor: pointer; }
th button.sort:hover, th button.sort:focus-visible { color: var(--accent); text-decoration: underline; }
th[aria-sort="ascending"] button.sort::after { content: " ▲"; }
th[aria-sort="descending"] button.sort::after { content: " ▼"; }
td.model a { color: inherit; text-decoration: underline dotted; }
p.caption { margin-top: -10px; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.model { overflow-wrap: anywhere; font-weight: 550; }
table.leaderboard td.model { min-width: 16em; }
table.effects td.model { min-width: 10em; }
table.effects td:last-child { min-width: 8.5em; }
span.ci { display: block; font-size: 11px; color: var(--muted); font-weight: 400; }
td.b { font-weight: 650; }
td.dim, span.dim { color: var(--muted); }
td.brk { overflow-wrap: anywhere; }
.up { color: var(--up); font-weight: 650; }
.down { color: var(--down); font-weight: 650; }
.same { color: var(--same); }
.tag { display: inline-block; font-size: 12px; padding: 1px 7px; border-radius: 10px; background: var(--soft);
  color: var(--muted); border: 1px solid var(--line); margin-right: 4px; }
svg.chart { width: 100%; height: auto; display: block; margin: 6px 0 14px; }
svg.chart text { fill: var(--ink); font-family: inherit; }
svg.chart text.tick, svg.chart text.axis { fill: var(--muted); font-size: 11px; }
svg.chart text.colhead { font-weight: 650; font-size: 13px; }
svg.chart text.legend { font-size: 12px; }
svg.chart text.num { font-variant-numeric: tabular-nums; font-size: 12px; }
svg.mpl text { font-family: inherit !important; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(330px, 1fr)); gap: 14px; }
.cards { align-items: start; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px 6px; break-inside: avoid; }
.card > summary { cursor: pointer; list-style: none; }
.card > summary::-webkit-details-marker { display: none; }
.card > summary h4::before { content: "▸ "; color: var(--accent); }
.card[open] > summary h4::before { content: "▾ "; }
.card[open] { grid-column: span 2; }
.card h4 { display: inline; margin: 0 0 4px; font-size: 15px; overflow-wrap: anywhere; }
.card .meta { font-size: 13px; color: var(--muted); margin-bottom: 8px; }
.card .rates { display: grid; grid-template-columns: auto 1fr auto; gap: 2px 8px; align-items: center;
  font-size: 13px; }
.bar { height: 8px; background: var(--soft); border-radius: 4px; position: relative; overflow: hidden; }
.bar > span { position: absolute; left: 0; top: 0; bottom: 0; border-radius: 4px; }
.bar.obs > span { background: #E69F00; }
.bar.neu > span { background: #0072B2; }
.bar.vm > span { background: #56B4E9; }
.card .cap { font-size: 12px; color: var(--muted); margin: 8px 0 0; }
.card:target { outline: 3px solid var(--accent); outline-offset: 2px; }
.card p.gain { font-size: 14px; margin: 4px 0 8px; }
.card details { margin: 4px 0; }
.card details > summary { font-size: 13px; }
.example { border-left: 3px solid var(--line); padding-left: 8px; }
.example > summary { color: var(--ink) !important; }
.answer .who { font-size: 12px; font-weight: 650; margin-top: 6px; overflow-wrap: anywhere; }
.answer .text { white-space: pre-wrap; overflow-wrap: anywhere; font-size: 12px; max-height: 14em;
  overflow: auto; background: var(--soft); border: 1px solid var(--line); border-radius: 4px; padding: 4px 6px; }
details.group { border: 1px solid var(--line); border-radius: 8px; padding: 4px 12px; overflow-x: auto; }
details.group table { font-size: 13px; }
details.group th, details.group td { padding: 5px 7px; }
details.group > summary { font-weight: 650; }
.card p { font-size: 13px; margin: 6px 0; }
.card svg.chart { margin: 4px 0; }
.callout { border-left: 4px solid var(--warn); background: #fff8ec; padding: 8px 12px; margin: 10px 0;
  font-size: 14px; }
details { margin: 6px 0 14px; }
details > summary { cursor: pointer; color: var(--accent); font-size: 14px; padding: 4px 0; }
ul.sentences { font-size: 14px; margin: 4px 0 14px; padding-left: 20px; }
footer { color: var(--muted); font-size: 13px; padding: 18px 0 30px; }
code { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 13px;
  background: var(--soft); padding: 0 4px; border-radius: 3px; }
@media print { nav.toc { display: none; } header.top { background: #fff; color: var(--ink); }
  header.top p { color: var(--muted); } section { break-inside: avoid-page; } }
"""
)
