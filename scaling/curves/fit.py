"""Fit a schedule-aware curve law to one or several loss curves (shared parameters).

Objective (Luo et al. 2025's): the Huber loss (``delta``, default 1e-3) of the log-loss residuals
``log L_obs - log L_hat``, **summed** over every logged point of every curve.

Procedure (exact at the end, fast on the way):

1. *Screening grid* — the multi-power law is linear in (L0, A, B) once (alpha, C, beta, gamma) are
   given (the annealing law in (L0, A, C) given alpha): for each point of a grid of the nonlinear
   parameters the linear ones are solved by least squares on relative residuals, on a coarsened
   kernel (changes of the learning rate grouped in blocks, never across a logged step).
2. *Multi-start* — L-BFGS-B from the ``n_starts`` best grid points on the coarse kernel.
3. *Exact polish* — the best coarse end point (and up to ``n_polish`` distinct others within 1 % of it)
   is polished on the **exact** law with tight tolerances (``ftol=1e-15``, ``gtol=1e-10`` on the
   objective scaled to 1 at its start) and analytic gradients (:meth:`CurveLaw.evaluate` returns the
   Jacobian). The reported fit is the best exact optimum; ``starts`` lists the exact end points
   (``stage="exact"``) and every coarse end point (``stage="coarse"``), so agreement can be checked.

The optimiser works in log coordinates for the scale parameters (A, B, C).
"""

from __future__ import annotations

import itertools
import json
import logging
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import minimize
from threadpoolctl import threadpool_limits

from .._serialize import frame_from_json, frame_to_json
from ..errors import ConvergenceWarning, DataError, FitError, format_message
from ..schedules import Schedule, as_schedule
from .laws import Curve, CurveLaw, get_curve_law

log = logging.getLogger("scaling")

__all__ = ["CurveFit", "fit_curves", "huber_objective", "curve_metrics"]

FloatArray = NDArray[np.float64]

#: screening grids of the nonlinear parameters (natural units)
_GRIDS: dict[str, dict[str, tuple[float, ...]]] = {
    "multipower": {"alpha": (0.3, 0.45, 0.6), "C": (0.3, 1.0, 3.0), "beta": (0.1, 0.3, 0.6),
                   "gamma": (0.4, 0.65, 0.9)},
    "annealing": {"alpha": (0.1, 0.2, 0.3, 0.45, 0.6, 0.8)},
}
_LINEAR: dict[str, tuple[str, ...]] = {"multipower": ("L0", "A", "B"), "annealing": ("L0", "A", "C")}


def huber(r: FloatArray, delta: float) -> tuple[FloatArray, FloatArray]:
    a = np.abs(r)
    quad = a <= delta
    return np.where(quad, 0.5 * r * r, delta * (a - 0.5 * delta)), np.clip(r, -delta, delta)


def huber_objective(law: CurveLaw, params: ArrayLike, curves: Sequence[Curve], delta: float = 1e-3) -> float:
    """Summed Huber(delta) loss of the log residuals over every point of ``curves``."""
    p = law.params_array(params)
    total = 0.0
    for c in curves:
        if c.loss is None:
            raise DataError(format_message("Curve", repr(c.name), "a curve with losses", "no loss"))
        pred = law.predict(p, c)
        total += float(huber(np.log(c.loss) - np.log(np.maximum(pred, 1e-10)), delta)[0].sum())
    return total


def curve_metrics(pred: FloatArray, loss: FloatArray) -> dict[str, float]:
    """``PredE`` = mean relative error |L_hat - L| / L over the logged points; ``WorstE`` = its maximum."""
    rel = np.abs(pred - loss) / loss
    return {"PredE": float(rel.mean()), "WorstE": float(rel.max())}


