"""The detector penalty bench: LOSO picks the best penalty (the smaller on a tie), and nested LOSO never lets the
judged source take part in choosing the penalty it is judged with."""

from __future__ import annotations

from tests._bench import load_bench

penalty = load_bench("detector_penalty")


class StubHead:
    """A head whose LOSO score per penalty is given, and whose fitted 'model' predicts a fixed answer per penalty;
    it records which rows every choice saw."""

    def __init__(self, sources: list[str], y: list[int], scores, answer) -> None:
        self.rows = [{"source": s} for s in sources]
        self.y = y
        self.scores, self.answer = scores, answer
        self.seen: list[set[str]] = []

    def loso(self, idx: list[int], p: float) -> float:
        self.seen.append({self.rows[i]["source"] for i in idx})
        return self.scores(idx, p)

    def fit(self, idx: list[int], p: float) -> float:
        return p

    def decide(self, model: float, idx: list[int]) -> list[bool]:
        return [self.answer(model, i) for i in idx]


def test_choose_takes_the_best_penalty_and_the_smaller_on_a_tie() -> None:
    head = StubHead(
        ["a", "b"], [1, 0], lambda idx, p: {4.0: 0.70, 8.0: 0.75, 16.0: 0.75}[p], lambda m, i: True
    )
    best, scores = penalty.choose(head, [0, 1])
    assert best == 8.0
    assert scores == {4.0: 0.70, 8.0: 0.75, 16.0: 0.75}


def test_nested_chooses_without_the_judged_source_and_scores_its_rows_with_that_choice() -> None:
    sources = ["a", "a", "b", "b", "c", "c"]
    y = [1, 0, 1, 0, 1, 0]
    # every choice prefers 16 unless source "c" is among the rows it scores; a 16-model predicts the truth,
    # any other predicts "yes" everywhere
    head = StubHead(
        sources,
        y,
        lambda idx, p: p if all(sources[i] != "c" for i in idx) else -p,
        lambda m, i: bool(y[i]) if m == 16.0 else True,
    )
    score, picked = penalty.nested(head)
    assert picked == {"a": 4.0, "b": 4.0, "c": 16.0}  # only the fold that holds "c" out can prefer 16
    assert all(src not in seen for src, seen in zip(("a", "b", "c"), head.seen[::3], strict=True))
    # a and b were judged with 4 (all "yes": 2 hits, 2 false flags), c with 16 (exact): F1 = 2*3 / (5 + 3)
    assert score == 2 * 3 / (5 + 3)
