"""LMArena's style set: exact markdown counts, token counts, pair features from texts and from meta_*."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from stylebias.errors import DataError, UsageError
from stylebias.extract import pair_features, resolve_features, response_features
from stylebias.extract.markdown import lmarena_counts, lmarena_strip_code
from stylebias.extract.tokens import count_tokens

MD = """# Title
Intro with **bold one** and __bold two__ and **bold
across lines** (not bold).

## Section
1. first
2. second
   - nested *
   - nested two
* star item
+ plus item
#NoSpace is not a header
####### seven hashes is not a header

```python
# comment in code is not a header
- not a list
**not bold**
```
"""


def test_lmarena_markdown_counts_exact() -> None:
    headers, lists, bold = lmarena_counts(MD)
    assert headers == 2  # "# Title", "## Section"
    assert lists == 6  # 1. 2. - - * +
    assert bold == 2


def test_code_removal_keeps_fences_like_fastchat() -> None:
    # FastChat removes the *inner* text of ```...``` blocks with str.replace; fences stay.
    assert lmarena_strip_code("a```x\n# h\n```b") == "a``````b"
    # the same inner text elsewhere in the answer is removed too (str.replace semantics)
    assert lmarena_strip_code("```X```X") == "``````"


def test_blank_line_collapse_does_not_change_counts() -> None:
    text = "\n\n\n   \n- a\n\n\t\n1. b\n"
    assert lmarena_counts(text)[1] == 2


def test_token_count_is_cl100k() -> None:
    # reference values from tiktoken cl100k_base
    assert count_tokens("") == 0
    assert count_tokens("hello world") == 2
    assert count_tokens("<|endoftext|>") > 1  # special tokens count as ordinary text


def test_response_features_lmarena_columns_and_dtypes() -> None:
    df = response_features([MD, ""], features="lmarena", cache=False)
    assert list(df.columns) == ["tokens", "header_count", "list_count", "bold_count"]
    assert df.loc[0, ["header_count", "list_count", "bold_count"]].tolist() == [2, 6, 2]
    assert df.loc[1].tolist() == [0, 0, 0, 0]
    assert all(dt == np.int64 for dt in df.dtypes)


def test_pair_features_from_texts_normalised_difference() -> None:
    battles = pd.DataFrame(
        {"response_a": ["- a\n- b\n- c", "x"], "response_b": ["plain", "- a"], "prompt": ["p", "p"]},
        index=[10, 11],
    )
    z = pair_features(battles, "lmarena", cache=False)
    assert list(z.index) == [10, 11]
    assert all(dt == np.float64 for dt in z.dtypes)
    assert z.loc[10, "list_count"] == pytest.approx((3 - 0) / (3 + 0 + 1))
    assert z.loc[11, "list_count"] == pytest.approx((0 - 1) / (0 + 1 + 1))


def test_pair_features_from_metadata_only() -> None:
    battles = pd.DataFrame(
        {
            "battle_id": ["b1"],
            "response_a": [None],
            "response_b": [None],
            "meta_tokens_a": [300.0],
            "meta_tokens_b": [100.0],
            "meta_header_count_a": [2.0],
            "meta_header_count_b": [0.0],
            "meta_list_count_a": [5.0],
            "meta_list_count_b": [5.0],
            "meta_bold_count_a": [0.0],
            "meta_bold_count_b": [3.0],
        }
    )
    z = pair_features(battles, "lmarena", cache=False)
    assert z.iloc[0].tolist() == pytest.approx([200 / 401, 2 / 3, 0.0, -3 / 4])
    with pytest.raises(DataError, match="need response texts"):
        pair_features(battles, "full", cache=False)


def test_metadata_only_without_meta_is_a_data_error() -> None:
    battles = pd.DataFrame({"response_a": [None], "response_b": ["x"], "source_file": ["f.jsonl"]})
    with pytest.raises(DataError, match="f.jsonl"):
        pair_features(battles, "lmarena", cache=False)


def test_resolve_features() -> None:
    assert resolve_features("lmarena") == ["tokens", "header_count", "list_count", "bold_count"]
    assert resolve_features("tokens, emoji_count,tokens") == ["tokens", "emoji_count"]
    assert "refusal" in resolve_features("full")
    assert resolve_features(["lmarena", "emoji"])[-1] == "emoji_count"
    with pytest.raises(UsageError, match="'tokenz'.*'boldness'"):
        resolve_features("tokenz,lmarena,boldness")


def _fastchat_reference(answer: str) -> tuple[int, int, int]:
    """FastChat's add_markdown_info.py algorithm without our safety shortcuts (the parity oracle)."""
    import re

    for block in re.compile("```([^`]*)```").findall(answer):
        answer = answer.replace(block, "")
    headers = sum(len(re.findall(rf"^#{{{k}}}\s", answer, re.MULTILINE)) for k in range(1, 7))
    lists = len(re.findall(r"^\s*\d+\.\s", answer, re.MULTILINE)) + len(
        re.findall(r"^\s*[-*+]\s", answer, re.MULTILINE)
    )
    bold = len(re.findall(r"\*\*[^*\n]+\*\*", answer)) + len(re.findall(r"__[^_\n]+__", answer))
    return headers, lists, bold


def test_markdown_counts_equal_fastchat_on_real_answers(shared_data) -> None:
    import gzip
    import json

    texts = []
    for name in ("gpt-4o-mini-2024-07-18", "Meta-Llama-3-8B-Instruct", "claude-3-5-sonnet-20240620"):
        texts += [
            r["output"]
            for r in json.loads(gzip.open(shared_data / f"alpaca_eval/model_outputs/{name}.json.gz").read())
        ]
    joined = [texts[i] + "\n\n" + texts[i + 1] for i in range(0, 200, 2)]  # multi-turn style joins
    for t in texts + joined:
        assert lmarena_counts(t) == _fastchat_reference(t)
