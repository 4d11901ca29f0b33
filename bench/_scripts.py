"""Loading one ``bench/`` script from another, or from a test, as a module.

A script is loaded from its file, not by putting ``bench/`` on ``sys.path``: ``bench/`` holds scripts named like
packages (``coverage.py``), which would shadow them for every later import in the session (numba, under shap,
imports coverage). ``bench/labels/`` - the label loaders the scripts import by bare name - does go on the path.
Each script is loaded once and kept in ``sys.modules``, so a test and the script that loaded it share one copy.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

BENCH = Path(__file__).resolve().parent


def load_script(script: str) -> ModuleType:
    """``bench/<script>.py`` as the module ``bench_<script>`` (loaded once per process)."""
    name = f"bench_{script}"
    if name in sys.modules:
        return sys.modules[name]
    labels = str(BENCH / "labels")
    if labels not in sys.path:
        sys.path.insert(0, labels)
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{script}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
