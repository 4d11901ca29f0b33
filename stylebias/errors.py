"""Exceptions and warnings shared by every layer.

The CLI maps these to exit codes (``DataError`` -> 2, ``UsageError`` -> 1), so library code raises them
instead of printing or exiting. Messages name the file and the record whenever one is known.
"""

from __future__ import annotations

from typing import Any


class StyleBiasError(Exception):
    """Base class of every error stylebias raises on purpose."""


class UsageError(StyleBiasError):
    """The caller asked for something impossible (bad option, unknown format name, missing file)."""


class DataError(StyleBiasError):
    """The data cannot be used as asked (no usable battles, a disconnected graph we refuse to mix, ...)."""

    def __init__(self, message: str, *, file: str | None = None, record: int | str | None = None) -> None:
        where = ""
        if file is not None:
            where = f"{file}"
            if record is not None:
                where += f", record {record}"
            where += ": "
        super().__init__(where + message)
        self.file = file
        self.record = record

    @classmethod
    def for_battle(cls, message: str, battle: Any, position: int) -> DataError:
        """The error about one battle (a row of a battles frame, at ``position``), named by its source file and
        record as the loaders keep them (``row N`` when it has no record)."""
        file = battle.get("source_file")
        return cls(
            message,
            file=None if file is None else str(file),
            record=battle.get("source_record", f"row {position + 1}"),
        )


class ArtifactError(DataError):
    """A saved model file is missing, malformed, of another schema version, or fails validation."""


class StyleBiasWarning(UserWarning):
    """Something was dropped or adjusted and the user should know (zero-variance feature, perfect separation...)."""
