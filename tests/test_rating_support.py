"""Each style effect says how many battles differ in its feature, and too few is never "helps"."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from stylebias.rating import StyleBT, effect_sentence, rank_battles
from stylebias.rating.support import MIN_SUPPORT_BATTLES, MIN_SUPPORT_PROMPTS, TOO_FEW, unit


def rare_feature_battles(seed: int = 0, n: int = 3000, rare: int = 24) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A common length feature and a table feature present in only ``rare`` battles from two prompts, where
    the answer with the table always wins: a narrow interval on nothing."""
    rng = np.random.default_rng(seed)
    models = np.array(["a", "b", "c", "d"])
    ia = rng.integers(0, 4, n)
    ib = (ia + rng.integers(1, 4, n)) % 4
    length = rng.normal(0, 1, n)
    tables = np.zeros(n)
    tables[:rare] = rng.choice([-0.5, 0.5], rare)
    p = 1 / (1 + np.exp(-(0.6 * length + 8 * tables)))
    y = (rng.random(n) < p).astype(float)
    prompts = np.where(np.arange(n) < rare, np.arange(n) % 2, 2 + np.arange(n) % 400).astype(str)
    df = pd.DataFrame({"model_a": models[ia], "model_b": models[ib], "pref_a": y, "prompt": prompts})
    return df, pd.DataFrame({"tokens": length, "tables": tables})


def test_rare_feature_is_too_few_to_tell_whatever_its_interval_says():
    df, X = rare_feature_battles()
    res = rank_battles(df, X)
    eff = res.features.set_index("name")
    assert eff.loc["tables", "low"] > 0  # the interval alone would say "helps"
    assert eff.loc["tables", "battles_nonzero"] == 24 and eff.loc["tables", "prompts_nonzero"] == 2
    assert eff.loc["tables", "verdict"] == TOO_FEW
    assert "24 battles from 2 prompts differ in it" in eff.loc["tables", "sentence"]
    assert TOO_FEW in eff.loc["tables", "sentence"] and "helps" not in eff.loc["tables", "sentence"]
    assert eff.loc["tokens", "battles_nonzero"] == len(df) and eff.loc["tokens", "prompts_nonzero"] == 402
    assert eff.loc["tokens", "verdict"] == "helps"
    feats = {f["name"]: f for f in res.to_json()["features"]}
    assert feats["tables"]["battles_nonzero"] == 24 and feats["tables"]["verdict"] == TOO_FEW


def test_minimum_applies_to_battles_and_to_prompts():
    df, X = rare_feature_battles(rare=MIN_SUPPORT_BATTLES + 10)
    # many battles, but from two prompts: still too few to tell
    assert rank_battles(df, X).features.set_index("name").loc["tables", "verdict"] == TOO_FEW
    spread = df.assign(prompt=[f"p{i}" for i in range(len(df))])
    eff = rank_battles(spread, X).features.set_index("name").loc["tables"]
    assert eff["prompts_nonzero"] >= MIN_SUPPORT_PROMPTS and eff["verdict"] == "helps"
    # without prompts (metadata-only data) only the battle count applies
    bt = StyleBT().fit(df.model_a, df.model_b, df.pref_a, X)
    e = bt.effects().set_index("name").loc["tables"]
    assert e["battles_nonzero"] == MIN_SUPPORT_BATTLES + 10 and math.isnan(e["prompts_nonzero"])
    assert e["verdict"] == "helps"


def test_support_survives_save_and_load(tmp_path):
    from stylebias.rating.persist import load_stylebt, save_stylebt

    df, X = rare_feature_battles()
    bt = StyleBT().fit(df.model_a, df.model_b, df.pref_a, X, prompts=pd.factorize(df.prompt)[0])
    save_stylebt(bt, tmp_path / "m", features=["tokens", "tables"], card={"title": "t"})
    back = load_stylebt(tmp_path / "m").model.effects()
    pd.testing.assert_frame_equal(back, bt.effects())


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("tokens", "normalised difference (a − b)/(a + b + 1) in tokens"),
        ("flesch_reading_ease", "difference (a − b) in Flesch reading-ease points"),
        ("refusal", "difference (a − b) in refusal levels (none 0, partial 1, full 2)"),
        ("my_column", "in the pair feature my column (as given)"),
    ],
)
def test_every_sd_has_a_unit(name, text):
    assert unit(name) == text
    assert f"1 SD = 0.5 {text}" in effect_sentence(name, 0.1, 0.0, 0.2, 0.5)


def test_real_pandalm_tables_and_links_are_too_few_to_tell():
    """PandaLM's human votes (the demo's second part): a handful of answers have a table or a link, and the
    fit's intervals for them look confident; the verdict must not."""
    from stylebias.formats import load_demo

    bs = load_demo()
    human = bs.select((bs.battles["judge"] == "human").to_numpy())
    eff = rank_battles(human, "tokens,tables,links").features.set_index("name")
    for name in ("tables", "links"):
        assert eff.loc[name, "battles_nonzero"] < MIN_SUPPORT_BATTLES, eff.loc[name]
        assert eff.loc[name, "verdict"] == TOO_FEW
    assert eff.loc["tokens", "verdict"] == "helps"
