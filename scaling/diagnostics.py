"""Diagnostics of curves: locating a peak (double descent, an overfitting bump) and its second descent.

:func:`find_peak` is used by the fitter's non-monotonicity check (``NonMonotoneWarning``), by the
double-descent reproduction and the simulations; it lives here, below all of them.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _arrays as A
from .errors import DataError, format_message, format_rows

__all__ = ["find_peak", "PeakResult"]

logger = logging.getLogger("scaling")

FloatArray = NDArray[np.float64]


# --------------------------------------------------------------------------------------------------
# peak finding
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True, kw_only=True)
class PeakResult:
    """Interpolation peak and second descent of a curve, from :func:`find_peak` (immutable).

    Fields that do not apply are ``None``: when the curve has no interior local maximum at all, every
    peak and minimum field is ``None``. A peak that exists but fails the significance check
    (``prominence_z < min_z``) is still described, with ``found=False``.

    Attributes
    ----------
    found : bool
        An interior local maximum exists (and, with ``y_err``, its prominence is at least
        ``min_z`` combined standard errors).
    index_peak : int or None
        Index of the discrete maximum (the most prominent interior local maximum).
    x_peak : float or None
        Refined peak location: vertex of the parabola through the discrete maximum and its two
        neighbours in ``(log x, log y)`` (or ``(log x, y)`` for ``y_scale="linear"``); always inside
        ``x_bracket``.
    x_peak_lower, x_peak_upper : float or None
        Conservative interval for the location (see :func:`find_peak`, step 4): the grid bracket
        (``interval_method="bracket"``, without ``y_err``) or the bootstrap union of the brackets of
        the resampled discrete maxima (``interval_method="bootstrap"``).
    x_bracket : tuple of float or None
        ``(x[k-1], x[k+1])`` around the discrete maximum ``k``.
    y_peak : float or None
        Observed ``y`` at the discrete maximum (the peak height; not extrapolated).
    prominence : float or None
        ``y_peak`` minus the higher of the two lowest points separating it from higher ground
        (topographic prominence), in ``y`` units.
    prominence_z : float or None
        The prominence in standard errors on the ``y_scale`` (log: relative errors), when ``y_err`` is
        given.
    x_first_min, y_first_min : float or None
        Lowest observed point before the peak (the end of the first descent, or the start of the
        curve); not refined.
    x_second_min, y_second_min : float or None
        Lowest point after the peak: the second-descent minimum (refined by a parabola when it is an
        interior point, like ``x_peak``; ``y_second_min`` is the observed value).
    second_min_at_edge : bool or None
        The second-descent minimum is the last point: the descent may continue beyond the data.
    has_second_descent : bool
        ``found`` and the curve falls after the peak (by at least ``min_z`` standard errors when
        ``y_err`` is given).
    second_below_first : bool or None
        ``y_second_min < y_first_min``: the second descent beats the first (the over-parameterised
        regime wins).
    level : float
        Interval level used.
    interval_method : {"bootstrap", "bracket"} or None
    n_boot : int
        Bootstrap draws used (0 without ``y_err``).
    bootstrap_found_fraction : float or None
        Fraction of bootstrap draws with an interior peak (the interval uses those draws).
    """

    found: bool
    index_peak: int | None = None
    x_peak: float | None = None
    x_peak_lower: float | None = None
    x_peak_upper: float | None = None
    x_bracket: tuple[float, float] | None = None
    y_peak: float | None = None
    prominence: float | None = None
    prominence_z: float | None = None
    x_first_min: float | None = None
    y_first_min: float | None = None
    x_second_min: float | None = None
    y_second_min: float | None = None
    second_min_at_edge: bool | None = None
    has_second_descent: bool = False
    second_below_first: bool | None = None
    level: float = 0.95
    interval_method: str | None = None
    n_boot: int = 0
    bootstrap_found_fraction: float | None = None


def _prominent_peak(y: FloatArray) -> tuple[int, float, int] | None:
    """Most prominent interior local maximum: ``(index, prominence, base_index)`` or None."""
    m = len(y)
    best: tuple[int, float, int] | None = None
    for k in range(1, m - 1):
        if not (y[k] > y[k - 1] and y[k] >= y[k + 1]):
            continue
        # walk outwards until higher ground (or the edge); the lowest point on each side is a base
        i = k - 1
        while i >= 0 and y[i] <= y[k]:
            i -= 1
        left = k - 1 - int(np.argmin(y[i + 1:k][::-1]))
        j = k + 1
        while j < m and y[j] <= y[k]:
            j += 1
        right = k + 1 + int(np.argmin(y[k + 1:j]))
        base = left if y[left] >= y[right] else right
        prom = float(y[k] - y[base])
        if best is None or prom > best[1]:
            best = (k, prom, base)
    return best


def _vertex(u: FloatArray, v: FloatArray, k: int, kind: Literal["max", "min"]) -> float:
    """Abscissa of the parabola through points ``k-1, k, k+1`` of ``(u, v)``; clipped to the bracket."""
    u0, u1, u2 = u[k - 1], u[k], u[k + 1]
    v0, v1, v2 = v[k - 1], v[k], v[k + 1]
    denom = (u0 - u1) * (u0 - u2) * (u1 - u2)
    a = (u2 * (v1 - v0) + u1 * (v0 - v2) + u0 * (v2 - v1)) / denom
    b = (u2 * u2 * (v0 - v1) + u1 * u1 * (v2 - v0) + u0 * u0 * (v1 - v2)) / denom
    if (kind == "max" and not a < 0) or (kind == "min" and not a > 0):
        return float(u1)
    return float(np.clip(-b / (2.0 * a), u0, u2))


def find_peak(x: ArrayLike, y: ArrayLike, y_err: ArrayLike | None = None, *,
              y_scale: Literal["log", "linear"] = "log", level: float = 0.95, min_z: float = 2.0,
              n_boot: int = 1000, rng: int | np.random.Generator | None = None) -> PeakResult:
    r"""Detect the interpolation peak of a non-monotone curve and the second descent after it.

    Method

    1. **Peak.** Among the interior local maxima of ``y`` (``y[k] > y[k-1]`` and ``y[k] >= y[k+1]``)
       take the one with the largest topographic *prominence* (height above the higher of the lowest
       points separating it from higher ground or the ends of the curve). Prominence, not the global
       maximum, is used because a loss curve usually *starts* highest (e.g. datablations, Muennighoff
       et al. 2023, arXiv 2305.16264, App.: the 14M-parameter model on 100M unique tokens peaks at
       20B tokens although its first point is higher).
    2. **Significance** (only with ``y_err``). The peak counts as ``found`` when it stands
       ``prominence_z >= min_z`` standard errors above its base, computed on the ``y_scale``: for
       ``"log"``, :math:`z = (\log y_k - \log y_b)/\sqrt{(e_k/y_k)^2 + (e_b/y_b)^2}` (delta method;
       appropriate for positive, right-skewed Monte-Carlo means such as a risk near the interpolation
       threshold, whose standard error can be as large as the mean), for ``"linear"``
       :math:`z = (y_k - y_b)/\sqrt{e_k^2 + e_b^2}`.
    3. **Location.** Sub-grid refinement by three-point parabolic interpolation in
       :math:`(\log x, \log y)` around the discrete maximum ``k`` (``y_scale="log"``; exact for a
       log-normal-shaped bump) or in :math:`(\log x, y)` (``"linear"``). The vertex always lies in the
       bracket :math:`[x_{k-1}, x_{k+1}]`.
    4. **Interval** (conservative). The true maximiser of a curve that is unimodal between grid
       points lies in the bracket :math:`[x_{k-1}, x_{k+1}]` of the discrete maximum; without ``y_err``
       that bracket is the interval (``interval_method="bracket"``). With ``y_err`` a parametric
       bootstrap also accounts for noise moving the discrete maximum: redraw
       :math:`y^* = y + e\,z` (``"linear"``) or :math:`\log y^* = \log y + (e/y)\,z` (``"log"``),
       :math:`z \sim N(0, 1)`, find the peak index :math:`k^*` of each of ``n_boot`` draws, and report
       the lower ``(1-level)/2`` percentile of :math:`x_{k^*-1}` and the upper percentile of
       :math:`x_{k^*+1}` (``interval_method="bootstrap"``). Draws without an interior peak are dropped
       and counted in ``bootstrap_found_fraction``. The interval therefore covers both the grid
       discretisation and the noise; it is never narrower than the grid allows, which is the honest
       answer for a pole-like peak (the ridgeless risk diverges at :math:`p = n`) that a parabola
       cannot localise.
    5. **Second descent.** The lowest point after the peak (``x_second_min``, refined by a parabola if
       interior) and the lowest point before it (``x_first_min``); ``has_second_descent`` when the
       curve falls after the peak (by ``min_z`` standard errors with ``y_err``), ``second_below_first``
       when the second minimum is below the first (point values), ``second_min_at_edge`` when it is the
       last point (the descent may continue beyond the data).

    Parameters
    ----------
    x : array_like
        Strictly increasing, positive abscissae (``gamma``, parameters, tokens; typically
        log-spaced).
    y : array_like
        Curve values (risk, loss); finite, and > 0 for ``y_scale="log"``.
    y_err : array_like or float, optional
        Standard errors of ``y`` (>= 0), scalar or per point; enables the bootstrap interval and the
        significance checks.
    y_scale : {"log", "linear"}, default "log"
        Scale of ``y`` for the parabolic refinement, the significance tests and the bootstrap.
    level : float, default 0.95
        Interval level, in (0, 1).
    min_z : float, default 2
        Significance threshold, in standard errors, for ``found`` and ``has_second_descent`` (only
        used with ``y_err``).
    n_boot : int, default 1000
        Bootstrap draws (with ``y_err``); >= 10.
    rng : int, Generator or None
        Seed or generator for the bootstrap.

    Returns
    -------
    PeakResult

    Raises
    ------
    DataError
        Fewer than 3 points, mismatched lengths, non-finite values, ``x`` not strictly increasing or
        not positive, ``y <= 0`` with ``y_scale="log"``, negative ``y_err``, bad ``level``/``n_boot``/
        ``y_scale``.

    Examples
    --------
    >>> x = [1e8, 1.4e10, 2e10, 9.1e10, 9e11]         # tokens; datablations 14M params, 100M unique
    >>> y = [7.278, 4.383, 4.510, 4.396, 4.304]
    >>> r = find_peak(x, y)
    >>> r.index_peak, r.y_second_min, r.second_below_first
    (2, 4.304, True)
    """
    xa = A.finite_array("x", x)
    ya = A.finite_array("y", y)
    if xa.ndim != 1 or ya.ndim != 1 or len(xa) != len(ya):
        raise DataError(format_message("Arguments 'x' and 'y'", "of find_peak", "1-D of equal length",
                                       f"shapes {xa.shape} and {ya.shape}"))
    m = len(xa)
    if m < 3:
        raise DataError(format_message("Curve", "passed to find_peak", "at least 3 points", f"{m}",
                                       "A peak needs a point on each side."))
    if np.any(xa <= 0):
        idx = np.flatnonzero(xa <= 0)
        raise DataError(format_message("Argument 'x'", f"at {format_rows(idx.tolist())}", "> 0",
                                       f"{float(xa[idx[0]])!r}", "The peak is located in log x."))
    if np.any(np.diff(xa) <= 0):
        idx = np.flatnonzero(np.diff(xa) <= 0) + 1
        raise DataError(format_message("Argument 'x'", f"at {format_rows(idx.tolist())}",
                                       "strictly increasing",
                                       f"{float(xa[idx[0]])!r} after {float(xa[idx[0] - 1])!r}",
                                       "Sort the points and average duplicates of x first."))
    if y_scale not in ("log", "linear"):
        raise DataError(format_message("Argument 'y_scale'", "of find_peak", "'log' or 'linear'",
                                       repr(y_scale)))
    if y_scale == "log" and np.any(ya <= 0):
        idx = np.flatnonzero(ya <= 0)
        raise DataError(format_message("Argument 'y'", f"at {format_rows(idx.tolist())}",
                                       "> 0 for y_scale='log'", f"{float(ya[idx[0]])!r}",
                                       "Pass y_scale='linear'."))
    level = A.scalar("level", level)
    if not 0.0 < level < 1.0:
        raise DataError(format_message("Argument 'level'", "of find_peak", "in (0, 1)", repr(level)))
    min_z = A.scalar("min_z", min_z, nonneg=True)
    n_boot = A.int_scalar("n_boot", n_boot, minimum=10)
    err: FloatArray | None = None
    if y_err is not None:
        err = np.broadcast_to(A.finite_array("y_err", y_err, nonneg=True), ya.shape).astype(float)

    lx = np.log(xa)
    yt = np.log(ya) if y_scale == "log" else ya
    pk = _prominent_peak(ya)
    if pk is None:
        logger.debug("find_peak: no interior local maximum (monotone curve)")
        return PeakResult(found=False, level=level)
    k, prom, base = pk
    lpeak = _vertex(lx, yt, k, "max")
    # values and standard errors on the y scale of the significance tests (log: relative errors)
    zt, ze = (np.log(ya), None if err is None else err / ya) if y_scale == "log" else (ya, err)

    def _z(i: int, j: int, e: FloatArray) -> float:
        """Significance of ``y[i] > y[j]`` on the chosen y scale, in standard errors ``e``."""
        comb = math.hypot(e[i], e[j])
        diff = float(zt[i] - zt[j])
        return diff / comb if comb > 0 else (math.inf if diff > 0 else 0.0)

    z = None if ze is None else _z(k, base, ze)
    found = True if z is None else z >= min_z

    first = int(np.argmin(ya[:k]))
    second = k + 1 + int(np.argmin(ya[k + 1:]))
    at_edge = second == m - 1
    lsecond = lx[second] if at_edge else _vertex(lx, yt, second, "min")
    if ze is None:
        has_second = found and ya[second] < ya[k]
    else:
        has_second = found and _z(k, second, ze) >= min_z

    lo, hi = float(xa[k - 1]), float(xa[k + 1])
    method = "bracket"
    frac = None
    used_boot = 0
    if err is not None:
        gen = np.random.default_rng(rng)
        zs = gen.standard_normal((n_boot, m))
        if y_scale == "log":
            yts = np.log(ya) + zs * (err / ya)
            yvs = np.exp(yts)
        else:
            yvs = ya + zs * err
            yts = yvs
        ks = []
        for bi in range(n_boot):
            pk = _prominent_peak(yvs[bi])
            if pk is not None:
                ks.append(pk[0])
        used_boot = n_boot
        frac = len(ks) / n_boot
        if ks:
            kb = np.asarray(ks)
            tail = 100.0 * (1.0 - level) / 2.0
            # lower end: the left neighbour of the draw's discrete maximum; upper: the right neighbour.
            lo = float(np.exp(np.percentile(lx[kb - 1], tail)))
            hi = float(np.exp(np.percentile(lx[kb + 1], 100.0 - tail)))
            method = "bootstrap"
        else:
            logger.debug("find_peak: no bootstrap draw had an interior peak; reporting the bracket")

    return PeakResult(
        found=bool(found), index_peak=k, x_peak=float(np.exp(lpeak)), x_peak_lower=lo, x_peak_upper=hi,
        x_bracket=(float(xa[k - 1]), float(xa[k + 1])), y_peak=float(ya[k]), prominence=prom,
        prominence_z=None if z is None else float(z), x_first_min=float(xa[first]),
        y_first_min=float(ya[first]), x_second_min=float(np.exp(lsecond)), y_second_min=float(ya[second]),
        second_min_at_edge=bool(at_edge), has_second_descent=bool(has_second),
        second_below_first=bool(ya[second] < ya[first]), level=level, interval_method=method,
        n_boot=used_boot, bootstrap_found_fraction=frac,
    )
