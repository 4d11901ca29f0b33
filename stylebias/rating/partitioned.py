"""Bradley-Terry + style over battles that are never in one place: the client of a partitioned fit.

The battles live in partitions (files on a cluster's workers, or chunks made on the spot) and an
:class:`Engine` runs the plain functions of :mod:`.chunks` where they are, returning sums. The client never
holds a battle; it holds per-pair tables, moments and ``dim x dim`` matrices (``dim`` = models + features
+ tie parameter). The passes:

1. **summary**: every partition's (pair, outcome) cells and feature moments
   (:func:`~.chunks.summarise_chunk`). From their sum: the model index (sorted by name, as in memory), thin
   models and graph components (:func:`~.fit.plan_parts`, the in-memory fit's function, on the pair table),
   the battle counts, and the standardisation (:func:`~.design.scaling_from_moments`, the same rules for
   constant and collinear features). A part that is not all of the battles (thin models, several
   components) costs one more pass for its own moments.
2. **Newton**: :func:`~.solver.newton` itself, unchanged, on a :class:`SpreadProblem`: each gradient and
   Hessian it asks for is one pass in which every partition returns its unpenalised share (two model
   entries per row plus the style features, exactly the in-memory ``Problem``'s) and the client adds the
   penalty once and solves. Ties, soft outcomes and weights are the chunk ``Problem``'s, so the objective is
   the in-memory fit's.
3. **sandwich**: one pass for the Hessian, the scores' meat and the side means at the optimum.
4. **bootstrap**: replicate ``r``'s Poisson multipliers are drawn on the partitions from ``(seed, r)`` at
   each battle's position in the in-memory fit's order (:func:`~.intervals.replicate_weights_at`), so
   replicates equal the in-memory replicates; replicates run through ``newton`` in lockstep
   (:class:`Lockstep`), all of them sharing each pass.

The plain (style-free) fit of unweighted battles needs only the cell counts, so it runs on the client
exactly as in memory (same arrays, same numbers, same bootstrap). Results equal the in-memory fit up to the
order of floating-point summation (measured: docs/distributed.md).
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, Protocol

import numpy as np
import pandas as pd

from ..errors import DataError
from ..progress import task
from .chunks import (
    ChunkSummary,
    PartSpec,
    Request,
    add_arrays,
    chunk_moments,
    chunk_of,
    combine_moments,
    combine_summaries,
    evaluate_chunk,
    max_abs_eta,
    pair_counts,
    result_size,
    summarise_chunk,
)
from .design import Moments, scaling_from_moments
from .estimator import StyleBT, check_solution, warn_without_ties
from .fit import Part, part_result, plan_parts, unanchored_note
from .gain import finish_cross, style_gain
from .intervals import bootstrap, robust_covariance, sandwich, warn_unconverged
from .likelihood import tie_model
from .result import RankResult
from .settings import FitSettings
from .solver import LN10, PairLayout, Problem, newton, penalise_gradient, penalise_hessian, penalty_value

#: Bootstrap replicates that share one pass (each adds a ``dim x dim`` Hessian to every partition's reply).
BOOTSTRAP_BATCH = 50


class Engine(Protocol):
    """Where the partitions are and how to run a function on each: Dask, Spark, Ray, or a loop.

    ``map(fn, *args, per_part=None)`` returns ``[fn(chunk_i, *args, *per_part[i]) for every partition i]``
    in partition order; ``reduce(fn, combine, ...)`` returns ``combine`` of those results, which an engine
    may apply where they are (a tree on the workers; ``combine`` takes any number of results and is
    associative). Partition order is the battles' input order.
    """

    def __len__(self) -> int: ...

    def map(
        self, fn: Callable[..., Any], *args: Any, per_part: Sequence[tuple[Any, ...]] | None = None
    ) -> list[Any]: ...

    def reduce(
        self,
        fn: Callable[..., Any],
        combine: Callable[..., Any],
        *args: Any,
        per_part: Sequence[tuple[Any, ...]] | None = None,
    ) -> Any: ...


class SerialEngine:
    """Partitions in this process, one after the other: each a chunk, or a function that makes one (so
    it is made again on every pass and never kept). The reference the cluster engines must match."""

    def __init__(self, parts: Sequence[Any]) -> None:
        self.parts = list(parts)

    def __len__(self) -> int:
        return len(self.parts)

    def _run(self, fn: Callable[..., Any], i: int, args: tuple[Any, ...], per_part: Any) -> Any:
        p = self.parts[i]
        return fn(chunk_of(p() if callable(p) else p), *args, *(per_part[i] if per_part else ()))

    def map(
        self, fn: Callable[..., Any], *args: Any, per_part: Sequence[tuple[Any, ...]] | None = None
    ) -> list[Any]:
        return [self._run(fn, i, args, per_part) for i in range(len(self))]

    def reduce(
        self,
        fn: Callable[..., Any],
        combine: Callable[..., Any],
        *args: Any,
        per_part: Sequence[tuple[Any, ...]] | None = None,
    ) -> Any:
        if not len(self):
            raise DataError("no partitions to fit")
        total = self._run(fn, 0, args, per_part)
        for i in range(1, len(self)):
            total = combine(total, self._run(fn, i, args, per_part))
        return total


# ------------------------------------------------------------------------------------------- pass 1


@dataclass
class PairTable:
    """The summary pass, added up: every (pair, outcome) cell and the pairs (sorted by model names)."""

    models: list[str]
    cells: pd.DataFrame  # key (a * M + b), pref_a, n, w, sorted; ``pair`` = row of the pair arrays
    pair_a: np.ndarray  # model index of A per distinct ordered pair
    pair_b: np.ndarray
    pair_n: np.ndarray  # battles per pair
    moments: Moments | None
    weighted: bool

    @classmethod
    def of(cls, summary: ChunkSummary) -> PairTable:
        if not len(summary.cells):
            raise DataError("no battles to fit")
        models, M = summary.models, len(summary.models)
        cells = summary.cells
        key = cells["a"].to_numpy().astype(np.int64) * M + cells["b"].to_numpy()
        pair_keys, cell_pair = np.unique(key, return_inverse=True)
        cells = pd.DataFrame(
            {"key": key, "pref_a": cells["pref_a"], "n": cells["n"], "w": cells["w"], "pair": cell_pair}
        )
        return cls(
            models=list(models),
            cells=cells,
            pair_a=(pair_keys // M).astype(np.int64),
            pair_b=(pair_keys % M).astype(np.int64),
            pair_n=np.bincount(cell_pair, cells["n"].to_numpy(), minlength=len(pair_keys)),
            moments=summary.moments,
            weighted=summary.weighted,
        )


# ------------------------------------------------------------------------------------------- Newton


@dataclass
class Sums:
    """One pass's derivatives: the partitions' unpenalised gradient and Hessian, added up."""

    g: np.ndarray
    H: np.ndarray


Evaluate = Callable[[list[Request]], list[np.ndarray]]


class SpreadProblem:
    """What :func:`~.solver.newton` asks of a problem (``terms``, ``gradient``, ``hessian``,
    ``objective``, ``reg``, ``P``), answered with passes over the partitions: the penalty is added here,
    once, with the functions the in-memory ``Problem`` adds it with."""

    def __init__(self, evaluate: Evaluate, spec: PartSpec, reg: float, replicate: int | None = None) -> None:
        self.evaluate = evaluate
        self.spec = spec
        self.tie = tie_model(spec.ties)
        self.P, self.K, self.E = len(spec.models), len(spec.features), self.tie.n_extra
        self.dim = spec.dim
        self.reg = float(reg)
        self.replicate = replicate

    def _feasible(self, theta: np.ndarray) -> bool:
        return self.tie.feasible(theta[self.P + self.K :])

    def terms(self, theta: np.ndarray) -> Sums | None:
        if not self._feasible(theta):
            return None
        (res,) = self.evaluate([Request("derivatives", theta, self.replicate)])
        return Sums(res[: self.dim], res[self.dim :].reshape(self.dim, self.dim))

    def gradient(self, theta: np.ndarray, t: Sums) -> np.ndarray:
        return penalise_gradient(t.g.copy(), theta, self.reg, self.P + self.K)

    def hessian(self, t: Sums) -> np.ndarray:
        return penalise_hessian(t.H.copy(), self.reg, self.P, self.P + self.K)

    def objective(self, theta: np.ndarray) -> float:
        if not self._feasible(theta):
            return float("inf")
        (res,) = self.evaluate([Request("loss", theta, self.replicate)])
        return float(res[0]) + penalty_value(theta, self.reg, self.P + self.K)


def passes(engine: Engine, spec: PartSpec, positions: Sequence[tuple[Any, ...]] | None = None) -> Evaluate:
    """Requests -> their summed results, one pass over every partition for all of them."""

    per_part = [(p,) for p in positions] if positions else None

    def evaluate(requests: list[Request]) -> list[np.ndarray]:
        flat = engine.reduce(evaluate_chunk, add_arrays, spec, requests, per_part=per_part)
        out, at = [], 0
        for r in requests:
            size = result_size(r.kind, spec)
            out.append(flat[at : at + size])
            at += size
        return out

    return evaluate


class Lockstep:
    """Lets many threads, each running ``newton`` on its own replicate, share passes: a pass runs when
    every replicate still solving has asked for something, and answers all of them at once."""

    def __init__(self, evaluate: Evaluate, active: int) -> None:
        self.evaluate = evaluate
        self.active = active
        self.cond = threading.Condition()
        self.waiting: dict[int, Request] = {}
        self.answers: dict[int, np.ndarray] = {}
        self.error: BaseException | None = None

    def ask(self, replicate: int, request: Request) -> np.ndarray:
        with self.cond:
            if self.error is not None:
                raise RuntimeError("a pass over the partitions failed") from self.error
            self.waiting[replicate] = request
            self._run_if_complete()
            while replicate not in self.answers and self.error is None:
                self.cond.wait()
            if self.error is not None:
                raise RuntimeError("a pass over the partitions failed") from self.error
            return self.answers.pop(replicate)

    def leave(self) -> None:
        with self.cond:
            self.active -= 1
            self._run_if_complete()

    def _run_if_complete(self) -> None:
        if not self.waiting or len(self.waiting) < self.active:
            return
        batch, self.waiting = self.waiting, {}
        try:
            results = self.evaluate(list(batch.values()))
            self.answers.update(zip(batch, results, strict=True))
        except BaseException as exc:  # every waiting replicate re-raises it
            self.error = exc
        self.cond.notify_all()


# ------------------------------------------------------------------------------------------- one fit


@dataclass
class Solved:
    """One fit's numbers, as :meth:`StyleBT._from_state` takes them."""

    theta: np.ndarray
    n_iter: int
    converged: bool
    objective: float
    covariance: np.ndarray
    hessian: np.ndarray
    boot: np.ndarray | None
    side_sums: np.ndarray | None  # (P, K) summed standardised features on each model's side
    support: np.ndarray | None = None  # (K,) weighted battles with a non-zero raw pair feature


