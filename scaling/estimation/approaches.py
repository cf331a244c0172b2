r"""Chinchilla Approaches 1 and 2: compute-optimal allocation without a parametric loss.

Hoffmann et al. 2022 (arXiv 2203.15556) estimate how the compute-optimal model size and data grow with
compute, :math:`N_{opt}(C) = k_N C^a` and :math:`D_{opt}(C) = k_D C^b`, in three ways. Approach 3 fits
:math:`L = E + A/N^\alpha + B/D^\beta` (:func:`scaling.fit`); this module implements the other two:

* :func:`approach1` — the **envelope of training curves** (§3.1, App. D.1): at each FLOP budget,
  the run (model size) whose loss curve is lowest there; power laws through the envelope.
* :func:`approach2` — **IsoFLOP profiles** (§3.2): at each FLOP budget, the loss minimum over model
  size, located with a parabola in log N (Hoffmann; Llama 3 §3.2.1) or an Akima interpolant (Porian et
  al. 2024, arXiv 2406.19146); power laws through the minima.
* :func:`fit_power_law` — the power-law stage on its own: least squares of :math:`\log y` on
  :math:`\log x` (e.g. Porian's compute-optimal pairs).

Conventions: ``C = k·N·D`` with ``k = table.meta['flops_per_token']`` (default 6), so every
compute-optimal point satisfies :math:`D^* = C/(k N^*)`; when the fitted points share that rule,
:math:`b = 1 - a` and :math:`k_D = 1/(k\,k_N)` exactly.
"""

from __future__ import annotations

import logging
import math
import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import stats
from scipy.interpolate import Akima1DInterpolator

from ..predict.allocation_law import PowerLaw
from .fitting import as_table
from ..errors import DataError, format_message
from ..units import FLOPS_PER_PARAM_TOKEN
from .._serialize import frame_to_json as _frame_to_json
from .._serialize import jsonable as _jsonable
from .result import Summary

__all__ = [
    "PowerLawFit",
    "fit_power_law",
    "Approach1Result",
    "approach1",
    "Approach2Result",
    "approach2",
]

log = logging.getLogger("scaling")

FloatArray = NDArray[np.float64]

#: Porian et al.'s seed-noise floor on the bootstrap spread of log N* (analysis.py, ``min_std_factor``):
#: 0.33 of the mean log-spacing of the sampled model sizes.
_PORIAN_MIN_STD_FACTOR = 0.33


# ====================================================================================================
# small validators


def _check_level(level: object, where: str) -> float:
    if isinstance(level, bool) or not isinstance(level, (int, float, np.floating)) or not 0 < float(level) < 1:
        raise DataError(format_message("Option level", f"of {where}", "a number between 0 and 1 (exclusive)",
                                       repr(level), "Pass e.g. level=0.95 for 95% intervals."))
    return float(level)


def _check_int(name: str, value: object, lower: int, where: str, hint: str = "") -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or int(value) < lower:
        raise DataError(format_message(f"Option {name}", f"of {where}", f"an integer >= {lower}", repr(value), hint))
    return int(value)


def _check_choice(name: str, value: object, choices: tuple[Any, ...], where: str, hint: str = "") -> None:
    if not any(value is c or (type(value) is type(c) and value == c) for c in choices):
        raise DataError(format_message(f"Option {name}", f"of {where}", "one of " + ", ".join(repr(c) for c in choices),
                                       repr(value), hint))


def _seed_of(rng: Any) -> int | None:
    return int(rng) if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool) else None


def _positive_array(name: str, values: ArrayLike, where: str) -> FloatArray:
    try:
        arr = np.asarray(values, dtype=np.float64).ravel()
    except (TypeError, ValueError) as e:
        raise DataError(format_message(f"Argument {name}", f"of {where}", "an array of numbers",
                                       type(values).__name__)) from e
    bad = ~(np.isfinite(arr) & (arr > 0))
    if bad.any():
        idx = np.flatnonzero(bad)
        shown = ", ".join(f"{arr[i]!r} at index {i}" for i in idx[:5])
        raise DataError(format_message(f"Argument {name}", f"of {where}", "finite and > 0 (a power law is fitted "
                                       "in log space)", shown + (f" ({len(idx)} values)" if len(idx) > 5 else ""),
                                       "Drop those points."))
    return arr


# ====================================================================================================
# power law


