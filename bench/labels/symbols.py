"""List the symbol characters of labelled responses with their Unicode names (an aid for the emoji label).

    python bench/labels/symbols.py L0001 L0002 ...      # ids of labels.jsonl
    python bench/labels/symbols.py --dev r0001 ...      # ids of ../shared/data/labels/dev.jsonl

It shows every non-ASCII symbol (Unicode category S*), variation selector and zero-width joiner; the annotator
decides which are emoji pictographs (😊 ✅ are, ★ ✓ → © are not).
"""

from __future__ import annotations

import json
import sys
import unicodedata
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import sources  # noqa: E402


def symbols(text: str) -> dict[str, int]:
    seen: dict[str, int] = {}
    for ch in text:
        if (ord(ch) > 127 and unicodedata.category(ch)[0] in "SC") or ch in "\ufe0f\u200d":
            seen[ch] = seen.get(ch, 0) + 1
    return seen


def main(argv: list[str]) -> int:
    dev = bool(argv) and argv[0] == "--dev"
    ids = set(argv[1:] if dev else argv)
    if dev:
        rows = map(json.loads, (sources.SHARED / "labels" / "dev.jsonl").read_text().splitlines())
        texts = {r["id"]: r["response"] for r in rows if r["id"] in ids}
    else:
        rows = map(json.loads, (HERE / "labels.jsonl").read_text().splitlines())
        texts = {r["id"]: sources.resolve(r)["response"] for r in rows if r["id"] in ids}
    for i in sorted(texts):
        found = symbols(texts[i])
        desc = ", ".join(f"{c!r} U+{ord(c):04X} {unicodedata.name(c, '?')} x{n}" for c, n in found.items())
        print(f"{i}: {desc or '(no symbol characters)'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
