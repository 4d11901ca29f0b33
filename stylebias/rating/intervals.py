"""Uncertainty for the penalised fit: sandwich covariance and a seeded, parallel, warm-started bootstrap.

Sandwich (default). The fit is a penalised M-estimator: it solves ``sum_i w_i u_i(theta) + reg * theta = 0``
with ``u_i`` the per-battle score. Its robust covariance is ``V = H^-1 B H^-1`` where ``H`` is the penalised
Hessian (observed information + reg) and ``B = n/(n-q) * sum_i w_i (u_i - u_bar)(u_i - u_bar)^T`` is the
HC1-scaled, centred outer product of the scores (``w`` are frequency weights, ``n = sum w``, ``q`` the
number of parameters). Centring matters because the penalty makes the scores sum to ``-reg * theta``, not 0;
arena-rank's sandwich applies the same correction. The sandwich is needed, not just convenient: with ties
counted as half wins the "likelihood" is a quasi-likelihood, and the model-based inverse Hessian would
overstate the variance of tie-heavy data.

Bootstrap. Each replicate re-weights every battle by an independent Poisson(1) count drawn from its own
generator ``default_rng([seed, replicate])``, starts Newton from the full-data optimum, and runs to the same
tolerance. Replicates therefore do not depend on which worker runs them or in what order: results are
identical for any ``n_jobs``. Feature standardisation is fixed from the full data (as FastChat does).
"""

from __future__ import annotations

import math
import os
import threading
import warnings
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed

import numpy as np

from ..errors import StyleBiasWarning
from ..progress import task
from .solver import Problem, Workspace, free_hessian, newton, solve_psd


