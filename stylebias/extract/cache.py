"""On-disk feature cache: SQLite rows of JSON, keyed by a hash of (extractor version, patterns, text, prompt).

Re-running on the same data costs one indexed lookup per response instead of an extraction. The format is
deliberately boring and safe (no pickle): a ``features`` table with ``key TEXT PRIMARY KEY, value TEXT`` where
``value`` is a JSON object ``{feature: value}``. On one machine the extracting process touches the file, its
pool workers never do; with ``--dask`` several worker processes of one machine share it, so opening waits for a
lock another opener holds (SQLite's busy timeout, and a bounded retry for the one statement it does not cover).

Location: ``$STYLEBIAS_CACHE_DIR`` or ``~/.cache/stylebias``; pass ``cache=False`` to skip it entirely or a
path to use another folder (tests use temporary folders).
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

_BATCH = 500
#: how long opening a cache waits for other processes that are creating or opening the same file
OPEN_TIMEOUT_S = 30.0


def default_cache_dir() -> Path:
    """``$STYLEBIAS_CACHE_DIR`` if set, else ``~/.cache/stylebias``."""
    env = os.environ.get("STYLEBIAS_CACHE_DIR")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "stylebias"


def resolve_cache_dir(cache: bool | str | os.PathLike[str] | None) -> Path | None:
    """``None`` when caching is off, else the folder to use."""
    if cache is None or cache is False:
        return None
    if cache is True:
        return default_cache_dir()
    return Path(cache).expanduser()


class FeatureCache:
    """A tiny key -> JSON-dict store in one SQLite file (``features.sqlite`` inside the cache folder)."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / "features.sqlite"
        self._db = sqlite3.connect(str(self.path), timeout=OPEN_TIMEOUT_S)
        self._prepare()

    def _prepare(self) -> None:
        """WAL mode and the table. Switching to WAL needs an exclusive lock, and SQLite answers "database is
        locked" at once, without its busy timeout, when two processes open a new file together (Dask workers of
        one machine); WAL is a property of the file, so only the first opener switches and the others retry."""
        deadline = time.monotonic() + OPEN_TIMEOUT_S
        while True:
            try:
                if self._db.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                    self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=NORMAL")
                self._db.execute(
                    "CREATE TABLE IF NOT EXISTS features (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
                )
                self._db.commit()
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    self._db.close()
                    raise
                time.sleep(0.05)

    def get_many(self, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Stored values for the keys that are present (unreadable rows are treated as missing)."""
        keys = list(dict.fromkeys(keys))
        out: dict[str, dict[str, Any]] = {}
        for i in range(0, len(keys), _BATCH):
            part = keys[i : i + _BATCH]
            q = f"SELECT key, value FROM features WHERE key IN ({','.join('?' * len(part))})"
            for key, value in self._db.execute(q, part):
                try:
                    obj = json.loads(value)
                except ValueError:
                    continue
                if isinstance(obj, dict):
                    if None in obj.values():  # a not-applicable feature (NaN) is stored as null
                        obj = {k: math.nan if v is None else v for k, v in obj.items()}
                    out[key] = obj
        return out

    def put_many(self, items: Iterable[tuple[str, dict[str, Any]]]) -> None:
        """Insert or merge values (new feature names are added to what a key already has)."""
        items = list(items)
        if not items:
            return
        existing = self.get_many(k for k, _ in items)
        rows = []
        for key, value in items:
            merged = {k: None if v != v else v for k, v in {**existing.get(key, {}), **value}.items()}  # NaN
            rows.append((key, json.dumps(merged, allow_nan=False, separators=(",", ":"))))
        with self._db:
            self._db.executemany("INSERT OR REPLACE INTO features (key, value) VALUES (?, ?)", rows)

    def __len__(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM features").fetchone()[0])

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> FeatureCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
