"""The import rules of docs/architecture.md, checked on the syntax tree of every package module.

Each top-level unit of ``stylebias`` (a module such as ``battles`` or a package such as ``rating``) may import
only the units listed for it, so the data flow stays one line and lower layers never reach up (nothing
imports the CLI; rating never reads files). No module imports another package's ``_private`` names or
``_private`` modules.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "stylebias"

#: unit -> the units it may import (besides itself and the package's ``__version__``)
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "progress": set(),
    "resources": set(),
    "outputs": set(),
    "artifacts": {"errors", "resources"},
    "battles": {"outputs"},
    "rows": {"battles", "errors"},
    "formats": {"battles", "rows", "errors", "outputs", "progress", "resources"},
    "extract": {"battles", "errors", "outputs", "progress", "resources"},
    "rating": {"artifacts", "battles", "rows", "errors", "extract", "outputs", "progress"},
    "leaderboards": {"errors", "outputs", "rating"},
    "rerank": {"errors", "extract", "formats", "outputs", "progress", "rating"},
    "explain": {
        "artifacts",
        "battles",
        "rows",
        "errors",
        "extract",
        "formats",
        "outputs",
        "progress",
        "rating",
    },
    "report": {"battles", "errors", "explain", "extract", "formats", "outputs", "progress", "rating"},
    "fastchat": {"battles", "rows", "errors", "extract", "formats", "outputs", "progress", "rating"},
    "cluster": {"battles", "errors", "extract", "formats", "outputs", "progress", "rating"},
    "plugin": {
        "artifacts",
        "battles",
        "rows",
        "errors",
        "explain",
        "extract",
        "formats",
        "outputs",
        "rating",
    },
    "cli": {
        "battles",
        "cluster",
        "errors",
        "explain",
        "extract",
        "formats",
        "leaderboards",
        "outputs",
        "progress",
        "rating",
        "report",
        "rerank",
    },
    "__main__": {"cli"},
    "__init__": set(),
    "data": set(),
}


def modules() -> list[tuple[str, Path]]:
    out = []
    for f in sorted(PACKAGE.rglob("*.py")):
        parts = list(f.relative_to(PACKAGE.parent).with_suffix("").parts)
        out.append((".".join(parts), f))
    return out


def imports(module: str, path: Path) -> list[tuple[str, list[str], int]]:
    """``(absolute target module, imported names, line)`` for every stylebias import in ``path``."""
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    if path.name == "__init__.py":
        package = module.removesuffix(".__init__")
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] == "stylebias":
                found.append((target, [a.name for a in node.names], node.lineno))
        elif isinstance(node, ast.Import):
            found += [(a.name, [], node.lineno) for a in node.names if a.name.split(".")[0] == "stylebias"]
    return found


def unit(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_every_unit_has_rules() -> None:
    units = {unit(m) for m, _ in modules()}
    assert units <= set(ALLOWED), f"add import rules for: {sorted(units - set(ALLOWED))}"


@pytest.mark.parametrize("module,path", modules(), ids=[m for m, _ in modules()])
def test_imports_follow_the_layers(module: str, path: Path) -> None:
    me = unit(module)
    for target, names, line in imports(module, path):
        if target == "stylebias":  # ``from .. import __version__`` or a lazily re-exported name
            targets = [f"stylebias.{n}" for n in names if n != "__version__"]
        else:
            targets = [target]
        for t in targets:
            other = unit(t)
            assert other == me or other in ALLOWED[me], (
                f"{path.name}:{line}: {me} may not import {other} ({t})"
            )


@pytest.mark.parametrize("module,path", modules(), ids=[m for m, _ in modules()])
def test_no_private_imports_across_packages(module: str, path: Path) -> None:
    here = module.rsplit(".", 1)[0] if path.name != "__init__.py" else module.removesuffix(".__init__")
    for target, names, line in imports(module, path):
        parts = target.split(".")
        owner = ".".join(parts[:-1]) if parts[-1].startswith("_") else target
        for i, p in enumerate(parts):
            if p.startswith("_") and not p.startswith("__"):
                inside = ".".join(parts[:i])
                assert here == inside or here.startswith(inside + "."), (
                    f"{path.name}:{line}: imports the private module {target} from outside {inside}"
                )
        private = [n for n in names if n.startswith("_") and not n.startswith("__")]
        if private:
            assert owner == here or target == here, (
                f"{path.name}:{line}: imports private {private} from {target}"
            )


#: The rating internals a fit is made of. Outside ``rating`` nothing builds or solves a Bradley-Terry problem
#: itself: every fit goes through ``rating.fit_design`` (the one fit path), so only constants may be read here.
FIT_INTERNALS = {"stylebias.rating.solver": {"LN10"}, "stylebias.rating.likelihood": set()}


@pytest.mark.parametrize("module,path", modules(), ids=[m for m, _ in modules()])
def test_fits_go_through_the_one_fit_path(module: str, path: Path) -> None:
    if unit(module) == "rating":
        return
    for target, names, line in imports(module, path):
        allowed = FIT_INTERNALS.get(target)
        if allowed is not None:
            extra = sorted(set(names) - allowed) or ([] if names else [target])
            assert not extra, (
                f"{path.name}:{line}: imports {extra} from {target}; fit through rating.fit_design"
            )
        if target in ("stylebias.rating", "stylebias.rating.estimator"):
            assert "StyleBT" not in names, (
                f"{path.name}:{line}: fits StyleBT directly; fit through rating.fit_design"
            )


def test_explain_modules_are_checked() -> None:
    """The vote model's modules are among those the rules above walk (a new module is checked by itself)."""
    checked = {m for m, _ in modules()}
    for name in ("api", "cv", "select", "linear", "intervals", "result", "votemodel", "attribution"):
        assert f"stylebias.explain.{name}" in checked


