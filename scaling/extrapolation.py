"""Is a question inside what the data can answer? The extrapolation guard shared by every query.

A fit knows the runs it was fitted on (``FitResult.data``) and the FLOPs rule they were recorded with
(``FitResult.conventions``). :func:`check_extrapolation` compares a query with them and emits one
:class:`~scaling.errors.ExtrapolationWarning` that says by how much the query lies outside:

* compute more than ``max_compute_ratio`` (10×) beyond the largest run, or
* tokens per parameter more than ``ratio_factor`` (3×) outside the observed range of D/N.

Published laws carry no runs, so they are not checked (their papers state their own ranges).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .errors import ExtrapolationWarning

__all__ = ["DataRange", "data_range", "check_extrapolation", "MAX_COMPUTE_RATIO", "RATIO_FACTOR"]

#: a query more than this many times the largest run's compute is an extrapolation
MAX_COMPUTE_RATIO = 10.0
#: a tokens-per-parameter ratio more than this factor outside the observed range is an extrapolation
RATIO_FACTOR = 3.0


@dataclass(frozen=True)
class DataRange:
    """The span of the fitted runs: largest compute and the range of tokens per parameter."""

    max_flops: float
    min_ratio: float
    max_ratio: float


def data_range(source: Any) -> DataRange | None:
    """The range of a fit's runs (``None`` for a source without runs of N and D, e.g. a published law)."""
    data = getattr(source, "data", None)
    conv = getattr(source, "conventions", None)
    if data is None or conv is None or not {"n_params", "n_tokens"} <= set(getattr(data, "columns", ())):
        return None
    N = np.asarray(data["n_params"], dtype=float)
    D = np.asarray(data["n_tokens"], dtype=float)
    ok = np.isfinite(N) & np.isfinite(D) & (N > 0) & (D > 0)
    if not ok.any():
        return None
    r = D[ok] / N[ok]
    return DataRange(max_flops=float(np.max(conv.flops(N[ok], D[ok]))), min_ratio=float(r.min()),
                     max_ratio=float(r.max()))


def _fmt(x: float) -> str:
    return f"{x:.3g}"


def check_extrapolation(source: Any, *, flops: ArrayLike | None = None, n_params: ArrayLike | None = None,
                        n_tokens: ArrayLike | None = None, where: str = "the query",
                        stacklevel: int = 3) -> str | None:
    """Warn when a query lies beyond the fitted runs; return the message (``None`` when inside).

    ``flops`` is the query's compute (derived from ``n_params``·``n_tokens`` with the fit's FLOPs rule
    when not given); ``n_params`` and ``n_tokens`` give its tokens per parameter.
    """
    rng = data_range(source)
    if rng is None:
        return None
    parts: list[str] = []
    C = None
    if flops is not None:
        C = np.atleast_1d(np.asarray(flops, dtype=float))
    elif n_params is not None and n_tokens is not None:
        C = np.atleast_1d(source.conventions.flops(np.asarray(n_params, dtype=float),
                                                   np.asarray(n_tokens, dtype=float)))
    if C is not None and C.size and np.isfinite(C).any():
        top = float(np.nanmax(C))
        if top > MAX_COMPUTE_RATIO * rng.max_flops:
            parts.append(f"compute up to {_fmt(top)} FLOPs is {top / rng.max_flops:.3g}x the largest fitted run "
                         f"({_fmt(rng.max_flops)} FLOPs; the guard is {MAX_COMPUTE_RATIO:g}x)")
    if n_params is not None and n_tokens is not None:
        with np.errstate(all="ignore"):
            ratio = np.atleast_1d(np.asarray(n_tokens, dtype=float) / np.asarray(n_params, dtype=float))
        ratio = ratio[np.isfinite(ratio)]
        if ratio.size:
            lo, hi = float(ratio.min()), float(ratio.max())
            if hi > RATIO_FACTOR * rng.max_ratio:
                parts.append(f"D/N up to {hi:.2g} is {hi / rng.max_ratio:.3g}x the largest fitted D/N "
                             f"({rng.max_ratio:.2g})")
            if lo < rng.min_ratio / RATIO_FACTOR:
                parts.append(f"D/N down to {lo:.2g} is {rng.min_ratio / lo:.3g}x below the smallest fitted D/N "
                             f"({rng.min_ratio:.2g})")
    if not parts:
        return None
    msg = (f"{where} lies beyond the data the law was fitted on: " + "; ".join(parts) + ". The law's form is "
           "untested there and its interval covers only the parameter uncertainty, not the form's: backtest the "
           "extrapolation (scaling.backtest / `scaling backtest`) or add runs nearer the target.")
    warnings.warn(msg, ExtrapolationWarning, stacklevel=stacklevel)
    return msg
