"""Input shapes for the linear-time checks: ``SHAPES[name](n)`` is a text of about ``n`` characters.

Each shape stresses one way a text can grow: ordinary prose, one run that gets longer (a word followed by a
punctuation run, a table delimiter row of dashes, a URL, a whitespace run), many repeated markers (``**``,
``__``, backticks, list items, headers), scripts without spaces (CJK, Hangul, emoji), deep nesting, and the
phrases the detectors look for. Used by ``tests/test_extract_linear.py`` (small n) and
``bench/linearity.py`` (large n, plus 1 MB texts).
"""

from __future__ import annotations

from collections.abc import Callable


def fill(unit: str, n: int) -> str:
    """``unit`` repeated to exactly ``n`` characters."""
    return (unit * (n // len(unit) + 1))[:n]


def _deep(item: str, indent: str) -> Callable[[int], str]:
    def make(n: int) -> str:
        out: list[str] = []
        size = i = 0
        while size < n:
            line = indent * i + item
            out.append(line)
            size += len(line)
            i += 1
        return "".join(out)[:n]

    return make


def _run(prefix: str, unit: str, suffix: str = "") -> Callable[[int], str]:
    return lambda n: prefix + fill(unit, max(1, n - len(prefix) - len(suffix))) + suffix


SHAPES: dict[str, Callable[[int], str]] = {
    # ordinary text
    "prose": lambda n: fill("The model gives a long answer, with many words. Is it good? Yes! ", n),
    "one long sentence": lambda n: fill("word ", n),
    "word per line": lambda n: fill("word\n", n),
    # one run that grows
    "word + dashes": _run("x ", "-"),
    "word + dots": _run("x ", "."),
    "word + stars": _run("x ", "*"),
    "word + underscores": _run("x ", "_"),
    "word + equals": _run("x ", "="),
    "word + apostrophes": _run("x ", "'"),
    "word + exclamations": _run("wow ", "!"),
    "word + question marks": _run("why ", "?"),
    "word + mixed punctuation": _run("word ", ".,;:-=|"),
    "dash run + word": lambda n: "-" * max(1, n - 2) + " x",
    "word glued to dashes": _run("x", "-"),
    "table delimiter row": _run("| a | b |\n|", "-", "|---|\n| 1 | 2 |\n"),
    "long table row": lambda n: fill("| cell ", n // 2) + "|\n" + fill("|---", n // 2) + "|\n",
    "table rows": _run("| a | b |\n|---|---|\n", "| 1 | 2 |\n"),
    "long URL": _run("see https://example.com/", "ab/"),
    "long link text": _run("[", "a", "](https://example.com)"),
    "one long word": lambda n: "a" * n,
    "digits": lambda n: "1" * n,
    "spaces": _run("x", " ", "y"),
    "newlines": _run("x", "\n", "y"),
    "tabs": _run("x", "\t", "y"),
    "blank lines with spaces": lambda n: fill(" \n", n),
    "symbols line": lambda n: fill("=+*&^%$#@<>/\\~", n),
    "open quote": _run('"', "you are great. "),
    # repeated markers
    "**": lambda n: fill("**", n),
    "__": lambda n: fill("__", n),
    "backticks": lambda n: fill("`", n),
    "tildes": lambda n: fill("~", n),
    "hashes": lambda n: fill("#", n),
    "pipes": lambda n: fill("|", n),
    "brackets": lambda n: fill("[", n),
    "parentheses": lambda n: fill("(", n),
    "quotes": lambda n: fill('"', n),
    "** words": lambda n: fill("**a ", n),
    "* words": lambda n: fill("*a* ", n),
    "_ words": lambda n: fill("_a_ ", n),
    "`code` words": lambda n: fill("`a` b ", n),
    "closed links": lambda n: fill("[a](http://x.y) ", n),
    "unclosed links": lambda n: fill("[a](", n),
    "bare URLs": lambda n: fill("see https://example.com/a ", n),
    "fences": lambda n: fill("```\n", n),
    "unclosed fence": _run("```\n", "code line\n"),
    "list items": lambda n: fill("- item\n", n),
    "numbered items": lambda n: fill("12. item\n", n),
    "headers": lambda n: fill("# h\n", n),
    "dash lines": lambda n: fill("-----\n", n),
    "indented lines": lambda n: fill("    x\n", n),
    "deep list": _deep("- item\n", "  "),
    "deep quote": _deep(" q\n", ">"),
    "a.b.c": lambda n: fill("a.", n),
    "hyphenated": lambda n: fill("a-", n),
    "x'": lambda n: fill("x'", n),
    "emails": lambda n: fill("a@b.", n),
    "numbers": lambda n: fill("1,234.56 ", n),
    "html": lambda n: fill("<div>", n),
    "base64": lambda n: fill("QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo+/", n),
    # scripts and symbols without spaces
    "CJK": lambda n: fill("你好世界这是一个测试", n),
    "CJK sentences": lambda n: fill("你好，世界。这是一个测试！", n),
    "Hangul": lambda n: fill("안녕하세요세계입니다", n),
    "Hangul prose": lambda n: fill("좋은 질문입니다! 도와드리겠습니다. ", n),
    "Japanese prose": lambda n: fill("私は猫が好きです。「本当？」Pythonの関数を使います！", n),
    "Cyrillic prose": lambda n: fill("Привет! Это отличный вопрос. ", n),
    "Latin and Han": lambda n: fill("the word 猫 means cat。", n),
    "Devanagari prose": lambda n: fill("नमस्ते दुनिया। ", n),
    "emoji": lambda n: fill("😀", n),
    "ZWJ emoji": lambda n: fill("👨\u200d👩\u200d👧\u200d👦", n),
    "skin tones + flags": lambda n: fill("👍🏽🇺🇸🇯🇵 ", n),
    "emoji words": lambda n: fill("great 😊 ", n),
    "combining marks": lambda n: fill("e\u0301\u0302\u0303", n),
    "RTL": lambda n: fill("\u202eمرحبا بالعالم\u202c ", n),
    "NUL and control": lambda n: fill("\x00\x01\x1b[31m ", n),
    "lone surrogates": lambda n: fill("a\ud800 ", n),
    # what the detectors and VADER read
    "flattery phrases": lambda n: fill("What a great question! You are so smart. ", n),
    "refusal phrases": lambda n: fill("I'm sorry, but I cannot help with that. ", n),
    "one refusal sentence": _run("I'm sorry, but I cannot ", "help "),
    "but words": lambda n: fill("good but ", n),
    "no no": lambda n: fill("no ", n),
    "caps": lambda n: fill("GREAT ", n),
    "dialogue": lambda n: fill('Woman: "hello, you are great." ', n),
}


def cpu_seconds(fn: Callable[[], object], repeat: int = 3) -> float:
    """Median CPU seconds (this process) of ``fn()`` over ``repeat`` calls: CPU time, not wall clock, so
    other work on the machine disturbs it little. The per-process memos are cleared before each call, so
    every call pays what a first sight of the text costs."""
    import statistics
    import time

    from stylebias.extract.core import clear_memos

    times = []
    for _ in range(repeat):
        clear_memos()
        t0 = time.process_time()
        fn()
        times.append(time.process_time() - t0)
    return statistics.median(times)


def growth(
    extract: Callable[[str], object], shape: str, n: int, factor: int = 4, repeat: int = 3
) -> tuple[float, float]:
    """``(seconds at n, seconds at factor * n)`` of ``extract`` on ``SHAPES[shape]``."""
    small, big = SHAPES[shape](n), SHAPES[shape](factor * n)
    return cpu_seconds(lambda: extract(small), repeat), cpu_seconds(lambda: extract(big), repeat)
