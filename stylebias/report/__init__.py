"""The self-contained HTML report: data accounting, raw vs style-controlled leaderboard with Δ, forest and
slope charts, style effects with their support, SHAP summary, one "why it won" card per model with example
battles, and per-group panels.

``build_report(battles)`` gathers the numbers (:class:`ReportData`); ``render_html`` turns them into one page
with inline CSS and SVG and one small inline script (sorting, a model filter; a Content-Security-Policy lets
only it run and forbids loading anything); ``write_report`` writes it atomically. The CLI is
``stylebias report``.
"""

from __future__ import annotations

from .build import ModelCard, ReportData, build_report
from .html import render_html, write_report

__all__ = ["ModelCard", "ReportData", "build_report", "render_html", "write_report"]