@dataclass(frozen=True, kw_only=True)
class PowerLawFit(PowerLaw):
    r"""A power law :math:`y = k\,x^{e}` fitted by (weighted) least squares of :math:`\log y` on :math:`\log x`.

    It *is* the package's :class:`~scaling.predict.PowerLaw` (callable, ``inverse``, ``describe``), with
    the statistics of its fit attached, so a fitted allocation plans wherever a published one does.

    Attributes
    ----------
    exponent, coefficient : float
        :math:`e` and :math:`k` (``coefficient = exp(intercept)``, in the units of y per unit x^e).
    se_exponent, se_log_coefficient : float or None
        Standard errors of the slope and intercept (``None`` with fewer than 3 points). They treat the
        points as independent with a common residual scale (weights are *relative*, as in statsmodels'
        WLS) — optimistic when the points are dependent (e.g. Approach 1's envelope).
    ci_exponent : (float, float) or None
        Student-t interval for the exponent at ``level`` (n − 2 degrees of freedom).
    level : float
    r2 : float
        (Weighted) coefficient of determination in log space.
    n_points : int
        Points with positive weight.
    weighted : bool
    """

    se_exponent: float | None
    se_log_coefficient: float | None
    ci_exponent: tuple[float, float] | None
    level: float
    r2: float
    n_points: int
    weighted: bool

    def __post_init__(self) -> None:  # fitted values are finite by construction (fit_power_law checks its data)
        pass

    def predict(self, x: ArrayLike) -> FloatArray:
        """:math:`k\\,x^e` at ``x``."""
        return np.asarray(self.coefficient * np.asarray(x, dtype=np.float64) ** self.exponent, dtype=np.float64)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-compatible dict."""
        d = {f: getattr(self, f) for f in self.__dataclass_fields__}
        d["ci_exponent"] = None if self.ci_exponent is None else list(self.ci_exponent)
        return _jsonable(d)  # type: ignore[no-any-return]


def fit_power_law(x: ArrayLike, y: ArrayLike, *, weights: ArrayLike | None = None,
                  level: float = 0.95) -> PowerLawFit:
    r"""Fit :math:`y = k\,x^{e}` by least squares of :math:`\log y` on :math:`\log x`.

    This is the power-law stage of Approaches 1 and 2 (Hoffmann et al. 2022, §3.1–3.2) and of Porian
    et al. 2024 (``power_law_fit`` in their ``analysis.py``: scikit-learn's ``LinearRegression`` on
    natural logs, optionally with ``sample_weight = 1/σ²``).

    .. math:: \hat e, \log \hat k = \arg\min_{e, \log k} \sum_i w_i (\log y_i - \log k - e \log x_i)^2

    Parameters
    ----------
    x, y : array-like
        Positive, finite values, e.g. FLOP budgets C and compute-optimal sizes N*.
    weights : array-like, optional
        Non-negative weights :math:`w_i` (e.g. inverse variances of :math:`\log y_i`); default all 1 (OLS).
    level : float
        Level of the exponent's t-interval.

    Returns
    -------
    PowerLawFit

    Raises
    ------
    DataError
        Non-positive or non-finite values, unequal lengths, fewer than two distinct x (with positive
        weight), or invalid weights.

    Examples
    --------
    >>> r = fit_power_law([1e18, 1e19, 1e20], [1e8, 10**8.5, 1e9])
    >>> round(r.exponent, 6), round(r.coefficient * 1e18 ** r.exponent / 1e8, 6)
    (0.5, 1.0)
    """
    where = "fit_power_law()"
    level = _check_level(level, where)
    xa = _positive_array("x", x, where)
    ya = _positive_array("y", y, where)
    if xa.shape != ya.shape:
        raise DataError(format_message("Arguments x and y", f"of {where}", "of equal length",
                                       f"lengths {len(xa)} and {len(ya)}", "Pass one y per x."))
    if weights is None:
        w = np.ones_like(xa)
    else:
        w = np.asarray(weights, dtype=np.float64).ravel()
        if w.shape != xa.shape or not np.all(np.isfinite(w)) or np.any(w < 0):
            got = f"length {len(w)}" if w.shape != xa.shape else "negative or non-finite values"
            raise DataError(format_message("Option weights", f"of {where}", f"{len(xa)} finite values >= 0", got,
                                           "Pass one weight per point, e.g. 1/variance of log y."))
    pos = w > 0
    if len(np.unique(xa[pos])) < 2:
        raise DataError(format_message("Argument x", f"of {where}", "at least 2 distinct values with positive weight",
                                       f"{len(np.unique(xa[pos]))} distinct value(s) among {len(xa)} points",
                                       "A slope needs two or more x values."))
    lx, ly = np.log(xa[pos]), np.log(ya[pos])
    wp = w[pos]
    W = wp.sum()
    xm, ym = float(wp @ lx / W), float(wp @ ly / W)
    sxx = float(wp @ (lx - xm) ** 2)
    slope = float(wp @ ((lx - xm) * (ly - ym)) / sxx)
    intercept = ym - slope * xm
    resid = ly - intercept - slope * lx
    ss_res = float(wp @ resid**2)
    ss_tot = float(wp @ (ly - ym) ** 2)
    r2 = 1.0 - ss_res / ss_tot if ss_tot > 0 else 1.0
    n = int(pos.sum())
    se_e = se_k = None
    ci = None
    if n > 2:
        s2 = ss_res / (n - 2)
        se_e = math.sqrt(s2 / sxx)
        se_k = math.sqrt(s2 * (1.0 / W + xm * xm / sxx))
        t = float(stats.t.ppf(0.5 + level / 2, n - 2))
        ci = (slope - t * se_e, slope + t * se_e)
    return PowerLawFit(exponent=slope, coefficient=math.exp(intercept), se_exponent=se_e, se_log_coefficient=se_k,
                       ci_exponent=ci, level=level, r2=r2, n_points=n, weighted=weights is not None)


def _slope(lx: FloatArray, ly: FloatArray, w: FloatArray | None = None) -> tuple[float, float]:
    """(slope, intercept) of weighted least squares of ly on lx (no checks; NaN if degenerate)."""
    if w is None:
        w = np.ones_like(lx)
    W = w.sum()
    if W <= 0:
        return math.nan, math.nan
    xm, ym = w @ lx / W, w @ ly / W
    sxx = w @ (lx - xm) ** 2
    if not sxx > 0:
        return math.nan, math.nan
    s = float(w @ ((lx - xm) * (ly - ym)) / sxx)
    return s, float(ym - s * xm)


def _interval(samples: FloatArray, level: float) -> tuple[float, float] | None:
    s = samples[np.isfinite(samples)]
    if len(s) < 2:
        return None
    q = (1 - level) / 2
    return float(np.quantile(s, q)), float(np.quantile(s, 1 - q))


# ====================================================================================================
# shared result machinery


def _summary_table(res: Any) -> pd.DataFrame:
    rows = {}
    for name, est, ci, fitp in (("a (N_opt ∝ C^a)", res.a, res.ci_a, res.n_fit),
                                ("b (D_opt ∝ C^b)", res.b, res.ci_b, res.d_fit)):
        lo, hi = ci if ci is not None else (math.nan, math.nan)
        rows[name] = {"estimate": est, f"{res.level:.0%} lower": lo, f"{res.level:.0%} upper": hi,
                      "r2": fitp.r2}
    rows["k_N (N_opt = k_N C^a)"] = {"estimate": res.coef_n}
    rows["k_D (D_opt = k_D C^b)"] = {"estimate": res.coef_d}
    return pd.DataFrame.from_dict(rows, orient="index")


def _ci_list(ci: tuple[float, float] | None) -> list[float] | None:
    return None if ci is None else [float(ci[0]), float(ci[1])]


# ====================================================================================================
# Approach 1


class _AllocationFits:
    """Power laws N_opt(C) = k_N C^a and D_opt(C) = k_D C^b shared by the Approach 1 and 2 results."""

    __slots__ = ()
    # provided by the dataclass subclasses
    a: float
    b: float
    coef_n: float
    coef_d: float
    n_fit: PowerLawFit
    d_fit: PowerLawFit

    def n_opt(self, flops: ArrayLike) -> FloatArray:
        """:math:`N_{opt}(C) = k_N C^a` (parameters)."""
        return self.n_fit.predict(flops)

    def d_opt(self, flops: ArrayLike) -> FloatArray:
        """:math:`D_{opt}(C) = k_D C^b` (tokens)."""
        return self.d_fit.predict(flops)

    def to_allocation_law(self) -> Any:
        """This result as an :class:`~scaling.predict.AllocationLaw` (``N_opt = k_N C^a``, with the fitted
        ``D_opt = k_D C^b`` as a companion), so ``compute_optimal(result, flops=...)`` plans with it."""
        from ..predict.allocation_law import AllocationLaw

        kind = type(self).__name__.replace("Result", "")
        return AllocationLaw(name=f"{kind} fit (N_opt = {self.coef_n:.4g} C^{self.a:.4f})", quantity="n_params",
                             law=self.n_fit, companions={"n_tokens": self.d_fit},
                             notes=(f"{kind}: D_opt = C/(6 N_opt); the separately fitted D_opt = k_D C^b is "
                                    "a companion law", "intervals of the exponents: result.ci_a, result.ci_b"))


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class Approach1Result(_AllocationFits):
    r"""Outcome of :func:`approach1` (Hoffmann et al. 2022, Approach 1). Immutable; frames are copies.

    Attributes
    ----------
    a, b : float
        Exponents of :math:`N_{opt} = k_N C^a` and :math:`D_{opt} = k_D C^b` (OLS over the envelope).
    coef_n, coef_d : float
        :math:`k_N` (parameters per FLOP^a) and :math:`k_D` (tokens per FLOP^b).
    ci_a, ci_b : (float, float) or None
        Intervals at ``level``; how they were obtained is ``ci_method``.
    ci_method : str
        ``"bootstrap over runs (percentile)"``, ``"bootstrap over envelope points (percentile)"`` or
        ``"OLS t-interval (treats envelope points as independent: far too narrow)"`` when ``n_boot=0``.
    level : float
    n_fit, d_fit : PowerLawFit
        The two least-squares fits (their standard errors treat envelope points as independent).
    n_boot, n_boot_valid : int
        Bootstrap replicates requested / usable (a replicate needs two distinct runs and two envelope points).
    envelope : pandas.DataFrame
        One row per FLOP value on the grid: ``flops``, ``n_params``, ``n_tokens``, ``loss`` (the lowest
        interpolated loss), ``run`` (which run gives it), ``n_covering`` (runs whose curve spans it).
    runs : pandas.DataFrame
        Per run: ``run``, ``n_params``, ``n_checkpoints``, ``flops_min``, ``flops_max``, ``loss_final``,
        ``envelope_share`` (fraction of grid points it wins).
    excluded : pandas.DataFrame
        Runs not used (``run``, ``reason``).
    samples : pandas.DataFrame or None
        Bootstrap replicates: ``a, b, coef_n, coef_d`` (NaN for unusable replicates).
    options : dict
        The settings used (smoothing, grid, min_runs, flops_per_token, bootstrap, rng seed).
    """

    a: float
    b: float
    coef_n: float
    coef_d: float
    ci_a: tuple[float, float] | None
    ci_b: tuple[float, float] | None
    ci_method: str
    level: float
    n_fit: PowerLawFit
    d_fit: PowerLawFit
    n_boot: int
    n_boot_valid: int
    _envelope: pd.DataFrame = field(repr=False)
    _runs: pd.DataFrame = field(repr=False)
    _excluded: pd.DataFrame = field(repr=False)
    _samples: pd.DataFrame | None = field(repr=False)
    _options: Mapping[str, Any] = field(repr=False)

    envelope = property(lambda self: self._envelope.copy())
    runs = property(lambda self: self._runs.copy())
    excluded = property(lambda self: self._excluded.copy())
    samples = property(lambda self: None if self._samples is None else self._samples.copy())
    options = property(lambda self: dict(self._options))

    def to_frame(self) -> pd.DataFrame:
        """The envelope (a copy)."""
        return self._envelope.copy()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-compatible dict (``json.dumps`` works on it)."""
        return {
            "kind": "scaling.Approach1Result",
            "a": self.a, "b": self.b, "coef_n": self.coef_n, "coef_d": self.coef_d,
            "ci_a": _ci_list(self.ci_a), "ci_b": _ci_list(self.ci_b), "ci_method": self.ci_method,
            "level": self.level, "n_fit": self.n_fit.to_dict(), "d_fit": self.d_fit.to_dict(),
            "n_boot": self.n_boot, "n_boot_valid": self.n_boot_valid,
            "envelope": _frame_to_json(self._envelope), "runs": _frame_to_json(self._runs),
            "excluded": _frame_to_json(self._excluded), "samples": _frame_to_json(self._samples),
            "options": _jsonable(dict(self._options)),
        }

    def summary(self) -> Summary:
        """Exponents with intervals and the settings that matter (``str()`` it to print)."""
        o = self._options
        env = self._envelope
        header = [
            ("method", "Approach 1: envelope of training curves (Hoffmann et al. 2022, §3.1)"),
            ("runs", f"{len(self._runs)} used, {len(self._excluded)} excluded; "
                     f"{env['run'].nunique()} appear on the envelope"),
            ("smoothing", str(o.get("smooth"))),
            ("grid", f"{len(env)} log-spaced FLOP values in [{env['flops'].min():.3g}, {env['flops'].max():.3g}] "
                     f"where >= {o.get('min_runs')} curves overlap"),
            ("FLOPs rule", f"C = {o.get('flops_per_token'):g}·N·D"),
            ("intervals", self.ci_method + (f" ({self.n_boot_valid}/{self.n_boot} usable replicates)"
                                             if self.n_boot else "")),
        ]
        notes = ["Envelope points are strongly dependent (neighbouring FLOP values share the same run); "
                 "OLS standard errors over them are not meaningful."]
        return Summary(header, _summary_table(self), notes)

    def __repr__(self) -> str:
        ci = f" [{self.ci_a[0]:.3f}, {self.ci_a[1]:.3f}]" if self.ci_a else ""
        return (f"<Approach1Result: a = {self.a:.4f}{ci}, b = {self.b:.4f}; {len(self._runs)} runs, "
                f"{len(self._envelope)} envelope points>")

    __str__ = __repr__


