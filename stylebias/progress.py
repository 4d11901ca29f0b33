"""Progress reporting that keeps the library quiet and lets the CLI draw bars.

Library code wraps long loops in :func:`task`; by default that costs nothing and prints nothing. The CLI
installs a reporter (rich progress bars) with :func:`use_reporter` for the duration of one command. The
reporter lives in a :class:`contextvars.ContextVar`, so threads and nested calls never see each other's bars.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterable, Iterator
from typing import Protocol, TypeVar

T = TypeVar("T")


class Reporter(Protocol):
    """Anything that can open a progress task: returns (advance(n), close())."""

    def open(
        self, description: str, total: float | None
    ) -> tuple[Callable[[float], None], Callable[[], None]]: ...


_reporter: contextvars.ContextVar[Reporter | None] = contextvars.ContextVar(
    "stylebias_reporter", default=None
)


def _noop(_: float = 1) -> None:
    return None


@contextlib.contextmanager
def use_reporter(reporter: Reporter | None) -> Iterator[None]:
    """Route every :func:`task` opened inside the block to ``reporter`` (``None`` silences them)."""
    token = _reporter.set(reporter)
    try:
        yield
    finally:
        _reporter.reset(token)


@contextlib.contextmanager
def task(description: str, total: float | None = None) -> Iterator[Callable[[float], None]]:
    """Open one progress task; yields ``advance(n)``. A no-op unless a reporter is installed."""
    reporter = _reporter.get()
    if reporter is None:
        yield _noop
        return
    advance, close = reporter.open(description, total)
    try:
        yield advance
    finally:
        close()


def track(iterable: Iterable[T], description: str, total: float | None = None) -> Iterator[T]:
    """Iterate while advancing a progress task by one per item."""
    if total is None and hasattr(iterable, "__len__"):
        total = len(iterable)  # type: ignore[arg-type]
    with task(description, total) as advance:
        for item in iterable:
            yield item
            advance(1)
