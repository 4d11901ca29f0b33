"""Save and load fitted models as plain files: JSON, LightGBM's text format and a Markdown model card.

Why not pickle: a pickle runs code when it is loaded, so a model file shared between teams would be an
executable. Every artifact here is data only. A saved model is a folder::

    NAME/
      artifact.json   {"stylebias_artifact": KIND, "schema_version": 1, "stylebias_version", "created",
                       "payload": {...}, "files": {"vote_model.txt": "<sha256>", ...}}
      MODEL_CARD.md   data, date, features, metrics (rendered from the ``card`` dict, also kept in JSON)
      *.txt           optional extra text files (LightGBM boosters), checked against their SHA-256

Loading validates the envelope (kind, schema version, hashes) and the caller validates the payload with
:func:`require` so a malformed or tampered file gives an :class:`~stylebias.errors.ArtifactError` that names
the file and the field, never a traceback from deep inside numpy or LightGBM.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ArtifactError

SCHEMA_VERSION = 1
ENVELOPE = "artifact.json"
CARD = "MODEL_CARD.md"
MAX_ARTIFACT_BYTES = 256 * 1024 * 1024  # a LightGBM text model of a few thousand trees is a few MB


@dataclass
class Artifact:
    """A loaded artifact: its kind, JSON payload, model card and verified extra files."""

    kind: str
    payload: dict[str, Any]
    card: dict[str, Any]
    path: Path
    files: dict[str, Path] = field(default_factory=dict)
    stylebias_version: str = ""
    created: str = ""

    def text(self, name: str) -> str:
        """Contents of an extra text file (already hash-checked at load)."""
        if name not in self.files:
            raise ArtifactError(f"artifact has no file {name!r}", file=str(self.path))
        return self.files[name].read_text(encoding="utf-8")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _json_safe(value: Any, where: str) -> Any:
    """Reject NaN/inf (JSON has no such numbers) and non-JSON types early, naming the field."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ArtifactError(f"cannot save non-finite number at {where}: {value!r}")
        return float(value)
    # numpy scalars
    if hasattr(value, "item"):
        return _json_safe(value.item(), where)
    raise ArtifactError(f"cannot save {type(value).__name__} at {where} as JSON")


def render_card(kind: str, card: dict[str, Any]) -> str:
    """A readable Markdown model card from the card dict (sections in insertion order)."""
    title = card.get("title", kind)
    lines = [f"# Model card: {title}", "", f"- kind: `{kind}`", f"- schema version: {SCHEMA_VERSION}"]
    for key, value in card.items():
        if key == "title":
            continue
        if isinstance(value, dict):
            lines += ["", f"## {key}", ""]
            lines += [f"- {k}: {v}" for k, v in value.items()]
        elif isinstance(value, list):
            lines += ["", f"## {key}", ""]
            lines += [f"- {v}" for v in value]
        else:
            lines += [f"- {key}: {value}"]
    return "\n".join(lines) + "\n"


def save_artifact(
    directory: str | Path,
    kind: str,
    payload: dict[str, Any],
    card: dict[str, Any],
    files: dict[str, str] | None = None,
) -> Path:
    """Write an artifact folder (created if needed; existing artifact files are replaced).

    ``files`` maps a plain file name (no folders) to its text content, e.g. LightGBM's ``model_to_string()``.
    """
    from . import __version__

    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    hashes: dict[str, str] = {}
    for name, text in (files or {}).items():
        if Path(name).name != name or name in (ENVELOPE, CARD) or not name:
            raise ArtifactError(f"bad artifact file name {name!r}")
        data = text.encode("utf-8")
        (out / name).write_bytes(data)
        hashes[name] = _sha256(data)
    envelope = {
        "stylebias_artifact": kind,
        "schema_version": SCHEMA_VERSION,
        "stylebias_version": __version__,
        "created": _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat(),
        "card": _json_safe(card, "card"),
        "payload": _json_safe(payload, "payload"),
        "files": hashes,
    }
    (out / ENVELOPE).write_text(json.dumps(envelope, indent=1, sort_keys=False) + "\n", encoding="utf-8")
    (out / CARD).write_text(render_card(kind, card), encoding="utf-8")
    return out


def resolve_artifact(name_or_path: str | Path) -> Path:
    """A folder path, or the name of a model shipped under ``models/`` (e.g. ``alpaca_eval_style``)."""
    p = Path(name_or_path)
    if p.is_dir():
        return p
    if p.is_file() and p.name == ENVELOPE:
        return p.parent
    from .resources import models_dir

    try:
        shipped = models_dir() / str(name_or_path)
    except FileNotFoundError:
        shipped = None
    if shipped is not None and shipped.is_dir():
        return shipped
    raise ArtifactError(f"no saved model at {str(name_or_path)!r} (not a folder, not a shipped model name)")


