"""Sentence units for the detectors: what a reader perceives as one statement."""

from __future__ import annotations

import re
from typing import Any

from .patterns import tokens_of_normalised, view_from_raw

#: a sentence ends after . ! ? (or a full-width mark) and closing quotes/brackets, before white space
_SPLIT = re.compile(r"(?<=[.!?\u3002\uff01\uff1f])[\"'\u201d\u2019)\]]*\s+")
#: the same ends with the mark matched, not looked behind at: a search that opens with a character class
#: skips to the marks in C, so a line without a sentence end costs one fast scan (then no split is needed)
_HAS_END = re.compile(r"[.!?\u3002\uff01\uff1f][\"'\u201d\u2019)\]]*\s+")
_LEAD = re.compile(r"^\s*(?:[-*+>\u2022]|\d{1,3}[.)]|#{1,6})\s+")
_EMPHASIS = re.compile(r"\*\*|__|(?<!\w)[*_](?=\w)|(?<=\w)[*_](?!\w)")
_APOS_PAIRS = (("\u2019", "'"), ("\u2018", "'"), ("\u201c", '"'), ("\u201d", '"'), ("\u02bc", "'"))
_HAS_WORD = re.compile(r"[A-Za-z]")
_LEAD_CHARS = frozenset(" \t-*+>\u2022#")
_SPEAKER = re.compile(r"^\s*[A-Z][\w.'-]*(?: [A-Z][\w.'-]*){0,2}:\s+\S")  # "Woman: ...", "Dr. Lee: ..."
#: the turn markers of a chat transcript: "Assistant:" at a line start, or "Human:" on the reply's first line that
#: has words (a model continuing its training transcript), still mark the assistant talking, not a role-play
#: character, so the marker is dropped and the line read as the reply's own prose; a "Human:" line later in a
#: reply is a turn the model made up for the user, and stays dialogue
_ASSISTANT_TURN = re.compile(r"^\s*Assistant:\s+(?=\S)")
_OPENING_TURN = re.compile(r"^\s*(?:Human|Assistant):\s+(?=\S)")
#: units longer than this are cut: a sentence of 2,000 characters is a data blob, not a statement
MAX_UNIT_CHARS = 1000
#: prefix marking a unit from a dialogue line ("Woman: ..."): everything in it counts as quoted
DIALOGUE = "\u2063"
#: a reply with more sentence units than HEAD + TAIL is read at its start and end only: openers, declines and
#: sign-offs live there, and the cost of a 1 MB reply stays bounded (typical answers have 10-60 units)
HEAD_UNITS = 400
TAIL_UNITS = 100


def normalise(text: str) -> str:
    """Curly quotes to straight ones, so one pattern covers both typographies."""
    if text.isascii():
        return text
    for a, b in _APOS_PAIRS:
        if a in text:
            text = text.replace(a, b)
    return text


def strip_lead(piece: str) -> str:
    """``piece`` without a leading list marker or heading hashes (``_LEAD.sub("", piece)``: it is anchored at
    the start, so one match, not a scan of the piece)."""
    m = _LEAD.match(piece)
    return piece[m.end() :] if m else piece


def split_sentences(line: str) -> list[str]:
    """One line's pieces between sentence ends (``_SPLIT.split``; a line with no sentence end is not split)."""
    return _SPLIT.split(line) if _HAS_END.search(line) else [line]


