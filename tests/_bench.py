"""Loading a ``bench/`` script as a module in a test.

A script is loaded from its file, not by putting ``bench/`` on ``sys.path``: ``bench/`` holds scripts named like
packages (``coverage.py``), which would shadow them for every later import in the session (numba, under shap,
imports coverage). ``bench/labels/`` - the label loaders the scripts import by bare name - does go on the path.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent


def load_bench(script: str) -> ModuleType:
    """``bench/<script>.py`` as the module ``bench_<script>`` (loaded once per session)."""
    name = f"bench_{script}"
    if name in sys.modules:
        return sys.modules[name]
    labels = str(ROOT / "bench" / "labels")
    if labels not in sys.path:
        sys.path.insert(0, labels)
    spec = importlib.util.spec_from_file_location(name, ROOT / "bench" / f"{script}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
