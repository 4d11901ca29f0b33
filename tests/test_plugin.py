"""StyleControl: FastChat-shaped input, exact warm-started updates, adjust/explain, JSON save/load."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from stylebias import load_battles, validate_battles
from stylebias.errors import ArtifactError, DataError, UsageError
from stylebias.plugin import StyleControl, as_battleset, to_contextual_pairs
from stylebias.rating import StyleBT, rank_battles
from stylebias.rating.persist import load_stylebt

LMARENA = ["tokens", "header_count", "list_count", "bold_count"]


def lmarena_from_meta(battles: pd.DataFrame) -> pd.DataFrame:
    """LMArena's normalised differences (a - b) / (a + b + 1) from the ``meta_*`` columns, restated here."""
    out = {}
    for name in LMARENA:
        a = battles[f"meta_{name}_a"].to_numpy(dtype=np.float64)
        b = battles[f"meta_{name}_b"].to_numpy(dtype=np.float64)
        out[name] = (a - b) / (a + b + 1.0)
    return pd.DataFrame(out)


def fastchat_meta(n: int, seed: int, n_models: int = 8, prefix: str = "model") -> pd.DataFrame:
    """FastChat's metadata-only battles frame (``conv_metadata`` dicts, ints and nested dicts)."""
    rng = np.random.default_rng(seed)
    beta = np.linspace(-0.4, 0.4, n_models)
    a = rng.integers(0, n_models, n)
    b = (a + rng.integers(1, n_models, n)) % n_models
    ta, tb = rng.integers(20, 1000, n), rng.integers(20, 1000, n)
    ha, hb = rng.poisson(1.0, (2, n))
    la, lb = rng.poisson(3.0, (2, n))
    ba, bb = rng.poisson(2.0, (2, n))
    eta = (
        math.log(10) * (beta[a] - beta[b]) + 1.2 * (ta - tb) / (ta + tb + 1) + 0.3 * (ba - bb) / (ba + bb + 1)
    )
    u = rng.random(n)
    winner = np.where(u < 0.15, "tie", np.where(rng.random(n) < expit(eta), "model_a", "model_b"))
    winner = np.where((u >= 0.15) & (u < 0.2), "tie (bothbad)", winner)
    names = np.array([f"{prefix}-{i}" for i in range(n_models)])
    meta = [
        {
            "sum_assistant_a_tokens": int(ta[i]),
            "sum_assistant_b_tokens": int(tb[i]),
            "header_count_a": {"h1": int(ha[i]), "h2": 0},
            "header_count_b": {"h1": int(hb[i]), "h2": 0},
            "list_count_a": {"ordered": int(la[i]), "unordered": 0},
            "list_count_b": {"ordered": int(lb[i]), "unordered": 0},
            "bold_count_a": {"**": int(ba[i]), "__": 0},
            "bold_count_b": {"**": int(bb[i]), "__": 0},
        }
        for i in range(n)
    ]
    return pd.DataFrame(
        {
            "question_id": [f"q{seed}-{i}" for i in range(n)],
            "model_a": names[a],
            "model_b": names[b],
            "winner": winner,
            "judge": "arena",
            "turn": 1,
            "anony": True,
            "language": "English",
            "conv_metadata": meta,
        }
    )


@pytest.fixture(scope="module")
def old_new() -> tuple[pd.DataFrame, pd.DataFrame]:
    old = fastchat_meta(6000, seed=1)
    new = fastchat_meta(600, seed=2)
    # a brand-new model appears in the new battles
    new.loc[:59, "model_a"] = "newcomer"
    return old, new


