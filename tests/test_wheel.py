"""The installed wheel carries everything the package needs at run time.

Builds the wheel, installs it with ``--no-deps`` into a fresh virtualenv whose dependencies are borrowed from
the running interpreter through a ``.pth`` file (so no download), then runs the main job from a directory
outside the source tree. The source checkout must not be importable there: the test checks which
``stylebias`` was imported.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

from .conftest import ROOT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        text=True,
    )
    wheels = sorted(out.glob("stylebias-*.whl"))
    assert len(wheels) == 1
    return wheels[0]


def test_wheel_contains_runtime_data(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert any(n.startswith("stylebias/_features/") and n.endswith((".yaml", ".yml", ".json")) for n in names)
    assert "stylebias/_features/README.md" in names
    assert any(n.startswith("stylebias/data/demo/") for n in names)
    assert any(n.startswith("stylebias/_models/") for n in names)
    # nothing from the test tree or caches leaks into the wheel
    assert not any(n.startswith(("tests/", "bench/")) or "__pycache__" in n for n in names)


def test_wheel_runs_main_job_in_fresh_venv(wheel: Path, tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False, clear=True).create(env_dir)
    py = env_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    site = Path(
        subprocess.run(
            [str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    # Borrow the dependencies of the running interpreter (appended after the venv's own site-packages).
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site / "_borrowed_deps.pth").write_text("\n".join(sorted(deps)) + "\n")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--no-index",
            "--quiet",
            "--target",
            str(site),
            str(wheel),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    clean_env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    clean_env["STYLEBIAS_CACHE_DIR"] = str(tmp_path / "cache")
    where = subprocess.run(
        [
            str(py),
            "-c",
            "import stylebias, stylebias.resources as r; print(stylebias.__file__); print(r.features_dir())",
        ],
        cwd=workdir,
        env=clean_env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.splitlines()
    assert where[0].startswith(str(site)), where
    assert where[1].startswith(str(site)) and where[1].endswith("_features"), where
    out_json = tmp_path / "rank.json"
    run = subprocess.run(
        [str(py), "-m", "stylebias", "rank", "--features", "lmarena", "--quiet", "--json", str(out_json)],
        cwd=workdir,
        env=clean_env,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    payload = json.loads(out_json.read_text())
    assert payload["data"]["accepted"] > 0
    assert payload["data"]["read"] == payload["data"]["accepted"] + payload["data"]["rejected"]
    assert {m["model"] for m in payload["models"]} >= {
        "gpt-3.5-turbo-1106_verbose",
        "gpt-3.5-turbo-1106_concise",
    }
    # detectors read their YAML patterns and shipped models load from inside the installed package
    probe = (
        "import json, stylebias\n"
        "from stylebias.artifacts import load_artifact\n"
        "f = stylebias.response_features(['Great question! I cannot help with that, as an AI.'], features='full')\n"
        "kinds = [load_artifact(n).kind for n in ('alpaca_eval_style', 'alpaca_eval_style_all', 'alpaca_eval_vote')]\n"
        "paths = [str(load_artifact(n).path) for n in ('alpaca_eval_style', 'alpaca_eval_vote')]\n"
        "from stylebias.extract.detectors.detect import load_models\n"
        "from stylebias.rating.simex import load_misclassification\n"
        "print(json.dumps({'flattery': int(f['flattery'][0]), 'refusal': str(f['refusal'][0]), 'kinds': kinds, "
        "'paths': paths, 'detectors': str(load_models().path), 'confusion': load_misclassification().basis}))\n"
    )
    res = subprocess.run(
        [str(py), "-c", probe], cwd=workdir, env=clean_env, capture_output=True, text=True, check=False
    )
    assert res.returncode == 0, res.stderr[-3000:]
    got = json.loads(res.stdout)
    assert got["flattery"] == 1 and got["refusal"] == "full", got
    assert got["kinds"] == ["style-bt", "style-bt", "vote-model"], got
    assert all(p.startswith(str(site)) and "_models" in p for p in got["paths"]), got
    assert got["detectors"].startswith(str(site)) and got["detectors"].endswith("_models/detectors"), got
    assert got["confusion"] == "validation", got  # the measured misclassification ships with the detectors
