"""Issue 7: no code-executing deserialisation in the package, CSV exports that cannot run formulas,
saved models that fail only with ArtifactError however they are mangled.
"""

from __future__ import annotations

import ast
import csv
import io
import json
from pathlib import Path

import pytest

import stylebias
from stylebias.cli import main

PACKAGE = Path(stylebias.__file__).resolve().parent

# ------------------------------------------------------------------------------ forbidden calls
# Checked on the syntax tree, so prose ("no pickle", "like joblib") in docstrings and comments is ignored
# and only real imports, calls and keywords count.

FORBIDDEN_MODULES = {
    "pickle",
    "cPickle",
    "_pickle",
    "dill",
    "cloudpickle",
    "joblib",
    "marshal",
    "shelve",
    "torch",
}
FORBIDDEN_CALLS = {"eval", "exec", "__import__"}
FORBIDDEN_ATTRS = {"read_pickle", "to_pickle", "unsafe_load", "full_load", "load_all"}
# yaml.load(..., Loader=X) is allowed when X is yaml.SafeLoader or a subclass of it (checked below).
YAML_LOADS = {("extract/detectors/patterns.py", "_Loader")}


def forbidden_uses(source: str, where: str) -> list[str]:
    hits = []
    for node in ast.walk(ast.parse(source)):
        line = f"{where}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Import):
            hits += [
                f"{line}: import {a.name}" for a in node.names if a.name.split(".")[0] in FORBIDDEN_MODULES
            ]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in FORBIDDEN_MODULES:
            hits.append(f"{line}: from {node.module} import")
        elif isinstance(node, ast.Call):
            f = node.func
            if isinstance(f, ast.Name) and f.id in FORBIDDEN_CALLS:
                hits.append(f"{line}: {f.id}()")
            if isinstance(f, ast.Attribute) and f.attr in FORBIDDEN_ATTRS:
                hits.append(f"{line}: .{f.attr}()")
            if isinstance(f, ast.Attribute) and f.attr == "load" and isinstance(f.value, ast.Name):
                if f.value.id == "yaml":
                    loader = next((k.value for k in node.keywords if k.arg == "Loader"), None)
                    name = ast.unparse(loader) if loader is not None else None
                    if (
                        name not in ("yaml.SafeLoader", "yaml.CSafeLoader")
                        and (where, name) not in YAML_LOADS
                    ):
                        hits.append(f"{line}: yaml.load(Loader={name})")
                if f.value.id == "torch":
                    hits.append(f"{line}: torch.load()")
            for k in node.keywords:
                if k.arg == "allow_pickle" and not (
                    isinstance(k.value, ast.Constant) and k.value.value is False
                ):
                    hits.append(f"{line}: allow_pickle=")
    return hits


def test_no_code_executing_deserialisation_in_the_package() -> None:
    files = sorted(PACKAGE.rglob("*.py"))
    assert len(files) > 30  # the whole package is scanned, not an empty folder
    hits = []
    for path in files:
        hits += forbidden_uses(path.read_text(encoding="utf-8"), path.relative_to(PACKAGE).as_posix())
    assert not hits, "\n".join(hits)


def test_allowed_yaml_loaders_are_safe_loaders() -> None:
    import importlib

    import yaml

    for where, name in YAML_LOADS:
        mod = importlib.import_module("stylebias." + where.removesuffix(".py").replace("/", "."))
        assert issubclass(getattr(mod, name), yaml.SafeLoader), (where, name)


def test_the_checker_catches_what_it_should() -> None:
    bad = [
        "import pickle",
        "from joblib import load",
        "x = eval(s)",
        "exec(code)",
        "yaml.load(fh)",
        "yaml.load(fh, Loader=yaml.Loader)",
        "torch.load(p)",
        "np.load(f, allow_pickle=True)",
        "pd.read_pickle(p)",
        "__import__('os')",
    ]
    for line in bad:
        assert forbidden_uses(line, "x.py"), line
    ok = [
        "yaml.load(fh, Loader=yaml.SafeLoader)",
        "model.eval_metric(x)",
        "self.evaluate(x)",
        '"""no pickle, like joblib, never eval(x)"""',
        "# import pickle",
        "np.load(f, allow_pickle=False)",
    ]
    for line in ok:
        assert not forbidden_uses(line, "x.py"), line


# ------------------------------------------------------------------------------ CSV formula injection

HOSTILE_MODELS = ['=HYPERLINK("http://x")', "+cmd", "@SUM(A1)", "-2+3", "\tTab", "normal"]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture(scope="module")
def hostile_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import numpy as np

    rng = np.random.default_rng(0)
    rows = []
    for _ in range(90):
        a, b = rng.choice(len(HOSTILE_MODELS), 2, replace=False)
        rows.append(
            {
                "model_a": HOSTILE_MODELS[a],
                "model_b": HOSTILE_MODELS[b],
                "winner": ["model_a", "model_b", "tie"][rng.integers(3)],
                "prompt": "=1+1",
                "response_a": "- item\n" * int(rng.integers(1, 5)) + "=cmd|' /C calc'!A0",
                "response_b": "@x " * int(rng.integers(1, 9)),
            }
        )
    rows.append({"model_a": "=X", "model_b": "=X", "winner": "tie", "response_a": "a", "response_b": "b"})
    d = tmp_path_factory.mktemp("hostile")
    (d / "=evil.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return d


def run_cli(*args: str) -> None:
    try:
        main(list(args))
    except SystemExit as exc:
        assert not exc.code, (args, exc.code)


def check_csv(path: Path) -> list[list[str]]:
    """No cell can start a formula unless it is a plain number (negative numbers must stay numeric)."""
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert len(rows) > 1, path
    for row in rows:
        for cell in row:
            if cell.startswith(FORMULA_START):
                float(cell)  # raises if a text cell slipped through un-neutralised
    return rows


def test_every_cli_csv_export_neutralises_text_and_keeps_numbers(hostile_file, monkeypatch) -> None:
    monkeypatch.chdir(hostile_file)  # relative file name "=evil.jsonl" lands in file/battle_id columns too
    src = "=evil.jsonl"
    run_cli("rank", src, "--features", "style", "--csv", "r.csv", "--json", "r.json", "--quiet")
    run_cli("rank", src, "--features", "none", "--json", "r0.json", "--quiet")
    run_cli("compare", "r0.json", "r.json", "--csv", "c.csv", "--quiet")
    run_cli("validate", src, "--csv", "v.csv", "--rejects", "rej.csv", "--quiet")
    run_cli("features", src, "--features", "style", "--pairs", "-o", "f.csv", "--jobs", "1", "--quiet")
    out = {
        name: check_csv(hostile_file / name)
        for name in ("r.csv", "c.csv", "v.csv", "rej.csv", "f.csv", "f_pairs.csv")
    }
    text = {name: "\n".join(",".join(r) for r in rows) for name, rows in out.items()}
    for name in ("r.csv", "c.csv", "f.csv", "f_pairs.csv"):
        assert "'=HYPERLINK" in text[name] and "'+cmd" in text[name] and "'@SUM" in text[name], name
        assert "'-2+3" in text[name] and "'\tTab" in text[name], name
    assert "'=evil.jsonl" in text["v.csv"] and "'=evil.jsonl" in text["rej.csv"]
    # numbers stay numbers: negative pair differences and deltas are written bare
    negatives = [
        c for rows in (out["f_pairs.csv"], out["c.csv"]) for r in rows for c in r if c.startswith("-")
    ]
    assert negatives and all(float(c) < 0 for c in negatives)
