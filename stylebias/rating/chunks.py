"""A fit's work on one partition of the battles: plain functions over a pandas chunk, for any engine.

A *chunk* is a :class:`pandas.DataFrame` of some battles in input order: ``model_a``, ``model_b``,
``pref_a``, an optional ``weight`` (frequency weight) and one column per raw pair feature. Every function
here takes a chunk and small arguments and returns a small result whose parts are sums over the chunk's rows,
so an engine (Dask, Spark, Ray, or a loop) only has to run them where the data is and add the results up;
:mod:`stylebias.rating.partitioned` is the client that does the adding and takes the Newton steps.

The likelihood is not restated here: :func:`evaluate_chunk` builds the chunk's
:class:`~stylebias.rating.solver.Problem` (the same class the in-memory fit uses, over the model index and
standardisation the client decided) and asks it for its unpenalised share (``loss``, ``data_gradient``,
``data_hessian``, the sandwich's ``score_moment``). The client adds the penalty once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError
from .design import Moments
from .intervals import replicate_weights_at, score_moment
from .likelihood import tie_model
from .solver import LN10, PairLayout, Problem

#: The columns every chunk has (plus ``weight`` optionally and the feature columns).
CHUNK_COLUMNS = ("model_a", "model_b", "pref_a")
WEIGHT = "weight"

#: What :func:`evaluate_chunk` can be asked for at a parameter vector (see :func:`result_size`).
KINDS = ("derivatives", "loss", "scores", "sides", "support", "cross")


def check_chunk(chunk: pd.DataFrame, features: Sequence[str]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Raise :class:`DataError` for a chunk no fit can use: a missing column or model name, a self-battle,
    a vote share outside [0, 1], a bad weight, a feature value that is not finite. Callers that know the
    file and record of each row check before (``stylebias.rating.pipeline.check_finite``); this is the
    last line for chunks built elsewhere, and names the row of the chunk.

    Returns the rows' model codes ``(a, b)`` into the chunk's models (sorted by name).
    """
    missing = [c for c in (*CHUNK_COLUMNS, *features) if c not in chunk.columns]
    if missing:
        raise DataError(f"partition lacks column(s) {', '.join(missing)}")

    def fail(mask: np.ndarray, what: str) -> None:
        if mask.any():
            i = int(np.flatnonzero(mask)[0])
            raise DataError(f"{what} in row {i + 1} of this partition ({int(mask.sum()):,} such rows)")

    a, a_names = _codes(chunk["model_a"])
    b, b_names = _codes(chunk["model_b"])
    fail((a < 0) | (b < 0), "missing model name")
    models = sorted(set(a_names) | set(b_names))
    index = pd.Index(models)
    a = index.get_indexer(a_names)[a] if len(a_names) else a
    b = index.get_indexer(b_names)[b] if len(b_names) else b
    fail(a == b, "self-battle (a model against itself)")
    y = chunk["pref_a"].to_numpy(dtype=np.float64)
    fail(~np.isfinite(y) | (y < 0) | (y > 1), "pref_a outside [0, 1]")
    if WEIGHT in chunk.columns:
        w = chunk[WEIGHT].to_numpy(dtype=np.float64)
        fail(~np.isfinite(w) | (w < 0), "weight not finite and >= 0")
    for f in features:
        fail(~np.isfinite(chunk[f].to_numpy(dtype=np.float64)), f"style feature {f!r} not finite")
    return a, b, models


