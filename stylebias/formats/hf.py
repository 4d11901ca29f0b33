"""``hf://owner/name[@revision][:split]``: load a dataset straight from the Hugging Face Hub.

For users with internet access. The dataset repository's data files (Parquet, JSON/JSONL, CSV, possibly
compressed) are downloaded with ``huggingface_hub`` into its usual cache, then read by the ordinary
loaders with format auto-detection, e.g. ``hf://lmarena-ai/arena-human-preference-140k`` or
``hf://lmsys/chatbot_arena_conversations:train``. Files that are not battle tables (an embeddings file next
to the votes, say) are skipped with a warning. Nothing here runs unless an ``hf://`` path is given, and the
package never downloads anything by itself. Install with ``pip install 'stylebias[hf]'``.

Split selection: with ``:split`` only files whose path names that split (``data/train-00000-of-00001.parquet``,
``train/0000.parquet``) are used; without it, the ``train`` files when the repository has some, else all.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

from ..errors import DataError, UsageError
from ._io import KNOWN_EXTS, split_ext

PREFIX = "hf://"
_SPEC = re.compile(r"^hf://(?P<repo>[\w.\-]+/[\w.\-]+)(?:@(?P<rev>[^:]+))?(?::(?P<split>[\w.\-]+))?/?$")


def is_hf(path: object) -> bool:
    return isinstance(path, str) and path.startswith(PREFIX)


def parse_spec(spec: str) -> tuple[str, str | None, str | None]:
    """``hf://owner/name@rev:split`` -> ``(owner/name, rev, split)``."""
    m = _SPEC.match(spec)
    if not m:
        raise UsageError(
            f"not a Hugging Face dataset path: {spec!r} (expected hf://owner/name[@revision][:split])"
        )
    return m["repo"], m["rev"], m["split"]


def _hub():  # noqa: ANN202 - the optional module
    try:
        import huggingface_hub
    except ImportError:
        raise UsageError(
            "hf:// paths need the optional Hugging Face client: pip install 'stylebias[hf]'"
        ) from None
    return huggingface_hub


def _list_files(repo: str, revision: str | None) -> list[str]:
    """Every file in the dataset repository at ``revision`` (network)."""
    hub = _hub()
    try:
        return list(hub.list_repo_files(repo, repo_type="dataset", revision=revision))
    except Exception as exc:  # noqa: BLE001 - network, auth and not-found errors all become one message
        raise DataError(f"cannot list the files of dataset {repo!r}: {exc}", file=f"{PREFIX}{repo}") from exc


def _download(repo: str, filename: str, revision: str | None) -> Path:
    """Download (or reuse from the cache) one file of the dataset repository (network)."""
    hub = _hub()
    try:
        return Path(hub.hf_hub_download(repo, filename, repo_type="dataset", revision=revision))
    except Exception as exc:  # noqa: BLE001
        raise DataError(f"cannot download {filename!r}: {exc}", file=f"{PREFIX}{repo}") from exc


def _split_of(name: str) -> set[str]:
    p = PurePosixPath(name)
    names = set(p.parts[:-1])
    names.add(p.name.split("-")[0].split(".")[0])
    return names


def data_files(files: list[str], split: str | None) -> list[str]:
    """The repository files that hold the requested split's data, sorted."""
    data = sorted(f for f in files if split_ext(PurePosixPath(f))[0] in KNOWN_EXTS and not f.startswith("."))  # type: ignore[arg-type]
    if split is not None:
        return [f for f in data if split in _split_of(f)]
    train = [f for f in data if "train" in _split_of(f)]
    return train or data


def resolve(spec: str) -> list[tuple[str, Path]]:
    """Download the data files behind ``spec``; ``(display name, local path)`` per file."""
    repo, revision, split = parse_spec(spec)
    files = data_files(_list_files(repo, revision), split)
    if not files:
        raise DataError(
            f"no data files{' for split ' + repr(split) if split else ''} in dataset {repo!r}", file=spec
        )
    where = f"{PREFIX}{repo}" + (f"@{revision}" if revision else "")
    return [(f"{where}/{name}", _download(repo, name, revision)) for name in files]
