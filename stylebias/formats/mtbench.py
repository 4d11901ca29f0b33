"""MT-Bench pairwise judgments (FastChat ``fastchat/llm_judge``) and the MT-Bench human-judgment release.

**GPT-4 pair judgments** (``data/mt_bench/model_judgment/gpt-4_pair.jsonl``, written by
``common.py::play_a_match_pair``): ``{question_id, model_1, model_2, g1_winner, g2_winner, judge: [judge model,
prompt name], g1_user_prompt, g1_judgment, g2_user_prompt, g2_judgment, turn, tstamp}``. Game 1 shows model_1 as
assistant A, game 2 the swap; both winners are already mapped back to ``model_1`` / ``model_2`` (``g1_map``,
``g2_map``), or ``tie``, or ``error`` (no verdict parsed). One record is **one battle**, decided as
``show_result.py::display_result_pairwise`` decides it: a record with ``error`` in either game is left out
(rejected here, *no vote*); ``g1_winner == "tie"`` or ``g1_winner != g2_winner`` (the two orders disagree) is a
**tie**; otherwise the agreed winner. ``common.py::load_pairwise_model_judgments`` calls the disagreement
``inconsistent``; the ``inconsistent`` column flags it (kept as a tie, as upstream counts it). Records that
carry a combined ``winner`` instead of the two games (read the same way by ``load_pairwise_model_judgments``)
are taken as that winner.

Texts come from ``model_answer/<model>.jsonl`` (``choices[0].turns``) and the prompt from ``question.jsonl``
(``turns``): a ``turn = 2`` judgment read both turns (``run_judge_pair`` with ``multi_turn``), so the battle's
prompt and responses are the first ``turn`` turns joined. ``judge`` is the judge model (``gpt-4``) and
``judge_prompt`` the prompt name (``pair-v2``, ``pair-math-v1``, ``...-multi-turn``).

**Human judgments** (``lmsys/mt_bench_human_judgments``, splits ``human`` and ``gpt4_pair``): ``{question_id,
model_a, model_b, winner, judge, conversation_a, conversation_b, turn}`` with the whole two-turn conversations;
the battle keeps the first ``turn`` exchanges (what was judged). ``winner``: ``model_a``, ``model_b``, ``tie``,
``tie (bothbad)``, and ``tie (inconsistent)`` (the GPT-4 split's label for orders that disagreed: a tie with
``inconsistent = True``). ``judge`` follows ``compute_agreement.py::get_judge_name``: ``expert_*`` -> ``human``,
``author_*`` -> ``author``, ``["gpt-4", "pair-..."]`` -> ``gpt-4``; the raw value is kept in ``annotator``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..battles import BattleSet
from ..rows import Reject, conversation, is_null, join_turns, pair_names, winner_label
from ._base import LoadContext, load_records
from ._benchmark import Benchmark, benchmark_for, judged, question_id

PAIR_KEYS = ("question_id", "model_1", "model_2")
HUMAN_KEYS = (
    "question_id",
    "model_a",
    "model_b",
    "winner",
    "judge",
    "conversation_a",
    "conversation_b",
    "turn",
)
#: Keys of LMArena conversation releases that the MT-Bench human file never has.
_ARENA_ONLY = {
    "anony",
    "language",
    "tstamp",
    "conv_metadata",
    "openai_moderation",
    "toxic_chat_tag",
    "timestamp",
}
_GAME_WINNERS = ("model_1", "model_2", "tie", "error")


def detect(keys: set[str]) -> str | None:
    if set(PAIR_KEYS) <= keys and ({"g1_winner", "g2_winner"} <= keys or "winner" in keys):
        return "mtbench"
    if set(HUMAN_KEYS) <= keys and not keys & _ARENA_ONLY:
        return "mtbench_human"
    return None


def _turn(value: Any) -> int:
    if is_null(value):
        return 1  # single-answer-grading pair records carry no turn: first turn
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value) or value < 1:
        raise Reject(f"turn-count mismatch: turn is {value!r}, not a turn number")
    return int(value)


def _judge(value: Any) -> tuple[str | None, str | None]:
    """(judge, prompt name) from FastChat's ``[judge model, prompt name]`` or a plain string."""
    if isinstance(value, list | tuple) and value and all(isinstance(v, str) for v in value):
        return value[0], (value[1] if len(value) > 1 else None)
    if isinstance(value, str):
        return value, None
    return None, None


def _game_winner(value: Any, key: str) -> str:
    if value not in _GAME_WINNERS:
        raise Reject(f"unknown vote label: {key}={value!r} (MT-Bench games: model_1, model_2, tie, error)")
    if value == "error":
        raise Reject(f"no vote: {key} is 'error' (the judge gave no verdict)")
    return value