SmoothOption = Literal["gaussian"]


def approach1(curves: Any, *, n_flops: int = 1500, smooth: SmoothOption | None = "gaussian", window: int = 10,
              run_col: str = "run", min_runs: int = 2, flops_range: tuple[float, float] | None = None,
              level: float = 0.95, n_boot: int = 1000, bootstrap: Literal["runs", "envelope"] = "runs",
              rng: int | np.random.Generator | None = None) -> Approach1Result:
    r"""Chinchilla Approach 1: the lower envelope of training curves (Hoffmann et al. 2022, §3.1, App. D.1).

    For each run (one model size, one schedule), the loss curve is (optionally) smoothed and
    interpolated linearly in :math:`(\log C, \log L)` over the FLOPs it spans, :math:`C = k N D`.
    At ``n_flops`` log-spaced FLOP values the run with the lowest loss gives
    :math:`N_{opt}(C)` and :math:`D_{opt}(C) = C/(k N_{opt})`; then

    .. math:: \log N_{opt} = \log k_N + a \log C, \qquad \log D_{opt} = \log k_D + b \log C

    are fitted by OLS over the envelope points (Hoffmann: 1500 FLOP values, a 10-step Gaussian
    smoothing window; result a = 0.50 (0.488, 0.502), b = 0.50 (0.501, 0.512)).

    Parameters
    ----------
    curves : RunTable or DataFrame
        Checkpoints of several runs: ``n_params`` (constant within a run), ``n_tokens`` seen,
        ``flops``, ``loss`` and a run identifier column (``run_col``).
    n_flops : int
        Number of log-spaced FLOP values (default 1500, as Hoffmann).
    smooth : {'gaussian', None}
        ``'gaussian'``: :meth:`RunTable.smooth` with a centred Gaussian kernel of ``window``
        checkpoints (Hoffmann: 10 steps). ``None``: raw losses. Checkpoints sharing the same FLOPs
        within a run (e.g. digitised points) are then averaged in log-loss before interpolation.
    window : int
        Smoothing window in checkpoints.
    run_col : str
        The column identifying a run (default ``'run'``).
    min_runs : int
        A FLOP value enters the envelope only where at least this many curves span it (default 2).
        Where a single curve spans C, the "envelope" is that run by construction, which says nothing
        about the optimum; with curves that start late (digitised ones) or end early this matters.
    flops_range : (float, float), optional
        Restrict the grid to this FLOP range.
    level : float
        Interval level.
    n_boot : int
        Bootstrap replicates (0: OLS t-intervals, which are far too narrow here).
    bootstrap : {'runs', 'envelope'}
        ``'runs'`` (default): resample whole curves with replacement and recompute the envelope — the
        honest unit, since envelope points are strongly dependent. ``'envelope'``: resample envelope
        points (iid); shown for comparison only: it ignores the dependence and is anticonservative.
    rng : int or numpy.random.Generator, optional
        The single source of randomness.

    Returns
    -------
    Approach1Result

    Raises
    ------
    DataError
        Missing run column, a run whose ``n_params`` varies, fewer than two usable runs of different
        sizes, no FLOP value spanned by ``min_runs`` curves, invalid options.

    Notes
    -----
    Hoffmann et al. trained each size with four cosine horizons from step 0, so every size competes
    at every C. Curves that start late (GPT-3's digitised curves begin at ≈1e10 tokens) or share one
    horizon (GPT-3: all sizes on 300B tokens, one cosine schedule) make the envelope thin and biased:
    intermediate checkpoints of one long schedule are not horizon-matched runs (Hoffmann §3.1, App. A).
    On the 8 GPT-3 curves (``load_dataset("colpret_curves", part="gpt3")``, default options, ``rng=0``)
    this gives a = 0.624 (95% run bootstrap 0.368 to 0.799) and b = 0.376: each FLOP value is spanned
    by only 2–5 curves, the 175B curve never overlaps enough to compete, and the envelope alternates
    between the 1.3B and 2.7B curves on digitisation noise. There is no published target; it is not
    0.5 for the reasons above, and the interval says how little 8 curves determine.

    References
    ----------
    Hoffmann et al. 2022, "Training Compute-Optimal Large Language Models", arXiv 2203.15556, §3.1, App. D.1.
    """
    where = "approach1()"
    level = _check_level(level, where)
    n_flops = _check_int("n_flops", n_flops, 2, where, "Pass the number of FLOP values, e.g. 1500.")
    n_boot = _check_int("n_boot", n_boot, 0, where, "Pass 0 for no bootstrap, or e.g. 1000.")
    min_runs = _check_int("min_runs", min_runs, 1, where, "Pass e.g. min_runs=2.")
    window = _check_int("window", window, 1, where, "Pass a number of checkpoints, e.g. window=10.")
    _check_choice("smooth", smooth, ("gaussian", None), where, "Use 'gaussian' (Hoffmann) or None.")
    _check_choice("bootstrap", bootstrap, ("runs", "envelope"), where)
    table = as_table(curves, where)
    if not isinstance(run_col, str) or run_col not in table.columns:
        raise DataError(format_message(
            f"Column {run_col!r}", f"(option run_col of {where})", "a column of the table identifying each run",
            f"columns {list(table.columns)}", "Map your run id at read time (read_table(..., columns={'run': "
            "'your id'})) or pass run_col='...'."))
    if flops_range is not None:
        try:
            lo_r, hi_r = (float(v) for v in flops_range)
        except (TypeError, ValueError) as e:
            raise DataError(format_message("Option flops_range", f"of {where}", "a pair (low, high) of FLOPs",
                                           repr(flops_range))) from e
        if not (0 < lo_r < hi_r and math.isfinite(hi_r)):
            raise DataError(format_message("Option flops_range", f"of {where}", "0 < low < high < inf",
                                           repr(flops_range)))
    k = float(table.meta.get("flops_per_token") or FLOPS_PER_PARAM_TOKEN)
    if smooth == "gaussian":
        table = table.smooth("gaussian", window=window, by=run_col)
    frame = table.to_frame()

    # ---- per-run curves in (log C, log L, log D) ---------------------------------------------------
    names: list[Any] = []
    sizes: list[float] = []
    curves_c: list[FloatArray] = []
    curves_l: list[FloatArray] = []
    curves_d: list[FloatArray] = []
    run_rows = []
    excl_rows = []
    for run, sub in frame.groupby(run_col, sort=False, dropna=False):
        n_vals = np.unique(sub["n_params"].to_numpy())
        if len(n_vals) > 1:
            raise DataError(format_message(
                "Column 'n_params'", f"of run {run!r}", "constant along a run",
                f"{len(n_vals)} values ({', '.join(f'{v:.4g}' for v in n_vals[:4])})",
                f"Check that {run_col!r} identifies one run per model, or pass run_col=... naming such a column."))
        g = pd.DataFrame({"lc": np.log(sub["flops"].to_numpy()), "ll": np.log(sub["loss"].to_numpy()),
                          "ld": np.log(sub["n_tokens"].to_numpy())}).groupby("lc", sort=True).mean()
        if len(g) < 2:
            excl_rows.append({"run": run, "reason": f"{len(g)} distinct FLOP value(s): a curve needs at least 2 "
                                                    "checkpoints to interpolate"})
            continue
        names.append(run)
        sizes.append(float(n_vals[0]))
        curves_c.append(g.index.to_numpy(dtype=np.float64))
        curves_l.append(g["ll"].to_numpy(dtype=np.float64))
        curves_d.append(g["ld"].to_numpy(dtype=np.float64))
        run_rows.append({"run": run, "n_params": float(n_vals[0]), "n_checkpoints": int(len(sub)),
                         "flops_min": float(np.exp(g.index.min())), "flops_max": float(np.exp(g.index.max())),
                         "loss_final": float(np.exp(g["ll"].iloc[-1]))})
    if len(names) < 2 or len(set(sizes)) < 2:
        raise DataError(format_message(
            "The curves", f"passed to {where}", "at least 2 usable runs of different model sizes",
            f"{len(names)} usable run(s) with {len(set(sizes))} distinct n_params",
            "Approach 1 compares model sizes at equal compute: pass curves of several sizes."))
    R = len(names)
    starts = np.array([c[0] for c in curves_c])
    ends = np.array([c[-1] for c in curves_c])
    endpoints = np.concatenate([starts, ends])
    cover_at = ((starts[None, :] <= endpoints[:, None] + 1e-12) & (ends[None, :] >= endpoints[:, None] - 1e-12)).sum(1)
    ok_ends = endpoints[cover_at >= min_runs]
    if len(ok_ends) == 0:
        raise DataError(format_message(
            "The curves", f"passed to {where}", f"overlapping in FLOPs (at least {min_runs} curves spanning some C)",
            "no FLOP value spanned by that many curves", "Lower min_runs, or add runs whose FLOP ranges overlap."))
    lo, hi = float(ok_ends.min()), float(ok_ends.max())
    if flops_range is not None:
        lo, hi = max(lo, math.log(lo_r)), min(hi, math.log(hi_r))
    if not hi > lo:
        raise DataError(format_message(
            "The FLOP range", f"of {where}", f"an interval where at least {min_runs} curves overlap",
            f"[{math.exp(lo):.4g}, {math.exp(hi):.4g}]", "Check flops_range or lower min_runs."))
    grid = np.linspace(lo, hi, n_flops)
    LL = np.full((R, n_flops), np.inf)
    LD = np.full((R, n_flops), np.nan)
    for i in range(R):
        m = (grid >= starts[i] - 1e-12) & (grid <= ends[i] + 1e-12)
        LL[i, m] = np.interp(grid[m], curves_c[i], curves_l[i])
        LD[i, m] = np.interp(grid[m], curves_c[i], curves_d[i])
    covered = np.isfinite(LL)
    n_cov = covered.sum(0)
    keep = n_cov >= min_runs
    n_gap = int((~keep).sum())
    if n_gap:
        log.info("approach1: %d of %d grid FLOP values lie where fewer than %d curves overlap; left out",
                 n_gap, n_flops, min_runs)
    grid, LL, LD, covered, n_cov = grid[keep], LL[:, keep], LD[:, keep], covered[:, keep], n_cov[keep]
    best = np.argmin(LL, axis=0)
    cols = np.arange(len(grid))
    size_arr = np.array(sizes)
    lnN = np.log(size_arr[best])
    lnD = LD[best, cols]
    env = pd.DataFrame({"flops": np.exp(grid), "n_params": size_arr[best], "n_tokens": np.exp(lnD),
                        "loss": np.exp(LL[best, cols]),
                        "run": pd.array([names[i] for i in best], dtype=object), "n_covering": n_cov.astype(np.int64)})
    C = env["flops"].to_numpy()
    n_fit = fit_power_law(C, env["n_params"].to_numpy(), level=level) if len(np.unique(grid)) >= 2 else None
    if n_fit is None:
        raise DataError(format_message("The envelope", f"of {where}", "at least 2 FLOP values", f"{len(grid)}",
                                       "Increase n_flops or widen flops_range."))
    d_fit = fit_power_law(C, env["n_tokens"].to_numpy(), level=level)
    runs_df = pd.DataFrame(run_rows)
    share = np.bincount(best, minlength=R) / len(grid)
    runs_df["envelope_share"] = share
    excluded = pd.DataFrame(excl_rows, columns=["run", "reason"])

    # ---- bootstrap ---------------------------------------------------------------------------------
    samples = None
    n_valid = 0
    if n_boot:
        gen = np.random.default_rng(rng)
        out = np.full((n_boot, 4), np.nan)
        lnNr = np.log(size_arr)
        if bootstrap == "runs":
            draws = gen.integers(0, R, size=(n_boot, R))
            for r in range(n_boot):
                sel = np.zeros(R, dtype=bool)
                sel[draws[r]] = True
                if sel.sum() < 2:
                    continue
                cov_r = covered[sel].sum(0)
                ok = cov_r >= min_runs
                if ok.sum() < 2:
                    continue
                Lr = np.where(sel[:, None], LL, np.inf)[:, ok]
                br = np.argmin(Lr, axis=0)
                x = grid[ok]
                a_r, ia = _slope(x, lnNr[br])
                b_r, ib = _slope(x, LD[br, np.flatnonzero(ok)])
                out[r] = (a_r, b_r, math.exp(ia), math.exp(ib))
        else:
            draws = gen.integers(0, len(grid), size=(n_boot, len(grid)))
            for r in range(n_boot):
                idx = draws[r]
                a_r, ia = _slope(grid[idx], lnN[idx])
                b_r, ib = _slope(grid[idx], lnD[idx])
                out[r] = (a_r, b_r, math.exp(ia) if math.isfinite(ia) else math.nan,
                          math.exp(ib) if math.isfinite(ib) else math.nan)
        samples = pd.DataFrame(out, columns=["a", "b", "coef_n", "coef_d"])
        n_valid = int(np.isfinite(out[:, 0]).sum())
        ci_a = _interval(out[:, 0], level)
        ci_b = _interval(out[:, 1], level)
        ci_method = ("bootstrap over runs (percentile)" if bootstrap == "runs" else
                     "bootstrap over envelope points (percentile; ignores their dependence: too narrow)")
    else:
        ci_a, ci_b = n_fit.ci_exponent, d_fit.ci_exponent
        ci_method = "OLS t-interval (treats envelope points as independent: far too narrow)"
    options = {"n_flops": n_flops, "smooth": None if smooth is None else {"method": smooth, "window": window},
               "run_col": run_col, "min_runs": min_runs, "flops_range": None if flops_range is None else [lo_r, hi_r],
               "n_grid_dropped": n_gap, "flops_per_token": k, "bootstrap": bootstrap if n_boot else None,
               "rng": _seed_of(rng), "data_name": table.meta.get("name")}
    return Approach1Result(a=n_fit.exponent, b=d_fit.exponent, coef_n=n_fit.coefficient, coef_d=d_fit.coefficient,
                           ci_a=ci_a, ci_b=ci_b, ci_method=ci_method, level=level, n_fit=n_fit, d_fit=d_fit,
                           n_boot=n_boot, n_boot_valid=n_valid, _envelope=env, _runs=runs_df, _excluded=excluded,
                           _samples=samples, _options=types.MappingProxyType(options))


