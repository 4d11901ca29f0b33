"""Batch runner: dedupe, cache, chunk, and map the pure extractor over worker processes.

The unit of work is :func:`stylebias.extract.core.extract_batch` on one chunk of unique responses; the runner
only decides *which* responses need extracting and *where*. Steps:

1. hash every response (text, and text + prompt for the prompt-aware detectors) and keep unique ones, so the
   AlpacaEval baseline answer repeated in every battle is extracted once;
2. look the hashes up in the on-disk cache (:mod:`.cache`);
3. extract the rest: serially, or - when the estimated work pays for the start-up (:func:`pool_pays`) - in
   ``jobs`` processes: this one and ``jobs - 1`` forked workers that inherit the loaded resources (and what
   this process learnt on the first answers), all taking chunks of about equal estimated cost from one
   queue, the workers from the big end, this process from the small end between collecting results. The
   extractor is a pure function and every value is put back by row, so the result is identical whatever
   ``jobs`` is and whatever order chunks finish in;
4. store new values in the cache and scatter values back to every input row.

Memory is bounded by one block (``block_size`` rows: their texts, keys and values) plus the output columns;
the pool pickles only the few chunks its workers are about to take.
"""

from __future__ import annotations

import hashlib
import os
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
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

#: most responses in one chunk handed to a worker (chunks are cut by estimated cost first, see below)
DEFAULT_CHUNK = 256
#: rows deduplicated, cached and scattered together; bounds the runner's own memory when streaming
DEFAULT_BLOCK = 50_000

# When is a process pool worth it, and how is the work cut? Extraction cost is close to linear in the
# response length; per family, CPU seconds per response (fixed part, per character), fitted on 4,500 real
# answers of the three bench corpora before extraction ran stage by stage over a batch (which made every
# family ~20 % cheaper; only ratios and orders of magnitude matter here: a wrong estimate costs a little
# speed, never a different value).
FAMILY_COST: dict[str, tuple[float, float]] = {
    "verbosity": (50e-6, 0.25e-6),
    "structure": (4e-6, 0.011e-6),
    "emoji": (4e-6, 0.006e-6),
    "flattery": (20e-6, 0.16e-6),
    "refusal": (110e-6, 0.22e-6),
    "tone": (35e-6, 0.11e-6),
}
#: wall seconds to fork the workers and get the first results back (measured: 10-20 ms for two workers)
POOL_START_SECONDS = 0.05
#: CPU the processes spend together, relative to a serial run of the same work (each learns what the others
#: learn too, and touching inherited memory copies pages; measured 1.0-1.1 on 4,000 real answers)
PARALLEL_CPU_FACTOR = 1.1
#: a pool is started only when it saves at least this much over the serial estimate
MIN_POOL_SAVING_SECONDS = 0.1
#: each chunk holds about this much estimated work (~80 typical answers): large enough that the hand-over
#: (pickling, pipes: ~0.2 ms) is noise and that extraction, which runs stage by stage over a chunk, keeps each
#: stage's tables in the CPU cache over many answers; small enough that the last chunks leave no worker idle
#: for long (they are handed out biggest first, see :func:`plan_chunks`)
CHUNK_SECONDS = 0.08
#: estimated work the parent does itself before it forks the pool (see ``_Extractor._extract``)
PRIME_SECONDS = 0.1
#: new cache values written per transaction
CACHE_BATCH = 2000


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


def _worker_init(names: list[str]) -> None:
    """Load heavy resources once per worker (tokenizer ranks, spaCy pipelines, lexicons)."""
    warm_up(names)
    _freeze_gc()


def _freeze_gc() -> None:
    """Move every object alive now (lexicons, dictionaries, pipelines: millions of them) out of the garbage
    collector's reach in this worker. Full collections then scan only what extraction allocates (measured:
    ~5% of extraction time went to re-scanning the resources), and a forked worker stops touching the pages
    it shares with its parent. Called in worker processes only, never in the caller's."""
    import gc

    gc.freeze()


def warm_up(features: str | list[str] | tuple[str, ...] | None = "full") -> None:
    """Build the lazily-loaded resources ``features`` need now (all by default), so that timing and
    first-chunk latency are predictable and forked workers inherit them instead of loading them each."""
    from .core import extract_one

    # "chatbot" is not in the CMU dictionary: it builds the hyphenation patterns too
    extract_one(
        "Warm up, chatbot. **Great** question!\n\n- I can't do that 😊", "hi", resolve_features(features)
    )


def estimate_seconds(names: Sequence[str], lengths: Sequence[int]) -> float:
    """Estimated serial CPU seconds to extract ``names`` from texts of these lengths (see :data:`FAMILY_COST`)."""
    fixed, per_char = _cost_coefficients(tuple(names))
    return fixed * len(lengths) + per_char * float(sum(lengths))


