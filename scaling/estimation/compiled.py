"""Which engine screens the starts of a fit: the compiled one (numba) or numpy.

``engine="auto"`` (the default of :func:`scaling.fit`) screens with the compiled float32 L-BFGS of
:mod:`scaling.estimation._compiled` when numba is installed (``pip install 'scaling[fast]'``) and the
problem is one it has a kernel for — Chinchilla's law (free, tied or fixed parameters), loss
``"huber"``, ``"squared_log"`` or ``"squared"``, no weights or one weight per point — and with numpy's
batched L-BFGS otherwise. Both run the same L-BFGS (two-loop recursion, interpolating Armijo
backtracking, bounds, stall rule) to the same float32 stopping rule, with one difference: the numpy
batch hands its last 24 running starts to a batched float64 finish (a few rows cost it as much per
iteration as thousands), while the compiled screen, which pays per start, runs them to the float32
rule like the others. What follows the screen (the float64 polish of the best end points, the
convergence test, the statuses) is the same code. On Epoch's data both reach the same optimum
(``tests/test_compiled.py``). ``engine="numpy"`` never uses numba; ``engine="compiled"`` raises when
it cannot be used.

Each start's ``stage`` says which screen it ran ("float32 screen (compiled)" or "float32 screen").
"""

from __future__ import annotations

import importlib.util
import threading
import warnings
from typing import Any

import numpy as np

from ..errors import DataError, EngineWarning, format_message
from ..laws.base import FloatArray
from .objectives import Objective

__all__ = ["ENGINES", "available", "unsupported", "screen", "resolve"]

ENGINES = ("auto", "compiled", "numpy")
_MODES = {"huber": 0, "squared_log": 1, "squared": 2}
_LOCK = threading.Lock()
_READY = False
_FAILED: Exception | None = None  # why the compiled module could not be loaded, once known


def available() -> bool:
    """numba is importable (the compiled screen can run)."""
    return importlib.util.find_spec("numba") is not None


def unsupported(objective: Objective, weights: FloatArray | None) -> str | None:
    """Why the compiled screen cannot run this problem (a sentence), or None when it can."""
    law = objective.law
    if law.compiled_kernel() is None:
        return f"law '{law.name}' has no compiled kernel (only Chinchilla's law has one)"
    if objective.loss not in _MODES:
        return f"loss '{objective.loss}' has no compiled kernel (huber, squared_log and squared have)"
    if weights is not None and np.ndim(weights) != 1:
        return "weights differ between starts"
    if not available():
        return "numba is not installed (pip install 'scaling[fast]')"
    return None


def resolve(engine: str, objective: Objective, weights: FloatArray | None, screen_dtype: str) -> str:
    """The engine that screens this problem: 'compiled' or 'numpy' (see the module docstring)."""
    if engine not in ENGINES:
        raise DataError(format_message("Option engine", "of fit()", f"one of {list(ENGINES)}", repr(engine)))
    if engine == "numpy":
        return "numpy"
    why = unsupported(objective, weights) if screen_dtype == "float32" else "the screen runs in float64"
    if why is None:
        try:
            _module()
            return "compiled"
        except Exception as exc:  # numba present but broken (e.g. too old for this numpy), or a compile error
            why = f"numba is installed but the compiled engine failed to load: {type(exc).__name__}: {exc}"
            if engine == "auto":
                warnings.warn(f"{why}. This fit, and the next ones, use the numpy engine (the same optimum, about "
                              "3x slower). Fix: pip install -U numba, or pass engine='numpy' (CLI: --engine numpy) "
                              "to silence this.", EngineWarning, stacklevel=2)
    if engine == "compiled":
        raise DataError(format_message("Option engine", "of fit()", "a problem the compiled screen supports",
                                       "'compiled'", f"It cannot be used here: {why}. Pass engine='auto' or "
                                       "engine='numpy'."))
    return "numpy"


def _module() -> Any:
    """The compiled module, compiled (or loaded from numba's on-disk cache) once per process.

    On a CPU with AVX-512 the first compilation asks LLVM's loop vectoriser for 16 float32 lanes (its
    cost model otherwise stays at 8 on these CPUs: the screen then takes 0.42 s instead of 0.28 s on
    Epoch's data); the option is set only while this module's functions compile, under a lock, and
    reset to LLVM's default afterwards. A failure (numba too old for this numpy, a compile error) is
    kept and raised again on every later call, so a process tries once."""
    global _READY, _FAILED
    if _FAILED is not None:
        raise _FAILED
    if _READY:
        from . import _compiled

        return _compiled
    with _LOCK:
        if not _READY:
            try:
                _load()
            except Exception as exc:
                _FAILED = exc
                raise
            _READY = True
    from . import _compiled

    return _compiled


def _load() -> None:
    """Import the compiled module and compile (or load) its functions; see :func:`_module`."""
    import llvmlite.binding as llvm

    from . import _compiled

    wide = "avx512f" in llvm.get_host_cpu_features().flatten()
    if wide:
        llvm.set_option("scaling", "-force-vector-width=16")
    try:
        _compiled.warm_up_kernel()
    finally:
        if wide:
            llvm.set_option("scaling", "-force-vector-width=0")
    _compiled.warm_up()


def screen(objective: Objective, v0: FloatArray, T: FloatArray, lo: FloatArray, hi: FloatArray,
           weights: FloatArray | None, *, max_iter: int, ftol: float, m: int = 10, patience: int = 3,
           max_ls: int = 12, c1: float = 1e-4, stall_tol: float = 0.0
           ) -> tuple[FloatArray, FloatArray, np.ndarray, np.ndarray, int]:
    """Run the compiled float32 screen from every row of ``v0`` (the engine's centred coordinates,
    w = v T^T): (end points v, float32 objectives, iterations, status codes of
    :func:`~scaling.estimation.optimize.batched_lbfgs`, evaluations)."""
    mod = _module()
    law = objective.law
    M, c = law.affine_expand()
    A = np.ascontiguousarray(np.asarray(M, dtype=float) @ T)
    c = np.ascontiguousarray(c, dtype=float)
    f32 = np.float32
    kernel = law.compiled_kernel()
    if kernel != "chinchilla":
        raise ValueError(f"no compiled kernel {kernel!r}")
    arrays = tuple(np.ascontiguousarray(np.log2(np.asarray(objective.X[v], dtype=float)), dtype=f32)
                   for v in ("n_params", "n_tokens"))
    y = np.ascontiguousarray(objective.y, dtype=f32)
    logy = np.log(y)
    w = np.ones_like(y) if weights is None else np.ascontiguousarray(weights, dtype=f32)
    V0 = np.ascontiguousarray(v0, dtype=float)
    x, f, it, st, ne = mod.screen_chinchilla(V0, np.asarray(lo, dtype=float), np.asarray(hi, dtype=float), A, c,
                                             *arrays, logy, y, w, f32(objective.delta),
                                             _MODES[objective.loss], m, max_iter, ftol, patience, max_ls, c1,
                                             stall_tol)
    return x, f, it, st, int(ne)
