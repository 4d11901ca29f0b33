"""Text in any language: the script of each response, word and sentence counts that mean something in it,
and the English-only measures reported as not applicable (and handled as no difference in pair features).

The samples are short answers written for these tests in the style of arena replies; the ``shared`` test runs
the real Chatbot Arena answers (some Russian, Chinese, ...) of ``../shared``.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from stylebias.errors import StyleBiasWarning
from stylebias.extract import extract_one, pair_features, response_features
from stylebias.extract.registry import ENGLISH_FEATURES, FEATURE_SETS
from stylebias.extract.scripts import dominant_script, split_cjk_words

FULL = [*FEATURE_SETS["full"], "script"]

KOREAN = (
    "좋은 질문입니다! 서울은 대한민국의 수도입니다. 인구는 약 천만 명이며, 한강이 도시를 가로지릅니다.\n\n"
    "- 경복궁\n- 남산타워"
)
JAPANESE = (
    "素晴らしい質問ですね！東京は日本の首都です。人口は約1400万人で、世界最大の都市圏の一つです。\n\n"
    "主な観光地：\n- 浅草寺\n- 東京タワー"
)
CHINESE = "这是一个很好的问题！北京是中国的首都。它有三千多年的历史，人口超过两千万。\n\n- 故宫\n- 长城"
RUSSIAN = (
    "Отличный вопрос! Москва — столица России. Её население превышает 12 миллионов человек.\n\n"
    "- Красная площадь\n- Большой театр"
)
ARABIC = "سؤال رائع! القاهرة هي عاصمة مصر؟ نعم، وهي أكبر مدينة في العالم العربي."
CHINESE_REFUSAL = "抱歉，我无法帮助你完成这个请求。这可能违反相关法律。"
ENGLISH = "Great question! Paris is the capital of France. It has about two million people."


def test_the_script_of_each_language() -> None:
    assert dominant_script(KOREAN) == "hangul"
    assert dominant_script(JAPANESE) == "japanese"
    assert dominant_script(CHINESE) == "han"
    assert dominant_script(RUSSIAN) == "cyrillic"
    assert dominant_script(ARABIC) == "arabic"
    assert dominant_script(ENGLISH) == "latin"
    assert dominant_script("Ça coûte 10 € — très “cher”, déjà vu 😊") == "latin"
    assert dominant_script("") == dominant_script("123 + 456 = 579 😊") == "none"
    assert dominant_script("გამარჯობა მსოფლიო, როგორ ხარ") == "other"  # Georgian: a script not listed
    # a Japanese answer full of English identifiers is still Japanese; an English one quoting a character, English
    assert dominant_script("PythonのpandasでDataFrameを作る方法を説明します。") == "japanese"
    assert dominant_script("The character 猫 means cat.") == "latin"


def test_han_and_kana_characters_are_words_and_full_width_marks_end_sentences() -> None:
    f = extract_one(CHINESE, None, ["words", "sentences"])
    han = sum(1 for c in CHINESE if "\u4e00" <= c <= "\u9fff")
    assert f["words"] == han  # every Han character
    assert f["sentences"] == 3 + 2  # three 。！ sentences without a space after them, two list items
    j = extract_one("私は猫が好きです。「本当？」Pythonの関数を使います！", None, ["words", "sentences"])
    assert j["words"] == 8 + 2 + 1 + 8  # 私は猫が好きです, 本当, Python, の関数を使います
    assert j["sentences"] == 3
    assert split_cjk_words(["Pythonの関数", "hello"]) == ["Python", "の", "関", "数", "hello"]


def test_hangul_and_cyrillic_words_are_space_separated() -> None:
    k = extract_one(KOREAN, None, ["words", "sentences", "paragraphs"])
    assert k == {"words": 12 + 2, "sentences": 3 + 2, "paragraphs": 2}
    r = extract_one(RUSSIAN, None, ["words", "sentences"])
    assert r == {"words": 11 + 4, "sentences": 3 + 2}  # the dash is not a word
    assert extract_one(ARABIC, None, ["sentences"])["sentences"] == 3  # ! ؟ .


@pytest.mark.parametrize("text", [KOREAN, JAPANESE, CHINESE, RUSSIAN, ARABIC, CHINESE_REFUSAL])
def test_english_measures_are_not_applicable_outside_latin_script(text: str) -> None:
    f = extract_one(text, "Tell me about the capital.", FULL)
    for name in ENGLISH_FEATURES:
        if name == "refusal":
            assert f[name] == "n/a"
        else:
            assert math.isnan(f[name]), name
    # the script-independent measures still read the text
    assert f["tokens"] > 0 and f["words"] > 0 and f["sentences"] > 0 and f["chars"] == len(text)
    assert all(math.isfinite(f[n]) for n in FULL if n not in ENGLISH_FEATURES and n not in ("script",))


def test_english_measures_still_apply_to_latin_text() -> None:
    f = extract_one(ENGLISH, "Tell me about Paris.", FULL)
    assert f["script"] == "latin" and f["refusal"] == "none"
    assert all(math.isfinite(f[n]) for n in ENGLISH_FEATURES if n != "refusal")
    assert f["flattery"] == 1  # "Great question!"


def test_frame_dtypes_do_not_depend_on_the_script() -> None:
    latin = response_features([ENGLISH], features=FULL, cache=False)
    mixed = response_features([ENGLISH, CHINESE], features=FULL, cache=False)
    assert latin.dtypes.equals(mixed.dtypes)  # every block of a stream has the same schema
    assert mixed["flattery_count"].dtype == np.float64 and mixed["words"].dtype == np.int64


def test_not_applicable_values_survive_the_cache(tmp_path) -> None:
    first = response_features([CHINESE, ENGLISH], features=FULL, cache=str(tmp_path))
    again = response_features([CHINESE, ENGLISH], features=FULL, cache=str(tmp_path))
    pd.testing.assert_frame_equal(first, again)
    assert math.isnan(again.loc[0, "positivity"]) and again.loc[0, "refusal"] == "n/a"


def test_pair_features_count_not_applicable_as_no_difference_with_a_warning() -> None:
    battles = pd.DataFrame(
        {
            "response_a": [ENGLISH, CHINESE, RUSSIAN],
            "response_b": [ENGLISH + " Enjoy!", ENGLISH, KOREAN],
            "prompt": ["Tell me about a capital."] * 3,
        }
    )
    with pytest.warns(StyleBiasWarning, match="positivity in 2 battle"):
        z = pair_features(battles, "full", cache=False)
    assert np.isfinite(z.to_numpy()).all()
    for name in ("positivity", "flesch_reading_ease", "refusal", "flattery"):
        assert z.loc[1, name] == 0.0 and z.loc[2, name] == 0.0
    assert z.loc[1, "tokens"] != 0.0  # what every script has is still compared
    with pytest.raises(Exception, match="label"):
        pair_features(battles, ["tokens", "script"], cache=False)


def test_a_fit_on_multilingual_battles_uses_every_battle() -> None:
    """Not-applicable values reach the rating fit as no difference: the fit runs on every battle."""
    from stylebias import StyleControl

    rng = np.random.default_rng(0)
    texts = [ENGLISH, CHINESE, RUSSIAN, KOREAN, JAPANESE, ENGLISH + " Hope this helps!"]
    rows = []
    for i in range(120):
        a, b = rng.choice(len(texts), 2, replace=False)
        rows.append(
            {
                "model_a": f"m{i % 4}",
                "model_b": f"m{(i + 1 + i // 4) % 4}",
                "response_a": texts[a],
                "response_b": texts[b],
                "prompt": "Tell me about a capital.",
                "winner": rng.choice(["model_a", "model_b"]),
            }
        )
    df = pd.DataFrame(rows)
    df = df[df.model_a != df.model_b].reset_index(drop=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StyleBiasWarning)
        sc = StyleControl(features=["tokens", "positivity", "refusal"], cache=False).fit(df)
    assert sc.n_obs_ == len(df)
    assert np.isfinite(sc.coef_).all()


@pytest.mark.shared
def test_real_arena_answers_in_other_scripts(shared_data) -> None:
    """The real Chatbot Arena answers of ../shared include Russian, Chinese, ... replies: each gets its script,
    and the English measures apply exactly to the Latin ones."""
    arena = pd.read_csv(shared_data / "lmarena_llama3_70b_battles" / "llama3_70b_vs_other.csv")
    texts = arena["llama-3-70b-instruct"].tolist() + arena["not_llama"].tolist()
    f = response_features(texts, features=FULL, cache=False)
    counts = f["script"].value_counts()
    assert counts["latin"] > 0.8 * len(texts)
    assert counts.get("cyrillic", 0) >= 5
    other = f[~f["script"].isin(["latin", "none"])]
    assert other["positivity"].isna().all() and (other["refusal"] == "n/a").all()
    latin = f[f["script"] == "latin"]
    assert latin["positivity"].notna().all() and latin["refusal"].isin(["none", "partial", "full"]).all()


def test_derived_tone_levels_are_not_applicable_outside_latin_script() -> None:
    """LMArena-2025's tone levels read positivity and flattery: a Chinese side makes them no difference."""
    battles = pd.DataFrame(
        {"response_a": [ENGLISH, CHINESE], "response_b": ["That is awful.", ENGLISH], "prompt": ["Hi"] * 2}
    )
    with pytest.warns(StyleBiasWarning, match="tone_positive in 1 battle"):
        z = pair_features(battles, "lmarena-2025", cache=False)
    assert np.isfinite(z.to_numpy()).all()
    tone = [c for c in z.columns if c.startswith("tone_")]
    assert (z.loc[1, tone] == 0).all() and (z.loc[0, tone] != 0).any()