class _Problem:
    """The optimiser's view: internal coordinates, bounds, scaled objective and gradient.

    For the multi-power law, C and gamma enter only through ``C * eta^-gamma`` with eta near the
    peak learning rate, so they are strongly correlated (a small C with a large gamma fits almost as
    well); the internal coordinate of C is ``log(C * eta_ref^-gamma)`` (eta_ref = the largest learning
    rate), which decorrelates them and cuts the iterations several-fold."""

    def __init__(self, law: CurveLaw, curves: Sequence[Curve], delta: float, free: list[int], base: FloatArray):
        self.law, self.curves, self.delta, self.free, self.base = law, curves, delta, free, base
        self.log = np.array([law.transforms[law.param_names[i]] == "log" for i in free])
        self.scale = 1.0
        self.nfev = 0
        names = [law.param_names[i] for i in free]
        self.iC = self.ig = -1
        self.lref = 0.0
        if law.name == "multipower" and "C" in names and "gamma" in names:
            self.iC, self.ig = names.index("C"), names.index("gamma")
            self.lref = math.log(max(float(c.schedule.lr.max()) for c in curves))

    def to_natural(self, z: FloatArray) -> FloatArray:
        z = np.array(z, dtype=float)
        if self.iC >= 0:
            z[self.iC] = z[self.iC] + z[self.ig] * self.lref
        p = self.base.copy()
        p[self.free] = np.where(self.log, np.exp(np.minimum(z, 700.0)), z)
        return p

    def to_internal(self, p: FloatArray) -> FloatArray:
        v = p[self.free]
        z = np.where(self.log, np.log(np.maximum(v, 1e-300)), v)
        if self.iC >= 0:
            z[self.iC] -= z[self.ig] * self.lref
        return z

    def bounds(self) -> list[tuple[float, float]]:
        out = []
        for k, (i, lg) in enumerate(zip(self.free, self.log)):
            lo, hi = self.law.bounds[self.law.param_names[i]]
            b = (math.log(max(lo, 1e-300)), math.log(hi)) if lg else (lo, hi)
            if k == self.iC:  # log C - gamma log eta_ref: C's bounds widened by gamma's range
                glo, ghi = self.law.bounds["gamma"]
                b = (b[0] - max(glo * self.lref, ghi * self.lref), b[1] - min(glo * self.lref, ghi * self.lref))
            out.append(b)
        return out

    def value_grad(self, z: FloatArray) -> tuple[float, FloatArray]:
        self.nfev += 1
        p = self.to_natural(z)
        f = 0.0
        g = np.zeros(len(self.free))
        for c in self.curves:
            pred, J = self.law.evaluate(p, c, jac=True)
            assert J is not None and c.loss is not None
            ok = pred > 1e-10
            r = np.log(c.loss) - np.log(np.where(ok, pred, 1e-10))
            h, dh = huber(r, self.delta)
            f += float(h.sum())
            w = np.where(ok, -dh / np.where(ok, pred, 1.0), 0.0)
            g += w @ J[:, self.free]
        if not np.isfinite(f):
            return 1e30, np.zeros_like(g)
        g = g * np.where(self.log, p[self.free], 1.0)
        if self.iC >= 0:
            g[self.ig] += g[self.iC] * self.lref
        return f / self.scale, g / self.scale


