"""The self-contained HTML report: data accounting, raw vs style-controlled leaderboard, forest and slope
charts, style effects, SHAP summary and one "why it won" card per model.

``build_report(battles)`` gathers the numbers (:class:`ReportData`); ``render_html`` turns them into one page
with inline CSS and SVG (no scripts, no network); ``write_report`` writes it atomically. The CLI is
``stylebias report``.
"""

from __future__ import annotations

from .build import ModelCard, ReportData, build_report
from .html import render_html, write_report

__all__ = ["ModelCard", "ReportData", "build_report", "render_html", "write_report"]
