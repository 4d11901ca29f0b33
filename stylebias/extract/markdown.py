"""Markdown structure counts: LMArena's rules for headers, lists and bold, plus code blocks, tables, links.

``header_count``, ``list_count`` and ``bold_count`` reproduce FastChat's ``count_markdown_elements`` after its
``remove_pattern`` step (``fastchat/serve/monitor/add_markdown_info.py``), quirks included, so numbers computed
here match the ``conv_metadata`` LMArena publishes:

* code is removed with the regex ``` ```([^`]*)``` ``` and ``str.replace`` of every *inner* block text (the
  fences themselves stay; a block containing a backtick is not removed);
* headers ``^#{1..6}\\s`` summed over levels; list items ``^\\s*\\d+\\.\\s`` and ``^\\s*[-*+]\\s``; bold
  ``\\*\\*[^*\\n]+\\*\\*`` and ``__[^_\\n]+__`` (all with ``re.MULTILINE``).

Two changes that never alter a count: the line-anchored patterns are checked line by line on each line's
first characters (the regex ``^\\s*`` rescans long blank runs from every line start: quadratic on hostile
input, and slow everywhere), and identical code blocks are removed once.

The other structure features (``code_blocks``, ``tables``, ``links``) use CommonMark/GFM-like rules on the text
with fenced code removed properly (see :func:`strip_fenced_code`).
"""

from __future__ import annotations

import re

# --- LMArena (FastChat) rules -------------------------------------------------------------------------
_LMARENA_CODE = re.compile("```([^`]*)```")
_ORDERED_MARK = re.compile(r"\d+\.")
_BOLD_STAR = re.compile(r"\*\*[^*\n]+\*\*")
_BOLD_UNDER = re.compile(r"__[^_\n]+__")
# FastChat calls str.replace once per block; past this many distinct blocks we remove them in one regex pass
# (identical except for contrived texts where removing one block creates another block's text).
_MAX_REPLACE_BLOCKS = 500


def lmarena_strip_code(text: str) -> str:
    """FastChat's ``remove_pattern(answer, re.compile("```([^`]*)```"))``."""
    if "```" not in text:
        return text
    blocks = _LMARENA_CODE.findall(text)
    unique = list(dict.fromkeys(b for b in blocks if b))
    if len(unique) > _MAX_REPLACE_BLOCKS:
        return _LMARENA_CODE.sub("``````", text)
    for block in unique:
        text = text.replace(block, "")
    return text


def lmarena_counts(text: str) -> tuple[int, int, int]:
    """``(header_count, list_count, bold_count)`` exactly as LMArena's ``conv_metadata`` (levels summed)."""
    body = lmarena_strip_code(text)
    headers, lists = _line_counts(body)
    bold = 0
    if "**" in body:
        bold += len(_BOLD_STAR.findall(body))
    if "__" in body:
        bold += len(_BOLD_UNDER.findall(body))
    return headers, lists, bold


def _line_counts(body: str) -> tuple[int, int]:
    """Matches of FastChat's ``^#{k}\\s`` (k = 1..6), ``^\\s*\\d+\\.\\s`` and ``^\\s*[-*+]\\s`` (``re.MULTILINE``),
    counted line by line.

    Each pattern matches at most once per line and only at its start; its leading ``\\s*`` can run over blank
    lines, but then it counts the next item, once, as the line-by-line count does; its trailing ``\\s`` is
    a space after the marker or the newline ending the line. Checking the first characters of each line
    gives the same counts (tests compare with FastChat's regexes) without the regex engine trying each
    ``^``-anchored pattern at every character (80 machine instructions per character and pattern).
    """
    lines = body.split("\n")
    last = len(lines) - 1
    headers = lists = 0
    has_hash = "#" in body
    for i, line in enumerate(lines):
        ls = line.lstrip()
        if not ls:
            continue
        c = ls[0]
        if c in "-*+":
            if ls[1].isspace() if len(ls) > 1 else i < last:
                lists += 1
        elif c.isdecimal() or not c.isascii():
            m = _ORDERED_MARK.match(ls)
            if m is not None:
                j = m.end()
                if ls[j].isspace() if j < len(ls) else i < last:
                    lists += 1
        if has_hash and line[0] == "#":
            k = len(line) - len(line.lstrip("#"))
            if k <= 6 and (line[k].isspace() if k < len(line) else i < last):
                headers += 1
    return headers, lists


# --- Fenced code, tables, links -----------------------------------------------------------------------
_FENCE_LINE = re.compile(r"^ {0,3}(`{3,}|~{3,})[^\n]*$", re.MULTILINE)
_TABLE_DELIM = re.compile(r"^[ \t]*\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)+\|?[ \t]*$", re.MULTILINE)
_MD_LINK = re.compile(r"!?\[[^\]\n]{0,500}\]\([ \t]*<?[^)\s>]{1,2000}>?(?:[ \t]+\"[^\"\n]{0,500}\")?[ \t]*\)")
_BARE_URL = re.compile(r"\bhttps?://[^\s<>()\[\]]+", re.IGNORECASE)