def _codes(values: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Codes of the values (-1 for a missing one) and the names they index (hashing, no sort of rows)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return values.cat.codes.to_numpy().astype(np.int64), [str(c) for c in values.cat.categories]
    codes, uniques = pd.factorize(values)
    return codes.astype(np.int64), [str(u) for u in uniques]


@dataclass(frozen=True)
class ChunkSummary:
    """The first pass over a chunk: its (pair, outcome) cells and its feature moments.

    ``cells`` has one row per distinct ``(a, b, pref_a)`` with ``n`` battles and summed weight ``w``, where
    ``a``/``b`` index ``models`` (the chunk's models, sorted): at most three rows per pair with win/tie/loss
    votes. It is what the model index, thin models, graph components, battle counts and the plain
    (style-free) fit need, and where each partition's battles of each pair sit in the fit's order (for the
    bootstrap draws).
    """

    models: list[str]
    cells: pd.DataFrame
    moments: Moments | None
    rows: int
    weighted: bool


def summarise_chunk(chunk: pd.DataFrame, features: Sequence[str]) -> ChunkSummary:
    """Check the chunk and summarise it (see :class:`ChunkSummary`)."""
    features = list(features)
    a, b, models = check_chunk(chunk, features)
    weighted = WEIGHT in chunk.columns
    w = chunk[WEIGHT].to_numpy(dtype=np.float64) if weighted else np.ones(len(chunk))
    frame = pd.DataFrame(
        {"key": a * max(len(models), 1) + b, "pref_a": chunk["pref_a"].to_numpy(dtype=np.float64)}
    )
    frame["w"] = w
    cells = frame.groupby(["key", "pref_a"], sort=True)["w"].agg(["size", "sum"]).reset_index()
    key = cells["key"].to_numpy()
    cells = pd.DataFrame(
        {
            "a": (key // max(len(models), 1)).astype(np.int32),
            "b": (key % max(len(models), 1)).astype(np.int32),
            "pref_a": cells["pref_a"].to_numpy(),
            "n": cells["size"].to_numpy(dtype=np.float64),
            "w": cells["sum"].to_numpy(dtype=np.float64),
        }
    )
    moments = None
    if features:
        X = chunk[features].to_numpy(dtype=np.float64)
        moments = Moments.of(X, w if weighted else None)
    return ChunkSummary(models, cells, moments, len(chunk), weighted)


def combine_summaries(*parts: ChunkSummary) -> ChunkSummary:
    """The summary of the partitions' battles together (in any grouping: an engine adds them in a tree)."""
    models = sorted(set().union(*(p.models for p in parts)))
    index = pd.Index(models)
    M = max(len(models), 1)
    frames = []
    moments = None
    for p in parts:
        if len(p.cells):
            to_all = index.get_indexer(p.models).astype(np.int64)
            key = to_all[p.cells["a"].to_numpy()] * M + to_all[p.cells["b"].to_numpy()]
            frames.append(
                pd.DataFrame({"key": key, "pref_a": p.cells["pref_a"], "n": p.cells["n"], "w": p.cells["w"]})
            )
        if p.moments is not None:
            moments = p.moments if moments is None else moments.combine(p.moments)
    if frames:
        cells = (
            pd.concat(frames, ignore_index=True)
            .groupby(["key", "pref_a"], sort=True)[["n", "w"]]
            .sum()
            .reset_index()
        )
        key = cells["key"].to_numpy()
    else:
        cells, key = pd.DataFrame({"pref_a": [], "n": [], "w": []}), np.zeros(0, dtype=np.int64)
    cells = pd.DataFrame(
        {
            "a": (key // M).astype(np.int32),
            "b": (key % M).astype(np.int32),
            "pref_a": cells["pref_a"].to_numpy(dtype=np.float64),
            "n": cells["n"].to_numpy(dtype=np.float64),
            "w": cells["w"].to_numpy(dtype=np.float64),
        }
    )
    return ChunkSummary(models, cells, moments, sum(p.rows for p in parts), any(p.weighted for p in parts))


def add_arrays(*parts: np.ndarray) -> np.ndarray:
    """The sum of partitions' array results (what an engine's tree adds)."""
    total = parts[0]
    for p in parts[1:]:
        total = total + p
    return total


@dataclass(frozen=True)
class PartSpec:
    """What every partition needs to compute its share of one fit: small, sent with each pass.

    ``models`` are the fitted part's models in the fit's order (sorted by name), ``features`` the kept
    style features with their standardisation ``mean``/``scale`` (none for a plain fit), ``seed`` the
    bootstrap seed. Rows whose models are not both in ``models`` belong to another part (or to a thin model)
    and are skipped.
    """

    models: tuple[str, ...]
    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    ties: str = "half"
    model_scale: float = LN10
    seed: int = 0

    @property
    def dim(self) -> int:
        return len(self.models) + len(self.features) + tie_model(self.ties).n_extra


@dataclass(frozen=True)
class Request:
    """One quantity at one parameter vector: ``kind`` (one of :data:`KINDS`), ``theta`` and the bootstrap
    ``replicate`` whose Poisson multipliers re-weight the rows (``None``: the data as it is)."""

    kind: str
    theta: np.ndarray
    replicate: int | None = None


def result_size(kind: str, spec: PartSpec) -> int:
    """Length of one request's share in :func:`evaluate_chunk`'s flat result."""
    dim, P, K = spec.dim, len(spec.models), len(spec.features)
    raw_dim = dim - K
    return {
        "derivatives": dim + dim * dim,
        "loss": 1,
        "scores": 1 + dim * dim,
        "sides": P * K + P,
        "support": K,
        "cross": 1 + raw_dim * dim,
    }[kind]


def _model_codes(values: pd.Series, index: pd.Index) -> np.ndarray:
    if isinstance(values.dtype, pd.CategoricalDtype):
        lookup = index.get_indexer(values.cat.categories.astype(str))
        codes = values.cat.codes.to_numpy()
        return np.where(codes >= 0, lookup[np.maximum(codes, 0)], -1)
    return index.get_indexer(values.astype(str).to_numpy(dtype=object))


@dataclass
class ChunkProblem:
    """A chunk as the solver sees it: the part's rows sorted by ordered pair, and where the pairs are.

    ``keys`` are the distinct pairs present (``a * P + b`` in the part's model index, ascending) and
    ``counts`` their battles here; ``base`` the rows' frequency weights (``None``: one each); ``support``
    per feature the weighted battles whose raw pair feature is not 0 (what each style effect rests on).
    """

    problem: Problem
    keys: np.ndarray
    counts: np.ndarray
    base: np.ndarray | None
    support: np.ndarray


def _part_order(chunk: pd.DataFrame, spec: PartSpec) -> tuple[np.ndarray, np.ndarray]:
    """The chunk's rows of the part in the fit's order (by ordered pair, input order within a pair: a
    stable sort, as the in-memory fit sorts) and their pair keys ``a * P + b`` in that order."""
    P = len(spec.models)
    index = pd.Index(list(spec.models))
    a = _model_codes(chunk["model_a"], index)
    b = _model_codes(chunk["model_b"], index)
    rows = np.flatnonzero((a >= 0) & (b >= 0))
    key = a[rows].astype(np.int64) * P + b[rows]
    sort = np.argsort(key, kind="stable")
    return rows[sort], key[sort]


def pair_counts(chunk: pd.DataFrame, spec: PartSpec) -> tuple[np.ndarray, np.ndarray]:
    """The part's pairs present in this chunk (keys ascending) and their battles here: what the client
    needs to place each partition's battles in the fit's order (for the bootstrap draws)."""
    _, key = _part_order(chunk, spec)
    keys, counts = np.unique(key, return_counts=True)
    return keys, counts.astype(np.int64)


def chunk_problem(chunk: pd.DataFrame, spec: PartSpec) -> ChunkProblem:
    """The chunk's rows of the part, in the fit's order, standardised with the part's scaling."""
    P = len(spec.models)
    order, key = _part_order(chunk, spec)
    keys, counts = np.unique(key, return_counts=True)
    pair = np.repeat(np.arange(len(keys), dtype=np.int32), counts)
    layout = PairLayout.from_sorted(pair, (keys // P).astype(np.int32), (keys % P).astype(np.int32), P)
    y = chunk["pref_a"].to_numpy(dtype=np.float64)[order]
    base = chunk[WEIGHT].to_numpy(dtype=np.float64)[order] if WEIGHT in chunk.columns else None
    Z = None
    support = np.zeros(0)
    if spec.features:
        X = chunk[list(spec.features)].to_numpy(dtype=np.float64)[order]
        Z = np.asfortranarray((X - spec.mean) / spec.scale)
        nonzero = X != 0.0
        support = (nonzero if base is None else base[:, None] * nonzero).sum(axis=0).astype(np.float64)
    problem = Problem(layout, y, Z, tie_model(spec.ties), 0.0, base, spec.model_scale)
    return ChunkProblem(problem, keys, counts.astype(np.int64), base, support)


def evaluate_chunk(
    chunk: pd.DataFrame,
    spec: PartSpec,
    requests: Sequence[Request],
    positions: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """This chunk's share of every request, concatenated in request order (see :func:`result_size`).

    ``derivatives``: the unpenalised gradient and Hessian; ``loss``: the unpenalised loss; ``scores``: the
    summed weight and the sandwich's meat; ``sides``: per model the summed standardised features on its
    own side (z as A, -z as B) and its battles. A request with a ``replicate`` re-weights the rows by that
    bootstrap replicate's Poisson(1) multipliers, drawn here from ``(spec.seed, replicate)`` at the rows'
    positions in the fit's battle order: ``positions = (keys, starts)`` gives, per pair key, where this
    chunk's first battle of that pair sits (the client works it out from every partition's cell counts).
    """
    cp = chunk_problem(chunk, spec)
    base_problem = cp.problem
    starts = None
    if any(r.replicate is not None for r in requests):
        if positions is None:
            raise ValueError("bootstrap requests need the partition's battle positions")
        keys, firsts = positions
        at = np.searchsorted(keys, cp.keys)
        if len(cp.keys) and (at.max() >= len(keys) or not np.array_equal(keys[at], cp.keys)):
            raise ValueError("battle positions do not cover this partition's pairs")
        starts = firsts[at]
    out: list[np.ndarray] = []
    for req in requests:
        problem = base_problem
        if req.replicate is not None:
            w = replicate_weights_at(spec.seed, req.replicate, starts, cp.counts)
            if cp.base is not None:
                w *= cp.base
            problem = base_problem.with_weights(w, base_problem.ws)
        if req.kind == "support":
            out.append(cp.support)
        elif req.kind == "cross":
            out.append(_cross(problem, req, spec))
        else:
            out.append(_share(problem, req, spec))
    return np.concatenate(out) if out else np.zeros(0)


def _cross(problem: Problem, req: Request, spec: PartSpec) -> np.ndarray:
    """The summed weight and the raw and controlled fits' score cross moment (:func:`~.gain.cross_sum`);
    ``req.theta`` is the raw fit's parameters followed by the controlled fit's."""
    from .gain import cross_sum

    theta = np.asarray(req.theta, dtype=np.float64)
    raw_dim = spec.dim - len(spec.features)
    plain = Problem(problem.layout, problem.y, None, problem.tie, 0.0, problem.w, spec.model_scale)
    B, n = cross_sum(plain, problem, theta[:raw_dim], theta[raw_dim:])
    return np.concatenate([[n], B.ravel()])


def _share(problem: Problem, req: Request, spec: PartSpec) -> np.ndarray:
    theta = np.asarray(req.theta, dtype=np.float64)
    if req.kind == "derivatives":
        t = problem.terms(theta)
        if t is None:
            raise ValueError("derivatives asked outside the tie model's domain")
        return np.concatenate([problem.data_gradient(t), problem.data_hessian(t).ravel()])
    if req.kind == "loss":
        return np.array([problem.loss(theta)])
    if req.kind == "scores":
        B, n = score_moment(problem, theta)
        return np.concatenate([[n], B.ravel()])
    if req.kind == "sides":
        return side_sums(problem)
    raise ValueError(f"unknown request kind {req.kind!r}; choose one of {', '.join(KINDS)}")


def side_sums(problem: Problem) -> np.ndarray:
    """Per model: the weighted sum of standardised features on its own side and its weighted battles
    (``P * K`` then ``P`` values), the pieces of ``StyleBT.side_mean_z_``."""
    lay, P, K = problem.layout, problem.P, problem.K
    w = np.ones(len(problem.y)) if problem.w is None else problem.w
    a, b = lay.pair_a[lay.pair], lay.pair_b[lay.pair]
    sums = np.zeros((P, K))
    for j in range(K):
        wz = w * problem.Z[:, j]
        sums[:, j] = np.bincount(a, wz, minlength=P) - np.bincount(b, wz, minlength=P)
    played = np.bincount(a, w, minlength=P) + np.bincount(b, w, minlength=P)
    return np.concatenate([sums.ravel(), played])


def max_abs_eta(chunk: pd.DataFrame, spec: PartSpec, theta: np.ndarray) -> float:
    """Largest ``|eta|`` over the chunk's rows of the part (an unpenalised fit's divergence check)."""
    problem = chunk_problem(chunk, spec).problem
    eta = problem.eta(np.asarray(theta, dtype=np.float64))
    return float(np.abs(eta).max()) if len(eta) else 0.0


def chunk_moments(chunk: pd.DataFrame, spec: PartSpec, features: Sequence[str]) -> Moments:
    """Moments of the raw ``features`` over the chunk's rows of the part (``spec.models``)."""
    rows, _ = _part_order(chunk, spec)
    X = chunk[list(features)].to_numpy(dtype=np.float64)[rows]
    w = chunk[WEIGHT].to_numpy(dtype=np.float64)[rows] if WEIGHT in chunk.columns else None
    return Moments.of(X, w)


def combine_moments(*parts: Moments) -> Moments:
    """The moments of the partitions' battles together (any grouping)."""
    total = parts[0]
    for m in parts[1:]:
        total = total.combine(m)
    return total


def chunk_of(data: Any) -> pd.DataFrame:
    """A chunk from a DataFrame or an Arrow table (anything with ``to_pandas``)."""
    if isinstance(data, pd.DataFrame):
        return data
    if hasattr(data, "to_pandas"):
        return data.to_pandas()
    raise TypeError(f"a partition must give a pandas DataFrame or an Arrow table, not {type(data).__name__}")