def test_fit_on_fastchat_metadata_frame_equals_stylebt_on_its_counts(old_new):
    old, _ = old_new
    sc = StyleControl().fit(old)
    assert sc.features_ == LMARENA and sc.feature_names_ == LMARENA
    assert sc.n_obs_ == len(old) and len(sc.rejects_) == 0
    # the same fit by hand: LMArena's normalised differences of the conv_metadata counts
    bs = as_battleset(old)
    X = lmarena_from_meta(bs.battles)
    ref = StyleBT().fit(bs.battles["model_a"], bs.battles["model_b"], bs.battles["pref_a"], X)
    np.testing.assert_allclose(sc.ratings_.reindex(ref.models_), ref.ratings_, atol=1e-9)
    np.testing.assert_allclose(sc.coef_.to_numpy(), ref.coef_, atol=1e-12)
    # the simulated style effect is found: longer answers win
    assert sc.coefficients().set_index("name").loc["tokens", "low"] > 0
    board = sc.leaderboard()
    assert list(board.columns[:14]) == [
        "model",
        "battles",
        "rating",
        "rating_low",
        "rating_high",
        "rank",
        "rating_raw",
        "rating_raw_low",
        "rating_raw_high",
        "rank_raw",
        "style_gain",
        "style_gain_low",
        "style_gain_high",
        "shift",
    ]
    assert board["rating"].is_monotonic_decreasing
    assert set(board["model"]) == set(sc.ratings_.index)
    np.testing.assert_allclose(
        board.set_index("model")["rating_raw"], sc.ratings_raw_.reindex(board["model"])
    )


def test_bad_rows_are_kept_in_the_rejects_ledger_with_row_numbers(old_new):
    old, _ = old_new
    bad = old.head(300).copy()
    bad.loc[4, "winner"] = "bogus"
    bad.at[9, "conv_metadata"] = None
    sc = StyleControl().fit(bad)
    rej = sc.rejects_
    assert sorted(rej["record"].tolist()) == [5, 10]
    assert any("bogus" in r for r in rej["reason"]) and any("conv_metadata" in r for r in rej["reason"])
    assert sc.n_obs_ == 298
    assert sc.rank_result_.data == {"read": 300, "accepted": 298, "rejected": 2}


def test_all_rows_rejected_is_a_data_error_with_reasons(old_new):
    old, _ = old_new
    bad = old.head(5).assign(winner="bogus")
    with pytest.raises(DataError, match="unknown vote label"):
        StyleControl().fit(bad)


def test_update_equals_a_fresh_fit_on_the_union(old_new):
    old, new = old_new
    sc = StyleControl().fit(old)
    before = sc.controlled_.n_iter_
    sc.update(new)
    fresh = StyleControl().fit(pd.concat([old, new], ignore_index=True))
    assert "newcomer" in sc.ratings_.index and sc.n_obs_ == len(old) + len(new)
    for got, want in ((sc.ratings_, fresh.ratings_), (sc.ratings_raw_, fresh.ratings_raw_)):
        assert np.abs(got.reindex(want.index) - want).max() < 1e-6
    assert np.abs(sc.coef_ - fresh.coef_).max() < 1e-6
    # the two CIs agree too (same data, same optimum)
    lb, lf = sc.leaderboard().set_index("model"), fresh.leaderboard().set_index("model")
    assert np.abs(lb["rating_low"] - lf.loc[lb.index, "rating_low"]).max() < 1e-6
    assert (lb["rank"] == lf.loc[lb.index, "rank"]).all()
    # the warm start needs fewer Newton steps than starting from zero
    assert sc.controlled_.n_iter_ < fresh.controlled_.n_iter_
    assert before >= sc.controlled_.n_iter_


def test_update_before_fit_and_with_metadata_for_text_features():
    with pytest.raises(UsageError, match="not fitted"):
        StyleControl().update(fastchat_meta(10, seed=3))
    with pytest.raises(UsageError, match="not fitted"):
        StyleControl().leaderboard()