@dataclass(frozen=True)
class CurveFit:
    """Result of :func:`fit_curves`.

    Attributes
    ----------
    law : str
    params : dict
        Fitted natural parameters (including fixed ones).
    objective : float
        Summed Huber(delta) loss of log residuals over the fitted curves (exact law).
    curves : tuple of str
        Names of the fitted curves.
    delta : float
    fixed : dict
        Parameters held fixed.
    starts : DataFrame
        Every exactly polished end point (objective, parameters, iterations, converged), best first.
    converged : bool
    message : str
    law_options : dict
        e.g. the annealing law's ``decay``.
    """

    law: str
    params: Mapping[str, float]
    objective: float
    curves: tuple[str, ...]
    delta: float
    fixed: Mapping[str, float] = field(default_factory=dict)
    starts: pd.DataFrame = field(default_factory=pd.DataFrame)
    converged: bool = True
    message: str = ""
    law_options: Mapping[str, Any] = field(default_factory=dict)

    def law_object(self) -> CurveLaw:
        if self.law == "annealing":
            from .laws import AnnealingLaw
            return AnnealingLaw(**dict(self.law_options))
        return get_curve_law(self.law)

    def params_array(self) -> FloatArray:
        return self.law_object().params_array(dict(self.params))

    def predict(self, schedule: Schedule | Any, steps: ArrayLike | None = None) -> FloatArray:
        """Predicted loss at ``steps`` (default: every step) of a run under ``schedule``."""
        sch = as_schedule(schedule)
        s = np.arange(1, sch.total) if steps is None else steps
        c = Curve.make(sch, s)
        pred = self.law_object().predict(self.params_array(), c)
        out = np.empty_like(pred)
        out[np.argsort(np.asarray(s).reshape(-1), kind="stable")] = pred
        return out

    def evaluate(self, curve: Curve) -> dict[str, float]:
        """PredE and WorstE of the fit on a curve with losses."""
        if curve.loss is None:
            raise DataError(format_message("Curve", repr(curve.name), "a curve with losses", "no loss"))
        return curve_metrics(self.law_object().predict(self.params_array(), curve), curve.loss)

    def to_dict(self) -> dict[str, Any]:
        return {"law": self.law, "params": {k: float(v) for k, v in self.params.items()},
                "objective": float(self.objective), "curves": list(self.curves), "delta": float(self.delta),
                "fixed": {k: float(v) for k, v in self.fixed.items()}, "starts": frame_to_json(self.starts),
                "converged": bool(self.converged), "message": self.message, "law_options": dict(self.law_options)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CurveFit:
        starts = frame_from_json(d.get("starts"))
        return cls(law=d["law"], params=dict(d["params"]), objective=float(d["objective"]),
                   curves=tuple(d["curves"]), delta=float(d["delta"]), fixed=dict(d.get("fixed", {})),
                   starts=starts if starts is not None else pd.DataFrame(), converged=bool(d["converged"]),
                   message=str(d.get("message", "")), law_options=dict(d.get("law_options", {})))

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), allow_nan=False)


def _check_curves(curves: Sequence[Curve] | Curve) -> list[Curve]:
    lst = [curves] if isinstance(curves, Curve) else list(curves)
    if not lst:
        raise DataError(format_message("curves", "of fit_curves", "at least one curve", "none"))
    for c in lst:
        if not isinstance(c, Curve) or c.loss is None:
            raise DataError(format_message("Each curve", "of fit_curves", "a Curve with losses "
                                           "(Curve.make(schedule, steps, loss))", repr(c)))
    return lst


def _grid_starts(law: CurveLaw, curves: Sequence[Curve], free_nonlin: list[str], fixed: Mapping[str, float],
                 grid: Mapping[str, Sequence[float]]) -> list[tuple[float, FloatArray]]:
    """Evaluate the grid, solving the linear parameters by relative least squares; (rel. SSE, params)."""
    names = law.param_names
    lin = [n for n in _LINEAR[law.name] if n not in fixed]
    lin_idx = [names.index(n) for n in lin]
    y = np.concatenate([c.loss for c in curves if c.loss is not None])
    axes = [tuple(grid[n]) if n in free_nonlin else (fixed[n],) for n in names if n not in _LINEAR[law.name]]
    nonlin = [n for n in names if n not in _LINEAR[law.name]]
    out = []
    for combo in itertools.product(*axes):
        p = np.array([1.0] * len(names))
        for n, v in zip(nonlin, combo):
            p[names.index(n)] = v
        for n in _LINEAR[law.name]:
            if n in fixed:
                p[names.index(n)] = fixed[n]
        preds, Js = [], []
        for c in curves:
            pr, J = law.evaluate(p, c, jac=True)
            assert J is not None
            preds.append(pr)
            Js.append(J)
        J = np.concatenate(Js)
        X = J[:, lin_idx]
        # the fixed linear parameters' contribution
        fixed_part = np.zeros_like(y)
        for n in _LINEAR[law.name]:
            if n in fixed:
                fixed_part += fixed[n] * J[:, names.index(n)]
        target = y - fixed_part
        Xw = X / y[:, None]
        coef, *_ = np.linalg.lstsq(Xw, target / y, rcond=None)
        for n, v in zip(lin, coef):
            lo, hi = law.bounds[n]
            p[names.index(n)] = float(np.clip(v, max(lo, 1e-6 if law.transforms[n] == "log" else lo), hi))
        pred = np.concatenate([law.predict(p, c) for c in curves])
        rel = float(np.sum(((y - pred) / y) ** 2)) if np.all(np.isfinite(pred)) else math.inf
        out.append((rel, p))
    out.sort(key=lambda t: t[0])
    return out


