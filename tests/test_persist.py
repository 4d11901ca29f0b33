"""StyleBT persistence: a loaded model predicts exactly like the original; malformed fields are named."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from stylebias.errors import ArtifactError
from stylebias.rating import StyleBT
from stylebias.rating.persist import KIND, data_summary, load_stylebt, save_stylebt


def _votes(seed: int = 0, n: int = 3000, ties: bool = False):
    rng = np.random.default_rng(seed)
    models = np.array(["m0", "m1", "m2", "m3", "m4"])
    strength = np.array([0.0, 0.3, -0.2, 0.6, 0.1])
    a = rng.integers(0, 5, n)
    b = (a + rng.integers(1, 5, n)) % 5
    Z = rng.normal(size=(n, 3)) * [1.0, 2.0, 0.5] + [0.1, 0.0, -0.2]
    eta = np.log(10) * (strength[a] - strength[b]) + Z @ [0.5, -0.2, 0.0]
    y = (rng.random(n) < expit(eta)).astype(float)
    if ties:
        y[rng.random(n) < 0.15] = 0.5
    return models[a], models[b], y, pd.DataFrame(Z, columns=["length", "emoji", "bold"])


def _same_predictions(m1: StyleBT, m2: StyleBT, Z: pd.DataFrame, a, b) -> None:
    np.testing.assert_allclose(
        m2.decision_function(a, b, Z), m1.decision_function(a, b, Z), rtol=0, atol=1e-12
    )
    np.testing.assert_allclose(m2.predict_proba(a, b, Z), m1.predict_proba(a, b, Z), rtol=0, atol=1e-12)
    np.testing.assert_allclose(m2.predict_proba(a, b), m1.predict_proba(a, b), rtol=0, atol=1e-12)
    e1, e2 = m1.effects(), m2.effects()
    pd.testing.assert_frame_equal(e1, e2, check_exact=True)
    pd.testing.assert_frame_equal(m1.winrate_vs("m0"), m2.winrate_vs("m0"), check_exact=True)
    pd.testing.assert_series_equal(m1.ratings_, m2.ratings_, check_exact=True)
    pd.testing.assert_series_equal(m1.rating_low_, m2.rating_low_, check_exact=True)
    pd.testing.assert_frame_equal(m1.style_contributions(), m2.style_contributions(), check_exact=True)
    assert m2.get_params() == {**m1.get_params(), "n_jobs": None}


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"ties": "rao-kupper", "anchor": ("m2", 1200.0)},
        {"ci": "bootstrap", "rounds": 8, "seed": 3, "n_jobs": 1},
    ],
)
def test_round_trip_is_exact(tmp_path, kwargs):
    a, b, y, Z = _votes(ties=kwargs.get("ties") == "rao-kupper")
    m1 = StyleBT(**kwargs).fit(a, b, y, Z)
    battles = pd.DataFrame({"model_a": a, "model_b": b, "judge": "j", "source_file": "f.json"})
    summary = data_summary(battles, files=["f.json"])
    folder = save_stylebt(
        m1, tmp_path / "bt", features=list(Z.columns), card={"title": "t"}, data=summary, feature_set=None
    )
    loaded = load_stylebt(folder)
    assert loaded.features == ["length", "emoji", "bold"]
    assert (
        loaded.data["battles"] == 3000 and loaded.data["models"] == 5 and loaded.data["judges"] == {"j": 3000}
    )
    _same_predictions(m1, loaded.model, Z.iloc[:200], a[:200], b[:200])
    if m1.boot_theta_ is not None:
        np.testing.assert_array_equal(loaded.model.boot_theta_, m1.boot_theta_)


def test_dropped_feature_and_no_features(tmp_path):
    a, b, y, Z = _votes(seed=1, n=800)
    Z["flat"] = 0.0
    with pytest.warns(Warning):
        m1 = StyleBT().fit(a, b, y, Z)
    assert m1.dropped_features_ == ["flat"]
    loaded = load_stylebt(save_stylebt(m1, tmp_path / "d", features=list(Z.columns), card={}))
    assert loaded.model.dropped_features_ == ["flat"] and loaded.features[-1] == "flat"
    _same_predictions(m1, loaded.model, Z, a, b)
    m0 = StyleBT().fit(a, b, y)
    _same_predictions(
        m0, load_stylebt(save_stylebt(m0, tmp_path / "n", features=[], card={})).model, None, a, b
    )


def _saved(tmp_path):
    a, b, y, Z = _votes(seed=2, n=600)
    return save_stylebt(StyleBT().fit(a, b, y, Z), tmp_path / "x", features=list(Z.columns), card={})


def _edit(folder, fn):
    env = json.loads((folder / "artifact.json").read_text())
    fn(env["payload"])
    (folder / "artifact.json").write_text(json.dumps(env))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda p: p.pop("coef"), "missing field 'coef'"),
        (lambda p: p.__setitem__("beta", p["beta"][:-1]), "'beta' has 4 entries"),
        (lambda p: p.__setitem__("beta", ["x"] * 5), "'beta' must be list\\[float\\]"),
        (lambda p: p["covariance"].pop(), "'covariance' must be a 8 x 8 matrix"),
        (lambda p: p.__setitem__("feature_scale", [1.0, -1.0, 1.0]), "'feature_scale' must be positive"),
        (lambda p: p["params"].__setitem__("ties", "coin"), "ties must be one of"),
        (lambda p: p["params"].__setitem__("anchor", ["nobody", 1000]), "anchor model 'nobody'"),
        (lambda p: p.__setitem__("feature_names", ["length", "emoji", "zzz"]), "not in field 'features'"),
    ],
)
def test_malformed_field_is_named(tmp_path, edit, message):
    folder = _saved(tmp_path)
    _edit(folder, edit)
    with pytest.raises(ArtifactError, match=message) as info:
        load_stylebt(folder)
    assert "artifact.json" in str(info.value)


def test_wrong_kind_rejected(tmp_path):
    from stylebias.artifacts import save_artifact

    save_artifact(tmp_path / "o", "vote-model", {}, {})
    with pytest.raises(ArtifactError, match=repr(KIND)):
        load_stylebt(tmp_path / "o")