def sentence_units(prose: str) -> list[str]:
    """Split prose into sentence units (list markers and emphasis removed, quotes normalised).

    A double quote left open by an earlier sentence of the same line is carried over as a leading ``"``, so
    :func:`in_quote` sees quoted dialogue that spans sentences. Quote state resets at every line break (a
    stray inch mark cannot silence the rest of the answer).
    """
    out = []
    lines = normalise(prose).split("\n")
    if len(lines) > 2 * (HEAD_UNITS + TAIL_UNITS):  # only the head and tail are kept below anyway
        lines = lines[: 2 * HEAD_UNITS] + lines[-2 * TAIL_UNITS :]
    opening = True
    for line in lines:
        if not line:
            continue
        # a line opening with a plain speaker label ("Woman: ...", "Customer Service: ...") is role-play
        # dialogue: treat it as quoted so detectors ignore it (bold list labels "- **Tip:** ..." are not)
        dialogue = ":" in line and _SPEAKER.match(line) is not None
        if dialogue and (role := (_OPENING_TURN if opening else _ASSISTANT_TURN).match(line)) is not None:
            line, dialogue = line[role.end() :], False
        before = len(out)
        open_quote = False
        for raw in split_sentences(line):
            if not raw:
                continue
            quotes = raw.count('"')
            if _HAS_WORD.search(raw):
                unit = strip_lead(raw) if raw[:1] in _LEAD_CHARS or raw[:1].isdigit() else raw
                if "*" in unit or "_" in unit:
                    unit = _EMPHASIS.sub("", unit)
                unit = unit.strip()
                if unit:
                    prefix = DIALOGUE if dialogue else ('"' if open_quote else "")
                    out.append(prefix + unit[:MAX_UNIT_CHARS])
            if quotes % 2:
                open_quote = not open_quote
        opening = opening and len(out) == before  # the reply opens with its first line that says something
    if len(out) > HEAD_UNITS + TAIL_UNITS:
        out = out[:HEAD_UNITS] + out[-TAIL_UNITS:]
    return out


def in_quote(unit: str, offset: int) -> bool:
    """Is the character at ``offset`` of a sentence unit quoted: inside double quotes, or in a dialogue line?"""
    return unit.startswith(DIALOGUE) or unit[:offset].count('"') % 2 == 1


class Prepared:
    """One reply's prose as the detectors need it, computed lazily and shared between the two detectors.

    Every sentence unit is tokenized once (the prefilter's tokens, :func:`.patterns.raw_tokens`); the reply's
    tokens are their concatenation. The prefilter (:func:`.rules.unit_candidates`) tests each unit's tokens
    against the detector's anchor words and builds a unit's view (words, pairs, first word) only when some
    pattern is anchored in it.
    """

    __slots__ = (
        "prose",
        "_lower",
        "_tokens",
        "_units",
        "_views",
        "_raw",
        "memo",
    )

    def __init__(self, prose: str) -> None:
        self.prose = prose
        self._lower: str | None = None
        self._tokens: list[str] | None = None
        self._units: list[str] | None = None
        self._views: dict[int, Any] = {}
        self._raw: list[list[str]] | None = None
        #: per-detector results computed once per reply (the prefilter's per-unit test: :mod:`.rules`)
        self.memo: dict[str, Any] = {}

    @property
    def lower(self) -> str:
        """The normalised, lower-cased prose."""
        if self._lower is None:
            self._lower = normalise(self.prose).lower()
        return self._lower

    @property
    def units(self) -> list[str]:
        if self._units is None:
            self._units = sentence_units(self.prose)
        return self._units

    def all_raw(self) -> list[list[str]]:
        """Prefilter tokens of every unit."""
        if self._raw is None:
            units = self.units  # normalised, one line each: lower-cased in one call
            lowered = "\n".join(units).lower().split("\n") if units else []
            self._raw = [tokens_of_normalised(u) for u in lowered]
        return self._raw

    @property
    def n_tokens(self) -> int:
        """How many prefilter tokens the reply has (``len(tokens)``, without building the list)."""
        return sum(map(len, self.all_raw()))

    @property
    def tokens(self) -> list[str]:
        """Prefilter tokens of the reply: every unit's, in order."""
        if self._tokens is None:
            self._tokens = [t for toks in self.all_raw() for t in toks]
        return self._tokens

    def raw_of(self, i: int) -> list[str]:
        """Prefilter tokens of unit ``i``."""
        return self.all_raw()[i]

    def view_of(self, i: int) -> Any:
        """The prefilter view of unit ``i`` (computed on first use, shared by both detectors)."""
        v = self._views.get(i)
        if v is None:
            v = self._views[i] = view_from_raw(self.raw_of(i))
        return v
