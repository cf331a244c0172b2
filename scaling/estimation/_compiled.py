"""The compiled float32 screen of the multi-start engine (numba; ``pip install 'scaling[fast]'``).

Only imported when numba is installed (:func:`scaling.estimation.compiled.available`). It holds

* ``exp32`` / ``log32``: float32 exp and log written as polynomials (Cephes' ``expf``/``logf``
  coefficients, relative error <= 1.2e-7 over the float32 range, ``tests/test_compiled.py``), so that
  LLVM vectorises a loop over data points (with numba's ``math.exp``, a scalar libm call, one start's
  objective and gradient took 13 ns a point on the reference machine, 2026-12-02; this kernel takes 3.4:
  ``benchmarks/bench_kernel.py`` row (c));
* ``chinchilla_point``: one start's summed objective and gradient for Chinchilla's law in internal
  coordinates (e, a, b, alpha, beta), in one pass over the points;
* ``screen``: the engine's projected L-BFGS (:func:`scaling.estimation.optimize.batched_lbfgs`: the same
  two-loop recursion, Armijo backtracking, bound handling and stopping rule) run start by start, each
  start until its own rule, with no per-iteration numpy bookkeeping.

Overflow and underflow keep numpy's float32 meaning where it matters to the line search: exp of an
argument above 88 is inf (float32 overflows at 88.7), below -87 it is 0, log of 0 is -inf; a row whose
objective is not finite is rejected by the line search as in the numpy path.
"""

from __future__ import annotations

import math

import numpy as np
from llvmlite import ir
from numba import njit
from numba.core import types
from numba.extending import intrinsic

# 'nnan'/'ninf' are left out: overflowing starts must give inf/nan, which the line search rejects
_FM = {"reassoc", "contract", "nsz", "arcp", "afn"}
_F = np.float32

# status codes: those of optimize.batched_lbfgs
_CONVERGED, _STALLED, _MAX_ITER, _NONFINITE = 1, 2, 3, 4


@intrinsic
def _i2f(typingctx, x):  # type: ignore[no-untyped-def]
    sig = types.float32(types.int32)

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        return builder.bitcast(args[0], ir.FloatType())

    return sig, codegen


@intrinsic
def _f2i(typingctx, x):  # type: ignore[no-untyped-def]
    sig = types.int32(types.float32)

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        return builder.bitcast(args[0], ir.IntType(32))

    return sig, codegen


_LOG2E = _F(1.4426950408889634)
_LN2_HI = _F(0.693359375)
_LN2_LO = _F(-2.12194440e-4)
_SQRTH = _F(0.70710678118654752440)
_FLT_MIN = _F(1.17549435e-38)
_FLT_MAX = _F(3.40282347e38)
_INF = _F(np.inf)


@njit(fastmath=_FM, inline="always", error_model="numpy", cache=True)
def exp32(x):  # type: ignore[no-untyped-def]
    """float32 exp (Cephes expf): inf above 88, 0 below -87, nan for nan."""
    xc = _F(88.0) if x > _F(88.0) else (_F(-87.0) if x < _F(-87.0) else x)
    k = math.floor(xc * _LOG2E + _F(0.5))
    r = xc - k * _LN2_HI - k * _LN2_LO
    p = _F(1.9875691500e-4)
    p = p * r + _F(1.3981999507e-3)
    p = p * r + _F(8.3334519073e-3)
    p = p * r + _F(4.1665795894e-2)
    p = p * r + _F(1.6666665459e-1)
    p = p * r + _F(5.0000001201e-1)
    p = p * r * r + r + _F(1.0)
    res = p * _i2f((np.int32(k) + np.int32(127)) << np.int32(23))  # type: ignore[call-arg]
    res = _INF if x > _F(88.0) else res
    return _F(0.0) if x < _F(-87.0) else res


@njit(fastmath=_FM, inline="always", error_model="numpy", cache=True)
def exp2_32(x):  # type: ignore[no-untyped-def]
    """float32 2**x (Cephes exp2f): inf above 127, 0 below -126, nan for nan."""
    xc = _F(127.0) if x > _F(127.0) else (_F(-126.0) if x < _F(-126.0) else x)
    k = math.floor(xc + _F(0.5))
    r = xc - k
    p = _F(1.535336188319500e-4)
    p = p * r + _F(1.339887440266574e-3)
    p = p * r + _F(9.618437357674640e-3)
    p = p * r + _F(5.550332471162809e-2)
    p = p * r + _F(2.402264791363012e-1)
    p = p * r + _F(6.931472028550421e-1)
    p = p * r + _F(1.0)
    res = p * _i2f((np.int32(k) + np.int32(127)) << np.int32(23))  # type: ignore[call-arg]
    res = _INF if x > _F(127.0) else res
    return _F(0.0) if x < _F(-126.0) else res


