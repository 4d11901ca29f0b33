"""The one check of stage-by-stage extraction: a batch gives every response the values it gets alone."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from stylebias.extract import extract_batch, extract_one


def _same(a: object, b: object) -> bool:
    return a == b or (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b))


def assert_batch_equals_alone(
    texts: Sequence[Any], prompts: Sequence[Any], names: Sequence[str]
) -> dict[str, list[Any]]:
    """``extract_batch(texts, prompts, names)``, after checking each of its values (NaN equal to NaN) against
    ``extract_one`` of that response alone."""
    batch = extract_batch(texts, prompts, names)
    assert all(len(col) == len(texts) for col in batch.values())
    for i, (t, p) in enumerate(zip(texts, prompts, strict=True)):
        alone = extract_one(t, p, names)
        for n in names:
            assert _same(batch[n][i], alone[n]), (i, n, batch[n][i], alone[n])
    return batch
