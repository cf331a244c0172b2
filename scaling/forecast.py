"""Forecast the loss of a run in progress, with intervals calibrated on public training curves.

``forecast(table, at)`` fits a law to the observed part of a curve (one run, or several runs
jointly) and predicts the loss at ``at`` (steps or tokens) with an interval:

* **known schedule** (``schedule=`` or a ``schedule_spec`` column): the multi-power law of Luo et al.
  2025 (:mod:`scaling.curves`), with the shape of its loss-drop term (C, beta, gamma) held at the
  mean of the authors' published fits (:data:`MULTIPOWER_PRIOR`) — a partial curve rarely shows
  enough of the decay to fit them — and (L0, A, alpha, B) fitted;
* **unknown schedule**: a power law in x, ``L = E + A x^-alpha``; the forecast then assumes the
  curve goes on as it went (no learning-rate decay ahead), says so in ``assumed`` and warns
  (:class:`~scaling.errors.ScheduleAssumptionWarning`).

Intervals: the fit's residuals along a curve are strongly autocorrelated, so a row bootstrap is far
too narrow. The residuals (log loss) are modelled as an AR(1) process; the parameter covariance is
the least-squares sandwich with that residual covariance, propagated to log L(at) (delta method).
To that *sampling* variance is added a *misspecification* term that grows with the horizon,
``(kappa * log(at / x_last))^2``, with ``kappa`` calibrated by backtests on public curves
(``docs/forecast.md``): forecasting the final loss from the first 30 % of each of the GPT-3,
datablations and multi-power-law curves, nominal 95 % intervals cover it in at least 85 % of
curves (tests/test_forecast.py).
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import stats
from scipy.optimize import least_squares

from ._serialize import frame_from_json, frame_to_json
from .errors import DataError, ForecastHorizonWarning, ScheduleAssumptionWarning, format_message
from .schedules import Schedule, as_schedule

__all__ = ["forecast", "Forecast", "MULTIPOWER_PRIOR", "KAPPA"]

FloatArray = NDArray[np.float64]

#: mean of Luo et al.'s published (C, beta, gamma) over 25M/100M/400M (src/config.py)
MULTIPOWER_PRIOR = {"C": 2.07422816, "beta": 0.59138235, "gamma": 0.64379453}
#: misspecification scale per unit of log horizon, by law (calibrated in docs/forecast.md)
KAPPA = {"powerlaw": 0.03, "multipower": 0.015}
HORIZON_WARN = 5.0


@dataclass(frozen=True)
class Forecast:
    """Forecast of the loss at ``at`` for each run.

    Attributes
    ----------
    at : float
        Where (in ``x`` units).
    x : str
        ``"step"`` or ``"n_tokens"``.
    level : float
        Nominal coverage of [lower, upper].
    law : str
        ``"multipower"`` (schedule known) or ``"powerlaw"`` (schedule unknown).
    assumed : str
        What the forecast assumed (schedule, fixed parameters) in words.
    frame : DataFrame
        One row per run: run, x_last (last observed x), n_points, estimate, lower, upper, sd_log
        (total sd of log L), sd_sampling, sd_misspecification, phi (AR(1) coefficient of residuals).
    params : dict
        Fitted parameters (shared by the runs when fitted jointly).
    """

    at: float
    x: str
    level: float
    law: str
    assumed: str
    frame: pd.DataFrame
    params: Mapping[str, float] = field(default_factory=dict)
    method: str = ""

    def _col(self, c: str) -> float | FloatArray:
        v = self.frame[c].to_numpy(float)
        return float(v[0]) if v.size == 1 else v

    @property
    def estimate(self) -> float | FloatArray:
        return self._col("estimate")

    @property
    def lower(self) -> float | FloatArray:
        return self._col("lower")

    @property
    def upper(self) -> float | FloatArray:
        return self._col("upper")

    def to_frame(self) -> pd.DataFrame:
        return self.frame.assign(at=self.at, x=self.x, level=self.level, law=self.law).copy()

    def to_dict(self) -> dict[str, Any]:
        return {"at": self.at, "x": self.x, "level": self.level, "law": self.law, "assumed": self.assumed,
                "frame": frame_to_json(self.frame), "params": {k: float(v) for k, v in self.params.items()},
                "method": self.method}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Forecast:
        fr = frame_from_json(d["frame"])
        assert fr is not None
        return cls(at=float(d["at"]), x=str(d["x"]), level=float(d["level"]), law=str(d["law"]),
                   assumed=str(d["assumed"]), frame=fr, params=dict(d["params"]), method=str(d.get("method", "")))

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), allow_nan=False)

    def __repr__(self) -> str:
        rows = "; ".join(f"{r.run}: {r.estimate:.4f} [{r.lower:.4f}, {r.upper:.4f}]" for r in self.frame.itertuples())
        return f"Forecast(at={self.at:g} {self.x}, {self.law}, {100 * self.level:g} %: {rows})"


# ---------------------------------------------------------------------------------------------
# the two laws on a partial curve: predictions in log space + Jacobians
# ---------------------------------------------------------------------------------------------

class _PowerLaw:
    """log L = log(E + A x^-alpha), parameters z = (log E, log A, alpha)."""

    names = ("E", "A", "alpha")

    def __init__(self, xs: Sequence[FloatArray], scale: float) -> None:
        self.xs = [x / scale for x in xs]
        self.scale = scale

    def logpred(self, z: FloatArray, x: FloatArray) -> tuple[FloatArray, FloatArray]:
        E, A, a = math.exp(z[0]), math.exp(z[1]), z[2]
        pw = x ** (-a)
        f = E + A * pw
        J = np.column_stack([E / f, A * pw / f, -A * pw * np.log(x) / f])
        return np.log(f), J

    def fit(self, ys: Sequence[FloatArray]) -> FloatArray:
        x = np.concatenate(self.xs)
        ly = np.log(np.concatenate(ys))
        best = None
        ymin = float(np.exp(ly).min())
        for a0 in (0.1, 0.3, 0.6, 1.0):
            for e_frac in (0.5, 0.8, 0.95):
                z0 = np.array([math.log(e_frac * ymin), math.log(max(ymin * (1 - e_frac), 1e-6)) + a0 * math.log(
                    max(float(x.min()), 1e-12)), a0])
                try:
                    r = least_squares(lambda z: self.logpred(z, x)[0] - ly, z0,
                                      jac=lambda z: self.logpred(z, x)[1], method="trf",
                                      bounds=([-30, -30, 1e-4], [math.log(ymin), 60, 5.0]), xtol=1e-14, ftol=1e-14,
                                      gtol=1e-14, max_nfev=2000)
                except ValueError:
                    continue
                if best is None or r.cost < best.cost:
                    best = r
        if best is None:
            raise DataError("The power law could not be fitted to the observed curve.")
        return np.asarray(best.x, dtype=float)

    def at(self, z: FloatArray, at: float) -> tuple[float, FloatArray]:
        f, J = self.logpred(z, np.array([at / self.scale]))
        return float(f[0]), J[0]

    def natural(self, z: FloatArray) -> dict[str, float]:
        return {"E": math.exp(z[0]), "A": math.exp(z[1]) * self.scale ** z[2], "alpha": float(z[2])}


class _MultiPower:
    """The multi-power law with (C, beta, gamma) fixed; z = (L0, log A, alpha, log B)."""

    names = ("L0", "A", "alpha", "B")

    def __init__(self, curves: Sequence[Any], prior: Mapping[str, float]) -> None:
        from .curves import MULTIPOWER
        self.law = MULTIPOWER
        self.curves = list(curves)
        self.prior = dict(prior)

    def _full(self, z: FloatArray) -> FloatArray:
        return np.array([z[0], math.exp(z[1]), z[2], math.exp(z[3]), self.prior["C"], self.prior["beta"],
                         self.prior["gamma"]])

    def logpred_curve(self, z: FloatArray, curve: Any) -> tuple[FloatArray, FloatArray]:
        p = self._full(z)
        f, J = self.law.evaluate(p, curve, jac=True)
        assert J is not None
        f = np.maximum(f, 1e-10)
        Jz = np.column_stack([J[:, 0], J[:, 1] * p[1], J[:, 2], J[:, 3] * p[3]]) / f[:, None]
        return np.log(f), Jz

    def fit(self, ys: Sequence[FloatArray]) -> FloatArray:
        from .curves import fit_curves
        fit = fit_curves(self.curves, "multipower", delta=1.0, fixed=self.prior, n_starts=4, n_polish=1, coarsen=8)
        p = fit.params
        return np.array([p["L0"], math.log(p["A"]), p["alpha"], math.log(p["B"])])

    def natural(self, z: FloatArray) -> dict[str, float]:
        return dict(zip(self.law.param_names, map(float, self._full(z))))


def _ar1(e: FloatArray) -> tuple[float, float]:
    """Lag-1 autocorrelation (clipped to [0, 0.995]) and the marginal sd of residuals ``e``."""
    e = e - e.mean()
    sd = float(np.sqrt(np.mean(e * e)))
    if e.size < 3 or sd == 0:
        return 0.0, sd
    phi = float(np.sum(e[1:] * e[:-1]) / np.sum(e * e))
    return min(max(phi, 0.0), 0.995), sd


def _ar1_cov(n: int, phi: float, sd: float) -> FloatArray:
    i = np.arange(n)
    return sd * sd * phi ** np.abs(i[:, None] - i[None, :])


def _sandwich(J: FloatArray, Sigma: FloatArray) -> FloatArray:
    JtJ_inv = np.linalg.pinv(J.T @ J)
    return JtJ_inv @ (J.T @ Sigma @ J) @ JtJ_inv


# ---------------------------------------------------------------------------------------------

def _resolve_x(frame: pd.DataFrame, x: str | None, schedule_known: bool) -> str:
    if x is not None:
        if x not in ("step", "n_tokens"):
            raise DataError(format_message("x", "of forecast", "'step' or 'n_tokens'", repr(x)))
        if x not in frame.columns or frame[x].isna().all():
            raise DataError(format_message("Column", repr(x), "in the table", f"columns {list(frame.columns)}"))
        return x
    if schedule_known:
        return "step"
    return "step" if "step" in frame.columns and frame["step"].notna().all() and "n_tokens" not in frame.columns \
        else "n_tokens"


def forecast(table: Any, at: float, law: str | None = None, level: float = 0.95,
             schedule: Schedule | Mapping[str, Any] | str | Sequence[float] | None = None, *,
             x: str | None = None, rng: Any = None, kappa: float | None = None) -> Forecast:
    """Forecast the loss at ``at`` (steps or tokens) from the observed part of one run or several.

    Parameters
    ----------
    table : RunTable
        The observed checkpoints (``loss`` with ``step`` or ``n_tokens``; several runs are fitted
        jointly with shared parameters and forecast each).
    at : float
        Where to forecast (``x`` units; e.g. the planned final step).
    law : {"multipower", "powerlaw"}, optional
        Default: ``"multipower"`` when the schedule is known, else ``"powerlaw"``.
    level : float, default 0.95
        Nominal coverage of the interval.
    schedule : Schedule, spec or per-step array, optional
        The run's learning-rate schedule (all runs; or per run through a ``schedule_spec`` column).
        It must extend to ``at``.
    x : {"step", "n_tokens"}, optional
        The curve's axis (default: ``step`` with a schedule, else ``n_tokens`` when present).
    rng : ignored
        Accepted for API symmetry; the method is deterministic (no resampling).
    kappa : float, optional
        Misspecification sd per unit of log horizon (default :data:`KAPPA` of the law).

    Returns
    -------
    Forecast

    Warns
    -----
    ScheduleAssumptionWarning
        No schedule was given: the forecast assumes no learning-rate decay beyond the data.
    ForecastHorizonWarning
        ``at`` is more than 5 x the observed span.
    """
    del rng
    frame = table.to_frame() if hasattr(table, "to_frame") else pd.DataFrame(table)
    if "loss" not in frame.columns or len(frame) == 0:
        raise DataError(format_message("table", "of forecast", "a non-empty table with a loss column",
                                       f"columns {list(frame.columns)}"))
    if not (isinstance(level, (int, float)) and 0 < level < 1):
        raise DataError(format_message("level", "of forecast", "in (0, 1)", repr(level), "e.g. level=0.95."))
    try:
        at = float(at)
    except (TypeError, ValueError):
        at = float("nan")
    if not math.isfinite(at) or at <= 0:
        raise DataError(format_message("at", "of forecast", "a positive number of steps or tokens", repr(at)))
    if "run" not in frame.columns:
        frame = frame.assign(run="run")
    has_spec = "schedule_spec" in frame.columns and frame["schedule_spec"].notna().all()
    known = schedule is not None or has_spec
    if law is None:
        law = "multipower" if known else "powerlaw"
    if law not in ("multipower", "powerlaw"):
        raise DataError(format_message("law", "of forecast", "'multipower' or 'powerlaw'", repr(law)))
    if law == "multipower" and not known:
        raise DataError(format_message("schedule", "of forecast with law='multipower'", "given",
                                       "no schedule", "Pass schedule=Schedule.cosine(total, peak, final, warmup=...) "
                                       "(CLI: --schedule cosine:total=...,peak=...)."))
    xcol = _resolve_x(frame, x, law == "multipower")
    groups = [(str(r), g.sort_values(xcol, kind="stable")) for r, g in frame.groupby("run", sort=False)]
    xs = [g[xcol].to_numpy(float) for _, g in groups]
    ys = [g["loss"].to_numpy(float) for _, g in groups]
    for (r, _), xv, yv in zip(groups, xs, ys):
        if xv.size < 4:
            raise DataError(format_message("Run", repr(r), "observed at >= 4 points to forecast",
                                           f"{xv.size} point(s)"))
        if np.any(~np.isfinite(yv) | (yv <= 0)) or np.any(~np.isfinite(xv) | (xv <= 0)):
            raise DataError(format_message(f"{xcol} and loss", f"of run {r!r}", "finite and > 0", "other values"))
    x_last = np.array([xv.max() for xv in xs])
    span = float(max(x_last))
    if at > HORIZON_WARN * span:
        warnings.warn(ForecastHorizonWarning(
            f"The forecast at {at:g} {xcol} is {at / span:.1f}x the observed span ({span:g}); beyond 5x the "
            "interval rests on the calibration far outside the horizons it was checked on."), stacklevel=2)
    if at < float(min(x_last)):
        warnings.warn(ForecastHorizonWarning(f"at = {at:g} lies inside the observed curve (up to {min(x_last):g})."),
                      stacklevel=2)
    k = KAPPA[law] if kappa is None else float(kappa)
    z = stats.norm.ppf(0.5 + level / 2)
    rows = []
    if law == "powerlaw":
        assumed = ("schedule unknown: a power law in " + xcol + " assumes the curve continues as observed (no "
                   "learning-rate decay or other change ahead); a decay would make the loss lower")
        warnings.warn(ScheduleAssumptionWarning(
            f"No schedule given: the forecast uses a schedule-blind power law in {xcol}, which assumes the curve "
            "continues as observed (no learning-rate decay ahead; a decay would make the loss lower). Pass "
            "schedule= (CLI: --schedule) to use the multi-power law."), stacklevel=2)
        scale = float(np.median(np.concatenate(xs)))
        pl = _PowerLaw(xs, scale)
        zhat = pl.fit(ys)
        params = pl.natural(zhat)
        Js, es = [], []
        for xv, yv in zip(pl.xs, ys):
            f, J = pl.logpred(zhat, xv)
            Js.append(J)
            es.append(np.log(yv) - f)
        at_fn = [lambda z_, _r=i: pl.at(z_, at) for i in range(len(groups))]
    else:
        from .curves import Curve
        curves = []
        for (r, g), xv, yv in zip(groups, xs, ys):
            if schedule is not None:
                sch = as_schedule(schedule)
            else:
                sch = Schedule.from_spec(str(g["schedule_spec"].iloc[0]))
            if sch.total <= at:
                raise DataError(format_message("The schedule", f"of run {r!r}", f"longer than at = {at:g} steps",
                                               f"{sch.total} steps", "Pass the run's full planned schedule."))
            curves.append(Curve.make(sch, xv, yv, name=r))
        mp = _MultiPower(curves, MULTIPOWER_PRIOR)
        zhat = mp.fit(ys)
        params = mp.natural(zhat)
        Js, es = [], []
        for c in curves:
            f, J = mp.logpred_curve(zhat, c)
            Js.append(J)
            assert c.loss is not None
            es.append(np.log(c.loss) - f)
        targets = [Curve.make(c.schedule, [int(round(at))]) for c in curves]
        at_fn = [lambda z_, _c=t: (float(mp.logpred_curve(z_, _c)[0][0]), mp.logpred_curve(z_, _c)[1][0])
                 for t in targets]
        assumed = (f"schedule known ({'given' if schedule is not None else 'schedule_spec column'}); multi-power law "
                   f"with its loss-drop shape held at the mean of Luo et al.'s fits (C={MULTIPOWER_PRIOR['C']:.3f}, "
                   f"beta={MULTIPOWER_PRIOR['beta']:.3f}, gamma={MULTIPOWER_PRIOR['gamma']:.3f})")
    # residual model: AR(1) per run (pooled coefficient), sandwich covariance of the parameters
    phis, sds = zip(*(_ar1(e) for e in es))
    J_all = np.concatenate(Js)
    Sigma = np.zeros((J_all.shape[0], J_all.shape[0]))
    o = 0
    for e, ph, sd in zip(es, phis, sds):
        Sigma[o:o + e.size, o:o + e.size] = _ar1_cov(e.size, ph, sd)
        o += e.size
    cov = _sandwich(J_all, Sigma)
    for i, ((r, _), xl) in enumerate(zip(groups, x_last)):
        lf, g = at_fn[i](zhat)
        var_s = max(float(g @ cov @ g), 0.0)
        sd_m = k * math.log(max(at / float(xl), 1.0))
        sd = math.sqrt(var_s + sd_m * sd_m + sds[i] ** 2)
        est = math.exp(lf)
        rows.append({"run": r, "x_last": float(xl), "n_points": int(xs[i].size), "estimate": est,
                     "lower": est * math.exp(-z * sd), "upper": est * math.exp(z * sd), "sd_log": sd,
                     "sd_sampling": math.sqrt(var_s), "sd_misspecification": sd_m, "sd_noise": float(sds[i]),
                     "phi": float(phis[i])})
    method = ("least squares on log loss; AR(1) residual model -> sandwich covariance (delta method); plus a "
              f"misspecification sd of {k:g} x log(at / x_last) calibrated on public curves")
    return Forecast(at=at, x=xcol, level=float(level), law=law, assumed=assumed, frame=pd.DataFrame(rows),
                    params=params, method=method)
