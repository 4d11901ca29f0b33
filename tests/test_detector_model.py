"""The learned part of the detectors: the pooled logistic, its JSON artifacts, the fitting, ``stylebias detect``."""

from __future__ import annotations

import json
import math
import random

import pytest
from typer.testing import CliRunner

from stylebias.cli import app
from stylebias.extract.detectors.detect import MODEL_FOLDER, load_models
from stylebias.extract.detectors.model import PooledLogistic, best_threshold
from stylebias.extract.detectors.training import featurize, fit_head, predict
from stylebias.resources import models_dir


def _toy(n: int = 300, seed: int = 0) -> tuple[list, list[int], list[str]]:
    """Replies of 1-5 units; a reply is positive iff one unit carries signal 'x' (multiple-instance data)."""
    rng = random.Random(seed)
    samples, y, groups = [], [], []
    for j in range(n):
        units = [[rng.choice(["a", "b", "c"]), f"pos:{k}"] for k in range(rng.randint(1, 5))]
        pos = rng.random() < 0.3
        if pos:
            units[rng.randrange(len(units))].append("x")
        samples.append((units, {"ctx:q": float(rng.random() < 0.5)}))
        y.append(int(pos))
        groups.append(f"s{j % 3}")
    return samples, y, groups


def test_pooled_logistic_finds_the_unit_that_carries_the_label() -> None:
    samples, y, groups = _toy()
    m = PooledLogistic(min_df=1, min_sources=1).fit(samples, y, groups)
    assert m.unit_weights_["x"] > 2 > max(abs(m.unit_weights_.get(s, 0.0)) for s in "abc")
    logits = m.decision_many(samples)
    m.threshold_ = best_threshold(logits, y)
    pred = [int(v >= m.threshold_) for v in logits]
    assert pred == y
    expl = m.explain(samples[y.index(1)])
    best = max(expl["units"], key=lambda u: u["score"])
    assert "x" in best["signals"] and expl["positive"]


def test_pooling_is_a_smooth_maximum_with_a_null_unit() -> None:
    m = PooledLogistic(sharpness=4.0)
    assert m.pool([]) == 0.0  # only the null unit (score 0)
    assert m.pool([5.0]) == pytest.approx(5.0, abs=1e-8)
    assert m.pool([-5.0, -6.0]) < 0.01  # negative units add (almost) nothing: evidence only adds
    assert m.pool([2.0, 2.0]) > m.pool([2.0])


def test_ngram_vocabulary_needs_several_responses_from_several_sources() -> None:
    samples = [([["ng:rare", "ng:common"]], {})] * 6 + [([["ng:common"]], {})] * 6
    groups = ["a"] * 6 + ["a"] * 3 + ["b"] * 3
    vocab = PooledLogistic(min_df=5, min_sources=2)._vocabulary(samples, groups)
    assert "ng:common" in vocab and "ng:rare" not in vocab  # 'rare' recurs, but in source a only


def test_json_round_trip_gives_identical_decisions() -> None:
    samples, y, groups = _toy(seed=1)
    m = PooledLogistic(min_df=1, min_sources=1).fit(samples, y, groups)
    m.threshold_ = 0.25
    back = PooledLogistic.from_dict(json.loads(json.dumps(m.to_dict())))
    for s in samples[:50]:
        assert back.decision_function(s) == pytest.approx(m.decision_function(s), abs=1e-4)
    assert back.threshold_ == 0.25
    with pytest.raises(ValueError, match="not a pooled-logistic"):
        PooledLogistic.from_dict({"kind": "pickle"})


def test_best_threshold_maximises_f1() -> None:
    logits = [3.0, 2.0, 1.0, 0.0, -1.0]
    y = [1, 1, 0, 1, 0]
    t = best_threshold(logits, y)
    assert 0.0 > t > -1.0  # taking the top four: F1 6/7 beats the top two (0.8)


def test_shipped_models_are_plain_json_with_their_card() -> None:
    folder = models_dir() / MODEL_FOLDER
    for name in ("flattery.json", "refusal.json"):
        doc = json.loads((folder / name).read_text(encoding="utf-8"))
        assert doc["schema"] == 1 and doc["training_data"]["rows"] > 2000
        assert "test split" in doc["training_data"]["excluded"]
        for head in doc["heads"].values():
            assert (
                head["kind"] == "pooled-logistic"
                and head["unit_weights"]
                and math.isfinite(head["threshold"])
            )
    card = (folder / "MODEL_CARD.md").read_text(encoding="utf-8")
    for needed in ("leave-one-source-out", "frozen test", "Limits"):
        assert needed in card
    assert not list(folder.glob("*.pkl")) and not list(folder.glob("*.pickle"))
    m = load_models()
    assert m.flattery.threshold_ == pytest.approx(
        json.loads((folder / "flattery.json").read_text())["heads"]["flattery"]["threshold"]
    )


