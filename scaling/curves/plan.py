"""Schedule planning: the non-increasing learning-rate schedule that minimises a fitted multi-power
law's predicted final loss (fixed number of steps, peak and warmup), and its gain over cosine and WSD.

The decay after the warmup is parametrised by ``n_knots`` knots ``eta_j = eta_min + (peak - eta_min) *
prod_{i <= j} u_i`` with ``u_i`` in [0, 1] (non-increasing by construction, between ``eta_min`` and
the peak), linearly interpolated to every step; the final loss and its exact gradient with respect
to every step's learning rate are O(T) (prefix sums), so L-BFGS-B handles a 72,000-step schedule.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize

from ..errors import DataError, format_message
from ..schedules import Schedule
from .laws import MULTIPOWER, Curve

__all__ = ["optimal_schedule", "ScheduleplanResult", "final_loss_and_gradient"]

FloatArray = NDArray[np.float64]


def final_loss_and_gradient(params: FloatArray, lr: FloatArray) -> tuple[float, FloatArray]:
    """Multi-power-law loss at the last step of ``lr`` and its gradient with respect to every ``lr[j]``."""
    L0, A, alpha, B, C, beta, gamma = (float(v) for v in params)
    lr = np.asarray(lr, dtype=float)
    P = np.cumsum(lr)
    Ps = P[-1]
    k = np.arange(1, lr.size)
    d = lr[1:] - lr[:-1]
    eg = lr[1:] ** (-gamma)
    x = eg * (Ps - P[k - 1])
    u = 1.0 + C * x
    G = 1.0 - u ** (-beta)
    Gp = beta * C * u ** (-beta - 1.0)
    loss = L0 + A * Ps ** (-alpha) + B * float(d @ G)
    g = np.full(lr.size, -alpha * A * Ps ** (-alpha - 1.0))
    Gk = np.r_[0.0, G]          # G(x_j) for j >= 1
    Gk1 = np.r_[G, 0.0]         # G(x_{j+1}), 0 beyond the end
    g += B * (Gk - Gk1)
    own = np.r_[0.0, d * Gp * (-gamma * x / lr[1:])]
    g += B * own
    cum = np.cumsum(np.r_[0.0, d * Gp * eg])  # sum over k <= j
    g += B * cum
    return float(loss), np.asarray(g, dtype=float)


@dataclass(frozen=True)
class ScheduleplanResult:
    """The planned schedule and the predicted final losses.

    Attributes
    ----------
    schedule : Schedule
        The optimised (non-increasing after warmup) schedule.
    final_loss : float
        Predicted loss at the last step under it.
    baselines : dict
        Predicted final loss under cosine and WSD schedules of the same length, peak and warmup.
    gain : dict
        ``baseline - final_loss`` per baseline (nats/token; > 0: the plan is better).
    """

    schedule: Schedule
    final_loss: float
    baselines: dict[str, float]
    gain: dict[str, float]
    converged: bool
    message: str


def optimal_schedule(fit: Any, total: int, peak: float, *, warmup: int = 0, eta_min: float = 1e-10,
                     n_knots: int = 96, baseline_final: float | None = None, wsd_fraction: float = 0.2,
                     max_iter: int = 500) -> ScheduleplanResult:
    """The non-increasing schedule of ``total`` steps with ``peak`` (after a linear ``warmup``) that
    minimises the multi-power law's predicted final loss.

    Parameters
    ----------
    fit : CurveFit or parameter vector
        A multi-power-law fit (:func:`~scaling.curves.fit_curves`) or its 7 parameters.
    total, peak, warmup
        Schedule length, peak learning rate, warmup steps (fixed, linear as in the fitted data).
    eta_min : float, default 1e-10
        Lowest learning rate allowed (the law needs eta > 0).
    n_knots : int, default 96
        Knots of the piecewise-linear decay.
    baseline_final : float, optional
        Final learning rate of the cosine and WSD baselines (default ``peak / 10``).
    wsd_fraction : float, default 0.2
        Decay fraction of the WSD baseline (linear decay over the last 20 % of steps).
    """
    p = np.asarray(fit.params_array() if hasattr(fit, "params_array") else fit, dtype=float)
    if getattr(fit, "law", "multipower") != "multipower" or p.size != 7:
        raise DataError(format_message("fit", "of optimal_schedule", "a multi-power-law fit (7 parameters)",
                                       getattr(fit, "law", p.size)))
    if not (0 < eta_min < peak):
        raise DataError(format_message("eta_min", "of optimal_schedule", f"in (0, peak = {peak:g})", eta_min))
    base = Schedule.constant(total, peak, warmup=warmup)  # validates total, peak, warmup
    start = max(warmup, 1)
    steps = np.arange(start, total)
    knots_x = np.linspace(start, total - 1, n_knots)
    # interpolation matrix (steps x knots), linear
    idx = np.clip(np.searchsorted(knots_x, steps, side="right") - 1, 0, n_knots - 2)
    w = (steps - knots_x[idx]) / (knots_x[idx + 1] - knots_x[idx])
    span = peak - eta_min

    def lr_of(uu: FloatArray) -> tuple[FloatArray, FloatArray]:
        kv = np.asarray(np.cumprod(uu), dtype=float)
        eta = eta_min + span * ((1 - w) * kv[idx] + w * kv[idx + 1])
        lr = base.lr.copy()
        lr[start:] = eta
        return lr, kv

    def fun(uu: FloatArray) -> tuple[float, FloatArray]:
        lr, kv = lr_of(uu)
        f, g = final_loss_and_gradient(p, lr)
        ge = g[start:] * span
        gk = np.zeros(n_knots)
        np.add.at(gk, idx, ge * (1 - w))
        np.add.at(gk, idx + 1, ge * w)
        # d kv_j / d u_i = kv_j / u_i for i <= j
        gu = np.cumsum((gk * kv)[::-1])[::-1] / np.maximum(uu, 1e-300)
        return f, gu

    # start: cosine to eta_min expressed in knots
    cos = eta_min + 0.5 * span * (1 + np.cos(np.pi * (knots_x - start) / (total - start)))
    kv0 = np.clip((cos - eta_min) / span, 1e-9, 1.0)
    u0 = np.r_[kv0[0], kv0[1:] / kv0[:-1]]
    res = minimize(fun, np.clip(u0, 1e-9, 1.0), jac=True, method="L-BFGS-B", bounds=[(1e-9, 1.0)] * n_knots,
                   options={"maxiter": max_iter, "ftol": 1e-14, "gtol": 1e-10})
    lr, _ = lr_of(res.x)
    planned = Schedule.from_lr(lr)
    final = float(MULTIPOWER.predict(p, Curve.make(planned, [total - 1]))[0])
    bf = peak / 10 if baseline_final is None else float(baseline_final)
    decay_start = int(round(total * (1 - wsd_fraction)))
    baselines = {
        "cosine": Schedule.cosine(total, peak, bf, warmup=warmup),
        "wsd": Schedule.wsd(total, peak, max(decay_start, warmup), bf, warmup=warmup, shape="linear"),
    }
    bl = {k: float(MULTIPOWER.predict(p, Curve.make(s, [total - 1]))[0]) for k, s in baselines.items()}
    return ScheduleplanResult(schedule=planned, final_loss=final, baselines=bl,
                              gain={k: v - final for k, v in bl.items()}, converged=bool(res.success),
                              message=str(res.message))
