r"""Emoji count: pictographs a reader sees as emoji, each sequence counted once.

The ``emoji`` package segments the text into emoji sequences (ZWJ families, flags, keycaps, skin-tone variants
are one match each). A match is kept when it *looks* like an emoji: it has more than one code point (a ZWJ
sequence, a flag, a keycap, a modifier, or a character with the emoji variation selector U+FE0F), or its single
code point has default emoji presentation (Unicode ``Emoji_Presentation``: 😊 🚀 ✅ ⭐). Single characters that
default to *text* presentation - © ® ™ ↔ ▶ ✔ ☺ without U+FE0F - are typographic symbols in practice and are
not counted, like ★ ✓ → ≈ which are not emoji at all. That is the labelling rubric of ``labels/dev.jsonl``.

The ``emoji`` package walks the text in Python; for a text with more than :data:`MAX_EMOJI_PACKAGE` candidate
characters (only hostile or machine-made inputs: ordinary answers have a handful) the count uses Unicode
extended grapheme clusters instead (``regex``'s ``\X``, in C), with the same keep rule. The two agree on
17,384 of 17,386 real answers (AlpacaEval outputs + the labelled set; the two differ by one emoji each).
"""

from __future__ import annotations

import functools

import numpy as np
import regex

# Cheap prefilter: any code point that can start or form an emoji. Most responses have none.
_CANDIDATE = regex.compile(r"[\p{Extended_Pictographic}\p{Regional_Indicator}\u20e3\ufe0f]")
_EMOJI_PRESENTATION = regex.compile(r"\p{Emoji_Presentation}")
_CLUSTER = regex.compile(r"\X")
MAX_EMOJI_PACKAGE = 2000


def count_emoji(text: str) -> int:
    """Number of emoji sequences in ``text`` (see module doc for what counts)."""
    if not text or text.isascii() or not _CANDIDATE.search(text):
        return 0
    starts = []
    for m in _CANDIDATE.finditer(text):
        starts.append(m.start())
        if len(starts) > MAX_EMOJI_PACKAGE:
            return _count_clusters_bulk(text)
    import emoji

    n = 0
    for lo, hi in _windows(starts, len(text)):
        for m in emoji.emoji_list(text[lo:hi]):
            e = m["emoji"]
            if len(e) > 1 or _EMOJI_PRESENTATION.match(e):
                n += 1
    return n


def _windows(starts: list[int], size: int) -> list[tuple[int, int]]:
    """Merged spans around candidate characters, wide enough to hold any emoji sequence that contains them
    (a keycap's digit sits before its U+FE0F; ZWJ and tag sequences run up to ~12 code points after their
    first pictograph), so the ``emoji`` package reads a few characters instead of a whole 1 MB text."""
    spans: list[tuple[int, int]] = []
    for p in starts:
        lo, hi = max(0, p - 3), min(size, p + 16)
        if spans and lo <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(spans[-1][1], hi))
        else:
            spans.append((lo, hi))
    return spans


def _count_clusters(text: str, starts: list[int]) -> int:
    """Grapheme-cluster count with the same keep rule (bounded cost on huge emoji-heavy inputs), read only in
    the windows around candidate characters."""
    n = 0
    for lo, hi in _windows(starts, len(text)):
        for c in _CLUSTER.findall(text[lo:hi]):
            if len(c) == 1:
                n += _EMOJI_PRESENTATION.match(c) is not None
            elif _CANDIDATE.search(c):
                n += 1
    return n


# Code points that are candidates / have Emoji_Presentation all lie below U+20000 (checked over the whole
# code space when this was written), so two 128 KiB lookup tables replace per-character regex calls.
_TABLE_SIZE = 0x20000


@functools.lru_cache(maxsize=1)
def _tables() -> tuple[np.ndarray, np.ndarray]:
    chars = "".join(map(chr, range(_TABLE_SIZE)))
    cand = np.zeros(_TABLE_SIZE, dtype=bool)
    pres = np.zeros(_TABLE_SIZE, dtype=bool)
    cand[[m.start() for m in _CANDIDATE.finditer(chars)]] = True
    pres[[m.start() for m in _EMOJI_PRESENTATION.finditer(chars)]] = True
    return cand, pres


def _count_clusters_bulk(text: str) -> int:
    """:func:`_count_clusters` for emoji-dense texts, vectorised (same windows, clusters and keep rule).

    The windows are joined by newlines (a line feed always ends and starts a grapheme cluster, so one
    segmentation of the joined text gives each window's clusters), and every run of two or more ASCII
    characters becomes a newline and the run's last character: no ASCII cluster is ever counted, a break
    falls between any two ASCII characters but CR LF, and only the last one can start a counted cluster
    (a keycap's digit, a letter before U+FE0F). Then one ``\\X`` pass over what is left and array
    arithmetic count the clusters that are kept. A 1 MB run of flags and skin-toned emoji has ~750,000
    candidate characters; the per-character Python loops took 2 s there, this takes ~0.2 s.
    """
    cand_t, pres_t = _tables()
    s = np.flatnonzero(_flags(text, cand_t))
    size = len(text)
    lo = np.maximum(s - 3, 0)
    hi = np.minimum(s + 16, size)
    # windows merge while the next one starts at or before the current end (hi grows with the start)
    breaks = np.flatnonzero(lo[1:] > hi[:-1]) + 1
    w_lo = lo[np.concatenate(([0], breaks))].tolist()
    w_hi = hi[np.concatenate((breaks - 1, [len(s) - 1]))].tolist()
    joined = _ASCII_RUN.sub("\n", "\n".join([text[a:b] for a, b in zip(w_lo, w_hi, strict=True)]))
    clusters = _CLUSTER.findall(joined)
    ln = np.fromiter(map(len, clusters), dtype=np.int64, count=len(clusters))
    offs = np.cumsum(ln) - ln
    cand = _flags(joined, cand_t)
    pres = _flags(joined, pres_t)
    single = ln == 1
    csum = np.concatenate(([0], np.cumsum(cand, dtype=np.int64)))
    multi_hit = (csum[offs + ln] - csum[offs]) > 0
    return int(pres[offs[single]].sum()) + int((multi_hit & ~single).sum())


def _flags(text: str, table: np.ndarray) -> np.ndarray:
    """``table[code point]`` for every character of ``text`` (False past the table)."""
    cps = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    low = cps < _TABLE_SIZE
    return table[np.where(low, cps, 0)] & low


#: two or more ASCII characters, the last one left out of the match (see _count_clusters_bulk)
_ASCII_RUN = regex.compile(r"[\x00-\x7f]+(?=[\x00-\x7f])")
