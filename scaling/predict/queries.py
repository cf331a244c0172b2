"""Validation of planning queries: budgets, sizes, levels, methods and search ranges."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..errors import DataError, format_message

__all__ = ["as_query", "check_level", "check_method", "check_ratio_bounds"]

FloatArray = NDArray[np.float64]


def as_query(x: ArrayLike, name: str, where: str) -> tuple[FloatArray, bool]:
    """A positive finite 1-D array and whether the input was a scalar."""
    try:
        arr = np.asarray(x, dtype=float)
    except (TypeError, ValueError) as exc:
        raise DataError(format_message(f"Argument {name}", f"of {where}", "a positive number or array of numbers",
                                       repr(x), "Pass e.g. 1e24 or [1e22, 1e23].")) from exc
    scalar = arr.ndim == 0
    arr = arr.reshape(-1)
    if arr.size == 0:
        raise DataError(format_message(f"Argument {name}", f"of {where}", "non-empty", "an empty array"))
    bad = ~(np.isfinite(arr) & (arr > 0))
    if np.any(bad):
        idx = np.flatnonzero(bad)
        shown = ", ".join(repr(float(arr[i])) for i in idx[:5])
        pos = "" if scalar else f" at position{'s' if len(idx) > 1 else ''} {', '.join(map(str, idx[:5]))}"
        raise DataError(format_message(f"Argument {name}", f"of {where}", "finite and > 0", f"{shown}{pos}",
                                       f"Pass {name} as positive numbers (FLOPs, parameters, tokens)."))
    return arr, scalar


def check_level(level: float | None, where: str) -> float:
    if not (isinstance(level, (int, float)) and not isinstance(level, bool) and 0.0 < float(level) < 1.0):
        raise DataError(format_message("Argument level", f"of {where}", "a number strictly between 0 and 1",
                                       repr(level), "Use e.g. level=0.95 for a 95% interval."))
    return float(level)


def check_method(method: str, where: str) -> str:
    if method not in ("auto", "closed-form", "numeric"):
        raise DataError(format_message("Argument method", f"of {where}", "one of 'auto', 'closed-form', 'numeric'",
                                       repr(method)))
    return method


def check_ratio_bounds(bounds: Sequence[float], where: str) -> tuple[float, float]:
    try:
        lo, hi = (float(b) for b in bounds)
    except (TypeError, ValueError) as exc:
        raise DataError(format_message("Argument tokens_per_param_bounds", f"of {where}", "a pair (low, high)",
                                       repr(bounds))) from exc
    if not (0 < lo < hi < math.inf):
        raise DataError(format_message("Argument tokens_per_param_bounds", f"of {where}", "0 < low < high < inf",
                                       repr(bounds), "The default is (1e-4, 1e8)."))
    return lo, hi