@njit(fastmath=_FM, inline="always", error_model="numpy", cache=True)
def log32(x):  # type: ignore[no-untyped-def]
    """float32 natural log (Cephes logf) for normal x > 0; -inf below the smallest normal float32 (0 and
    subnormals), inf for inf, nan for nan and negative x."""
    bits = _f2i(x)  # type: ignore[call-arg]
    e = (bits >> np.int32(23)) - np.int32(126)
    m = _i2f((bits & np.int32(0x7FFFFF)) | np.int32(0x3F000000))  # mantissa in [0.5, 1)
    small = m < _SQRTH
    e = e - np.int32(1) if small else e
    m = m + m - _F(1.0) if small else m - _F(1.0)
    z = m * m
    y = _F(7.0376836292e-2)
    y = y * m - _F(1.1514610310e-1)
    y = y * m + _F(1.1676998740e-1)
    y = y * m - _F(1.2420140846e-1)
    y = y * m + _F(1.4249322787e-1)
    y = y * m - _F(1.6668057665e-1)
    y = y * m + _F(2.0000714765e-1)
    y = y * m - _F(2.4999993993e-1)
    y = y * m + _F(3.3333331174e-1)
    y = y * m * z
    fe = _F(e)
    y += fe * _LN2_LO
    y -= _F(0.5) * z
    res = m + y + fe * _LN2_HI
    res = -_INF if x < _FLT_MIN else res
    res = _INF if x > _FLT_MAX else res
    return np.float32(np.nan) if (x != x) or (x < _F(0.0)) else res


@njit(fastmath=_FM, error_model="numpy", cache=True)
def chinchilla_point(z, l2N, l2D, logy, y, w, delta, mode, g):  # type: ignore[no-untyped-def]
    """Summed objective of Chinchilla's law at internal z = (e, a, b, alpha, beta) (float64, computed in
    float32) and its gradient into g (float64, length 5), for l2N = log2 N and l2D = log2 D (float32).
    mode 0: Huber(delta) of log residuals, 1: squared log residuals, 2: squared residuals. Returns inf
    where the objective or its gradient is not finite. A/N^alpha = 2^(a log2(e) - alpha log2 N)."""
    E = exp32(_F(z[0]))
    a = _F(z[1] * 1.4426950408889634)
    b = _F(z[2] * 1.4426950408889634)
    al = _F(z[3])
    be = _F(z[4])
    obj = _F(0.0)
    g0 = _F(0.0)
    g1 = _F(0.0)
    g2 = _F(0.0)
    g3 = _F(0.0)
    g4 = _F(0.0)
    n = l2N.size
    # one loop per loss, written out: a single loop with the mode branches inside vectorises worse (16 % more
    # time per evaluation on Epoch's data)
    if mode == 0:
        for i in range(n):
            t1 = exp2_32(a - al * l2N[i])
            t2 = exp2_32(b - be * l2D[i])
            f = t1 + t2 + E
            r = log32(f) - logy[i]
            psi = delta if r > delta else (-delta if r < -delta else r)
            pw = w[i] * psi
            obj += pw * (r - _F(0.5) * psi)
            u = pw / f
            ut1 = u * t1
            ut2 = u * t2
            g0 += u
            g1 += ut1
            g2 += ut2
            g3 += ut1 * l2N[i]
            g4 += ut2 * l2D[i]
    elif mode == 1:
        for i in range(n):
            t1 = exp2_32(a - al * l2N[i])
            t2 = exp2_32(b - be * l2D[i])
            f = t1 + t2 + E
            r = log32(f) - logy[i]
            pw = w[i] * r
            obj += pw * r
            u = _F(2.0) * pw / f
            ut1 = u * t1
            ut2 = u * t2
            g0 += u
            g1 += ut1
            g2 += ut2
            g3 += ut1 * l2N[i]
            g4 += ut2 * l2D[i]
    else:
        for i in range(n):
            t1 = exp2_32(a - al * l2N[i])
            t2 = exp2_32(b - be * l2D[i])
            f = t1 + t2 + E
            r = f - y[i]
            pw = w[i] * r
            obj += pw * r
            u = _F(2.0) * pw
            ut1 = u * t1
            ut2 = u * t2
            g0 += u
            g1 += ut1
            g2 += ut2
            g3 += ut1 * l2N[i]
            g4 += ut2 * l2D[i]
    g[0] = g0 * E
    g[1] = g1
    g[2] = g2
    g[3] = -0.6931471805599453 * g3
    g[4] = -0.6931471805599453 * g4
    fo = np.float64(obj)
    if not math.isfinite(fo):
        return np.inf
    for j in range(5):
        if not math.isfinite(g[j]):
            return np.inf
    return fo


