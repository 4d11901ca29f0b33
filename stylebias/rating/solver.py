"""Penalised Newton solver for Bradley-Terry with style covariates, using the two-nonzeros-per-row structure.

Parameters are ``theta = [beta (one per model, base-10 units), gamma (one per feature), tau (tie model)]``.
The linear predictor of battle i is ``eta_i = L * (beta[a_i] - beta[b_i]) + z_i . gamma`` with ``L = ln 10``
(FastChat's design has +-ln 10 in the model columns). The objective is::

    F(theta) = sum_i w_i * loss(eta_i, tau; y_i) + reg / 2 * (||beta||^2 + ||gamma||^2)

With ``reg = 0.5`` and ``ties="half"`` this is exactly the function FastChat's ``compute_style_control``
minimises (summed log-loss + 0.25 ||theta||^2). FastChat stops L-BFGS after 100 iterations; here Newton's
method with the exact Hessian (dimension = models + features + tie parameter, ~135 on LMArena) runs until
the Newton step is below ``xtol`` (default 1e-9 base-10 units = 4e-7 Elo), typically in 5-8 iterations.

No BLAS in the per-battle passes. Reductions over battles use ``np.einsum`` (its own single-threaded
loops) instead of ``@``: OpenBLAS's threaded ``ddot``/``gemv`` were 2-10x *slower* on this 2-core machine
when other work runs (its worker threads spin), and they would make sums depend on the thread count.

Layout. Battles are stored *sorted by ordered pair* (model_a, model_b). The model part of every
per-battle sum is then a segment sum (``np.add.reduceat`` over contiguous runs, memory speed) followed by a
scatter over the few thousand distinct pairs, and the model part of ``eta`` is one value per pair repeated
over its run. The design matrix is never built.

Chunks. The loss, its gradient and its Hessian are sums over rows, so a ``Problem`` over any chunk of the
battles gives that chunk's share (:meth:`Problem.loss`, :meth:`Problem.data_gradient`,
:meth:`Problem.data_hessian`) and the penalty is added once (:func:`penalty_value`,
:func:`penalise_gradient`, :func:`penalise_hessian`): the in-memory fit does it for its one chunk, a fit whose
battles are partitioned over machines (:mod:`stylebias.rating.partitioned`) sums the partitions' shares first.

Step acceptance. All three likelihoods are convex, so along the Newton direction ``phi(t) = F(theta + t s)``
is convex: if ``phi'(1) <= 0`` the full step decreased ``F`` and is accepted using only the gradient at
the new point, which the next iteration needs anyway. Otherwise the step is halved until Armijo's
condition holds (objective evaluations happen only then).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.linalg
from scipy.special import expit

from .likelihood import HalfTies, Terms, TieModel

LN10 = math.log(10.0)


@dataclass
class SolveInfo:
    n_iter: int
    converged: bool
    max_step: float


@dataclass(frozen=True)
class PairLayout:
    """Battles sorted by ordered pair: ``starts``/``counts`` of each pair's run and its two models."""

    starts: np.ndarray  # int64 index of each pair's first battle
    counts: np.ndarray  # int64 battles per pair (all >= 1)
    pair_a: np.ndarray  # int32 model_a index per pair
    pair_b: np.ndarray  # int32 model_b index per pair
    n_models: int
    pair: np.ndarray  # int32 pair id per (sorted) battle

    @classmethod
    def from_sorted(
        cls, pair: np.ndarray, pair_a: np.ndarray, pair_b: np.ndarray, n_models: int
    ) -> PairLayout:
        """``pair`` must be sorted and use every id in ``range(len(pair_a))`` at least once."""
        counts = np.bincount(pair, minlength=len(pair_a)).astype(np.int64)
        if len(counts) and counts.min() < 1:
            raise ValueError("every pair id must occur at least once")
        starts = np.zeros(len(counts), dtype=np.int64)
        np.cumsum(counts[:-1], out=starts[1:])
        return cls(starts, counts, pair_a, pair_b, n_models, np.ascontiguousarray(pair, dtype=np.int32))


class Workspace:
    """Preallocated per-battle buffers for one thread's Newton iterations.

    Fresh multi-megabyte temporaries cost page faults on every NumPy call, and concurrent page faulting
    serialises bootstrap threads in the kernel; writing into reused buffers (``out=``) avoids both.
    """

    def __init__(self, n: int) -> None:
        self.n = n
        self.eta = np.empty(n)
        self.p = np.empty(n)
        self.d1 = np.empty(n)
        self.d2 = np.empty(n)
        self.tmp = np.empty(n)


