"""Escape-by-default HTML/SVG building.

Every string that reaches the report may come from data (model names, file names, reject reasons, prompts,
judge names, feature names). Building markup with f-strings makes one forgotten ``html.escape`` an injection,
so the report never does that: text goes through :func:`h`, elements through :func:`el`, and only values
already wrapped in :class:`Markup` (produced by these helpers or by trusted constants in this package) pass
through unescaped.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable
from typing import Any


class Markup(str):
    """A string that is already safe HTML/SVG; :func:`h` passes it through unchanged."""

    __slots__ = ()

    def __add__(self, other: object) -> Markup:
        return Markup(str.__add__(self, h(other)))


def h(value: Any) -> Markup:
    """Escape ``value`` for HTML text or a quoted attribute (``& < > " '``); Markup passes through.

    ``None`` renders as the empty string; numbers as their ``str``. Characters that are invalid in HTML
    (C0 controls other than tab/newline, lone surrogates) are replaced so a hostile name cannot break parsing.
    """
    if isinstance(value, Markup):
        return value
    if value is None:
        return Markup("")
    text = str(value)
    text = "".join(_clean_char(c) for c in text) if _needs_clean(text) else text
    return Markup(html.escape(text, quote=True))


def _needs_clean(text: str) -> bool:
    return any((ord(c) < 32 and c not in "\t\n\r") or 0xD800 <= ord(c) <= 0xDFFF or c == "\x7f" for c in text)


def _clean_char(c: str) -> str:
    o = ord(c)
    if (o < 32 and c not in "\t\n\r") or o == 0x7F or 0xD800 <= o <= 0xDFFF:
        return "\ufffd"
    return c


def _attr_name(name: str) -> str:
    """Python keyword-safe attribute names: ``class_`` -> ``class``, ``font_size`` -> ``font-size``."""
    name = name.rstrip("_")
    if name.startswith("data_") or name.startswith("aria_"):
        return name.replace("_", "-")
    return name.replace("_", "-")


def attrs(**kwargs: Any) -> Markup:
    """`` name="value"`` pairs, escaped; ``None``/``False`` values are left out, ``True`` gives a bare name."""
    parts: list[str] = []
    for key, value in kwargs.items():
        if value is None or value is False:
            continue
        name = _attr_name(key)
        if value is True:
            parts.append(f" {name}")
            continue
        if isinstance(value, float):
            value = fmt_num(value)
        parts.append(f' {name}="{h(value)}"')
    return Markup("".join(parts))


VOID = frozenset({"br", "hr", "img", "input", "meta", "col", "wbr"})


def el(tag: str, *children: Any, **kwargs: Any) -> Markup:
    """``<tag attrs>children</tag>``: children are escaped unless Markup; lists/tuples are flattened.

    ``tag`` itself must be a trusted constant (it is never data). Self-closing for SVG leaf shapes when no
    children are given and the tag is not an HTML container.
    """
    inner = join(children)
    a = attrs(**kwargs)
    if tag in VOID:
        return Markup(f"<{tag}{a}>")
    if not inner and tag in _SVG_LEAVES:
        return Markup(f"<{tag}{a}/>")
    return Markup(f"<{tag}{a}>{inner}</{tag}>")


_SVG_LEAVES = frozenset({"line", "rect", "circle", "path", "polyline", "polygon", "ellipse", "stop", "use"})


def join(items: Iterable[Any], sep: str = "") -> Markup:
    """Concatenate escaped items (nested iterables flattened, ``None`` skipped)."""
    out: list[str] = []
    for item in items:
        if item is None:
            continue
        if isinstance(item, list | tuple) or (
            not isinstance(item, str) and hasattr(item, "__iter__") and not hasattr(item, "keys")
        ):
            out.append(join(item, sep))
        else:
            out.append(h(item))
    return Markup(h(sep).join(out))


def fmt_num(x: float, digits: int = 2) -> str:
    """Compact coordinates for SVG: at most ``digits`` decimals, no trailing zeros, finite only."""
    if not math.isfinite(x):
        return "0"
    s = f"{x:.{digits}f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s