def _minimize_rescaled(prob: _Problem, p: FloatArray, options: dict[str, Any]) -> Any:
    """L-BFGS-B from natural parameters ``p`` on the objective divided by its value there (``prob.scale``
    stays set, so ``res.fun * prob.scale`` is the objective), so that scipy's absolute tolerances act as
    relative ones."""
    z0 = prob.to_internal(p)
    prob.scale = 1.0
    f0, _ = prob.value_grad(z0)
    prob.scale = max(f0, 1e-300)
    return minimize(prob.value_grad, z0, jac=True, method="L-BFGS-B", bounds=prob.bounds(), options=options)


def _projected_gradient(prob: _Problem, z: FloatArray) -> float:
    """Largest gradient component (objective scaled to ~1) not blocked by a bound: the stationarity test
    used when L-BFGS-B stops on a line-search failure at the precision limit."""
    _, g = prob.value_grad(z)
    lo, hi = np.array(prob.bounds()).T
    blocked = ((z <= lo + 1e-12) & (g > 0)) | ((z >= hi - 1e-12) & (g < 0))
    return float(np.max(np.abs(np.where(blocked, 0.0, g)))) if g.size else 0.0


def fit_curves(curves: Sequence[Curve] | Curve, law: str | CurveLaw = "multipower", *, delta: float = 1e-3,
               fixed: Mapping[str, float] | None = None, starts: Sequence[Mapping[str, float]] | None = None,
               n_starts: int = 6, n_polish: int = 1, coarsen: int = 32,
               grid: Mapping[str, Sequence[float]] | None = None,
               max_iter: int = 3000) -> CurveFit:
    """Fit a schedule-aware law to one curve or several jointly (all parameters shared).

    Parameters
    ----------
    curves : Curve or sequence of Curve
        ``Curve.make(schedule, steps, loss, name=...)`` each (the schedule must cover every step).
    law : {"multipower", "annealing"} or CurveLaw
    delta : float, default 1e-3
        Huber threshold on log-loss residuals (Luo et al.'s).
    fixed : dict, optional
        Parameters held at given values (e.g. exponents shared from another model size).
    starts : list of dict, optional
        Extra starting points (natural parameters; missing ones from the best grid point).
    n_starts, n_polish : int
        Coarse multi-starts from the best grid points, and how many distinct end points are polished exactly.
    coarsen : int, default 32
        Block size of the screening kernel (1 = exact everywhere; slower).
    grid : dict, optional
        Screening values per nonlinear parameter (default: a 3-point grid each).
    max_iter : int
        Iteration limit of each L-BFGS-B run.

    Returns
    -------
    CurveFit
    """
    with threadpool_limits(limits=1, user_api="blas"):
        return _fit_curves(curves, law, delta=delta, fixed=fixed, starts=starts, n_starts=n_starts,
                           n_polish=n_polish, coarsen=coarsen, grid=grid, max_iter=max_iter)


