"""``stylebias fit --save``: real loader, fit, artifact + model card, exact reload, exit codes."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from stylebias.rating.persist import load_stylebt
from tests._cli import run

REF = "ref-model"
GAMMA = 3.0  # true effect per unit of the tokens pair feature (a - b) / (a + b + 1)
STRENGTH = {"m-long": -0.4, "m-mid": 0.2, "m-short": 0.5, "m-even": 0.0}
MEAN_WORDS = {REF: 120, "m-long": 260, "m-mid": 150, "m-short": 50, "m-even": 120}


def text_of(n: int) -> str:
    """A reply of exactly ``n`` tokens in cl100k ("word" and " word" are one token each)."""
    return "word" + " word" * (n - 1)


def write_annotations(path, n_instructions=800, seed=0, models=tuple(STRENGTH)):
    """AlpacaEval 2 annotations (reference = side 1) with votes drawn from a known length effect."""
    rng = np.random.default_rng(seed)
    records = []
    ref_len = np.maximum(5, rng.normal(MEAN_WORDS[REF], 40, n_instructions)).astype(int)
    for m in models:
        lens = np.maximum(5, rng.normal(MEAN_WORDS[m], 50, n_instructions)).astype(int)
        for i in range(n_instructions):
            x = (lens[i] - ref_len[i]) / (lens[i] + ref_len[i] + 1)  # model minus reference
            p_model = 1 / (1 + math.exp(-(STRENGTH[m] + GAMMA * x)))
            records.append(
                {
                    "instruction": f"Question {i}: explain topic {i}.",
                    "output_1": text_of(int(ref_len[i])),
                    "generator_1": REF,
                    "output_2": text_of(int(lens[i])),
                    "generator_2": m,
                    "annotator": "synthetic_judge",
                    "preference": 2.0 if rng.random() < p_model else 1.0,
                }
            )
    path.write_text(json.dumps(records), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def synthetic_fit(tmp_path_factory):
    """One fitted + saved model shared by the tests below (and by test_rerank)."""
    folder = tmp_path_factory.mktemp("fit")
    data = write_annotations(folder / "annotations.json")
    return data, folder / "model"


def test_fit_saves_artifact_that_reloads_exactly(capsys, synthetic_fit, tmp_path):
    data, model_dir = synthetic_fit
    code, out, err = run(
        capsys,
        "fit",
        str(data),
        "--features",
        "tokens",
        "--save",
        str(model_dir),
        "--json",
        str(tmp_path / "f.json"),
    )
    assert code == 0, err
    assert "saved to" in out and "tokens" in out
    doc = json.loads((tmp_path / "f.json").read_text())
    assert doc["data"]["battles"] == 3200 and doc["data"]["models"] == 5
    assert doc["data"]["judges"] == {"synthetic_judge": 3200}
    assert doc["metrics"]["log_loss"] < math.log(2)
    # the length effect is recovered (per raw unit = coef / feature sd)
    eff = doc["effects"][0]
    assert eff["name"] == "tokens"
    assert abs(eff["coef"] / eff["feature_sd"] - GAMMA) < 0.4

    fitted = load_stylebt(model_dir)
    assert fitted.features == ["tokens"] and fitted.feature_set == "tokens"
    assert fitted.data["records"] == {"read": 3200, "accepted": 3200, "rejected": 0}
    card = (model_dir / "MODEL_CARD.md").read_text()
    for section in ("## data", "## features", "## metrics (in-sample)", "## intended use", "## limitations"):
        assert section in card
    assert "synthetic_judge (3,200)" in card

    # the reloaded model predicts exactly like a direct fit on the same battles
    import stylebias
    from stylebias.rating.persist import fit_style_model

    direct, _ = fit_style_model(stylebias.load_battles([str(data)]), "tokens", jobs=1)
    X = np.array([[0.3], [-0.2]])
    np.testing.assert_allclose(
        fitted.model.predict_proba([REF, "m-long"], ["m-mid", REF], X),
        direct.model.predict_proba([REF, "m-long"], ["m-mid", REF], X),
        rtol=0,
        atol=1e-12,
    )


def test_fit_usage_and_data_errors(capsys, tmp_path, synthetic_fit):
    data, _ = synthetic_fit
    code, _, err = run(capsys, "fit", str(data), "--features", "nonsense", "--save", str(tmp_path / "x"))
    assert code == 1 and "unknown feature" in err
    code, _, err = run(capsys, "fit", str(data), "--features", "tokens")
    assert code == 1  # --save is required
    bad = tmp_path / "bad.json"
    bad.write_text("[]")
    code, _, err = run(capsys, "fit", str(bad), "--features", "tokens", "--save", str(tmp_path / "y"))
    assert code == 2


def test_disconnected_data_fits_largest_component_with_warning(capsys, tmp_path):
    a = write_annotations(tmp_path / "a.json", n_instructions=60, models=("m-long", "m-mid"))
    b_records = json.loads(write_annotations(tmp_path / "b.json", n_instructions=40, seed=1).read_text())
    for r in b_records:
        r["generator_1"] = "other-ref"
        r["generator_2"] = "other-" + r["generator_2"]
    (tmp_path / "b.json").write_text(json.dumps(b_records))
    out_dir = tmp_path / "m"
    code, out, err = run(
        capsys, "fit", str(a), str(tmp_path / "b.json"), "--features", "tokens", "--save", str(out_dir)
    )
    assert code == 0, err
    assert "largest component" in err
    fitted = load_stylebt(out_dir)
    assert fitted.data["excluded_models"] == ["m-long", "m-mid", "ref-model"]
    assert set(fitted.model.models_) == {
        "other-ref",
        "other-m-long",
        "other-m-mid",
        "other-m-short",
        "other-m-even",
    }
    code, _, err = run(
        capsys, "fit", str(a), str(tmp_path / "b.json"), "--features", "tokens", "--save", str(out_dir),
        "--components", "refuse",
    )  # fmt: skip
    assert code == 2 and "disconnected" in err
