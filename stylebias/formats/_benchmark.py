"""What the LLM-judge benchmarks share: the upstream folder layout, the model answers and the questions.

Arena-Hard-Auto (``lmarena/arena-hard-auto``) grew out of FastChat's MT-Bench (``fastchat/llm_judge``) and keeps
its layout::

    <bench>/question.jsonl
    <bench>/model_answer/<model>.jsonl
    <bench>/model_judgment/<judge>/<model>.jsonl     (Arena-Hard-Auto)
    <bench>/model_judgment/gpt-4_pair.jsonl          (MT-Bench)

A judgment names a question and models; the texts the judge read live in the answer files, keyed by question id
(both upstreams' ``load_model_answers`` key a file by its name without ``.jsonl`` and an answer by its
``question_id`` / ``uid``; a later line for the same id replaces an earlier one, as there). The judgment loaders
find the answers beside the judgments (the folder holding ``model_judgment/``) or where ``--answers DIR`` says,
read each answer file once per load (:attr:`LoadContext.shared`), and reject a battle whose answer is missing
or unusable with the reason, instead of crashing as upstream's scripts do.

Answer schemas read:

* FastChat / Arena-Hard v0.1: ``{question_id, answer_id, model_id, choices: [{index, turns}], tstamp}`` where a
  turn is text (MT-Bench) or ``{content, token_len}`` (Arena-Hard v0.1); optional ``conv_metadata``
  (Arena-Hard's ``add_markdown_info.py``: ``token_len``, ``header_count {h1..h6}``, ``list_count {ordered,
  unordered}``, ``bold_count {**, __}``).
* Arena-Hard v2: ``{uid, ans_id, model, messages: [{role: user, content}, {role: assistant, content: {answer}}],
  tstamp, metadata}`` with ``metadata`` as above; the judge reads the last message's ``content.answer``.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..battles import PREF_FROM_WINNER
from ..errors import StyleBiasWarning, UsageError
from ..rows import SURROGATE, Reject, count, is_null, join_turns, text
from . import _io
from ._base import LoadContext, iter_records

JUDGMENT_DIR = "model_judgment"
ANSWER_DIR = "model_answer"
QUESTION_FILE = "question.jsonl"

#: Answer metadata keys (Arena-Hard ``add_markdown_info.py``) behind each per-side ``meta_*`` column stem.
META_KEYS: dict[str, str] = {
    "tokens": "token_len",
    "header_count": "header_count",
    "list_count": "list_count",
    "bold_count": "bold_count",
}


def judged(battle_id: str, model_a: str, model_b: str, winner: str, judge: str | None) -> dict[str, Any]:
    """The battle columns every judgment loader fills (the vote share follows the verdict's winner)."""
    return {
        "battle_id": battle_id,
        "model_a": model_a,
        "model_b": model_b,
        "winner": winner,
        "pref_a": PREF_FROM_WINNER[winner],
        "judge": judge,
    }


def benchmark_root(path: Path) -> Path | None:
    """The folder that holds ``model_judgment/`` above a judgment file (the upstream layout), or ``None``.

    Found on the path as given first (so messages name folders the way the user did), then on its absolute form.
    """
    for candidate in (Path(path), Path(os.path.abspath(path))):
        for parent in candidate.parents:
            if parent.name == JUDGMENT_DIR:
                return parent.parent
    return None


def is_benchmark_root(directory: Path) -> bool:
    """A folder laid out as an upstream judge benchmark (it has a ``model_judgment/`` folder)."""
    return (directory / JUDGMENT_DIR).is_dir()


def question_id(value: Any) -> str | None:
    """Question ids compared as text (MT-Bench writes ints, Arena-Hard hex strings; Parquet copies vary)."""
    if is_null(value) or isinstance(value, bool) or not isinstance(value, str | int | float) or value == "":
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


# ------------------------------------------------------------------------------------------------ answers


@dataclass(frozen=True)
class Answer:
    """One model's answer to one question, as the judge read it.

    Attributes:
        turns: the assistant texts, one per turn (``<think>`` blocks removed).
        user_turns: the prompt turns the answer file itself carries (Arena-Hard v2 ``messages``), else empty.
        meta: style counts from the answer's ``metadata`` / ``conv_metadata`` by :data:`META_KEYS` stem.
        problem: why the answer cannot be used (a reject reason), or ``None``.
    """

    turns: tuple[str, ...] = ()
    user_turns: tuple[str, ...] = ()
    meta: dict[str, float] = field(default_factory=dict)
    problem: str | None = None


def _turn_text(turn: Any, what: str) -> str:
    if isinstance(turn, dict):
        return text(turn.get("content"), what, response=True)
    return text(turn, what, response=True)


def _answer_texts(rec: dict[str, Any]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(assistant turns, user turns) of one answer record; raises :class:`Reject`."""
    messages = rec.get("messages")
    if isinstance(messages, list):
        if not messages or not isinstance(messages[-1], dict) or messages[-1].get("role") != "assistant":
            raise Reject("missing response: the answer's last message is not an assistant message")
        users = []
        for k, msg in enumerate(messages[:-1], 1):
            if isinstance(msg, dict) and msg.get("role") == "user" and isinstance(msg.get("content"), str):
                users.append(text(msg["content"], f"prompt (answer message {k})"))
        content = messages[-1].get("content")
        answer = content.get("answer") if isinstance(content, dict) else content
        return (text(answer, "response (messages[-1].content.answer)", response=True),), tuple(users)
    choices = rec.get("choices")
    if isinstance(choices, list) and choices and isinstance(choices[0], dict):
        turns = choices[0].get("turns")
        if not isinstance(turns, list) or not turns:
            raise Reject("missing response: the answer's choices[0].turns is missing or empty")
        return tuple(_turn_text(t, f"response (choices[0].turns[{k}])") for k, t in enumerate(turns)), ()
    raise Reject("missing response: the answer record has neither messages nor choices")


def _answer_meta(rec: dict[str, Any]) -> dict[str, float]:
    """Style counts of one answer; an answer without metadata gives {} (texts still serve every feature)."""
    md = rec.get("metadata") if isinstance(rec.get("metadata"), dict) else rec.get("conv_metadata")
    if isinstance(md, dict):
        out = {}
        for stem, key in META_KEYS.items():
            if key in md:
                out[stem] = count(md[key], key)
        return out
    if md is not None:
        raise Reject(f"bad conv_metadata: the answer's metadata is {type(md).__name__}, not an object")
    choices = rec.get("choices")
    turns = (
        choices[0].get("turns")
        if isinstance(choices, list) and choices and isinstance(choices[0], dict)
        else None
    )
    if isinstance(turns, list) and turns and all(isinstance(t, dict) and "token_len" in t for t in turns):
        # early Arena-Hard v0.1 answers: token_len per turn, no markdown counts
        return {"tokens": sum(count(t["token_len"], "token_len") for t in turns)}
    return {}


def parse_answer(rec: dict[str, Any]) -> Answer:
    try:
        turns, users = _answer_texts(rec)
        meta = _answer_meta(rec)
    except Reject as exc:
        return Answer(problem=str(exc))
    return Answer(turns, users, meta)


class AnswerFile:
    """The answers of one model (one ``model_answer/<model>.jsonl``), by question id."""

    def __init__(self, path: Path, display: str, ctx: LoadContext) -> None:
        self.path = path
        self.display = display
        self.answers: dict[str, Answer] = {}
        self.unreadable: list[str] = []
        self.model: str | None = None
        container = _io.container_of(path) or "json"
        for number, rec in iter_records(path, container, ctx):
            if not isinstance(rec, dict):
                reason = rec.reason if isinstance(rec, _io.Bad) else "not a JSON object"
                self.unreadable.append(f"record {number}: {reason}")
                continue
            qid = question_id(rec.get("uid", rec.get("question_id")))
            if qid is None:
                self.unreadable.append(f"record {number}: no uid / question_id")
                continue
            if self.model is None:
                name = rec.get("model", rec.get("model_id"))
                self.model = name if isinstance(name, str) else None
            self.answers[qid] = parse_answer(rec)
        if self.unreadable:
            warnings.warn(
                f"{display}: {len(self.unreadable)} answer record(s) could not be read "
                f"(first: {self.unreadable[0]}); battles that need them are rejected",
                StyleBiasWarning,
                stacklevel=2,
            )

    def get(self, qid: str, model: str) -> Answer:
        answer = self.answers.get(qid)
        if answer is None:
            why = (
                f"; {len(self.unreadable)} record(s) of that file could not be read"
                if self.unreadable
                else ""
            )
            raise Reject(
                f"missing response: {model!r} has no answer to question {qid} in {self.display}{why}"
            )
        if answer.problem:
            kind, _, detail = answer.problem.partition(": ")
            raise Reject(f"{kind}: {model!r}'s answer to question {qid}: {detail}")
        return answer


def model_file_name(path: Path) -> str:
    """``gpt-3.5-turbo-0125.jsonl`` -> ``gpt-3.5-turbo-0125`` (upstream: the file name without ``.jsonl``);
    ``org/name.jsonl`` -> ``org/name``."""
    ext, compression = _io.split_ext(path)
    name = path.as_posix()
    return name[: len(name) - len(ext) - len(compression or "")]


class AnswerDir:
    """A ``model_answer/`` folder: one file per model, each read the first time a battle needs it."""

    def __init__(self, directory: Path, ctx: LoadContext) -> None:
        self.directory = directory
        self.ctx = ctx
        # ``<model>.jsonl``; a model named ``org/name`` has its file at ``org/name.jsonl`` (upstream writes
        # ``model_answer/{model}.jsonl``), so files in sub-folders are keyed by their relative path
        self._files = {
            model_file_name(p.relative_to(directory)): p
            for p in sorted(directory.rglob("*"))
            if p.is_file()
            and _io.split_ext(p)[0] in _io.JSON_EXTS
            and not any(part.startswith((".", "_")) for part in p.relative_to(directory).parts)
        }
        self._loaded: dict[str, AnswerFile] = {}
        self._by_record_name: dict[str, str] | None = None

    def _load(self, key: str) -> AnswerFile:
        if key not in self._loaded:
            path = self._files[key]
            self._loaded[key] = AnswerFile(path, str(path), self.ctx)
        return self._loaded[key]

    def file_for(self, model: str) -> AnswerFile:
        """The answer file of ``model``: ``<model>.jsonl``, else the file whose records name that model."""
        if model in self._files:
            return self._load(model)
        if self._by_record_name is None:
            # names inside the files may differ from the file names: look at each remaining file once
            self._by_record_name = {}
            for key in self._files:
                name = self._load(key).model
                if name and name not in self._files:
                    self._by_record_name.setdefault(name, key)
        if model in self._by_record_name:
            return self._load(self._by_record_name[model])
        raise Reject(f"missing response: no answer file for model {model!r} in {self.directory}")

    def get(self, model: str, qid: str) -> Answer:
        return self.file_for(model).get(qid, model)


# ---------------------------------------------------------------------------------------------- questions


@dataclass(frozen=True)
class Question:
    """One benchmark question: its user turns, category and the scalar fields worth keeping."""

    turns: tuple[str, ...]
    category: str | None
    extras: dict[str, Any]


_QUESTION_EXTRAS = ("cluster", "subcategory")


def _question(rec: dict[str, Any]) -> Question | None:
    if isinstance(rec.get("prompt"), str):
        turns: tuple[str, ...] = (rec["prompt"],)
    elif isinstance(rec.get("turns"), list):
        parts = [t.get("content") if isinstance(t, dict) else t for t in rec["turns"]]
        if not all(isinstance(p, str) for p in parts):
            return None
        turns = tuple(parts)
    else:
        return None
    if any(SURROGATE.search(t) for t in turns):
        return None
    category = rec.get("category") if isinstance(rec.get("category"), str) else None
    extras = {k: rec[k] for k in _QUESTION_EXTRAS if isinstance(rec.get(k), str)}
    return Question(turns, category, extras)


def read_questions(path: Path, ctx: LoadContext) -> dict[str, Question]:
    """``question.jsonl`` by question id; unreadable lines are skipped with one warning."""
    out: dict[str, Question] = {}
    bad = 0
    for _, rec in iter_records(path, _io.container_of(path) or "json", ctx):
        q = _question(rec) if isinstance(rec, dict) else None
        qid = question_id(rec.get("uid", rec.get("question_id"))) if isinstance(rec, dict) else None
        if q is None or qid is None:
            bad += 1
            continue
        out[qid] = q
    if bad:
        warnings.warn(
            f"{path}: {bad} question record(s) could not be read; their battles take the prompt from the "
            "answer files, where those carry it, else have none",
            StyleBiasWarning,
            stacklevel=2,
        )
    return out


# ---------------------------------------------------------------------------------------------- benchmark


@dataclass
class Benchmark:
    """Answers and questions behind one judgment file (shared by every judgment file of the same folder)."""

    answers: AnswerDir | None
    questions: dict[str, Question]

    def answer(self, model: str, qid: str) -> Answer | None:
        """The answer, or ``None`` when there are no answers at all (votes only); raises :class:`Reject`."""
        return None if self.answers is None else self.answers.get(model, qid)


def answers_folder(given: Path) -> Path:
    """``--answers DIR``: the answer folder itself, or a benchmark folder holding ``model_answer/``."""
    if not given.is_dir():
        raise UsageError(f"--answers: no such directory: {given}")
    return given / ANSWER_DIR if (given / ANSWER_DIR).is_dir() else given


def benchmark_for(judgment_file: Path, ctx: LoadContext, fmt: str) -> Benchmark:
    """The :class:`Benchmark` of a judgment file: ``--answers`` if given, else the upstream layout around it."""
    root = benchmark_root(judgment_file)
    if ctx.answers is not None:
        answer_dir: Path | None = answers_folder(Path(ctx.answers))
        question_files = [answer_dir.parent / QUESTION_FILE, Path(ctx.answers) / QUESTION_FILE]
    else:
        answer_dir = root / ANSWER_DIR if root is not None and (root / ANSWER_DIR).is_dir() else None
        question_files = []
    if root is not None:
        question_files.append(root / QUESTION_FILE)
    question_file = next((q for q in question_files if q.is_file()), None)
    key = (fmt, str(answer_dir and answer_dir.resolve()), str(question_file and question_file.resolve()))
    cache = ctx.shared.setdefault("benchmarks", {})
    if key not in cache:
        if answer_dir is None:
            warnings.warn(
                f"{ctx.file}: no {ANSWER_DIR}/ folder found beside the judgments, so these battles carry votes "
                "only (no texts or style counts); give --answers DIR to join the model answers",
                StyleBiasWarning,
                stacklevel=2,
            )
        answers = AnswerDir(answer_dir, ctx) if answer_dir is not None else None
        questions = read_questions(question_file, ctx) if question_file is not None else {}
        cache[key] = Benchmark(answers, questions)
    return cache[key]


# ------------------------------------------------------------------------------------------ answers alone


def benchmark_answers(folder: Path, ctx: LoadContext) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every answer of a benchmark folder (or of a ``model_answer/`` folder): ``(rows, rejects)``.

    One row per (model, question): ``generator`` (the answer file's name, as upstream keys it), ``key`` (the
    question id), ``instruction`` (the question's text from ``question.jsonl`` beside it, else the answer
    file's own user turns, else the id), ``output`` (the assistant turns joined), ``meta_<stem>`` style
    counts from the answer's metadata, ``source_file``, ``source_record`` (the question id). An answer that
    cannot be used is a reject with the reason. For boards that publish answers but no votes (``rerank``).
    """
    answer_dir = answers_folder(folder)
    root = answer_dir.parent if answer_dir.name == ANSWER_DIR else answer_dir
    qfile = root / QUESTION_FILE
    questions = read_questions(qfile, ctx) if qfile.is_file() else {}
    answers = AnswerDir(answer_dir, ctx)
    rows: list[dict[str, Any]] = []
    rejects: list[dict[str, Any]] = []
    for name in sorted(answers._files):
        file = answers._load(name)
        for problem in file.unreadable:
            rejects.append({"file": file.display, "record": problem.split(":", 1)[0], "reason": problem})
        for qid, ans in file.answers.items():
            if ans.problem:
                rejects.append({"file": file.display, "record": qid, "reason": ans.problem})
                continue
            q = questions.get(qid)
            prompt = join_turns(list(q.turns)) if q is not None else join_turns(list(ans.user_turns)) or qid
            rows.append(
                {
                    "generator": name,
                    "key": qid,
                    "instruction": prompt,
                    "output": join_turns(list(ans.turns)),
                    **{f"meta_{stem}": v for stem, v in ans.meta.items()},
                    "source_file": file.display,
                    "source_record": qid,
                }
            )
    return rows, rejects
