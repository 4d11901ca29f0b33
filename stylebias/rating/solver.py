"""Penalised Newton solver for Bradley-Terry with style covariates, using the two-nonzeros-per-row structure.

Parameters are ``theta = [beta (one per model, base-10 units), gamma (one per feature), tau (tie model)]``.
The linear predictor of battle i is ``eta_i = L * (beta[a_i] - beta[b_i]) + z_i . gamma`` with ``L = ln 10``
(FastChat's design has +-ln 10 in the model columns). The objective is::

    F(theta) = sum_i w_i * loss(eta_i, tau; y_i) + reg / 2 * (||beta||^2 + ||gamma||^2)

With ``reg = 0.5`` and ``ties="half"`` this is exactly the function FastChat's ``compute_style_control``
minimises (summed log-loss + 0.25 ||theta||^2). FastChat stops L-BFGS after 100 iterations; here Newton's
method with the exact Hessian (dimension = models + features + tie parameter, ~135 on LMArena) and a
backtracking line search runs until the Newton step is below ``xtol`` (default 1e-9 base-10 units,
4e-7 Elo), typically in 6-10 iterations.

Every per-battle quantity is reduced first per distinct ordered pair (``np.bincount`` over a pair index),
then per model; the design matrix is never built.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.linalg

from .likelihood import Terms, TieModel

LN10 = math.log(10.0)


@dataclass
class SolveInfo:
    n_iter: int
    converged: bool
    objective: float
    max_step: float


class Problem:
    """The data of one fit (battles, outcomes, weights, standardised features) and its derivatives."""

    def __init__(
        self,
        pair: np.ndarray,
        pair_a: np.ndarray,
        pair_b: np.ndarray,
        n_models: int,
        y: np.ndarray,
        Z: np.ndarray | None,
        tie: TieModel,
        reg: float,
        weights: np.ndarray | None = None,
        model_scale: float = LN10,
    ) -> None:
        self.pair, self.pair_a, self.pair_b = pair, pair_a, pair_b
        self.n_pairs = len(pair_a)
        self.P = n_models
        self.y = y
        self.Z = None if Z is None or Z.shape[1] == 0 else np.asfortranarray(Z)
        self.K = 0 if self.Z is None else self.Z.shape[1]
        self.tie = tie
        self.E = tie.n_extra
        self.reg = float(reg)
        self.w = weights
        self.L = model_scale
        self.dim = self.P + self.K + self.E

    # -- pieces ---------------------------------------------------------------------------------
    def split(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        P, K = self.P, self.K
        return theta[:P], theta[P : P + K], theta[P + K :]

    def eta(self, theta: np.ndarray) -> np.ndarray:
        """Linear predictor per battle (log-odds of A over B before tie handling)."""
        beta, gamma, _ = self.split(theta)
        per_pair = self.L * (beta[self.pair_a] - beta[self.pair_b])
        eta = per_pair[self.pair]
        if self.K:
            eta = eta + self.Z @ gamma
        return eta

    def _pair_sum(self, v: np.ndarray) -> np.ndarray:
        return np.bincount(self.pair, weights=v, minlength=self.n_pairs)

    def _model_diff(self, per_pair: np.ndarray) -> np.ndarray:
        """sum over battles of v * (e_a - e_b), from per-pair sums of v."""
        return np.bincount(self.pair_a, per_pair, minlength=self.P) - np.bincount(
            self.pair_b, per_pair, minlength=self.P
        )

    def penalty(self, theta: np.ndarray) -> float:
        core = theta[: self.P + self.K]
        return 0.5 * self.reg * float(core @ core)

    def objective(self, theta: np.ndarray) -> float:
        _, _, tau = self.split(theta)
        if not self.tie.feasible(tau):
            return math.inf
        t = self.tie.terms(self.eta(theta), tau, self.y, derivs=False)
        loss = t.loss if self.w is None else t.loss * self.w
        return float(loss.sum()) + self.penalty(theta)

    def terms(self, theta: np.ndarray) -> Terms:
        _, _, tau = self.split(theta)
        return self.tie.terms(self.eta(theta), tau, self.y, derivs=True)

    def gradient(self, theta: np.ndarray, t: Terms) -> np.ndarray:
        g = np.empty(self.dim)
        P, K = self.P, self.K
        v = t.d_eta if self.w is None else t.d_eta * self.w
        g[:P] = self.L * self._model_diff(self._pair_sum(v))
        if K:
            g[P : P + K] = v @ self.Z
        if self.E:
            dt = t.d_tau if self.w is None else t.d_tau * self.w
            g[P + K] = dt.sum()
        g[: P + K] += self.reg * theta[: P + K]
        return g

    def second_moment(
        self, h: np.ndarray, h_tau: np.ndarray | None = None, h_tautau: float = 0.0
    ) -> np.ndarray:
        """``sum_i h_i x_i x_i^T`` for the battle design rows ``x_i = (L(e_a - e_b), z_i)``.

        ``h_tau`` adds the cross terms with the tie parameter (``sum_i h_tau_i x_i``), ``h_tautau`` its
        diagonal entry. Used for both the Hessian and the score outer product of the sandwich.
        """
        P, K, E, L = self.P, self.K, self.E, self.L
        M = np.zeros((self.dim, self.dim))
        s = self._pair_sum(h)
        diag = np.bincount(self.pair_a, s, minlength=P) + np.bincount(self.pair_b, s, minlength=P)
        bb = M[:P, :P]
        bb[np.diag_indices(P)] = diag
        np.add.at(bb, (self.pair_a, self.pair_b), -s)
        np.add.at(bb, (self.pair_b, self.pair_a), -s)
        bb *= L * L
        if K:
            HZ = self.Z * h[:, None]
            for j in range(K):
                M[:P, P + j] = L * self._model_diff(self._pair_sum(HZ[:, j]))
            M[P : P + K, :P] = M[:P, P : P + K].T
            M[P : P + K, P : P + K] = self.Z.T @ HZ
        if E and h_tau is not None:
            col = P + K
            M[:P, col] = L * self._model_diff(self._pair_sum(h_tau))
            if K:
                M[P : P + K, col] = h_tau @ self.Z
            M[col, :col] = M[:col, col]
            M[col, col] = h_tautau
        return M

    def hessian(self, t: Terms) -> np.ndarray:
        w = self.w
        h = t.d2_eta if w is None else t.d2_eta * w
        h_tau = h_tt = None
        if self.E:
            h_tau = t.d2_eta_tau if w is None else t.d2_eta_tau * w
            h_tt = float((t.d2_tau if w is None else t.d2_tau * w).sum())
        H = self.second_moment(h, h_tau, h_tt or 0.0)
        idx = np.arange(self.P + self.K)
        H[idx, idx] += self.reg
        if self.reg == 0.0:
            # ratings are only identified up to a common shift: fix the shift by adding 1 1^T / P to the
            # rating block (the gradient is orthogonal to that direction, so the solution is unchanged)
            H[: self.P, : self.P] += 1.0 / self.P
        return H


def solve_psd(H: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Solve ``H x = g`` for a symmetric positive (semi)definite H: Cholesky, else least squares."""
    try:
        c = scipy.linalg.cho_factor(H, check_finite=False)
        return scipy.linalg.cho_solve(c, g, check_finite=False)
    except (np.linalg.LinAlgError, ValueError):
        return np.linalg.lstsq(H, g, rcond=None)[0]