def test_adjust_neutral_is_the_model_with_style_differences_zero(old_new):
    old, _ = old_new
    sc = StyleControl().fit(old)
    probe = old.head(200)
    adj = sc.adjust(probe)
    assert len(adj) == 200 and adj.attrs["unrated"] == 0
    bt = sc.controlled_
    bs = as_battleset(probe)
    X = lmarena_from_meta(bs.battles)
    beta = pd.Series(bt.beta_, index=bt.models_)
    d = math.log(10) * (beta[adj["model_a"]].to_numpy() - beta[adj["model_b"]].to_numpy())
    z0 = -bt.feature_mean_ / bt.feature_scale_  # raw difference 0, standardised
    np.testing.assert_allclose(adj["neutral"], expit(d + z0 @ bt.coef_), atol=1e-12)
    z = (X.to_numpy() - bt.feature_mean_) / bt.feature_scale_
    np.testing.assert_allclose(adj["expected"], expit(d + z @ bt.coef_), atol=1e-12)
    np.testing.assert_allclose(adj["style_effect"], adj["expected"] - adj["neutral"])
    np.testing.assert_allclose(adj["pref_a_adjusted"], adj["pref_a"] - adj["style_effect"])
    # a battle whose answers are styled alike has no style effect
    same = probe.head(1).copy()
    same.at[same.index[0], "conv_metadata"] = {
        k: v for k, v in old.at[0, "conv_metadata"].items() if k.endswith("_a") or "_a_" in k
    } | {
        "sum_assistant_b_tokens": old.at[0, "conv_metadata"]["sum_assistant_a_tokens"],
        "header_count_b": old.at[0, "conv_metadata"]["header_count_a"],
        "list_count_b": old.at[0, "conv_metadata"]["list_count_a"],
        "bold_count_b": old.at[0, "conv_metadata"]["bold_count_a"],
    }
    assert abs(float(sc.adjust(same)["style_effect"].iloc[0])) < 1e-12
    # unknown models get NaN, counted
    other = probe.head(3).copy()
    other.loc[:, "model_a"] = "stranger"
    out = sc.adjust(other)
    assert out["neutral"].isna().all() and out.attrs["unrated"] == 3


def test_explain_is_the_bt_decomposition(old_new):
    old, _ = old_new
    sc = StyleControl().fit(old)
    top = sc.leaderboard()["model"].iloc[0]
    ex = sc.explain(top)
    contrib = sc.controlled_.style_contributions().loc[top]
    np.testing.assert_allclose(ex.set_index("feature")["elo_points"].reindex(contrib.index), contrib)
    assert ex["elo_points"].abs().is_monotonic_decreasing
    assert ex.attrs["rank"] == 1 and ex.attrs["model"] == top
    with pytest.raises(UsageError, match="did you mean model-1"):
        sc.explain("MODEL-1x"[:7])


def test_inputs_battleset_canonical_frame_and_fastchat_frame_agree(old_new):
    old, _ = old_new
    bs = as_battleset(old.head(1000))
    canonical = bs.battles.drop(columns=["source_file", "source_record"])
    a = StyleControl().fit(old.head(1000))
    b = StyleControl().fit(bs)
    c = StyleControl().fit(canonical)
    for other in (b, c):
        pd.testing.assert_series_equal(a.ratings_, other.ratings_)
    assert isinstance(validate_battles(canonical).battles, pd.DataFrame)
    with pytest.raises(UsageError, match="DataFrame"):
        StyleControl().fit([1, 2, 3])


def test_matches_rank_battles(old_new):
    old, _ = old_new
    sc = StyleControl(components="largest").fit(old)
    rr = rank_battles(as_battleset(old), "lmarena", components="largest")
    pd.testing.assert_frame_equal(sc.leaderboard(), rr.models)


