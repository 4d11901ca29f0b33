"""The detector-error correction (MC-SIMEX): its parts do what the method says, the whole undoes a planted
misclassification in the right direction, leaves error-free labels alone, and refuses what it cannot do."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from stylebias.errors import DataError, UsageError
from stylebias.rating import Design, FitSettings
from stylebias.rating.simex import (
    DETECTOR_LEVELS,
    Misclassification,
    SeenLabels,
    attenuation,
    check_consistent,
    correct_detector_error,
    extrapolate,
    implied_true_rates,
    load_misclassification,
    matrix_power,
    pair_columns,
    redraw,
    seen_rates,
    simex_fit,
    stratified_matrix,
)
from tests._cli import run

SETTINGS = FitSettings(features=("tokens", "flattery"))


# ------------------------------------------------------------------------------------------------ the parts
def test_redraw_follows_the_matrix_and_keeps_not_applicable() -> None:
    rng = np.random.default_rng(0)
    codes = np.array([0.0, 1.0, 2.0, np.nan, 0.0])
    assert np.array_equal(redraw(codes, np.eye(3), rng), codes, equal_nan=True)
    everything_full = np.tile([0.0, 0.0, 1.0], (3, 1))
    assert np.array_equal(redraw(codes, everything_full, rng), [2.0, 2.0, 2.0, np.nan, 2.0], equal_nan=True)
    many = redraw(np.zeros(20_000), np.array([[0.9, 0.1], [0.0, 1.0]]), rng)
    assert abs(many.mean() - 0.1) < 0.01


def test_matrix_power_is_a_confusion_that_composes() -> None:
    p = np.array([[0.97, 0.02, 0.01], [0.2, 0.5, 0.3], [0.25, 0.09, 0.66]])
    assert np.allclose(matrix_power(p, 1.0), p)
    assert np.allclose(matrix_power(p, 0.0), np.eye(3))
    half = matrix_power(p, 0.5)
    assert np.allclose(half @ half, p, atol=1e-6)
    assert (half >= 0).all() and np.allclose(half.sum(axis=1), 1.0)


def test_matrix_power_refuses_a_confusion_without_a_real_power() -> None:
    swap = np.array([[0.1, 0.9], [0.9, 0.1]])  # eigenvalue -0.8: mostly wrong labels
    with pytest.raises(UsageError, match="eigenvalues"):
        matrix_power(swap, 0.5)


def test_extrapolate_is_exact_on_a_quadratic_in_every_column() -> None:
    lam = np.array([0.0, 0.5, 1.0, 1.5, 2.0])
    values = np.column_stack([1 + 2 * lam - 0.5 * lam**2, 3 - lam])
    assert np.allclose(extrapolate(lam, values), [1 - 2 - 0.5, 4.0])


def test_pair_columns_is_no_difference_where_a_side_is_not_applicable() -> None:
    out = pair_columns({"refusal": (np.array([2.0, np.nan, 1.0]), np.array([0.0, 1.0, np.nan]))})
    assert out["refusal"].tolist() == [2.0, 0.0, 0.0]


def test_attenuation_is_none_without_error_and_strongest_for_a_rare_label() -> None:
    m = np.array([[0.99, 0.01], [0.15, 0.85]])
    assert attenuation(np.eye(2), np.array([0.7, 0.3])) == pytest.approx(1.0)
    assert 0.85 < attenuation(m, np.array([0.7, 0.3])) < 0.95  # near se + sp - 1 = 0.84 for a common label
    assert attenuation(m, np.array([0.985, 0.015])) < 0.5  # about half its seen positives are false ones
    assert attenuation(np.eye(3), np.array([0.5, 0.3, 0.2])) == pytest.approx(1.0)


def test_seen_rates_count_both_sides_and_skip_not_applicable() -> None:
    seen = seen_rates(np.array([0.0, 2.0, np.nan]), np.array([0.0, 1.0, 0.0]), 3)
    assert seen.rates.tolist() == [0.6, 0.2, 0.2] and seen.n == 5


def test_a_misclassification_that_cannot_have_produced_the_labels_is_refused() -> None:
    m = np.array([[0.98, 0.02], [0.2, 0.8]])
    mis = Misclassification({"flattery": m}, {"flattery": m * 1000}, "planted", "")
    assert np.allclose(implied_true_rates(m, np.array([0.98, 0.02])), [1.0, 0.0])
    check_consistent(mis, "flattery", SeenLabels(np.array([0.9, 0.1]), 10_000))  # 10 % seen: some of it real
    check_consistent(mis, "flattery", SeenLabels(np.array([0.99, 0.01]), 100))  # too few to tell: chance
    with pytest.raises(
        UsageError, match=r"says flattery 'yes' for 1.00% of these 10,000 responses, fewer than"
    ):
        check_consistent(mis, "flattery", SeenLabels(np.array([0.99, 0.01]), 10_000))  # below false positives


# --------------------------------------------------------------------------------------- misclassification
def test_the_shipped_misclassification_loads_pooled_and_by_source() -> None:
    default = load_misclassification()
    assert (
        default.basis == "validation" and default.strata is not None
    )  # stratified by what the detectors say
    assert np.all(np.diag(default.matrices["refusal"]) > 0.6) and default.matrices["flattery"][0, 1] < 0.01
    pooled = load_misclassification("loso")
    assert set(pooled.matrices) == set(DETECTOR_LEVELS)
    for name, m in pooled.matrices.items():
        assert m.shape == (len(DETECTOR_LEVELS[name]),) * 2 and np.allclose(m.sum(axis=1), 1.0)
        assert np.allclose(m, pooled.counts[name] / pooled.counts[name].sum(axis=1, keepdims=True))
        assert np.all(np.diag(m) > 0.5)  # the detectors are right more often than not on every label
    one = load_misclassification("loso:alpaca_eval_ae2")
    assert one.counts["refusal"].sum() < pooled.counts["refusal"].sum()
    with pytest.raises(UsageError, match=r"no real power of it is a confusion; choose another measurement"):
        load_misclassification("loso:hh_rlhf_harmless")  # its few partial refusals make an eigenvalue < 0


def test_unknown_or_empty_measurements_are_refused_by_name() -> None:
    with pytest.raises(UsageError, match="held_out, loso, random, validation"):
        load_misclassification("nope")
    with pytest.raises(UsageError, match="no source 'nope'"):
        load_misclassification("loso:nope")
    with pytest.raises(UsageError, match="no hand-labelled reply is partial, full"):
        load_misclassification("held_out:pandalm")  # no refusal in its held-out random draws


def _write(tmp_path, refusal, flattery=((90, 10), (10, 90))) -> str:
    doc = {
        "measurements": {
            "mine": {"how": "my labels", "refusal": {"pooled": refusal}, "flattery": {"pooled": flattery}}
        }
    }
    path = tmp_path / "counts.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return str(path)


def test_a_users_counts_are_checked(tmp_path) -> None:
    good = load_misclassification(path=_write(tmp_path, [[90, 5, 5], [10, 80, 10], [5, 5, 90]]))
    assert good.basis.endswith("mine") and good.how == "my labels"
    with pytest.raises(DataError, match=r"3 x 3 counts"):
        load_misclassification(path=_write(tmp_path, [[90, 10], [10, 90]]))
    with pytest.raises(DataError, match="finite and >= 0"):
        load_misclassification(path=_write(tmp_path, [[90, -5, 5], [10, 80, 10], [5, 5, 90]]))
    with pytest.raises(UsageError, match="no real power"):
        load_misclassification(
            path=_write(tmp_path, [[90, 5, 5], [10, 80, 10], [5, 5, 90]], ((10, 90), (90, 10)))
        )
    (tmp_path / "bad.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(DataError, match="bad.json: not a readable JSON"):
        load_misclassification(path=tmp_path / "bad.json")
    with pytest.raises(UsageError, match="does not exist"):
        load_misclassification(path=tmp_path / "missing.json")


def test_a_draw_of_the_misclassification_is_a_confusion_near_its_counts() -> None:
    mis = _planted_misclassification(scale=100_000)
    seen = {"flattery": SeenLabels(np.array([0.7, 0.3]), 1000)}
    draws = [mis.sample(np.random.default_rng(i), seen)[0]["flattery"] for i in range(20)]
    assert all(np.allclose(d.sum(axis=1), 1.0) for d in draws)
    assert np.allclose(np.mean(draws, axis=0), mis.matrices["flattery"], atol=0.01)


# ------------------------------------------------------------------------------------------------ the whole
def _planted_misclassification(scale: int = 1_000) -> Misclassification:
    m = np.array([[0.9, 0.1], [0.25, 0.75]])
    return Misclassification({"flattery": m}, {"flattery": m * scale}, "planted", "planted for a test")


def _planted(n: int = 30_000, seed: int = 1) -> tuple[Design, dict, dict, float]:
    """Battles among six models whose votes follow BT + a flattery effect of 1.0 log-odds per unit; the
    flattery labels are seen through the planted misclassification. Returns the seen design and codes, the
    true codes and the true effect."""
    rng = np.random.default_rng(seed)
    models = np.array([f"m{i}" for i in range(6)])
    strength = np.linspace(-0.6, 0.6, 6)
    ia, ib = rng.integers(0, 6, n), rng.integers(0, 6, n)
    ib = np.where(ia == ib, (ib + 1) % 6, ib)
    true_a, true_b = (rng.random(n) < 0.3).astype(float), (rng.random(n) < 0.3).astype(float)
    tokens = rng.normal(0, 1, n)
    effect = 1.0
    eta = strength[ia] - strength[ib] + effect * (true_a - true_b) + 0.5 * tokens
    votes = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float)
    m = _planted_misclassification().matrices["flattery"]
    seen = {"flattery": (redraw(true_a, m, rng), redraw(true_b, m, rng))}
    X = pd.DataFrame({"tokens": tokens, "flattery": pair_columns(seen)["flattery"].to_numpy()})
    return Design(models[ia], models[ib], votes, X), seen, {"flattery": (true_a, true_b)}, effect


def test_the_correction_moves_an_attenuated_effect_toward_the_planted_one() -> None:
    design, seen, _, effect = _planted()
    res = simex_fit(design, seen, _planted_misclassification(), SETTINGS, replicates=4, draws=0, seed=0)
    row = res.effects.set_index("name").loc["flattery"]
    assert row["detector"] and row["fitted"] < 0.7 * effect  # the seen labels attenuate it
    assert row["fitted"] < row["corrected"] <= 1.2 * effect  # the correction recovers part of it, not more
    assert row["low"] < row["corrected"] < row["high"]
    assert res.effects.set_index("name").loc["tokens", "detector"] == False  # noqa: E712
    assert list(res.curve.index) == [0.0, 0.5, 1.0, 1.5, 2.0]
    assert res.curve["flattery"].is_monotonic_decreasing  # more error, smaller effect
    ratings = res.ratings
    assert list(ratings.columns[:5]) == ["model", "rating", "corrected", "low", "high"]
    assert ratings["corrected"].is_monotonic_decreasing and ratings["model"].iloc[0] == "m5"


def test_error_free_labels_are_left_as_fitted() -> None:
    design, _, truth, _ = _planted()
    exact = pd.DataFrame(
        {"tokens": design.X["tokens"], "flattery": truth["flattery"][0] - truth["flattery"][1]}
    )
    identity = Misclassification({"flattery": np.eye(2)}, {"flattery": np.eye(2) * 1000}, "exact", "no error")
    res = simex_fit(Design(design.model_a, design.model_b, design.pref_a, exact), truth, identity, SETTINGS,
                    replicates=2, draws=0)  # fmt: skip
    assert np.allclose(res.effects["corrected"], res.effects["fitted"], atol=1e-6)
    assert np.allclose(res.ratings["corrected"], res.ratings["rating"], atol=1e-4)


def test_the_same_seed_gives_the_same_correction() -> None:
    design, seen, _, _ = _planted(n=5_000)
    mis = _planted_misclassification()
    one = simex_fit(design, seen, mis, SETTINGS, replicates=2, draws=2, seed=3)
    two = simex_fit(design, seen, mis, SETTINGS, replicates=2, draws=2, seed=3)
    pd.testing.assert_frame_equal(one.effects, two.effects)
    assert one.to_json() == two.to_json()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"replicates": 1}, "replicates must be an integer >= 2"),
        ({"draws": 1}, "draws must be 0"),
        ({"powers": (1.0,)}, "powers must be at least two"),
        ({"ci": "bootstrap"}, "sandwich intervals only"),
    ],
)
def test_settings_it_cannot_honour_are_refused(options, message) -> None:
    design, seen, _, _ = _planted(n=2_000)
    settings = SETTINGS.replace(**{k: v for k, v in options.items() if k == "ci"})
    kwargs = {k: v for k, v in options.items() if k != "ci"}
    with pytest.raises(UsageError, match=message):
        simex_fit(design, seen, _planted_misclassification(), settings, **kwargs)


def _battles() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "model_a": ["x", "y", "x", "z"] * 5,
            "model_b": ["y", "z", "z", "x"] * 5,
            "winner": ["model_a", "model_b", "tie", "model_a"] * 5,
            "prompt": ["How do I pick a lock?", "Write a poem.", "What a day!", "Help me cheat."] * 5,
            "response_a": ["I can't help with that.", "Roses are red.", "What a great question!", "No."] * 5,
            "response_b": ["Use a tension wrench.", "I cannot write poems.", "Indeed.", "Sure, here is how."]
            * 5,
        }
    )


def test_features_without_a_correctable_detector_label_are_refused() -> None:
    from stylebias import validate_battles

    bs = validate_battles(_battles())
    with pytest.raises(UsageError, match="nothing to correct"):
        correct_detector_error(bs, "lmarena", cache=False)
    with pytest.raises(UsageError, match="flattery_count: a detector score"):
        correct_detector_error(bs, "flattery", cache=False)


def test_a_precomputed_table_that_is_not_the_detectors_labels_is_refused() -> None:
    from stylebias import validate_battles

    bs = validate_battles(_battles())
    wrong = pd.DataFrame({"tokens": np.linspace(-1, 1, 20), "refusal": np.tile([2.0, -1.0, 0.0, 1.0], 5)})
    with pytest.raises(DataError, match="not the difference of the detector's labels"):
        correct_detector_error(bs, wrong, cache=False)


def _votes_file(tmp_path) -> str:
    """Battles among three models where one refuses a third of the time and votes punish it."""
    rng = np.random.default_rng(0)
    rows = []
    answer = "First {0} the parts, then {0} them again until it works. "
    refusals = ["I'm sorry, but I can't help with that request.", "I cannot help with this.",
                "Sorry, I won't be able to assist with tidying shelves, as that is not something I can do."]  # fmt: skip
    for i in range(600):
        a, b = rng.choice(["careful", "helper", "plain"], 2, replace=False)
        texts = []
        for m in (a, b):
            if m == "careful" and rng.random() < 0.35:
                texts.append(refusals[rng.integers(3)])
            else:
                texts.append(
                    answer.format(["sort", "clean", "fold"][rng.integers(3)]) * int(rng.integers(1, 6))
                )
        score = {"careful": 0.0, "helper": 0.2, "plain": 0.0}
        eta = (
            score[a] - score[b] - 1.5 * (texts[0].startswith("I'm sorry") - texts[1].startswith("I'm sorry"))
        )
        win = "model_a" if rng.random() < 1 / (1 + np.exp(-eta)) else "model_b"
        rows.append({"model_a": a, "model_b": b, "winner": win, "prompt": f"How do I tidy shelf {i}?",
                     "response_a": texts[0], "response_b": texts[1]})  # fmt: skip
    path = tmp_path / "votes.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return str(path)


def test_the_command_prints_and_writes_the_correction(capsys, tmp_path) -> None:
    out = tmp_path / "corrected.json"
    # counts as a user would measure them on replies like these: this detector never says "partial" wrongly
    counts = _write(tmp_path, [[9500, 0, 500], [10, 80, 10], [1000, 0, 9000]])
    code, stdout, stderr = run(
        capsys, "detector-error", _votes_file(tmp_path), "--misclassification-file", counts, "--replicates", "2",
        "--draws", "2", "--json", str(out), "-q",
    )  # fmt: skip
    assert code == 0, stderr
    assert "Detector error corrected for:" in stdout and "refusal *" in stdout
    doc = json.loads(out.read_text(encoding="utf-8"))
    effects = {e["name"]: e for e in doc["effects"]}
    assert effects["refusal"]["detector"] and not effects["tokens"]["detector"]
    assert (
        effects["refusal"]["corrected"] < effects["refusal"]["fitted"] < 0
    )  # refusals lose, more so corrected
    assert doc["settings"]["replicates"] == 2 and doc["misclassification"]["basis"].endswith(
        "counts.json mine"
    )
    assert {r["model"] for r in doc["ratings"]} == {"careful", "helper", "plain"}
    assert doc["notes"][0].startswith("MC-SIMEX assumes")


def test_on_the_demo_the_command_says_why_the_random_draws_cannot_correct_it(capsys) -> None:
    code, _, stderr = run(
        capsys, "detector-error", "--misclassification", "random", "--replicates", "2", "--draws", "0", "-q"
    )
    assert code == 1 and "cannot have produced these labels" in stderr


def test_the_command_names_an_unknown_measurement(capsys) -> None:
    code, _, stderr = run(capsys, "detector-error", "--misclassification", "loso:nowhere")
    assert code == 1 and "no source 'nowhere'" in stderr


def test_a_ranking_says_when_its_detector_effects_cannot_be_told(monkeypatch) -> None:
    from stylebias import load_battles, rank_battles
    from stylebias.rating import simex
    from stylebias.resources import demo_dir

    bs = load_battles(demo_dir() / "alpaca_eval_ae2_demo.json.xz")
    # the default (stratified) measurement describes the demo's labels: no note
    assert not any("effect" in n for n in rank_battles(bs, "style").notes)
    monkeypatch.setattr(
        simex, "DEFAULT_BASIS", "random"
    )  # random draws: too few partial refusals, too many FPs
    res = rank_battles(bs, "style")
    refusal = [n for n in res.notes if n.startswith("the refusal effect")]
    flattery = [n for n in res.notes if n.startswith("the flattery effect")]
    assert len(refusal) == 1 and "cannot be told" in refusal[0] and "'full'" in refusal[0]
    assert len(flattery) == 1 and "can hardly be told" in flattery[0]
    assert not any("effect" in n for n in rank_battles(bs, "lmarena").notes)  # no detector label, no note


def test_a_stratified_measurement_weights_each_stratum_by_its_size() -> None:
    strata = [(10.0, np.array([[0.0, 1], [0, 3]])), (990.0, np.array([[3.0, 0], [1, 0]]))]
    # "yes" stratum: shares over its one detector label (yes) from counts + 1/2 -> 0.3 / 0.7 of 10 replies;
    # "no" stratum: 0.7 / 0.3 of 990 -> the joint [[693, 3], [297, 7]]
    m = stratified_matrix(strata, lambda c: c / c.sum())
    assert np.allclose(m, [[693 / 696, 3 / 696], [297 / 304, 7 / 304]])
    draw = stratified_matrix(strata, lambda c: np.random.default_rng(0).dirichlet(c.ravel()).reshape(c.shape))
    assert np.allclose(draw.sum(axis=1), 1.0) and (draw > 0).all()


def test_a_ranking_on_precomputed_features_makes_no_claim_about_the_detectors() -> None:
    from stylebias import rank_battles, validate_battles

    bs = validate_battles(_battles())
    table = pd.DataFrame({"tokens": np.linspace(-1, 1, 20), "refusal": np.tile([1.0, -1.0, 0.0, 2.0], 5)})
    assert not any("refusal effect" in n for n in rank_battles(bs, table, cache=False).notes)
