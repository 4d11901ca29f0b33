"""The writing system of a response, and the word rule for text written without spaces between words.

Arenas are multilingual (LMArena's votes, Arena-Hard-Auto's translated editions), while several features are
English measures: the Flesch formulas count English syllables per word, VADER scores an English lexicon, and
the flattery and refusal detectors match English phrases. On Russian, Korean or Chinese text they would
return numbers that look like measurements and are not (a Chinese refusal scores as "none"). So each
response's script is detected and those features are *not applicable* (NaN, refusal ``"n/a"``) when it is not
written in Latin script; the pair features count a battle where either side is not applicable as no
difference on that feature (see :mod:`.pairs`).

The script is the one holding most of the prose's letters, a Han, Kana or Hangul character weighing
:data:`SYLLABIC_WEIGHT` Latin letters (each writes a syllable, about three letters of an English word), so a
Japanese answer full of English API names is still Japanese. Kana in at least :data:`KANA_SHARE` of the
Han + Kana characters makes Han + Kana Japanese; Han alone is Chinese (``han``). Text without a letter is
``none``. It costs one ``str.isascii`` call on ASCII prose and a few C regex passes over the non-ASCII
characters otherwise: linear, and nothing on English.

Han and Kana characters count as one word each wherever they appear (Chinese and Japanese put no spaces
between words; Microsoft Word counts East Asian text the same way), so ``words`` (and everything per word)
means the same on a Chinese answer as its character count. Hangul words are space-separated and need nothing.
"""

from __future__ import annotations

import re

#: Scripts the English-only features are computed for (``none``: no letters, e.g. only numbers or emoji).
ENGLISH_SCRIPTS = frozenset({"latin", "none"})

#: Every value :func:`dominant_script` returns.
SCRIPTS: tuple[str, ...] = (
    "latin",
    "cyrillic",
    "greek",
    "arabic",
    "hebrew",
    "devanagari",
    "thai",
    "hangul",
    "han",
    "japanese",
    "other",
    "none",
)

SYLLABIC_WEIGHT = 3
KANA_SHARE = 0.1

_HAN = "\u3005\u3007\u3021-\u3029\u3038-\u303b\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_KANA = "\u3041-\u3096\u309d-\u309f\u30a1-\u30fa\u30fc-\u30ff\u31f0-\u31ff\uff66-\uff9d"
#: non-ASCII letters of each script (ASCII letters are counted apart, as Latin)
_BLOCKS: dict[str, str] = {
    "latin": "\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02af\u1e00-\u1eff\uff21-\uff3a\uff41-\uff5a",
    "cyrillic": "\u0400-\u0481\u048a-\u052f\u1c80-\u1c8f\ua640-\ua66e\ua680-\ua69d",
    "greek": "\u0370-\u0373\u0376\u0377\u037b-\u037d\u0386\u0388-\u03ff\u1f00-\u1ffc",
    "arabic": "\u0620-\u064a\u066e-\u06d3\u06d5\u06fa-\u06ff\u0750-\u077f\u08a0-\u08c9\ufb50-\ufdfb\ufe70-\ufefc",
    "hebrew": "\u05d0-\u05ea\u05ef-\u05f2\ufb1d-\ufb4f",
    "devanagari": "\u0900-\u0963\u0971-\u097f\ua8f2-\ua8fe",
    "thai": "\u0e01-\u0e3a\u0e40-\u0e4e",
    "hangul": "\u1100-\u11ff\u3131-\u318e\ua960-\ua97c\uac00-\ud7a3\ud7b0-\ud7fb\uffa0-\uffdc",
    "han": _HAN,
    "kana": _KANA,
}
_BLOCK_RE = {name: re.compile(f"[^{ranges}]+") for name, ranges in _BLOCKS.items()}
_SYLLABIC = frozenset({"hangul", "han", "kana"})
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")
_ASCII_RUN = re.compile(r"[\x00-\x7f]+")
_NOT_ASCII_LETTER = re.compile(r"[^A-Za-z]+")
_ASCII_LETTER = re.compile(r"[A-Za-z]")
#: removes the non-ASCII Latin letters (what is left of ``rest``: punctuation, symbols, other scripts)
_LATIN_LETTERS = re.compile(f"[{_BLOCKS['latin']}]+")

_CJK = f"{_HAN}{_KANA}"
#: a sentence mark or closing bracket only the non-ASCII sentence rule knows (see ``verbosity.count_sentences``)
SPECIAL_MARK = re.compile("[\u061f\u06d4\u0964\u0965\u3002\uff01\uff1f\uff61\u300d\u300f\u3011\uff09]")
#: a Han or Kana character
CJK_CHAR = re.compile(f"[{_CJK}]")
#: one Han or Kana character, or a run of anything else: the pieces of a whitespace token
_CJK_PIECES = re.compile(f"[{_CJK}]|[^{_CJK}]+")


def non_ascii(prose: str) -> str:
    """The non-ASCII characters of ``prose``, in order (of English text: a few quotes, dashes and emoji)."""
    return "" if prose.isascii() else _ASCII_RUN.sub("", prose)


def dominant_script(prose: str, rest: str | None = None) -> str:
    """The script of most of ``prose``'s letters (one of :data:`SCRIPTS`; see the module doc). ``rest`` is
    :func:`non_ascii` of ``prose`` when the caller has it."""
    if rest is None:
        rest = non_ascii(prose)
    foreign = _LATIN_LETTERS.sub("", rest)
    if not any(map(str.isalpha, foreign)):  # every letter is Latin (the common case): nothing to count
        return "latin" if len(foreign) < len(rest) or _ASCII_LETTER.search(prose) else "none"
    weights = {name: len(rx.sub("", rest)) for name, rx in _BLOCK_RE.items()}
    # letters of scripts not listed (Georgian, Tamil, ...): alphabetic characters no block counted
    other = max(0, sum(map(str.isalpha, rest)) - sum(weights.values()))
    weights["latin"] += len(_NOT_ASCII_LETTER.sub("", prose))
    han, kana = weights.pop("han"), weights.pop("kana")
    if kana and kana >= KANA_SHARE * (han + kana):
        weights["japanese"] = han + kana
    else:
        weights["han"] = han
    for name in ("hangul", "han", "japanese"):
        if name in weights:
            weights[name] *= SYLLABIC_WEIGHT
    best = max(weights, key=weights.__getitem__)  # the first of equals, in :data:`SCRIPTS` order
    if other > weights[best]:
        return "other"
    return best if weights[best] else "none"


def split_cjk_words(words: list[str]) -> list[str]:
    """``words`` with every Han or Kana character of a token made a word of its own (other pieces kept).

    Only tokens holding such a character change, so text without one gets back the same list.
    """
    out: list[str] = []
    for w in words:
        if w.isascii() or not CJK_CHAR.search(w):
            out.append(w)
        else:
            out.extend(_CJK_PIECES.findall(w))
    return out
