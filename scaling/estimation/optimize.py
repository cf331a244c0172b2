"""Optimisers: a batched L-BFGS that runs thousands of starts (or bootstrap resamples) as one array
computation, and a tight scipy L-BFGS-B polish of the best candidates.

Why batched: a Python loop of ``scipy.optimize.minimize`` over Hoffmann's 4,500 starts spends most of
its time in per-call overhead on 240-point arrays. Here every start advances together: one
objective/gradient evaluation of shape (starts, points) per iteration, with stopped starts
dropping out of the active set. Every start runs until its own stopping rule (it is never cut short
because other starts did better); the best candidates are then polished with L-BFGS-B on a
rescaled objective with tight tolerances (gtol 1e-12, ftol 1e-15) so that the answer does not
depend on where a start stopped (REFERENCE acceptance check 7: default tolerances stop early).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

from ..laws.base import FloatArray

__all__ = ["batched_lbfgs", "BatchResult", "polish"]

log = logging.getLogger("scaling")

# status codes of batched_lbfgs
RUNNING, CONVERGED, STALLED, MAX_ITER, NONFINITE, HANDOFF = 0, 1, 2, 3, 4, 5
STATUS_NAMES = {RUNNING: "running", CONVERGED: "converged", STALLED: "line search stalled",
                MAX_ITER: "max iterations", NONFINITE: "non-finite start", HANDOFF: "handed off"}

BatchFun = Callable[[FloatArray, np.ndarray], tuple[FloatArray, FloatArray]]


@dataclass(frozen=True)
class BatchResult:
    x: FloatArray  # (S, P) end points
    f: FloatArray  # (S,) objective at end points
    n_iter: np.ndarray  # (S,)
    status: np.ndarray  # (S,)
    n_evals: int


def batched_lbfgs(fun: BatchFun, x0: FloatArray, lower: FloatArray, upper: FloatArray, *, m: int = 10,
                  max_iter: int = 2000, ftol: float = 1e-12, patience: int = 3, max_ls: int = 12,
                  c1: float = 1e-4, handoff: int = 0, stall_tol: float = 0.0) -> BatchResult:
    """Minimise S independent problems at once with projected L-BFGS.

    ``fun(x, idx)`` returns objective (k,) and gradient (k, P) for the rows ``idx`` of the batch
    (so each row may carry its own data weights). A row stops when its relative objective decrease
    stays below ``ftol`` for ``patience`` iterations, when no step along its direction decreases it
    (stalled: it is at a minimum to machine precision), or after ``max_iter`` iterations.
    When fewer than ``handoff`` rows remain active they stop with status HANDOFF, for the caller to
    finish one by one (a batch of a few rows costs the same per iteration as a large one).
    A failed line-search step is shortened by :func:`next_step`; a row also stalls when the decrease
    its next trial step predicts, ``|g.d| t``, is at most ``stall_tol * |f|`` (the float32 screen passes
    1e-7, its objective's resolution: below it the Armijo test only compares rounding errors; 17 % fewer
    evaluations on Epoch's data).
    """
    x = np.clip(np.array(x0, dtype=float), lower, upper)
    S, P = x.shape
    f, g = fun(x, np.arange(S))
    f = np.array(f, dtype=float)
    n_iter = np.zeros(S, dtype=int)
    status = np.zeros(S, dtype=int)
    status[~np.isfinite(f)] = NONFINITE
    # The state of the rows still running is kept *compacted* (contiguous arrays of the live rows only),
    # so each iteration works on views instead of gathering rows by fancy indexing. Curvature pairs sit
    # in a circular buffer shared by all rows (slot = iteration mod m); a row that skips an update gets
    # rho = 0 in that slot, which removes the pair from both loops of the two-loop recursion.
    ids = np.flatnonzero(status == RUNNING)
    xl, fl, gl = x[ids], f[ids], np.array(g, dtype=float)[ids]
    k = ids.size
    Sh = np.zeros((m, k, P))
    Yh = np.zeros((m, k, P))
    rho = np.zeros((m, k))
    gamma = np.zeros(k)  # s.y / y.y of each row's newest pair (0: none yet)
    quiet = np.zeros(k, dtype=int)
    its = np.zeros(k, dtype=int)
    n_evals = 1
    for it in range(max_iter):
        if ids.size == 0:
            break
        if ids.size < handoff:
            status[ids] = HANDOFF
            break
        blocked = ((xl <= lower) & (gl > 0)) | ((xl >= upper) & (gl < 0))
        gp = np.where(blocked, 0.0, gl)
        order = [(it - 1 - j) % m for j in range(min(it, m))]  # newest first
        q = gp.copy()
        al = []
        # a row whose history overflows gets a non-finite direction here: it is reset to steepest descent below
        with np.errstate(invalid="ignore", over="ignore"):
            for j in order:
                a_j = rho[j] * np.einsum("ij,ij->i", Sh[j], q)
                q -= a_j[:, None] * Yh[j]
                al.append(a_j)
            gnorm = np.sqrt(np.einsum("ij,ij->i", gp, gp))
            H0 = np.where(gamma > 0, gamma, np.minimum(1.0, 1.0 / np.maximum(gnorm, 1e-300)))
            r = H0[:, None] * q
            for j, a_j in zip(reversed(order), reversed(al)):
                b = rho[j] * np.einsum("ij,ij->i", Yh[j], r)
                r += Sh[j] * (a_j - b)[:, None]
        d = -r
        d[blocked] = 0.0
        gd = np.einsum("ij,ij->i", gp, d)
        bad = ~(gd < 0) | ~np.all(np.isfinite(d), axis=1)
        if bad.any():  # reset to steepest descent
            d[bad] = -gp[bad] * np.minimum(1.0, 1.0 / np.maximum(gnorm[bad], 1e-300))[:, None]
            rho[:, bad] = 0.0
            gamma[bad] = 0.0
        # backtracking Armijo line search, vectorised; only failing rows are re-evaluated; a failed step is
        # shortened to the minimiser of the quadratic through the two objectives and the slope (next_step)
        t = np.ones(k)
        gd0 = np.einsum("ij,ij->i", gl, d)
        xn = np.empty_like(xl)
        fn = np.full(k, np.inf)
        gn = np.zeros_like(gl)
        pending = None  # all rows on the first try (no gather)
        for _ls in range(max_ls):
            if pending is None:
                xt = np.clip(xl + d, lower, upper)
                ft, gt = fun(xt, ids)
                step = xt - xl
                ok = np.isfinite(ft) & (ft <= fl + c1 * np.einsum("ij,ij->i", gl, step))
                ok &= np.all(np.isfinite(gt), axis=1)
                xn[ok], fn[ok], gn[ok] = xt[ok], ft[ok], gt[ok]
                pending = np.flatnonzero(~ok)
                f_fail = ft[~ok]
            else:
                xt = np.clip(xl[pending] + t[pending, None] * d[pending], lower, upper)
                ft, gt = fun(xt, ids[pending])
                step = xt - xl[pending]
                ok = np.isfinite(ft) & (ft <= fl[pending] + c1 * np.einsum("ij,ij->i", gl[pending], step))
                ok &= np.all(np.isfinite(gt), axis=1)
                acc = pending[ok]
                xn[acc], fn[acc], gn[acc] = xt[ok], ft[ok], gt[ok]
                pending = pending[~ok]
                f_fail = ft[~ok]
            n_evals += 1
            if pending.size == 0:
                break
            t[pending] = next_step(t[pending], fl[pending], f_fail, gd0[pending])
            if stall_tol > 0:
                pending = pending[-gd0[pending] * t[pending] > stall_tol * np.abs(fl[pending])]
                if pending.size == 0:
                    break
        moved = np.isfinite(fn)
        slot = it % m
        rho[slot] = 0.0
        sv = xn - xl
        yv = gn - gl
        sy = np.einsum("ij,ij->i", sv, yv)
        yy = np.einsum("ij,ij->i", yv, yv)
        with np.errstate(invalid="ignore", divide="ignore"):
            upd = moved & (sy > 1e-10 * np.sqrt(np.einsum("ij,ij->i", sv, sv) * yy))
        Sh[slot, upd] = sv[upd]
        Yh[slot, upd] = yv[upd]
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            rho[slot, upd] = 1.0 / sy[upd]
            gamma[upd] = sy[upd] / yy[upd]
        with np.errstate(invalid="ignore", divide="ignore"):
            rel = (fl - fn) / np.maximum(np.maximum(np.abs(fl), np.abs(fn)), 1e-300)
        quiet = np.where(moved & (rel <= ftol), quiet + 1, np.where(moved, 0, quiet))
        xl = np.where(moved[:, None], xn, xl)
        fl = np.where(moved, fn, fl)
        gl = np.where(moved[:, None], gn, gl)
        its += moved
        # rows whose line search failed cannot decrease further along any L-BFGS direction (stalled)
        done = ~moved | (quiet >= patience)
        if done.any():
            fin = ids[done]
            x[fin], f[fin], n_iter[fin] = xl[done], fl[done], its[done]
            status[fin] = np.where(moved[done], CONVERGED, STALLED)
            keep = ~done
            ids, xl, fl, gl = ids[keep], xl[keep], fl[keep], gl[keep]
            Sh, Yh, rho = Sh[:, keep], Yh[:, keep], rho[:, keep]
            gamma, quiet, its = gamma[keep], quiet[keep], its[keep]
            k = ids.size
    x[ids], f[ids], n_iter[ids] = xl, fl, its
    status[status == RUNNING] = MAX_ITER
    return BatchResult(x=x, f=f, n_iter=n_iter, status=status, n_evals=n_evals)


def next_step(t: FloatArray, f0: FloatArray, ft: FloatArray, gd0: FloatArray) -> FloatArray:
    """The next trial step of the backtracking line search after step ``t`` failed: the minimiser of the
    quadratic through the objective ``f0`` and slope ``gd0`` at 0 and ``ft`` at ``t``, kept in [t/10, t/2]
    (Nocedal & Wright 2006, sec. 3.5); t/10 where ``ft`` is not finite. On Epoch's data this takes 17 %
    fewer evaluations than fixed factors (0.25, then 0.1)."""
    with np.errstate(all="ignore"):
        den = 2.0 * (ft - f0 - gd0 * t)
        tq = np.where(den > 0, -gd0 * t * t / den, 0.5 * t)
        out = np.minimum(np.maximum(tq, 0.1 * t), 0.5 * t)
    return np.where(np.isfinite(ft) & (gd0 < 0), out, 0.1 * t)


def polish(fun1: Callable[[FloatArray], tuple[float, FloatArray]], x0: FloatArray, lower: FloatArray,
           upper: FloatArray, *, gtol: float = 1e-12, ftol: float = 1e-15, maxiter: int = 20000
           ) -> tuple[FloatArray, float, int, bool, str]:
    """Tight L-BFGS-B from one point on the objective rescaled to O(1) at ``x0``.

    Returns (x, f, n_iter, success, message). The rescaling makes scipy's absolute criteria relative.
    """
    f0, _ = fun1(x0)
    scale = 1.0 / max(abs(f0), 1e-300) if np.isfinite(f0) and f0 != 0 else 1.0

    def scaled(x: FloatArray) -> tuple[float, FloatArray]:
        fv, gv = fun1(x)
        if not np.isfinite(fv):
            return 1e300, np.zeros_like(x)
        return fv * scale, gv * scale

    bounds = [(None if not np.isfinite(lo) else lo, None if not np.isfinite(hi) else hi)
              for lo, hi in zip(lower, upper)]
    res = minimize(scaled, x0, jac=True, method="L-BFGS-B", bounds=bounds,
                   options={"gtol": gtol, "ftol": ftol, "maxiter": maxiter, "maxfun": 4 * maxiter, "maxls": 50})
    x = np.asarray(res.x, dtype=float)
    fx, _ = fun1(x)
    return x, float(fx), int(res.nit), bool(res.success), str(res.message)

