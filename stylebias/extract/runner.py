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
from collections.abc import Iterable, Iterator, Sequence
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
#: rows deduplicated, cached and scattered together; bounds the runner's own memory when streaming
DEFAULT_BLOCK = 50_000
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
    from .detectors.detect import model_files  # the detectors' fitted weights are part of their definition

    for p in model_files():
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
    _freeze_gc()


def _freeze_gc() -> None:
    """Move every object alive now (lexicons, dictionaries, pipelines: millions of them) out of the garbage
    collector's reach in this worker. Full collections then scan only what extraction allocates (measured:
    ~5% of extraction time went to re-scanning the resources), and a forked worker stops touching the pages
    it shares with its parent. Called in worker processes only, never in the caller's."""
    import gc

    gc.freeze()


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


class _Extractor:
    """Owns the worker pool and the cache for one extraction run; :meth:`run` handles one block of rows.

    The pool is created on the first block that has enough new responses to be worth it, and reused for the
    following blocks, so streaming a big file in blocks costs one pool start-up.
    """

    def __init__(self, names: list[str], jobs: int, cache: Any, chunk: int, advance: Any) -> None:
        self.names = names
        self.ctx_names = [f for f in names if FEATURE_BY_NAME[f].family in PROMPT_FAMILIES]
        self.plain_names = [f for f in names if f not in self.ctx_names]
        self.jobs = jobs
        self.chunk = chunk
        self.advance = advance
        folder = resolve_cache_dir(cache)
        self.store = FeatureCache(folder) if folder is not None else None
        self.pool: ProcessPoolExecutor | None = None

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None
        if self.store is not None:
            self.store.close()
            self.store = None

    def _get_pool(self) -> ProcessPoolExecutor:
        if self.pool is None:
            import multiprocessing as mp

            # fork where available: workers inherit the already-loaded tokenizer, lexicons and spaCy pipelines
            # (warmed up here first), start in milliseconds and need no ``if __name__ == "__main__"`` guard in
            # the caller's script. Workers never print or touch the cache, so locks held by the parent's
            # threads (progress bars) are never needed in a child.
            if "fork" in mp.get_all_start_methods():
                warm_up()
                ctx = mp.get_context("fork")
                init = _freeze_gc
            else:  # Windows / macOS-spawn: fresh interpreters load the resources themselves
                ctx = mp.get_context("spawn")
                init = _worker_init
            self.pool = ProcessPoolExecutor(max_workers=self.jobs, mp_context=ctx, initializer=init)
        return self.pool

    def _map(
        self, work: list[tuple[list[str], list[str | None], list[str]]]
    ) -> Iterator[dict[str, list[Any]]]:
        """Chunk results in input order; at most ``2 * jobs`` chunks in flight (bounded memory)."""
        if self.jobs <= 1 or sum(len(w[0]) for w in work) < MIN_PARALLEL:
            for item in work:
                res = _extract_chunk(item)
                self.advance(len(item[0]))
                yield res
            return
        pool = self._get_pool()
        pending: list[tuple[Future[dict[str, list[Any]]], int]] = []
        it = iter(work)
        for item in it:
            pending.append((pool.submit(_extract_chunk, item), len(item[0])))
            if len(pending) >= 2 * self.jobs:
                break
        while pending:
            fut, n = pending.pop(0)
            res = fut.result()
            self.advance(n)
            nxt = next(it, None)
            if nxt is not None:
                pending.append((pool.submit(_extract_chunk, nxt), len(nxt[0])))
            yield res

    def run(self, texts: list[str], prompts: list[str | None]) -> pd.DataFrame:
        names, ctx_names, plain_names = self.names, self.ctx_names, self.plain_names
        n = len(texts)
        # 1. unique responses (by text, or by text + prompt when prompt-aware features are wanted)
        kind = "C" if ctx_names else "T"
        row_keys = [_key(kind, t, p) for t, p in zip(texts, prompts, strict=True)]
        first: dict[str, int] = {}
        for i, k in enumerate(row_keys):
            first.setdefault(k, i)
        uniq = list(first.values())
        if len(uniq) < n:
            self.advance(n - len(uniq))  # duplicates cost nothing

        # 2. cache: text-only features under the text key, prompt-aware ones under the context key
        values: dict[str, dict[str, Any]] = {}
        todo = uniq
        store = self.store
        tkeys: dict[int, str] = {}
        ckeys: dict[int, str] = {}
        if store is not None:
            tkeys = {i: _key("T", texts[i], None) for i in uniq} if plain_names else {}
            ckeys = {i: _key("C", texts[i], prompts[i]) for i in uniq} if ctx_names else {}
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
            self.advance(len(uniq) - len(todo))

        # 3. extract what is missing, chunk by chunk
        work = [
            (
                [texts[i] for i in todo[s : s + self.chunk]],
                [prompts[i] for i in todo[s : s + self.chunk]],
                names,
            )
            for s in range(0, len(todo), self.chunk)
        ]
        done = 0
        for part_res in self._map(work):
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

        # 4. scatter back to every row
        out: dict[str, Any] = {}
        for f in names:
            col = [values[k][f] for k in row_keys]
            out[f] = _column(f, col)
        return pd.DataFrame(out, index=pd.RangeIndex(n), columns=names)