def _cells_fit(
    part_cells: pd.DataFrame, n_models: int, pairs: tuple[np.ndarray, np.ndarray], est: StyleBT
) -> Solved:
    """The plain fit from cell counts, exactly as ``StyleBT.fit`` makes it for unweighted battles without
    features: the same cell arrays, Newton, sandwich and per-cell Poisson(count) bootstrap."""
    tie = tie_model(est.ties)
    pair_a, pair_b = pairs
    layout = PairLayout.from_sorted(part_cells["local_pair"].to_numpy(), pair_a, pair_b, n_models)
    # contiguous copies: NumPy sums a strided column of a DataFrame block in another order
    counts = np.ascontiguousarray(part_cells["n"].to_numpy(dtype=np.float64))
    y = np.ascontiguousarray(part_cells["pref_a"].to_numpy(dtype=np.float64))
    problem = Problem(layout, y, None, tie, est.reg, counts, LN10)
    theta0 = np.concatenate([np.zeros(n_models), tie.start(problem.y, problem.w)])
    with task("fitting Bradley-Terry", total=None):
        theta, info = newton(problem, theta0, xtol=est.xtol, max_iter=est.max_iter)
    check_solution(info, est.reg, est.max_iter, lambda: float(np.abs(problem.eta(theta)).max()))
    P = n_models
    if est.reg == 0.0:
        theta[:P] -= theta[:P].mean()
    objective = problem.objective(theta)
    V, H = sandwich(problem, theta)
    boot = None
    if est.ci == "bootstrap":
        boot = bootstrap(
            problem,
            theta,
            rounds=est.rounds,
            seed=est.seed,
            n_jobs=est.n_jobs,
            counts=counts,
            xtol=max(est.xtol, 1e-8),
            max_iter=est.max_iter,
            description="bootstrap Bradley-Terry",
        )
        if est.reg == 0.0:
            boot[:, :P] -= boot[:, :P].mean(axis=1, keepdims=True)
        if len(boot) > 1:
            V = np.cov(boot, rowvar=False)
    return Solved(theta, info.n_iter, info.converged, objective, np.atleast_2d(V), H, boot, None)


