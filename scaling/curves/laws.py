"""Laws of the loss along one training run as a function of its learning-rate schedule.

* :data:`MULTIPOWER` — the multi-power law of Luo et al. 2025 (arXiv 2503.12811)::

      L(t) = L0 + A * S1(t)^(-alpha) + B * sum_{k=1..t} (eta_k - eta_{k-1}) * G(eta_k^(-gamma) * S_k(t))
      G(x) = 1 - (C x + 1)^(-beta),   S1(t) = sum_{tau=0..t} eta_tau,   S_k(t) = sum_{tau=k..t} eta_tau

  exactly as the authors' code computes it (``src/models.py``: ``S1`` includes the warmup, whose sum
  is the paper's ``S_W``; the loss-drop sum runs over every step from 1, warmup included; written here
  with ``eta_k - eta_{k-1}`` and ``+B``, i.e. the paper's ``- LD(t)``).
* :data:`ANNEALING` — the annealing law of Tissue et al. 2024 (arXiv 2408.11029)::

      L(t) = L0 + A * S1(t)^(-alpha) - C * S2(t),   S2(t) = sum_{i=1..t} m_i,
      m_i = lambda * m_{i-1} + (eta_{i-1} - eta_i)

  (``lambda`` is fixed, default 0.999; both sums run over every step, warmup included).

A law is evaluated on a :class:`Curve` (a schedule plus the logged steps). Memory stays O(T + n·K_c)
for a curve of T steps with n logged points: the loss-drop sum is evaluated in chunks of rows over
only the steps where the learning rate changes (K of them), with prefix sums of the schedule, never
a T x T matrix.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.signal import lfilter

from ..errors import DataError, format_message
from ..schedules import Schedule, as_schedule

__all__ = ["CurveLaw", "Curve", "MULTIPOWER", "ANNEALING", "get_curve_law", "CURVE_LAWS"]

FloatArray = NDArray[np.float64]

#: elements of one chunk of the (rows x changed steps) loss-drop kernel (about 8 MB per array)
CHUNK_ELEMENTS = 1_000_000
#: run the row chunks on a thread pool of ``THREADS`` workers above this many kernel elements
PARALLEL_ELEMENTS = 400_000
#: worker threads of the kernel (the chunks write disjoint rows; numpy releases the GIL); 1 = serial
THREADS = max(1, min(2, int(os.environ.get("SCALING_THREADS", os.cpu_count() or 1))))
_POOL: list[ThreadPoolExecutor] = []


def _pool() -> ThreadPoolExecutor | None:
    if THREADS <= 1:
        return None
    if not _POOL:
        _POOL.append(ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="scaling-kernel"))
    return _POOL[0]


#: cache the kernel's step differences of a curve when they fit in this many elements (fits reuse them)
CACHE_ELEMENTS = 6_000_000


@dataclass(frozen=True, eq=False)
class Curve:
    """One loss curve to evaluate a law on: the schedule and the (sorted, unique) logged steps.

    ``loss`` is optional (``None`` for a pure prediction). ``coarsen`` > 1 groups the steps where the
    learning rate changes into blocks of at most that many (never across a logged step) — a fast,
    approximate kernel used only to screen starting points; every reported number uses ``coarsen=1``.
    """

    schedule: Schedule
    steps: NDArray[np.int64]
    loss: FloatArray | None = None
    name: str = ""
    coarsen: int = 1
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def make(cls, schedule: Any, steps: ArrayLike, loss: ArrayLike | None = None, *, name: str = "",
             coarsen: int = 1) -> Curve:
        sch = as_schedule(schedule)
        where = f"of curve {name!r}" if name else ""
        s = sch.require_steps(steps, where)
        if s.size == 0:
            raise DataError(format_message("Steps", where, "non-empty", "no steps"))
        order = np.argsort(s, kind="stable")
        s = s[order]
        if np.any(np.diff(s) == 0):
            dup = int(s[np.flatnonzero(np.diff(s) == 0)[0]])
            raise DataError(format_message("Steps", where, "unique", f"step {dup} twice",
                                           "Average or drop duplicate checkpoints first."))
        y = None
        if loss is not None:
            y = np.asarray(loss, dtype=float).reshape(-1)
            if y.shape != order.shape:
                raise DataError(format_message("loss", where, f"one value per step ({order.size})", y.size))
            y = y[order]
            bad = np.flatnonzero(~np.isfinite(y) | (y <= 0))
            if bad.size:
                raise DataError(format_message("loss", where, "finite and > 0", f"{y[bad[0]]!r} at step {s[bad[0]]}"))
        return cls(sch, s, y, name, int(coarsen))

    def with_coarsen(self, coarsen: int) -> Curve:
        return Curve(self.schedule, self.steps, self.loss, self.name, int(coarsen))

    # -- precomputed pieces ------------------------------------------------------------------------
    def prefix(self) -> FloatArray:
        if "P" not in self._cache:
            self._cache["P"] = np.cumsum(self.schedule.lr)
        return self._cache["P"]  # type: ignore[no-any-return]

    def s1(self) -> FloatArray:
        return self.prefix()[self.steps]

    def kernel_columns(self) -> tuple[FloatArray, FloatArray, FloatArray, NDArray[np.int64]]:
        """Steps k >= 1 where eta changes (up to the last logged step): ``delta_k = eta_k - eta_{k-1}``,
        ``log eta_k``, ``P[k-1]`` and, per logged step, how many columns are active (k <= s)."""
        if "cols" in self._cache:
            return self._cache["cols"]  # type: ignore[no-any-return]
        lr, P = self.schedule.lr, self.prefix()
        last = int(self.steps[-1])
        d = np.diff(lr[: last + 1])
        k = np.flatnonzero(d != 0) + 1
        zero = k[lr[k] <= 0]
        if zero.size:
            raise DataError(format_message(
                "The learning rate", f"of curve {self.name!r}" if self.name else "",
                "> 0 at every step where it changes (the multi-power law divides by it)",
                f"0 at step {int(zero[0])}", "Use a small positive final learning rate (e.g. 1e-8)."))
        if self.coarsen > 1 and k.size:
            delta, logeta, pk, cols_k = _coarsen(k, d[k - 1], lr, P, self.steps, self.coarsen)
        else:
            delta, logeta, pk, cols_k = d[k - 1], np.log(lr[k]), P[k - 1], k
        counts = np.searchsorted(cols_k, self.steps, side="right").astype(np.int64)
        out = (np.asarray(delta, float), np.asarray(logeta, float), np.asarray(pk, float), counts)
        self._cache["cols"] = out
        return out


def _coarsen(k: NDArray[np.int64], delta: FloatArray, lr: FloatArray, P: FloatArray, steps: NDArray[np.int64],
             size: int) -> tuple[FloatArray, FloatArray, FloatArray, NDArray[np.int64]]:
    # block boundaries: every `size` columns, and wherever a logged step falls between two columns
    seg = np.searchsorted(steps, k, side="left")  # index of the first logged step >= k
    new_seg = np.r_[True, seg[1:] != seg[:-1]]
    start = np.flatnonzero(new_seg | (np.arange(k.size) % size == 0))
    sums = np.add.reduceat(delta, start)
    # representative column: delta-weighted centre (plain centre when the deltas cancel)
    ends = np.r_[start[1:], k.size]
    mid = (start + ends - 1) // 2
    kr = k[mid]
    return sums, np.log(lr[kr]), P[kr - 1], kr


class CurveLaw:
    """A law of loss along a run: ``predict(params, curve)`` and its Jacobian in natural parameters."""

    name: str = ""
    param_names: tuple[str, ...] = ()
    #: natural lower/upper bounds per parameter
    bounds: dict[str, tuple[float, float]] = {}
    #: ``"log"`` or ``"id"`` per parameter: the optimiser's internal coordinates
    transforms: dict[str, str] = {}
    citation: str = ""

    def predict(self, params: ArrayLike, curve: Curve) -> FloatArray:
        return self.evaluate(np.asarray(params, float), curve, jac=False)[0]

    def evaluate(self, params: FloatArray, curve: Curve, *, jac: bool) -> tuple[FloatArray, FloatArray | None]:
        raise NotImplementedError

    def params_array(self, params: Any) -> FloatArray:
        if isinstance(params, dict) or hasattr(params, "keys"):
            missing = [p for p in self.param_names if p not in params]
            if missing:
                raise DataError(format_message("Parameters", f"of curve law {self.name!r}",
                                               f"named {list(self.param_names)}", sorted(params.keys()),
                                               f"Missing: {missing}."))
            return np.array([float(params[p]) for p in self.param_names])
        arr = np.asarray(params, dtype=float).reshape(-1)
        if arr.size != len(self.param_names):
            raise DataError(format_message("Parameter vector", f"of curve law {self.name!r}",
                                           f"of length {len(self.param_names)} ({', '.join(self.param_names)})",
                                           arr.size))
        return arr

    def __repr__(self) -> str:
        return f"<CurveLaw {self.name}: {', '.join(self.param_names)}>"


class MultiPowerLaw(CurveLaw):
    name = "multipower"
    param_names = ("L0", "A", "alpha", "B", "C", "beta", "gamma")
    bounds = {"L0": (0.0, 1e3), "A": (1e-8, 1e4), "alpha": (1e-4, 5.0), "B": (1e-6, 1e7), "C": (1e-6, 1e4),
              "beta": (1e-4, 10.0), "gamma": (0.0, 5.0)}
    transforms = {"L0": "id", "A": "log", "alpha": "id", "B": "log", "C": "log", "beta": "id", "gamma": "id"}
    citation = "Luo et al. 2025, A Multi-Power Law for Loss Curve Prediction Across Learning Rate Schedules, " \
               "arXiv 2503.12811"

    def loss_drop(self, C: float, beta: float, gamma: float, curve: Curve, *,
                  jac: bool) -> tuple[FloatArray, FloatArray | None]:
        """``sum_k (eta_k - eta_{k-1}) G(eta_k^-gamma S_k(t))`` per logged step and, with ``jac``, its
        derivatives in (C, beta, gamma) as an (n, 3) array."""
        delta, logeta, pk, counts = curve.kernel_columns()
        n = curve.steps.size
        ld = np.zeros(n)
        d = np.zeros((n, 3)) if jac else None
        if delta.size == 0:
            return ld, d
        P_s = curve.s1()
        ce = C * np.exp(-gamma * logeta)  # C * eta_k^-gamma
        dlt = np.column_stack([delta, delta * logeta])
        cached = curve._cache.get("D")
        total = int(counts.sum())
        if cached is None and n * delta.size <= CACHE_ELEMENTS and total > 0:
            D = P_s[:, None] - pk[None, :]
            D[np.arange(delta.size)[None, :] >= counts[:, None]] = 0.0
            curve._cache["D"] = cached = D
        # row chunks: bounded memory, and narrow enough that the triangle k <= s wastes little work
        rows = max(1, min(CHUNK_ELEMENTS // max(1, delta.size), -(-n // 16)))

        def chunk(a: int) -> None:
            b = min(n, a + rows)
            m = int(counts[b - 1])
            if m == 0:
                return
            if cached is not None:
                Dm = cached[a:b, :m]
            else:
                Dm = P_s[a:b, None] - pk[None, :m]
                Dm[np.arange(m)[None, :] >= counts[a:b, None]] = 0.0
            cx = np.multiply(Dm, ce[None, :m])
            lu = np.log1p(cx)
            e = np.multiply(lu, -beta)
            np.expm1(e, out=e)  # (1 + C x)^-beta - 1 = -G; 0 on the inactive columns (x = 0)
            ld[a:b] = -(e @ delta[:m])
            if d is not None:
                e += 1.0  # p = (1 + C x)^-beta
                lu *= e
                d[a:b, 1] = lu @ delta[:m]
                np.add(cx, 1.0, out=lu)
                cx /= lu
                cx *= e  # p C x / (1 + C x); 0 on the inactive columns
                r = cx @ dlt[:m]
                d[a:b, 0] = (beta / C) * r[:, 0]
                d[a:b, 2] = -beta * r[:, 1]

        starts = range(0, n, rows)
        pool = _pool() if total > PARALLEL_ELEMENTS else None
        if pool is None:
            for a in starts:
                chunk(a)
        else:  # numpy releases the GIL in the element-wise kernels: the chunks run on the cores
            list(pool.map(chunk, starts))
        return ld, d

    def evaluate(self, params: FloatArray, curve: Curve, *, jac: bool) -> tuple[FloatArray, FloatArray | None]:
        L0, A, alpha, B, C, beta, gamma = (float(v) for v in params)
        s1 = curve.s1()
        pw = s1 ** (-alpha)
        ld, dld = self.loss_drop(C, beta, gamma, curve, jac=jac)
        pred = L0 + A * pw + B * ld
        if not jac:
            return pred, None
        assert dld is not None
        J = np.empty((pred.size, 7))
        J[:, 0] = 1.0
        J[:, 1] = pw
        J[:, 2] = -A * pw * np.log(s1)
        J[:, 3] = ld
        J[:, 4:7] = B * dld
        return pred, J


class AnnealingLaw(CurveLaw):
    name = "annealing"
    param_names = ("L0", "A", "alpha", "C")
    bounds = {"L0": (0.0, 1e3), "A": (1e-8, 1e4), "alpha": (1e-4, 5.0), "C": (0.0, 1e6)}
    transforms = {"L0": "id", "A": "log", "alpha": "id", "C": "id"}
    citation = "Tissue et al. 2024, Scaling Law with Learning Rate Annealing, arXiv 2408.11029"

    def __init__(self, decay: float = 0.999) -> None:
        if not 0 <= decay < 1:
            raise DataError(format_message("decay (lambda)", "of the annealing law", "in [0, 1)", decay))
        self.decay = float(decay)

    def s2(self, curve: Curve) -> FloatArray:
        key = f"S2:{self.decay!r}"
        if key not in curve._cache:
            lr = curve.schedule.lr[: int(curve.steps[-1]) + 1]
            dec = np.r_[0.0, lr[:-1] - lr[1:]]
            m = lfilter([1.0], [1.0, -self.decay], dec)
            curve._cache[key] = np.cumsum(m)[curve.steps]
        return curve._cache[key]  # type: ignore[no-any-return]

    def evaluate(self, params: FloatArray, curve: Curve, *, jac: bool) -> tuple[FloatArray, FloatArray | None]:
        L0, A, alpha, C = (float(v) for v in params)
        s1 = curve.s1()
        pw = s1 ** (-alpha)
        s2 = self.s2(curve)
        pred = L0 + A * pw - C * s2
        if not jac:
            return pred, None
        J = np.column_stack([np.ones_like(pred), pw, -A * pw * np.log(s1), -s2])
        return pred, J


MULTIPOWER = MultiPowerLaw()
ANNEALING = AnnealingLaw()
CURVE_LAWS: dict[str, CurveLaw] = {"multipower": MULTIPOWER, "annealing": ANNEALING}


def get_curve_law(law: str | CurveLaw) -> CurveLaw:
    if isinstance(law, CurveLaw):
        return law
    if law not in CURVE_LAWS:
        raise DataError(format_message("Curve law", "", f"one of {sorted(CURVE_LAWS)}", repr(law)))
    return CURVE_LAWS[law]


def curves_from(schedules: Sequence[Any], steps: Sequence[ArrayLike], losses: Sequence[ArrayLike | None],
                names: Sequence[str]) -> list[Curve]:
    return [Curve.make(s, t, y, name=n) for s, t, y, n in zip(schedules, steps, losses, names)]