@njit(cache=True)
def chinchilla_batch(Z, lnN, lnD, logy, y, w, delta, mode):  # type: ignore[no-untyped-def]
    """chinchilla_point at every row of Z: (objective (S,), gradient (S, 5)); for tests and callers
    that want the compiled objective itself."""
    S = Z.shape[0]
    f = np.empty(S)
    G = np.zeros((S, 5))
    for s in range(S):
        f[s] = chinchilla_point(Z[s], lnN, lnD, logy, y, w, delta, mode, G[s])
    return f, G


@njit(cache=True)
def _next_step(t, f0, ft, gd0):  # type: ignore[no-untyped-def]
    """optimize.next_step: the minimiser of the quadratic through f0, slope gd0 at 0 and ft at t,
    kept in [t/10, t/2]; t/10 where ft is not finite."""
    if math.isfinite(ft) and gd0 < 0:
        den = 2.0 * (ft - f0 - gd0 * t)
        tq = -gd0 * t * t / den if den > 0 else 0.5 * t
        return min(max(tq, 0.1 * t), 0.5 * t)
    return 0.1 * t


@njit(cache=True)
def _eval(v, A, c, zbuf, gz, gv, lnN, lnD, logy, y, w, delta, mode):  # type: ignore[no-untyped-def]
    """Objective and gradient in the optimiser's coordinates v (z = c + A v, g_v = A^T g_z)."""
    P, K = A.shape
    for i in range(P):
        s = c[i]
        for j in range(K):
            s += A[i, j] * v[j]
        zbuf[i] = s
    f = chinchilla_point(zbuf, lnN, lnD, logy, y, w, delta, mode, gz)
    for j in range(K):
        s = 0.0
        for i in range(P):
            s += A[i, j] * gz[i]
        gv[j] = s
    return f


@njit(cache=True)
def screen_chinchilla(V0, lo, hi, A, c, lnN, lnD, logy, y, w, delta, mode, m, max_iter, ftol, patience,
                      max_ls, c1, stall_tol):  # type: ignore[no-untyped-def]
    """Projected L-BFGS from every row of V0 (optimiser coordinates), start by start; the algorithm of
    :func:`scaling.estimation.optimize.batched_lbfgs` (without its hand-off). Returns
    (x (S, K), f (S,), n_iter (S,), status (S,), n_evals)."""
    S, K = V0.shape
    P = A.shape[0]
    X = np.empty((S, K))
    Fv = np.empty(S)
    NI = np.zeros(S, dtype=np.int64)
    ST = np.zeros(S, dtype=np.int64)
    zbuf = np.empty(P)
    gz = np.empty(P)
    Sh = np.zeros((m, K))
    Yh = np.zeros((m, K))
    rho = np.zeros(m)
    al = np.zeros(m)
    x = np.empty(K)
    g = np.empty(K)
    gp = np.empty(K)
    q = np.empty(K)
    d = np.empty(K)
    xt = np.empty(K)
    gt = np.empty(K)
    blocked = np.zeros(K, dtype=np.bool_)
    n_evals = 0
    for s in range(S):
        for j in range(K):
            x[j] = min(max(V0[s, j], lo[j]), hi[j])
        f = _eval(x, A, c, zbuf, gz, g, lnN, lnD, logy, y, w, delta, mode)
        n_evals += 1
        if not math.isfinite(f):
            X[s] = x
            Fv[s] = np.inf
            ST[s] = _NONFINITE
            continue
        rho[:] = 0.0
        gamma = 0.0
        quiet = 0
        its = 0
        status = _MAX_ITER
        for it in range(max_iter):
            gg = 0.0
            for j in range(K):
                blocked[j] = (x[j] <= lo[j] and g[j] > 0) or (x[j] >= hi[j] and g[j] < 0)
                gp[j] = 0.0 if blocked[j] else g[j]
                q[j] = gp[j]
                gg += gp[j] * gp[j]
            gnorm = math.sqrt(gg)
            nh = min(it, m)
            for jj in range(nh):  # newest first
                sl = (it - 1 - jj) % m
                a_j = 0.0
                for j in range(K):
                    a_j += Sh[sl, j] * q[j]
                a_j *= rho[sl]
                for j in range(K):
                    q[j] -= a_j * Yh[sl, j]
                al[sl] = a_j
            H0 = gamma if gamma > 0 else min(1.0, 1.0 / max(gnorm, 1e-300))
            for j in range(K):
                q[j] *= H0
            for jj in range(nh - 1, -1, -1):  # oldest first
                sl = (it - 1 - jj) % m
                b = 0.0
                for j in range(K):
                    b += Yh[sl, j] * q[j]
                b *= rho[sl]
                for j in range(K):
                    q[j] += Sh[sl, j] * (al[sl] - b)
            gd = 0.0
            finite = True
            for j in range(K):
                d[j] = 0.0 if blocked[j] else -q[j]
                gd += gp[j] * d[j]
                if not math.isfinite(d[j]):
                    finite = False
            if not (gd < 0) or not finite:  # reset to steepest descent
                sc = min(1.0, 1.0 / max(gnorm, 1e-300))
                for j in range(K):
                    d[j] = -gp[j] * sc
                rho[:] = 0.0
                gamma = 0.0
            # backtracking Armijo line search (quadratic interpolation, as in optimize.next_step)
            gd0 = 0.0
            for j in range(K):
                gd0 += g[j] * d[j]
            t = 1.0
            moved = False
            fn = np.inf
            for _ls in range(max_ls):
                slope = 0.0
                for j in range(K):
                    xt[j] = min(max(x[j] + t * d[j], lo[j]), hi[j])
                    slope += g[j] * (xt[j] - x[j])
                ft = _eval(xt, A, c, zbuf, gz, gt, lnN, lnD, logy, y, w, delta, mode)
                n_evals += 1
                if math.isfinite(ft) and ft <= f + c1 * slope:
                    moved = True
                    fn = ft
                    break
                t = _next_step(t, f, ft, gd0)
                if -gd0 * t <= stall_tol * abs(f):
                    break  # the predicted decrease is below the objective's float32 resolution: stalled
            sl = it % m
            rho[sl] = 0.0
            if moved:
                sy = 0.0
                yy = 0.0
                ss = 0.0
                for j in range(K):
                    sv = xt[j] - x[j]
                    yv = gt[j] - g[j]
                    sy += sv * yv
                    yy += yv * yv
                    ss += sv * sv
                if sy > 1e-10 * math.sqrt(ss * yy):
                    for j in range(K):
                        Sh[sl, j] = xt[j] - x[j]
                        Yh[sl, j] = gt[j] - g[j]
                    rho[sl] = 1.0 / sy
                    gamma = sy / yy
                rel = (f - fn) / max(max(abs(f), abs(fn)), 1e-300)
                quiet = quiet + 1 if rel <= ftol else 0
                for j in range(K):
                    x[j] = xt[j]
                    g[j] = gt[j]
                f = fn
                its += 1
            if not moved:
                status = _STALLED
                break
            if quiet >= patience:
                status = _CONVERGED
                break
        X[s] = x
        Fv[s] = f
        NI[s] = its
        ST[s] = status
    return X, Fv, NI, ST, n_evals