# ====================================================================================================
# Approach 2


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class Approach2Result(_AllocationFits):
    r"""Outcome of :func:`approach2` (IsoFLOP profiles). Immutable; frames are copies.

    Attributes
    ----------
    a, b : float
        Exponents of :math:`N^* = k_N C^a` and :math:`D^* = k_D C^b` fitted through the per-budget minima.
    coef_n, coef_d : float
        :math:`k_N`, :math:`k_D`.
    ci_a, ci_b : (float, float) or None
        Intervals at ``level`` (see ``ci_method``).
    ci_method : str
    level : float
    method : str
        ``'parabola'`` or ``'akima'``.
    n_fit, d_fit : PowerLawFit
        The power-law fits through the used minima (weighted when ``weighted=True``).
    n_boot, n_boot_valid : int
        Replicates requested / usable (a usable replicate has at least two budgets with a bracketed minimum).
    minima : pandas.DataFrame
        One row per budget: ``flops`` (the budget C), ``n_rows``, ``n_sizes`` (distinct N),
        ``n_min``, ``n_max`` (sampled range), ``n_params`` (N*), ``n_tokens`` (D* = C/(k N*)), ``loss``
        (L* at the minimum), ``used`` (in the power-law fit), ``reason`` (why not, else ``""``), and
        with a bootstrap ``boot_valid`` (replicates with a bracketed minimum), ``log_n_sd`` (spread of
        log N*), ``n_lower``, ``n_upper`` (percentile interval of N*), ``weight``.
    excluded : pandas.DataFrame
        The budgets not used, with ``flops`` and ``reason`` (never dropped silently).
    samples : pandas.DataFrame or None
        Bootstrap replicates of ``a, b, coef_n, coef_d``.
    options : dict
    """

    a: float
    b: float
    coef_n: float
    coef_d: float
    ci_a: tuple[float, float] | None
    ci_b: tuple[float, float] | None
    ci_method: str
    level: float
    method: str
    n_fit: PowerLawFit
    d_fit: PowerLawFit
    n_boot: int
    n_boot_valid: int
    _minima: pd.DataFrame = field(repr=False)
    _samples: pd.DataFrame | None = field(repr=False)
    _options: Mapping[str, Any] = field(repr=False)

    minima = property(lambda self: self._minima.copy())
    samples = property(lambda self: None if self._samples is None else self._samples.copy())
    options = property(lambda self: dict(self._options))

    @property
    def excluded(self) -> pd.DataFrame:
        m = self._minima
        return m.loc[~m["used"], ["flops", "n_sizes", "reason"]].reset_index(drop=True)

    def to_frame(self) -> pd.DataFrame:
        """The per-budget minima (a copy)."""
        return self._minima.copy()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-compatible dict (``json.dumps`` works on it)."""
        return {
            "kind": "scaling.Approach2Result",
            "a": self.a, "b": self.b, "coef_n": self.coef_n, "coef_d": self.coef_d,
            "ci_a": _ci_list(self.ci_a), "ci_b": _ci_list(self.ci_b), "ci_method": self.ci_method,
            "level": self.level, "method": self.method, "n_fit": self.n_fit.to_dict(), "d_fit": self.d_fit.to_dict(),
            "n_boot": self.n_boot, "n_boot_valid": self.n_boot_valid, "minima": _frame_to_json(self._minima),
            "samples": _frame_to_json(self._samples), "options": _jsonable(dict(self._options)),
        }

    def summary(self) -> Summary:
        """Exponents with intervals, the budgets used and excluded (``str()`` it to print)."""
        o = self._options
        m = self._minima
        how = ("parabola in log N of log L" + (f" over the {o.get('window')} sizes nearest the lowest loss"
                                               if o.get("window") else " over all sizes")
               if self.method == "parabola" else
               f"Akima interpolant of log L in log N, minimum on a {o.get('grid_density')}×-denser grid")
        header = [
            ("method", f"Approach 2: IsoFLOP profiles (Hoffmann et al. 2022, §3.2); {how}"),
            ("budgets", f"{int(m['used'].sum())} used of {len(m)} (column {o.get('budget_col')!r})"),
            ("power law", "weighted least squares (1/var of log N*)" if o.get("weighted") else "OLS in log-log"),
            ("FLOPs rule", f"D* = C/({o.get('flops_per_token'):g}·N*)"),
            ("intervals", self.ci_method + (f" ({self.n_boot_valid}/{self.n_boot} usable replicates)"
                                             if self.n_boot else "")),
        ]
        notes = [f"budget C = {r.flops:.4g} excluded: {r.reason}" for r in m.loc[~m["used"]].itertuples()]
        return Summary(header, _summary_table(self), notes)

    def __repr__(self) -> str:
        ci = f" [{self.ci_a[0]:.3f}, {self.ci_a[1]:.3f}]" if self.ci_a else ""
        return (f"<Approach2Result ({self.method}): a = {self.a:.4f}{ci}, b = {self.b:.4f}; "
                f"{int(self._minima['used'].sum())}/{len(self._minima)} budgets used>")

    __str__ = __repr__


def _window_slice(n: int, i: int, window: int | None) -> slice:
    if window is None or window >= n:
        return slice(0, n)
    lo = min(max(i - window // 2, 0), n - window)
    return slice(lo, lo + window)


def _parabola_min(x: FloatArray, y: FloatArray, w: FloatArray | None, window: int | None
                  ) -> tuple[float, float, str]:
    """Vertex (x*, y*) of a parabola fitted to the points around the lowest y, or (nan, nan, reason)."""
    n = len(x)
    i = int(np.argmin(y))
    sl = _window_slice(n, i, window)
    xs, ys = x[sl], y[sl]
    ws = None if w is None else np.sqrt(w[sl])
    if len(xs) < 3:
        return math.nan, math.nan, f"{len(xs)} sizes in the parabola window (3 needed)"
    xc = xs.mean()
    c2, c1, c0 = np.polyfit(xs - xc, ys, 2, w=ws)
    if not c2 > 0:
        return math.nan, math.nan, "the fitted parabola opens downward (no minimum)"
    xv = -c1 / (2 * c2)
    if not xs.min() - xc <= xv <= xs.max() - xc:
        return math.nan, math.nan, "the parabola's vertex lies outside the fitted N range (not bracketed)"
    return float(xv + xc), float(c0 + c1 * xv + c2 * xv * xv), ""


def _edge_reason(i: int, n: int) -> str:
    side = "smallest" if i == 0 else "largest"
    fix = "smaller" if i == 0 else "larger"
    return (f"the lowest loss is at the {side} model size sampled: the minimum is not bracketed "
            f"(add {fix} models at this budget)")


def _akima_min(x: FloatArray, Y: FloatArray, grid: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Grid argmin of Akima interpolants of columns of Y (shape (n, B)); NaN where it falls on the grid's edge."""
    it = Akima1DInterpolator(x, Y, axis=0)
    V = it(grid)
    V = np.where(np.isfinite(V), V, np.inf)
    j = np.argmin(V, axis=0)
    vmin = V[j, np.arange(V.shape[1])]
    edge = (j == 0) | (j == len(grid) - 1) | ~np.isfinite(vmin)
    xs = np.where(edge, np.nan, grid[j])
    ys = np.where(edge, np.nan, vmin)
    return xs, ys


