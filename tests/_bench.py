"""Loading a ``bench/`` script as a module in a test: ``bench/_scripts.py`` says how and why."""

from __future__ import annotations

from bench._scripts import load_script as load_bench

__all__ = ["load_bench"]
