"""Arena-Hard-Auto judgments: an LLM judge compares each model with a fixed baseline, twice, positions swapped.

Upstream (``lmarena/arena-hard-auto``) writes one judgment line per (question, model) to
``model_judgment/<judge>/<model>.jsonl``, with two *games*: ``games[0]`` shows the baseline as assistant A and
the model as B, ``games[1]`` the swap (v0.1 ``gen_judgment.py::judgment``: ``if game % 2 == 1: answer, baseline
= baseline, answer``; v2 ``gen_judgment.py::judgment``: round 1 ``baseline=baseline, answer=answer``, round 2
``baseline=answer, answer=baseline``). Each game's ``score`` is the verdict label the judge wrote.

Two schema generations, told apart per record:

* **v0.1** (``question_id``, ``model``, ``judge``, ``games[{user_prompt, judgment: text, score}]``): the baseline
  is the run's ``baseline_model``, ``gpt-4-0314`` (``config/judge_config.yaml``; ``show_result.py --baseline``),
  or the line's own ``baseline`` field when it has one (upstream's lines do not name it).
  Labels ``A>>B, A>B, A=B, B>A, B>>A`` (``show_result.py::get_battles_from_row``); any other label gets weight 0
  there, i.e. that game is dropped alone, so here it is rejected alone.
* **v2** (``uid``, ``category``, ``judge``, ``model``, ``baseline``, ``games[{score, judgment: {answer}, prompt}]``):
  the baseline is the record's ``baseline`` (else ``utils/judge_utils.py::JUDGE_SETTINGS[category]``). Labels add
  the aliases ``A<<B, A<B, B=A, B<<A, B<A`` (``show_result.py::load_judgments``, ``label_to_score``). A record
  with a null game or a null score in *either* game is dropped whole there, so its other game is rejected too.

Strong verdicts (``>>``/``<<``) count as ``weight = 3`` battles upstream (``[1] * weight`` in v2,
``results += [output] * weight`` in v0.1; default 3 in both). Here every game is one battle row whose
``weight`` column says how many battles upstream counts it as (1 or 3), so ``weight`` used as a frequency weight
(or rows repeated ``weight`` times, :func:`upstream_scores`) reproduces upstream's battle table.

Battle rows keep the judge's positions: game 1 has ``model_a = baseline``, game 2 ``model_b = baseline``.
Extra columns: ``question_id``, ``category`` (and the question's ``cluster`` / ``subcategory``), ``game``,
``baseline``, ``verdict`` (the label as written), ``weight``. Texts and ``meta_*`` style counts come from the
answer files (see :mod:`._benchmark`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..battles import BattleSet, Ledger
from ..rows import Reject, join_turns, model_name, pair_names
from . import _io
from ._base import LoadContext, feed, file_progress, iter_records, progress_total
from ._benchmark import JUDGMENT_DIR, Benchmark, benchmark_for, judged, question_id

#: v0.1's fixed baseline (``config/judge_config.yaml: baseline_model``; ``show_result.py --baseline`` default).
V01_BASELINE = "gpt-4-0314"

#: v2's baseline per question category (``utils/judge_utils.py::JUDGE_SETTINGS``), used when a record lacks
#: its ``baseline`` field.
V2_BASELINES: dict[str, str] = {
    "hard_prompt": "o3-mini-2025-01-31",
    "coding": "o3-mini-2025-01-31",
    "math": "o3-mini-2025-01-31",
    "creative_writing": "gemini-2.0-flash-001",
    "arena-hard-v0.1": "gpt-4-0314",
}

#: Upstream's weight of a strong verdict (``load_judgments(weight=3)``, ``--weight 3``).
STRONG_WEIGHT = 3

#: verdict label -> (winner from the judge's A/B view, strong?)
V01_VERDICTS: dict[str, tuple[str, bool]] = {
    "A>>B": ("model_a", True),
    "A>B": ("model_a", False),
    "A=B": ("tie", False),
    "B>A": ("model_b", False),
    "B>>A": ("model_b", True),
}
V2_VERDICTS: dict[str, tuple[str, bool]] = {
    **V01_VERDICTS,
    "A<<B": ("model_b", True),
    "A<B": ("model_b", False),
    "B=A": ("tie", False),
    "B<<A": ("model_a", True),
    "B<A": ("model_a", False),
}

_V01_KEYS = {"question_id", "model", "games"}
_V2_KEYS = {"uid", "model", "games"}


def detect(keys: set[str]) -> str | None:
    return "arena_hard" if _V01_KEYS <= keys or _V2_KEYS <= keys else None


def _generation(rec: dict[str, Any]) -> str:
    return "v2" if "uid" in rec else "v0.1"


def _games(records: Iterator[tuple[int, Any]]) -> Iterator[tuple[int | str, Any]]:
    """One pseudo-record per game (``"<line>:g<k>"``); a line without a usable ``games`` list stays one record."""
    for number, rec in records:
        if not isinstance(rec, dict):
            yield number, rec
            continue
        games = rec.get("games")
        if not isinstance(games, list) or not games:
            yield number, _io.Bad(f"malformed record: games is {type(games).__name__}, not a list of games")
            continue
        if len(games) > 2:
            yield number, _io.Bad(f"malformed record: {len(games)} games (Arena-Hard plays one or two)")
            continue
        for k in range(1, len(games) + 1):
            yield f"{number}:g{k}", {"record": rec, "game": k}


def _score(game: Any, k: int) -> Any:
    if game is None:
        raise Reject(f"no vote: game {k} is null (the judge call failed)")
    if not isinstance(game, dict):
        raise Reject(f"malformed record: game {k} is {type(game).__name__}, not an object")
    score = game.get("score")
    if score is None:
        raise Reject(f"no vote: game {k} has no verdict label (score is null)")
    return score


def _check_partner(games: list[Any], k: int) -> None:
    """v2 drops a record unless both games have a verdict (``load_judgments``: ``null_indices``)."""
    if len(games) != 2:
        raise Reject(f"malformed record: {len(games)} game(s); Arena-Hard v2 plays two per question")
    other = 2 if k == 1 else 1
    try:
        _score(games[other - 1], other)
    except Reject as exc:
        raise Reject(
            f"unpaired game: the position-swapped game {other} has no verdict ({exc}); Arena-Hard v2 drops both"
        ) from None


def _baseline(rec: dict[str, Any], generation: str, category: Any) -> str:
    if "baseline" in rec:  # v2 writes it; a v0.1 line judged against another baseline may carry it too
        return model_name(rec.get("baseline"), "baseline")
    if generation == "v0.1":
        return V01_BASELINE
    if isinstance(category, str) and category in V2_BASELINES:
        return V2_BASELINES[category]
    raise Reject(f"unknown baseline: the record has no baseline and category {category!r} names none")


def _sides(bench: Benchmark, model_a: str, model_b: str, qid: str) -> dict[str, Any]:
    """Texts, prompt and ``meta_*`` of both sides; rejects when an answer is missing or unusable."""
    ans_a, ans_b = bench.answer(model_a, qid), bench.answer(model_b, qid)
    question = bench.questions.get(qid)
    row: dict[str, Any] = {}
    if question is not None:
        row["prompt"] = join_turns(list(question.turns))
        row["turns"] = len(question.turns)
        if question.category is not None:
            row["category"] = question.category
        row.update(question.extras)
    if ans_a is None or ans_b is None:
        return row
    if "prompt" not in row:
        users = ans_a.user_turns or ans_b.user_turns
        if users:
            row["prompt"] = join_turns(list(users))
            row["turns"] = len(users)
    row["response_a"] = join_turns(list(ans_a.turns))
    row["response_b"] = join_turns(list(ans_b.turns))
    row.setdefault("turns", len(ans_a.turns))
    for stem in ans_a.meta.keys() & ans_b.meta.keys():
        row[f"meta_{stem}_a"] = ans_a.meta[stem]
        row[f"meta_{stem}_b"] = ans_b.meta[stem]
    return row


def convert(
    item: dict[str, Any], *, bench: Benchmark, default_judge: str | None, ctx: LoadContext
) -> dict[str, Any]:
    rec, k = item["record"], item["game"]
    generation = _generation(rec)
    games = rec["games"]
    qid = question_id(rec.get("uid") if generation == "v2" else rec.get("question_id"))
    if qid is None:
        raise Reject("malformed record: no question id (uid / question_id)")
    score = _score(games[k - 1], k)
    if generation == "v2":
        _check_partner(games, k)
    labels = V2_VERDICTS if generation == "v2" else V01_VERDICTS
    if not isinstance(score, str) or score not in labels:
        raise Reject(
            f"unknown vote label: verdict {score!r} in game {k} (Arena-Hard {generation} labels: {', '.join(labels)})"
        )
    winner, strong = labels[score]
    model = model_name(rec.get("model"), "model")
    category = rec.get("category")
    baseline = _baseline(rec, generation, category)
    model_a, model_b = pair_names(baseline, model) if k == 1 else pair_names(model, baseline)
    judge = rec.get("judge") if isinstance(rec.get("judge"), str) and rec.get("judge") else default_judge
    row: dict[str, Any] = {
        **judged(f"{judge}:{qid}:{model}:g{k}", model_a, model_b, winner, judge or ctx.judge),
        "question_id": qid,
        "game": k,
        "baseline": baseline,
        "verdict": score,
        "weight": float(STRONG_WEIGHT if strong else 1),
    }
    if isinstance(category, str):
        row["category"] = category
    row.update({key: v for key, v in _sides(bench, model_a, model_b, qid).items() if key not in row})
    return row


def _default_judge(path: Path) -> str | None:
    """``model_judgment/<judge>/<model>.jsonl``: the judge named by the folder, for records that lack ``judge``."""
    parent = Path(path).parent
    return parent.name if parent.parent.name == JUDGMENT_DIR else None


def load(path: Path, container: str, ctx: LoadContext, fmt: str = "arena_hard") -> BattleSet:
    bench = benchmark_for(path, ctx, fmt)
    ledger = Ledger(ctx.file, fmt)
    judge = _default_judge(path)
    with file_progress(path, ctx.file, progress_total(path, container)) as update:
        feed(
            ledger,
            _games(iter_records(path, container, ctx, update)),
            lambda item, n: convert(item, bench=bench, default_judge=judge, ctx=ctx),
        )
    return ledger.to_battleset()


def upstream_scores(battles: pd.DataFrame) -> pd.DataFrame:
    """Upstream's battle table from Arena-Hard battles: one row per counted battle, from the model's side.

    The shape of v2 ``show_result.py::load_judgments``: columns ``question_id``, ``model`` (the judged model),
    ``baseline``, ``category``, ``game``, ``score`` (1 model won, 0 baseline won, 0.5 tie), each game repeated
    ``weight`` times. Its per-model mean is upstream's plain score; a baseline-anchored win rate is read from it.
    """
    b = battles.reset_index(drop=True)
    a_is_base = (b["model_a"] == b["baseline"]).to_numpy()
    model = np.where(a_is_base, b["model_b"], b["model_a"])
    pref_a = b["pref_a"].to_numpy(dtype=np.float64)
    score = np.where(a_is_base, 1.0 - pref_a, pref_a)
    reps = b["weight"].to_numpy(dtype=np.float64).astype(np.int64)
    out = pd.DataFrame(
        {
            "question_id": b["question_id"].to_numpy(),
            "model": model,
            "baseline": b["baseline"].to_numpy(),
            "category": b["category"].to_numpy() if "category" in b else None,
            "game": b["game"].to_numpy(),
            "score": score,
        }
    )
    return out.loc[out.index.repeat(reps)].reset_index(drop=True)
