"""Batched re-optimisation of many weighted versions of one fit (bootstrap resamples, jackknife).

A bootstrap resample is the same objective with integer weights (the number of times each point was
drawn); a jackknife replicate has one zero weight. :func:`optimise_weighted` solves a whole block of
such weight vectors as *one* array computation with the engine's batched L-BFGS
(:func:`~scaling.fit.optimize.batched_lbfgs`), each row carrying its own weights, in three phases:

A. **Main run, float64, tight.** Every row starts at the full-data optimum (candidate 0) and runs to
   ``ftol = 1e-14`` (relative objective decrease below 1e-14 for three iterations), in the engine's
   centred coordinates. The few rows that stop for another reason (line search stalled, iteration
   limit) are finished one by one with the engine's tight scipy polish (gtol 1e-12, ftol 1e-15).
   On Epoch's 240 points this reaches the objective of a per-resample scipy polish to ~1e-14
   relative (``tests/test_uncertainty.py``), without a Python loop over resamples.
B. **Other basins, float32 screening.** The other candidate starts (distinct local optima of the
   full fit's start grid) are run for a row only where they could plausibly beat phase A: when the
   resample's objective at the candidate exceeds its phase-A optimum by at most ``screen`` times the
   resampling standard deviation of that difference (``scale``, computed by the caller). These rows
   run in float32 (the engine's screening precision).
C. **Float64 finish** of the phase-B rows that ended within 1e-3 (relative) of, or below, the row's
   phase-A optimum; a row's answer is the lowest objective found.

Results depend only on the rows of the block (not on other blocks, threads or processes): blocks
are formed by the caller independently of the number of workers, so parallel runs reproduce serial
ones bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..laws.base import FloatArray
from .objectives import Objective
from .optimize import CONVERGED, batched_lbfgs, polish

__all__ = ["WeightedFits", "optimise_weighted", "centring", "pointwise", "distinct_optima"]

#: relative objective tolerance of the float64 phases (see module docstring)
FTOL64 = 1e-14
FTOL32 = 1e-6


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


def centring(objective: Objective) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """(T, T^-1, lower, upper): the engine's centred coordinates w = v T^T and free bounds
    (as :func:`scaling.fit.engine.multistart`: centring only where mixed coordinates are unbounded)."""
    law = objective.law
    lo, hi = law.free_bounds()
    if objective.extra:
        lo, hi = np.append(lo, -np.inf), np.append(hi, np.inf)
    k = len(lo)
    T = np.eye(k)
    Tl = law.free_preconditioner(objective.X)
    T[: Tl.shape[0], : Tl.shape[1]] = Tl
    bounded = np.isfinite(lo) | np.isfinite(hi)
    mixed = (np.abs(T - np.eye(k)) > 0).any(axis=0) | (np.abs(T - np.eye(k)) > 0).any(axis=1)
    if (bounded & mixed).any():
        T = np.eye(k)
    return T, np.linalg.inv(T), np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)


def _batch_fun(objective: Objective, T: FloatArray, W: FloatArray):  # type: ignore[no-untyped-def]
    """fun(v, idx) for batched_lbfgs: row r of the batch uses weights W[r]. Single-threaded on
    purpose, so a row's arithmetic does not depend on how rows are split across threads."""
    Td = T.astype(objective.y.dtype)

    def fun(v: FloatArray, idx: np.ndarray) -> tuple[FloatArray, FloatArray]:
        f, g = objective(v.astype(objective.y.dtype) @ Td.T, W[idx])
        return f.astype(float), g.astype(float) @ T

    return fun


def _run(objective: Objective, W: FloatArray, x0: FloatArray, T: FloatArray, Ti: FloatArray, lo: FloatArray,
         hi: FloatArray, ftol: float, max_iter: int) -> tuple[FloatArray, np.ndarray, np.ndarray]:
    fun = _batch_fun(objective, T, W.astype(objective.y.dtype))
    res = batched_lbfgs(fun, np.clip(x0, lo, hi) @ Ti.T, lo, hi, max_iter=max_iter, ftol=ftol)
    return res.x @ T.T, res.n_iter, res.status


def _values(objective: Objective, x: FloatArray, W: FloatArray, block: int = 4096) -> FloatArray:
    if len(x) == 0:
        return np.zeros(0)
    return np.concatenate([objective(x[j:j + block], W[j:j + block], grad=False)[0]
                           for j in range(0, len(x), block)])


def _finish(objective: Objective, W: FloatArray, x: FloatArray, status: np.ndarray, lo: FloatArray,
            hi: FloatArray, max_iter: int) -> tuple[FloatArray, np.ndarray, np.ndarray]:
    """Polish (scipy L-BFGS-B, tight) the rows that did not meet the batched convergence test."""
    x = x.copy()
    extra = np.zeros(len(x), dtype=int)
    ok = status == CONVERGED
    for i in np.flatnonzero(~ok):
        Wi = W[i]

        def fun1(v: FloatArray, Wi: FloatArray = Wi) -> tuple[float, FloatArray]:
            f, g = objective(v[None, :], Wi)
            return float(f[0]), g[0]

        f_before = fun1(x[i])[0]
        xi, fi, nit, success, _ = polish(fun1, x[i], lo, hi, maxiter=max_iter * 10)
        if np.isfinite(fi) and fi <= f_before:
            x[i] = xi
        extra[i] = nit
        ok[i] = success or (np.isfinite(fi) and fi >= f_before - 1e-15 * abs(f_before))
    return x, extra, ok


