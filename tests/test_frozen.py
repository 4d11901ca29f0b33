"""Frozen coefficients: a new model scored with a saved fit's ratings, style effects and standardisation held.

Adding a model must leave every saved model's rating exactly where it was (1e-9), and the new model's rating
must agree with a full refit on old + new battles within its interval (simulated data, known truth).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from stylebias.errors import DataError, UsageError
from stylebias.rating import Design, FitSettings, StyleBT, fit_design
from stylebias.rating.fit import Frozen

OLD = [f"old-{i}" for i in range(6)]
TRUTH = dict(zip([*OLD, "new-a", "new-b"], [0.0, 0.2, -0.1, 0.3, -0.2, 0.1, 0.25, -0.15], strict=True))


def simulate(n: int, pool: list[str], seed: int, new: str | None = None) -> Design:
    """Battles among ``pool`` (or ``new`` against the pool) with a length effect of 0.8 log-odds per unit."""
    rng = np.random.default_rng(seed)
    a, b, y, x = [], [], [], []
    for _ in range(n):
        if new is None:
            m = list(rng.choice(pool, 2, replace=False))
        else:
            other = str(rng.choice(pool))
            m = [new, other] if rng.random() < 0.5 else [other, new]
        la, lb = rng.integers(20, 900, 2)
        f = (la - lb) / (la + lb + 1)
        eta = np.log(10) * (TRUTH[m[0]] - TRUTH[m[1]]) + 0.8 * f
        y.append(0.5 if rng.random() < 0.1 else float(rng.random() < 1 / (1 + np.exp(-eta))))
        a.append(m[0])
        b.append(m[1])
        x.append(f)
    return Design(
        np.array(a, dtype=object), np.array(b, dtype=object), np.array(y), pd.DataFrame({"length": x})
    )


def concat(*designs: Design) -> Design:
    return Design(
        np.concatenate([d.model_a for d in designs]),
        np.concatenate([d.model_b for d in designs]),
        np.concatenate([d.pref_a for d in designs]),
        pd.concat([d.X for d in designs], ignore_index=True),
    )


@pytest.fixture(scope="module")
def board():
    settings = FitSettings(features=None, anchor=("old-0", 1000.0), components="refuse")
    old = simulate(4000, OLD, seed=1)
    return settings, old, fit_design(old, settings)


def test_adding_a_model_leaves_old_ratings_unchanged(board):
    settings, old, saved = board
    new = simulate(800, OLD, seed=2, new="new-a")
    frozen = Frozen(saved.controlled, saved.raw, source="test")
    result = fit_design(Design(new.model_a, new.model_b, new.pref_a, new.X, frozen=frozen), settings)
    for fit, ref in ((result.controlled, saved.controlled), (result.raw, saved.raw)):
        got = fit.ratings_.reindex(OLD)
        assert np.abs(got.to_numpy() - ref.ratings_.reindex(OLD).to_numpy()).max() <= 1e-9
        assert fit.fixed_models_ == OLD
    # the style effect and its standardisation are the saved ones
    assert result.controlled.coef_[0] == saved.controlled.coef_[0]
    assert result.controlled.feature_scale_[0] == saved.controlled.feature_scale_[0]
    assert result.to_json()["frozen"]["fitted_models"] == ["new-a"]
    # a saved model absent from the new battles is still on the board, at its saved rating
    assert set(OLD) <= set(result.models["model"])


@pytest.mark.parametrize("seed", [3, 4, 5])
def test_new_rating_matches_full_refit_within_interval(board, seed):
    settings, old, saved = board
    new = simulate(600, OLD, seed=seed, new="new-b")
    frozen = Frozen(saved.controlled, saved.raw)
    result = fit_design(Design(new.model_a, new.model_b, new.pref_a, new.X, frozen=frozen), settings)
    full = fit_design(concat(old, new), settings)
    row = result.models.set_index("model").loc["new-b"]
    ref = full.models.set_index("model").loc["new-b"]
    assert row["rating_low"] <= ref["rating"] <= row["rating_high"]
    assert abs(row["rating"] - ref["rating"]) < 0.5 * (row["rating_high"] - row["rating_low"])


def test_frozen_fit_needs_a_link_to_the_saved_models(board):
    settings, _, saved = board
    d = Design(
        np.array(["x", "y"] * 5, dtype=object),
        np.array(["y", "x"] * 5, dtype=object),
        np.full(10, 0.5),
        pd.DataFrame({"length": np.linspace(-0.5, 0.5, 10)}),
        frozen=Frozen(saved.controlled),
    )
    with pytest.raises(DataError, match="no battle involves a model of the saved fit"):
        fit_design(d, settings)


def test_frozen_fit_refuses_bootstrap(board):
    _, old, saved = board
    with pytest.raises(UsageError, match="sandwich"):
        StyleBT(ci="bootstrap").fit(old.model_a, old.model_b, old.pref_a, old.X, fixed=saved.controlled)


# ------------------------------------------------------------------------------------------ CLI and plugin
def cli(*args: str) -> int:
    from stylebias.cli import main

    try:
        main(list(args))
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


@pytest.fixture(scope="module")
def benchmark(tmp_path_factory):
    """An Arena-Hard v0.1 folder, and a copy without one judged model's judgments (the 'old' board)."""
    import shutil

    from tests._arena_hard_fixture import build

    root = tmp_path_factory.mktemp("frozen_bench")
    build(str(root), seed=23, questions=40)
    full = root / "arena-hard-v0.1"
    old = root / "old"
    shutil.copytree(full, old)
    (old / "model_judgment" / "gpt-4-1106-preview" / "fjord-405b.jsonl").unlink()
    return full, old


