"""The Dask adapter: a client for ``--dask ADDRESS|local[:N]``, and :class:`DaskEngine`.

This is the only module that imports Dask. Everything it runs on the workers is a plain function of
:mod:`stylebias.rating.chunks` or :mod:`stylebias.cluster.files` (a chunk in, a small result out), so a
Spark or Ray adapter is another class with the same three methods (:class:`stylebias.rating.partitioned.
Engine`). Results are added up on the workers in a fixed tree, so a sum does not depend on which worker
finished first.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from ..errors import UsageError
from ..rating.chunks import chunk_of

#: How to get Dask when it is missing (the one extra step for a cluster user).
INSTALL_HINT = "pip install 'stylebias[dask]'"
#: Partial sums added per task of the reduction tree.
FAN_IN = 8


def dask_client() -> Any:
    """``distributed.Client``, or a :class:`UsageError` saying how to install it."""
    try:
        from distributed import Client
    except ImportError as exc:
        raise UsageError(f"--dask needs Dask (not installed): {INSTALL_HINT}") from exc
    return Client


def parse_address(address: str) -> tuple[str, int | None]:
    """``"local"`` / ``"local:N"`` -> ``("local", N or None)``; anything else is a scheduler address."""
    text = address.strip()
    if text == "local" or text.startswith("local:"):
        _, _, n = text.partition(":")
        if not n:
            return "local", None
        if not n.isdigit() or int(n) < 1:
            raise UsageError(f"--dask local:N needs a positive number of workers, got {address!r}")
        return "local", int(n)
    if not text:
        raise UsageError("--dask needs a scheduler address (tcp://host:8786) or local[:N]")
    return text, None


@contextlib.contextmanager
def connect(address: Any) -> Iterator[Any]:
    """A Dask client for ``address``: an existing ``Client`` (left open), a scheduler address, or
    ``local[:N]`` = a cluster of N single-threaded worker processes on this machine (N = cores), closed
    on exit. Single-threaded workers because extraction is pure Python (threads would share one core)."""
    client_cls = dask_client()
    if isinstance(address, client_cls):
        yield address
        return
    if not isinstance(address, str):
        raise UsageError(
            f"dask must be an address string or a distributed.Client, not {type(address).__name__}"
        )
    where, n = parse_address(address)
    if where != "local":
        client = client_cls(where, timeout="30s")
        try:
            yield client
        finally:
            client.close()
        return
    from distributed import LocalCluster

    cluster = LocalCluster(
        n_workers=n or os.cpu_count() or 1,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        # the scheduler's health/metrics server on a free port: no warning when 8787 is taken
        scheduler_kwargs={"dashboard_address": ":0"},
        silence_logs=logging.ERROR,
    )
    client = client_cls(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def _apply(fn: Callable[..., Any], source: Any, *args: Any) -> Any:
    """On a worker: make the partition's chunk (a function of the source) and run ``fn`` on it."""
    return fn(chunk_of(source() if callable(source) else source), *args)


class DaskEngine:
    """Partitions on a Dask cluster (:class:`stylebias.rating.partitioned.Engine`).

    ``parts`` are, per partition, either a future of a chunk already on a worker (kept there between
    passes; Dask spills it to disk under memory pressure) or a picklable function that makes the chunk,
    called on a worker at every pass and never kept (memory per worker stays one chunk).
    """

    def __init__(self, client: Any, parts: Sequence[Any]) -> None:
        self.client = client
        self.parts = list(parts)

    def __len__(self) -> int:
        return len(self.parts)

    def _submit(self, fn: Callable[..., Any], args: tuple[Any, ...], per_part: Any) -> list[Any]:
        futures = []
        for i, part in enumerate(self.parts):
            extra = tuple(per_part[i]) if per_part else ()
            futures.append(self.client.submit(_apply, fn, part, *args, *extra, pure=False))
        return futures

    def map(
        self, fn: Callable[..., Any], *args: Any, per_part: Sequence[tuple[Any, ...]] | None = None
    ) -> list[Any]:
        return self.client.gather(self._submit(fn, args, per_part))

    def reduce(
        self,
        fn: Callable[..., Any],
        combine: Callable[..., Any],
        *args: Any,
        per_part: Sequence[tuple[Any, ...]] | None = None,
    ) -> Any:
        futures = self._submit(fn, args, per_part)
        while len(futures) > 1:
            futures = [
                self.client.submit(combine, *futures[i : i + FAN_IN], pure=False)
                for i in range(0, len(futures), FAN_IN)
            ]
        return futures[0].result()


def run_all(
    client: Any, fn: Callable[..., Any], calls: Sequence[tuple[Any, ...]], description: str
) -> list[Any]:
    """``[fn(*args) for args in calls]`` on the workers, in order, with a progress bar over the calls."""
    return gathered(client, [client.submit(fn, *args, pure=False) for args in calls], description)


def gathered(client: Any, futures: list[Any], description: str) -> list[Any]:
    """The futures' results in order, with a progress bar advancing as each finishes."""
    from distributed import as_completed

    from ..progress import task

    with task(description, total=len(futures)) as advance:
        for _ in as_completed(futures):
            advance(1)
    return client.gather(futures)
