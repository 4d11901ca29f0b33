"""Artifact envelope: round trip, schema version, hashes, malformed files give ArtifactError."""

from __future__ import annotations

import json

import pytest

from stylebias.artifacts import SCHEMA_VERSION, load_artifact, require, save_artifact
from stylebias.errors import ArtifactError


def _save(tmp_path):
    return save_artifact(
        tmp_path / "m",
        "test-kind",
        {"coef": [0.5, -1.0], "names": ["a", "b"]},
        {"title": "t", "data": {"battles": 3}},
        files={"booster.txt": "tree\n"},
    )


def test_round_trip(tmp_path):
    art = load_artifact(_save(tmp_path), kind="test-kind")
    assert art.payload == {"coef": [0.5, -1.0], "names": ["a", "b"]}
    assert art.text("booster.txt") == "tree\n"
    assert "battles: 3" in (tmp_path / "m" / "MODEL_CARD.md").read_text()
    require(art.payload, {"coef": "list[float]", "names": "list[str]"})


def test_wrong_kind_and_version(tmp_path):
    folder = _save(tmp_path)
    with pytest.raises(ArtifactError, match="expected 'other'"):
        load_artifact(folder, kind="other")
    env = json.loads((folder / "artifact.json").read_text())
    env["schema_version"] = SCHEMA_VERSION + 1
    (folder / "artifact.json").write_text(json.dumps(env))
    with pytest.raises(ArtifactError, match="schema_version"):
        load_artifact(folder)


def test_tampered_file_and_bad_json(tmp_path):
    folder = _save(tmp_path)
    (folder / "booster.txt").write_text("evil\n")
    with pytest.raises(ArtifactError, match="SHA-256"):
        load_artifact(folder)
    (folder / "artifact.json").write_text("{not json")
    with pytest.raises(ArtifactError, match="not valid JSON"):
        load_artifact(folder)


def test_non_finite_rejected_both_ways(tmp_path):
    with pytest.raises(ArtifactError, match="non-finite"):
        save_artifact(tmp_path / "x", "k", {"v": float("nan")}, {})
    folder = _save(tmp_path)
    (folder / "artifact.json").write_text(
        '{"stylebias_artifact": "k", "schema_version": 1, "payload": {"v": NaN}}'
    )
    with pytest.raises(ArtifactError):
        load_artifact(folder)


def test_require_names_field():
    with pytest.raises(ArtifactError, match="'coef' must be list\\[float\\]"):
        require({"coef": [1, "x"]}, {"coef": "list[float]"})
    with pytest.raises(ArtifactError, match="missing field 'scale'"):
        require({}, {"scale": "float"})


def test_missing_folder_clear_error(tmp_path):
    with pytest.raises(ArtifactError, match="no saved model"):
        load_artifact(tmp_path / "nope")
