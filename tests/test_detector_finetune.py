"""The fine-tuning bench reads what it says: the request's last turn and the reply's head and tail, thresholds
from a validation share that keeps each prompt's answers on one side, and decisions in the shipped order."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests._bench import load_bench

ft = load_bench("detector_finetune")


class WordTokenizer:
    """A stand-in for the word-piece tokenizer: one id per word (its length), [CLS] = 101, [SEP] = 102."""

    cls_token_id, sep_token_id = 101, 102

    def __call__(self, text: str, add_special_tokens: bool = False) -> dict:
        assert not add_special_tokens
        return {"input_ids": [len(w) for w in text.split()]}


def test_a_pair_is_the_last_turn_then_the_replys_head_and_tail() -> None:
    prompt = "Human: first ask\n\nAssistant: ok\n\nHuman: " + " ".join(["abc"] * 100)
    reply = " ".join(["a"] * 200 + ["bb"] * 10 + ["ccc"] * 48)
    ids, seg = ft.pair_ids(WordTokenizer(), prompt, reply)
    p = ft.PROMPT_PIECES
    # the last turn (its "Human:" marker kept), cut to its first pieces; the earlier turns are not read
    assert ids[0] == 101 and ids[1 : p + 1] == [6] + [3] * (p - 1) and ids[p + 1] == 102
    r = ids[p + 2 : -1]
    assert len(r) == ft.HEAD_PIECES + ft.TAIL_PIECES
    assert r[: ft.HEAD_PIECES] == [1] * ft.HEAD_PIECES and r[-ft.TAIL_PIECES :] == [3] * ft.TAIL_PIECES
    assert ids[-1] == 102 and len(seg) == len(ids)
    assert seg[: p + 2] == [0] * (p + 2) and set(seg[p + 2 :]) == {1}
    short, _ = ft.pair_ids(WordTokenizer(), "", "no no")  # a short reply is whole; no prompt is an empty turn
    assert short == [101, 102, 2, 2, 102]


def test_the_validation_share_keeps_a_prompts_answers_together() -> None:
    rows = [{"id": f"r{i}", "prompt": f"prompt number {i // 2}"} for i in range(2000)]
    idx = np.arange(len(rows))
    val = ft.validation_mask(rows, idx)
    assert np.array_equal(val[0::2], val[1::2])  # both answers of a prompt on the same side
    assert 0.10 < val.mean() < 0.20  # about VALIDATION
    assert np.array_equal(val, ft.validation_mask(rows, idx))  # fixed, not drawn afresh
    assert np.array_equal(ft.validation_mask(rows, idx[500:]), val[500:])  # a row's side is its own


def test_full_refusal_is_decided_first_and_counts_as_a_refusal() -> None:
    scores = np.array([[1.0, -5.0, 2.0], [-1.0, 0.5, -3.0], [0.0, -1.0, -1.0]])
    got = ft.decisions(scores, np.array([0.0, 0.0, 0.0]))
    assert got["flattery"].tolist() == [True, False, True]
    assert got["full"].tolist() == [True, False, False]
    assert got["any"].tolist() == [True, True, False]  # the first: full although its any output is low


def test_a_missing_model_folder_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.argv", ["detector_finetune.py", "--model-dir", str(tmp_path)])
    with pytest.raises(SystemExit, match="no model.safetensors"):
        ft.main()


def test_the_stacker_leans_on_whichever_score_separates_the_validation_rows() -> None:
    rng = np.random.default_rng(0)
    y = (rng.random(400) < 0.3).astype(float)
    informative, noise = np.where(y == 1, 2.0, -2.0) + rng.normal(0, 1, 400), rng.normal(0, 1, 400)
    high_low = np.array([[0.0, 3.0], [0.0, -3.0]])  # the judged rows differ in the second score only
    scores, threshold = ft.stacked(np.column_stack([noise, informative]), y, high_low)
    assert scores[0] >= threshold > scores[1]
    # with the columns swapped the second score is noise: the same two rows now score almost alike
    scores, _ = ft.stacked(np.column_stack([informative, noise]), y, high_low)
    assert abs(scores[0] - scores[1]) < 1.0


def test_folds_never_train_on_what_they_judge() -> None:
    rows = [
        {"id": f"r{i}", "source": src, "prompt": f"{src} prompt {i // 2}"}
        for i, src in enumerate(["a"] * 40 + ["hh"] * 60 + ["b"] * 20)
    ]
    rows.append({"id": "shared", "source": "a", "prompt": rows[50]["prompt"]})  # an hh prompt answered in a
    is_tuning = np.ones(len(rows), bool)
    is_tuning[-5:-1] = False  # spent held-out rows: judged, never trained on
    out_of_source = ft.folds(rows, is_tuning, None, 5)
    assert [name for name, _j, _t in out_of_source] == ["a", "b", "hh"]
    for name, judge, train in out_of_source:
        assert {rows[i]["source"] for i in judge} == {name}
        assert name not in {rows[i]["source"] for i in train} and is_tuning[train].all()
    within = ft.folds(rows, is_tuning, "hh", 5)
    judged = np.concatenate([j for _n, j, _t in within])
    assert sorted(judged) == [i for i, r in enumerate(rows) if r["source"] == "hh"]  # every hh row, once
    for _name, judge, train in within:
        assert not {rows[i]["prompt"] for i in judge} & {rows[i]["prompt"] for i in train}
        assert {rows[i]["source"] for i in train} >= {"a", "b"}  # the other sources train every fold
    assert any("hh" in {rows[i]["source"] for i in t} for _n, _j, t in within)  # and hh's other folds
    with pytest.raises(SystemExit, match="no such source"):
        ft.folds(rows, is_tuning, "nope", 5)


def test_a_table_of_red_team_rows_alone_has_no_without_them_figure() -> None:
    rows = [{"id": str(i), "source": "hh_rlhf_harmless", "prompt": f"p{i}"} for i in range(4)]
    gold = np.array([1, 0, 1, 1], dtype=bool)
    preds = {"shipped": dict.fromkeys(ft.HEADS, gold)}
    out = ft.designs.judged_table(rows, dict.fromkeys(ft.HEADS, gold), preds)
    assert out["shipped"]["any"] == {"f1": 1.0, "f1_without_hh": None, "diff_vs_shipped_95": [0.0, 0.0]}


def test_speed_times_tokenising_and_scoring_every_answer_beside_the_detectors(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from types import SimpleNamespace

    sample = [("a short reply", "ask"), ("a somewhat longer reply than that", "another ask")] * 20
    monkeypatch.setattr(
        ft,
        "load_script",
        lambda name: SimpleNamespace(speed_sample=lambda n: sample[:n], detector_cost=lambda s: 0.5),
    )
    seen: list[tuple[int, list[int]]] = []

    class FakeScorer:
        def __init__(self, encoded: list, targets: np.ndarray) -> None:
            self.encoded, self.targets = encoded, targets

        def scores(self, idx: np.ndarray) -> np.ndarray:
            seen.append((len(self.encoded), list(idx)))
            return np.zeros((len(idx), self.targets.shape[1]), dtype=np.float32)

    assert ft.scoring_speed(Path("unused"), WordTokenizer(), 40, make_model=FakeScorer) == 0
    assert seen[0] == (32, list(range(32)))  # the warm-up batch
    assert seen[1] == (40, list(range(40)))  # then every answer, tokenised inside the timed pass
    out = capsys.readouterr().out
    assert "40 real answers" in out and "detectors 0.500 CPU ms per reply" in out