def _column(name: str, col: list[Any]) -> Any:
    if name == "refusal":
        return pd.Series(col, dtype=object)
    if FEATURE_BY_NAME[name].kind == "count" or name == "flattery":
        return np.asarray(col, dtype="int64") if col else np.zeros(0, dtype="int64")
    return np.asarray(col, dtype="float64") if col else np.zeros(0, dtype="float64")


def _clean_text(t: Any) -> str:
    if t is None or (isinstance(t, float) and np.isnan(t)):
        return ""
    return t if isinstance(t, str) else str(t)


def iter_response_features(
    texts: Iterable[str | None],
    prompts: Iterable[str | None] | None = None,
    *,
    features: str | list[str] | tuple[str, ...] | None = "full",
    jobs: int | None = 1,
    cache: bool | str | os.PathLike[str] | None = True,
    chunk_size: int | None = None,
    block_size: int | None = None,
    total: int | None = None,
) -> Iterator[pd.DataFrame]:
    """Stream features block by block: yields one DataFrame per ``block_size`` input rows, in input order.

    Inputs are consumed lazily, so memory stays bounded by one block however long the input is. Each frame's
    index continues where the previous one stopped (row numbers of the whole stream).
    """
    names = resolve_features(features)
    block = int(block_size or DEFAULT_BLOCK)
    prompt_it: Iterator[str | None] = iter(prompts) if prompts is not None else _repeat_none()
    with task("Extracting style features", total=total) as advance:
        ex = _Extractor(names, resolve_jobs(jobs), cache, int(chunk_size or DEFAULT_CHUNK), advance)
        try:
            start = 0
            buf_t: list[str] = []
            buf_p: list[str | None] = []
            for t in texts:
                try:
                    p = next(prompt_it)
                except StopIteration:
                    raise ValueError("fewer prompts than texts") from None
                buf_t.append(_clean_text(t))
                buf_p.append(p if isinstance(p, str) else None)
                if len(buf_t) >= block:
                    df = ex.run(buf_t, buf_p)
                    df.index = pd.RangeIndex(start, start + len(df))
                    start += len(df)
                    buf_t, buf_p = [], []
                    yield df
            if prompts is not None and next(prompt_it, _END) is not _END:
                raise ValueError("more prompts than texts")
            if buf_t or start == 0:
                df = ex.run(buf_t, buf_p)
                df.index = pd.RangeIndex(start, start + len(df))
                yield df
        finally:
            ex.close()


_END = object()


def _repeat_none() -> Iterator[None]:
    while True:
        yield None


def response_features(
    texts: Sequence[str | None],
    prompts: Sequence[str | None] | None = None,
    *,
    features: str | list[str] | tuple[str, ...] | None = "full",
    jobs: int | None = 1,
    cache: bool | str | os.PathLike[str] | None = True,
    chunk_size: int | None = None,
    block_size: int | None = None,
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
        block_size: rows deduplicated and cached together (bounds the bookkeeping memory).

    Counts are ``int64``, scores ``float64``, ``refusal`` is a label (``none``/``partial``/``full``).
    """
    if prompts is not None and len(prompts) != len(texts):
        raise ValueError(f"got {len(texts)} texts but {len(prompts)} prompts")
    frames = list(
        iter_response_features(
            texts,
            prompts,
            features=features,
            jobs=jobs,
            cache=cache,
            chunk_size=chunk_size,
            block_size=block_size,
            total=len(texts),
        )
    )
    if len(frames) == 1:
        return frames[0]
    return pd.concat(frames, ignore_index=True)
