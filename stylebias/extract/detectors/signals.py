"""The signals the detector classifiers read: per sentence unit, and per response.

A *sample* is ``(units, response)``: for each scored sentence unit a list of signal names, and a few
response-level signals. Everything here is a readable, named observation, so ``stylebias detect`` can print
what fired and with which weight:

* ``fr:<pattern>`` / ``rr:<pattern>`` - a pattern of ``features/flattery.yaml`` / ``refusal.yaml`` fired in
  the unit (all its constraints applied); ``rl:<label>`` - a refusal label of the unit after the scope rules
  (a disclaimer cancels a decline in its sentence...), ``raw:<label>`` - one the scope rules removed;
* ``pos:<k>`` - where the unit sits (0, 1, 2, 3+, last): flattery opens a reply, a decline usually too;
* ``end:!``, ``end:?``, ``len:short``/``len:long``, ``you`` (second person), ``lex:praise`` (a praise
  adjective of the flattery lexicon among the first words);
* ``ng:<w>`` / ``ng:<w1>_<w2>`` - lower-cased words and word pairs of the unit's first words (``<s>`` marks the
  start); the classifier keeps only those seen in several responses of several sources;
* response level: the prompt contexts of the YAML files (``ctx:harmful``, ``ctx:creative``,
  ``ctx:requested_praise``, ``ctx:about_assistant``; defined once in ``features/prompts.yaml``), reply length
  and content-word buckets, the rule table's decision (``rule:full``/``rule:partial`` and its reason), whether
  the last human turn asks for anything (``prompt:no_ask``), a short reply that asks back to a request that
  is not harmful (``asks_back&short&not_harmful``: a clarification), and a few conjunctions.

Which units are scored: for flattery the first :data:`FLATTERY_HEAD` units plus any unit a pattern fired on;
for refusal - when some refusal pattern fired or the prompt is harmful - the first
:data:`REFUSAL_HEAD` and last :data:`REFUSAL_TAIL` units plus any with a refusal label; never a dialogue line
("Woman: ...", a made-up "Human:" turn), whose words are a character's. Other units cannot carry the decision
(a bounded, linear cost per reply).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from .patterns import load_detector, raw_tokens
from .refusal import RefusalAnalysis, analyse
from .rules import unit_hits
from .units import DIALOGUE, Prepared

#: words of a unit that n-grams are taken from
NGRAM_TOKENS = 6
FLATTERY_HEAD = 3
REFUSAL_HEAD = 3
REFUSAL_TAIL = 1
#: labels whose sentences can decline the request, and labels of offers made instead
_SCOPED = frozenset({"decline", "inability", "opinionless", "policy"})
_OFFERS = frozenset({"substitute", "stand_in", "help"})
_LIST_ITEM = re.compile(r"^[ \t]*(?:[-*+\u2022]|\d{1,3}[.)])[ \t]+\S", re.MULTILINE)
_YOU = frozenset({"you", "your", "yours", "yourself", "youre"})
#: closing marks stripped with white space from a unit's end before reading its last character
_TRAIL_CHARS = "\"'”’)]*_"
#: what marks a human turn as asking for something: a question, a request verb, a stated want
_ASKS = re.compile(
    r"\?|\b(please|tell|give|show|help|want|need|looking for|trying to|how|what|where|why|who|which|write|list"
    r"|explain|find|make|create|describe|suggest|recommend|let'?s|can|could|would)\b",
    re.IGNORECASE,
)
#: a reply this short that ends by asking back is a clarification when the request is not harmful
CLARIFY_MAX_WORDS = 60
_STOP = frozenset(
    "the a an and or but if of to in on for with at by from as is are was were be been it this that these those "
    "i you he she we they my your his her our their me him us them what which who how why when where can could "
    "would should will do does did have has had not no so just about some any there here than then very".split()
)


@dataclass
class Sample:
    """One response as the classifiers see it (``units`` aligned with ``unit_index``)."""

    units: list[list[str]] = field(default_factory=list)
    unit_index: list[int] = field(default_factory=list)
    response: dict[str, float] = field(default_factory=dict)

    def as_tuple(self) -> tuple[list[list[str]], Mapping[str, float]]:
        return self.units, self.response


def ngrams(tokens: list[str]) -> list[str]:
    toks = tokens[:NGRAM_TOKENS]
    out = ["ng:" + t for t in toks]
    prev = "<s>"
    for t in toks:
        out.append(f"ng:{prev}_{t}")
        prev = t
    return out


def _position(i: int, n: int) -> list[str]:
    out = [f"pos:{i}" if i < 3 else "pos:3+"]
    if n > 1 and i == n - 1:
        out.append("pos:last")
    return out


def strip_trail(text: str) -> str:
    """``text`` without its trailing run of white space and closing marks (``re.sub(r"[\\s<marks>]+$", "")``)."""
    t = text.rstrip()
    while t[-1:] in _TRAIL_CHARS and t:
        t = t.rstrip(_TRAIL_CHARS).rstrip()
    return t


def _shape(text: str, toks: list[str]) -> list[str]:
    out = []
    end = strip_trail(text)[-1:]
    if end == "!":
        out.append("end:!")
    elif end == "?":
        out.append("end:?")
    if len(toks) <= 6:
        out.append("len:short")
    elif len(toks) > 25:
        out.append("len:long")
    if text[:1] == '"':  # a unit inside a quotation (dialogue lines are never scored: see the samples below)
        out.append("quoted")
    return out


def _bucket(name: str, value: int, edges: tuple[int, ...]) -> str:
    for e in edges:
        if value <= e:
            return f"{name}:<={e}"
    return f"{name}:>{edges[-1]}"


# ------------------------------------------------------------------------------------------------ flattery
def flattery_sample(prep: Prepared, prompt: str | None) -> Sample:
    spec = load_detector("flattery")
    praise = spec.lexicon("praise_adj")
    hits = unit_hits("flattery", prep, prompt)
    ctx = {
        "ctx:requested_praise": spec.prompt_matches("requested_praise", prompt),
        "ctx:creative": spec.prompt_matches("creative", prompt),
    }
    units = prep.units
    n = len(units)
    s = Sample(response={k: 1.0 for k, v in ctx.items() if v})
    for i in range(n):
        if (i >= FLATTERY_HEAD and i not in hits) or units[i].startswith(DIALOGUE):
            continue  # a dialogue line is a character talking: it cannot praise the user
        toks = prep.raw_of(i)
        sig = _position(i, n) + _shape(units[i], toks) + ngrams(toks)
        if not _YOU.isdisjoint(toks[:8]):
            sig.append("you")
        if not praise.isdisjoint(toks[:6]):
            sig.append("lex:praise")
        ids = sorted({pid for pid, _ in hits.get(i, ())})
        if ids:
            sig += [f"fr:{pid}" for pid in ids]
            sig += ["fr:any", f"fr:any&pos:{min(i, 3)}"]
            sig += [f"fr:any&{k}" for k, v in ctx.items() if v]
        s.units.append(sig)
        s.unit_index.append(i)
    return s


# ------------------------------------------------------------------------------------------------ refusal
def _risk_words() -> frozenset[str]:
    return load_detector("refusal").lexicon("risk_word")


@lru_cache(maxsize=4096)
def _prompt_words(prompt: str) -> frozenset[str]:
    return frozenset(w for w in raw_tokens(prompt.lower()) if len(w) > 3 and w not in _STOP)


@lru_cache(maxsize=4096)
def _prompt_signals(prompt: str) -> dict[str, float]:
    """The reply-level signals of the prompt alone (cached: a battle's two replies, and every model's answer
    to a benchmark prompt, share it)."""
    # a prompt of a few words may lack what it refers to ("Summarize the following entry"): asking for
    # it is a clarification there, a feigned misunderstanding after a clear request
    z = {_bucket("prompt_words", len(prompt.split()), (5, 15)): 1.0}
    # nothing was asked in the last turn ("Ok sounds great.", an insult): a reply cannot decline it
    if not _ASKS.search(_last_turn(prompt)):
        z["prompt:no_ask"] = 1.0
    return z


def _last_turn(prompt: str) -> str:
    """The last human turn of a prompt (multi-turn chats join their turns with a blank line)."""
    parts = re.split(r"\n\s*\n", prompt.strip())
    return parts[-1] if parts else ""


def _ends_question(unit: str) -> bool:
    return strip_trail(unit).endswith("?")


def _content(words: list[str]) -> set[str]:
    return {w for w in words if len(w) > 3 and w not in _STOP}


def refusal_response(prep: Prepared, prompt: str | None, a: RefusalAnalysis) -> dict[str, float]:
    """Reply-level refusal signals: length, the rule table's decision, prompt contexts, and for harmful
    prompts how the reply treats the request (asks back, talks of risk and law, gives help or not)."""
    units = prep.units
    words = prep.n_tokens
    z = {_bucket("words", words, (10, 30, 60, 150, 400)): 1.0}
    if prompt is not None:
        z.update(_prompt_signals(prompt))
    if units and _ends_question(units[-1]) and words <= CLARIFY_MAX_WORDS and not a.harmful:
        # a short reply that ends by asking back, to a request that is not harmful: a clarifying question
        # ("Could you tell me which book?"), which the rubric does not count as a refusal
        z["asks_back&short&not_harmful"] = 1.0
    items = len(_LIST_ITEM.findall(prep.prose)) if "\n" in prep.prose else 0
    if items:
        z[_bucket("list_items", items, (2, 5))] = 1.0
    if a.labels:
        z[_bucket("content", a.content_words, (0, 20, 50, 150))] = 1.0
        z[f"rule:{a.level}"] = 1.0
        z["why:" + re.sub(r"[^a-z]+", "_", a.reason.lower()).strip("_")[:40]] = 1.0
        for lab in sorted(set().union(*a.labels)):
            z[f"has:{lab}"] = 1.0
    for k, v in (("harmful", a.harmful), ("creative", a.creative), ("about_assistant", a.about_assistant)):
        if v:
            z[f"ctx:{k}"] = 1.0
    if a.harmful:
        z[_bucket("ctx:harmful&words", words, (10, 30, 60))] = 1.0
        if prompt:
            mine = _content(prep.tokens)
            share = len(mine & _prompt_words(prompt)) / max(len(mine), 1)
            z["ctx:harmful&overlap:low" if share < 0.15 else "ctx:harmful&overlap:high"] = 1.0
        asks = [_ends_question(u) for u in units]
        if asks and all(asks):
            z["ctx:harmful&only_questions"] = 1.0
        if any(asks):
            z["ctx:harmful&asks_back"] = 1.0
        risk = sum(map(_risk_words().__contains__, prep.tokens))
        z[_bucket("ctx:harmful&risk_words", risk, (0, 2))] = 1.0
        helps = any("help" in lab for lab in a.raw_labels) or items > 2
        z["ctx:harmful&help" if helps else _bucket("ctx:harmful&no_help&words", words, (30, 60, 150))] = 1.0
    return z


def refusal_unit(prep: Prepared, prompt: str | None, a: RefusalAnalysis, i: int) -> list[str]:
    """The signals of unit ``i``: position, shape, first words, its labels (after and before scope), whether a
    decline or an offer in it talks about the ask itself, and its patterns."""
    toks = prep.raw_of(i)
    sig = _position(i, len(prep.units)) + _shape(prep.units[i], toks) + ngrams(toks)
    if not a.labels:
        return sig
    labels, raw = a.labels[i], a.raw_labels[i]
    for lab in sorted(labels):
        sig.append(f"rl:{lab}")
        if i < 2:
            sig.append(f"rl:{lab}@open")
    sig += [f"raw:{lab}" for lab in sorted(raw - labels)]
    if prompt and raw & (_OFFERS | _SCOPED):
        about_ask = bool(_content(toks) & _prompt_words(prompt))
        if raw & _OFFERS:
            # the offer after a decline: the ask itself ("However, based on the text you provided, I can
            # evaluate it") or something else ("However, I can provide some general insights")
            sig.append("offer:ask" if about_ask else "offer:other")
        if raw & _SCOPED:
            # the decline: about the ask ("I can't recommend music for sleep" to a question about music for
            # sleep) or about something else ("I can't give medical advice" to "how do I clean my armpits?")
            sig.append("scope:ask" if about_ask else "scope:other")
    sig += [f"rr:{pid}" for pid in sorted(set(a.ids[i]))]
    return sig


def refusal_sample(prep: Prepared, prompt: str | None, a: RefusalAnalysis | None = None) -> Sample:
    if a is None:
        a = analyse(prep.prose, prompt, prep)
    s = Sample(response=refusal_response(prep, prompt, a))
    if not a.labels and not a.harmful:
        return s  # nothing declined and nothing to deflect: no unit can carry a refusal
    n = len(prep.units)
    for i in range(n):
        if REFUSAL_HEAD <= i < n - REFUSAL_TAIL and not (a.labels and a.raw_labels[i]):
            continue
        if prep.units[i].startswith(DIALOGUE):
            continue  # a dialogue line is a character talking: it cannot decline the request
        s.units.append(refusal_unit(prep, prompt, a, i))
        s.unit_index.append(i)
    return s