def _spread_fit(
    engine: Engine,
    spec: PartSpec,
    positions: list[tuple[np.ndarray, np.ndarray]],
    theta0: np.ndarray,
    est: StyleBT,
) -> Solved:
    """Newton, sandwich and bootstrap with every sum over battles made on the partitions."""
    evaluate = passes(engine, spec, positions)
    problem = SpreadProblem(evaluate, spec, est.reg)
    P, K, dim = problem.P, problem.K, problem.dim
    with task(f"fitting Bradley-Terry{' + style' if K else ''} over {len(engine)} partitions", total=None):
        theta, info = newton(problem, theta0, xtol=est.xtol, max_iter=est.max_iter)
    check_solution(
        info, est.reg, est.max_iter, lambda: max(engine.map(max_abs_eta, spec, theta), default=0.0)
    )
    if est.reg == 0.0:
        theta[:P] -= theta[:P].mean()
    derivs, loss, scores, sides, support = evaluate(
        [Request(kind, theta) for kind in ("derivatives", "loss", "scores", "sides", "support")]
    )
    H = problem.hessian(Sums(derivs[:dim], derivs[dim:].reshape(dim, dim)))
    objective = float(loss[0]) + penalty_value(theta, est.reg, P + K)
    V = robust_covariance(H, scores[1:].reshape(dim, dim).copy(), float(scores[0]), theta, est.reg, P, K)
    side = sides[: P * K].reshape(P, K) / np.maximum(sides[P * K :], 1e-300)[:, None]
    boot = None
    if est.ci == "bootstrap":
        boot = _spread_bootstrap(evaluate, spec, theta, est)
        if est.reg == 0.0:
            boot[:, :P] -= boot[:, :P].mean(axis=1, keepdims=True)
        if len(boot) > 1:
            V = np.cov(boot, rowvar=False)
    return Solved(theta, info.n_iter, info.converged, objective, np.atleast_2d(V), H, boot, side, support)


