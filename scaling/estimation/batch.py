"""Batched re-optimisation of many weighted versions of one fit (bootstrap resamples, jackknife).

A bootstrap resample is the same objective with integer weights (the number of times each point was
drawn); a jackknife replicate has one zero weight. :func:`optimise_weighted` solves a whole block of
such weight vectors as *one* array computation with the engine's batched L-BFGS
(:func:`~scaling.estimation.optimize.batched_lbfgs`), each row carrying its own weights, in two phases:

A. **Main run, float64, tight.** Every row starts at the full-data optimum (candidate 0) and runs to
   ``ftol = 1e-14`` (relative objective decrease below 1e-14 for three iterations), in coordinates
   where the full-data Hessian is the identity (:func:`hessian_coordinates`; whitening mixes Chinchilla's
   bounded exponents with the other coordinates, so this run is unbounded, and the rows that end outside
   the box — a resample whose exponent wants to be negative — are re-run with it in centred coordinates,
   where the box is exact). Rows whose line search
   stalls are restarted together with a fresh L-BFGS history; rows at the iteration limit are
   finished one by one with the engine's tight scipy polish (gtol 1e-12, ftol 1e-15). On Epoch's
   240 points this reaches the objective of a per-resample scipy polish to ~1e-14 relative
   (``tests/test_uncertainty.py``), without a Python loop over resamples.
B. **Other basins.** The other candidate starts (distinct optima of the full fit's start grid) are
   run for a row only where they could plausibly beat phase A: when the resample's objective at the
   candidate exceeds its phase-A optimum by at most ``screen`` times the resampling standard
   deviation of that difference (``scale``, computed by the caller); per-row extra starts are always
   run. A row's answer is the lowest objective found. These rows also run in float64 to 1e-14:
   float32 with the screening tolerance (relative decrease 1e-6) stops in slowly descending regions
   that are not minima — on Epoch's data every "local optimum" the engine's float32 screening leaves
   at 2.3× or 10× the optimal objective stops after 3 float32 iterations and reaches the global
   optimum after 100–270 float64 iterations.

Results depend only on the rows of the block (not on other blocks, threads or processes): blocks
are formed by the caller independently of the number of workers, so parallel runs reproduce serial
ones bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..laws.base import FloatArray
from .engine import centring, objective_hessian
from .objectives import Objective
from .optimize import CONVERGED, STALLED, batched_lbfgs, polish

__all__ = ["WeightedFits", "optimise_weighted", "hessian_coordinates", "pointwise", "distinct_optima"]

#: relative objective tolerance of the float64 phases (see module docstring)
FTOL64 = 1e-14


@dataclass(frozen=True)
class WeightedFits:
    """Solutions of a block of weighted problems.

    x : (R, k) free vectors (incl. nuisance); f : (R,) float64 objectives; n_iter : (R,) iterations;
    converged : (R,) bool; n_alt : rows × candidates run in phase B; n_improved : rows whose answer
    came from another candidate (lower by more than 1e-9 relative).
    """

    x: FloatArray
    f: FloatArray
    n_iter: np.ndarray
    converged: np.ndarray
    n_alt: int
    n_improved: int


def hessian_coordinates(objective: Objective, x: FloatArray, weights: FloatArray | None = None
                        ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """(T, T^-1, lower, upper) with w = v T^T and T = L^-T for the Cholesky factor L of the Hessian of
    the full-data objective at its optimum ``x``: in v the Hessian is the identity, so resamples
    (whose Hessians are close to it) converge in about half the iterations of the centred
    coordinates (16 vs 38 median on Epoch's data). Falls back to :func:`centring` when the Hessian is
    not positive definite. Whitening mixes coordinates, so a bounded one (Chinchilla's exponents >= 0)
    no longer has a box in v: :func:`optimise_weighted` then runs phase A without bounds and re-runs,
    in centred coordinates with the box, every row that ends outside it."""

    T, Ti, lo, hi = centring(objective)
    try:
        H = objective_hessian(objective, np.asarray(x, dtype=float), weights)
        ev = np.linalg.eigvalsh(H)
        if not (np.all(np.isfinite(ev)) and ev.min() > 1e-10 * ev.max()):
            return T, Ti, lo, hi
        L = np.linalg.cholesky(H)
    except np.linalg.LinAlgError:
        return T, Ti, lo, hi
    TH = np.linalg.inv(L).T
    return TH, np.linalg.inv(TH), lo, hi


def _batch_fun(objective: Objective, T: FloatArray, W: FloatArray):  # type: ignore[no-untyped-def]
    """fun(v, idx) for batched_lbfgs: row r of the batch uses weights W[r]. Single-threaded on
    purpose, so a row's arithmetic does not depend on how rows are split across threads."""
    Td = T.astype(objective.y.dtype)
    rows = _rows_per_call(objective)

    def fun(v: FloatArray, idx: np.ndarray) -> tuple[FloatArray, FloatArray]:
        with np.errstate(all="ignore"):  # far-off trial points overflow; the line search rejects them
            return _fun(v, idx)

    def _fun(v: FloatArray, idx: np.ndarray) -> tuple[FloatArray, FloatArray]:
        w = v.astype(objective.y.dtype) @ Td.T
        if len(idx) <= rows:
            f, g = objective(w, W[idx])
            return f.astype(float), g.astype(float) @ T
        f = np.empty(len(idx))
        g = np.empty((len(idx), T.shape[0]))
        for j in range(0, len(idx), rows):
            fj, gj = objective(w[j:j + rows], W[idx[j:j + rows]])
            f[j:j + rows] = fj
            g[j:j + rows] = gj
        return f, g @ T

    return fun


#: bytes per temporary (rows × points) array in one objective call; see _rows_per_call
CALL_BYTES = 196_608


def _rows_per_call(objective: Objective) -> int:
    """Rows per objective call: the (rows, n) temporaries are kept to ~200 kB. Larger arrays are
    allocated with mmap and page-faulted on every call; on a virtual machine that made a (1000, 240)
    evaluation 4.5x slower than ten (100, 240) ones (measured for Epoch's data)."""
    return max(8, CALL_BYTES // (np.dtype(objective.y.dtype).itemsize * max(len(objective.y), 1)))


def _run(objective: Objective, W: FloatArray, x0: FloatArray, T: FloatArray, Ti: FloatArray, lo: FloatArray,
         hi: FloatArray, ftol: float, max_iter: int) -> tuple[FloatArray, np.ndarray, np.ndarray]:
    fun = _batch_fun(objective, T, W.astype(objective.y.dtype))
    res = batched_lbfgs(fun, np.clip(x0, lo, hi) @ Ti.T, lo, hi, max_iter=max_iter, ftol=ftol)
    return res.x @ T.T, res.n_iter, res.status


def _values(objective: Objective, x: FloatArray, W: FloatArray) -> FloatArray:
    if len(x) == 0:
        return np.zeros(0)
    block = _rows_per_call(objective)
    return np.concatenate([objective(x[j:j + block], W[j:j + block], grad=False)[0]
                           for j in range(0, len(x), block)])


def _finish(objective: Objective, W: FloatArray, x: FloatArray, status: np.ndarray, T: FloatArray, Ti: FloatArray,
            lo: FloatArray, hi: FloatArray, max_iter: int) -> tuple[FloatArray, np.ndarray, np.ndarray]:
    """Finish the rows that did not meet the batched convergence test.

    A stalled line search usually means a stale L-BFGS history (nearly piecewise-linear objectives
    such as the Huber likelihood with a tiny scale): the rows are restarted together with a fresh
    history (up to three times; rows at the iteration limit too: on the Huber likelihood's kinks a
    fresh history helps where a scipy polish stops early). A row whose restart cannot move at all is
    at a minimum to machine precision (a scipy polish gains < 1e-15 there, checked on Epoch's data).
    Rows still not converged are polished one by one with the engine's tight scipy L-BFGS-B.
    """
    x = x.copy()
    status = status.copy()
    extra = np.zeros(len(x), dtype=int)
    ok = status == CONVERGED
    f = _values(objective, x, W) if (~ok).any() else np.zeros(len(x))
    for _ in range(3):
        todo = np.flatnonzero(~ok & (status != -1))
        if todo.size == 0:
            break
        xr, itr, str_ = _run(objective, W[todo], x[todo], T, Ti, lo, hi, FTOL64, max_iter)
        fr = _values(objective, xr, W[todo])
        better = np.isfinite(fr) & (fr < f[todo])
        x[todo[better]], f[todo[better]] = xr[better], fr[better]
        extra[todo] += itr
        ok[todo[str_ == CONVERGED]] = True
        # stalled without moving: a minimum to machine precision
        stuck = (str_ == STALLED) & (itr == 0)
        ok[todo[stuck]] = True
        status[todo] = np.where(stuck, -1, str_)
    for i in np.flatnonzero(~ok):
        Wi = W[i]

        def fun1(v: FloatArray, Wi: FloatArray = Wi) -> tuple[float, FloatArray]:
            fv, gv = objective(v[None, :], Wi)
            return float(fv[0]), gv[0]

        xi, fi, nit, success, _ = polish(fun1, x[i], lo, hi, maxiter=max_iter * 10)
        if np.isfinite(fi) and fi <= f[i]:
            x[i] = xi
        extra[i] += nit
        ok[i] = success or (np.isfinite(fi) and fi >= f[i] - 1e-15 * abs(f[i]))
    return x, extra, ok


def optimise_weighted(objective: Objective, W: FloatArray, candidates: FloatArray, *,
                      scale: FloatArray | None = None, screen: float = 3.0, max_iter: int = 1000,
                      coords: tuple[FloatArray, FloatArray] | None = None,
                      row_starts: FloatArray | None = None) -> WeightedFits:
    """Minimise ``objective`` under each weight row of ``W`` (R, n), starting from ``candidates``
    (K, k; row 0 the full-data optimum). See the module docstring for the three phases.

    ``scale`` (R, K): resampling standard deviation of ``f_w(candidate k) - f_w(candidate 0)``; a
    candidate other than 0 is run for row r when ``f_r(cand k) - f_r(phase-A optimum) <=
    screen * scale[r, k]``. ``screen=inf`` runs every candidate for every row.
    ``coords``: (T, T^-1) of phase A (default: the engine's centring; see :func:`hessian_coordinates`).
    ``row_starts`` (R, E, k): further starts per row, always run in phases B and C.
    """
    W = np.ascontiguousarray(W, dtype=float)
    R = len(W)
    cand = np.atleast_2d(np.asarray(candidates, dtype=float))
    T, Ti, lo, hi = centring(objective)
    TA, TAi = (T, Ti) if coords is None else coords
    # phase A (in coordinates that mix a bounded coordinate, the box has no image: run unbounded, then
    # re-run with the box, in centred coordinates, the rows that end outside it)
    boxed = np.isfinite(lo) | np.isfinite(hi)
    mixes = bool((boxed & (np.abs(TA - np.eye(len(lo))) > 0).any(axis=1)).any())
    loA, hiA = (np.full_like(lo, -np.inf), np.full_like(hi, np.inf)) if mixes else (lo, hi)
    x0 = np.repeat(cand[:1], R, axis=0)
    x, n_iter, status = _run(objective, W, x0, TA, TAi, loA, hiA, FTOL64, max_iter)
    x, extra, conv = _finish(objective, W, x, status, TA, TAi, loA, hiA, max_iter)
    n_iter = n_iter + extra
    if mixes:
        out = np.flatnonzero(~np.all((x >= lo) & (x <= hi), axis=1))
        if out.size:
            xo, it_o, st_o = _run(objective, W[out], x0[out], T, Ti, lo, hi, FTOL64, max_iter)
            xo, extra_o, conv_o = _finish(objective, W[out], xo, st_o, T, Ti, lo, hi, max_iter)
            x[out], conv[out] = xo, conv_o
            n_iter[out] += it_o + extra_o
    f = _values(objective, x, W)
    f_a = f.copy()
    K = len(cand)
    rows_l: list[np.ndarray] = []
    x0_l: list[FloatArray] = []
    if K > 1 and R:
        # phase B: the other candidates, screened per row
        rows = np.repeat(np.arange(R), K - 1)
        ks = np.tile(np.arange(1, K), R)
        f0 = _values(objective, cand[ks], W[rows])
        thr = np.inf if scale is None else screen * np.asarray(scale, dtype=float)[rows, ks]
        with np.errstate(invalid="ignore"):
            keep = np.isfinite(f0) & ((f0 - f[rows]) <= thr)
        rows_l.append(rows[keep])
        x0_l.append(cand[ks[keep]])
    if row_starts is not None and R:
        rs = np.asarray(row_starts, dtype=float)
        rows_l.append(np.repeat(np.arange(R), rs.shape[1]))
        x0_l.append(rs.reshape(-1, rs.shape[-1]))
    rows = np.concatenate(rows_l) if rows_l else np.zeros(0, dtype=int)
    n_alt = int(len(rows))
    if n_alt:  # phase B, float64 and tight (see the module docstring for why not float32)
        xb, it_b, st_b = _run(objective, W[rows], np.concatenate(x0_l), T, Ti, lo, hi, FTOL64, max_iter)
        fb = _values(objective, xb, W[rows])
        # only rows that ended near or below the row's optimum are finished (a start that is still
        # crawling along a plateau far above it, e.g. an exponent running to infinity, cannot win)
        with np.errstate(invalid="ignore"):
            prom = np.flatnonzero(np.isfinite(fb) & (fb <= f[rows] + 1e-3 * np.abs(f[rows])))
        rows_c = rows[prom]
        xc, extra_c, conv_c = _finish(objective, W[rows_c], xb[prom], st_b[prom], T, Ti, lo, hi, max_iter)
        fc = _values(objective, xc, W[rows_c])
        for j in range(len(rows_c)):
            r = rows_c[j]
            if np.isfinite(fc[j]) and fc[j] < f[r]:
                x[r], f[r], conv[r] = xc[j], fc[j], conv_c[j]
                n_iter[r] += it_b[prom[j]] + extra_c[j]
    n_improved = int(np.sum(f < f_a - 1e-9 * np.maximum(np.abs(f_a), 1e-300)))
    return WeightedFits(x=x, f=f, n_iter=n_iter, converged=conv, n_alt=n_alt, n_improved=n_improved)


def pointwise(objective: Objective, x: FloatArray, weights: FloatArray | None = None, *, grad: bool = False,
              block: int = 512) -> tuple[FloatArray, FloatArray | None]:
    """Per-point terms of the objective at one free vector: values (n,) and, with ``grad``, the
    per-point gradients (n, k) — the scores of an M-estimator. ``weights`` multiply each term.

    Evaluated as the objective with unit weight rows (cost O(n^2) in blocks; fine for the tables
    this package fits, up to ~10^4 points).
    """
    x = np.asarray(x, dtype=float)
    n = len(objective.y)
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    vals = np.empty(n)
    grads = np.empty((n, x.size)) if grad else None
    for j in range(0, n, block):
        m = min(block, n - j)
        E = np.zeros((m, n))
        E[np.arange(m), j + np.arange(m)] = w[j:j + m]
        f, g = objective(np.repeat(x[None, :], m, axis=0), E, grad=grad)
        vals[j:j + m] = f
        if grad:
            grads[j:j + m] = g  # type: ignore[index]
    return vals, grads


def distinct_optima(objective: Objective, x_best: FloatArray, ends: FloatArray, ends_f: FloatArray,
                    max_starts: int, weights: FloatArray | None = None, max_iter: int = 1000) -> FloatArray:
    """Candidate starts: ``x_best`` first, then distinct local optima among a multi-start's end points.

    The best end points with distinct predictions (max |log ratio| > 1e-4 from every earlier one; up
    to 2 × ``max_starts``) are first converged tightly in float64 on the full data (batched; the
    engine's screening leaves float32-precision copies of the optimum that differ by ~1e-4), then
    de-duplicated again at 1e-5: what remains are distinct optima of the full-data objective.
    """
    law = objective.law
    k_extra = objective.extra

    def pred(v: FloatArray) -> FloatArray:
        vl = v[:, : v.shape[1] - k_extra] if k_extra else v
        f, _ = law.evaluate(law.expand(vl), objective.X, grad=False)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(f)

    def greedy(first: FloatArray, pts: FloatArray, order: np.ndarray, tol: float, limit: int) -> list[FloatArray]:
        out = [first]
        seen = pred(first[None, :])
        for chunk in range(0, len(order), 256):
            idx = order[chunk:chunk + 256]
            P = pred(pts[idx])
            for j, i in enumerate(idx):
                if not np.all(np.isfinite(P[j])):
                    continue
                if np.min(np.max(np.abs(seen - P[j]), axis=1)) > tol:
                    out.append(pts[i])
                    seen = np.vstack([seen, P[j]])
                    if len(out) >= limit:
                        return out
        return out

    x_best = np.asarray(x_best, dtype=float)
    if max_starts <= 1 or ends is None or len(ends) == 0:
        return x_best[None, :]
    ends = np.asarray(ends, dtype=float)
    ef = np.asarray(ends_f, dtype=float)
    ok = np.all(np.isfinite(ends), axis=1) & np.isfinite(ef)
    order = np.flatnonzero(ok)[np.argsort(ef[ok], kind="stable")]
    pre = np.array(greedy(x_best, ends, order, 1e-4, 2 * max_starts)[1:])
    if len(pre) == 0:
        return x_best[None, :]
    W = np.ones((len(pre), len(objective.y))) if weights is None else np.tile(np.asarray(weights, float), (len(pre), 1))
    T, Ti, lo, hi = centring(objective)
    xr, _, _ = _run(objective, W, pre, T, Ti, lo, hi, FTOL64, max_iter)  # no polish: they are only starts
    fr = _values(objective, xr, W)
    ok = np.all(np.isfinite(xr), axis=1) & np.isfinite(fr)
    order = np.flatnonzero(ok)[np.argsort(fr[ok], kind="stable")]
    return np.array(greedy(x_best, xr, order, 1e-5, max_starts))
