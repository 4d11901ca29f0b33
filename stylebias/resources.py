"""Where the runtime data lives, in a source checkout and in an installed wheel.

The top-level ``features/`` and ``models/`` folders are the reviewable source of truth. The wheel build copies
them into the package as ``stylebias/_features`` and ``stylebias/_models`` (see ``pyproject.toml``), so the
same lookup works from ``pip install .``, from an editable install and from a plain checkout.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def _packaged_or_source(packaged: str, source: str) -> Path:
    inside = PACKAGE_DIR / packaged
    if inside.is_dir():
        return inside
    beside = PACKAGE_DIR.parent / source
    if beside.is_dir():
        return beside
    raise FileNotFoundError(
        f"stylebias runtime data folder not found: looked for {inside} (installed wheel) and {beside} "
        "(source checkout). Reinstall the package."
    )


def features_dir() -> Path:
    """Folder holding the declarative feature definitions (lexicons and patterns)."""
    return _packaged_or_source("_features", "features")


def models_dir() -> Path:
    """Folder holding shipped fitted models and their model cards."""
    return _packaged_or_source("_models", "models")


def demo_dir() -> Path:
    """Folder holding the embedded default battle data."""
    return PACKAGE_DIR / "data" / "demo"