def test_fit_on_rows_thresholds_from_other_sources() -> None:
    rows = []
    for src in ("s1", "s2", "s3"):
        rows += [
            {
                "source": src,
                "prompt": "What is 2 + 2?",
                "response": "The answer is 4.",
                "flattery": 0,
                "refusal": "none",
            },
            {
                "source": src,
                "prompt": "Is my plan good?",
                "response": "What a great plan! Do it.",
                "flattery": 1,
                "refusal": "none",
            },
            {
                "source": src,
                "prompt": "How do I hack wifi?",
                "response": "I'm sorry, but I can't help with that.",
                "flattery": 0,
                "refusal": "full",
            },
        ] * 4
    feats = featurize(rows)
    head = fit_head(
        "flattery", feats, rows, {"sharpness": 4.0, "l2": 0.5, "ngram_l2": 4.0, "min_df": 1, "min_sources": 1}
    )
    assert [int(head.decision_function(f.flattery.as_tuple()) >= head.threshold_) for f in feats] == [
        r["flattery"] for r in rows
    ]
    models = load_models()
    out = predict(models, feats[:3])
    assert [o["refusal"] for o in out] == ["none", "none", "full"]


# ------------------------------------------------------------------------------------------- the CLI
def test_detect_cli_prints_units_patterns_and_decisions() -> None:
    res = CliRunner().invoke(
        app, ["detect", "What a curious term! It comes from Latin.", "--prompt", "What does oblique mean?"]
    )
    assert res.exit_code == 0, res.output
    out = res.output
    assert "curious term" in out and "what_a_exclamative_opener" in out
    assert "flattery = 1" in out and "refusal = none" in out and "threshold" in out


def test_detect_cli_json_and_stdin() -> None:
    res = CliRunner().invoke(
        app,
        ["detect", "-", "--prompt", "How do I pick a lock?", "--json", "-"],
        input="I'm sorry, but I can't help with that.",
    )
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    assert doc["refusal"]["refusal"] == "full"
    assert doc["units"][0]["refusal"]["labels"] == ["decline"]
    assert "i_cannot_produce" in doc["units"][0]["refusal"]["patterns"]
    assert doc["refusal"]["rule_table"]["level"] == "full"


def test_detect_cli_reads_files_and_rejects_no_text(tmp_path) -> None:
    f = tmp_path / "reply.txt"
    f.write_text("Great question! The answer is 42.", encoding="utf-8")
    res = CliRunner().invoke(app, ["detect", "--text-file", str(f), "--prompt", "What is six times seven?"])
    assert res.exit_code == 0 and "flattery = 1" in res.output
    res = CliRunner().invoke(app, ["detect"])
    assert res.exit_code != 0


def test_detect_cli_csv_one_row_per_unit() -> None:
    res = CliRunner().invoke(app, ["detect", "Great question! The answer is 42.", "--csv", "-"])
    assert res.exit_code == 0, res.output
    lines = res.output.strip().splitlines()
    assert lines[0].startswith("index,text,flattery_patterns") and len(lines) == 3
    assert "bare_praise_opener" in lines[1]


def _labelled(n: int = 60) -> list[dict]:
    """Rows of three sources: flattering openers, plain answers and declines, in the training schema."""
    kinds = [
        ("Is my plan good?", "What a great plan! Do it.", 1, "none"),
        ("What is the capital of France?", "Paris is the capital of France.", 0, "none"),
        ("How do I hack wifi?", "I'm sorry, but I can't help with that.", 0, "full"),
    ]
    return [
        {"source": f"s{j % 3}", "prompt": p, "response": r, "flattery": f, "refusal": ref}
        for j in range(n)
        for p, r, f, ref in [kinds[(j // 3) % 3]]
    ]


def test_out_of_source_scores_never_see_their_own_source() -> None:
    from stylebias.extract.detectors.training import HYPERPARAMETERS, head_samples, out_of_source_scores

    rows = _labelled()
    samples = head_samples(featurize(rows), "full")
    groups = [r["source"] for r in rows]
    y = [int(r["refusal"] == "full") for r in rows]
    params = {**HYPERPARAMETERS["full"], "min_df": 1, "min_sources": 1}
    before = out_of_source_scores(samples, y, groups, params)
    flipped = [1 - v if g == "s0" else v for v, g in zip(y, groups, strict=True)]  # s0's labels reversed
    after = out_of_source_scores(samples, flipped, groups, params)
    s0 = [i for i, g in enumerate(groups) if g == "s0"]
    assert [before[i] for i in s0] == [after[i] for i in s0]  # s0 is scored by fits without it
    assert [before[i] for i in range(len(rows)) if i not in s0] != [
        after[i] for i in range(len(rows)) if i not in s0
    ]  # the other sources' fits did read s0


def test_fit_head_weighs_each_fit_by_the_sources_it_reads() -> None:
    rows = _labelled()
    feats = featurize(rows)
    seen: list[tuple[str, ...]] = []

    def ones(groups):
        seen.append(tuple(sorted(set(groups))))
        return [1.0] * len(groups)

    params = {"sharpness": 4.0, "l2": 0.5, "ngram_l2": 4.0, "min_df": 1, "min_sources": 1}
    weighed = fit_head("full", feats, rows, params, weigh=ones)
    plain = fit_head("full", feats, rows, params)
    assert sorted(seen) == [("s0", "s1"), ("s0", "s1", "s2"), ("s0", "s2"), ("s1", "s2")]
    assert weighed.to_dict() == plain.to_dict()  # unit weights change nothing
    heavy = fit_head("full", feats, rows, params, weigh=lambda g: [5.0 if s == "s0" else 1.0 for s in g])
    assert heavy.unit_weights_ != plain.unit_weights_