def _spread_bootstrap(evaluate: Evaluate, spec: PartSpec, theta_hat: np.ndarray, est: StyleBT) -> np.ndarray:
    """``est.rounds`` replicates, each ``newton`` from the optimum on its own thread; passes shared."""
    out = np.empty((est.rounds, spec.dim))
    failed: list[int] = []
    xtol = max(est.xtol, 1e-8)
    with task("bootstrap over partitions", total=est.rounds) as advance:
        for lo in range(0, est.rounds, BOOTSTRAP_BATCH):
            batch = list(range(lo, min(est.rounds, lo + BOOTSTRAP_BATCH)))
            lock = Lockstep(evaluate, len(batch))

            def one(r: int, lock: Lockstep = lock) -> tuple[int, np.ndarray, bool]:
                try:
                    ask: Evaluate = lambda reqs: [lock.ask(r, reqs[0])]  # noqa: E731
                    theta, info = newton(
                        SpreadProblem(ask, spec, est.reg, replicate=r),
                        theta_hat,
                        xtol=xtol,
                        max_iter=est.max_iter,
                    )
                    return r, theta, info.converged
                finally:
                    lock.leave()

            with ThreadPoolExecutor(max_workers=len(batch)) as pool:
                for r, theta, ok in pool.map(one, batch):
                    out[r] = theta
                    if not ok:
                        failed.append(r)
                    advance(1)
    warn_unconverged(failed, est.rounds, est.max_iter)
    return out