def approach2(table: Any, *, budget_col: str = "flops", method: Literal["parabola", "akima"] = "parabola",
              window: int | None = 5, grid_density: int = 25, duplicates: Literal["mean", "min", "raise"] = "mean",
              weighted: bool = False, level: float = 0.95, n_boot: int = 1000,
              bootstrap: Literal["points", "noise"] = "points", noise_sd: float | None = None,
              bracket: Literal["data", "estimate"] = "data",
              estimate: Literal["direct", "bootstrap_median"] = "direct",
              rng: int | np.random.Generator | None = None) -> Approach2Result:
    r"""Chinchilla Approach 2: IsoFLOP profiles (Hoffmann et al. 2022, §3.2).

    For each FLOP budget C (rows sharing a value of ``budget_col``), the loss is modelled as a function
    of :math:`x = \log N` with :math:`y = \log L`:

    * ``method="parabola"`` — :math:`y \approx c_0 + c_1 x + c_2 x^2` by least squares (Hoffmann §3.2:
      "a parabola"; Llama 3 §3.2.1: "a second-degree polynomial"); :math:`x^* = -c_1/(2c_2)`.
    * ``method="akima"`` — an Akima interpolant :math:`y(x)` (Porian et al. 2024, ``analysis.py``:
      ``scipy.interpolate.Akima1DInterpolator``), minimised on a log-spaced grid of
      ``(n_sizes - 1)·grid_density`` sizes between the smallest and largest N sampled.

    The minimum gives :math:`N^* = e^{x^*}`, :math:`D^* = C/(k N^*)` and :math:`L^* = e^{y^*}`; then
    :math:`\log N^* = \log k_N + a \log C` and :math:`\log D^* = \log k_D + b \log C` are fitted by least
    squares (:func:`fit_power_law`), weighted by :math:`1/\widehat{\mathrm{var}}(\log N^*)` if
    ``weighted``. Hoffmann: a = 0.49 (0.462, 0.534), b = 0.51 (0.483, 0.529).

    A budget is **excluded** from the power law (listed in ``result.excluded`` with the reason, never
    silently) when it has fewer than 3 distinct sizes, when its lowest sampled loss is at the smallest
    or largest N (the minimum is not bracketed by data; ``bracket="data"``, the default), when the
    parabola opens downward or its vertex falls outside the fitted N range, or when the Akima minimum
    falls on the edge of the grid.

    Parameters
    ----------
    table : RunTable or DataFrame
        Final losses of runs at a few FLOP budgets (``n_params``, ``n_tokens``, ``flops``, ``loss``).
    budget_col : str
        Column whose values identify the budget and give C (default ``'flops'``; rows are grouped by
        exact value — round noisy FLOP values into a column of nominal budgets first).
    method : {'parabola', 'akima'}
    window : int or None
        Parabola only: fit the ``window`` sampled sizes nearest (in rank of N) the lowest loss, shifted
        inwards at the ends (default 5). ``None`` fits all sizes, as Hoffmann did on profiles designed
        around the optimum; on wide profiles (Porian's reach 2× the minimum loss) a single parabola is a
        poor model of the whole curve and biases the vertex.
    grid_density : int
        Akima only: grid points per sampled interval (Porian: 25).
    duplicates : {'mean', 'min', 'raise'}
        Rows of one budget with the same N (seeds, learning rates): average their log-losses (default),
        keep the lowest (Porian: best learning rate), or raise.
    weighted : bool
        Inverse-variance weighted power law (Porian et al.), with the per-budget variance of log N* from
        the bootstrap (so ``n_boot > 0`` is required); each spread is floored at 0.33 × the mean log-spacing
        of the sampled sizes and inflated by ``n_boot / boot_valid`` (Porian's ``analysis.py``).
    level : float
        Interval level.
    n_boot : int
        Bootstrap replicates (default 1000); 0 gives OLS t-intervals that treat the minima as exact.
    bootstrap : {'points', 'noise'}
        ``'points'`` (default): resample the (N, loss) points of each budget with replacement, re-find each
        minimum (a budget whose resampled minimum is not bracketed drops out of that replicate), refit.
        ``'noise'``: add Gaussian noise of ``noise_sd`` nats to every loss (Porian's seed-noise bootstrap:
        0.002 for RefinedWeb, 0.01 for OpenWebText2), re-find the minima, refit.
    noise_sd : float, optional
        Required with ``bootstrap='noise'``: the seed-to-seed standard deviation of the loss (nats).
    estimate : {'direct', 'bootstrap_median'}
        ``'direct'`` (default): N* is the minimum of the profile fitted to the data.
        ``'bootstrap_median'``: N* is the median of the bootstrap replicates' minima, and a budget where
        fewer than half of the replicates find a minimum is excluded — Porian et al.'s
        ``bs_median_as_obs`` (use with ``bootstrap='noise'``).
    bracket : {'data', 'estimate'}
        ``'data'`` (default): a budget counts only if a sampled size on each side has a higher loss than
        the lowest sample. ``'estimate'``: only the estimated minimum must lie strictly inside the
        sampled N range — Porian et al.'s rule, under which an Akima interpolant may place a minimum
        between the two smallest sizes although the smallest one has the lowest loss (an extrapolation
        by the interpolant's end slopes, not a bracketed minimum).
    rng : int or numpy.random.Generator, optional
        The single source of randomness.

    Returns
    -------
    Approach2Result

    Raises
    ------
    DataError
        Missing/invalid budget column, conflicting duplicates with ``duplicates='raise'``, fewer than 2
        budgets with a bracketed minimum, invalid options.

    Notes
    -----
    **Porian et al.'s five RefinedWeb configurations** (their Figure 1 chain), exponent a of N* ∝ C^a
    from the raw isoFLOP points of ``load_dataset("porian_resolving")`` (``n_boot=0`` unless stated):

    ======================================  =========  ==============  ========  ==========  ==========
    configuration (``group``)                published  akima,          akima     parabola    Porian's
                                                        bracket=        (default  (window 5)  pipeline
                                                        "estimate"      "data")               (see below)
    ======================================  =========  ==============  ========  ==========  ==========
    rw/base/long/kaplan/kaplan/train          0.8338     0.8348          0.8348    0.8668      0.8348
    rw/base/long/kaplan/standard/val          0.7009     0.7003          0.7142    0.6966      0.7009
    rw/base/short/kaplan/standard/val         0.6035     0.6055          0.6055    0.5950      0.6042
    rw/base/short/chinchilla/standard/val     0.5714     0.5715          0.5715    0.5498      0.5713
    rw/tuned/short/const/standard/val         0.4970     0.4970          0.4970    0.5008      0.4970
    ======================================  =========  ==============  ========  ==========  ==========

    With Porian's bracketing rule, Akima agrees to ≤ 0.002. The default ``bracket="data"`` drops the
    2.5e16 budget of the second configuration (its lowest loss is at the smallest model; the Akima
    minimum there is an end-slope extrapolation), giving 0.714. "Porian's pipeline" is
    ``method="akima", bootstrap="noise", noise_sd=0.002, bracket="estimate",
    estimate="bootstrap_median", n_boot=1000, rng=0``: each N* is the median of 1000 seed-noise
    replicates (their ``bs_median_as_obs``), which is what the published pairs are. It still cannot be
    reproduced exactly: their replicates came from an unseeded global RNG, and the raw points are
    already the output of their upstream steps (interpolating each training curve to the budget,
    ``fetch_flop``; keeping the best learning rate per size), which are not in the mirrored data. Their
    inverse-variance weighted variant is ``weighted=True`` (same floor rule on the spreads). The
    parabola differs by up to 0.033: a quadratic in log N is a poor model of the asymmetric profile
    away from its vertex (the bias Czech et al. 2026 describe).

    References
    ----------
    Hoffmann et al. 2022, arXiv 2203.15556, §3.2; Porian et al. 2024, arXiv 2406.19146, §2 and App.;
    Llama 3 (Dubey et al. 2024), arXiv 2407.21783, §3.2.1.
    """
    where = "approach2()"
    level = _check_level(level, where)
    _check_choice("method", method, ("parabola", "akima"), where,
                  "'parabola' is Hoffmann's/Llama 3's, 'akima' Porian et al.'s.")
    _check_choice("duplicates", duplicates, ("mean", "min", "raise"), where)
    _check_choice("bootstrap", bootstrap, ("points", "noise"), where)
    _check_choice("bracket", bracket, ("data", "estimate"), where,
                  "'data' needs a sampled size on each side of the lowest loss; 'estimate' only the estimated "
                  "minimum inside the sampled range (Porian et al.'s rule).")
    _check_choice("estimate", estimate, ("direct", "bootstrap_median"), where)
    n_boot = _check_int("n_boot", n_boot, 0, where, "Pass 0 for no bootstrap, or e.g. 1000.")
    if estimate == "bootstrap_median" and n_boot == 0:
        raise DataError(format_message(
            "Option n_boot", f"of {where} with estimate='bootstrap_median'", "> 0 (N* is the median over the "
            "bootstrap replicates)", "0", "Pass n_boot=1000, or estimate='direct'."))
    grid_density = _check_int("grid_density", grid_density, 1, where, "Porian used 25.")
    if window is not None:
        window = _check_int("window", window, 3, where, "A parabola needs at least 3 points; None uses all.")
    if not isinstance(weighted, (bool, np.bool_)):
        raise DataError(format_message("Option weighted", f"of {where}", "True or False", repr(weighted)))
    if weighted and n_boot == 0:
        raise DataError(format_message(
            "Option n_boot", f"of {where} with weighted=True", "> 0 (the weights are inverse bootstrap variances "
            "of log N*)", "0", "Pass n_boot=1000, or weighted=False."))
    if bootstrap == "noise":
        if noise_sd is None or isinstance(noise_sd, bool) or not isinstance(noise_sd, (int, float, np.floating)) \
                or not (math.isfinite(noise_sd) and noise_sd > 0):
            raise DataError(format_message(
                "Option noise_sd", f"of {where} with bootstrap='noise'", "a positive number (nats)", repr(noise_sd),
                "Pass the seed-to-seed standard deviation of the loss, e.g. noise_sd=0.002 (Porian, RefinedWeb)."))
    elif noise_sd is not None:
        raise DataError(format_message("Option noise_sd", f"of {where} with bootstrap='points'", "None",
                                       repr(noise_sd), "Pass bootstrap='noise' to use it."))
    table = as_table(table, where)
    if not isinstance(budget_col, str) or budget_col not in table.columns:
        raise DataError(format_message(
            f"Column {budget_col!r}", f"(option budget_col of {where})", "a column of the table",
            f"columns {list(table.columns)}", "Name the column holding each run's FLOP budget."))
    frame = table.to_frame()
    budget = pd.to_numeric(frame[budget_col], errors="coerce").to_numpy(dtype=np.float64)
    bad = ~(np.isfinite(budget) & (budget > 0))
    if bad.any():
        rows = np.asarray(table.source_rows)[bad]
        raise DataError(format_message(
            f"Column {budget_col!r}", f"(option budget_col of {where})", "finite and > 0 (a FLOP budget)",
            f"{frame[budget_col].iloc[np.flatnonzero(bad)[:3]].tolist()} in rows {rows[:8].tolist()}",
            "Use a numeric column of nominal budgets."))
    k = float(table.meta.get("flops_per_token") or FLOPS_PER_PARAM_TOKEN)
    lnN_all = np.log(frame["n_params"].to_numpy(dtype=np.float64))
    lnL_all = np.log(frame["loss"].to_numpy(dtype=np.float64))

    # ---- per-budget points ---------------------------------------------------------------------------
    budgets = np.unique(budget)
    per: list[dict[str, Any]] = []
    for C in budgets:
        idx = np.flatnonzero(budget == C)
        xs_raw, ys_raw = lnN_all[idx], lnL_all[idx]
        ux, inv = np.unique(xs_raw, return_inverse=True)
        counts = np.bincount(inv, minlength=len(ux)).astype(np.float64)
        if duplicates == "raise" and (counts > 1).any():
            dup = np.exp(ux[counts > 1])
            raise DataError(format_message(
                "Rows with the same n_params", f"at budget {budget_col} = {C:.6g}", "unique (duplicates='raise')",
                f"{int((counts > 1).sum())} sizes with several rows (N = {', '.join(f'{v:.4g}' for v in dup[:4])})",
                "Pass duplicates='mean' (seeds) or 'min' (best learning rate), or combine them first with "
                "table.best_of(...)."))
        if duplicates == "min":
            ys = np.full(len(ux), np.inf)
            np.minimum.at(ys, inv, ys_raw)
        else:
            ys = np.bincount(inv, weights=ys_raw, minlength=len(ux)) / counts
        w = counts if duplicates == "mean" else np.ones(len(ux))
        per.append({"C": float(C), "x": ux, "y": ys, "w": w, "n_rows": len(idx)})

    def locate(x: FloatArray, y: FloatArray, w: FloatArray | None, grid: FloatArray | None
               ) -> tuple[float, float, str]:
        n = len(x)
        if n < 3:
            return math.nan, math.nan, f"{n} distinct model size(s) (3 needed to locate a minimum)"
        i = int(np.argmin(y))
        if bracket == "data" and (i == 0 or i == n - 1):
            return math.nan, math.nan, _edge_reason(i, n)
        if method == "parabola":
            return _parabola_min(x, y, w, window)
        assert grid is not None
        g = grid[(grid >= x[0] - 1e-12) & (grid <= x[-1] + 1e-12)]
        xs, ys = _akima_min(x, y[:, None], g)
        if not np.isfinite(xs[0]):
            return math.nan, math.nan, "the Akima minimum lies on the edge of the sampled N range (not bracketed)"
        return float(xs[0]), float(ys[0]), ""

    rows = []
    for p in per:
        x = p["x"]
        p["grid"] = (np.log(np.geomspace(math.exp(x[0]), math.exp(x[-1]), max((len(x) - 1) * grid_density, 2)))
                     if method == "akima" and len(x) >= 2 else None)
        xs, ys, reason = locate(x, p["y"], p["w"], p["grid"])
        p["x_star"] = xs
        rows.append({"flops": p["C"], "n_rows": p["n_rows"], "n_sizes": len(x), "n_min": float(np.exp(x[0])),
                     "n_max": float(np.exp(x[-1])), "n_params": math.exp(xs) if math.isfinite(xs) else math.nan,
                     "n_tokens": p["C"] / (k * math.exp(xs)) if math.isfinite(xs) else math.nan,
                     "loss": math.exp(ys) if math.isfinite(ys) else math.nan, "used": bool(math.isfinite(xs)),
                     "reason": reason})
    minima = pd.DataFrame(rows)
    minima["reason"] = minima["reason"].astype(object)
    used = minima["used"].to_numpy().copy()
    if used.sum() < 2:
        reasons = "; ".join(f"C = {r.flops:.3g}: {r.reason}" for r in minima.loc[~used].itertuples())
        raise DataError(format_message(
            "The isoFLOP profiles", f"passed to {where}", "at least 2 budgets with a bracketed minimum",
            f"{int(used.sum())} of {len(minima)} ({reasons[:400]})",
            "Check budget_col (rows are grouped by its exact values) and sample sizes on both sides of the optimum."))
    for r in minima.loc[~used].itertuples():
        log.info("approach2: budget %s = %.4g excluded: %s", budget_col, r.flops, r.reason)
    used_idx = np.flatnonzero(used)
    lnC = np.log(minima["flops"].to_numpy())
    x_star = np.array([per[i]["x_star"] for i in range(len(per))])

    # ---- bootstrap of the minima -------------------------------------------------------------------
    samples = None
    n_valid = 0
    weights = None
    XB = None
    if n_boot:
        gen = np.random.default_rng(rng)
        XB = np.full((n_boot, len(per)), np.nan)
        for bi in used_idx:
            p = per[bi]
            x, y, w, n = p["x"], p["y"], p["w"], len(p["x"])
            if bootstrap == "points":
                draws = gen.integers(0, n, size=(n_boot, n))
                cache: dict[bytes, float] = {}
                for r in range(n_boot):
                    cnt = np.bincount(draws[r], minlength=n)
                    key = cnt.tobytes()
                    if key not in cache:
                        sel = cnt > 0
                        cache[key] = locate(x[sel], y[sel], (w * cnt)[sel], p["grid"])[0]
                    XB[r, bi] = cache[key]
            else:
                Y = np.log(np.clip(np.exp(y)[None, :] + noise_sd * gen.standard_normal((n_boot, n)), 1e-300, None))
                if method == "akima":
                    i_min = np.argmin(Y, axis=1)
                    xs, _ = _akima_min(x, Y.T, p["grid"])
                    if bracket == "data":
                        xs[(i_min == 0) | (i_min == n - 1)] = np.nan
                    XB[:, bi] = xs
                else:
                    for r in range(n_boot):
                        XB[r, bi] = locate(x, Y[r], w, None)[0]
        valid_b = np.isfinite(XB)
        boot_valid = valid_b.sum(0)
        minima["boot_valid"] = boot_valid.astype(np.int64)
        with np.errstate(invalid="ignore"):
            sd = np.array([np.std(XB[valid_b[:, j], j]) if boot_valid[j] >= 2 else np.nan for j in range(len(per))])
        floor = np.array([_PORIAN_MIN_STD_FACTOR * (p["x"][-1] - p["x"][0]) / max(len(p["x"]) - 1, 1) for p in per])
        sd_eff = np.where(np.isfinite(sd), np.maximum(sd, floor), floor) * (n_boot / np.maximum(boot_valid, 1))
        minima["log_n_sd"] = np.where(used, sd, np.nan)
        q = (1 - level) / 2
        lo_q = np.array([np.exp(np.quantile(XB[valid_b[:, j], j], q)) if boot_valid[j] >= 2 else np.nan
                         for j in range(len(per))])
        hi_q = np.array([np.exp(np.quantile(XB[valid_b[:, j], j], 1 - q)) if boot_valid[j] >= 2 else np.nan
                         for j in range(len(per))])
        minima["n_lower"], minima["n_upper"] = lo_q, hi_q
        if estimate == "bootstrap_median":
            # Porian et al. (analysis.py, bs_median_as_obs=True): N* is the median of the replicates'
            # minima; a budget where fewer than half of the replicates find a minimum has none.
            for j in used_idx:
                if boot_valid[j] < n_boot / 2:
                    used[j] = False
                    minima.loc[j, "reason"] = (f"only {boot_valid[j]} of {n_boot} bootstrap replicates find a "
                                               "bracketed minimum (fewer than half)")
                    continue
                x_star[j] = float(np.median(XB[valid_b[:, j], j]))
            minima["used"] = used
            ok = used
            minima["n_params"] = np.where(ok, np.exp(x_star), np.nan)
            minima["n_tokens"] = np.where(ok, minima["flops"].to_numpy() / (k * np.exp(x_star)), np.nan)
            if used.sum() < 2:
                raise DataError(format_message(
                    "The isoFLOP profiles", f"passed to {where} with estimate='bootstrap_median'",
                    "at least 2 budgets where most bootstrap replicates find a minimum", f"{int(used.sum())}",
                    "Use estimate='direct', or a smaller noise_sd."))
            used_idx = np.flatnonzero(used)
        if weighted:
            weights = np.where(used, 1.0 / sd_eff**2, 0.0)
            minima["weight"] = weights
    wu = None if weights is None else weights[used_idx]
    C_used = minima["flops"].to_numpy()[used_idx]
    n_fit = fit_power_law(C_used, np.exp(x_star[used_idx]), weights=wu, level=level)
    d_fit = fit_power_law(C_used, minima["n_tokens"].to_numpy()[used_idx], weights=wu, level=level)
    if XB is not None:
        out = np.full((n_boot, 4), np.nan)
        lnk = math.log(k)
        for r in range(n_boot):
            ok = used & np.isfinite(XB[r])
            if ok.sum() < 2:
                continue
            wr = None if weights is None else weights[ok]
            a_r, ia = _slope(lnC[ok], XB[r, ok], wr)
            b_r, ib = _slope(lnC[ok], lnC[ok] - lnk - XB[r, ok], wr)
            out[r] = (a_r, b_r, math.exp(ia), math.exp(ib))
        samples = pd.DataFrame(out, columns=["a", "b", "coef_n", "coef_d"])
        n_valid = int(np.isfinite(out[:, 0]).sum())
        ci_a, ci_b = _interval(out[:, 0], level), _interval(out[:, 1], level)
        ci_method = ("bootstrap: points resampled within each budget (percentile)" if bootstrap == "points" else
                     f"bootstrap: Gaussian seed noise of {noise_sd:g} nats on each loss (percentile)")
    else:
        ci_a, ci_b = n_fit.ci_exponent, d_fit.ci_exponent
        ci_method = "OLS t-interval (treats the minima as exact and independent)"
    options = {"budget_col": budget_col, "bracket": bracket, "estimate": estimate,
               "window": window if method == "parabola" else None,
               "grid_density": grid_density if method == "akima" else None, "duplicates": duplicates,
               "weighted": bool(weighted), "bootstrap": bootstrap if n_boot else None,
               "noise_sd": noise_sd, "flops_per_token": k, "rng": _seed_of(rng),
               "data_name": table.meta.get("name")}
    return Approach2Result(a=n_fit.exponent, b=d_fit.exponent, coef_n=n_fit.coefficient, coef_d=d_fit.coefficient,
                           ci_a=ci_a, ci_b=ci_b, ci_method=ci_method, level=level, method=method, n_fit=n_fit,
                           d_fit=d_fit, n_boot=n_boot, n_boot_valid=n_valid, _minima=minima, _samples=samples,
                           _options=types.MappingProxyType(options))
