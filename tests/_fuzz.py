"""Case counts for the robustness property tests: modest by default, large under HYPOTHESIS_PROFILE=fuzz."""

from __future__ import annotations

import os

from hypothesis import settings

FUZZ = os.environ.get("HYPOTHESIS_PROFILE") == "fuzz"


def examples(n: int) -> int:
    """``n`` in the normal suite; under the fuzz profile its ``max_examples`` (2,000) unless ``n`` is larger."""
    return max(settings.default.max_examples, n) if FUZZ else n