def warm_up_kernel() -> None:
    """Compile (or load from numba's cache) the objective kernel: its loops over the data points are the
    ones worth vectorising (see compiled._module)."""
    f32 = np.float32
    lnN = np.array([20.0, 21.0], dtype=f32)
    y = np.array([2.5, 2.4], dtype=f32)
    for mode in range(3):
        chinchilla_point(np.zeros(5), lnN, lnN, np.log(y), y, np.ones_like(y), f32(1e-3), mode, np.zeros(5))


def warm_up() -> None:
    """Compile (or load from numba's cache) every other function, with a tiny problem."""
    f32 = np.float32
    v = np.zeros((1, 5))
    lnN = np.array([20.0, 21.0], dtype=f32)
    y = np.array([2.5, 2.4], dtype=f32)
    inf = np.full(5, np.inf)
    for mode in range(3):
        screen_chinchilla(v, -inf, inf, np.eye(5), np.zeros(5), lnN, lnN, np.log(y), y, np.ones_like(y), f32(1e-3),
                          mode, 10, 2, 1e-6, 3, 12, 1e-4, 1e-7)
    chinchilla_batch(v, lnN, lnN, np.log(y), y, np.ones_like(y), f32(1e-3), 0)
    vexp = np.array([0.0], dtype=f32)
    exp32_array(vexp)
    exp2_32_array(vexp)
    log32_array(vexp + f32(1.0))


@njit(fastmath=_FM, error_model="numpy", cache=True)
def _elementwise(x, which):  # type: ignore[no-untyped-def]
    """exp32 (which 0), exp2_32 (1) or log32 (2) of every element of a float32 array: for tests."""
    out = np.empty_like(x)
    for i in range(x.size):
        v = x[i]
        out[i] = exp32(v) if which == 0 else (exp2_32(v) if which == 1 else log32(v))
    return out


def exp32_array(x: np.ndarray) -> np.ndarray:
    return _elementwise(np.ascontiguousarray(x, dtype=np.float32), 0)  # type: ignore[no-any-return]


def exp2_32_array(x: np.ndarray) -> np.ndarray:
    return _elementwise(np.ascontiguousarray(x, dtype=np.float32), 1)  # type: ignore[no-any-return]


def log32_array(x: np.ndarray) -> np.ndarray:
    return _elementwise(np.ascontiguousarray(x, dtype=np.float32), 2)  # type: ignore[no-any-return]
