"""Load and validate the declarative detector definitions in ``features/*.yaml``.

A detector file holds word lists (``lexicons``), prompt context regexes (``prompt_contexts``), spaCy Matcher
token patterns with a label, a comment and an example each (``patterns``), and decision thresholds. Loading
expands ``"$lexicon"`` references, checks every pattern for the required keys, and derives the *prefilter*: for
each pattern, the token positions that must match a word from a fixed list. A sentence that lacks a word from
any one of those lists cannot match the pattern, so the spaCy matcher never has to see it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import yaml

from ...resources import features_dir

# The prefilter sees a sentence the way spaCy's English tokenizer does for the cases that matter here:
# contractions split ("can't" -> "ca" "n't", "I'm" -> "i" "'m", "cannot" -> "can" "not"), words lowercased.
# A pattern word the approximation cannot produce (hyphenated words, punctuation, numbers with symbols)
# makes that token position "open", so it never causes a sentence to be skipped wrongly.
#: A token is a run of [a-z0-9] that stops before a trailing "n't" (plain form: ``(?:(?!n't\b)[a-z0-9])+``),
#: or "n't", or an apostrophe and letters ("'m", "'re"). Written so no character pays for the lookahead but an
#: "n" (the tests compare it with the plain form), and a text without an apostrophe is just [a-z0-9] runs.
_TOKEN = re.compile(
    r"[a-mo-z0-9](?:[a-mo-z0-9]++|n(?!'t\b))*+|n(?:'t\b|(?:[a-mo-z0-9]++|n(?!'t\b))*+)|'[a-z]+\b"
)
_RUN = re.compile(r"[a-z0-9]+")
_SPECIAL = {
    "cannot": ("can", "not"),
    "gonna": ("gon", "na"),
    "gotta": ("got", "ta"),
    "wanna": ("wan", "na"),
    "im": ("i", "m"),
    "youre": ("you", "re"),
    "thats": ("that", "s"),
    "aint": ("ai", "nt"),
    "cant": ("ca", "nt"),
    "wont": ("wo", "nt"),
    **{
        w + "nt": (w, "nt")
        for w in "do does did is are was were has have had could should would must".split()
    },
}
_SPECIAL_KEYS = frozenset(_SPECIAL)
# spaCy splits these into several tokens, so as one word in a token spec they can never match
_HYPHENATED = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)+|(?!n't$)[a-z]+'[a-z]+")
_SAFE_WORD = re.compile(r"[a-z0-9]+|n't|'[a-z]+")
_PATTERN_KEYS = {
    "id",
    "label",
    "comment",
    "examples",
    "counterexamples",
    "pattern",
    "whole_unit",
    "sentence_start",
    "not_followed_by",
    "block_negation",
    "block_question",
    "needs_you_or_opener",
    "needs_you",
    "needs_your",
    "block_conditional",
    "not_preceded_by",
    "opener_only",
    "suppress_if_prompt",
}


@dataclass(frozen=True)
class PatternSpec:
    """One Matcher pattern and the constraints the rule component enforces around it."""

    id: str
    label: str
    comment: str
    #: ``(reply, prompt)`` cases the pattern must fire on, and cases it must not (tests check both)
    examples: tuple[tuple[str, str | None], ...]
    counterexamples: tuple[tuple[str, str | None], ...]
    tokens: list[dict[str, Any]]
    sentence_start: bool = False
    whole_unit: bool = False
    not_followed_by: frozenset[str] = frozenset()
    block_negation: bool = False
    block_question: bool = False
    needs_you_or_opener: bool = False
    needs_you: bool = False
    needs_your: bool = False
    block_conditional: bool = False
    not_preceded_by: frozenset[str] = frozenset()
    opener_only: bool = False
    suppress_if_prompt: str | None = None
    #: each inner set: the sentence must contain one of these words (prefilter; see module doc)
    required_words: tuple[frozenset[str], ...] = ()
    #: adjacent required positions: the sentence must hold a word of the first directly followed by one of the
    #: second (checked on bigrams; sound because the prefilter's tokens are a subsequence-superset of spaCy's)
    required_pairs: tuple[tuple[frozenset[str], frozenset[str]], ...] = ()
    #: for ``sentence_start`` patterns: words the first matched token can be (None: unknown/any)
    start_words: frozenset[str] | None = None
    #: the prefilter anchor as raw tokens (contraction forms added); None: no fixed-word position
    anchor_raw: frozenset[str] | None = None


@dataclass(frozen=True)
class DetectorSpec:
    """A whole detector definition file."""

    name: str
    path: Path
    patterns: tuple[PatternSpec, ...]
    prompt_contexts: dict[str, re.Pattern[str]]
    decision: dict[str, Any] = field(default_factory=dict)
    opener_sentences: int = 2
    lexicons: dict[str, frozenset[str]] = field(default_factory=dict)
    #: word -> patterns whose rarest required position accepts that word (the prefilter's index)
    index: dict[str, tuple[PatternSpec, ...]] = field(default_factory=dict)
    #: patterns with no fixed-word position: they are candidates for every sentence
    always: tuple[PatternSpec, ...] = ()
    #: the words of ``index`` as a set (intersected with a sentence's words in C)
    index_words: frozenset[str] = frozenset()
    _anchor_cache: dict[frozenset[str], frozenset[str] | None] = field(default_factory=dict, compare=False)

    @property
    def by_id(self) -> dict[str, PatternSpec]:
        cached = self.__dict__.get("_by_id")
        if cached is None:
            cached = {p.id: p for p in self.patterns}
            object.__setattr__(self, "_by_id", cached)
        return cached

    def lexicon(self, name: str) -> frozenset[str]:
        """A word list of the file (for signals that read lexicons directly)."""
        return self.lexicons[name]

    def anchors(self, labels: frozenset[str] | None = None) -> frozenset[str] | None:
        """Anchor words of the patterns with one of ``labels`` (all when None); cached."""
        key = labels or frozenset()
        cache = self._anchor_cache
        if key not in cache:
            cache[key] = anchor_words(p for p in self.patterns if labels is None or p.label in labels)
        return cache[key]

    def candidates(self, text_lower: str, view: TextView | None = None) -> list[PatternSpec]:
        """Patterns that could match this sentence (every required position has a word present)."""
        if view is None:
            view = text_view(text_lower)
        index = self.index
        seen: dict[str, PatternSpec] = {p.id: p for p in self.always}
        for w in view.words & self.index_words:  # set intersection in C: most words index nothing
            for p in index[w]:
                seen.setdefault(p.id, p)
        out = []
        for p in seen.values():
            if not could_match(p, view):
                continue
            if p.sentence_start and p.start_words is not None and view.first not in p.start_words:
                continue
            out.append(p)
        return out

    def any_possible(self, view: TextView, labels: frozenset[str] | None = None) -> bool:
        """Could any pattern (with one of ``labels``) match somewhere in a text with this view?

        ``view`` may be the view of a whole reply: words and bigrams of the whole are supersets of every
        sentence's, so False here means no sentence can match.
        """
        if any((labels is None or p.label in labels) for p in self.always):
            return True
        tried: set[str] = set()
        for w in view.words:
            for p in self.index.get(w, ()):
                if p.id in tried or (labels is not None and p.label not in labels):
                    continue
                tried.add(p.id)
                if could_match(p, view):
                    return True
        return False

    def prompt_matches(self, context: str, prompt: str | None) -> bool:
        """Does ``prompt`` match any regex of the named prompt context?"""
        if not prompt or context not in self.prompt_contexts:
            return False
        return _prompt_search(self.prompt_contexts[context].pattern, prompt)


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


#: very frequent words: a required position made of these is a poor prefilter anchor
_COMMON = frozenset(
    "i you your it that this is a an the to of and we what in on for with be are was 's 'm 're n't not nt do "
    "can ca have as at by or if so my me he she they them their there here one such".split()
)


def _anchor(p: PatternSpec) -> frozenset[str]:
    """The required position to index a pattern by: fewest very common words, then fewest words."""
    return min(p.required_words, key=lambda req: (len(req & _COMMON), len(req)))


def anchor_words(patterns: Iterable[PatternSpec]) -> frozenset[str] | None:
    """Every anchor word of ``patterns`` as the prefilter tokenizer produces it (None: some pattern has no
    anchor, so every text is a candidate). A text none of whose :func:`raw_tokens` is in this set cannot match
    any of the patterns. Raw forms of spaCy-split contractions ("cannot", "dont") are included."""
    sets = []
    for p in patterns:
        a = p.anchor_raw if p.anchor_raw is not None else _raw_anchor(p)
        if a is None:
            return None
        sets.append(a)
    return frozenset().union(*sets)


def _raw_anchor(p: PatternSpec) -> frozenset[str] | None:
    if not p.required_words:
        return None
    words = set(_anchor(p))
    for special, parts in _SPECIAL.items():
        if words & set(parts):
            words.add(special)
    return frozenset(words)


def raw_forms(words: frozenset[str]) -> frozenset[str]:
    """The raw tokens (:func:`raw_tokens`) that put one of ``words`` into a text's view: the words themselves,
    except contraction forms the view replaces by their parts ("cannot"), and every contraction form with a
    part among them ("cannot" and "cant" for "can")."""
    out = {w for w in words if w not in _SPECIAL_KEYS}
    out.update(s for s, parts in _SPECIAL.items() if not words.isdisjoint(parts))
    return frozenset(out)


def raw_tokens(text_lower: str) -> list[str]:
    """The prefilter tokenizer without the contraction expansion (cheap; pairs with :func:`anchor_words`)."""
    return tokens_of_normalised(text_lower.replace("\u2019", "'"))


def tokens_of_normalised(text_lower: str) -> list[str]:
    """:func:`raw_tokens` of text already normalised (no curly apostrophes): sentence units."""
    return _TOKEN.findall(text_lower) if "'" in text_lower else _RUN.findall(text_lower)


def _required_pairs(tokens: list[dict[str, Any]]) -> tuple[tuple[frozenset[str], frozenset[str]], ...]:
    out = []
    for a, b in zip(tokens, tokens[1:], strict=False):
        if a.get("OP") in ("?", "*", "+") or b.get("OP") in ("?", "*", "+"):
            continue
        wa, wb = _words_of(a), _words_of(b)
        if wa is None or wb is None:
            continue
        if all(_SAFE_WORD.fullmatch(w) for w in wa + wb):
            out.append((frozenset(wa), frozenset(wb)))
    return tuple(out)


def _required_words(tokens: list[dict[str, Any]]) -> tuple[frozenset[str], ...]:
    out = []
    for spec in tokens:
        if spec.get("OP") in ("?", "*"):
            continue
        words = _words_of(spec)
        if words is None:
            continue
        if all(_SAFE_WORD.fullmatch(w) for w in words):
            out.append(frozenset(words))
    # rarest position first: could_match() stops at the first position a text lacks
    return tuple(sorted(out, key=lambda req: (len(req & _COMMON), len(req))))


_LEAD_WORDS = frozenset(
    {
        "oh",
        "ah",
        "wow",
        "well",
        "sure",
        "okay",
        "ok",
        "yes",
        "hey",
        "hi",
        "hello",
        "ooh",
        "oooh",
        "yay",
        "aha",
        "actually",
        "honestly",
        "indeed",
        "hmm",
        "yeah",
    }
)


@lru_cache(maxsize=16_384)
def _prompt_search(pattern: str, prompt: str) -> bool:
    """Cached: a battle's two responses, and every model's answer to a benchmark prompt, share the prompt.

    Keyed by the context's pattern text, not the compiled pattern: hashing a compiled pattern hashes its whole
    program (3-7 µs for the larger contexts, on every call), a string caches its hash.
    """
    compiled = _CONTEXT_RX.get(pattern)
    if compiled is None:
        compiled = _CONTEXT_RX[pattern] = (
            re.compile(pattern, re.IGNORECASE),
            re.compile(pattern) if case_free(pattern) else None,
        )
    folded, plain = compiled
    if plain is not None and prompt.isascii():
        return plain.search(prompt.lower()) is not None
    return folded.search(prompt) is not None


#: compiled prompt-context patterns by their text (``re``'s own cache is bounded and shared): the
#: case-insensitive form, and the case-sensitive one for lower-cased ASCII prompts when it is exact
_CONTEXT_RX: dict[str, tuple[re.Pattern[str], re.Pattern[str] | None]] = {}
_ESCAPE = re.compile(r"\\.")
_INLINE_FLAGS = re.compile(r"\(\?[aiLmsux-]")
_CODE_ESCAPES = frozenset("xuUN0123456789")


def case_free(pattern: str) -> bool:
    """Can ``pattern`` search a lower-cased ASCII prompt case-sensitively instead of the prompt with
    ``re.IGNORECASE``, with the same result?

    Yes when the pattern is ASCII, holds no upper-case letter outside its escapes (``\\S``, ``\\W``, ``\\b``
    mean the same in either case), no character given by its code, no back-reference and no class range that
    reaches into A-Z (``[!-a]`` holds "B" but not "b"), and sets no inline flag (``(?-i:...)`` would make part
    of it case-sensitive): every letter the pattern can match is then lower-case, so on ASCII text ignoring
    case equates exactly A-Z with a-z, which is what lower-casing the prompt does. Outside ASCII, ``re.IGNORECASE`` also equates "ſ" with "s" and the Kelvin sign with "k", which
    lower-casing does not, so such prompts keep the case-insensitive search. Twice as fast on the long prompts
    of real arena battles; ``tests/test_detectors.py`` checks both searches agree.
    """
    return (
        pattern.isascii()
        and _INLINE_FLAGS.search(pattern) is None
        and not any(c.isupper() for c in _ESCAPE.sub("", pattern))
        # a character given by its code (``\\x41`` is "A") or a back-reference: case unknown from the text
        and all(m.group()[1] not in _CODE_ESCAPES for m in _ESCAPE.finditer(pattern))
        # a class range over capitals without their lower-case partners: "[!-a]" holds "B" but not "b"
        and not any(lo <= ord("Z") and hi >= ord("A") for lo, hi in _class_ranges(pattern))
    )


def _class_ranges(pattern: str) -> list[tuple[int, int]]:
    """The ``(lo, hi)`` code points of every character-class range in ``pattern``, from ``re``'s own parser
    (an unparsable pattern has one range covering everything, so it is never case-free)."""
    import re._constants as sre_constants
    import re._parser as sre_parse

    try:
        tree = sre_parse.parse(pattern)
    except re.error:
        return [(0, 0x10FFFF)]
    out: list[tuple[int, int]] = []

    def walk(node: Any) -> None:
        if isinstance(node, sre_parse.SubPattern):
            node = node.data
        if isinstance(node, list | tuple):
            if len(node) == 2 and node[0] is sre_constants.RANGE:
                out.append(node[1])
                return
            for item in node:
                walk(item)

    walk(tree)
    return out


def _first_word(text_lower: str) -> str:
    """First token of a sentence after leading interjections (the prefilter's view of sentence starts)."""
    for w in raw_tokens(text_lower):
        if w not in _LEAD_WORDS:
            return _SPECIAL.get(w, (w,))[0]
    return ""


def _start_words(tokens: list[dict[str, Any]]) -> frozenset[str] | None:
    """Words the first matched token can be: optional leading specs plus the first required one."""
    out: set[str] = set()
    for spec in tokens:
        words = _words_of(spec)
        if words is None or not all(_SAFE_WORD.fullmatch(w) for w in words):
            return None
        out.update(words)
        if spec.get("OP") not in ("?", "*"):
            return frozenset(out)
    return None


def _is_case(x: Any) -> bool:
    if isinstance(x, str):
        return bool(x.strip())
    return isinstance(x, dict) and set(x) <= {"text", "prompt"} and isinstance(x.get("text"), str)


def _case(x: Any) -> tuple[str, str | None]:
    return (x, None) if isinstance(x, str) else (x["text"], x.get("prompt"))


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
    contexts = {}
    shared = path.parent / "prompts.yaml"
    own = dict(raw.get("prompt_contexts") or {})
    if shared.is_file() and shared != path:
        with open(shared, encoding="utf-8") as fh:
            common = (yaml.load(fh, Loader=_Loader) or {}).get("prompt_contexts") or {}  # noqa: S506
        clash = set(common) & set(own)
        if clash:
            raise ValueError(f"{path}: prompt contexts {sorted(clash)} are already defined in {shared.name}")
        own = {**common, **own}
    for k, v in own.items():
        for rx in v:
            try:
                re.compile(rx)
            except re.error as exc:
                raise ValueError(f"{path}: prompt context {k!r}: bad regex {rx!r}: {exc}") from exc
        # one alternation per context: one scan of the prompt instead of one per regex
        contexts[k] = re.compile("|".join(f"(?:{rx})" for rx in v), re.IGNORECASE)
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
        for key in ("id", "comment", "examples", "counterexamples", "pattern"):
            if not item.get(key):
                raise ValueError(f"{where}: missing {key!r}")
        for key in ("examples", "counterexamples"):
            if not isinstance(item[key], list) or not all(_is_case(x) for x in item[key]):
                raise ValueError(
                    f"{where}: {key!r} must be a list of replies (a string, or {{text, prompt}})"
                )
        if pid in seen:
            raise ValueError(f"{where}: duplicate id")
        seen.add(pid)
        tokens = _expand(item["pattern"], lexicons, where)
        if not isinstance(tokens, list) or not all(isinstance(t, dict) for t in tokens):
            raise ValueError(f"{where}: 'pattern' must be a list of token specs")
        for spec_ in tokens:
            dead = [w for w in _words_of(spec_) or () if _HYPHENATED.fullmatch(w)]
            if dead:
                raise ValueError(
                    f"{where}: {dead} can never match: spaCy splits hyphenated words and contractions into "
                    'several tokens (write them as separate token specs, e.g. "i" then "\'m")'
                )
        ctx = item.get("suppress_if_prompt")
        if ctx is not None and ctx not in contexts:
            raise ValueError(f"{where}: unknown prompt context {ctx!r}")
        specs.append(
            PatternSpec(
                id=pid,
                label=_as_str(item.get("label")) or name,
                comment=_as_str(item["comment"]),
                examples=tuple(_case(x) for x in item["examples"]),
                counterexamples=tuple(_case(x) for x in item["counterexamples"]),
                tokens=tokens,
                sentence_start=bool(item.get("sentence_start", False)),
                whole_unit=bool(item.get("whole_unit", False)),
                not_followed_by=frozenset(str(w).lower() for w in item.get("not_followed_by") or ()),
                block_negation=bool(item.get("block_negation", False)),
                block_question=bool(item.get("block_question", False)),
                needs_you_or_opener=bool(item.get("needs_you_or_opener", False)),
                needs_you=bool(item.get("needs_you", False)),
                needs_your=bool(item.get("needs_your", False)),
                block_conditional=bool(item.get("block_conditional", False)),
                not_preceded_by=frozenset(str(w).lower() for w in item.get("not_preceded_by") or ()),
                opener_only=bool(item.get("opener_only", False)),
                suppress_if_prompt=ctx,
                required_words=_required_words(tokens),
                required_pairs=_required_pairs(tokens),
                start_words=_start_words(tokens) if item.get("sentence_start") else None,
            )
        )
    from dataclasses import replace

    specs = [replace(p, anchor_raw=_raw_anchor(p)) for p in specs]
    index: dict[str, list[PatternSpec]] = {}
    always = []
    for p in specs:
        if not p.required_words:
            always.append(p)
            continue
        for w in _anchor(p):
            index.setdefault(w, []).append(p)
    return DetectorSpec(
        index={w: tuple(ps) for w, ps in index.items()},
        index_words=frozenset(index),
        always=tuple(always),
        name=name,
        path=path,
        patterns=tuple(specs),
        prompt_contexts=contexts,
        decision=dict(raw.get("decision") or {}),
        opener_sentences=int(
            raw.get("opener_sentences", (raw.get("decision") or {}).get("opener_sentences", 2))
        ),
        lexicons={k: frozenset(v) for k, v in lexicons.items()},
    )


class TextView:
    """The prefilter's view of a text: its tokens as a set, its first token, and (lazily) its adjacent pairs."""

    __slots__ = ("words", "first", "_toks", "_bigrams")

    def __init__(self, toks: list[str]) -> None:
        self._toks = toks
        self.words = frozenset(toks)
        self.first = next((t for t in toks if t not in _LEAD_WORDS), "")
        self._bigrams: frozenset[tuple[str, str]] | None = None

    @property
    def bigrams(self) -> frozenset[tuple[str, str]]:
        if self._bigrams is None:
            self._bigrams = frozenset(zip(self._toks, self._toks[1:], strict=False))
        return self._bigrams


def _tokens(text_lower: str) -> list[str]:
    return _expand_special(raw_tokens(text_lower))


def view_from_raw(toks: list[str]) -> TextView:
    """:func:`text_view` from already computed :func:`raw_tokens`."""
    return TextView(_expand_special(toks))


def _expand_special(toks: list[str]) -> list[str]:
    if _SPECIAL_KEYS.isdisjoint(toks):
        return toks
    out: list[str] = []
    for t in toks:
        parts = _SPECIAL.get(t)
        if parts is None:
            out.append(t)
        else:
            out.extend(parts)
    return out


def text_view(text_lower: str) -> TextView:
    """Lowercase tokens with contractions split like spaCy's, their bigrams and the first non-interjection."""
    return TextView(_tokens(text_lower))


def sentence_words(text_lower: str) -> set[str]:
    """The prefilter's word set of a sentence (see :func:`text_view`)."""
    return set(text_view(text_lower).words)


def could_match(spec: PatternSpec, view: TextView | set[str] | frozenset[str]) -> bool:
    """False when the text lacks every word of some required position, or (given a :class:`TextView`) every
    adjacent pair of two consecutive required positions: then the pattern cannot match."""
    words = view.words if isinstance(view, TextView) else view
    if not all(not req.isdisjoint(words) for req in spec.required_words):
        return False
    if isinstance(view, TextView) and spec.required_pairs:
        for left, right in spec.required_pairs:
            bigrams = view.bigrams
            lefts = left & words
            rights = right & words
            if not any((a, b) in bigrams for a in lefts for b in rights):  # noqa: SIM110
                return False
    return True