# ------------------------------------------------------------------------------------------- parts


def _positions(
    engine: Engine, spec: PartSpec, part_keys: np.ndarray, part_counts: np.ndarray
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per partition: its pairs of the part (keys) and where its first battle of each sits in the
    in-memory fit's order (pairs in key order, each pair's battles in input order = partition order).
    ``part_keys``/``part_counts``: every pair of the part, ascending, and its battles. One pass with
    small replies, made only for the bootstrap (the client then holds partitions x pairs integers)."""
    firsts = np.zeros(len(part_counts), dtype=np.int64)
    np.cumsum(part_counts[:-1].astype(np.int64), out=firsts[1:])
    out = []
    for keys, counts in engine.map(pair_counts, spec):
        idx = np.searchsorted(part_keys, keys)
        if len(keys) and (idx.max() >= len(part_keys) or not np.array_equal(part_keys[idx], keys)):
            raise DataError("a partition changed between passes (its pairs differ from the first pass)")
        out.append((keys, firsts[idx].copy()))
        firsts[idx] += counts
    if not np.array_equal(firsts, np.cumsum(part_counts.astype(np.int64))):
        raise DataError("a partition changed between passes (its battle counts differ from the first pass)")
    return out


def fit_partitions(
    engine: Engine,
    features: Sequence[str],
    settings: FitSettings,
    *,
    data: dict[str, int] | None = None,
    describe: dict[str, Any] | None = None,
    winrate_vs: str | None = None,
) -> RankResult:
    """Raw and style-controlled ratings of battles held in ``engine``'s partitions (see the module doc).

    ``features`` are the raw pair-feature columns of every chunk (empty: no style control); the rest is as
    in :func:`~.fit.fit_design`, whose result this equals up to floating-point summation order.
    """
    from .estimator import one_blas_thread

    settings.check()
    features = list(features)
    with one_blas_thread():
        with task(f"summarising {len(engine)} partitions", total=None):
            table = PairTable.of(engine.reduce(summarise_chunk, combine_summaries, features))
        parts, excluded, _ = plan_parts(
            table.models,
            table.pair_a,
            table.pair_b,
            settings,
            counts=table.pair_n,
            winrate_vs=winrate_vs,
        )
        shown = settings.to_json() if describe is None else describe
        if describe is not None and "weights" in shown:  # whether weights were there and used, as in memory
            shown = {**shown, "weights": table.weighted}
        results = []
        for part in parts:
            anchor = settings.anchor
            here = settings if anchor is None or anchor[0] in part.models else settings.replace(anchor=None)
            whole = len(parts) == 1 and len(part.rows) == len(table.pair_n)
            result = _fit_part(engine, table, part, features, here, whole, winrate_vs)
            if anchor is not None and here.anchor is None:
                result.notes.append(unanchored_note(settings))
            result.component = part.component
            result.excluded = excluded
            result.data = dict(data or {})
            result.settings = shown
            result.fit_settings = settings
            results.append(result)
    main, *others = results
    main.parts = others
    return main


@dataclass
class PartCells:
    """One part's slice of the pair table, in the part's own model index (what its two fits share)."""

    models: list[str]
    cells: pd.DataFrame  # the part's cells, sorted, with ``local_pair`` (the part's pair id)
    pair_a: np.ndarray  # model of A per pair of the part (part index), pairs ascending
    pair_b: np.ndarray
    pair_n: np.ndarray  # battles per pair of the part
    cell_a: np.ndarray  # model of A per cell
    cell_b: np.ndarray
    y: np.ndarray  # outcome per cell
    w: np.ndarray  # summed weight per cell

    @classmethod
    def of(cls, table: PairTable, part: Part) -> PartCells:
        in_part = np.zeros(len(table.pair_n), dtype=bool)
        in_part[part.rows] = True
        cells = table.cells.loc[in_part[table.cells["pair"].to_numpy()]].reset_index(drop=True)
        local_pair = np.full(len(table.pair_n), -1, dtype=np.int64)
        local_pair[part.rows] = np.arange(len(part.rows))
        cells["local_pair"] = local_pair[cells["pair"].to_numpy()]
        models = list(part.models)
        position = np.searchsorted(pd.Index(table.models).get_indexer(models), np.arange(len(table.models)))
        pair_a = position[table.pair_a[part.rows]].astype(np.int32)
        pair_b = position[table.pair_b[part.rows]].astype(np.int32)
        pair = cells["local_pair"].to_numpy()
        return cls(
            models,
            cells,
            pair_a,
            pair_b,
            table.pair_n[part.rows],
            pair_a[pair],
            pair_b[pair],
            cells["pref_a"].to_numpy(dtype=np.float64),
            cells["w"].to_numpy(dtype=np.float64),
        )

    @property
    def keys(self) -> np.ndarray:
        """Pair keys ``a * P + b`` of the part's pairs, ascending (as :func:`~.chunks.pair_counts`)."""
        return self.pair_a.astype(np.int64) * len(self.models) + self.pair_b

    def played(self) -> np.ndarray:
        P = len(self.models)
        return np.bincount(self.cell_a, self.w, minlength=P) + np.bincount(self.cell_b, self.w, minlength=P)

    def check_hard(self, ties: str) -> None:
        """A tie model needs win/tie/loss votes, as ``StyleBT.fit`` requires."""
        soft = ~np.isin(self.y, (0.0, 0.5, 1.0))
        if ties != "half" and soft.any():
            i = int(np.flatnonzero(soft)[0])
            raise DataError(
                f"ties={ties!r} needs hard outcomes (win, loss, tie); a battle of "
                f"{self.models[self.cell_a[i]]!r} vs {self.models[self.cell_b[i]]!r} has soft preference "
                f"{self.y[i]!r}. Use ties='half' for soft preferences."
            )