def optimise_weighted(objective: Objective, W: FloatArray, candidates: FloatArray, *,
                      scale: FloatArray | None = None, screen: float = 3.0, max_iter: int = 1000) -> WeightedFits:
    """Minimise ``objective`` under each weight row of ``W`` (R, n), starting from ``candidates``
    (K, k; row 0 the full-data optimum). See the module docstring for the three phases.

    ``scale`` (R, K): resampling standard deviation of ``f_w(candidate k) - f_w(candidate 0)``; a
    candidate other than 0 is run for row r when ``f_r(cand k) - f_r(phase-A optimum) <=
    screen * scale[r, k]``. ``screen=inf`` runs every candidate for every row.
    """
    W = np.ascontiguousarray(W, dtype=float)
    R = len(W)
    cand = np.atleast_2d(np.asarray(candidates, dtype=float))
    T, Ti, lo, hi = centring(objective)
    # phase A
    x, n_iter, status = _run(objective, W, np.repeat(cand[:1], R, axis=0), T, Ti, lo, hi, FTOL64, max_iter)
    x, extra, conv = _finish(objective, W, x, status, lo, hi, max_iter)
    n_iter = n_iter + extra
    f = _values(objective, x, W)
    n_alt = n_improved = 0
    K = len(cand)
    if K > 1 and R:
        # phase B: screen the other candidates per row
        rows = np.repeat(np.arange(R), K - 1)
        ks = np.tile(np.arange(1, K), R)
        f0 = _values(objective, cand[ks], W[rows])
        thr = np.inf if scale is None else screen * np.asarray(scale, dtype=float)[rows, ks]
        with np.errstate(invalid="ignore"):
            keep = np.isfinite(f0) & ((f0 - f[rows]) <= thr)
        rows, ks = rows[keep], ks[keep]
        n_alt = int(len(rows))
        if n_alt:
            fast = objective.astype(np.float32)
            xb, it_b, _ = _run(fast, W[rows], cand[ks], T, Ti, lo, hi, FTOL32, max_iter)
            fb = _values(objective, xb, W[rows])
            with np.errstate(invalid="ignore"):
                prom = np.isfinite(fb) & (fb <= f[rows] + 1e-3 * np.abs(f[rows]))
            rows_c, xc0 = rows[prom], xb[prom]
            # phase C
            if len(rows_c):
                xc, it_c, st_c = _run(objective, W[rows_c], xc0, T, Ti, lo, hi, FTOL64, max_iter)
                xc, extra_c, conv_c = _finish(objective, W[rows_c], xc, st_c, lo, hi, max_iter)
                fc = _values(objective, xc, W[rows_c])
                for j in np.argsort(fc, kind="stable")[::-1]:  # best last, so it wins per row
                    r = rows_c[j]
                    if np.isfinite(fc[j]) and fc[j] < f[r]:
                        if fc[j] < f[r] - 1e-9 * max(abs(f[r]), 1e-300):
                            n_improved += 1
                        x[r], f[r], conv[r] = xc[j], fc[j], conv_c[j]
                        n_iter[r] += it_c[j] + extra_c[j]
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
                    max_starts: int, tol: float = 1e-4) -> FloatArray:
    """Candidate starts: ``x_best`` first, then the best end points of a multi-start whose
    predictions differ from every earlier candidate's by more than ``tol`` (max |log ratio|)."""
    law = objective.law
    k_extra = objective.extra

    def pred(v: FloatArray) -> FloatArray:
        vl = v[:, : v.shape[1] - k_extra] if k_extra else v
        f, _ = law.evaluate(law.expand(vl), objective.X, grad=False)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(f)

    out = [np.asarray(x_best, dtype=float)]
    if max_starts <= 1 or ends is None or len(ends) == 0:
        return np.array(out)
    ends = np.asarray(ends, dtype=float)
    ok = np.all(np.isfinite(ends), axis=1) & np.isfinite(ends_f)
    order = np.flatnonzero(ok)[np.argsort(np.asarray(ends_f)[ok], kind="stable")]
    seen = pred(np.array(out))
    for chunk in range(0, len(order), 256):
        idx = order[chunk:chunk + 256]
        P = pred(ends[idx])
        for j, i in enumerate(idx):
            if not np.all(np.isfinite(P[j])):
                continue
            if np.min(np.max(np.abs(seen - P[j]), axis=1)) > tol:
                out.append(ends[i])
                seen = np.vstack([seen, P[j]])
                if len(out) >= max_starts:
                    return np.array(out)
    return np.array(out)