def pair_winner(rec: dict[str, Any]) -> tuple[str, bool]:
    """(winner over model_1/model_2 as model_a/model_b/tie, inconsistent) as ``display_result_pairwise``."""
    if "g1_winner" not in rec and "winner" in rec:
        w = rec.get("winner")
        if w == "inconsistent":
            return "tie", True
        return {"model_1": "model_a", "model_2": "model_b"}.get(_game_winner(w, "winner"), "tie"), False
    g1 = _game_winner(rec.get("g1_winner"), "g1_winner")
    g2 = _game_winner(rec.get("g2_winner"), "g2_winner")
    if g1 == "tie" or g1 != g2:
        return "tie", g1 != g2
    return ("model_a" if g1 == "model_1" else "model_b"), False


def _texts(bench: Benchmark, model_a: str, model_b: str, qid: str, turn: int) -> dict[str, Any]:
    row: dict[str, Any] = {}
    question = bench.questions.get(qid)
    if question is not None:
        if len(question.turns) < turn:
            raise Reject(
                f"turn-count mismatch: turn {turn} judged but question {qid} has {len(question.turns)}"
            )
        row["prompt"] = join_turns(list(question.turns[:turn]))
        if question.category is not None:
            row["category"] = question.category
    for side, model in (("a", model_a), ("b", model_b)):
        answer = bench.answer(model, qid)
        if answer is None:
            return row
        if len(answer.turns) < turn:
            raise Reject(
                f"turn-count mismatch: turn {turn} judged but {model!r}'s answer to {qid} has {len(answer.turns)}"
            )
        row[f"response_{side}"] = join_turns(list(answer.turns[:turn]))
    return row


def convert_pair(rec: dict[str, Any], number: int, *, bench: Benchmark, ctx: LoadContext) -> dict[str, Any]:
    model_a, model_b = pair_names(rec.get("model_1"), rec.get("model_2"))
    winner, inconsistent = pair_winner(rec)
    qid = question_id(rec.get("question_id"))
    if qid is None:
        raise Reject("malformed record: no question_id")
    turn = _turn(rec.get("turn"))
    judge, prompt_name = _judge(rec.get("judge"))
    row: dict[str, Any] = {
        **judged(
            f"{judge}:{prompt_name}:{qid}:{model_a}:{model_b}:t{turn}",
            model_a,
            model_b,
            winner,
            judge or ctx.judge,
        ),
        "turns": turn,
        "question_id": qid,
        "judge_prompt": prompt_name,
        "g1_winner": rec.get("g1_winner", rec.get("winner")),
        "g2_winner": rec.get("g2_winner", rec.get("winner")),
        "inconsistent": inconsistent,
    }
    row.update(_texts(bench, model_a, model_b, qid, turn))
    return row


def load(path: Path, container: str, ctx: LoadContext, fmt: str = "mtbench") -> BattleSet:
    bench = benchmark_for(path, ctx, fmt)
    return load_records(path, container, fmt, ctx, lambda rec, n: convert_pair(rec, n, bench=bench, ctx=ctx))


# ------------------------------------------------------------------------------------------ human layout

#: ``winner`` labels of the human-judgment release beyond the common ones.
_INCONSISTENT = "tie (inconsistent)"


def human_judge(value: Any) -> str | None:
    """``compute_agreement.py::get_judge_name``: experts are ``human``, authors ``author``, GPT-4 ``gpt-4``."""
    if isinstance(value, list | tuple):
        return value[0] if value and isinstance(value[0], str) else None
    if not isinstance(value, str):
        return None
    if value.startswith("expert"):
        return "human"
    if value.startswith("author"):
        return "author"
    return value


def convert_human(rec: dict[str, Any], number: int, *, ctx: LoadContext) -> dict[str, Any]:
    model_a, model_b = pair_names(rec.get("model_a"), rec.get("model_b"))
    w = rec.get("winner")
    inconsistent = w == _INCONSISTENT
    winner, pref = ("tie", 0.5) if inconsistent else winner_label(w)
    turn = _turn(rec.get("turn"))
    users, bots_a = conversation(rec.get("conversation_a"), "a", turn)
    _, bots_b = conversation(rec.get("conversation_b"), "b", turn)
    qid = question_id(rec.get("question_id"))
    raw_judge = rec.get("judge")
    if isinstance(raw_judge, list | tuple):
        annotator = "/".join(j for j in raw_judge if isinstance(j, str)) or None
    else:
        annotator = raw_judge if isinstance(raw_judge, str) else None
    return {
        "battle_id": f"{qid}:{model_a}:{model_b}:t{turn}:{annotator}:{number}",
        "model_a": model_a,
        "model_b": model_b,
        "prompt": join_turns(users),
        "response_a": join_turns(bots_a),
        "response_b": join_turns(bots_b),
        "turns": turn,
        "winner": winner,
        "pref_a": pref,
        "judge": human_judge(raw_judge) or ctx.judge,
        "question_id": qid,
        "annotator": annotator,
        "inconsistent": inconsistent,
    }


def load_human(path: Path, container: str, ctx: LoadContext, fmt: str = "mtbench_human") -> BattleSet:
    return load_records(path, container, fmt, ctx, lambda rec, n: convert_human(rec, n, ctx=ctx))
