"""Load and validate the declarative detector definitions in ``features/*.yaml``.

A detector file holds word lists (``lexicons``), prompt context regexes (``prompt_contexts``), spaCy Matcher
token patterns with a label, a comment and an example each (``patterns``), and decision thresholds. Loading
expands ``"$lexicon"`` references, checks every pattern for the required keys, and derives the *prefilter*: for
each pattern, the token positions that must match a word from a fixed list. A sentence that lacks a word from
any one of those lists cannot match the pattern, so the spaCy matcher never has to see it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from ...resources import features_dir

#: Words that can be produced by spaCy splitting a contraction ("can't" -> "ca" + "n't", "cannot" -> "can" +
#: "not", "isn't" -> "is" + "n't"): they do not appear as whole words in the raw text, so they are useless as
#: prefilter anchors.
_CONTRACTION_PARTS = frozenset(
    "ca wo sha do does did is are was were have has had could would should must need might am dare ought can "
    "not will gon na got ta wan".split()
)
_WORD = re.compile(r"[a-z0-9]+")
_PATTERN_KEYS = {
    "id",
    "label",
    "comment",
    "example",
    "pattern",
    "sentence_start",
    "not_followed_by",
    "block_negation",
    "block_question",
    "needs_you_or_opener",
    "needs_you",
    "opener_only",
    "suppress_if_prompt",
}


@dataclass(frozen=True)
class PatternSpec:
    """One Matcher pattern and the constraints the rule component enforces around it."""

    id: str
    label: str
    comment: str
    example: str
    tokens: list[dict[str, Any]]
    sentence_start: bool = False
    not_followed_by: frozenset[str] = frozenset()
    block_negation: bool = False
    block_question: bool = False
    needs_you_or_opener: bool = False
    needs_you: bool = False
    opener_only: bool = False
    suppress_if_prompt: str | None = None
    #: each inner set: the sentence must contain one of these words (prefilter; see module doc)
    required_words: tuple[frozenset[str], ...] = ()


@dataclass(frozen=True)
class DetectorSpec:
    """A whole detector definition file."""

    name: str
    path: Path
    patterns: tuple[PatternSpec, ...]
    prompt_contexts: dict[str, tuple[re.Pattern[str], ...]]
    decision: dict[str, Any] = field(default_factory=dict)
    opener_sentences: int = 2

    def prompt_matches(self, context: str, prompt: str | None) -> bool:
        """Does ``prompt`` match any regex of the named prompt context?"""
        if not prompt:
            return False
        low = prompt.lower()
        return any(rx.search(low) for rx in self.prompt_contexts.get(context, ()))


class _Loader(yaml.SafeLoader):
    """YAML 1.1 reads on/off/yes/no/y/n as booleans; word lists need them as words. Only true/false are bools."""


_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:bool"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _expand(value: Any, lexicons: dict[str, list[str]], where: str) -> Any:
    if isinstance(value, str) and value.startswith("$"):
        name = value[1:]
        if name not in lexicons:
            raise ValueError(f"{where}: unknown lexicon {value!r}")
        return list(lexicons[name])
    if isinstance(value, dict):
        return {k: _expand(v, lexicons, where) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand(v, lexicons, where) for v in value]
    return value


def _words_of(spec: dict[str, Any]) -> list[str] | None:
    """The fixed lowercase words a token spec accepts, or None if it accepts open-ended tokens."""
    val = spec.get("LOWER", spec.get("ORTH"))
    if isinstance(val, str):
        return [val.lower()]
    if isinstance(val, dict) and isinstance(val.get("IN"), list):
        return [str(v).lower() for v in val["IN"]]
    return None


def _required_words(tokens: list[dict[str, Any]]) -> tuple[frozenset[str], ...]:
    out = []
    for spec in tokens:
        if spec.get("OP") in ("?", "*"):
            continue
        words = _words_of(spec)
        if words is None:
            continue
        if all(_WORD.fullmatch(w) and w not in _CONTRACTION_PARTS for w in words):
            out.append(frozenset(words))
    return tuple(out)


def _as_str(value: Any) -> str:
    return str(value).strip() if value is not None else ""


@cache
def load_detector(name: str, folder: str | None = None) -> DetectorSpec:
    """Parse ``<features>/<name>.yaml`` (cached per process). Raises ``ValueError`` naming file and pattern."""
    path = Path(folder) / f"{name}.yaml" if folder else features_dir() / f"{name}.yaml"
    with open(path, encoding="utf-8") as fh:
        raw = yaml.load(fh, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    if not isinstance(raw, dict) or not isinstance(raw.get("patterns"), list):
        raise ValueError(f"{path}: expected a mapping with a 'patterns' list")
    lexicons = {k: [str(w).lower() for w in v] for k, v in (raw.get("lexicons") or {}).items()}
    contexts = {
        k: tuple(re.compile(rx, re.IGNORECASE) for rx in v)
        for k, v in (raw.get("prompt_contexts") or {}).items()
    }
    seen: set[str] = set()
    specs = []
    for i, item in enumerate(raw["patterns"], start=1):
        where = f"{path}, pattern {i}"
        if not isinstance(item, dict):
            raise ValueError(f"{where}: expected a mapping")
        pid = _as_str(item.get("id"))
        where = f"{path}, pattern {pid or i}"
        unknown = set(item) - _PATTERN_KEYS
        if unknown:
            raise ValueError(f"{where}: unknown keys {sorted(unknown)}")
        for key in ("id", "comment", "example", "pattern"):
            if not item.get(key):
                raise ValueError(f"{where}: missing {key!r}")
        if pid in seen:
            raise ValueError(f"{where}: duplicate id")
        seen.add(pid)
        tokens = _expand(item["pattern"], lexicons, where)
        if not isinstance(tokens, list) or not all(isinstance(t, dict) for t in tokens):
            raise ValueError(f"{where}: 'pattern' must be a list of token specs")
        ctx = item.get("suppress_if_prompt")
        if ctx is not None and ctx not in contexts:
            raise ValueError(f"{where}: unknown prompt context {ctx!r}")
        specs.append(
            PatternSpec(
                id=pid,
                label=_as_str(item.get("label")) or name,
                comment=_as_str(item["comment"]),
                example=_as_str(item["example"]),
                tokens=tokens,
                sentence_start=bool(item.get("sentence_start", False)),
                not_followed_by=frozenset(str(w).lower() for w in item.get("not_followed_by") or ()),
                block_negation=bool(item.get("block_negation", False)),
                block_question=bool(item.get("block_question", False)),
                needs_you_or_opener=bool(item.get("needs_you_or_opener", False)),
                needs_you=bool(item.get("needs_you", False)),
                opener_only=bool(item.get("opener_only", False)),
                suppress_if_prompt=ctx,
                required_words=_required_words(tokens),
            )
        )
    return DetectorSpec(
        name=name,
        path=path,
        patterns=tuple(specs),
        prompt_contexts=contexts,
        decision=dict(raw.get("decision") or {}),
        opener_sentences=int(
            raw.get("opener_sentences", (raw.get("decision") or {}).get("opener_sentences", 2))
        ),
    )


def sentence_words(text_lower: str) -> set[str]:
    """The prefilter's view of a sentence: its lowercase alphanumeric runs."""
    return set(_WORD.findall(text_lower))


def could_match(spec: PatternSpec, words: set[str]) -> bool:
    """False when ``words`` lack every word of some required position (the pattern cannot match)."""
    return all(not req.isdisjoint(words) for req in spec.required_words)
