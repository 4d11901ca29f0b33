"""The embedding bench keeps its folds clean: components and scales are fitted on the training rows only, the
added columns never alter the shipped samples, and a cached embedding is reused only for the same rows."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from stylebias.extract.detectors.signals import Sample
from stylebias.extract.detectors.training import Featurized
from tests._bench import load_bench

ROOT = Path(__file__).resolve().parent.parent
emb = load_bench("detector_embeddings")


def test_components_are_fitted_on_the_training_rows_alone() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 6))
    train = np.arange(30)
    a = emb.components(x, train, 3)
    moved = x.copy()
    moved[30:] += 100.0 * rng.normal(size=(10, 6))  # the judged rows change wildly
    b = emb.components(moved, train, 3)
    assert np.allclose(a[train], b[train])
    assert np.allclose(a[train].mean(0), 0.0) and np.allclose(a[train].std(0), 1.0)
    shifted = x.copy()
    shifted[:30, 0] *= 10.0  # a training row change does move them
    assert not np.allclose(emb.components(shifted, train, 3)[train], a[train])


def test_a_constant_column_stays_zero_rather_than_nan() -> None:
    x = np.column_stack([np.arange(5.0), np.full(5, 0.3)])
    z = emb.standardised(x, np.arange(5))
    assert not np.isnan(z).any()
    assert np.all(z[:, 1] == 0.0)


def test_columns_are_added_to_copies_of_both_samples() -> None:
    f = Featurized(
        flattery=Sample([["pos:0"]], [0], {"ctx:creative": 1.0}),
        refusal=Sample([["rr:x"]], [0], {"words:<=10": 1.0}),
    )
    g = emb.with_columns(f, np.array([0.5, -1.0]), alone=False)
    assert g.refusal.response == {"words:<=10": 1.0, "emb:0": 0.5, "emb:1": -1.0}
    assert g.flattery.units == [["pos:0"]] and g.flattery.response["emb:1"] == -1.0
    assert f.refusal.response == {"words:<=10": 1.0}  # the shipped sample is untouched
    alone = emb.with_columns(f, np.array([0.5]), alone=True)
    assert alone.refusal.units == [] and alone.refusal.response == {"emb:0": 0.5}


def test_a_cache_is_reused_for_the_same_rows_only(tmp_path: Path) -> None:
    rows = [{"id": "a", "prompt": "p", "response": "r"}, {"id": "b", "prompt": "q", "response": "s"}]
    cache = tmp_path / "emb.npz"
    np.savez(cache, ids=np.array(["a", "b"]), P=np.ones((2, 3)), H=np.zeros((2, 3)))
    got = emb.embeddings(rows, tmp_path / "no-model-here", cache)  # a hit needs no encoder
    assert set(got) == {"P", "H"} and got["P"].shape == (2, 3)
    with pytest.raises(SystemExit):  # other rows: it must embed, and says what is missing
        emb.embeddings(rows[::-1], tmp_path / "no-model-here", cache)


def test_loading_the_bench_leaves_bench_off_the_import_path() -> None:
    """bench/coverage.py would shadow the coverage package (numba, under shap, imports it) for the session."""
    assert str(ROOT / "bench") not in sys.path
    found = importlib.util.find_spec("coverage")  # the real package, or none when it is not installed
    assert found is None or Path(found.origin) != ROOT / "bench" / "coverage.py"


def test_the_table_scores_each_design_against_the_shipped_one() -> None:
    rows = [
        {"id": str(i), "source": s, "prompt": f"p{i}"}
        for i, s in enumerate(["a", "a", "hh_rlhf_harmless", "b"])
    ]
    gold = np.array([1, 0, 1, 1], dtype=bool)
    ys = {h: gold for h in emb.HEADS}
    shipped = np.array([1, 0, 0, 1], dtype=bool)  # F1 0.8; without the red-team row 1.0
    perfect = gold.copy()
    preds = {"shipped": dict.fromkeys(emb.HEADS, shipped), "other": dict.fromkeys(emb.HEADS, perfect)}
    out = emb.designs.judged_table(rows, ys, preds)
    assert out["shipped"]["any"]["f1"] == pytest.approx(0.8)
    assert out["shipped"]["any"]["f1_without_hh"] == 1.0
    assert out["shipped"]["full"]["diff_vs_shipped_95"] == [0.0, 0.0]
    assert out["other"]["flattery"]["f1"] == 1.0
    lo, hi = out["other"]["flattery"]["diff_vs_shipped_95"]
    assert 0.0 <= lo <= hi <= 1.0  # never worse than shipped on any resample


def test_similarity_bands_go_to_the_marked_units_of_a_copy() -> None:
    """A unit gets the band of its cosine for each of decline and offer it carries; others and the shipped
    sample are untouched."""
    f = Featurized(
        flattery=Sample([], [], {}),
        refusal=Sample(
            [["rl:decline", "scope:ask"], ["offer:other", "scope:other"], ["pos:last"]], [0, 1, 2], {}
        ),
    )
    g = emb.with_similarity_signals(f, {0: 0.6, 1: 0.1})
    assert g.refusal.units[0] == ["rl:decline", "scope:ask", "scope:sim_hi"]
    assert g.refusal.units[1][-2:] == ["scope:sim_lo", "offer:sim_lo"]
    assert g.refusal.units[2] == ["pos:last"]
    assert f.refusal.units[0] == ["rl:decline", "scope:ask"]  # the shipped sample is untouched
    assert emb.with_similarity_signals(f, {0: 0.3}).refusal.units[0][-1] == "scope:sim_mid"


def test_offer_units_are_the_units_the_shipped_signals_mark() -> None:
    from stylebias.extract.detectors.training import featurize

    rows = [
        {"id": "a", "prompt": "Write my essay about dogs.",
         "response": "I can't write your essay for you. However, I can give you an outline about dogs."},
        {"id": "b", "prompt": "Name a dog breed.", "response": "A beagle is a dog breed."},
    ]  # fmt: skip
    feats = featurize(rows)
    got = emb.offer_units(rows, feats)
    assert got and {i for i, _j, _t in got} == {0}
    for i, j, text in got:
        assert any(x.startswith(("scope:", "offer:")) for x in feats[i].refusal.units[j])
        assert text in rows[i]["response"]


def test_unit_similarities_are_cached_for_the_same_units_and_turns_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cosines are the units' embeddings against the rows' prompt embeddings; a second call with the same
    units and last turns reads the cache, the reply embeddings in the same file still hit, and a changed last
    turn is embedded again. No marked unit: nothing to embed."""
    from stylebias.extract.detectors.training import featurize

    rows = [
        {"id": "a", "prompt": "Write my essay about dogs.",
         "response": "I can't write your essay for you. However, I can give you an outline about dogs."},
        {"id": "b", "prompt": "Name a dog breed.", "response": "A beagle is a dog breed."},
    ]  # fmt: skip
    calls: list[int] = []

    class FakeEncoder:
        def __init__(self, model_dir: Path) -> None:
            pass

        def __call__(self, texts: list[str], max_tokens: int, tail: bool = False) -> np.ndarray:
            calls.append(len(texts))
            return np.tile(np.array([1.0, 0.0], dtype=np.float32), (len(texts), 1))

    monkeypatch.setattr(emb, "Encoder", FakeEncoder)
    prompts = np.array([[0.6, 0.8], [0.0, 1.0]], dtype=np.float32)
    cache = tmp_path / "emb.npz"
    np.savez(cache, ids=np.array(["a", "b"]), P=prompts, H=prompts)
    feats = featurize(rows)
    marked = {(i, j) for i, j, _t in emb.offer_units(rows, feats)}
    sims = emb.unit_similarities(rows, feats, prompts, tmp_path, cache)
    got = {(i, j): c for i, by_unit in sims.items() for j, c in by_unit.items()}
    assert set(got) == marked and all(abs(c - 0.6) < 1e-6 for c in got.values())
    assert calls == [len(marked)]
    assert emb.unit_similarities(rows, feats, prompts, tmp_path, cache) == sims and len(calls) == 1
    assert set(emb.embeddings(rows, tmp_path, cache)) == {"P", "H"}  # still a hit, no unit keys mixed in
    moved = [{**rows[0], "prompt": "Please write my essay about dogs today."}, rows[1]]
    emb.unit_similarities(moved, featurize(moved), prompts, tmp_path, cache)
    assert len(calls) == 2
    assert emb.unit_similarities(rows[1:], feats[1:], prompts, tmp_path, None) == {}
    with pytest.raises(ValueError, match="similarities"):
        emb.fold_predictions(rows, feats, {}, "offer_similarity", np.array([0]), np.array([1]))
