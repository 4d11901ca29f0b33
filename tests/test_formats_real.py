"""The real third-party files in ../shared/data and the embedded demo load with every record accounted for."""

from __future__ import annotations

import gzip
import json
from collections import Counter
from pathlib import Path

import pytest

from stylebias import load_battles
from stylebias.formats import DEMO_FILES
from stylebias.resources import demo_dir

pytestmark = pytest.mark.shared


@pytest.mark.slow
def test_every_alpaca_eval_file(shared_data: Path) -> None:
    folder = shared_data / "alpaca_eval" / "annotations_ae2_weighted_gpt4_turbo"
    data = load_battles(folder)
    data.check_accounting()
    files = sorted(folder.glob("*.json.gz"))
    assert len(data.sources) == len(files) == 48
    for path, src in zip(files, data.sources.sort_values("file").itertuples(index=False), strict=True):
        n = len(json.loads(gzip.open(path).read()))
        assert src.read == n, path.name  # 805 per file, except five upstream files with 802-804 rows
        assert src.format == "alpaca_eval"
        if path.name.startswith("gpt4_1106_preview."):
            assert (src.accepted, src.rejected) == (0, n)  # the baseline against itself
        else:
            assert (src.accepted, src.rejected) == (n, 0), path.name
    assert set(data.rejects["reason"].str.split(":").str[0]) == {"self-battle"}
    assert set(data.battles["model_a"]) == {"gpt4_1106_preview"}
    assert "example" in set(data.battles["model_b"])  # upstream's NullModel generator name is kept as written
    assert set(data.battles["judge"]) == {"weighted_alpaca_eval_gpt4_turbo"}
    assert data.battles["pref_a"].between(0, 1).all()


def test_alpaca_eval_file_preference_direction(shared_data: Path) -> None:
    path = (
        shared_data / "alpaca_eval" / "annotations_ae2_weighted_gpt4_turbo" / "gpt4_gamed.annotations.json.gz"
    )
    raw = json.loads(gzip.open(path).read())
    data = load_battles(path)
    assert data.accounting() == {"read": 805, "accepted": 805, "rejected": 0}
    pref = data.battles["pref_a"].to_numpy()
    assert pref == pytest.approx([2 - r["preference"] for r in raw])
    assert (data.battles["response_b"] == [r["output_2"] for r in raw]).all()


def test_pandalm_human_testset(shared_data: Path) -> None:
    path = shared_data / "pandalm_human_testset" / "testset-v1.json"
    raw = json.loads(path.read_text())
    data = load_battles(path)
    assert data.accounting() == {"read": 999, "accepted": 993, "rejected": 6}
    bad_idx = sorted(
        r["idx"] for r in raw if not isinstance(r["response1"], str) or not isinstance(r["response2"], str)
    )
    assert sorted(int(n) - 1 for n in data.rejects["record"]) == bad_idx  # records are 1-based positions
    assert data.rejects["reason"].str.startswith("non-text response").all()
    expected = Counter()
    for r in raw:
        if r["idx"] in bad_idx:
            continue
        label, n = Counter([r["annotator1"], r["annotator2"], r["annotator3"]]).most_common(1)[0]
        expected[{1: "model_a", 2: "model_b", 0: "tie"}[label] if n >= 2 else "tie"] += 1
    got = Counter(data.battles["winner"].astype(str))
    assert got == expected
    assert got["tie"] == 105
    pairs = Counter(frozenset(p) for p in zip(data.battles["model_a"], data.battles["model_b"], strict=True))
    assert len(pairs) == 10 and all(len(p) == 2 for p in pairs)


def test_embedded_demo() -> None:
    files = [demo_dir() / name for name in DEMO_FILES]
    assert sum(f.stat().st_size for f in files) <= 5 * 1024 * 1024
    assert (demo_dir() / "SOURCES.md").is_file()
    data = load_battles()
    data.check_accounting()
    assert data.sources["file"].tolist() == [f"demo/{n}" for n in DEMO_FILES]
    by_judge = data.battles.groupby("judge")
    assert set(by_judge.groups) == {"weighted_alpaca_eval_gpt4_turbo", "human"}
    ae = data.battles[data.battles["judge"] == "weighted_alpaca_eval_gpt4_turbo"]
    required = {
        "gpt-3.5-turbo-1106",
        "gpt-3.5-turbo-1106_verbose",
        "gpt-3.5-turbo-1106_concise",
        "alpaca-7b",
        "alpaca-7b_verbose",
        "alpaca-7b_concise",
        "NullModel",
        "gpt4_gamed",
    }
    assert required <= set(ae["model_b"])
    assert "example" not in set(ae["model_b"])
    # every model answers the same instructions, so battles are comparable
    prompts = ae.groupby("model_b")["prompt"].apply(frozenset)
    assert prompts.nunique() == 1 and len(prompts.iloc[0]) >= 800
    human = data.battles[data.battles["judge"] == "human"]
    human_models = set(human["model_a"]) | set(human["model_b"])
    ae_models = set(ae["model_a"]) | set(ae["model_b"])
    assert len(human) == 993 and not human_models & ae_models  # two disconnected comparison graphs
    assert data.rejected == 6