def load_artifact(name_or_path: str | Path, kind: str | tuple[str, ...] | None = None) -> Artifact:
    """Read and verify an artifact folder. Never executes code from the file.

    Raises:
        ArtifactError: missing/oversized/malformed JSON, wrong kind, unsupported schema version, an extra
            file missing or not matching its recorded SHA-256.
    """
    folder = resolve_artifact(name_or_path)
    env_path = folder / ENVELOPE
    if not env_path.is_file():
        raise ArtifactError(f"missing {ENVELOPE}", file=str(folder))
    if env_path.stat().st_size > MAX_ARTIFACT_BYTES:
        raise ArtifactError(f"{ENVELOPE} is larger than {MAX_ARTIFACT_BYTES:,} bytes", file=str(env_path))
    try:
        env = json.loads(
            env_path.read_text(encoding="utf-8"), parse_constant=_reject_constant, parse_float=_finite_float
        )
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError) as exc:
        raise ArtifactError(f"not valid JSON: {exc}", file=str(env_path)) from None
    if not isinstance(env, dict) or "stylebias_artifact" not in env:
        raise ArtifactError("not a stylebias artifact (no 'stylebias_artifact' key)", file=str(env_path))
    got_kind = env["stylebias_artifact"]
    kinds = (kind,) if isinstance(kind, str) else kind
    if kinds is not None and got_kind not in kinds:
        raise ArtifactError(
            f"artifact is a {got_kind!r}, expected {' or '.join(map(repr, kinds))}", file=str(env_path)
        )
    version = env.get("schema_version")
    if version != SCHEMA_VERSION:
        raise ArtifactError(
            f"schema_version {version!r} is not supported (this stylebias reads version {SCHEMA_VERSION})",
            file=str(env_path),
        )
    payload = env.get("payload")
    card = env.get("card", {})
    files = env.get("files", {})
    if not isinstance(payload, dict) or not isinstance(card, dict) or not isinstance(files, dict):
        raise ArtifactError("'payload', 'card' and 'files' must be JSON objects", file=str(env_path))
    checked: dict[str, Path] = {}
    for name, digest in files.items():
        path = folder / str(name)
        if Path(str(name)).name != name or not path.is_file():
            raise ArtifactError(f"listed file {name!r} is missing", file=str(folder))
        if path.stat().st_size > MAX_ARTIFACT_BYTES:
            raise ArtifactError(f"{name} is larger than {MAX_ARTIFACT_BYTES:,} bytes", file=str(folder))
        if _sha256(path.read_bytes()) != digest:
            raise ArtifactError(
                f"{name} does not match its recorded SHA-256 (edited or corrupted)", file=str(folder)
            )
        checked[str(name)] = path
    return Artifact(
        kind=str(got_kind),
        payload=payload,
        card=card,
        path=folder,
        files=checked,
        stylebias_version=str(env.get("stylebias_version", "")),
        created=str(env.get("created", "")),
    )


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-finite number {name} is not allowed")


def _finite_float(text: str) -> float:
    """``1e400`` is valid JSON but parses to ``inf``: refuse it like the ``Infinity`` literal."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"non-finite number {text} is not allowed")
    return value


_TYPES: dict[str, tuple[type, ...]] = {
    "str": (str,),
    "int": (int,),
    "float": (int, float),
    "bool": (bool,),
    "list": (list,),
    "dict": (dict,),
    "list[str]": (list,),
    "list[float]": (list,),
    "dict[str,float]": (dict,),
}


def require(payload: dict[str, Any], schema: dict[str, str], where: str = "payload") -> None:
    """Check that ``payload`` has each key of ``schema`` with the named type (see ``_TYPES``).

    Element types of ``list[str]``, ``list[float]`` and ``dict[str,float]`` are checked too, and floats
    must be finite. Raises :class:`ArtifactError` naming the first bad field.
    """
    for key, tname in schema.items():
        if key not in payload:
            raise ArtifactError(f"{where}: missing field {key!r}")
        value = payload[key]
        ok = isinstance(value, _TYPES[tname]) and not (tname in ("int", "float") and isinstance(value, bool))
        if ok and tname == "list[str]":
            ok = all(isinstance(v, str) for v in value)
        elif ok and tname == "list[float]":
            ok = all(_finite(v) for v in value)
        elif ok and tname == "dict[str,float]":
            ok = all(isinstance(k, str) and _finite(v) for k, v in value.items())
        elif ok and tname == "float":
            ok = _finite(value)
        if not ok:
            raise ArtifactError(f"{where}: field {key!r} must be {tname}, got {type(value).__name__}")


def _finite(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