#: Inside ``formats``: what every loader module may share (the record readers, the per-record driver, the
#: benchmark folder layout), and the one loader family split over several modules.
FORMATS_SHARED = {"_base", "_io", "_benchmark"}
FORMATS_FAMILY = {"lmarena": {"lmarena_bulk", "lmarena_records"}, "lmarena_bulk": {"lmarena_records"}}
LOADERS = [(m, p) for m, p in modules() if m.startswith("stylebias.formats.") and p.name != "__init__.py"]


@pytest.mark.parametrize("module,path", LOADERS, ids=[m for m, _ in LOADERS])
def test_loaders_share_only_the_formats_base(module: str, path: Path) -> None:
    """A loader never imports another loader or the registry: a new format is one module plus one entry."""
    me = module.rsplit(".", 1)[1]
    allowed = FORMATS_SHARED | FORMATS_FAMILY.get(me, set()) | {me}
    for target, names, line in imports(module, path):
        if target == "stylebias.formats":
            used = names
        elif target.startswith("stylebias.formats."):
            used = [target.split(".")[2]]
        else:
            continue
        for name in used:
            assert name in allowed, f"{path.name}:{line}: {me} may not import formats.{name}"


# ------------------------------------------------------------------------------------------ reject reasons
REASONS_DOC = PACKAGE.parent / "docs" / "formats.md"
#: Where ledger reasons are worded: the row rules and the loaders (the FastChat adapter raises instead).
REASON_SOURCES = [PACKAGE / "rows.py", *sorted((PACKAGE / "formats").glob("*.py"))]


def _leading_texts(node: ast.expr) -> list[str]:
    """The literal starts of a string or f-string argument (of both branches of ``a if c else b``); none
    when it starts with a value."""
    if isinstance(node, ast.IfExp):
        return _leading_texts(node.body) + _leading_texts(node.orelse)
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
        return [str(node.values[0].value)]
    return []


def code_reason_kinds() -> dict[str, list[str]]:
    """Kind (text before the first colon) of every reason the loaders word -> where it is worded.

    Reasons that start with a value (``f"{kind}: ..."``, ``str(exc)``) pass on a kind worded elsewhere.
    """
    found: dict[str, list[str]] = {}
    for path in REASON_SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", None))
            if name in ("Reject", "Bad"):
                arg = node.args[0]
            elif name in ("reject", "reject_many") and len(node.args) == 2:
                arg = node.args[1]
            else:
                continue
            for text in _leading_texts(arg):
                found.setdefault(text.split(":")[0], []).append(f"{path.name}:{node.lineno}")
    return found


def documented_reason_kinds() -> set[str]:
    """The kinds in the reject-reason table of docs/formats.md (first cell: one or more `kind`)."""
    text = REASONS_DOC.read_text(encoding="utf-8")
    table = text.split("## Reject reasons", 1)[1].split("\n\n")[2]
    return {k for row in table.splitlines()[2:] for k in re.findall(r"`([^`]+)`", row.split("|")[1])}


def test_every_reject_reason_has_one_documented_kind() -> None:
    """``validate`` groups rejects by the text before the first colon, so every wording a loader or row rule
    gives starts with a kind from the one table of reasons, and that table lists no kind nobody gives."""
    code, documented = code_reason_kinds(), documented_reason_kinds()
    undocumented = {k: v for k, v in code.items() if k not in documented}
    assert not undocumented, f"reject kinds missing from docs/formats.md's table: {undocumented}"
    assert documented - set(code) == set(), (
        f"kinds in the table that no loader gives: {documented - set(code)}"
    )


def test_only_the_dask_adapter_imports_dask() -> None:
    """The partition-level work is plain functions over pandas chunks; Dask is one thin adapter module, so
    another engine (Spark, Ray) is another adapter, and nothing else needs the optional dependency."""
    offenders = []
    for module, path in modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""]
            if any(n.split(".")[0] in ("dask", "distributed") for n in names):
                offenders.append(module)
    assert set(offenders) == {"stylebias.cluster.engine"}, offenders