@lru_cache(maxsize=64)
def _cost_coefficients(names: tuple[str, ...]) -> tuple[float, float]:
    fams = {FEATURE_BY_NAME[n].family for n in names}
    if fams == {"verbosity", "structure"} and set(names) <= {
        "tokens",
        "header_count",
        "list_count",
        "bold_count",
    }:
        return 5e-6, 0.1e-6  # the lmarena counts only: a tokenizer pass and a few string scans
    fixed = sum(FAMILY_COST[f][0] for f in fams)
    return fixed, sum(FAMILY_COST[f][1] for f in fams)


def pool_pays(seconds: float, workers: int) -> bool:
    """Does a pool of ``workers`` processes finish ``seconds`` of serial work sooner, start-up included?

    Parallel time = start-up + the parent's priming share + the rest spread over ``workers`` processes,
    who spend :data:`PARALLEL_CPU_FACTOR` times the serial CPU on it.
    """
    if workers <= 1:
        return False
    prime = min(seconds, PRIME_SECONDS)
    parallel = POOL_START_SECONDS + prime + (seconds - prime) * PARALLEL_CPU_FACTOR / workers
    return seconds - parallel >= MIN_POOL_SAVING_SECONDS


def plan_chunks(costs: Sequence[float], max_items: int, target: float | None = None) -> list[list[int]]:
    """Cut positions ``0..n-1`` (in order) into chunks of about ``target`` estimated seconds (default
    :data:`CHUNK_SECONDS`, read when called) and at most ``max_items`` items, returned most expensive first.

    Dispatching the biggest chunks first (longest-processing-time order) means the last ones handed out
    are small, so no worker idles long at the end waiting for another one's slow answer; an answer that
    alone costs more than ``target`` gets a chunk of its own.
    """
    if target is None:
        target = CHUNK_SECONDS
    chunks: list[list[int]] = []
    totals: list[float] = []
    cur: list[int] = []
    acc = 0.0
    for i, c in enumerate(costs):
        if cur and (acc + c > target or len(cur) >= max_items):
            chunks.append(cur)
            totals.append(acc)
            cur, acc = [], 0.0
        cur.append(i)
        acc += c
    if cur:
        chunks.append(cur)
        totals.append(acc)
    order = sorted(range(len(chunks)), key=lambda k: (-totals[k], k))
    return [chunks[k] for k in order]


def _extract_chunk(args: tuple[list[str], list[str | None], list[str]]) -> dict[str, list[Any]]:
    texts, prompts, names = args
    return extract_batch(texts, prompts, names)


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity where the OS reports one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def resolve_jobs(jobs: int | None) -> int:
    """``None``/``0`` -> all cores; negative -> cores + 1 + jobs (like joblib); at least 1."""
    cores = available_cores()
    if not jobs:
        return cores
    if jobs < 0:
        return max(1, cores + 1 + jobs)
    return max(1, int(jobs))