def sandwich(problem: Problem, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(V, H)``: the robust covariance of ``theta`` and the penalised Hessian at ``theta``."""
    H = problem.hessian(problem.terms(theta))
    B, n = score_moment(problem, theta)
    return robust_covariance(H, B, n, theta, problem.reg, problem.P, problem.K), H


def score_moment(problem: Problem, theta: np.ndarray) -> tuple[np.ndarray, float]:
    """``(sum_i w_i u_i u_i^T, sum_i w_i)`` over the problem's rows: the sandwich's uncentred meat.

    A sum over rows, so the meat of battles split into chunks is the sum of the chunks' meats.
    """
    t = problem.unit_terms(theta)
    w = problem.w
    u = t.d_eta
    fw = np.ones_like(u) if w is None else w
    h = fw * u * u
    h_tau = h_tt = None
    if problem.E:
        h_tau = fw * u * t.d_tau
        h_tt = float((fw * t.d_tau * t.d_tau).sum())
    return problem.second_moment(h, h_tau, h_tt or 0.0), float(fw.sum())


def robust_covariance(
    H: np.ndarray, B: np.ndarray, n: float, theta: np.ndarray, reg: float, n_models: int, n_features: int
) -> np.ndarray:
    """``H^-1 B H^-1`` from the penalised Hessian and the summed meat ``B`` over ``n`` weighted battles:
    the meat is centred (the scores sum to ``-reg * theta``) and HC1-scaled here. ``B`` is modified."""
    dim = len(theta)
    P, K = n_models, n_features
    total = np.zeros(dim)  # sum_i w_i u_i = -reg * theta at the optimum (and 0 for tau)
    total[: P + K] = -reg * theta[: P + K]
    if n > 0:
        B -= np.outer(total, total) / n
    q = dim
    if n > q + 1:
        B *= n / (n - q)
    Hinv_B = solve_psd(H, B)
    V = solve_psd(H, Hinv_B.T)
    V = 0.5 * (V + V.T)
    if reg == 0.0:
        # undo the 1 1^T / P used to pin the rating shift: project ratings onto sum-zero contrasts
        C = np.eye(dim)
        C[:P, :P] -= 1.0 / P
        V = C @ V @ C.T
    return V


def frozen_sandwich(
    problem: Problem, theta: np.ndarray, free: np.ndarray, fixed_cov: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``(V, H)`` when only the ``free`` parameters were fitted and the rest held at saved estimates.

    The free parameters solve ``g_f(theta_f; theta_x) = 0`` on the new battles with ``theta_x`` fixed at
    values estimated earlier, on other battles, with covariance ``fixed_cov`` (the saved fit's). Their
    variance has two parts: the sandwich of the new battles with ``theta_x`` known, ``H_ff^-1 B_ff
    H_ff^-1``, and the saved uncertainty carried through the estimating equation by the implicit function
    theorem, ``J fixed_cov J^T`` with ``J = d theta_f / d theta_x = -H_ff^-1 H_fx``. Treating the two data
    sets as independent, ``V`` is the full covariance: ``fixed_cov`` on the fixed block (unchanged), the
    sum above on the free block and ``J fixed_cov`` between them.
    """
    H = problem.hessian(problem.terms(theta))
    fixed = ~free
    V = np.zeros((problem.dim, problem.dim))
    V[np.ix_(fixed, fixed)] = fixed_cov
    if not free.any():
        return V, H
    t = problem.unit_terms(theta)
    w = problem.w
    u = t.d_eta
    fw = np.ones_like(u) if w is None else w
    h_tau = h_tt = None
    if problem.E:
        h_tau = fw * u * t.d_tau
        h_tt = float((fw * t.d_tau * t.d_tau).sum())
    B = problem.second_moment(fw * u * u, h_tau, h_tt or 0.0)[np.ix_(free, free)]
    n = float(fw.sum())
    # at the optimum the free scores sum to -reg * theta_f (the penalty's share; 0 for a tie parameter)
    total = np.where(np.arange(problem.dim) < problem.P + problem.K, -problem.reg * theta, 0.0)[free]
    if n > 0:
        B -= np.outer(total, total) / n
    q = int(free.sum())
    if n > q + 1:
        B *= n / (n - q)
    Hf = free_hessian(problem, H, free)
    Vc = solve_psd(Hf, solve_psd(Hf, B).T)
    J = -solve_psd(Hf, H[np.ix_(free, fixed)])
    Vff = Vc + J @ fixed_cov @ J.T
    V[np.ix_(free, free)] = 0.5 * (Vff + Vff.T)
    V[np.ix_(free, fixed)] = J @ fixed_cov
    V[np.ix_(fixed, free)] = (J @ fixed_cov).T
    return V, H


#: CDF of Poisson(1) at 0, 1, 2, ... (to 1 - 1e-17): inverse-CDF sampling from uniforms is exact and 4x
#: faster than ``Generator.poisson`` for millions of unit-mean draws.
_POISSON1_CDF = np.cumsum([math.exp(-1.0) / math.factorial(k) for k in range(20)])


def replicate_weights(seed: int, replicate: int, n: int, counts: np.ndarray | None) -> np.ndarray:
    """Poisson bootstrap multipliers for one replicate, from a generator seeded by (seed, replicate) only.

    ``counts`` (battles per aggregated cell) draws Poisson(count) per cell, which is exactly the sum of
    the per-battle Poisson(1) draws of the battles in that cell.
    """
    rng = np.random.default_rng([int(seed), int(replicate)])
    if counts is not None:
        return rng.poisson(counts).astype(np.float64)
    return np.searchsorted(_POISSON1_CDF, rng.random(n), side="right").astype(np.float64)


def replicate_weights_at(seed: int, replicate: int, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """``replicate_weights(seed, replicate, n, None)`` at positions ``[s, s + l)`` of each run, concatenated.

    The runs (ascending, not overlapping) are where one partition's battles sit in the fit's battle order;
    the generator jumps over everyone else's draws (``PCG64.advance``: one 64-bit draw per uniform) instead
    of making them, so a partition draws exactly the multipliers the in-memory bootstrap gives its battles,
    in time linear in its own rows and runs.
    """
    rng = np.random.default_rng([int(seed), int(replicate)])
    bits = rng.bit_generator
    u = np.empty(int(np.sum(lengths)))
    pos = at = 0
    for s, m in zip(np.asarray(starts).tolist(), np.asarray(lengths).tolist(), strict=True):
        if m <= 0:
            continue
        if s < pos:
            raise ValueError("runs must be ascending and must not overlap")
        if s > pos:
            bits.advance(s - pos)
        rng.random(out=u[at : at + m])
        pos, at = s + m, at + m
    return np.searchsorted(_POISSON1_CDF, u, side="right").astype(np.float64)


def bootstrap(
    problem: Problem,
    theta_hat: np.ndarray,
    *,
    rounds: int,
    seed: int,
    n_jobs: int | None,
    counts: np.ndarray | None,
    xtol: float,
    draw: Callable[[int], np.ndarray] | None = None,
    max_iter: int,
    description: str = "bootstrap",
) -> np.ndarray:
    """Fit ``rounds`` Poisson-reweighted replicates; returns a (rounds, dim) array of parameter vectors.

    ``counts`` marks an aggregated problem (its weights are cell counts, resampled as Poisson(count));
    otherwise each battle's weight is multiplied by a Poisson(1) draw, or by ``draw(r)`` (replicate ``r``'s
    weights in the problem's battle order) when given.
    """
    out = np.empty((rounds, len(theta_hat)))
    failed: list[int] = []
    n = len(problem.y)
    base = None if counts is not None else problem.w

    local = threading.local()  # one workspace per worker thread, reused across its replicates

    def one(r: int) -> tuple[int, np.ndarray, bool]:
        w = replicate_weights(seed, r, n, counts) if draw is None else draw(r)
        if base is not None:
            w *= base
        if not hasattr(local, "ws"):
            local.ws = Workspace(n)
        theta, info = newton(problem.with_weights(w, local.ws), theta_hat, xtol=xtol, max_iter=max_iter)
        return r, theta, info.converged

    workers = max(1, min(rounds, n_jobs if n_jobs and n_jobs > 0 else (os.cpu_count() or 1)))
    # the pool starts threads only when given work: one worker runs the replicates here, in order
    with task(description, total=rounds) as advance, ThreadPoolExecutor(max_workers=workers) as pool:
        if workers == 1:
            done: Iterable[tuple[int, np.ndarray, bool]] = map(one, range(rounds))
        else:
            done = (f.result() for f in as_completed([pool.submit(one, r) for r in range(rounds)]))
        for r, theta, ok in done:
            out[r] = theta
            if not ok:
                failed.append(r)
            advance(1)
    warn_unconverged(failed, rounds, max_iter)
    return out


def warn_unconverged(failed: list[int], rounds: int, max_iter: int) -> None:
    """Say how many bootstrap replicates stopped before converging (in memory or partitioned)."""
    if failed:
        warnings.warn(
            f"{len(failed)} of {rounds} bootstrap replicates did not converge in {max_iter} Newton steps; "
            "their last iterate is used",
            StyleBiasWarning,
            stacklevel=4,
        )