def fenced_blocks(text: str) -> list[tuple[int, int]]:
    """Spans ``(start, end)`` of fenced code blocks (``` or ~~~, CommonMark closing rules).

    An unclosed fence runs to the end of the text, as a markdown renderer shows it (truncated model output).
    """
    if "```" not in text and "~~~" not in text:
        return []
    spans: list[tuple[int, int]] = []
    open_fence: str | None = None
    start = 0
    for m in _FENCE_LINE.finditer(text):
        fence = m.group(1)
        if open_fence is None:
            if fence[0] == "`" and "`" in m.group(0)[m.end(1) - m.start(0) :]:
                continue  # an info string with a backtick: inline code, not a fence (CommonMark)
            open_fence, start = fence, m.start()
        elif (
            fence[0] == open_fence[0]
            and len(fence) >= len(open_fence)
            and not m.group(0).strip()[len(fence) :]
        ):
            spans.append((start, m.end()))
            open_fence = None
    if open_fence is not None:
        spans.append((start, len(text)))
    return spans


def strip_fenced_code(text: str) -> tuple[str, int]:
    """``(prose, n_blocks)``: the text with fenced code blocks replaced by a blank line, and how many there were.

    Prose features (words, sentences, readability, tone, flattery, refusal) read the prose only: code is not
    language, and ``!=`` in code is not an exclamation.
    """
    spans = fenced_blocks(text)
    if not spans:
        return text, 0
    parts: list[str] = []
    pos = 0
    for s, e in spans:
        parts.append(text[pos:s])
        parts.append("\n")
        pos = e
    parts.append(text[pos:])
    return "".join(parts), len(spans)


def count_tables(prose: str) -> int:
    """GFM tables: a delimiter row (``|---|:--:|``) right under a row containing a pipe."""
    if "|" not in prose or "-" not in prose:
        return 0
    n = 0
    for m in _TABLE_DELIM.finditer(prose):
        prev_end = m.start() - 1
        if prev_end <= 0:
            continue
        prev_start = prose.rfind("\n", 0, prev_end) + 1
        if "|" in prose[prev_start:prev_end]:
            n += 1
    return n


def count_links(prose: str) -> int:
    """Markdown links/images ``[text](url)`` plus bare ``http(s)://`` URLs not inside one."""
    if "](" not in prose and "://" not in prose:
        return 0
    spans = md_link_spans(prose) if "](" in prose else []
    if spans:
        parts, pos = [], 0
        for s, e in spans:
            parts += [prose[pos:s], " "]
            pos = e
        parts.append(prose[pos:])
        rest = "".join(parts)
    else:
        rest = prose
    bare = _BARE_URL.findall(rest) if "://" in rest else []
    return len(spans) + len(bare)


_TEXT_END = re.compile(r"[\]\n]")
_URL_END = re.compile(r"[)\s>]")
_URL_TAIL = re.compile(r'>?(?:[ \t]+"[^"\n]{0,500}")?[ \t]*\)')
_MAX_TEXT, _MAX_URL = 500, 2000


def md_link_spans(prose: str) -> list[tuple[int, int]]:
    """Spans of the non-overlapping matches of :data:`_MD_LINK`, left to right, in linear time.

    Same result as ``[m.span() for m in _MD_LINK.finditer(prose)]`` (a property test checks it), but the regex
    engine retries the bounded text and URL scans from every ``[``: 30 s on 1 MB of ``[a](``. Here every ``[``
    before the same ``]``/newline shares one text check, and every URL start before the same terminator
    (``)``, whitespace, ``>``) shares one terminator search and one title/``)`` check, so each character is
    scanned a bounded number of times.
    """
    n = len(prose)
    spans: list[tuple[int, int]] = []
    tail_ok: dict[int, int] = {}  # terminator index -> end of the tail match (-1: no match)
    term_from, term_at = -1, -1  # cache: no terminator in [term_from, term_at), one at term_at
    pos = last_end = 0
    while True:
        p = prose.find("[", pos)
        if p < 0:
            break
        m = _TEXT_END.search(prose, p + 1)
        if m is None:
            break
        q = m.start()
        pos = q + 1
        if prose[q] != "]" or q + 1 >= n or prose[q + 1] != "(":
            continue
        s = prose.find("[", max(p, q - _MAX_TEXT - 1), q)  # leftmost start with text <= 500 chars
        if s < 0:
            continue
        u = q + 2
        while u < n and prose[u] in " \t":
            u += 1
        if term_from <= u <= term_at:
            t = term_at
        else:
            mt = _URL_END.search(prose, u)
            t = mt.start() if mt is not None else n
            term_from, term_at = u, t
        length = t - u  # the URL run, a leading "<" included
        limit = _MAX_URL + 1 if u < n and prose[u] == "<" else _MAX_URL
        if not (1 <= length <= limit) or t >= n:
            continue
        if t not in tail_ok:
            mm = _URL_TAIL.match(prose, t)
            tail_ok[t] = mm.end() if mm is not None else -1
        end = tail_ok[t]
        if end < 0:
            continue
        start = s - 1 if s - 1 >= last_end and prose[s - 1] == "!" else s
        spans.append((start, end))
        pos = last_end = end
    return spans
