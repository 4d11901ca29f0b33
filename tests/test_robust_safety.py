"""Robustness: no code-executing deserialisation in the package, CSV exports that cannot run formulas,
saved models that fail only with ArtifactError however they are mangled.
"""

from __future__ import annotations

import ast
import csv
import io
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import stylebias
from stylebias.cli import main
from tests._fuzz import examples

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
    for i in range(90):
        a, b = rng.choice(len(HOSTILE_MODELS), 2, replace=False)
        rows.append(
            {
                "model_a": HOSTILE_MODELS[a],
                "model_b": HOSTILE_MODELS[b],
                "winner": ["model_a", "model_b", "tie"][rng.integers(3)],
                "prompt": f"={i}+1",
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


# ------------------------------------------------------------------------------ mangled artifacts

JUNK = [None, True, 0, -1, 1.5, "x", "", [], {}, [1.0, "a"], {"a": [None]}, 10**30, [[1.0]], [0.0] * 50_000]


def _walk(doc, path=()):
    """Every (path, value) in a JSON document."""
    yield path, doc
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _walk(v, (*path, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc[:6]):  # the first elements suffice, lists can be long
            yield from _walk(v, (*path, i))


def _set(doc, path, value, delete=False):
    *parents, last = path
    node = doc
    for p in parents:
        node = node[p]
    if delete:
        if isinstance(node, dict):
            del node[last]
        else:
            node.pop(last)
    else:
        node[last] = value


@pytest.fixture(scope="module")
def saved_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, object]]:
    """One saved artifact per kind that exists in the package, with its loader."""
    import numpy as np

    from stylebias.artifacts import load_artifact, save_artifact

    out: dict[str, tuple[Path, object]] = {}
    base = tmp_path_factory.mktemp("artifacts")
    generic = save_artifact(
        base / "generic", "test-kind", {"coef": [0.5, -1.0], "names": ["a", "b"]}, {"t": 1}
    )

    def load_generic(p):
        from stylebias.artifacts import require

        art = load_artifact(p, "test-kind")
        require(art.payload, {"coef": "list[float]", "names": "list[str]"})
        return art

    out["test-kind"] = (generic, load_generic)
    from stylebias.rating import StyleBT
    from stylebias.rating.persist import load_stylebt, save_stylebt

    rng = np.random.default_rng(0)
    a = rng.choice(list("pqrs"), 200)
    b = np.array([{"p": "q", "q": "r", "r": "s", "s": "p"}[x] for x in a])
    z = rng.normal(size=(200, 2))
    y = (rng.random(200) < 1 / (1 + np.exp(-z[:, 0]))).astype(float)
    for ci in ("sandwich", "bootstrap"):
        fit = StyleBT(ci=ci, rounds=5).fit(a, b, y, z, ["tokens", "list_count"])
        path = save_stylebt(fit, base / f"sbt_{ci}", features=["tokens", "list_count"], card={"title": "t"})
        out[f"style-bt/{ci}"] = (path, load_stylebt)
    import shutil

    from stylebias.explain.persist import load_vote_model
    from stylebias.resources import models_dir

    shutil.copytree(models_dir() / "alpaca_eval_vote", base / "vote")
    out["vote-model"] = (base / "vote", load_vote_model)
    return out


def _load_checked(loader, path: Path) -> None:
    """Either ArtifactError, or a model whose numbers are all finite."""
    from stylebias.errors import ArtifactError

    try:
        obj = loader(path)
    except ArtifactError as exc:
        assert str(exc)
        event("refused with ArtifactError")
        return
    event("loaded (mutation harmless), predictions finite")
    if hasattr(obj, "booster"):  # a vote model: it must predict finite probabilities
        import numpy as np
        import pandas as pd

        models = sorted(obj.strength)[:2] if len(obj.strength) >= 2 else ["a", "b"]
        X = pd.DataFrame(0.0, index=[0], columns=obj.features)
        p = obj.predict_proba(models[:1], models[1:2], X)
        assert np.isfinite(p).all() and ((p >= 0) & (p <= 1)).all()
        return
    model = getattr(obj, "model", None)
    if model is not None:
        import numpy as np

        assert np.isfinite(np.asarray(model.ratings_, dtype=float)).all()
        assert np.isfinite(model.coef_).all()
        p = model.predict_proba(list(model.models_[:1]) * 2, list(model.models_[-1:]) * 2)
        assert np.isfinite(p).all()


mutation_kind = st.sampled_from(["delete", "junk", "nan", "inf", "version", "kind", "truncate", "bytes"])


@settings(
    max_examples=examples(120),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    which=st.integers(0, 100),
    kind=mutation_kind,
    pick=st.integers(0, 10**6),
    junk=st.sampled_from(range(len(JUNK))),
)
def test_mangled_artifacts_raise_artifact_error_only(saved_models, tmp_path_factory, which, kind, pick, junk):
    import shutil

    names = sorted(saved_models)
    src, loader = saved_models[names[which % len(names)]]
    folder = tmp_path_factory.mktemp("mangled") / "m"
    shutil.copytree(src, folder)
    env_path = folder / "artifact.json"
    raw = env_path.read_text()
    doc = json.loads(raw)
    paths = [p for p, _ in _walk(doc) if p]
    path = paths[pick % len(paths)]
    if kind == "delete":
        _set(doc, path, None, delete=True)
        text = json.dumps(doc)
    elif kind == "junk":
        _set(doc, path, JUNK[junk])
        text = json.dumps(doc)
    elif kind in ("nan", "inf"):
        _set(doc, path, float("nan") if kind == "nan" else float("inf"))
        text = json.dumps(doc)  # writes NaN / Infinity literals
        if kind == "inf" and pick % 2:
            text = text.replace("Infinity", "1e400")  # parses to inf without a literal
    elif kind == "version":
        doc["schema_version"] = JUNK[junk]
        text = json.dumps(doc)
    elif kind == "kind":
        doc["stylebias_artifact"] = JUNK[junk] if junk % 2 else "vote-model"
        text = json.dumps(doc)
    elif kind == "truncate":
        text = raw[: pick % len(raw)]
    else:
        data = bytearray(raw.encode())
        data[pick % len(data)] ^= 0xFF
        env_path.write_bytes(bytes(data))
        _load_checked(loader, folder)
        return
    env_path.write_text(text)
    _load_checked(loader, folder)


def test_overflowing_float_literal_is_refused(tmp_path: Path) -> None:
    """``1e400`` is valid JSON that parses to inf; the loader refuses it like NaN/Infinity literals."""
    from stylebias.artifacts import load_artifact, save_artifact
    from stylebias.errors import ArtifactError

    folder = save_artifact(tmp_path / "m", "k", {"v": [1.0, 2.0]}, {})
    env = folder / "artifact.json"
    env.write_text(env.read_text().replace("2.0", "1e400"))
    with pytest.raises(ArtifactError, match="non-finite number 1e400"):
        load_artifact(folder)


def test_explain_and_rerank_csv_exports_neutralise_hostile_names(hostile_file, fixtures, tmp_path) -> None:
    import gzip
    import shutil

    quick = [
        "--folds",
        "2",
        "--inner-folds",
        "2",
        "--boot",
        "5",
    ]  # the names, not the statistics, matter here
    # one run both prints the tables with the hostile names (not --quiet) and writes the CSV that is checked
    out = tmp_path / "e.csv"
    run_cli(
        "explain",
        str(hostile_file / "=evil.jsonl"),
        "--features",
        "lmarena",
        *quick,
        "--jobs",
        "1",
        "--csv",
        str(out),
    )
    text = "\n".join(",".join(r) for r in check_csv(out))
    assert "'=HYPERLINK" in text and "'-2+3" in text
    # rerank: rename one board model (and its outputs' generator) to a formula
    rr = tmp_path / "rr"
    shutil.copytree(fixtures / "rerank", rr)
    evil = '=HYPERLINK("http://x")'
    board = rr / "ae2_leaderboard.csv"
    board.write_text(board.read_text().replace("Qwen1.5-72B-Chat", evil.replace('"', '""').join('""')))
    src = rr / "Qwen1.5-72B-Chat.json.gz"
    rows = json.load(gzip.open(src))
    for r in rows:
        r["generator"] = evil
    src.unlink()
    with gzip.open(rr / "evil.json.gz", "wt") as fh:
        json.dump(rows, fh)
    out = tmp_path / "r.csv"
    run_cli(
        "rerank", str(board), "--outputs", str(rr), "--reference", "gpt4_1106_preview", "--load",
        "alpaca_eval_style", "--rounds", "10", "--csv", str(out), "--quiet",
    )  # fmt: skip
    text = "\n".join(",".join(r) for r in check_csv(out))
    assert "'=HYPERLINK" in text


def test_report_escapes_hostile_model_names_and_prompts(tmp_path: Path) -> None:
    """Cross-check of the report's escaping (its own tests are in test_report.py) with names built to break out
    of text, attributes and SVG."""
    import html.parser

    import numpy as np

    evil = [
        "<script>alert(1)</script>",
        '"><img src=x onerror=alert(2)>',
        "</svg><svg onload=alert(3)>",
        "ok",
    ]
    rng = np.random.default_rng(1)
    rows = []
    for i in range(80):
        a, b = rng.choice(len(evil), 2, replace=False)
        rows.append(
            {
                "model_a": evil[a],
                "model_b": evil[b],
                "winner": ["model_a", "model_b"][rng.integers(2)],
                "prompt": f"<b>{i}</b><script>x()</script>",
                "response_a": "- a\n" * int(rng.integers(1, 4)),
                "response_b": "text <iframe>",
            }
        )
    src = tmp_path / "evil.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "r.html"
    run_cli("report", str(src), "--features", "lmarena", "--no-explain", "-o", str(out), "--quiet")
    page = out.read_text(encoding="utf-8")
    for raw in evil[:3] + ["<iframe>", "<script>x()</script>"]:
        assert raw not in page, raw

    class Tags(html.parser.HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.bad: list[str] = []

        def handle_starttag(self, tag, attrs) -> None:
            if tag in ("script", "iframe", "img", "object", "embed") or any(
                k.startswith("on") for k, _ in attrs
            ):
                self.bad.append(f"<{tag} {attrs}>")

    from tests.test_report import our_script_only

    parser = Tags()
    parser.feed(our_script_only(page))  # the package's one script (allowed by its CSP hash), nothing else
    assert not parser.bad, parser.bad[:5]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