def _fit_part(
    engine: Engine,
    table: PairTable,
    part: Part,
    features: list[str],
    settings: FitSettings,
    whole: bool,
    winrate_vs: str | None,
) -> RankResult:
    """The plain and style-controlled fits of one connected part, and its model table (as ``fit_part``)."""
    pc = PartCells.of(table, part)
    pc.check_hard(settings.ties)
    params = settings.estimator_params()
    est = StyleBT(**params)
    P = len(pc.models)
    battles = {"n_obs": int(round(pc.cells["n"].sum())), "played": pc.played()}
    base = PartSpec(tuple(pc.models), (), np.zeros(0), np.zeros(0), settings.ties, LN10, settings.seed)

    # with a bootstrap, the raw fit draws the controlled fit's per-battle weights: paired replicates (as
    # in memory, where the raw fit is then not collapsed into outcome cells)
    paired = settings.ci == "bootstrap" and bool(features)

    def fit(spec: PartSpec, names_in: list[str], dropped: list[str], cells: bool = True) -> StyleBT:
        est._warn_separation(SimpleNamespace(models=pc.models, a=pc.cell_a, b=pc.cell_b), pc.y, pc.w)
        warn_without_ties(settings.ties, bool((pc.y == 0.5).any()))
        if not spec.features and not table.weighted and cells:
            solved = _cells_fit(pc.cells, P, (pc.pair_a, pc.pair_b), est)
        else:
            theta0 = np.concatenate(
                [np.zeros(P + len(spec.features)), tie_model(spec.ties).start(pc.y, pc.w)]
            )
            boot = settings.ci == "bootstrap"
            positions = _positions(engine, spec, pc.keys, pc.pair_n) if boot else []
            solved = _spread_fit(engine, spec, positions, theta0, est)
        return _estimator(params, spec, names_in, dropped, solved, battles)

    plain = fit(base, [], [], cells=not paired)
    controlled = plain
    if features:
        moments = table.moments if whole else engine.reduce(chunk_moments, combine_moments, base, features)
        scaling = scaling_from_moments(moments, features)
        spec = dataclasses.replace(
            base, features=tuple(scaling.names), mean=scaling.mean, scale=scaling.scale
        )
        controlled = fit(spec, features, scaling.dropped)
    cross = None
    if controlled is not plain and controlled.boot_theta_ is None:
        cross = _cross_moment(engine, spec, plain, controlled)
    gain = style_gain(controlled, plain, paired_bootstrap=paired, cross=cross)
    return part_result(controlled, plain, gain, winrate_vs if winrate_vs in pc.models else None)