def newton(
    problem: Problem, theta0: np.ndarray, *, xtol: float = 1e-9, max_iter: int = 100
) -> tuple[np.ndarray, SolveInfo]:
    """Minimise ``problem.objective`` by damped Newton steps until the step is below ``xtol``.

    The step is accepted at the first halving that satisfies Armijo's condition; near the optimum the
    full step is always taken and convergence is quadratic.
    """
    theta = np.array(theta0, dtype=np.float64, copy=True)
    f = problem.objective(theta)
    step_max = math.inf
    for it in range(1, max_iter + 1):
        t = problem.terms(theta)
        g = problem.gradient(theta, t)
        H = problem.hessian(t)
        step = -solve_psd(H, g)
        if problem.reg == 0.0:
            step[: problem.P] -= step[: problem.P].mean()
        slope = float(g @ step)
        step_max = float(np.abs(step).max()) if len(step) else 0.0
        if step_max <= xtol:
            theta += step
            return theta, SolveInfo(it, True, problem.objective(theta), step_max)
        size = 1.0
        while True:
            cand = theta + size * step
            f_new = problem.objective(cand)
            if f_new <= f + 1e-4 * size * slope or size < 1e-10:
                break
            size *= 0.5
        if size < 1e-10 and not f_new <= f:
            # no decrease possible along the Newton direction: we are at the optimum to rounding
            return theta, SolveInfo(it, step_max <= 1e-6, f, step_max)
        theta, f = cand, f_new
    return theta, SolveInfo(max_iter, False, f, step_max)
