"""Validation of numeric arguments shared by the simulators and the diagnostics (package-internal)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .errors import DataError, format_message, format_rows

FloatArray = NDArray[np.float64]



def finite_array(name: str, value: ArrayLike, *, positive: bool = False, nonneg: bool = False) -> FloatArray:
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise DataError(format_message(f"Argument '{name}'", "", "numeric", repr(value),
                                       "Pass a number or an array of numbers.")) from exc
    bad = ~np.isfinite(arr)
    if positive:
        bad |= ~(arr > 0)
        constraint = "finite and > 0"
    elif nonneg:
        bad |= ~(arr >= 0)
        constraint = "finite and >= 0"
    else:
        constraint = "finite"
    if np.any(bad):
        flat = np.atleast_1d(arr).ravel()
        idx = np.flatnonzero(np.atleast_1d(bad).ravel())
        where = f"at {format_rows(idx.tolist())}" if arr.ndim else ""
        raise DataError(format_message(f"Argument '{name}'", where, constraint,
                                       f"{float(flat[idx[0]])!r}", "Check the value passed."))
    return arr


def scalar(name: str, value: float, *, positive: bool = False, nonneg: bool = False) -> float:
    arr = finite_array(name, value, positive=positive, nonneg=nonneg)
    if arr.ndim != 0:
        raise DataError(format_message(f"Argument '{name}'", "", "a scalar", f"shape {arr.shape}",
                                       "Pass a single number."))
    return float(arr)


def int_array(name: str, value: ArrayLike, *, minimum: int = 1) -> NDArray[np.int64]:
    arr = finite_array(name, value)
    bad = (arr != np.round(arr)) | (arr < minimum)
    if np.any(bad):
        flat = np.atleast_1d(arr).ravel()
        idx = np.flatnonzero(np.atleast_1d(bad).ravel())
        where = f"at {format_rows(idx.tolist())}" if arr.ndim else ""
        bad_value = float(flat[idx[0]])
        shown = repr(int(bad_value)) if bad_value == round(bad_value) else repr(bad_value)
        raise DataError(format_message(f"Argument '{name}'", where, f"an integer >= {minimum}", shown,
                                       "Counts of samples/parameters are whole numbers; round them "
                                       "(e.g. p = np.round(gamma * n))."))
    return arr.astype(np.int64)


def broadcast(names: str, *arrays: FloatArray) -> list[FloatArray]:
    try:
        return list(np.broadcast_arrays(*arrays))
    except ValueError as exc:
        raise DataError(format_message(f"Arguments {names}", "", "broadcastable to one shape",
                                       "shapes " + " and ".join(str(np.shape(a)) for a in arrays),
                                       "Pass scalars or arrays of equal length.")) from exc


def int_scalar(name: str, value: int, *, minimum: int = 1) -> int:
    if isinstance(value, bool):
        raise DataError(format_message(f"Argument '{name}'", "", f"an integer >= {minimum}", repr(value)))
    arr = int_array(name, value, minimum=minimum)
    if arr.ndim != 0:
        raise DataError(format_message(f"Argument '{name}'", "", "a scalar integer", f"shape {arr.shape}"))
    return int(arr)


def out(arr: FloatArray) -> FloatArray | float:
    """0-d results as Python floats, arrays as float arrays."""
    return float(arr) if arr.ndim == 0 else arr
