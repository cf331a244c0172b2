"""Multi-start minimisation of an :class:`~scaling.estimation.objectives.Objective`.

``multistart`` runs every start with :func:`batched_lbfgs` until its own stopping rule (the float32
screen, in centred coordinates; one thread by default, ``threads=k`` splits the rows), then polishes the
best distinct end points with tight float64 L-BFGS-B, and returns the best polished point together with
every start's end point and status (see :func:`multistart` for what each status word guarantees).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from ..laws.base import FloatArray
from .objectives import Objective
from . import compiled
from .optimize import CONVERGED, HANDOFF, MAX_ITER, STALLED, STATUS_NAMES, BatchResult, batched_lbfgs, polish

__all__ = ["MultiStartResult", "multistart", "objective_hessian", "centring"]

_POOL: ThreadPoolExecutor | None = None
#: rows per evaluation call are chunked to about this many (row x point) elements: the objective makes a dozen
#: temporaries per call, and keeping them ~100 KB (cache-sized, below malloc's mmap threshold) makes each row
#: cheaper than in 500-row chunks (benchmarks/bench_kernel.py prints both)
CHUNK_ELEMENTS = 24_000


def _pool(n: int) -> ThreadPoolExecutor:
    global _POOL
    if _POOL is None or _POOL._max_workers != n:  # type: ignore[attr-defined]
        _POOL = ThreadPoolExecutor(max_workers=n, thread_name_prefix="scaling")
    return _POOL


def default_threads() -> int:
    """Threads of a fit's batched evaluation: one. Since the objective is evaluated in ~100-start chunks
    (see :data:`CHUNK_ELEMENTS`), a call is dominated by numpy's per-call overhead, which holds the GIL:
    two threads made Epoch's fit slower, 1.31 s against 1.04 s with one, on a quiet 2-core machine
    (2026-12-02). ``threads=`` splits the batch over threads all the same; parallelism across fits comes
    from processes (``n_jobs`` of the bootstrap and of ``fit_many``)."""
    return 1



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
    polish_message: str  # how the float64 run at the optimum ended (a sentence)
    converged: bool = True  # the float64 convergence test held at the optimum
    starts_stage: list[str] | None = None  # "float32 screen", "... + float64 polish", ...
    starts_grad: FloatArray | None = None  # relative projected gradient where a float64 run ended (else nan)
    optima: FloatArray | None = None  # objectives of the distinct optima among converged end points
    engine: str = "numpy"  # what screened the starts: "compiled" (numba) or "numpy"


def make_batch_fun(objective: Objective, T: FloatArray, weights: FloatArray | None, threads: int):
    """fun(v, idx) -> (f, g) in centred coordinates v (w = v T^T), chunked, and split over ``threads``."""

    def one(v: FloatArray, idx: np.ndarray) -> tuple[FloatArray, FloatArray]:
        W = None if weights is None else (weights if weights.ndim == 1 else weights[idx])
        with np.errstate(all="ignore"):  # far-off starts overflow; the line search rejects them
            f, g = objective(v @ T.T, W)
            return f.astype(float), g.astype(float) @ T

    n = len(objective.y)
    # evaluate in row chunks of ~CHUNK_ELEMENTS elements (see there)
    chunk = max(8, int(CHUNK_ELEMENTS // max(n, 1)))

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

    Every start first runs in one batched float32 L-BFGS (the *screen*; with ``engine="auto"`` and numba
    installed, the compiled screen of :mod:`scaling.estimation.compiled` runs the same L-BFGS start by
    start instead, without the hand-off below); the best distinct end points (within 0.1 % of the best)
    are then polished in float64 with tight L-BFGS-B, and the few starts still running when fewer than
    ``handoff`` remain are finished together in float64. Each start's status says what is known about
    its end point:

    ``"converged"``
        a float64 run ended there and the float64 convergence test held: the relative projected gradient
        ``||P g||_inf / |f| <= GTOL`` (1e-4, free coordinates; or, where the problem is so ill-conditioned
        that the gradient cannot get that small at float64 precision, the Newton decrement — the decrease
        to the local minimum that the quadratic model predicts — ``<= DTOL |f|``, 1e-12) and scipy's
        objective-change test
        (relative reduction <= ftol, 1e-15 for the polish; for the batched float64 finish of slow starts,
        a relative decrease <= 1e-10 in three successive iterations) or a line search that cannot
        decrease the objective at all (a zero change).
    ``"not converged"``
        a float64 run ended there without the test holding (``starts_grad`` has its gradient).
    ``"screened"``
        stopped by the float32 screen (relative objective decrease below 1e-6 for three iterations, a
        stalled float32 line search — no trial step passes the Armijo test, or the next one predicts a
        decrease below 1e-7 of the objective, its float32 resolution —, or still descending when fewer
        than ``handoff`` starts remained:
        the batch stops then, and those rows are finished in float64); the objective it reached is
        reported in float64, but the end point is not a verified minimum — on Epoch's data most
        screened starts end far above the optimum while still descending.
    ``"max iterations (screen)"``, ``"non-finite start"``
        as they say.

    ``optima`` lists the distinct optima among converged end points only.

    BLAS is limited to one thread meanwhile: the work is many small matrix–vector products, for which
    OpenBLAS's own threads only add contention (10x slower on 2 busy cores). The batch runs in one thread
    by default (see :func:`default_threads`); ``threads=k`` splits the numpy batch over k threads (the
    compiled screen always runs in the calling thread).
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


#: relative tolerance of the float64 convergence test on the projected gradient: ||P g||_inf <= GTOL * |f|
#: (P zeroes the components that point out of the box at an active bound; g in the law's free coordinates)
GTOL = 1e-4
#: relative tolerance of the float64 convergence test on the objective change (that of the tight polish)
FTOL = 1e-15

#: the float32 screen's line search gives up (the start stalls) when its next trial step predicts a decrease
#: below this fraction of the objective: float32's resolution (see optimize.batched_lbfgs)
SCREEN_STALL_TOL = 1e-7

#: relative objective-change tolerance of the batched float64 finish of the slow starts
FTOL_FINISH = 1e-10

#: status words of the starts (``FitResult.starts["status"]``); see :func:`multistart`
SCREENED = "screened"
CONVERGED_WORD = "converged"
NOT_CONVERGED = "not converged"


#: relative tolerance of the alternative test, for ill-conditioned problems whose gradient cannot reach GTOL at
#: float64 precision: the Newton decrement g^T H^-1 g / 2 (the objective decrease the quadratic model
#: predicts to the local minimum) <= DTOL * |f|, where the Hessian is positive definite and no bound is active
DTOL = 1e-12
#: objective per point below which |f| is not a scale for the tests (an exact fit: residuals ~1e-5, their
#: squares at the float64 resolution of the objective); the tests then use F_FLOOR * n_points instead of |f|
F_FLOOR = 1e-10


def projected_gradient(objective: Objective, x: FloatArray, W: FloatArray | None, lo: FloatArray, hi: FloatArray
                       ) -> tuple[FloatArray, FloatArray]:
    """(f, r) in float64 at the rows of ``x`` (free coordinates), with ``r`` the gradient measure of the
    convergence test: ``||P g||_inf / |f|``, or 0 where the Newton-decrement test holds (see :data:`DTOL`).
    ``W`` is one weight vector (or None) for all rows, or one per row."""
    x = np.atleast_2d(np.asarray(x, dtype=float))
    fs, gs = [], []
    for j in range(0, len(x), 1024):
        Wj = W if W is None or np.ndim(W) == 1 else W[j:j + 1024]
        with np.errstate(all="ignore"):
            f, g = objective(x[j:j + 1024], Wj)
        fs.append(np.asarray(f, dtype=float))
        gs.append(np.asarray(g, dtype=float))
    f = np.concatenate(fs) if fs else np.zeros(0)
    g = np.concatenate(gs) if gs else np.zeros((0, x.shape[1]))
    active = (x <= lo) | (x >= hi)
    out = ((x <= lo) & (g > 0)) | ((x >= hi) & (g < 0))
    pg = np.where(out, 0.0, g)
    scale = np.maximum(np.abs(f), F_FLOOR * len(objective.y))
    with np.errstate(all="ignore"):
        rel = np.max(np.abs(pg), axis=1, initial=0.0) / scale
    rel = np.where(np.isfinite(rel), rel, np.inf)
    todo = np.flatnonzero((rel > GTOL) & np.isfinite(rel) & ~active.any(axis=1))
    if todo.size and objective.has_hessian:
        Wt = W if W is None or np.ndim(W) == 1 else np.asarray(W)[todo]
        with np.errstate(all="ignore"):
            _, g2, H = objective.value_grad_hess(x[todo], Wt)
        for j, i in enumerate(todo):
            try:
                L = np.linalg.cholesky(H[j])
            except np.linalg.LinAlgError:
                continue
            z = np.linalg.solve(L, g2[j])
            if 0.5 * float(z @ z) <= DTOL * scale[i]:
                rel[i] = 0.0
    return f, rel


def newton_finish(objective: Objective, x: FloatArray, W: FloatArray | None, lo: FloatArray, hi: FloatArray,
                  steps: int = 6) -> tuple[FloatArray, float]:
    """Up to ``steps`` damped Newton steps from ``x`` (float64, analytic Hessian, no active bound): the
    finish for ill-conditioned smooth problems where L-BFGS-B's relative-reduction test stops while
    the quadratic model still predicts a decrease (condition numbers ~1e6 on 20-40 points). Returns
    the best point and its objective; never moves uphill."""
    x = np.asarray(x, dtype=float).copy()
    f0, _ = _one(objective, x, W)
    if not objective.has_hessian:
        return x, f0
    for _ in range(steps):
        if np.any(x <= lo) or np.any(x >= hi):
            break
        with np.errstate(all="ignore"):
            _, g, H = objective.value_grad_hess(x[None, :], W)
        try:
            L = np.linalg.cholesky(H[0])
        except np.linalg.LinAlgError:
            break
        d = -np.linalg.solve(L.T, np.linalg.solve(L, g[0]))
        t, moved = 1.0, False
        for _ls in range(20):
            xt = np.clip(x + t * d, lo, hi)
            ft, _ = _one(objective, xt, W)
            if np.isfinite(ft) and ft <= f0:
                moved = ft < f0 or t == 1.0
                x, f0 = xt, ft
                break
            t *= 0.5
        if not moved:
            break
    return x, float(f0)


def _describe_polish(message: str, change_ok: bool, grad_rel: float) -> str:
    """A sentence on how a float64 run ended and what the convergence test found (scipy's L-BFGS-B
    messages can be empty, e.g. 'ABNORMAL: ' for a failed line search)."""
    m = message.strip()
    up = m.upper()
    if "ABNORMAL" in up:
        what = ("its line search found no lower point along the search direction (scipy/engine: "
                f"'{m}'), i.e. the objective no longer decreases at float64 precision")
    elif "REL_REDUCTION" in up.replace(" ", "_") or "RELATIVE" in up:
        what = f"the relative objective change fell below its tolerance ('{m}')"
    elif "PROJ" in up and "GRAD" in up:
        what = f"the projected gradient fell below its tolerance ('{m}')"
    elif "ITERATION" in up or "MAXITER" in up or "MAXFUN" in up or "EVALUATIONS" in up:
        what = f"it hit its iteration limit ('{m}')"
    else:
        what = f"the optimiser said '{m or '(no message)'}'"
    text = f"{what}; relative projected gradient {grad_rel:.2g} (test: <= {GTOL:g})"
    if change_ok and not grad_rel <= GTOL:
        text += (". The objective stopped decreasing while its gradient stays large: the point is at a kink of a "
                 "non-smooth objective (e.g. every residual on the linear part of a Huber loss with a small delta, "
                 "or huber_likelihood with a tiny sigma), where a gradient test cannot hold")
    return text


def _multistart(objective: Objective, starts: FloatArray, *, weights: FloatArray | None = None,
               lower: FloatArray | None = None, upper: FloatArray | None = None, max_iter: int = 1000,
               n_polish: int = 4, threads: int | None = None, screen_dtype: str = "float32",
               handoff: int = 24, engine: str = "auto") -> MultiStartResult:
    T, Ti, lo, hi = centring(objective)
    if lower is not None or upper is not None:
        lo = lo if lower is None else lower
        hi = hi if upper is None else upper
        T, Ti = np.eye(len(lo)), np.eye(len(lo))
    threads = default_threads() if threads is None else threads
    v0 = np.clip(starts, lo, hi) @ Ti.T
    ftol = 1e-10 if screen_dtype == "float64" else 1e-6
    stall_tol = 0.0 if screen_dtype == "float64" else SCREEN_STALL_TOL
    used = compiled.resolve(engine, objective, weights, screen_dtype)
    # bounds in v: identical to w-bounds on the coordinates that are not mixed (ensured above)
    if used == "compiled":
        # every start screened one after the other in compiled code, to the same rule; no hand-off (a few
        # slow starts cost no more per iteration than many)
        cx, cf, cit, cst, cne = compiled.screen(objective, v0, T, lo, hi, weights, max_iter=max_iter, ftol=ftol,
                                                stall_tol=stall_tol)
        res = BatchResult(x=cx, f=cf, n_iter=cit, status=cst, n_evals=cne)
    else:
        fast = objective.astype(np.float32) if screen_dtype == "float32" else objective
        fun = make_batch_fun(fast, T, None if weights is None else weights.astype(fast.y.dtype), threads)
        res = batched_lbfgs(fun, v0, lo, hi, max_iter=max_iter, ftol=ftol, handoff=handoff, stall_tol=stall_tol)
    xs = res.x @ T.T
    W1 = None if weights is None else (weights if weights.ndim == 1 else None)
    iters = res.n_iter.copy()
    # Statuses (see multistart): the batched run's own stopping rule (relative objective decrease below
    # 1e-6 for three iterations, or a stalled line search) is a float32 screen, not a convergence test
    status = [SCREENED if s in (CONVERGED, STALLED) else
              ("max iterations (screen)" if s == MAX_ITER else STATUS_NAMES[s]) for s in res.status]
    stage = [("float32 screen" if screen_dtype == "float32" else "float64 screen")
             + (" (compiled)" if used == "compiled" else "")] * len(status)
    converged = np.zeros(len(status), dtype=bool)
    notes: dict[int, str] = {}
    # The few slow starts left when fewer than ``handoff`` remain are finished together in float64 (a
    # batched L-BFGS to a relative objective change of 1e-10; on Epoch's data 0.1 s for 23 starts, where
    # finishing them one by one with scipy took 0.5 s and stopped up to 3e-4 above their minimum)
    hand = np.flatnonzero(res.status == HANDOFF)
    if hand.size:
        sub = weights if weights is None or weights.ndim == 1 else weights[hand]
        fun64 = make_batch_fun(objective, T, sub, threads)
        r64 = batched_lbfgs(fun64, xs[hand] @ Ti.T, lo, hi, max_iter=max_iter, ftol=FTOL_FINISH)
        xs[hand] = r64.x @ T.T
        iters[hand] += r64.n_iter
        for j, i in enumerate(hand):
            stage[i] = "float32 screen + float64 finish"
            notes[int(i)] = {CONVERGED: "CONVERGENCE: relative objective change <= 1e-10 for 3 iterations",
                             STALLED: "ABNORMAL: no decrease along the L-BFGS direction"}.get(
                                 int(r64.status[j]), STATUS_NAMES[int(r64.status[j])])
    fs = res.f
    order = np.argsort(fs, kind="stable")
    finite = order[np.isfinite(fs[order])]
    # polish the best distinct end points (distinct after rounding), always including the best
    cand: list[int] = []
    # only end points that could be the optimum are worth a tight polish: within 0.1 % of the best
    # (float32 screening leaves end points within ~1e-6 of their basin's minimum)
    cutoff = fs[finite[0]] + 1e-3 * abs(fs[finite[0]]) if finite.size else np.inf
    pool = finite[fs[finite] <= cutoff]
    while pool.size and len(cand) < n_polish:
        i = int(pool[0])
        cand.append(i)
        # drop the end points that round to this one (np.allclose(x, xs[i], rtol=1e-3, atol=1e-4), row-wise)
        near = np.all(np.abs(xs[pool] - xs[i]) <= 1e-4 + 1e-3 * np.abs(xs[i]), axis=1)
        pool = pool[~near]

    def fun1(x: FloatArray) -> tuple[float, FloatArray]:
        return _one(objective, x, W1)

    best_x, best_f, msg, best_i = None, np.inf, "", -1
    # end-point objectives are reported in full precision
    # (in chunks of ~CHUNK_ELEMENTS elements, cache-sized: 1.7x faster than 2048-row chunks on Epoch's data,
    # 13 ms against 22)
    step = max(8, int(CHUNK_ELEMENTS // max(len(objective.y), 1)))
    fs = np.concatenate([objective(xs[j:j + step], W1 if weights is None or weights.ndim == 1 else weights[j:j + step],
                                   grad=False)[0] for j in range(0, len(xs), step)])
    for i in cand:
        x, f, nit, _ok, m = polish(fun1, xs[i], lo, hi)
        if f <= fs[i]:
            xs[i], fs[i] = x, f
            iters[i] += nit
            stage[i] = stage[i] + " + float64 polish"
            notes[i] = m
        if fs[i] < best_f:
            best_x, best_f, best_i = xs[i].copy(), fs[i], i
    if best_x is None:
        from ..errors import FitError

        raise FitError("Every start of the fit gave a non-finite objective; check the data and the law's "
                       "start grid (pass starts=...).")
    # the best point gets a few Newton steps where the Hessian is analytic and positive definite: in flat
    # valleys L-BFGS(-B) can stop ~1e-10 (relative) above the minimum with a small gradient; Newton does not
    if objective.has_hessian and np.all(np.isfinite(best_x)):
        Wb = W1 if weights is None or weights.ndim == 1 else weights[best_i]
        xn, fn = newton_finish(objective, best_x, Wb, lo, hi)
        if fn < best_f:
            best_x, best_f = xn, fn
            xs[best_i], fs[best_i] = xn, fn
            notes[best_i] = notes.get(best_i, "") + " + Newton steps"
    # the float64 convergence test, at every end point a float64 run produced
    ran64 = np.array(sorted(notes), dtype=int)
    grad_rel = np.full(len(xs), np.nan)
    if ran64.size and (weights is None or weights.ndim == 1):
        _, grad_rel[ran64] = projected_gradient(objective, xs[ran64], W1, lo, hi)
    elif ran64.size:
        for i in ran64:
            _, grad_rel[i] = projected_gradient(objective, xs[i], weights[i], lo, hi)  # type: ignore[index]
    # an ill-conditioned smooth problem can stop a little above its minimum: finish it with Newton steps
    for i in ran64:
        if not grad_rel[i] <= GTOL and objective.has_hessian:
            Wi = W1 if weights is None or weights.ndim == 1 else weights[i]
            xn, fn = newton_finish(objective, xs[i], Wi, lo, hi)
            if fn <= fs[i]:
                xs[i], fs[i] = xn, fn
                _, gnew = projected_gradient(objective, xn, Wi, lo, hi)
                grad_rel[i] = gnew[0]
                notes[i] += " + Newton steps"
                if fn < best_f or i == best_i:
                    best_x, best_f, best_i = xn.copy(), fn, i
    for i in ran64:
        m = notes[i]
        # objective change: scipy's tests (relative reduction <= ftol, or projected gradient <= gtol); a line
        # search that cannot decrease the objective at all is a zero change, accepted when the gradient test holds
        up = m.upper()
        change_ok = "CONVERGENCE" in up or "ABNORMAL" in up
        converged[i] = change_ok and grad_rel[i] <= GTOL
        status[i] = CONVERGED_WORD if converged[i] else NOT_CONVERGED
        notes[i] = _describe_polish(m, change_ok, grad_rel[i])
    # in a degenerate valley (e.g. A -> 0 versus alpha = 0) the lowest end point can be an unconverged
    # crawl that beats a converged optimum only by rounding: report the converged one when it is as good
    if not converged[best_i] and converged.any():
        jc = int(np.flatnonzero(converged)[np.argmin(fs[converged])])
        if fs[jc] <= best_f + 1e-9 * max(abs(best_f), 1e-300):
            best_i, best_x, best_f = jc, xs[jc].copy(), float(fs[jc])
    msg = notes.get(best_i, "")
    tol = 1e-6 * max(abs(best_f), 1e-300)
    n_agree = int(np.sum(fs <= best_f + tol))
    # distinct optima: only among converged end points (screened end points are not minima)
    optima = _distinct_optima(objective, xs, fs, np.flatnonzero(converged))
    return MultiStartResult(x=best_x, f=float(best_f), starts_x0=np.asarray(starts, dtype=float), starts_x=xs,
                            starts_f=fs, starts_iter=iters, starts_status=status, polished=np.array(cand),
                            n_agree=n_agree, polish_message=msg, converged=bool(converged[best_i]),
                            starts_stage=stage, starts_grad=grad_rel, optima=optima, engine=used)


def _distinct_optima(objective: Objective, xs: FloatArray, fs: FloatArray, idx: np.ndarray) -> FloatArray:
    """Objective values (ascending) of the distinct optima among end points ``idx``: two end points are
    the same optimum when their predictions agree to 1e-4 (max |log ratio|: 0.01 % in loss), or their
    objectives to 1e-9 (relative) with predictions within 1e-3."""
    if idx.size == 0:
        return np.zeros(0)
    idx = idx[np.argsort(fs[idx], kind="stable")]
    law = objective.law
    k = objective.extra
    xl = xs[idx][:, : xs.shape[1] - k] if k else xs[idx]
    with np.errstate(all="ignore"):
        pred = np.log(law.evaluate(law.expand(xl), objective.X, grad=False)[0])
    keep: list[int] = []
    for j in range(len(idx)):
        same = False
        for q in keep:
            d = float(np.max(np.abs(pred[j] - pred[q])))
            rel = abs(fs[idx[j]] - fs[idx[q]]) / max(abs(fs[idx[q]]), 1e-300)
            if d <= 1e-4 or (rel <= 1e-9 and d <= 1e-3):
                same = True
                break
        if not same:
            keep.append(j)
    return np.array([fs[idx[j]] for j in keep], dtype=float)


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