class _Extractor:
    """Owns the worker pool and the cache for one extraction run; :meth:`run` handles one block of rows.

    The pool is created on the first block whose estimated work makes it pay (:func:`pool_pays`), and
    reused for the following blocks, so streaming a big file in blocks costs one pool start-up.
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
            # (warmed up here first, only those the features need), start in milliseconds and need no
            # ``if __name__ == "__main__"`` guard in the caller's script. Workers never print or touch the
            # cache, so locks held by the parent's threads (progress bars) are never needed in a child.
            if "fork" in mp.get_all_start_methods():
                warm_up(self.names)
                ctx = mp.get_context("fork")
                init: Any = _freeze_gc
                initargs: tuple[Any, ...] = ()
            else:  # Windows / macOS-spawn: fresh interpreters load the resources themselves
                ctx = mp.get_context("spawn")
                init, initargs = _worker_init, (self.names,)
            self.pool = ProcessPoolExecutor(
                max_workers=self.jobs - 1, mp_context=ctx, initializer=init, initargs=initargs
            )
        return self.pool

    def _extract(
        self, texts: list[str], prompts: list[str | None], todo: list[int]
    ) -> Iterator[tuple[list[int], dict[str, list[Any]]]]:
        """``(row positions, feature columns)`` for every response in ``todo``, chunk by chunk, in any order.

        Serial when one process is asked for or the estimated work does not pay for a pool; otherwise the
        chunks are shared between the workers and this process (see the module doc) and come back as they
        finish: a slow answer holds one process, the others keep taking chunks. Values never depend on the
        schedule: the extractor is pure.
        """
        names = self.names
        lengths = [len(texts[i]) for i in todo]
        if self.jobs <= 1 or not pool_pays(estimate_seconds(names, lengths), self.jobs):
            for s in range(0, len(todo), self.chunk):
                idx = todo[s : s + self.chunk]
                res = _extract_chunk(([texts[i] for i in idx], [prompts[i] for i in idx], names))
                self.advance(len(idx))
                yield idx, res
            return
        fixed, per_char = _cost_coefficients(tuple(names))
        costs = [fixed + per_char * n for n in lengths]
        if self.pool is None:
            # Before forking, extract the first answers here: the parent learns what the data needs learnt
            # (spaCy lexemes of its common words, hyphenations of the words the dictionary lacks), and every
            # worker inherits it instead of learning it again. Measured on 2,000 answers: the two workers
            # together then spend ~15 % less CPU.
            k, acc = 0, 0.0
            while k < len(todo) and acc < PRIME_SECONDS:
                acc += costs[k]
                k += 1
            if k:
                prime = todo[:k]
                res = _extract_chunk(([texts[i] for i in prime], [prompts[i] for i in prime], names))
                self.advance(len(prime))
                yield prime, res
                todo, costs = todo[k:], costs[k:]
        # The parent is one of the ``jobs`` processes: ``jobs - 1`` workers take chunks from the big end of
        # the queue (each with one more waiting, so none idles while the parent is busy), and the parent,
        # between collecting results, takes the small end itself. One process fewer to fork, feed and
        # teach, and the parent keeps what it has learnt.
        queue = deque(plan_chunks(costs, self.chunk))
        if not queue:
            return
        pool = self._get_pool()
        depth = 2 * (self.jobs - 1)
        pending: dict[Future[dict[str, list[Any]]], list[int]] = {}

        def work(part: list[int]) -> tuple[list[int], tuple[list[str], list[str | None], list[str]]]:
            idx = [todo[k] for k in part]
            return idx, ([texts[i] for i in idx], [prompts[i] for i in idx], names)

        while queue or pending:
            while queue and len(pending) < depth:
                idx, args = work(queue.popleft())
                pending[pool.submit(_extract_chunk, args)] = idx
            for fut in [f for f in pending if f.done()]:
                idx = pending.pop(fut)
                res = fut.result()
                self.advance(len(idx))
                yield idx, res
            if queue and len(pending) >= depth:
                idx, args = work(queue.pop())
                res = _extract_chunk(args)
                self.advance(len(idx))
                yield idx, res
            elif pending and not queue:
                wait(pending, return_when=FIRST_COMPLETED)

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

        # 3. extract what is missing, chunk by chunk (new values reach the cache in batches: one transaction
        # per few thousand values, not one per small chunk)
        new_items: list[tuple[str, dict[str, Any]]] = []
        for idx, part_res in self._extract(texts, prompts, todo):
            for j, i in enumerate(idx):
                row = {f: part_res[f][j] for f in names}
                values[row_keys[i]] = row
                if store is not None:
                    if plain_names:
                        new_items.append((tkeys[i], {f: row[f] for f in plain_names}))
                    if ctx_names:
                        new_items.append((ckeys[i], {f: row[f] for f in ctx_names}))
            if store is not None and len(new_items) >= CACHE_BATCH:
                store.put_many(new_items)
                new_items = []
        if store is not None:
            store.put_many(new_items)

        # 4. scatter back to every row
        out: dict[str, Any] = {}
        for f in names:
            col = [values[k][f] for k in row_keys]
            out[f] = _column(f, col)
        return pd.DataFrame(out, index=pd.RangeIndex(n), columns=names)


def _column(name: str, col: list[Any]) -> Any:
    """One feature's column: labels as objects, counts as int64, the rest as float64. Counts that are English
    measures (``flattery_count``) are float64 too: NaN where not applicable, whatever the block holds, so
    every block of a stream has the same dtypes."""
    feature = FEATURE_BY_NAME[name]
    if feature.kind == "label" or name == "refusal":
        return pd.Series(col, dtype=object)
    if feature.kind == "count" and not feature.english:
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
    index continues where the previous one stopped (row numbers of the whole stream). Arguments as in
    :func:`response_features`; a worker pool, once a block makes it pay, serves every later block.
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
        jobs: at most this many processes extract at once (this one included): ``1`` runs in this process
            only; ``None``/``0`` means one per core this process may use. A pool is started only when the estimated work (from the number and
            total length of the responses left after deduplication and the cache) finishes sooner with it,
            start-up included, so a small input runs serially whatever ``jobs`` says. Results never depend
            on it: serial and parallel frames are identical.
        cache: ``True`` (default folder), ``False`` (off) or a folder for the on-disk cache.
        chunk_size: at most this many responses per batch handed to a worker (batches are cut smaller, by
            estimated cost, so the workers finish together).
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
