"""The battles' ``weight`` column as frequency weights, and the feature sets of other pipelines
(``lmarena-2025``'s offline tone levels)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from stylebias import StyleControl
from stylebias.errors import DataError
from stylebias.extract import pair_features
from stylebias.extract.registry import FEATURE_SETS, TONE_LEVELS, resolve_features, tone_levels
from stylebias.rating import FitSettings, rank_battles


def battles(n: int = 600, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    names = ["a", "b", "c", "d"]
    rows = []
    for i in range(n):
        x, y = rng.choice(names, 2, replace=False)
        w = rng.choice(["model_a", "model_b", "tie"], p=[0.45, 0.4, 0.15])
        rows.append(
            {
                "battle_id": str(i),
                "model_a": x,
                "model_b": y,
                "winner": w,
                "meta_tokens_a": int(rng.integers(10, 500)),
                "meta_tokens_b": int(rng.integers(10, 500)),
                "weight": float(rng.choice([1, 3], p=[0.7, 0.3])),
            }
        )
    return pd.DataFrame(rows)


def test_weight_column_counts_like_repeated_battles():
    df = battles()
    repeated = df.loc[df.index.repeat(df["weight"].astype(int))].drop(columns="weight").reset_index(drop=True)
    repeated["battle_id"] = [str(i) for i in range(len(repeated))]
    s = FitSettings(features=("tokens",))
    w = rank_battles(df, settings=s).models.set_index("model")
    r = rank_battles(repeated, settings=s).models.set_index("model").reindex(w.index)
    for col in ("rating", "rating_raw", "rating_low", "rating_high"):
        np.testing.assert_allclose(w[col], r[col], rtol=0, atol=1e-8)
    once = rank_battles(df, settings=s.replace(weights=False))
    assert once.settings["weights"] is False
    assert not np.allclose(once.models.set_index("model").reindex(w.index)["rating"], w["rating"])
    sc = StyleControl(features=["tokens"]).fit(df)
    np.testing.assert_allclose(sc.ratings_.reindex(w.index), w["rating"], atol=1e-8)


def test_a_bad_weight_is_an_error_naming_the_battle():
    df = battles(50)
    df.loc[7, "weight"] = -1.0
    with pytest.raises(DataError, match=r"record 8: battle weight '-1\.0' is not a finite number >= 0"):
        rank_battles(df, features=None)


def test_a_battle_error_names_what_is_known_of_the_battle():
    """By source file and record when the loaders kept them, by row otherwise (never a file called 'None')."""
    known = pd.DataFrame({"source_file": ["votes.json"], "source_record": [8]}).iloc[0]
    assert str(DataError.for_battle("bad weight", known, 0)) == "votes.json, record 8: bad weight"
    bare = pd.DataFrame({"model_a": ["x", "y"]}).iloc[1]
    err = DataError.for_battle("bad weight", bare, 1)
    assert str(err) == "bad weight" and err.file is None and err.record == "row 2"


def test_tone_levels_rule():
    pos = [0.6, 0.3, 0.3, 0.1, 0.0, -0.1, -0.5]
    exc = [0.0, 2.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    emo = [0, 0, 0, 0, 0, 0, 0]
    fla = [0, 0, 1, 0, 0, 0, 0]
    got = [TONE_LEVELS[i] for i in tone_levels(pos, exc, emo, fla)]
    assert got == [
        "very positive",
        "very positive",
        "very positive",
        "positive",
        "neutral",
        "negative",
        "very negative",
    ]


def test_lmarena_2025_set_and_encoding():
    names = resolve_features("lmarena-2025")
    assert names[:5] == ["tokens", "header_count", "list_count", "bold_count", "emoji_count"]
    assert names[5:] == ["tone_very_negative", "tone_negative", "tone_positive", "tone_very_positive"]
    texts = [
        "What a wonderful question! I love it 🎉 Great thinking!",
        "The answer is 4.",
        "This is wrong and terrible. It is a bad, awful idea.",
        "Sure, happy to help. Here is a nice summary.",
    ]
    df = pd.DataFrame(
        {
            "battle_id": ["1", "2", "3", "4"],
            "model_a": "x",
            "model_b": "y",
            "prompt": "q",
            "response_a": texts,
            "response_b": texts[1:] + texts[:1],
        }
    )
    X = pair_features(df, names, cache=False)
    swapped = pair_features(
        df.rename(columns={"response_a": "response_b", "response_b": "response_a"}), names, cache=False
    )
    np.testing.assert_allclose(X.to_numpy(), -swapped.to_numpy())
    tone = X[names[5:]].to_numpy()
    assert set(np.unique(tone)) <= {-1.0, 0.0, 1.0}
    # neutral is the reference level: no tone column for it, so the indicators of one side never sum to a
    # constant (the five one-hot differences would sum to zero in every battle)
    assert "tone_neutral" not in names and np.abs(tone.sum(axis=1)).max() <= 2
    assert X.loc[0, "tone_very_positive"] == 1.0  # enthusiastic vs factual
    assert FEATURE_SETS["arena-hard-v0.1"] == tuple(f"arena_hard_v01_{c}" for c in FEATURE_SETS["lmarena"])


def test_features_command_writes_derived_sets(tmp_path):
    """Per-response rows hold a derived set's inputs; the pair file holds the derived features themselves."""
    from stylebias.extract.stream import write_features
    from tests._arena_hard_fixture import build

    build(str(tmp_path), seed=3, questions=12)
    from stylebias import load_battles

    data = load_battles([str(tmp_path / "arena-hard-v2.0")])
    out = write_features(data, tmp_path / "f.csv", "arena-hard", pairs=True, jobs=1, cache=False)
    rows = pd.read_csv(tmp_path / "f.csv")
    pairs = pd.read_csv(tmp_path / "f_pairs.csv")
    assert {"tokens", "header_count", "list_count", "bold_count"} <= set(rows.columns)
    assert list(pairs.columns[-4:]) == list(FEATURE_SETS["arena-hard"])
    assert len(pairs) == len(data.battles) and str(tmp_path / "f_pairs.csv") in out.outputs
