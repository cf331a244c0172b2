"""Multi-start minimisation of an :class:`~scaling.estimation.objectives.Objective`.

``multistart`` runs every start to its own convergence with :func:`batched_lbfgs` (in centred
coordinates, threaded over rows for large batches), then polishes the best distinct end points with
tight L-BFGS-B, and returns the best polished point together with every start's end point.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from ..laws.base import FloatArray
from .objectives import Objective
from .optimize import CONVERGED, HANDOFF, STALLED, STATUS_NAMES, batched_lbfgs, polish

__all__ = ["MultiStartResult", "multistart", "objective_hessian", "centring"]

_POOL: ThreadPoolExecutor | None = None


def _pool(n: int) -> ThreadPoolExecutor:
    global _POOL
    if _POOL is None or _POOL._max_workers != n:  # type: ignore[attr-defined]
        _POOL = ThreadPoolExecutor(max_workers=n, thread_name_prefix="scaling")
    return _POOL


def default_threads() -> int:
    return max(1, min(4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)))


@dataclass(frozen=True)
class MultiStartResult:
    x: FloatArray  # best free vector (objective coordinates, incl. nuisance)
    f: float
    starts_x0: FloatArray  # (S, P) starts (free coordinates)
    starts_x: FloatArray  # (S, P) end points
    starts_f: FloatArray  # (S,)
    starts_iter: np.ndarray
    starts_status: list[str]
    polished: np.ndarray  # indices of polished starts
    n_agree: int  # starts whose end objective is within 1e-6 (relative) of the optimum
    polish_message: str


def make_batch_fun(objective: Objective, T: FloatArray, weights: FloatArray | None, threads: int):
    """fun(v, idx) -> (f, g) in centred coordinates v (w = v T^T), threaded over rows."""

    def one(v: FloatArray, idx: np.ndarray) -> tuple[FloatArray, FloatArray]:
        W = None if weights is None else (weights if weights.ndim == 1 else weights[idx])
        with np.errstate(all="ignore"):  # far-off starts overflow; the line search rejects them
            f, g = objective(v @ T.T, W)
            return f.astype(float), g.astype(float) @ T

    n = len(objective.y)
    # evaluate in row chunks of ~120k elements (0.5-1 MB per temporary): the objective makes a dozen (rows, n) temporaries,
    # and keeping them cache-sized is several times faster than one (starts, n) pass
    chunk = max(8, int(120_000 // max(n, 1)))

    def chunked(v: FloatArray, idx: np.ndarray) -> tuple[FloatArray, FloatArray]:
        k = v.shape[0]
        if k <= chunk:
            return one(v, idx)
        outs = [one(v[i:i + chunk], idx[i:i + chunk]) for i in range(0, k, chunk)]
        return np.concatenate([o[0] for o in outs]), np.concatenate([o[1] for o in outs])

    def fun(v: FloatArray, idx: np.ndarray) -> tuple[FloatArray, FloatArray]:
        k = v.shape[0]
        if threads <= 1 or k * n < 100_000:
            return chunked(v, idx)
        parts = np.array_split(np.arange(k), threads)
        outs = list(_pool(threads).map(lambda p: chunked(v[p], idx[p]), parts))
        return np.concatenate([o[0] for o in outs]), np.concatenate([o[1] for o in outs])

    return fun


def multistart(objective: Objective, starts: FloatArray, **options: Any) -> MultiStartResult:
    """Minimise ``objective`` from every row of ``starts`` (free coordinates incl. nuisance).

    BLAS is limited to one thread meanwhile: the work is many small matrix–vector products, for which
    OpenBLAS's own threads only add contention (10x slower on 2 busy cores); parallelism comes from
    splitting the batch of starts over threads instead.
    """
    with threadpool_limits(limits=1, user_api="blas"):
        return _multistart(objective, starts, **options)


def centring(objective: Objective) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """(T, T^-1, lower, upper): centred coordinates w = v T^T (see ``Law.free_preconditioner``) and the
    free bounds. Centring mixes coordinates, so it is only used where the mixed coordinates are unbounded."""
    law = objective.law
    lo, hi = law.free_bounds()
    if objective.extra:
        lo, hi = np.append(lo, -np.inf), np.append(hi, np.inf)
    k = len(lo)
    T = np.eye(k)
    Tl = law.free_preconditioner(objective.X)
    T[: Tl.shape[0], : Tl.shape[1]] = Tl
    bounded = np.isfinite(lo) | np.isfinite(hi)
    # w = T v: a coordinate whose row of T is a unit row (an exponent) is the same in v and w, so its bounds
    # carry over; a coordinate mixed with others (a centred intercept) must be unbounded
    mixed = (np.abs(T - np.eye(k)) > 0).any(axis=1)
    if (bounded & mixed).any():
        T = np.eye(k)
    return T, np.linalg.inv(T), np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)


def _multistart(objective: Objective, starts: FloatArray, *, weights: FloatArray | None = None,
               lower: FloatArray | None = None, upper: FloatArray | None = None, max_iter: int = 1000,
               n_polish: int = 4, threads: int | None = None, screen_dtype: str = "float32",
               handoff: int = 24) -> MultiStartResult:
    T, Ti, lo, hi = centring(objective)
    if lower is not None or upper is not None:
        lo = lo if lower is None else lower
        hi = hi if upper is None else upper
        T, Ti = np.eye(len(lo)), np.eye(len(lo))
    threads = default_threads() if threads is None else threads
    fast = objective.astype(np.float32) if screen_dtype == "float32" else objective
    fun = make_batch_fun(fast, T, None if weights is None else weights.astype(fast.y.dtype), threads)
    v0 = np.clip(starts, lo, hi) @ Ti.T
    # bounds in v: identical to w-bounds on the coordinates that are not mixed (ensured above)
    res = batched_lbfgs(fun, v0, lo, hi, max_iter=max_iter, ftol=1e-10 if screen_dtype == "float64" else 1e-6,
                        handoff=handoff)
    xs = res.x @ T.T
    W1 = None if weights is None else (weights if weights.ndim == 1 else None)
    iters = res.n_iter.copy()
    # end points of the screening phase are at float32 precision: say so in each start's status
    tag = " (float32 screen)" if screen_dtype == "float32" else ""
    status = [STATUS_NAMES[s] + (tag if s in (CONVERGED, STALLED) else "") for s in res.status]
    # the few slow starts left are finished one by one (same objective, full precision)
    for i in np.flatnonzero(res.status == HANDOFF):
        Wi = W1 if weights is None or weights.ndim == 1 else weights[i]
        xi, _, nit, ok, _ = polish(lambda x, Wi=Wi: _one(objective, x, Wi), xs[i], lo, hi, gtol=1e-8, ftol=1e-10,
                                   maxiter=max_iter)
        xs[i] = xi
        iters[i] += nit
        status[i] = "converged (finished alone)" if ok else "max iterations (finished alone)"
    fs = res.f
    order = np.argsort(fs, kind="stable")
    finite = order[np.isfinite(fs[order])]
    # polish the best distinct end points (distinct after rounding), always including the best
    cand: list[int] = []
    seen: list[FloatArray] = []
    # only end points that could be the optimum are worth a tight polish: within 0.1 % of the best
    # (float32 screening leaves end points within ~1e-6 of their basin's minimum)
    cutoff = fs[finite[0]] + 1e-3 * abs(fs[finite[0]]) if finite.size else np.inf
    for i in finite:
        if len(cand) >= n_polish or fs[i] > cutoff:
            break
        if any(np.allclose(xs[i], s, rtol=1e-3, atol=1e-4) for s in seen):
            continue
        seen.append(xs[i])
        cand.append(int(i))
    def fun1(x: FloatArray) -> tuple[float, FloatArray]:
        return _one(objective, x, W1)

    best_x, best_f, msg = None, np.inf, ""
    # end-point objectives are reported in full precision
    fs = np.concatenate([objective(xs[j:j + 2048], W1 if weights is None or weights.ndim == 1 else weights[j:j + 2048],
                                   grad=False)[0] for j in range(0, len(xs), 2048)])
    for i in cand:
        x, f, nit, _ok, m = polish(fun1, xs[i], lo, hi)
        if f <= fs[i]:
            xs[i], fs[i] = x, f
            iters[i] += nit
        if fs[i] < best_f:
            best_x, best_f, msg = xs[i].copy(), fs[i], m
    if best_x is None:
        from ..errors import FitError

        raise FitError("Every start of the fit gave a non-finite objective; check the data and the law's "
                       "start grid (pass starts=...).")
    tol = 1e-6 * max(abs(best_f), 1e-300)
    n_agree = int(np.sum(fs <= best_f + tol))
    for i in cand:
        status[i] = status[i] + " + polished"
    return MultiStartResult(x=best_x, f=float(best_f), starts_x0=np.asarray(starts, dtype=float), starts_x=xs,
                            starts_f=fs, starts_iter=iters, starts_status=status, polished=np.array(cand),
                            n_agree=n_agree, polish_message=msg)


def _one(objective: Objective, x: FloatArray, W: FloatArray | None) -> tuple[float, FloatArray]:
    f, g = objective(x[None, :], W)
    return float(f[0]), g[0]


def objective_hessian(objective: Objective, x: FloatArray, weights: FloatArray | None = None,
                      rel_step: float = 1e-5) -> FloatArray:
    """Hessian of the objective at free vector ``x``: analytic when the law provides second derivatives
    (Chinchilla), else central differences of the analytic gradient."""
    x = np.asarray(x, dtype=float)
    if objective.has_hessian:
        return objective.value_grad_hess(x[None, :], weights)[2][0]
    k = x.size
    h = rel_step * np.maximum(1.0, np.abs(x))
    pts = np.concatenate([x + np.diag(h), x - np.diag(h)])
    _, g = objective(pts, weights)
    H = (g[:k] - g[k:]) / (2 * h[:, None])
    return 0.5 * (H + H.T)
