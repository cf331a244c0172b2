"""Step 2 of a task law: accuracy as a sigmoid of the task loss (Bhagia et al. 2024, eq. 2).

    Acc(L) = a / (1 + exp(−k (L − L0))) + b,      a ≤ 0, k ≥ 0,

so accuracy falls from ``b`` (at low loss) to ``a + b`` (at high loss). Bounds:

* ``chance=None`` — the paper's box a ∈ [−1, 0], L0 ≥ 0, k ≥ 0, b ∈ [0, 1] (what reproduces its numbers;
  the lower asymptote a + b may then fall below chance);
* ``chance=c`` — accuracy kept between chance and 1: b ∈ [c, 1] and a + b ∈ [c, b] (fitted as
  a = −f (b − c), f ∈ [0, 1]).

The fit minimises the sum of squared accuracy residuals (``scipy.optimize.least_squares``, trust-region
reflective, from a fixed grid of starts — deterministic), with the paper's anchor point (L = 0, Acc = 1)
added by default. Uncertainty: a bootstrap over runs (``clusters=``; a curve's smoothed checkpoints are
not independent) or over points, each resample refitted from the estimate.
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

__all__ = ["SigmoidFit", "fit_sigmoid", "sigmoid"]

PARAMS = ("a", "L0", "k", "b")


def sigmoid(loss: Any, a: Any, L0: Any, k: Any, b: Any) -> np.ndarray:
    """a / (1 + exp(−k (loss − L0))) + b (broadcasting)."""
    with np.errstate(over="ignore"):
        return np.asarray(a) / (1.0 + np.exp(-np.asarray(k) * (np.asarray(loss, dtype=float) - np.asarray(L0)))) \
            + np.asarray(b)


def _readonly(x: np.ndarray) -> np.ndarray:
    x = np.array(x, dtype=float)
    x.setflags(write=False)
    return x


@dataclass(frozen=True)
class SigmoidFit:
    """A fitted step-2 sigmoid. Immutable.

    Attributes
    ----------
    params : dict
        ``a, L0, k, b``.
    chance : float or None
        The lower bound on accuracy used (None: the paper's box bounds).
    sse : float
        Sum of squared residuals at the optimum (anchor included).
    n_points, n_clusters : int
        Points fitted (without the anchor) and clusters (runs) they come from.
    loss, accuracy : numpy arrays (read-only)
        The fitted points (without the anchor).
    samples : numpy array (n, 4) or None
        Bootstrap parameter samples (columns a, L0, k, b).
    settings : dict
        Anchor, starts, bootstrap kind.
    """

    params: Mapping[str, float]
    chance: float | None
    sse: float
    n_points: int
    n_clusters: int
    loss: np.ndarray = field(repr=False)
    accuracy: np.ndarray = field(repr=False)
    samples: np.ndarray | None = field(default=None, repr=False)
    settings: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:  # read-only mappings: the result cannot be edited in place
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))
        object.__setattr__(self, "settings", MappingProxyType(dict(self.settings)))

    def predict(self, loss: Any) -> np.ndarray:
        """Accuracy at task loss ``loss``."""
        p = self.params
        return sigmoid(loss, p["a"], p["L0"], p["k"], p["b"])

    def predict_samples(self, loss: Any) -> np.ndarray:
        """Accuracy at ``loss`` for every bootstrap sample: shape (n_samples, *loss.shape)."""
        if self.samples is None:
            raise DataError(format_message("predict_samples()", "of a SigmoidFit", "called on a fit with bootstrap "
                                           "samples", "a fit without", "Fit with fit_sigmoid(..., bootstrap=200)."))
        s = self.samples
        x = np.asarray(loss, dtype=float)
        shape = (len(s),) + (1,) * x.ndim
        return sigmoid(x, s[:, 0].reshape(shape), s[:, 1].reshape(shape), s[:, 2].reshape(shape),
                       s[:, 3].reshape(shape))

    @property
    def lower_asymptote(self) -> float:
        """a + b: the accuracy the sigmoid tends to at high loss."""
        return self.params["a"] + self.params["b"]

    def to_frame(self) -> pd.DataFrame:
        """Parameters with bootstrap standard errors (NaN without samples)."""
        se = np.std(self.samples, axis=0, ddof=1) if self.samples is not None else np.full(4, np.nan)
        return pd.DataFrame({"estimate": [self.params[p] for p in PARAMS], "se": se}, index=list(PARAMS))


def _to_natural(u: np.ndarray, chance: float | None) -> np.ndarray:
    if chance is None:
        return u
    f, L0, k, b = u
    return np.array([-f * (b - chance), L0, k, b])


def _from_natural(p: np.ndarray, chance: float | None) -> np.ndarray:
    if chance is None:
        return p
    a, L0, k, b = p
    b = min(max(b, chance), 1.0)
    f = 0.0 if b - chance <= 0 else min(max(-a / (b - chance), 0.0), 1.0)
    return np.array([f, L0, k, b])


def _bounds(chance: float | None) -> tuple[list[float], list[float]]:
    if chance is None:
        return [-1.0, 0.0, 0.0, 0.0], [0.0, np.inf, np.inf, 1.0]
    return [0.0, 0.0, 0.0, chance], [1.0, np.inf, np.inf, 1.0]


def _solve(x: np.ndarray, y: np.ndarray, starts: list[np.ndarray], chance: float | None) -> tuple[np.ndarray, float]:
    lo, hi = _bounds(chance)
    best, best_f = None, np.inf

    def resid(u: np.ndarray) -> np.ndarray:
        a, L0, k, b = _to_natural(u, chance)
        return sigmoid(x, a, L0, k, b) - y

    for s in starts:
        u0 = np.clip(_from_natural(np.asarray(s, dtype=float), chance), lo, hi)
        r = least_squares(resid, u0, bounds=(lo, hi), method="trf", max_nfev=20000, xtol=1e-12, ftol=1e-12,
                          gtol=1e-12)
        f = float(np.sum(r.fun ** 2))
        if np.isfinite(f) and f < best_f - 1e-15:
            best, best_f = r.x, f
    if best is None:
        raise DataError(format_message("The sigmoid fit", "of fit_sigmoid()", "finite at some start", "no finite fit",
                                       "Check the loss and accuracy columns."))
    return _to_natural(best, chance), best_f


def _grid(x: np.ndarray, chance: float | None) -> list[np.ndarray]:
    low = 0.25 if chance is None else chance
    starts = [np.array([low - 1.0, 0.9, 3.0, 1.0])]  # the paper's start
    for L0 in np.quantile(x, [0.1, 0.5, 0.9]):
        for k in (1.0, 5.0, 20.0):
            for a in (-0.5, -0.75):
                starts.append(np.array([a, float(L0), k, 1.0]))
    return starts


def fit_sigmoid(loss: Any, accuracy: Any, *, chance: float | None = None,
                anchor: tuple[float, float] | None = (0.0, 1.0),
                bootstrap: int = 0, clusters: Any = None, rng: int | np.random.Generator | None = None) -> SigmoidFit:
    """Fit step 2, accuracy = a / (1 + exp(−k (L − L0))) + b, to (task loss, accuracy) points.

    Parameters
    ----------
    loss, accuracy : array-like
        Task loss and accuracy (fraction) of the same checkpoints (e.g. :func:`curve_points`).
    chance : float, optional
        Chance accuracy: keeps the sigmoid between ``chance`` and 1. Default None: the paper's bounds
        (a ∈ [−1, 0], b ∈ [0, 1]).
    anchor : (loss, accuracy) or None
        An extra point (the paper's (0, 1): zero loss means a perfect score); None for none.
    bootstrap : int
        Number of bootstrap resamples (0: none).
    clusters : array-like, optional
        A label per point (the run): resample whole runs.
    rng : int or Generator
        Seed of the bootstrap.
    """
    x = np.asarray(loss, dtype=float).ravel()
    y = np.asarray(accuracy, dtype=float).ravel()
    where = "of fit_sigmoid()"
    if x.shape != y.shape or len(x) < 4:
        raise DataError(format_message("Arguments loss and accuracy", where, "of equal length >= 4",
                                       f"lengths {len(x)} and {len(y)}"))
    bad = np.flatnonzero(~(np.isfinite(x) & np.isfinite(y)))
    if bad.size:
        raise DataError(format_message("loss/accuracy", where, "finite", f"non-finite at points {bad[:5].tolist()}",
                                       "Drop those checkpoints first."))
    if np.any((y < 0) | (y > 1)):
        raise DataError(format_message("accuracy", where, "a fraction in [0, 1]",
                                       f"values in [{y.min():.4g}, {y.max():.4g}]", "Divide percentages by 100."))
    if chance is not None and not 0 <= chance < 1:
        raise DataError(format_message("Option chance", where, "in [0, 1)", repr(chance),
                                       "e.g. chance=0.25 for four-way multiple choice."))
    lab = np.arange(len(x)) if clusters is None else np.asarray(clusters).ravel()
    if len(lab) != len(x):
        raise DataError(format_message("Option clusters", where, f"one label per point ({len(x)})",
                                       f"{len(lab)} labels"))
    xa, ya = (np.append(x, anchor[0]), np.append(y, anchor[1])) if anchor is not None else (x, y)
    p, sse = _solve(xa, ya, _grid(x, chance), chance)
    samples = None
    if bootstrap:
        g = np.random.default_rng(rng)
        keys, inv = np.unique(lab, return_inverse=True)
        members = [np.flatnonzero(inv == i) for i in range(len(keys))]
        out = np.empty((int(bootstrap), 4))
        for i in range(int(bootstrap)):
            pick = np.concatenate([members[j] for j in g.integers(0, len(keys), len(keys))])
            xb, yb = x[pick], y[pick]
            if anchor is not None:
                xb, yb = np.append(xb, anchor[0]), np.append(yb, anchor[1])
            out[i], _ = _solve(xb, yb, [p], chance)  # warm start at the estimate
        samples = _readonly(out)
    return SigmoidFit(params=dict(zip(PARAMS, map(float, p))), chance=chance, sse=sse, n_points=len(x),
                      n_clusters=len(np.unique(lab)), loss=_readonly(x), accuracy=_readonly(y), samples=samples,
                      settings={"anchor": None if anchor is None else list(anchor), "starts": len(_grid(x, chance)),
                                "bootstrap": int(bootstrap),
                                "bootstrap_by": None if bootstrap == 0
                                else ("point" if clusters is None else "cluster"),
                                "rng": rng if isinstance(rng, (int, np.integer)) or rng is None else None})
