"""Vote-model artifacts: exact round trip, --load reuses without refit, tampering is an ArtifactError."""

from __future__ import annotations

import json

import numpy as np
import pytest

import stylebias
from stylebias.artifacts import load_artifact
from stylebias.cli import main
from stylebias.errors import ArtifactError
from stylebias.explain import explain_battles, load_vote_model, save_vote_model

from .test_explain_core import synthetic


@pytest.fixture(scope="module")
def fitted(tmp_path_factory, synthetic_explanation):
    """The synthetic explanation test_explain_core reads (fitted once per run, conftest.py; its vote model has
    trees, so the saved folder holds a booster), saved here. What these tests check - an exact round trip,
    reuse without refit, tampering refused - does not depend on which fitted vote model is saved."""
    df, X = synthetic()  # the same votes the shared explanation was fitted on (fresh copies)
    res = synthetic_explanation
    assert res.vote_model.booster is not None
    folder = tmp_path_factory.mktemp("vote") / "m"
    save_vote_model(res.vote_model, folder, data_description="synthetic")
    return df, X, res, folder


def test_round_trip_predicts_identically(fitted):
    df, X, res, folder = fitted
    loaded = load_vote_model(folder)
    assert loaded.features == res.vote_model.features
    a, b = df["model_a"], df["model_b"]
    assert np.array_equal(loaded.predict_proba(a, b, X), res.vote_model.predict_proba(a, b, X))
    assert np.array_equal(loaded.contributions(X), res.vote_model.contributions(X))
    card = (folder / "MODEL_CARD.md").read_text(encoding="utf-8")
    assert "cv_log_loss" in card and "synthetic" in card and "tokens" in card


def test_load_reuses_without_refit(fitted):
    df, X, res, folder = fitted
    again = explain_battles(df, X, model=str(folder), bradley_terry=False)
    assert again.cv is None
    assert np.allclose(again.p, res.p, atol=0, rtol=0)
    assert again.to_json()["vote_model"]["reused_saved_model"] is True


def test_unknown_models_get_zero_strength_with_a_warning(fitted):
    df, X, _, folder = fitted
    renamed = df.assign(model_a=df["model_a"].replace({"m0": "new-model"}))
    with pytest.warns(stylebias.StyleBiasWarning, match="strength 0"):
        explain_battles(renamed, X, model=str(folder), bradley_terry=False)


def _copy(src, dst):
    dst.mkdir()
    for f in src.iterdir():
        (dst / f.name).write_bytes(f.read_bytes())
    return dst


def test_tampered_or_malformed_artifacts_are_artifact_errors(fitted, tmp_path):
    folder = fitted[3]
    t = _copy(folder, tmp_path / "tampered")
    txt = t / "vote_model.txt"
    txt.write_text(
        txt.read_text(encoding="utf-8").replace("leaf_value=", "leaf_value=9", 1), encoding="utf-8"
    )
    with pytest.raises(ArtifactError, match="SHA-256"):
        load_vote_model(t)

    bad = _copy(folder, tmp_path / "bad_payload")
    env = json.loads((bad / "artifact.json").read_text(encoding="utf-8"))
    env["payload"]["features"] = "tokens"
    (bad / "artifact.json").write_text(json.dumps(env), encoding="utf-8")
    with pytest.raises(ArtifactError, match="features"):
        load_vote_model(bad)

    extra = _copy(folder, tmp_path / "extra_feature")
    env = json.loads((extra / "artifact.json").read_text(encoding="utf-8"))
    env["payload"]["features"] = [*env["payload"]["features"], "words"]
    (extra / "artifact.json").write_text(json.dumps(env), encoding="utf-8")
    with pytest.raises(ArtifactError, match="features"):
        load_vote_model(extra)

    wrong_kind = tmp_path / "not_a_vote_model"
    from stylebias.artifacts import save_artifact

    save_artifact(wrong_kind, "style-bt", {"x": 1}, {})
    with pytest.raises(ArtifactError, match="expected 'vote-model'"):
        load_vote_model(wrong_kind)


def test_cli_load_of_a_tampered_model_exits_2(fitted, tmp_path, capsys):
    t = _copy(fitted[3], tmp_path / "t2")
    (t / "vote_model.txt").write_text("tree\nnot a model\n", encoding="utf-8")
    with pytest.raises(SystemExit) as exc:
        main(["explain", "--judge", "human", "--load", str(t), "--quiet"])
    assert exc.value.code == 2
    assert "SHA-256" in capsys.readouterr().err


def test_shipped_model_explains_demo_battles():
    art = load_artifact("alpaca_eval_vote", "vote-model")
    assert (art.path / "vote_model.txt").stat().st_size < 1_000_000
    vote = load_vote_model("alpaca_eval_vote")
    assert vote.metrics["cv_log_loss"] < vote.metrics["length_only_log_loss"]
    demo = stylebias.load_battles().battles
    few = demo[demo["judge"] != "human"].groupby("model_b").head(6).reset_index(drop=True)
    res = explain_battles(few, model="alpaca_eval_vote")
    assert res.cv is None and len(res.models) == 19
    assert np.abs(res.group_phi.sum(axis=1) - (res.p - res.p_neutral)).max() < 1e-9
    assert "NullModel won" in res.model_sentence("NullModel")
