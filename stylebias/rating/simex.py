"""Style effects and ratings corrected for the flattery and refusal detectors' measured error (MC-SIMEX).

The ``flattery`` and ``refusal`` pair features are differences of detector labels, and the detectors are right
only so often on answers they were not tuned on (``docs/features.md#detector-accuracy``). A covariate read with
error biases its own coefficient, mostly toward 0, and the ratings that control for it; how much depends on the
error *and* on how common the label is (a rare label's seen cases are mostly false when a small share of the
common ones is flagged), so the correction first checks that the measured error could have produced the labels
seen (:func:`check_consistent`) and refuses otherwise (measured on random or enriched replies, the error would
give the embedded demo more full refusals than its detectors find; the default measurement, stratified by what
the detectors say on benchmark answers, does describe it).

MC-SIMEX (Küchenhoff, Mwalili and Lesaffre, Biometrics 62, 2006: simulation-extrapolation for misclassified
categorical covariates) corrects for a known misclassification ``Pi`` (``Pi[i, j]`` = P(detector says ``j`` |
true label ``i``)): each side's label is drawn again through ``Pi`` to the power ``lambda`` for ``lambda`` in
:data:`POWERS` (``lambda`` more layers of the same error; real powers by eigen-decomposition), Bradley-Terry +
style is refitted ``replicates`` times per ``lambda``, and the quadratic in ``lambda`` through the mean estimates
(``lambda = 0`` is the fit as it is) is read at ``lambda = -1``, where no error is left. Every estimate is
extrapolated: each model's rating and each feature's coefficient per unit. Its variance is extrapolated the same
way from, per ``lambda``, the mean sandwich variance of the refits minus the variance across re-draws (Stefanski
and Cook, JASA 1995; Küchenhoff et al. section 4), which is what the intervals show.

The misclassification is drawn from its counts (:meth:`Misclassification.sample`) and the extrapolated values
combined over the draws as multiple imputation combines them, so the intervals carry how well the counts pin
the error down. What it assumes, said wherever the result is shown: the detectors' errors do not depend on the
vote given the true label, and they are as measured on the chosen hand-labelled replies
(``models/detectors/confusion.json``, or the user's own counts). The quadratic is an approximation whose own
error is not in the intervals: in simulation it recovers a common label's effect but only part of a strongly
attenuated rare one's (``bench/simex_validation.py``), which the notes say when the data's rates predict it.
"""

from __future__ import annotations

import dataclasses
import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd

from ..battles import BattleSet
from ..errors import DataError, StyleBiasWarning, UsageError
from ..progress import task, use_reporter
from .fit import Design, fit_design
from .result import RankResult, describe_settings
from .settings import FitSettings

#: the detector labels a misclassification is given for, in the order of its rows and columns; their codes in
#: the pair features are the positions (refusal none 0, partial 1, full 2; flattery no 0, yes 1)
DETECTOR_LEVELS: dict[str, tuple[str, ...]] = {
    "refusal": ("none", "partial", "full"),
    "flattery": ("no", "yes"),
}
#: detector outputs that are scores or counts, not labels (no confusion describes their error), by detector
NOT_CORRECTABLE = {"flattery_count": "flattery", "refusal_score": "refusal"}
#: the added-error levels: powers of the misclassification (1 = the measured error once more)
POWERS: tuple[float, ...] = (0.5, 1.0, 1.5, 2.0)
#: re-draws per power (per draw of the misclassification)
REPLICATES = 5
#: draws of the misclassification from its counts (rows Dirichlet with a Jeffreys prior), so the intervals carry
#: how well the counts pin it down; 0 uses the counts' point estimate and ignores that uncertainty
DRAWS = 10
#: which measurement of ``models/detectors/confusion.json`` is used unless another is asked for
DEFAULT_BASIS = "validation"
#: the shipped misclassification counts
CONFUSION_FILE = "confusion.json"


# ------------------------------------------------------------------------------------------- misclassification
@dataclass(frozen=True)
class Misclassification:
    """Per detector label, the row-normalised matrix ``P(detector says j | true label i)`` and the counts it
    came from; ``basis`` names the measurement (``held_out``, ``held_out:SOURCE``, or a file)."""

    matrices: dict[str, np.ndarray]
    counts: dict[str, np.ndarray]
    basis: str
    how: str
    #: a stratified measurement: per label, per stratum its population size and its sample's counts
    strata: dict[str, list[tuple[float, np.ndarray]]] | None = None

    def sample(
        self, rng: np.random.Generator, seen: dict[str, SeenLabels], tries: int = 100
    ) -> tuple[dict[str, np.ndarray], int]:
        """One draw of the matrices of the labels in ``seen`` from their counts (each row Dirichlet(counts +
        1/2)) among those that could have produced the ``seen`` label rates and have a real power; returns it
        and how many draws that took. A draw that cannot is drawn again, ``tries`` times at most."""
        out, used = {}, 0
        for n, labels in seen.items():
            for _ in range(tries):
                used += 1
                m = self._draw(n, rng)
                if not could_produce(m, labels):
                    continue
                try:
                    check_real_power(m)
                except UsageError:
                    continue
                out[n] = m
                break
            else:
                raise UsageError(
                    f"{self.basis} {n}: in {tries} draws from its counts none could have produced these labels "
                    "with a real power; the counts are too few for this data (draws=0 uses their point estimate)"
                )
        return out, used

    def _draw(self, name: str, rng: np.random.Generator) -> np.ndarray:
        """One matrix from the counts: each row Dirichlet(counts + 1/2); for a stratified measurement each
        stratum's (label, detector label) shares Dirichlet(counts + 1/2) over the detector labels it holds,
        weighted by its size (:func:`stratified_matrix`)."""
        if self.strata is None:
            return np.vstack([rng.dirichlet(row + 0.5) for row in self.counts[name]])
        return stratified_matrix(self.strata[name], lambda c: rng.dirichlet(c.ravel()).reshape(c.shape))

    def to_json(self) -> dict[str, Any]:
        return {
            "basis": self.basis,
            "how": self.how,
            "levels": {k: list(DETECTOR_LEVELS[k]) for k in self.matrices},
            "counts": {k: v.tolist() for k, v in self.counts.items()},
            "matrices": {k: v.tolist() for k, v in self.matrices.items()},
        }