def _cross_moment(engine: Engine, spec: PartSpec, raw: StyleBT, controlled: StyleBT) -> np.ndarray:
    """The raw and controlled fits' score cross moment (for the sandwich interval of their difference):
    one pass, each partition its sum, finished as in memory (:func:`~.gain.finish_cross`)."""
    (flat,) = passes(engine, spec)([Request("cross", np.concatenate([raw.theta_, controlled.theta_]))])
    raw_dim, dim = len(raw.theta_), spec.dim
    P, K = len(spec.models), len(spec.features)
    B = flat[1:].reshape(raw_dim, dim)
    return finish_cross(
        B, float(flat[0]), (raw.reg, P, raw_dim), (controlled.reg, P + K, dim), raw.theta_, controlled.theta_
    )


def _estimator(
    params: dict[str, Any],
    spec: PartSpec,
    names_in: list[str],
    dropped: list[str],
    solved: Solved,
    battles: dict[str, Any],
) -> StyleBT:
    P, K = len(spec.models), len(spec.features)
    side = np.zeros((P, K)) if solved.side_sums is None else solved.side_sums
    state = {
        "models": list(spec.models),
        "feature_names": list(spec.features),
        "feature_names_in": list(names_in),
        "dropped_features": list(dropped),
        "feature_mean": spec.mean,
        "feature_scale": spec.scale,
        "n_obs": battles["n_obs"],
        "n_battles": battles["played"],
        "beta": solved.theta[:P],
        "coef": solved.theta[P : P + K],
        "tie_param": solved.theta[P + K :],
        "n_iter": solved.n_iter,
        "converged": solved.converged,
        "objective": solved.objective,
        "covariance": solved.covariance,
        "boot_theta": solved.boot,
        "side_mean_z": side,
    }
    if solved.support is not None and K:
        state["support"] = {"battles_nonzero": list(solved.support), "prompts_nonzero": [np.nan] * K}
    est = StyleBT._from_state(params, state)
    est.hessian_ = solved.hessian
    return est
