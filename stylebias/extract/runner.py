"""Batch runner: dedupe, cache, chunk, and map the pure extractor over worker processes.

The unit of work is :func:`stylebias.extract.core.extract_batch` on one chunk of unique responses; the runner
only decides *which* responses need extracting and *where*. Steps:

1. hash every response (text, and text + prompt for the prompt-aware detectors) and keep unique ones, so the
   AlpacaEval baseline answer repeated in every battle is extracted once;
2. look the hashes up in the on-disk cache (:mod:`.cache`);
3. extract the rest in chunks, serially or in a process pool (``jobs``); chunks come back in order, and the
   extractor is a pure function, so the result is identical whatever ``jobs`` is;
4. store new values in the cache and scatter values back to every input row.

Memory is bounded by the chunk size times the number of chunks in flight, plus the output columns.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from ..progress import task
from .cache import FeatureCache, resolve_cache_dir
from .core import EXTRACTOR_VERSION, extract_batch
from .registry import FEATURE_BY_NAME, resolve_features

#: Families whose values depend on the prompt as well as the text (their cache key includes the prompt).
PROMPT_FAMILIES = frozenset({"flattery", "refusal"})

DEFAULT_CHUNK = 256
#: Below this many responses to extract, worker start-up costs more than it saves.
MIN_PARALLEL = 1500


@lru_cache(maxsize=1)
def patterns_fingerprint() -> str:
    """Hash of every shipped pattern/lexicon file: editing a pattern invalidates cached detector values."""
    from ..resources import features_dir

    h = hashlib.sha256(EXTRACTOR_VERSION.encode())
    try:
        folder = features_dir()
    except FileNotFoundError:
        return h.hexdigest()[:16]
    for p in sorted(folder.rglob("*")):
        if p.is_file() and p.suffix in (".yaml", ".yml", ".json", ".txt"):
            h.update(p.name.encode())
            h.update(p.read_bytes())
    return h.hexdigest()[:16]


def _key(kind: str, text: str, prompt: str | None) -> str:
    h = hashlib.blake2b(digest_size=20)
    h.update(f"{patterns_fingerprint()}|{kind}|".encode())
    h.update(text.encode("utf-8", "surrogatepass"))
    if kind == "C":
        h.update(b"\x00")
        h.update((prompt or "").encode("utf-8", "surrogatepass"))
    return h.hexdigest()


def _worker_init() -> None:
    """Load heavy resources once per worker (tokenizer ranks, spaCy pipelines, lexicons)."""
    warm_up()


def warm_up() -> None:
    """Build every lazily-loaded resource now (so timing and first-chunk latency are predictable)."""
    from .core import extract_one

    extract_one("Warm up. **Great** question!\n\n- I can't do that 😊", "hi", resolve_features("full"))


def _extract_chunk(args: tuple[list[str], list[str | None], list[str]]) -> dict[str, list[Any]]:
    texts, prompts, names = args
    return extract_batch(texts, prompts, names)


def resolve_jobs(jobs: int | None) -> int:
    """``None``/``0`` -> all cores; negative -> cores + 1 + jobs (like joblib); at least 1."""
    cores = os.cpu_count() or 1
    if not jobs:
        return cores
    if jobs < 0:
        return max(1, cores + 1 + jobs)
    return max(1, int(jobs))


def _map_chunks(
    work: list[tuple[list[str], list[str | None], list[str]]], jobs: int, advance: Any
) -> Iterator[dict[str, list[Any]]]:
    """Yield chunk results in input order; at most ``2 * jobs`` chunks in flight."""
    if jobs <= 1 or len(work) <= 1:
        for item in work:
            res = _extract_chunk(item)
            advance(len(item[0]))
            yield res
        return
    import multiprocessing as mp

    ctx = mp.get_context("spawn")  # never fork a parent that may hold threads (progress bars, BLAS)
    with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=_worker_init) as pool:
        pending: list[tuple[Future[dict[str, list[Any]]], int]] = []
        it = iter(work)
        for item in it:
            pending.append((pool.submit(_extract_chunk, item), len(item[0])))
            if len(pending) >= 2 * jobs:
                break
        while pending:
            fut, n = pending.pop(0)
            res = fut.result()
            advance(n)
            nxt = next(it, None)
            if nxt is not None:
                pending.append((pool.submit(_extract_chunk, nxt), len(nxt[0])))
            yield res


def response_features(
    texts: Sequence[str | None],
    prompts: Sequence[str | None] | None = None,
    *,
    features: str | list[str] | tuple[str, ...] | None = "full",
    jobs: int | None = 1,
    cache: bool | str | os.PathLike[str] | None = True,
    chunk_size: int | None = None,
) -> pd.DataFrame:
    """Style features of each response: a DataFrame with one row per text (RangeIndex) and one column per feature.

    Args:
        texts: response texts (multi-turn: assistant turns joined by a blank line). ``None`` counts as empty.
        prompts: the prompt of each response (same length), used as context by the flattery and refusal
            detectors (a requested compliment is not flattery). Optional.
        features: a set name, family name, comma list or list (see :func:`stylebias.extract.resolve_features`).
        jobs: worker processes (``1`` serial, ``None``/``0`` all cores). Results never depend on it.
        cache: ``True`` (default folder), ``False`` (off) or a folder for the on-disk cache.
        chunk_size: responses per batch handed to a worker.

    Counts are ``int64``, scores ``float64``, ``refusal`` is a label (``none``/``partial``/``full``).
    """
    names = resolve_features(features)
    texts = ["" if t is None or (isinstance(t, float) and np.isnan(t)) else str(t) for t in texts]
    n = len(texts)
    if prompts is None:
        prompts_l: list[str | None] = [None] * n
    else:
        prompts_l = [p if isinstance(p, str) else None for p in prompts]
        if len(prompts_l) != n:
            raise ValueError(f"got {n} texts but {len(prompts_l)} prompts")
    ctx_names = [f for f in names if FEATURE_BY_NAME[f].family in PROMPT_FAMILIES]
    plain_names = [f for f in names if f not in ctx_names]
    chunk = int(chunk_size or DEFAULT_CHUNK)
    jobs_n = resolve_jobs(jobs)

    # 1. unique responses (by text, or by text + prompt when prompt-aware features are wanted)
    kind = "C" if ctx_names else "T"
    row_keys = [_key(kind, t, p) for t, p in zip(texts, prompts_l, strict=True)]
    first: dict[str, int] = {}
    for i, k in enumerate(row_keys):
        first.setdefault(k, i)
    uniq = list(first.values())

    # 2. cache lookup: text-only features under the text key, prompt-aware ones under the context key
    values: dict[str, dict[str, Any]] = {}
    folder = resolve_cache_dir(cache)
    store = FeatureCache(folder) if folder is not None else None
    try:
        todo = uniq
        if store is not None:
            tkeys = {i: _key("T", texts[i], None) for i in uniq} if plain_names else {}
            ckeys = {i: _key("C", texts[i], prompts_l[i]) for i in uniq} if ctx_names else {}
            got = store.get_many([*tkeys.values(), *ckeys.values()])
            todo = []
            for i in uniq:
                merged: dict[str, Any] = {}
                if plain_names:
                    merged.update({f: v for f, v in got.get(tkeys[i], {}).items() if f in plain_names})
                if ctx_names:
                    merged.update({f: v for f, v in got.get(ckeys[i], {}).items() if f in ctx_names})
                if all(f in merged for f in names):
                    values[row_keys[i]] = merged
                else:
                    todo.append(i)

        # 3. extract what is missing
        work = [
            ([texts[i] for i in part], [prompts_l[i] for i in part], names)
            for part in (todo[s : s + chunk] for s in range(0, len(todo), chunk))
        ]
        if len(todo) < MIN_PARALLEL:
            jobs_n = 1
        with task("Extracting style features", total=len(todo)) as advance:
            done = 0
            for part_res in _map_chunks(work, jobs_n, advance):
                idx = todo[done : done + len(part_res[names[0]])]
                done += len(idx)
                new_items: list[tuple[str, dict[str, Any]]] = []
                for j, i in enumerate(idx):
                    row = {f: part_res[f][j] for f in names}
                    values[row_keys[i]] = row
                    if store is not None:
                        if plain_names:
                            new_items.append((tkeys[i], {f: row[f] for f in plain_names}))
                        if ctx_names:
                            new_items.append((ckeys[i], {f: row[f] for f in ctx_names}))
                if store is not None:
                    store.put_many(new_items)
    finally:
        if store is not None:
            store.close()

    # 4. scatter back to every row
    out: dict[str, Any] = {}
    for f in names:
        col = [values[k][f] for k in row_keys]
        if f == "refusal":
            out[f] = pd.Series(col, dtype=object)
        elif FEATURE_BY_NAME[f].kind == "count" or f == "flattery":
            out[f] = np.asarray(col, dtype="int64") if n else np.zeros(0, dtype="int64")
        else:
            out[f] = np.asarray(col, dtype="float64") if n else np.zeros(0, dtype="float64")
    return pd.DataFrame(out, index=pd.RangeIndex(n), columns=names)