def _fit_curves(curves: Sequence[Curve] | Curve, law: str | CurveLaw, *, delta: float,
                fixed: Mapping[str, float] | None, starts: Sequence[Mapping[str, float]] | None, n_starts: int,
                n_polish: int, coarsen: int, grid: Mapping[str, Sequence[float]] | None, max_iter: int) -> CurveFit:
    # (BLAS threads are pinned to 1: the matrix-vector products are small, and L-BFGS-B's own BLAS
    # calls spin-wait on a loaded machine, which made a fit several times slower)
    cl = get_curve_law(law)
    lst = _check_curves(curves)
    if not (isinstance(delta, (int, float)) and delta > 0):
        raise DataError(format_message("delta", "of fit_curves", "> 0", repr(delta)))
    fixed = {str(k): float(v) for k, v in (fixed or {}).items()}
    unknown = [k for k in fixed if k not in cl.param_names]
    if unknown:
        raise DataError(format_message("fixed", "of fit_curves", f"parameters of {cl.name!r} {list(cl.param_names)}",
                                       unknown))
    names = cl.param_names
    free = [i for i, n in enumerate(names) if n not in fixed]
    if not free:
        raise DataError(format_message("fixed", "of fit_curves", "leaving at least one free parameter", sorted(fixed)))
    g = {**_GRIDS.get(cl.name, {}), **{k: tuple(v) for k, v in (grid or {}).items()}}
    free_nonlin = [n for n in names if n not in _LINEAR.get(cl.name, ()) and n not in fixed]
    use_coarse = cl.name == "multipower" and coarsen > 1
    coarse = [c.with_coarsen(coarsen) for c in lst] if use_coarse else lst
    if cl.name in _GRIDS:
        screened = _grid_starts(cl, coarse, free_nonlin, fixed, g)
    else:
        base = np.array([fixed.get(n, 1.0) for n in names])
        screened = [(math.inf, base)]
    cand = [p for _, p in screened[: max(1, n_starts)]]
    for s in starts or ():
        p = cand[0].copy()
        for k, v in s.items():
            if k not in names:
                raise DataError(format_message("Start parameter", repr(k), f"one of {list(names)}", repr(k)))
            p[names.index(k)] = float(v)
        cand.append(p)
    base = cand[0].copy()
    for n, v in fixed.items():
        base[names.index(n)] = v
    # stage 2: coarse multi-start
    prob_c = _Problem(cl, coarse, delta, free, base)
    ends: list[tuple[float, FloatArray]] = []
    for p in cand:
        res = _minimize_rescaled(prob_c, p, {"maxiter": min(max_iter, 400), "ftol": 1e-10, "gtol": 1e-7})
        ends.append((float(res.fun) * prob_c.scale, prob_c.to_natural(res.x)))
        log.debug("coarse start: objective %.6e after %d iterations (%d evaluations)", res.fun * prob_c.scale,
                  res.nit, res.nfev)
    ends.sort(key=lambda t: t[0])
    coarse_rows = [{"stage": "coarse", "objective": f, **dict(zip(names, map(float, p)))} for f, p in ends]
    # polish the best end point, and other distinct ones whose coarse objective is within 1 % of it
    distinct: list[FloatArray] = []
    for f, p in ends:
        if f > ends[0][0] * 1.01:
            break
        if all(np.max(np.abs(np.log(np.abs(p) + 1e-12) - np.log(np.abs(q) + 1e-12))) > 1e-2 for q in distinct):
            distinct.append(p)
        if len(distinct) >= max(1, n_polish):
            break
    # stage 3: exact polish
    prob = _Problem(cl, lst, delta, free, base)
    rows = []
    for p in distinct:
        res = _minimize_rescaled(prob, p, {"maxiter": max_iter, "ftol": 1e-15, "gtol": 1e-10, "maxcor": 20})
        pn = prob.to_natural(res.x)
        pg = _projected_gradient(prob, res.x)
        ok = bool(res.success) or pg < 1e-4 or float(res.fun) * prob.scale < 1e-20  # (an exact interpolation)
        log.debug("projected gradient %.3g", pg)
        log.debug("exact polish: objective %.8e after %d iterations (%d evaluations): %s", res.fun * prob.scale,
                  res.nit, res.nfev, res.message)
        rows.append({"stage": "exact", "objective": float(res.fun) * prob.scale, **dict(zip(names, map(float, pn))),
                     "iterations": int(res.nit), "converged": ok, "message": str(res.message)})
    if not rows or not all(math.isfinite(r["objective"]) for r in rows if isinstance(r["objective"], float)):
        raise FitError("No start of fit_curves reached a finite objective.", starts=pd.DataFrame(rows))
    exact_rows = pd.DataFrame(rows).sort_values("objective", kind="stable").reset_index(drop=True)
    best = exact_rows.iloc[0]
    table = pd.concat([exact_rows, pd.DataFrame(coarse_rows)], ignore_index=True)
    params = {n: float(best[n]) for n in names}
    converged = bool(best["converged"])
    if not converged:
        warnings.warn(ConvergenceWarning(f"The exact polish of fit_curves did not report convergence "
                                         f"({best['message']}); raise max_iter."), stacklevel=2)
    opts = {"decay": cl.decay} if cl.name == "annealing" else {}  # type: ignore[attr-defined]
    exact = huber_objective(cl, [params[n] for n in names], lst, delta)
    return CurveFit(law=cl.name, params=params, objective=exact, curves=tuple(c.name for c in lst), delta=float(delta),
                    fixed=fixed, starts=table, converged=converged, message=str(best["message"]), law_options=opts)
