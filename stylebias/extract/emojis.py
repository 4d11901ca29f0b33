"""Emoji count: pictographs a reader sees as emoji, each sequence counted once.

The ``emoji`` package segments the text into emoji sequences (ZWJ families, flags, keycaps, skin-tone variants
are one match each). A match is kept when it *looks* like an emoji: it has more than one code point (a ZWJ
sequence, a flag, a keycap, a modifier, or a character with the emoji variation selector U+FE0F), or its single
code point has default emoji presentation (Unicode ``Emoji_Presentation``: 😊 🚀 ✅ ⭐). Single characters that
default to *text* presentation - © ® ™ ↔ ▶ ✔ ☺ without U+FE0F - are typographic symbols in practice and are
not counted, like ★ ✓ → ≈ which are not emoji at all. That is the labelling rubric of ``labels/dev.jsonl``.
"""

from __future__ import annotations

import regex

# Cheap prefilter: any code point that can start or form an emoji. Most responses have none.
_CANDIDATE = regex.compile(r"[\p{Extended_Pictographic}\p{Regional_Indicator}\u20e3\ufe0f]")
_EMOJI_PRESENTATION = regex.compile(r"\p{Emoji_Presentation}")


def count_emoji(text: str) -> int:
    """Number of emoji sequences in ``text`` (see module doc for what counts)."""
    if not text or text.isascii() or not _CANDIDATE.search(text):
        return 0
    import emoji

    n = 0
    for m in emoji.emoji_list(text):
        e = m["emoji"]
        if len(e) > 1 or _EMOJI_PRESENTATION.match(e):
            n += 1
    return n
