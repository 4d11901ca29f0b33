"""``FitSettings``: every choice a rating fit makes, in one frozen object passed whole.

The CLI builds it from its options, ``StyleControl`` from its parameters, :mod:`.persist` from a saved
artifact (every ``style-bt`` artifact keeps it); :func:`stylebias.rating.fit.fit_design` consumes it. A new
rating option is added here and nowhere else. ``weights``: use the battles' ``weight`` column (Arena-Hard's
strong verdicts count 3) as frequency weights; ``baseline``: add the score against that model (win rate,
0-100, :mod:`stylebias.rating.baseline`) with the baseline on side B of every battle it plays; ``parity``:
compute that score as an upstream scorer does (:mod:`stylebias.rating.arena_hard`). ``features`` is the request (``"auto"``, a set, a family, a
comma list, names, or ``None`` for no style control: :func:`stylebias.extract.resolve_spec`); the
objective and intervals are documented on :class:`~stylebias.rating.StyleBT`; ``components`` on
:func:`~stylebias.rating.fit.component_policy`; ``n_jobs`` and ``cache`` never change a result.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from ..errors import UsageError
from .likelihood import TIES

#: What a disconnected comparison graph can become: one result per component, only the largest, or an error.
COMPONENT_POLICIES = ("split", "largest", "refuse")
#: Interval methods: the sandwich (robust) covariance or a Poisson bootstrap.
CI_METHODS = ("sandwich", "bootstrap")
#: Upstream scorers a baseline-anchored score can reproduce exactly (``stylebias.rating.arena_hard``).
PARITY_MODES = ("arena-hard-v0.1", "arena-hard-v2")
#: The feature set each upstream scorer controls for (its own normalisation of length and markdown).
PARITY_FEATURES = {"arena-hard-v0.1": "arena-hard-v0.1", "arena-hard-v2": "arena-hard"}


@dataclass(frozen=True)
class FitSettings:
    """Every setting of a rating fit (see the module docstring). Field order is the saved JSON order."""

    features: str | tuple[str, ...] | None = "auto"
    reg: float = 0.5
    ties: str = "half"
    ci: str = "sandwich"
    rounds: int = 100
    seed: int = 0
    n_jobs: int | None = None
    cache: bool | str = True
    min_battles: int = 1
    components: str = "split"
    level: float = 0.95
    scale: float = 400.0
    base: float = 1000.0
    anchor: tuple[str, float] | None = None
    weights: bool = True
    baseline: str | None = None
    parity: str | None = None

    def __post_init__(self) -> None:
        # lists (from JSON or a caller) become tuples so the object stays hashable and frozen in spirit
        if isinstance(self.features, list):
            object.__setattr__(self, "features", tuple(self.features))
        if isinstance(self.anchor, list):
            object.__setattr__(self, "anchor", (str(self.anchor[0]), float(self.anchor[1])))

    def replace(self, **changes: Any) -> FitSettings:
        """A copy with some fields changed; an unknown name is a :class:`UsageError`."""
        unknown = sorted(set(changes) - set(FIELDS))
        if unknown:
            raise UsageError(f"unknown fit setting(s): {', '.join(unknown)}")
        return dataclasses.replace(self, **changes)

    def portable(self) -> FitSettings:
        """These settings without the machine's resources (workers, cache), as a saved model keeps them, so
        an artifact never depends on how many cores fitted it."""
        return dataclasses.replace(self, n_jobs=None, cache=True)

    def check(self) -> FitSettings:
        """Raise :class:`UsageError` for a value no fit can use; returns ``self`` for chaining."""
        if not (isinstance(self.reg, int | float) and math.isfinite(self.reg) and self.reg >= 0):
            raise UsageError(f"reg must be a finite number >= 0, got {self.reg!r}")
        if self.ties not in TIES:
            raise UsageError(f"ties must be one of {', '.join(TIES)}, got {self.ties!r}")
        if self.ci not in CI_METHODS:
            raise UsageError(f"ci must be one of {', '.join(CI_METHODS)}, got {self.ci!r}")
        if self.ci == "bootstrap" and (not isinstance(self.rounds, int) or self.rounds < 2):
            raise UsageError(f"bootstrap needs rounds >= 2, got {self.rounds!r}")
        if not 0 < self.level < 1:
            raise UsageError(f"level must be in (0, 1), got {self.level!r}")
        if self.scale <= 0:
            raise UsageError(f"scale must be positive, got {self.scale!r}")
        if not isinstance(self.min_battles, int) or self.min_battles < 1:
            raise UsageError(f"min_battles must be an integer >= 1, got {self.min_battles!r}")
        check_components(self.components)
        if self.parity is not None and self.parity not in PARITY_MODES:
            raise UsageError(f"parity must be one of {', '.join(PARITY_MODES)}, got {self.parity!r}")
        if self.parity is not None and self.baseline is None:
            raise UsageError(
                "parity reproduces a baseline-anchored score: give the baseline (--baseline MODEL)"
            )
        return self

    def estimator_params(self) -> dict[str, Any]:
        """The :class:`~stylebias.rating.StyleBT` constructor arguments these settings imply."""
        return {k: getattr(self, k) for k in ESTIMATOR_FIELDS}

    def to_json(self) -> dict[str, Any]:
        """Plain JSON values (tuples as lists), in field order; :meth:`from_json` reads it back."""
        out = {}
        for name in FIELDS:
            v = getattr(self, name)
            out[name] = list(v) if isinstance(v, tuple) else v
        return out

    @classmethod
    def from_json(cls, raw: Any, where: str = "settings") -> FitSettings:
        """Settings from :meth:`to_json` output; a malformed value raises :class:`UsageError` naming it."""
        if not isinstance(raw, dict):
            raise UsageError(f"{where}: expected an object of fit settings")
        unknown = sorted(set(raw) - set(FIELDS))
        if unknown:
            raise UsageError(f"{where}: unknown field(s) {', '.join(unknown)}")
        return cls(**{**raw, "anchor": saved_anchor(raw.get("anchor"), where, UsageError)})


FIELDS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(FitSettings))
#: The fields :class:`~stylebias.rating.StyleBT` takes (the rest choose data, features and workers).
ESTIMATOR_FIELDS = ("reg", "ties", "ci", "rounds", "seed", "anchor", "n_jobs", "level", "scale", "base")


def saved_anchor(value: Any, where: str, error: type[Exception]) -> tuple[str, float] | None:
    """A saved ``[model, rating]`` anchor as ``(model, rating)`` (``None`` stays ``None``); ``error`` else."""
    if value is None:
        return None
    ok = isinstance(value, list | tuple) and len(value) == 2 and isinstance(value[0], str)
    if (
        not ok
        or isinstance(value[1], bool)
        or not isinstance(value[1], int | float)
        or not math.isfinite(value[1])
    ):
        raise error(f"{where}: field 'anchor' must be null or [model, rating]")
    return value[0], float(value[1])


def check_components(policy: str, allowed: tuple[str, ...] = COMPONENT_POLICIES) -> str:
    """``policy`` if it is one of ``allowed`` (one result object can hold one graph: no ``split``)."""
    if policy not in allowed:
        raise UsageError(f"components must be one of {', '.join(allowed)}, got {policy!r}")
    return policy