class Problem:
    """The data of one fit (battles in pair order, outcomes, weights, standardised features).

    ``Z`` must be float64 in Fortran order (columns contiguous) and in the same row order as ``y``.
    Instances are read-only after construction, so bootstrap threads share one data copy and only the
    weights differ (see :meth:`with_weights`).
    """

    def __init__(
        self,
        layout: PairLayout,
        y: np.ndarray,
        Z: np.ndarray | None,
        tie: TieModel,
        reg: float,
        weights: np.ndarray | None = None,
        model_scale: float = LN10,
        workspace: Workspace | None = None,
    ) -> None:
        self.layout = layout
        self.P = layout.n_models
        self.y = y
        self.Z = None if Z is None or Z.shape[1] == 0 else np.asfortranarray(Z)
        self.K = 0 if self.Z is None else self.Z.shape[1]
        self.tie = tie
        self.E = tie.n_extra
        self.reg = float(reg)
        self.w = weights
        self.L = model_scale
        self.dim = self.P + self.K + self.E
        self._ws = workspace
        self._fast = isinstance(tie, HalfTies)

    def with_weights(self, weights: np.ndarray | None, workspace: Workspace | None = None) -> Problem:
        return Problem(self.layout, self.y, self.Z, self.tie, self.reg, weights, self.L, workspace)

    @property
    def ws(self) -> Workspace:
        if self._ws is None or self._ws.n != len(self.y):
            self._ws = Workspace(len(self.y))
        return self._ws

    # -- pieces ---------------------------------------------------------------------------------
    def split(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        P, K = self.P, self.K
        return theta[:P], theta[P : P + K], theta[P + K :]

    def eta(
        self, theta: np.ndarray, out: np.ndarray | None = None, tmp: np.ndarray | None = None
    ) -> np.ndarray:
        """Linear predictor per battle (log-odds of A over B before tie handling)."""
        beta, gamma, _ = self.split(theta)
        lay = self.layout
        per_pair = self.L * (beta[lay.pair_a] - beta[lay.pair_b])
        eta = np.take(per_pair, lay.pair, out=out)
        if self.K:
            eta += np.einsum("ij,j->i", self.Z, gamma, out=tmp)
        return eta

    def _pair_sum(self, v: np.ndarray) -> np.ndarray:
        return np.add.reduceat(v, self.layout.starts) if len(v) else np.zeros(0)

    def _model_diff(self, per_pair: np.ndarray) -> np.ndarray:
        """sum over battles of v * (e_a - e_b), from per-pair sums of v."""
        lay = self.layout
        return np.bincount(lay.pair_a, per_pair, minlength=self.P) - np.bincount(
            lay.pair_b, per_pair, minlength=self.P
        )

    def _weighted(self, v: np.ndarray) -> np.ndarray:
        return v if self.w is None else v * self.w

    def penalty(self, theta: np.ndarray) -> float:
        return penalty_value(theta, self.reg, self.P + self.K)

    def _wsum(self, v: np.ndarray) -> float:
        return float(v.sum()) if self.w is None else float(np.einsum("i,i->", v, self.w))

    def objective(self, theta: np.ndarray) -> float:
        return self.loss(theta) + self.penalty(theta)

    def loss(self, theta: np.ndarray) -> float:
        """The unpenalised part of :meth:`objective`: the summed (weighted) loss over this chunk's rows."""
        _, _, tau = self.split(theta)
        if not self.tie.feasible(tau):
            return math.inf
        if self._fast:
            # softplus(eta) - y eta = max(eta, 0) + log1p(exp(-|eta|)) - y eta, summed term by term in the
            # workspace (clobbers only ``eta`` and ``tmp``)
            ws = self.ws
            eta = self.eta(theta, ws.eta, ws.tmp)
            tmp = ws.tmp
            np.abs(eta, out=tmp)
            np.negative(tmp, out=tmp)
            np.exp(tmp, out=tmp)
            np.log1p(tmp, out=tmp)
            total = self._wsum(tmp)
            np.multiply(self.y, eta, out=tmp)
            total -= self._wsum(tmp)
            np.maximum(eta, 0.0, out=eta)
            total += self._wsum(eta)
            return total
        t = self.tie.terms(self.eta(theta), tau, self.y, derivs=False)
        return float(self._weighted(t.loss).sum())

    def terms(self, theta: np.ndarray) -> Terms | None:
        """Weighted per-battle derivatives at ``theta``; None outside the tie model's domain.

        With the default tie model the arrays live in the workspace and are valid until the next call.
        """
        _, _, tau = self.split(theta)
        if not self.tie.feasible(tau):
            return None
        if self._fast:
            ws = self.ws
            eta = self.eta(theta, ws.eta, ws.tmp)
            p = expit(eta, out=ws.p)
            d1 = np.subtract(p, self.y, out=ws.d1)
            d2 = np.subtract(1.0, p, out=ws.d2)
            d2 *= p
            if self.w is not None:
                d1 *= self.w
                d2 *= self.w
            return Terms(None, d1, d2)
        t = self.tie.terms(self.eta(theta), tau, self.y, derivs=True)
        if self.w is None:
            return t
        w = self.w
        if self.E:
            return Terms(None, t.d_eta * w, t.d2_eta * w, t.d_tau * w, t.d2_eta_tau * w, t.d2_tau * w)
        return Terms(None, t.d_eta * w, t.d2_eta * w)

    def unit_terms(self, theta: np.ndarray) -> Terms:
        """Unweighted per-battle derivatives (fresh arrays), for the sandwich's score outer product."""
        _, _, tau = self.split(theta)
        return self.tie.terms(self.eta(theta), tau, self.y, derivs=True)

    def gradient(self, theta: np.ndarray, t: Terms) -> np.ndarray:
        return penalise_gradient(self.data_gradient(t), theta, self.reg, self.P + self.K)

    def data_gradient(self, t: Terms) -> np.ndarray:
        """The unpenalised gradient from *weighted* terms: a sum over this chunk's rows only."""
        g = np.empty(self.dim)
        P, K = self.P, self.K
        v = t.d_eta
        g[:P] = self.L * self._model_diff(self._pair_sum(v))
        if K:
            g[P : P + K] = np.einsum("i,ij->j", v, self.Z)
        if self.E:
            g[P + K] = t.d_tau.sum()
        return g

    def second_moment(
        self, h: np.ndarray, h_tau: np.ndarray | None = None, h_tautau: float = 0.0
    ) -> np.ndarray:
        """``sum_i h_i x_i x_i^T`` for the battle design rows ``x_i = (L(e_a - e_b), z_i)``.

        ``h_tau`` adds the cross terms with the tie parameter (``sum_i h_tau_i x_i``), ``h_tautau`` its
        diagonal entry. Used for both the Hessian and the score outer product of the sandwich.
        """
        P, K, E, L = self.P, self.K, self.E, self.L
        lay = self.layout
        M = np.zeros((self.dim, self.dim))
        s = self._pair_sum(h)
        bb = M[:P, :P]
        bb[np.diag_indices(P)] = np.bincount(lay.pair_a, s, minlength=P) + np.bincount(
            lay.pair_b, s, minlength=P
        )
        np.add.at(bb, (lay.pair_a, lay.pair_b), -s)
        np.add.at(bb, (lay.pair_b, lay.pair_a), -s)
        bb *= L * L
        if K:
            Z = self.Z
            for j in range(K):
                hz = np.multiply(Z[:, j], h, out=self.ws.tmp)
                M[:P, P + j] = L * self._model_diff(self._pair_sum(hz))
                for i in range(j, K):
                    M[P + i, P + j] = M[P + j, P + i] = float(np.einsum("i,i->", hz, Z[:, i]))
            M[P : P + K, :P] = M[:P, P : P + K].T
        if E and h_tau is not None:
            col = P + K
            M[:P, col] = L * self._model_diff(self._pair_sum(h_tau))
            if K:
                M[P : P + K, col] = np.einsum("i,ij->j", h_tau, self.Z)
            M[col, :col] = M[:col, col]
            M[col, col] = h_tautau
        return M

    def hessian(self, t: Terms) -> np.ndarray:
        """Penalised Hessian from *weighted* terms (as returned by :meth:`terms`)."""
        return penalise_hessian(self.data_hessian(t), self.reg, self.P, self.P + self.K)

    def data_hessian(self, t: Terms) -> np.ndarray:
        """The unpenalised Hessian from *weighted* terms: a sum over this chunk's rows only."""
        h = t.d2_eta
        h_tau = h_tt = None
        if self.E:
            h_tau = t.d2_eta_tau
            h_tt = float(t.d2_tau.sum())
        return self.second_moment(h, h_tau, h_tt or 0.0)


# -- the penalty, added once to sums of per-chunk pieces ------------------------------------------------
# ``Problem`` adds it to its own chunk's loss, gradient and Hessian; a fit whose rows are split over
# machines sums the chunks' ``loss``/``data_gradient``/``data_hessian`` and adds it once with these same
# functions, so both minimise the same objective.


def penalty_value(theta: np.ndarray, reg: float, n_penalised: int) -> float:
    """``reg/2 * ||theta[:n_penalised]||^2`` (ratings and style coefficients; the tie parameter is free)."""
    core = theta[:n_penalised]
    return 0.5 * reg * float(core @ core)


def penalise_gradient(g: np.ndarray, theta: np.ndarray, reg: float, n_penalised: int) -> np.ndarray:
    """Add the penalty's gradient to the loss gradient ``g`` (in place; returns ``g``)."""
    g[:n_penalised] += reg * theta[:n_penalised]
    return g


def penalise_hessian(H: np.ndarray, reg: float, n_models: int, n_penalised: int) -> np.ndarray:
    """Add the penalty's Hessian to the loss Hessian ``H`` (in place; returns ``H``)."""
    idx = np.arange(n_penalised)
    H[idx, idx] += reg
    if reg == 0.0:
        # ratings are only identified up to a common shift: fix the shift by adding 1 1^T / P to the
        # rating block (the gradient is orthogonal to that direction, so the solution is unchanged)
        H[:n_models, :n_models] += 1.0 / n_models
    return H


def solve_psd(H: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Solve ``H x = g`` for a symmetric positive (semi)definite H: Cholesky, else least squares."""
    try:
        c = scipy.linalg.cho_factor(H, check_finite=False)
        return scipy.linalg.cho_solve(c, g, check_finite=False)
    except (np.linalg.LinAlgError, ValueError):
        return np.linalg.lstsq(H, g, rcond=None)[0]


def newton(
    problem: Problem,
    theta0: np.ndarray,
    *,
    xtol: float = 1e-9,
    max_iter: int = 100,
    free: np.ndarray | None = None,
) -> tuple[np.ndarray, SolveInfo]:
    """Minimise ``problem.objective`` by Newton steps until the largest step is below ``xtol``.

    ``free`` (a boolean mask over ``theta``): only those parameters move; the others stay at their
    ``theta0`` values (see :func:`free_step`).
    """
    theta = np.array(theta0, dtype=np.float64, copy=True)
    t = problem.terms(theta)
    if t is None:
        raise ValueError("starting point outside the tie model's domain")
    g = problem.gradient(theta, t)
    step_max = math.inf
    for it in range(1, max_iter + 1):
        if free is not None:
            step = free_step(problem, problem.hessian(t), g, free)
        else:
            step = -solve_psd(problem.hessian(t), g)
            if problem.reg == 0.0:
                step[: problem.P] -= step[: problem.P].mean()
        step_max = float(np.abs(step).max()) if len(step) else 0.0
        if step_max <= xtol:
            return theta + step, SolveInfo(it, True, step_max)
        slope = float(g @ step)
        cand = theta + step
        t_c = problem.terms(cand)
        g_c = None if t_c is None else problem.gradient(cand, t_c)
        if g_c is None or float(g_c @ step) > 0.0:
            # the full step overshot along a convex line: backtrack on the objective (Armijo)
            f0 = problem.objective(theta)
            size = 1.0
            while size > 1e-12:
                cand = theta + size * step
                if problem.objective(cand) <= f0 + 1e-4 * size * slope:
                    break
                size *= 0.5
            else:
                # no decrease possible along the Newton direction: optimal to rounding
                return theta, SolveInfo(it, step_max <= 1e-6, step_max)
            t_c = problem.terms(cand)
            g_c = problem.gradient(cand, t_c)
        theta, t, g = cand, t_c, g_c
    return theta, SolveInfo(max_iter, False, step_max)


# ------------------------------------------------------------------------------ fixed parameters
def free_hessian(problem: Problem, H: np.ndarray, free: np.ndarray) -> np.ndarray:
    """The block of the penalised Hessian ``H`` over the ``free`` parameters.

    With ``reg = 0`` :meth:`Problem.hessian` pins the common shift of the ratings with ``1 1^T / P``; when
    some parameters are held fixed they pin it already, so that term is taken out again.
    """
    Hf = H[np.ix_(free, free)].copy()
    if problem.reg == 0.0:
        rating = free[: problem.P]
        n = int(rating.sum())
        Hf[:n, :n] -= 1.0 / problem.P  # free ratings come first in the free block (theta's order)
    return Hf


def free_step(problem: Problem, H: np.ndarray, g: np.ndarray, free: np.ndarray) -> np.ndarray:
    """The Newton step when only the ``free`` parameters move: ``H_ff s_f = -g_f``, ``s = 0`` elsewhere.

    This is Newton's method on the objective restricted to the free coordinates (the others at their
    current, fixed values), so it converges to the constrained optimum; nothing else changes.
    """
    step = np.zeros_like(g)
    if free.any():
        step[free] = -solve_psd(free_hessian(problem, H, free), g[free])
    return step
