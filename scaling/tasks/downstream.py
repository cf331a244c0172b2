"""Gadre et al. 2024's downstream law: average top-1 error as a function of the loss,

    Err(L) = ε − k · exp(−γ L),

fitted by least squares on the error (as the authors' ``scipy.optimize.curve_fit``) from a small fixed
grid of starts (deterministic); with ``bootstrap`` the points are resampled and refitted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import least_squares

from ..errors import DataError, format_message

__all__ = ["ErrorLawFit", "fit_error_law"]


@dataclass(frozen=True)
class ErrorLawFit:
    """Fitted Err(L) = eps − k·exp(−gamma·L). Immutable."""

    params: Mapping[str, float]
    sse: float
    n_points: int
    samples: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))

    def predict(self, loss: Any) -> np.ndarray:
        p = self.params
        return p["eps"] - p["k"] * np.exp(-p["gamma"] * np.asarray(loss, dtype=float))

    def interval(self, loss: Any, level: float = 0.9) -> tuple[np.ndarray, np.ndarray]:
        """Percentile interval of the prediction over the bootstrap samples."""
        if self.samples is None:
            raise DataError(format_message("interval()", "of an ErrorLawFit", "called on a fit with bootstrap samples",
                                           "a fit without", "Fit with fit_error_law(..., bootstrap=200)."))
        x = np.atleast_1d(np.asarray(loss, dtype=float))
        s = self.samples
        v = s[:, [0]] - s[:, [1]] * np.exp(-s[:, [2]] * x[None, :])
        q = (1 - level) / 2
        return np.nanquantile(v, q, axis=0), np.nanquantile(v, 1 - q, axis=0)

    def to_frame(self) -> pd.DataFrame:
        se = np.std(self.samples, axis=0, ddof=1) if self.samples is not None else np.full(3, np.nan)
        return pd.DataFrame({"estimate": [self.params[k] for k in ("eps", "k", "gamma")], "se": se},
                            index=["eps", "k", "gamma"])


def _solve(x: np.ndarray, y: np.ndarray, starts: list[np.ndarray]) -> tuple[np.ndarray, float]:
    best, best_f = None, np.inf
    for s in starts:
        r = least_squares(lambda p: p[0] - p[1] * np.exp(-p[2] * x) - y, s, method="lm", xtol=1e-14, ftol=1e-14,
                          gtol=1e-14, max_nfev=20000)
        f = float(np.sum(r.fun ** 2))
        if np.isfinite(f) and f < best_f - 1e-18:
            best, best_f = r.x, f
    if best is None:
        raise DataError(format_message("The error-law fit", "of fit_error_law()", "finite at some start", "none"))
    return best, best_f


def fit_error_law(loss: Any, error: Any, *, bootstrap: int = 0, rng: int | np.random.Generator | None = None
                  ) -> ErrorLawFit:
    """Fit Err(L) = eps − k·exp(−gamma·L) to (loss, average top-1 error) points (least squares)."""
    x = np.asarray(loss, dtype=float).ravel()
    y = np.asarray(error, dtype=float).ravel()
    if x.shape != y.shape or len(x) < 3:
        raise DataError(format_message("Arguments loss and error", "of fit_error_law()", "of equal length >= 3",
                                       f"lengths {len(x)} and {len(y)}", "Three parameters need three points."))
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise DataError(format_message("loss/error", "of fit_error_law()", "finite", "non-finite values"))
    if np.any((y < 0) | (y > 1)):
        raise DataError(format_message("error", "of fit_error_law()", "a fraction in [0, 1]",
                                       f"values in [{y.min():.4g}, {y.max():.4g}]", "Use 1 - accuracy, not percent."))
    starts = [np.array([1.0, 1.0, 1.0])]  # curve_fit's default start (the authors' call)
    starts += [np.array([e, k, g]) for e in (0.8, 1.0) for k in (1.0, 10.0, 100.0) for g in (0.5, 1.0, 2.0)]
    p, sse = _solve(x, y, starts)
    samples = None
    if bootstrap:
        g = np.random.default_rng(rng)
        out = np.full((int(bootstrap), 3), np.nan)
        for i in range(int(bootstrap)):
            idx = g.integers(0, len(x), len(x))
            if len(np.unique(x[idx])) < 3:
                continue
            out[i], _ = _solve(x[idx], y[idx], [p, starts[0]])
        samples = out[np.all(np.isfinite(out), axis=1)]
        samples.setflags(write=False)
    return ErrorLawFit(params={"eps": float(p[0]), "k": float(p[1]), "gamma": float(p[2])}, sse=sse,
                       n_points=len(x), samples=samples)