def load_misclassification(basis: str | None = None, path: str | Path | None = None) -> Misclassification:
    """The misclassification of ``basis`` (``MEASUREMENT`` or ``MEASUREMENT:SOURCE``, e.g. ``held_out`` or
    ``loso:alpaca_eval_ae2``) from ``path`` (default: the shipped ``models/detectors/confusion.json``;
    a user's own file has the same shape). Counts are checked: every row needs replies, and the matrix needs a
    real power (see :func:`matrix_power`)."""
    from ..extract.detectors.detect import model_path

    file = Path(path) if path is not None else model_path() / CONFUSION_FILE
    try:
        doc = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"misclassification file {file} does not exist") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"{file}: not a readable JSON file ({exc})") from None
    measurements = doc.get("measurements") if isinstance(doc, dict) else None
    if not isinstance(measurements, dict) or not measurements:
        raise DataError(f"{file}: no 'measurements' object (see models/detectors/{CONFUSION_FILE})")
    basis = basis or (DEFAULT_BASIS if DEFAULT_BASIS in measurements else next(iter(measurements)))
    name, _, source = basis.partition(":")
    if name not in measurements:
        raise UsageError(f"misclassification {basis!r}: {file} has {', '.join(sorted(measurements))}")
    m = measurements[name]
    matrices, counts, strata = {}, {}, {}
    for label, levels in DETECTOR_LEVELS.items():
        entry = m.get(label) if isinstance(m, dict) else None
        if entry is None:
            continue
        if "by_stratum" in entry and not source:
            strata_m = _strata(entry["by_stratum"], m.get("strata", {}), levels, f"{file}: {basis} {label}")
            counts[label] = sum(c for _, c in strata_m)
            _counts(counts[label], levels, f"{file}: {basis} {label}")  # every label seen in the sample
            matrices[label] = stratified_matrix(strata_m, lambda c: c / c.sum())
            strata[label] = strata_m
            _check_power(matrices[label], basis, label, name)
            continue
        raw = entry.get("by_source", {}).get(source) if source else entry.get("pooled")
        if raw is None:
            known = ", ".join(sorted(entry.get("by_source", {})))
            raise UsageError(
                f"misclassification {basis!r}: no source {source!r} in {file} (sources: {known})"
            )
        c = _counts(raw, levels, f"{file}: {basis} {label}")
        counts[label], matrices[label] = c, c / c.sum(axis=1, keepdims=True)
        _check_power(matrices[label], basis, label, name)
    if not matrices:
        raise DataError(f"{file}: {basis} has neither a refusal nor a flattery entry")
    return Misclassification(
        matrices,
        counts,
        basis if path is None else f"{file} {basis}",
        str(m.get("how", "")),
        strata if strata else None,
    )


def check_real_power(matrix: np.ndarray, what: str = "confusion") -> None:
    """Refuse a misclassification with no real power over :data:`POWERS` (see :func:`matrix_power`)."""
    for power in (min(POWERS), max(POWERS)):
        matrix_power(matrix, power, what=what)


def _check_power(matrix: np.ndarray, basis: str, label: str, name: str) -> None:
    try:
        check_real_power(matrix, f"{basis} {label}")
    except UsageError as exc:  # typically one source's few replies: the pooled counts are steadier
        raise UsageError(f"{exc}; choose another measurement (e.g. the pooled {name})") from None


def _strata(by: Any, design: Any, levels: tuple[str, ...], where: str) -> list[tuple[float, np.ndarray]]:
    """Per stratum its population size (from the measurement's ``strata``) and its sample's counts."""
    if not isinstance(by, dict) or not by:
        raise DataError(f"{where}: 'by_stratum' must map each stratum to its counts")
    out = []
    for h, raw in by.items():
        size = design.get(h, {}).get("size") if isinstance(design, dict) else None
        if not isinstance(size, int | float) or size <= 0:
            raise DataError(f"{where}: stratum {h!r} has no population size in 'strata'")
        c = np.asarray(raw, dtype=np.float64)
        if c.shape != (len(levels), len(levels)) or not np.isfinite(c).all() or (c < 0).any():
            raise DataError(f"{where}: stratum {h!r} needs {len(levels)} x {len(levels)} counts >= 0")
        out.append((float(size), c))
    return out