def test_save_load_round_trip_and_update_after_load(tmp_path, old_new):
    old, new = old_new
    sc = StyleControl().fit(old)
    path = sc.save(tmp_path / "sc")
    loaded = StyleControl.load(path)
    pd.testing.assert_frame_equal(loaded.leaderboard(), sc.leaderboard())
    pd.testing.assert_series_equal(loaded.coef_, sc.coef_)
    assert loaded.get_params() == sc.get_params()
    np.testing.assert_array_equal(
        loaded.adjust(new.head(50))["neutral"].to_numpy(), sc.adjust(new.head(50))["neutral"].to_numpy()
    )
    # a loaded model can be updated and equals the in-memory update
    loaded.update(new)
    sc.update(new)
    assert np.abs(loaded.ratings_ - sc.ratings_.reindex(loaded.ratings_.index)).max() < 1e-9
    # the artifact is a plain style-bt model: rerank --load and load_stylebt read it
    fitted = load_stylebt(path)
    assert fitted.features == LMARENA
    np.testing.assert_allclose(
        fitted.model.ratings_, StyleControl.load(path).ratings_.reindex(fitted.model.models_)
    )
    env = json.loads((path / "artifact.json").read_text())
    assert env["stylebias_artifact"] == "style-bt" and "design.json" in env["files"]
    assert not list(path.glob("*.pkl"))


def test_save_without_data_cannot_update(tmp_path, old_new):
    old, new = old_new
    path = StyleControl().fit(old.head(2000)).save(tmp_path / "small", include_data=False)
    assert not (path / "design.json").exists()
    loaded = StyleControl.load(path)
    assert len(loaded.leaderboard()) == 8
    with pytest.raises(UsageError, match="include_data"):
        loaded.update(new)


def test_load_rejects_tampered_or_foreign_artifacts(tmp_path, old_new):
    old, _ = old_new
    path = StyleControl().fit(old.head(2000)).save(tmp_path / "m")
    design = path / "design.json"
    design.write_text(design.read_text().replace('"pref_a":[', '"pref_a":[0.25,', 1))
    with pytest.raises(ArtifactError, match="SHA-256"):
        StyleControl.load(path)
    # a style-bt artifact written without StyleControl is refused with a pointer to load_stylebt
    from stylebias.rating.persist import save_stylebt

    bs = as_battleset(old.head(2000))
    bt = StyleBT().fit(
        bs.battles["model_a"], bs.battles["model_b"], bs.battles["pref_a"], lmarena_from_meta(bs.battles)
    )
    plain = save_stylebt(bt, tmp_path / "plain", features=LMARENA, card={"title": "t"})
    with pytest.raises(ArtifactError, match="load_stylebt"):
        StyleControl.load(plain)
    # a malformed params block is named
    env_path = path / "artifact.json"
    path2 = StyleControl().fit(old.head(2000)).save(tmp_path / "m2")
    env = json.loads((path2 / "artifact.json").read_text())
    env["payload"]["extra"]["style_control"]["params"]["bogus"] = 1
    (path2 / "artifact.json").write_text(json.dumps(env))
    with pytest.raises(ArtifactError, match="params"):
        StyleControl.load(path2)
    assert env_path.exists()


def test_text_battles_with_conversations(tmp_path):
    """FastChat conversation frames go through text feature extraction (features from the texts)."""
    rng = np.random.default_rng(5)
    models = ["m-a", "m-b", "m-c", "m-d"]
    rows = []
    for i in range(80):
        a, b = rng.choice(4, 2, replace=False)
        la, lb = rng.integers(3, 40, 2)
        text_a = " ".join(["word"] * int(la)) + ("\n\n**bold** point" if i % 3 == 0 else "")
        text_b = " ".join(["token"] * int(lb)) + ("\n- item\n- item" if i % 4 == 0 else "")
        rows.append(
            {
                "question_id": f"t{i}",
                "model_a": models[a],
                "model_b": models[b],
                "winner": ["model_a", "model_b", "tie"][i % 3] if la < 30 else "model_a",
                "conversation_a": [
                    {"role": "user", "content": f"q{i}"},
                    {"role": "assistant", "content": text_a},
                ],
                "conversation_b": [
                    {"role": "user", "content": f"q{i}"},
                    {"role": "assistant", "content": text_b},
                ],
                "turn": 1,
            }
        )
    df = pd.DataFrame(rows)
    sc = StyleControl(features=["tokens", "bold_count", "list_count"], n_jobs=1, cache=False).fit(df)
    assert sc.n_obs_ == 80 and sc.features_ == ["tokens", "bold_count", "list_count"]
    assert set(sc.ratings_.index) == set(models)
    adj = sc.adjust(df.head(10))
    assert adj["neutral"].between(0, 1).all()


