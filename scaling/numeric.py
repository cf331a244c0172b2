"""Vectorised one-dimensional minimisation and root finding, and row-wise law evaluation.

Everything works on arrays of shape ``(S, B)`` — S parameter rows (a point estimate or bootstrap
samples) times B queries (budgets, sizes) — with no Python loop over either axis:

* :func:`pointwise` evaluates a law with parameter row ``s`` at the variables ``X[s, j]`` (the law's
  own :meth:`~scaling.laws.base.Law.evaluate`, called once on 2-D variable arrays; verified once per
  law class against the one-row path, with a row-by-row fallback for laws that do not broadcast);
* :func:`minimize` brackets the minimum on a grid, then runs a safeguarded Newton iteration on the
  five-point finite-difference derivative (bisection whenever Newton would leave the bracket); the
  result is the root of the derivative to ~1e-10 in the log coordinate (~1e-8 where the loss is
  nearly flat), not a function-value comparison (which could only locate a smooth minimum to
  ~sqrt(machine epsilon));
* :func:`root` brackets the first sign change on a grid, then runs the Illinois (modified regula
  falsi) iteration.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:  # laws import this module; it needs a Law only for annotations
    from .laws.base import Law

FloatArray = NDArray[np.float64]

_BROADCASTS: dict[Any, bool] = {}


def _law_key(law: Law) -> Any:
    base = getattr(law, "base", None)
    return (type(law), type(base)) if base is not None else type(law)


def pointwise(law: Law, theta: FloatArray, X: Mapping[str, FloatArray]) -> FloatArray:
    """``law`` at parameter row ``s`` and variables ``X[v][s, j]``.

    ``theta`` is ``(S, P)`` natural parameters; each ``X[v]`` broadcasts to ``(S, n)`` (a first axis
    of 1 means the same variables for every row). Returns ``(S, n)``.
    """
    theta = np.atleast_2d(np.asarray(theta, dtype=float))
    S = theta.shape[0]
    arrays = {v: np.asarray(X[v], dtype=float) for v in law.variables}
    shape = np.broadcast_shapes(*(a.shape for a in arrays.values()), (S, 1))
    n = shape[1]
    z = law.to_internal(theta)
    with np.errstate(all="ignore"):
        if S == 1 or all(a.shape[0] == 1 for a in arrays.values()):
            Xs = {v: np.broadcast_to(a, (1, n)).ravel() for v, a in arrays.items()}
            f, _ = law.evaluate(z, Xs, grad=False)
            return np.asarray(f, dtype=float).reshape(S, n)
        full = {v: np.ascontiguousarray(np.broadcast_to(a, (S, n))) for v, a in arrays.items()}
        key = _law_key(law)
        if _BROADCASTS.get(key, True):
            try:
                f, _ = law.evaluate(z, full, grad=False)
                f = np.asarray(f, dtype=float)
                ok = f.shape == (S, n)
            except Exception:  # noqa: BLE001 - the law does not take 2-D variables: row by row below
                ok = False
            if ok and key not in _BROADCASTS:
                ok = _verify(law, z, full, f)
                _BROADCASTS[key] = ok
            elif not ok:
                _BROADCASTS[key] = False
            if ok:
                return f
        out = np.empty((S, n))
        for s in range(S):
            fs, _ = law.evaluate(z[s:s + 1], {v: a[s] for v, a in full.items()}, grad=False)
            out[s] = np.asarray(fs, dtype=float)[0]
        return out


def _verify(law: Law, z: FloatArray, full: Mapping[str, FloatArray], f: FloatArray) -> bool:
    S, n = f.shape
    rows = sorted({0, S - 1, S // 2})
    cols = sorted({0, n - 1, n // 2})
    for s in rows:
        ref, _ = law.evaluate(z[s:s + 1], {v: a[s, cols] for v, a in full.items()}, grad=False)
        ref = np.asarray(ref, dtype=float)[0]
        got = f[s, cols]
        if not np.allclose(got, ref, rtol=1e-12, atol=0.0, equal_nan=True):
            return False
    return True


def _on_grid(fun: Callable[[FloatArray], FloatArray], lo: Any, hi: Any, n_grid: int
             ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """``lo``, ``hi`` broadcast together, an ``n_grid``-point grid between them on a new last axis, and
    ``fun`` evaluated on it (floating-point warnings silenced: non-finite values are handled by callers)."""
    lo, hi = np.broadcast_arrays(np.asarray(lo, dtype=float), np.asarray(hi, dtype=float))
    xg = lo[..., None] + (hi - lo)[..., None] * np.linspace(0.0, 1.0, n_grid)
    with np.errstate(all="ignore"):
        fg = fun(xg)
    return lo, hi, xg, fg


def minimize(fun: Callable[[FloatArray], FloatArray], lo: FloatArray, hi: FloatArray, *, n_grid: int = 32,
             xtol: float = 1e-10, maxiter: int = 60, h: float = 5e-3) -> tuple[FloatArray, FloatArray]:
    """Minimise ``fun`` on ``[lo, hi]`` element-wise.

    ``fun`` maps ``x`` of shape ``(S, B, K)`` to values of the same shape (NaN counts as +inf).
    Returns ``(x_min, at_edge)``: ``x_min`` is NaN where the grid minimum is on the interval's edge
    (no interior minimum; ``at_edge`` True) or where every value is NaN.
    """
    lo, hi, xg, fg = _on_grid(fun, lo, hi, n_grid)
    fg = np.where(np.isnan(fg), np.inf, fg)
    i = np.argmin(fg, axis=-1)
    allbad = ~np.isfinite(np.take_along_axis(fg, i[..., None], -1)[..., 0])
    edge = ((i == 0) | (i == n_grid - 1)) & ~allbad
    i_lo = np.clip(i - 1, 0, n_grid - 1)
    i_hi = np.clip(i + 1, 0, n_grid - 1)
    blo = np.take_along_axis(xg, i_lo[..., None], -1)[..., 0]
    bhi = np.take_along_axis(xg, i_hi[..., None], -1)[..., 0]
    x = np.take_along_axis(xg, i[..., None], -1)[..., 0]
    active = ~(edge | allbad)
    offsets = np.array([-2.0 * h, -h, 0.0, h, 2.0 * h])
    for _ in range(maxiter):
        if not active.any():
            break
        with np.errstate(all="ignore"):
            # five-point stencils: O(h^4) truncation, so a large step keeps rounding error small even where
            # the loss is nearly flat (excess loss << E)
            f5 = fun(x[..., None] + offsets)
            d1 = (8.0 * (f5[..., 3] - f5[..., 1]) - (f5[..., 4] - f5[..., 0])) / (12.0 * h)
            d2 = (16.0 * (f5[..., 3] + f5[..., 1]) - 30.0 * f5[..., 2] - (f5[..., 4] + f5[..., 0])) / (12.0 * h * h)
            blo = np.where(active & (d1 < 0), x, blo)
            bhi = np.where(active & (d1 > 0), x, bhi)
            newton = x - d1 / d2
        ok = np.isfinite(newton) & (d2 > 0) & (newton > blo) & (newton < bhi)
        xn = np.where(ok, newton, 0.5 * (blo + bhi))
        xn = np.where(d1 == 0, x, xn)
        step = np.abs(xn - x)
        x = np.where(active, xn, x)
        active = active & (step > xtol) & (bhi - blo > xtol)
    x = np.where(edge | allbad, np.nan, x)
    x = _polish_kinks(fun, x, np.maximum(x - 4 * h, lo), np.minimum(x + 4 * h, hi))
    return x, edge


def _polish_kinks(fun: Callable[[FloatArray], FloatArray], x: FloatArray, a: FloatArray, b: FloatArray,
                  iters: int = 60) -> FloatArray:
    """Refine by golden section where the minimum is a kink (piecewise laws such as Muennighoff's).

    The Newton iteration uses a stencil of width 4h; at a kink its derivative estimate is biased. A
    smooth minimum has a central derivative at a tiny step indistinguishable from rounding noise; where
    it is clearly non-zero, golden section on ``[x - 4h, x + 4h]`` (function values resolve a V-shaped
    minimum to ~1e-12) replaces the Newton point.
    """
    h2 = 1e-6
    with np.errstate(all="ignore"):
        f3 = fun(x[..., None] + np.array([-h2, 0.0, h2]))
        ds = (f3[..., 2] - f3[..., 0]) / (2 * h2)
        noise = 1e3 * np.finfo(float).eps * np.abs(f3[..., 1]) / h2
    kink = np.isfinite(x) & np.isfinite(ds) & (np.abs(ds) > noise)
    if not kink.any():
        return x
    g = (np.sqrt(5.0) - 1.0) / 2.0
    a = np.where(kink, a, x)
    b = np.where(kink, b, x)
    c = b - g * (b - a)
    d = a + g * (b - a)
    with np.errstate(all="ignore"):
        fc = fun(c[..., None])[..., 0]
        fd = fun(d[..., None])[..., 0]
        for _ in range(iters):
            left = ~(fc > fd)  # minimum in [a, d]; NaN compares False -> treated as left
            b = np.where(left, d, b)
            a = np.where(left, a, c)
            new = np.where(left, b - g * (b - a), a + g * (b - a))
            fnew = fun(new[..., None])[..., 0]
            c, d, fc, fd = (np.where(left, new, d), np.where(left, c, new),
                            np.where(left, fnew, fd), np.where(left, fc, fnew))
    return np.where(kink, 0.5 * (a + b), x)


def root(fun: Callable[[FloatArray], FloatArray], lo: FloatArray, hi: FloatArray, *, n_grid: int = 32,
         xtol: float = 1e-12, maxiter: int = 100) -> FloatArray:
    """The first root (in increasing ``x``) of ``fun`` on ``[lo, hi]``, element-wise.

    ``fun`` maps ``(S, B, K)`` to ``(S, B, K)``. NaN where ``fun`` has no sign change on the grid.
    """
    lo, hi, xg, fg = _on_grid(fun, lo, hi, n_grid)
    sg = np.sign(fg)
    change = (sg[..., :-1] * sg[..., 1:] <= 0) & np.isfinite(fg[..., :-1]) & np.isfinite(fg[..., 1:])
    found = change.any(axis=-1)
    j = np.argmax(change, axis=-1)
    a = np.take_along_axis(xg, j[..., None], -1)[..., 0]
    b = np.take_along_axis(xg, (j + 1)[..., None], -1)[..., 0]
    fa = np.take_along_axis(fg, j[..., None], -1)[..., 0]
    fb = np.take_along_axis(fg, (j + 1)[..., None], -1)[..., 0]
    done = ~found | (fa == 0) | (fb == 0)
    xr = np.where(fa == 0, a, np.where(fb == 0, b, np.nan))
    active = ~done
    for _ in range(maxiter):
        if not active.any():
            break
        with np.errstate(all="ignore"):
            c = np.where(active, (a * fb - b * fa) / (fb - fa), a)
            bad = ~np.isfinite(c) | (c <= np.minimum(a, b)) | (c >= np.maximum(a, b))
            c = np.where(bad, 0.5 * (a + b), c)
            fc = fun(c[..., None])[..., 0]
        flip = fc * fb < 0
        a_new = np.where(flip, b, a)
        fa_new = np.where(flip, fb, 0.5 * fa)
        a = np.where(active, a_new, a)
        fa = np.where(active, fa_new, fa)
        b = np.where(active, c, b)
        fb = np.where(active, fc, fb)
        conv = (np.abs(b - a) <= xtol * np.maximum(1.0, np.abs(b))) | (fc == 0) | ~np.isfinite(fc)
        xr = np.where(active & conv, b, xr)
        active = active & ~conv
    xr = np.where(active, b, xr)
    return np.where(found, xr, np.nan)