def test_fit_save_then_rank_load_holds_the_board(benchmark, tmp_path, capsys):
    from stylebias import load_battles
    from stylebias.rating import rank_battles
    from stylebias.rating.persist import load_frozen, load_stylebt

    full, old = benchmark
    board = tmp_path / "board"
    assert cli("fit", str(old), "--features", "arena-hard-v0.1", "--save", str(board), "-q") == 0
    saved = load_stylebt(board)
    frozen = load_frozen(board)
    assert frozen[0].raw is not None  # `fit --save` keeps its fit without style too
    result = rank_battles(load_battles([str(full)]), frozen=frozen)
    got = result.controlled.ratings_.reindex(saved.model.models_)
    assert np.abs(got.to_numpy() - saved.model.ratings_.to_numpy()).max() <= 1e-9
    raw_got = result.raw.ratings_.reindex(frozen[0].raw.models_)
    assert np.abs(raw_got.to_numpy() - frozen[0].raw.ratings_.to_numpy()).max() <= 1e-9
    assert list(result.controlled.coef_) == list(saved.model.coef_)

    out = tmp_path / "ranks.json"
    assert cli("rank", str(full), "--load", str(board), "--json", str(out)) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "frozen:" in text and "held fixed from" in text and "rated here: fjord-405b" in text
    doc = __import__("json").loads(out.read_text())
    assert doc["frozen"]["fitted_models"] == ["fjord-405b"]
    assert doc["frozen"]["source"] == str(board) and doc["frozen"]["raw_fixed"] is True
    assert doc["settings"]["features"] == list(saved.features)


def test_rank_load_refuses_features_and_bootstrap(benchmark, tmp_path, capsys):
    full, old = benchmark
    board = tmp_path / "board"
    assert cli("fit", str(old), "--features", "arena-hard-v0.1", "--save", str(board), "-q") == 0
    for extra in (["--features", "lmarena"], ["--ci", "bootstrap"]):
        assert cli("rank", str(full), "--load", str(board), "-q", *extra) == 1
    capsys.readouterr()


def test_stylecontrol_fit_with_freeze(board, tmp_path):
    from stylebias import StyleControl

    settings, old, saved = board
    frame = pd.DataFrame(
        {
            "model_a": old.model_a,
            "model_b": old.model_b,
            "pref_a": old.pref_a,
            "response_a": "",
            "response_b": "",
        }
    )
    frame["winner"] = np.where(
        frame["pref_a"] == 1.0, "model_a", np.where(frame["pref_a"] == 0.0, "model_b", "tie")
    )
    sc = StyleControl(features=None).fit(frame)
    new = simulate(500, OLD, seed=9, new="new-a")
    new_frame = pd.DataFrame(
        {"model_a": new.model_a, "model_b": new.model_b, "response_a": "", "response_b": ""}
    )
    new_frame["winner"] = np.where(
        new.pref_a == 1.0, "model_a", np.where(new.pref_a == 0.0, "model_b", "tie")
    )
    for freeze in (sc, sc.save(tmp_path / "sc")):
        scored = StyleControl().fit(new_frame, freeze=freeze)
        assert (scored.ratings_.reindex(OLD) - sc.ratings_.reindex(OLD)).abs().max() <= 1e-9
        assert "new-a" in scored.ratings_.index
        assert scored.rank_result_.to_json()["frozen"]["fitted_models"] == ["new-a"]
        assert scored.features is None and scored.reg == sc.reg