def stratified_joint(strata: list[tuple[float, np.ndarray]], shares: Any) -> np.ndarray:
    """The population's (label, detector label) table from a stratified sample: each stratum's shares -
    ``shares(counts + 1/2)`` over the detector labels its sample holds, so a stratum of many answers whose few
    labelled ones show no error still allows some - weighted by its size. With ``shares`` the normalisation,
    the posterior mean (the point estimate); with a Dirichlet draw, one draw."""
    joint = np.zeros_like(strata[0][1])
    for size, c in strata:
        held, cells = posterior_cells(c)
        share = np.zeros_like(c)
        share[:, held] = shares(cells[:, held])
        joint += size * share
    return joint


def posterior_cells(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One stratum's (label, detector label) counts plus the Jeffreys 1/2 in the columns of the detector labels
    the stratum holds (one, when the stratum is defined by them), 0 elsewhere; and which columns those are."""
    held = counts.sum(axis=0) > 0
    return held, np.where(held[None, :], counts + 0.5, 0.0)


def stratified_matrix(strata: list[tuple[float, np.ndarray]], shares: Any) -> np.ndarray:
    """P(detector says j | label i) in the population (:func:`stratified_joint`, rows normalised)."""
    joint = stratified_joint(strata, shares)
    return joint / joint.sum(axis=1, keepdims=True)


def _counts(raw: Any, levels: tuple[str, ...], where: str) -> np.ndarray:
    """A square table of non-negative counts with replies in every row (the labels in ``levels`` order)."""
    try:
        c = np.asarray(raw, dtype=np.float64)
    except (TypeError, ValueError):
        raise DataError(f"{where}: counts must be a table of numbers, got {raw!r}") from None
    if c.shape != (len(levels), len(levels)):
        raise DataError(
            f"{where}: needs {len(levels)} x {len(levels)} counts ({', '.join(levels)}), got shape {c.shape}"
        )
    if not np.isfinite(c).all() or (c < 0).any():
        raise DataError(f"{where}: counts must be finite and >= 0")
    empty = [levels[i] for i in np.flatnonzero(c.sum(axis=1) == 0)]
    if empty:
        raise UsageError(
            f"{where}: no hand-labelled reply is {', '.join(empty)}, so how the detector treats one is unknown; "
            "choose a measurement with such replies (e.g. the pooled one)"
        )
    return c


def matrix_power(matrix: np.ndarray, power: float, *, what: str = "confusion") -> np.ndarray:
    """``matrix`` to a real power by eigen-decomposition, rows renormalised to sum to 1.

    Defined when the eigenvalues are real and positive (a confusion whose diagonal dominates); anything else is
    an error, not a guess: such a detector is wrong so often that no smaller error is a confusion of the same
    kind, and MC-SIMEX does not apply."""
    values, vectors = np.linalg.eig(matrix)
    if np.any(np.abs(values.imag) > 1e-9) or np.any(values.real <= 0):
        raise UsageError(f"{what}: eigenvalues {np.round(values, 4)}: no real power of it is a confusion")
    out = (vectors @ np.diag(values.real**power) @ np.linalg.inv(vectors)).real
    if out.min() < -1e-6:
        raise UsageError(f"{what} to the power {power} has negative entries: MC-SIMEX does not apply")
    out = out.clip(min=0.0)
    return out / out.sum(axis=1, keepdims=True)


@dataclass(frozen=True)
class SeenLabels:
    """The share of each label code among the ``n`` applicable labels of both sides."""

    rates: np.ndarray
    n: int

    def tolerance(self) -> np.ndarray:
        """Two standard errors of each rate (at least that of one label in ``n``): how far a true rate
        implied from these may fall below 0 by the chance of which responses were drawn."""
        p = np.maximum(self.rates, 1 / max(self.n, 1))
        return 2 * np.sqrt(p * (1 - p) / max(self.n, 1))


def seen_rates(a: np.ndarray, b: np.ndarray, levels: int) -> SeenLabels:
    """The labels seen on both sides (NaN, not applicable, skipped)."""
    codes = np.concatenate([a, b])
    codes = codes[np.isfinite(codes)].astype(np.int64)
    if codes.size == 0:
        return SeenLabels(np.eye(levels)[0], 0)
    return SeenLabels(np.bincount(codes, minlength=levels) / codes.size, int(codes.size))


def implied_true_rates(matrix: np.ndarray, rates: np.ndarray) -> np.ndarray:
    """The true label rates that ``matrix`` turns into the seen ``rates`` (``rates = true @ matrix``). A
    negative entry means no true rates could: the measured error alone gives more of that label than was seen."""
    return np.linalg.solve(matrix.T, rates)


def could_produce(matrix: np.ndarray, seen: SeenLabels) -> bool:
    """Whether some true label rates turn into ``seen`` through ``matrix``, up to the seen rates' chance."""
    return bool(np.all(implied_true_rates(matrix, seen.rates) >= -seen.tolerance()))


def _worst_level(matrix: np.ndarray, seen: SeenLabels) -> int:
    """The label whose implied true rate falls furthest below what chance allows."""
    return int(np.argmin(implied_true_rates(matrix, seen.rates) + seen.tolerance()))


def check_consistent(mis: Misclassification, name: str, seen: SeenLabels) -> None:
    """Refuse a misclassification that cannot have produced the labels seen here (see
    :func:`implied_true_rates`): correcting with it would treat real labels as errors."""
    if could_produce(mis.matrices[name], seen):
        return
    true = implied_true_rates(mis.matrices[name], seen.rates)
    j = _worst_level(mis.matrices[name], seen)
    level = DETECTOR_LEVELS[name][j]
    raise UsageError(
        f"{mis.basis}: its {name} error cannot have produced these labels: the detector says {name} {level!r} "
        f"for {seen.rates[j]:.2%} of these {seen.n:,} responses, fewer than its measured errors alone would give "
        "(true rates implied: "
        + ", ".join(f"{lv} {t:+.2%}" for lv, t in zip(DETECTOR_LEVELS[name], true, strict=True))
        + "). The measured error does not describe these responses; measure the detector on responses like "
        "these (--misclassification-file) or correct only the other detector (--correct)"
    )


def redraw(codes: np.ndarray, matrix: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Each finite code ``i`` replaced by a draw from row ``i`` of ``matrix``; NaN (not applicable) kept."""
    out = codes.copy()
    cumulative = matrix.cumsum(axis=1)
    for i in range(matrix.shape[0]):
        at = np.flatnonzero(codes == i)
        out[at] = np.searchsorted(cumulative[i], rng.random(at.size), side="right").clip(
            max=matrix.shape[0] - 1
        )
    return out


def extrapolate(powers: np.ndarray, values: np.ndarray, to: float = -1.0) -> np.ndarray:
    """The least-squares quadratic in ``powers`` through each column of ``values``, read at ``to``."""
    coefs = np.polyfit(np.asarray(powers, dtype=np.float64), values, 2)
    return coefs[0] * to**2 + coefs[1] * to + coefs[2]


# ------------------------------------------------------------------------------------------------ the result
@dataclass
class CorrectedRanking:
    """Ratings and per-unit style effects as fitted and corrected for detector error.

    ``effects``: one row per style feature (``name, detector, unit, fitted, corrected, low, high, ratio``: the
    log-odds per unit of the pair feature; ``detector`` marks the corrected ones; every feature is
    extrapolated, since correcting one moves the others). ``ratings``: one row per model of the rated part,
    best corrected first (``model, rating, corrected, low, high, shift, rank, rank_corrected``). ``curve``: the
    mean estimate at each power (``0`` = as fitted), per quantity, for a reader to see the trend extrapolated.
    ``naive``: the ordinary fit. ``notes``: what a reader must know (assumptions, intervals left out).
    """

    effects: pd.DataFrame
    ratings: pd.DataFrame
    curve: pd.DataFrame
    naive: RankResult
    misclassification: Misclassification
    settings: dict[str, Any]
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` document (plain values, 6 decimals, NaN as null: :mod:`stylebias.outputs`)."""
        from ..outputs import plain, records

        curve = self.curve.reset_index()
        return plain(
            {
                "settings": self.settings,
                "misclassification": self.misclassification.to_json(),
                "effects": records(self.effects, self.effects.columns),
                "ratings": records(self.ratings, self.ratings.columns),
                "curve": records(curve, curve.columns),
                "notes": list(self.notes),
                "data": dict(self.naive.data),
            },
            digits=6,
        )


ASSUMPTIONS = (
    "MC-SIMEX assumes the detectors' errors do not depend on the vote given the true label and are as measured "
    "on the hand-labelled replies of the chosen measurement; the quadratic extrapolation's own error is not in "
    "the intervals"
)


# -------------------------------------------------------------------------------------------------- the fit
def correct_detector_error(
    data: BattleSet,
    features: str | list[str] | tuple[str, ...] | pd.DataFrame = "style",
    *,
    misclassification: Misclassification | None = None,
    powers: tuple[float, ...] = POWERS,
    replicates: int = REPLICATES,
    draws: int = DRAWS,
    seed: int = 0,
    correct: list[str] | tuple[str, ...] | None = None,
    settings: FitSettings | None = None,
    **options: Any,
) -> CorrectedRanking:
    """Bradley-Terry + style on ``data`` with ``features``, and the same corrected for the flattery and refusal
    detectors' error by MC-SIMEX (module docstring). ``misclassification``: default the shipped ``validation``
    measurement (:func:`load_misclassification`); ``replicates`` re-draws per power in ``powers``, for each of
    ``draws`` draws of the misclassification from its counts; ``seed`` makes the re-draws reproducible;
    ``correct``: which detector labels to correct (default every one in the features; the others stay in the
    fit as they are). ``settings``/``options`` as for :func:`~stylebias.rating.rank_battles` (the
    intervals are sandwich ones: a bootstrap per re-draw would cost hundreds of fits)."""
    from .pipeline import prepare

    settings = (settings or FitSettings()).replace(**options)
    if not isinstance(features, pd.DataFrame):  # a precomputed table is checked against the labels below
        settings = settings.replace(features=features)
    _check(settings, powers, replicates, draws)
    mis = misclassification if misclassification is not None else load_misclassification()
    prep = prepare(data, features, settings)
    names = list(prep.feature_names)
    corrected = _corrected_features(names, mis, None if correct is None else tuple(correct))
    return simex_fit(
        prep.design,
        detector_sides(prep, corrected, settings),
        mis,
        settings,
        powers=powers,
        replicates=replicates,
        draws=draws,
        seed=seed,
        data=prep.data.accounting(),
        describe=describe_settings(settings, names, prep.feature_set),
    )


def simex_fit(
    design: Design,
    sides: dict[str, tuple[np.ndarray, np.ndarray]],
    mis: Misclassification,
    settings: FitSettings,
    *,
    powers: tuple[float, ...] = POWERS,
    replicates: int = REPLICATES,
    draws: int = DRAWS,
    seed: int = 0,
    data: dict[str, int] | None = None,
    describe: dict[str, Any] | None = None,
) -> CorrectedRanking:
    """MC-SIMEX on a fit's design whose detector columns are the pair values of ``sides`` (per feature, the
    label codes of side A and side B; see :func:`detector_sides`): the fit, ``replicates`` re-fits per power
    with both sides' labels re-drawn through the misclassification to that power, and the extrapolation."""
    _check(settings, powers, replicates, draws)
    naive = fit_design(design, settings, data=data, describe=describe)
    bt = naive.controlled
    fitted_names = list(bt.feature_names_)
    # a detector feature the fit dropped (constant or collinear here) is not in the model: nothing to correct
    corrected = [n for n in sides if n in fitted_names]
    if not corrected:
        raise UsageError(
            f"{', '.join(sides)}: constant or collinear in these battles, so not in the fit: nothing to correct"
        )
    sides = {n: sides[n] for n in corrected}
    if design.X is not None and list(design.X.columns) != fitted_names:
        design = dataclasses.replace(design, X=design.X[fitted_names])
    value0, var0 = _estimates(bt)
    # only the largest part is re-fitted (the others' ratings are not on its scale)
    rows = naive.battle_rows if naive.battle_rows is not None else np.arange(len(design))
    design = design.take(rows)
    sides = {n: (a[rows], b[rows]) for n, (a, b) in sides.items()}
    rng = np.random.default_rng(seed)
    lam = np.array([0.0, *powers])
    seen = {n: seen_rates(*sides[n], len(DETECTOR_LEVELS[n])) for n in corrected}
    for n in corrected:
        check_consistent(mis, n, seen[n])
    matrices = [mis.matrices] if draws == 0 else _draws(mis, seen, draws, rng)
    refit = _Refits(design, sides, settings, naive, fitted_names)
    total = len(matrices) * len(powers) * replicates
    with task("re-fitting with re-drawn detector labels (MC-SIMEX)", total) as advance:
        runs = [refit.curve(drawn, powers, replicates, (value0, var0), rng, advance) for drawn in matrices]
    if refit.warned:
        warnings.warn(
            f"{refit.warned} of {total} re-fits warned: {'; '.join(sorted(refit.messages)[:3])}",
            StyleBiasWarning,
            stacklevel=2,
        )
    curves = [means for means, _ in runs]
    thetas = [extrapolate(lam, means) for means, _ in runs]
    thetas_var = [extrapolate(lam, variances) for _, variances in runs]
    return _combined(naive, mis, settings, lam, curves, thetas, thetas_var, value0, {
        "powers": list(powers), "replicates": replicates, "misclassification_draws": draws, "seed": seed,
        "attenuation": {n: attenuation(mis.matrices[n], seen[n].rates) for n in corrected}})  # fmt: skip


def _combined(
    naive: RankResult,
    mis: Misclassification,
    settings: FitSettings,
    lam: np.ndarray,
    curves: list[np.ndarray],
    thetas: list[np.ndarray],
    thetas_var: list[np.ndarray],
    value0: np.ndarray,
    shown: dict[str, Any],
) -> CorrectedRanking:
    """The correction from each misclassification draw's extrapolated estimates and variances: their mean,
    the mean variance plus the spread over draws (multiple imputation's rule), the tables and the notes."""
    bt = naive.controlled
    fitted_names = list(bt.feature_names_)
    corrected = [n for n in DETECTOR_LEVELS if n in shown["attenuation"]]
    corr = np.mean(thetas, axis=0)
    var = np.mean(thetas_var, axis=0)
    if len(thetas) > 1:  # the misclassification's own uncertainty
        var = var + (1 + 1 / len(thetas)) * np.var(thetas, axis=0, ddof=1)
    labels = [*bt.models_, *fitted_names]
    notes = [ASSUMPTIONS, *_attenuation_notes(shown["attenuation"])]
    negative = [labels[i] for i in np.flatnonzero(~(var > 0))]
    if negative:
        notes.append(
            f"no interval for {', '.join(negative)}: the extrapolated variance is not positive (more re-draws, "
            "--replicates, make it steadier)"
        )
    if naive.parts:
        notes.append(
            f"only the largest connected part is corrected ({bt.n_models_} models); the others are not"
        )
    half = NormalDist().inv_cdf(0.5 + settings.level / 2) * np.sqrt(np.where(var > 0, var, np.nan))
    P = bt.n_models_
    settings_shown = {
        **naive.settings,
        "misclassification": mis.basis,
        **{k: shown[k] for k in ("powers", "replicates", "misclassification_draws", "seed")},
        "extrapolant": "quadratic, read at power -1",
        "corrected": corrected,
        "attenuation": shown["attenuation"],
    }
    return CorrectedRanking(
        _effect_table(bt, fitted_names, corrected, value0[P:], corr[P:], half[P:]),
        _rating_table(bt, corr[:P], half[:P]),
        pd.DataFrame(np.mean(curves, axis=0), index=pd.Index(lam, name="power"), columns=labels),
        naive,
        mis,
        settings_shown,
        notes,
    )


@dataclass
class _Refits:
    """The re-fits of one correction: the design, both sides' labels, the fit they start from, and the
    warnings the re-fits raised (summed up once, not one per re-fit)."""

    design: Design
    sides: dict[str, tuple[np.ndarray, np.ndarray]]
    settings: FitSettings
    naive: RankResult
    names: list[str]
    warned: int = 0
    messages: set[str] = field(default_factory=set)

    def curve(
        self,
        matrices: dict[str, np.ndarray],
        powers: tuple[float, ...],
        replicates: int,
        start: tuple[np.ndarray, np.ndarray],
        rng: np.random.Generator,
        advance: Any,
    ) -> tuple[np.ndarray, np.ndarray]:
        """For one misclassification: the mean estimates and the Stefanski-Cook variances at power 0 (the
        fit itself, ``start``) and at each of ``powers``, ``replicates`` re-draws each."""
        means, variances = [start[0]], [start[1]]
        for power in powers:
            powered = {n: matrix_power(m, power, what=f"power {power} of {n}") for n, m in matrices.items()}
            vals, vars_ = zip(*(self._one(powered, rng, advance) for _ in range(replicates)), strict=True)
            vals_a = np.asarray(vals)
            means.append(vals_a.mean(axis=0))
            # Stefanski-Cook: the refits' own variance less the variance the re-draws added
            variances.append(np.mean(vars_, axis=0) - vals_a.var(axis=0, ddof=1))
        return np.asarray(means), np.asarray(variances)

    def _one(self, matrices: dict[str, np.ndarray], rng: np.random.Generator, advance: Any) -> tuple:
        noisy = with_detector_columns(self.design.X, redraw_sides(self.sides, matrices, rng))
        # one bar for all the refits, not one each
        with use_reporter(None), warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            res = fit_design(
                dataclasses.replace(self.design, X=noisy), self.settings, raw=False, init=self.naive
            )
        self.warned += bool(caught)
        self.messages.update(str(w.message) for w in caught)
        _same_fit(res.controlled, self.naive.controlled, self.names)
        advance(1)
        return _estimates(res.controlled)


#: a correction needs most draws of the misclassification to be ones that could have produced the labels
MIN_CONSISTENT_SHARE = 0.5


def _draws(mis: Misclassification, seen: dict[str, SeenLabels], draws: int, rng: np.random.Generator) -> list:
    """``draws`` misclassifications drawn from the counts, each one that could have produced the ``seen`` rates;
    refused when most could not (the counts then do not pin the error down for this data)."""
    out, used = [], 0
    for _ in range(draws):
        m, k = mis.sample(rng, seen)
        out.append(m)
        used += k
    share = draws * len(seen) / used
    if share < MIN_CONSISTENT_SHARE:
        raise UsageError(
            f"{mis.basis}: only {share:.0%} of the misclassifications its counts allow could have produced "
            "these labels: for this data the counts cannot tell true labels from errors (measure the detector on "
            "responses like these, --misclassification-file, or correct only the other detector, --correct)"
        )
    return out


#: below this predicted attenuation the notes warn that the correction is conservative
ATTENUATED = 0.5


def attenuation(matrix: np.ndarray, seen: np.ndarray) -> float:
    """How far the misclassification alone shrinks an effect of this label at its ``seen`` rates (an array of
    label shares), in a linear
    model with the label alone: Cov(seen, true) / Var(seen), the true rates those the seen ones imply
    (clipped to a distribution). A rare label is shrunk most: a small false-positive rate then makes many of
    its seen cases false."""
    levels = np.arange(matrix.shape[0], dtype=np.float64)
    true = np.clip(implied_true_rates(matrix, seen), 0.0, None)
    true = true / true.sum() if true.sum() > 0 else seen
    joint = true[:, None] * matrix
    seen = joint.sum(axis=0)
    var = seen @ levels**2 - (seen @ levels) ** 2
    cov = levels @ joint @ levels - (true @ levels) * (seen @ levels)
    return float(cov / var) if var > 0 else 1.0


#: below this predicted attenuation the seen labels carry almost nothing of the true ones
NO_SIGNAL = 0.1


def _attenuation_notes(factors: dict[str, float]) -> list[str]:
    notes = []
    for n, a in factors.items():
        head = (f"at this data's {n} rates the measured error alone shrinks a {n} effect to about {a:.0%} of its "
                "size (linear approximation)")  # fmt: skip
        if a < NO_SIGNAL:
            notes.append(
                f"{head}: under that error the seen {n} labels carry almost nothing of the true ones, so neither "
                f"the fitted nor the corrected {n} effect says how large the true one is"
            )
        elif a < ATTENUATED:
            notes.append(
                f"{head}; MC-SIMEX undoes only part of so strong an attenuation (in simulation about half: "
                f"bench/simex_validation.py), so the corrected {n} effect is conservative: still biased toward 0, "
                "its interval too narrow"
            )
    return notes


def _check(settings: FitSettings, powers: tuple[float, ...], replicates: int, draws: int) -> None:
    settings.check()
    if settings.ci != "sandwich":
        raise UsageError("the detector-error correction has sandwich intervals only (ci='sandwich')")
    if settings.baseline is not None or settings.parity is not None:
        raise UsageError("the detector-error correction rates models by Bradley-Terry, without a baseline")
    if not isinstance(replicates, int) or replicates < 2:
        raise UsageError(
            f"replicates must be an integer >= 2 (the variance across re-draws needs two), got {replicates!r}"
        )
    if not isinstance(draws, int) or draws < 0 or draws == 1:
        raise UsageError(f"draws must be 0 (the point estimate) or an integer >= 2, got {draws!r}")
    if len(powers) < 2 or any(not (isinstance(p, int | float) and p > 0) for p in powers):
        raise UsageError(f"powers must be at least two numbers > 0, got {powers!r}")


def _corrected_features(
    names: list[str], mis: Misclassification, correct: tuple[str, ...] | None
) -> list[str]:
    """The detector labels among ``names`` to correct (``correct``: a subset, default all of them)."""
    present = [n for n in DETECTOR_LEVELS if n in names]
    if correct is None:
        corrected = present
    else:
        wrong = [c for c in correct if c not in present]
        if wrong:
            raise UsageError(
                f"cannot correct {', '.join(wrong)}: the features to correct are detector labels in the fit "
                f"({', '.join(present) or 'none here'})"
            )
        corrected = [n for n in present if n in correct]
    if not corrected:
        raise UsageError(
            f"none of the features ({', '.join(names) or 'none'}) comes from a detector: nothing to correct "
            "(use a set with flattery or refusal, e.g. style)"
        )
    bad = [n for n in names if NOT_CORRECTABLE.get(n) in corrected]
    if bad:
        raise UsageError(
            f"{', '.join(bad)}: a detector score, not a label, so no confusion describes its error; use a feature "
            "set whose detector features are the labels flattery and refusal (e.g. style)"
        )
    missing = [n for n in corrected if n not in mis.matrices]
    if missing:
        raise UsageError(f"the misclassification {mis.basis} has no {', '.join(missing)} entry")
    return corrected


def detector_sides(
    prep: Any, names: list[str], settings: FitSettings
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Each battle's label codes on side A and side B for the detector features ``names`` (NaN: not applicable),
    checked to rebuild the pair features the fit uses (a precomputed table that does not is an error)."""
    sides = _side_codes(prep.battles, names, settings)
    rebuilt = pair_columns(sides)
    for n in names:
        diff = np.flatnonzero(~np.isclose(rebuilt[n].to_numpy(), prep.design.X[n].to_numpy()))
        if diff.size:
            raise DataError(
                f"battle {int(diff[0]) + 1}: its {n} pair feature is not the difference of the detector's labels "
                f"of its two responses ({diff.size:,} battle(s) differ); correct features computed by stylebias"
            )
    return sides


def _side_codes(
    battles: pd.DataFrame, names: list[str], settings: FitSettings
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The detector labels ``names`` of both sides as codes (from the feature cache when the pair features
    were just computed)."""
    from ..extract.pairs import numeric_side
    from ..extract.runner import response_features

    prompts = battles["prompt"].tolist() if "prompt" in battles.columns else None
    jobs = 0 if settings.n_jobs is None else settings.n_jobs
    per_side = {
        side: response_features(
            battles[f"response_{side}"].tolist(), prompts, features=names, jobs=jobs, cache=settings.cache
        )  # fmt: skip
        for side in ("a", "b")
    }
    return {n: (numeric_side(per_side["a"][n], n), numeric_side(per_side["b"][n], n)) for n in names}


def pair_columns(codes: dict[str, tuple[np.ndarray, np.ndarray]]) -> pd.DataFrame:
    """The pair features from per-side codes, by the pair features' own rules (no warning: the battles that
    are not applicable were counted when the features were first built)."""
    from ..extract.pairs import no_difference_where_not_applicable, pair_values
    from ..extract.registry import FEATURE_BY_NAME

    out = pd.DataFrame({n: pair_values(a, b, FEATURE_BY_NAME[n].kind) for n, (a, b) in codes.items()})
    no_difference_where_not_applicable(out, warn=False)
    return out


def redraw_sides(
    sides: dict[str, tuple[np.ndarray, np.ndarray]], matrices: dict[str, np.ndarray], rng: np.random.Generator
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Both sides' label codes of each detector drawn again through its matrix (side A, then side B)."""
    return {n: (redraw(a, matrices[n], rng), redraw(b, matrices[n], rng)) for n, (a, b) in sides.items()}


def with_detector_columns(X: pd.DataFrame, codes: dict[str, tuple[np.ndarray, np.ndarray]]) -> pd.DataFrame:
    """A copy of the pair features ``X`` whose detector columns are the pair values of ``codes``."""
    out = X.copy()
    for n, col in pair_columns(codes).items():
        out[n] = col.to_numpy()
    return out


def _estimates(bt: Any) -> tuple[np.ndarray, np.ndarray]:
    """Ratings (Elo) and per-unit coefficients of a sandwich fit, and their variances."""
    z = NormalDist().inv_cdf(0.5 + bt.level / 2)
    se_r = (bt.rating_high_.to_numpy() - bt.rating_low_.to_numpy()) / (2 * z)
    scale = np.asarray(bt.feature_scale_, dtype=np.float64)
    per_unit = np.asarray(bt.coef_) / scale
    se_c = (np.asarray(bt.coef_high_) - np.asarray(bt.coef_low_)) / (2 * z) / scale
    return np.concatenate([bt.ratings_.to_numpy(), per_unit]), np.concatenate([se_r, se_c]) ** 2


def _same_fit(bt: Any, reference: Any, names: list[str]) -> None:
    if list(bt.models_) != list(reference.models_) or list(bt.feature_names_) != names:
        lost = sorted(set(names) - set(bt.feature_names_))
        raise DataError(
            "a re-drawn fit does not rate the same models and features as the fit itself"
            + (f" ({', '.join(lost)} left without variance)" if lost else "")
        )


def _rating_table(bt: Any, corrected: np.ndarray, half: np.ndarray) -> pd.DataFrame:
    df = pd.DataFrame(
        {
            "model": list(bt.models_),
            "rating": bt.ratings_.to_numpy(),
            "corrected": corrected,
            "low": corrected - half,
            "high": corrected + half,
        }
    )
    df["shift"] = df["corrected"] - df["rating"]
    df["rank"] = df["rating"].rank(ascending=False, method="min").astype(int)
    df["rank_corrected"] = df["corrected"].rank(ascending=False, method="min").astype(int)
    return df.sort_values(["corrected", "model"], ascending=[False, True]).reset_index(drop=True)


def _effect_table(
    bt: Any, names: list[str], corrected: list[str], fitted: np.ndarray, corr: np.ndarray, half: np.ndarray
) -> pd.DataFrame:
    from .support import unit

    df = pd.DataFrame(
        {
            "name": names,
            "detector": [n in corrected for n in names],
            "unit": [unit(n) for n in names],
            "fitted": fitted,
            "corrected": corr,
            "low": corr - half,
            "high": corr + half,
        }
    )
    df["ratio"] = np.where(
        df["fitted"] != 0, df["corrected"] / df["fitted"].where(df["fitted"] != 0, 1.0), np.nan
    )
    return df


# ------------------------------------------------------------------------------------- notes for a ranking
def add_detector_error_notes(prep: Any, result: RankResult, settings: FitSettings) -> None:
    """Add to each part of a ranking what a reader of its flattery and refusal effects must know about the
    detectors' measured error (the shipped default misclassification) at that part's label rates: that it
    could not have produced them, so the effect's size cannot be told; or how far it alone shrinks the effect
    when that is under half. Nothing otherwise, or when a part's fit has no detector label."""
    parts = [
        (p, [n for n in DETECTOR_LEVELS if n in p.controlled.feature_names_]) for p in result.all_parts()
    ]
    names = [n for n in DETECTOR_LEVELS if any(n in kept for _, kept in parts)]
    if not names:
        return
    mis = load_misclassification()
    sides = _side_codes(prep.battles, names, settings)
    for part, kept in parts:
        rows = part.battle_rows if part.battle_rows is not None else np.arange(len(prep.battles))
        for n in kept:
            note = _rank_note(
                n, mis, seen_rates(sides[n][0][rows], sides[n][1][rows], len(DETECTOR_LEVELS[n]))
            )
            if note:
                part.notes.append(note)


def _rank_note(n: str, mis: Misclassification, seen: SeenLabels) -> str | None:
    if not could_produce(mis.matrices[n], seen):
        j = _worst_level(mis.matrices[n], seen)
        return (
            f"the {n} effect's size cannot be told from these labels: the detectors' measured error ({mis.basis}) "
            f"alone would label more replies {n} {DETECTOR_LEVELS[n][j]!r} than are labelled so here "
            f"({seen.rates[j]:.2%}), so how many of these labels are real is unknown (stylebias detector-error "
            "says more)"
        )
    a = attenuation(mis.matrices[n], seen.rates)
    if a < NO_SIGNAL:
        return (
            f"the {n} effect's size can hardly be told from these labels: at these {n} rates the detectors' "
            f"measured error alone shrinks it to about {a:.0%} of its size (stylebias detector-error says more)"
        )
    if a < ATTENUATED:
        return (
            f"the {n} effect is likely shrunk toward 0: at these {n} rates the detectors' measured error alone "
            f"shrinks it to about {a:.0%} of its size (stylebias detector-error corrects for it)"
        )
    return None