def test_to_contextual_pairs_matches_arena_rank_schema(old_new):
    old, _ = old_new
    df = to_contextual_pairs(old.head(500), "lmarena")
    assert list(df.columns) == ["model_a", "model_b", "winner", "pref_a", *LMARENA]
    assert df.attrs["feature_cols"] == LMARENA
    assert set(df["winner"]) <= {"model_a", "model_b", "tie", "both_bad"}
    # FastChat's "tie (bothbad)" becomes arena-rank's "both_bad"
    src = old.head(500)["winner"].to_numpy()
    assert ((df["winner"] == "both_bad").to_numpy() == (src == "tie (bothbad)")).all()
    # arena-rank's default outcome map reproduces pref_a
    mapping = {"model_a": 1.0, "model_b": 0.0, "tie": 0.5, "both_bad": 0.5}
    np.testing.assert_array_equal(df["winner"].map(mapping).to_numpy(), df["pref_a"].to_numpy())
    # the feature columns are LMArena's normalised differences, float, finite, one row per battle
    bs = as_battleset(old.head(500))
    np.testing.assert_allclose(df[LMARENA].to_numpy(), lmarena_from_meta(bs.battles).to_numpy())
    assert all(df[c].dtype == np.float64 for c in LMARENA)


def test_to_contextual_pairs_in_arena_rank_if_installed(old_new):
    data_utils = pytest.importorskip("arena_rank.utils.data_utils")
    old, _ = old_new
    df = to_contextual_pairs(old.head(500), "lmarena")
    ds = data_utils.ContextualPairDataset.from_pandas(df, feature_cols=df.attrs["feature_cols"])
    assert ds.n_pairs == 500 and ds.n_features == 4


def test_demo_fit_smoke():
    """The embedded demo (AlpacaEval annotations) through StyleControl with LMArena's four features."""
    bs = load_battles()
    sc = StyleControl(features="lmarena", n_jobs=1).fit(bs)
    # AlpacaEval and PandaLM share no model: the largest component is rated, PandaLM's models are listed
    assert sc.n_obs_ == (bs.battles["source_file"].str.contains("alpaca")).sum()
    assert len(sc.excluded_) == 5 and sc.excluded_["reason"].str.contains("not connected").all()
    assert sc.coefficients().set_index("name").loc["tokens", "low"] > 0  # AlpacaEval's known length bias


def test_explain_with_battles_uses_the_vote_model(old_new):
    """``explain(model, battles)`` delegates to stylebias.explain (LightGBM + SHAP) with this fit's features."""
    pytest.importorskip("lightgbm")
    old, _ = old_new
    data = old.head(2000)
    sc = StyleControl().fit(data)
    # extra keywords pass through to explain_battles; 2 x 2 folds instead of the default 5 x 5 (and 10
    # bootstrap replicates instead of 100) because what is checked here - the delegation, the table's shape,
    # points adding up to predicted minus neutral, the sentence - holds for any fold count
    ex = sc.explain("model-7", data, folds=2, inner_folds=2, boot=10)
    assert ex.attrs["result"].cv.folds == 2 and ex.attrs["result"].cv.inner_folds == 2  # passed through
    assert list(ex.columns) == ["group", "points"] and len(ex) >= 1
    # group points add up to the predicted minus style-neutral win rate, in points
    assert ex["points"].sum() == pytest.approx(100 * (ex.attrs["predicted"] - ex.attrs["neutral"]), abs=1e-9)
    assert ex.attrs["sentence"].startswith("model-7 won")
    assert list(ex.attrs["result"].vote_model.features) == LMARENA
