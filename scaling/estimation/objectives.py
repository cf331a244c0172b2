"""Objectives: what a fit minimises. Always a *sum* over points (never a mean — averaging shrinks
the objective and its gradient by 1/n and makes default optimiser tolerances stop early, the bug
behind Hoffmann et al.'s too-narrow intervals; Besiroglu et al. 2024).

=====================  ==========================================================================
``loss=``              objective (w_i = weights, r_i = residual)
=====================  ==========================================================================
``"huber"``            sum_i w_i Huber_delta(log Lhat_i - log L_i)  (Hoffmann et al. 2022, eq. 3)
``"squared_log"``      sum_i w_i (log Lhat_i - log L_i)^2
``"squared"``          sum_i w_i (Lhat_i - L_i)^2  (loss space; Gadre et al. 2024)
``"huber_likelihood"`` negative log-likelihood of the log residuals under a Huber density with
                       fitted scale sigma (Besiroglu et al. 2024, Epoch's headline estimate):
                       sum_i w_i [Huber_delta(r_i/sigma) + log sigma + log Z_delta],
                       Z_delta = sqrt(2 pi)(1 - 2 Phi(-delta)) + 2 exp(-delta^2/2)/delta
=====================  ==========================================================================

Huber_delta(r) = r^2/2 for |r| <= delta, delta (|r| - delta/2) otherwise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from scipy.stats import norm

from ..errors import DataError, format_message
from ..laws.base import FloatArray, Law

__all__ = ["Objective", "LOSSES", "huber", "huber_normalizer"]

LossName = Literal["huber", "squared_log", "squared", "huber_likelihood"]
LOSSES: tuple[str, ...] = ("huber", "squared_log", "squared", "huber_likelihood")


def huber(r: FloatArray, delta: float) -> FloatArray:
    a = np.abs(r)
    return np.where(a <= delta, 0.5 * r * r, delta * (a - 0.5 * delta))


def huber_normalizer(delta: float) -> float:
    """Z_delta: the integral of exp(-Huber_delta(x)) over the real line."""
    return math.sqrt(2 * math.pi) * (1 - 2 * norm.sf(delta)) + 2 * math.exp(-0.5 * delta * delta) / delta


@dataclass(frozen=True)
class Objective:
    """A summed objective over the data for a law; evaluates a batch of free-coordinate vectors.

    For ``huber_likelihood`` the free vector carries one extra last coordinate ``log_sigma``.
    """

    law: Law
    loss: str
    delta: float
    X: dict[str, FloatArray]
    y: FloatArray  # observed loss (n,)
    _logy: FloatArray = field(init=False, repr=False, compare=False)
    _logZ: float = field(init=False, repr=False, compare=False)
    _kernel: object = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.loss not in LOSSES:
            raise DataError(format_message("Option loss", "", f"one of {list(LOSSES)}", repr(self.loss),
                                           "'huber' is Hoffmann et al.'s objective."))
        if self.loss in ("huber", "huber_likelihood") and not (self.delta > 0 and math.isfinite(self.delta)):
            raise DataError(format_message("Option delta", "", "a finite number > 0", repr(self.delta)))
        object.__setattr__(self, "_logy", np.log(self.y))
        logz = math.log(huber_normalizer(self.delta)) if self.loss == "huber_likelihood" else 0.0
        object.__setattr__(self, "_logZ", logz)
        object.__setattr__(self, "_kernel", self.law.objective_kernel(self.loss, self.delta, self.X, self.y))

    @property
    def extra(self) -> int:
        """Number of nuisance coordinates appended to the law's free vector (sigma)."""
        return 1 if self.loss == "huber_likelihood" else 0

    @property
    def log_space(self) -> bool:
        return self.loss != "squared"

    def __call__(self, w: FloatArray, weights: FloatArray | None = None, *, grad: bool = True
                 ) -> tuple[FloatArray, FloatArray | None]:
        """Objective (S,) and gradient (S, P_free [+1]) for free coordinates ``w`` (S, P_free [+1]).

        ``weights`` is (n,) or (S, n) (bootstrap resamples are integer weights), default 1.
        """
        with np.errstate(over="ignore"):
            w = np.atleast_2d(w).astype(self.y.dtype, copy=False)
        k = self.extra
        wl = w[:, :w.shape[1] - k] if k else w
        z = self.law.expand(wl)
        if grad and self._kernel is not None:
            obj, gz = self._kernel(z, weights)  # type: ignore[operator]
            bad = ~np.isfinite(obj)
            g = self.law.reduce_grad(gz)
            if bad.any():
                obj[bad] = np.inf
                g[bad] = 0.0
            return obj, g
        f, vjp = self.law.evaluate(z, self.X, grad=grad)
        W = weights
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            if self.log_space:
                r = np.log(f)
                r -= self._logy
            else:
                r = f - self.y
            if self.loss == "huber":
                psi = np.clip(r, -self.delta, self.delta)
                rho = r - 0.5 * psi
                rho *= psi  # = Huber_delta(r), without branches
            elif self.loss == "squared_log" or self.loss == "squared":
                rho = r * r
                psi = 2.0 * r
            else:  # huber_likelihood
                log_sigma = w[:, -1:]
                sigma = np.exp(log_sigma)
                x = r / sigma
                psi_x = np.clip(x, -self.delta, self.delta)
                rho = psi_x * (x - 0.5 * psi_x) + log_sigma + self._logZ
                psi = psi_x / sigma
            obj = np.sum(rho if W is None else W * rho, axis=1)
            bad = ~np.isfinite(obj)
            if bad.any():
                obj[bad] = np.inf
            if not grad or vjp is None:
                return obj, None
            u = psi if W is None else W * psi
            if self.log_space:
                u = u / f
            if bad.any():
                u[bad] = 0.0
            g = self.law.reduce_grad(vjp(u))
            if k:
                # d/d log_sigma of [Huber(r/sigma) + log sigma] = -psi(x) x + 1
                t = 1.0 - psi_x * x
                gs = np.sum(t if W is None else W * t, axis=1, keepdims=True)
                g = np.concatenate([g, gs], axis=1)
            g[bad] = 0.0
        return obj, g

    @property
    def has_hessian(self) -> bool:
        return self.law.has_second_order and self.loss != "huber_likelihood"

    def value_grad_hess(self, w: FloatArray, weights: FloatArray | None = None
                        ) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Objective (S,), gradient (S, k) and Hessian (S, k, k) in free coordinates (laws with
        ``second_order``; not for ``huber_likelihood``).

        With r the residual, rho its loss, psi = rho', psi' = rho'':
        log residuals, r = log f - log y:  H = sum w [(psi' - psi)/f^2] J J^T + sum (w psi / f) d2f;
        loss space, r = f - y:             H = sum w psi' J J^T + sum w psi d2f.
        """
        w = np.atleast_2d(np.asarray(w, dtype=float))
        z = self.law.expand(w)
        with np.errstate(all="ignore"):
            f, J, hvp2 = self.law.second_order(z, self.X)
            r = np.log(f) - self._logy if self.log_space else f - self.y
            if self.loss == "huber":
                psi = np.clip(r, -self.delta, self.delta)
                rho = psi * (r - 0.5 * psi)
                dpsi = (np.abs(r) <= self.delta).astype(float)
            else:
                rho = r * r
                psi = 2.0 * r
                dpsi = np.full_like(r, 2.0)
            W = 1.0 if weights is None else weights
            obj = np.sum(W * rho, axis=1)
            if self.log_space:
                u = W * psi / f
                k = W * (dpsi - psi) / (f * f)
            else:
                u = W * psi
                k = W * dpsi
            g = np.einsum("sn,snp->sp", u, J)
            H = np.einsum("snp,snq->spq", J * k[..., None], J) + hvp2(u)
            g = self.law.reduce_grad(g)
            H = self.law.reduce_hess(H)
        bad = ~(np.isfinite(obj) & np.all(np.isfinite(g), axis=1) & np.all(np.isfinite(H), axis=(1, 2)))
        obj[bad] = np.inf
        g[bad] = 0.0
        H[bad] = 0.0
        return obj, g, H

    def astype(self, dtype: type) -> Objective:
        """The same objective evaluated in another precision (float32 for the fast screening phase)."""
        return Objective(self.law, self.loss, self.delta, {k: np.asarray(v, dtype=dtype) for k, v in self.X.items()},
                         np.asarray(self.y, dtype=dtype))

    def residuals(self, w: FloatArray) -> FloatArray:
        """Residuals at one free vector (log space unless loss == 'squared')."""
        w = np.atleast_2d(w)
        wl = w[:, :w.shape[1] - self.extra] if self.extra else w
        f, _ = self.law.evaluate(self.law.expand(wl), self.X, grad=False)
        return (np.log(f) - self._logy)[0] if self.log_space else (f - self.y)[0]
