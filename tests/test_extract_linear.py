"""Every feature family runs in time linear in the response length, whatever the shape of the text.

For each family and each shape of ``tests/_shapes.py`` (a word then 8,000 dashes, a table delimiter row, a
long URL, repeated ``**``, CJK without spaces, emoji runs, deep lists, detector phrases, ...), the CPU time
at 4n characters is at most 5x the time at n (linear: ~4x; the quadratic paths this guards against gave
16x). Small n keeps it cheap; CPU time (not wall clock) and the median of three calls keep it steady on a
busy machine, and a pair over the bound is measured again before it counts. The figures at large n and
for 1 MB texts come from ``bench/linearity.py``.
"""

from __future__ import annotations

import pytest

from stylebias.extract import FEATURE_SETS, extract_one
from tests._shapes import SHAPES, growth

FAMILIES = ("verbosity", "structure", "emoji", "flattery", "refusal", "tone", "script")
N = 2_000
BOUND = 5.0
#: added to both times: a family that costs microseconds on a shape (emoji on ASCII text) has a ratio
#: near 1, not a ratio of two timer readings
FLOOR = 2e-4


def ratio(family: str, shape: str, repeat: int) -> tuple[float, float, float]:
    names = list(FEATURE_SETS[family])
    t1, t4 = growth(lambda t: extract_one(t, "a prompt", names), shape, N, 4, repeat)
    return (t4 + FLOOR) / (t1 + FLOOR), t1, t4


@pytest.fixture(scope="module", autouse=True)
def _warm() -> None:
    extract_one("Warm up, chatbot. **Great** question! I can't 😊", "hi", list(FEATURE_SETS["full"]))


@pytest.mark.slow
@pytest.mark.parametrize("family", FAMILIES)
def test_time_grows_linearly_with_length(family: str) -> None:
    bad = []
    for shape in SHAPES:
        r, t1, t4 = ratio(family, shape, 3)
        if r > BOUND:
            r, t1, t4 = ratio(family, shape, 7)  # once more, longer, before it counts
        if r > BOUND:
            bad.append(
                f"{shape}: {1000 * t1:.2f} ms at {N:,} chars -> {1000 * t4:.2f} ms at {4 * N:,} ({r:.1f}x)"
            )
    assert not bad, f"{family} grows faster than linearly:\n" + "\n".join(bad)
