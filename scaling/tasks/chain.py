"""Two-step task laws: (N, D) -> task loss -> accuracy, with intervals carrying both steps' uncertainty.

:func:`task_law` prepares the points (:mod:`scaling.tasks.curves`), fits step 1 with :func:`scaling.fit`
(Chinchilla form L(N, D) = E + A/N^α + B/D^β, Huber δ = 1e-3 on log residuals by default) and step 2 with
:func:`scaling.tasks.fit_sigmoid`. :func:`predict_accuracy` chains them for a target (N, D): the point
estimate is sigmoid(L̂(N, D)); the interval pushes every step-1 bootstrap sample's loss through every
step-2 bootstrap sample (the full product, so no extra randomness) and takes percentiles.

The step-1 law is fitted to the task loss *in its own unit* (e.g. bits per byte): its table's ``loss``
column is that task loss, not a language-modelling loss in nats per token (the log-residual objective
does not depend on the unit).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError, format_message
from .curves import as_frame, curve_points, final_points
from .sigmoid import SigmoidFit, fit_sigmoid

__all__ = ["TaskLaw", "AccuracyPrediction", "task_law", "predict_accuracy", "single_step", "SingleStepFit"]


@dataclass(frozen=True)
class AccuracyPrediction:
    """Predicted accuracy at one or more targets (N, D). Immutable; ``to_frame()`` for a table.

    ``accuracy`` is the chained point estimate; ``lower``/``upper`` the ``level`` percentile interval over
    the step-1 x step-2 bootstrap product (NaN when neither step has samples); ``task_loss`` the
    step-1 prediction with its own interval; ``uncertainty`` says which steps' samples were used;
    ``samples`` (read-only, n_samples x targets) the chained accuracies themselves.
    """

    task: str
    n_params: tuple[float, ...]
    n_tokens: tuple[float, ...]
    task_loss: tuple[float, ...]
    task_loss_lower: tuple[float, ...]
    task_loss_upper: tuple[float, ...]
    accuracy: tuple[float, ...]
    lower: tuple[float, ...]
    upper: tuple[float, ...]
    level: float
    uncertainty: str
    n_samples: int
    samples: np.ndarray | None = field(default=None, repr=False, compare=False)

    def probability_at_least(self, threshold: float) -> np.ndarray:
        """Share of the chained samples with accuracy >= ``threshold`` (a fraction), per target: how sure
        the fit is that the model clears the bar (fitting uncertainty only)."""
        if self.samples is None:
            raise DataError(format_message("probability_at_least()", "of an AccuracyPrediction",
                                           "called on a prediction with samples", "none",
                                           "Fit the task law with bootstrap=200 (both steps)."))
        return np.mean(self.samples >= threshold, axis=0)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"task": self.task, "n_params": self.n_params, "n_tokens": self.n_tokens,
                             "task_loss": self.task_loss, "task_loss_lower": self.task_loss_lower,
                             "task_loss_upper": self.task_loss_upper, "accuracy": self.accuracy,
                             "lower": self.lower, "upper": self.upper, "level": self.level})

    def __len__(self) -> int:
        return len(self.accuracy)


@dataclass(frozen=True)
class TaskLaw:
    """A fitted two-step task law. Immutable.

    Attributes
    ----------
    task : str
    step1 : FitResult
        Task loss from (N, D) (:func:`scaling.fit`; its data are the per-run final points).
    step2 : SigmoidFit
        Accuracy from task loss.
    points1, points2 : DataFrame
        The fitted points of each step (``points1`` also holds each run's final accuracy, for the
        single-step alternative).
    settings : dict
        The recipe (columns, last, warmup, window, objective, chance, bootstrap, rng).
    """

    task: str
    step1: Any
    step2: SigmoidFit
    points1: pd.DataFrame = field(repr=False)
    points2: pd.DataFrame = field(repr=False)
    settings: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "settings", MappingProxyType(dict(self.settings)))

    def predict_loss(self, n_params: Any, n_tokens: Any) -> np.ndarray:
        """Step 1 alone: the task loss at (N, D)."""
        return np.asarray(self.step1.predict(np.asarray(n_params, float), np.asarray(n_tokens, float)), float)

    def predict(self, n_params: Any, n_tokens: Any, *, level: float = 0.9) -> AccuracyPrediction:
        """The chained prediction (see :func:`predict_accuracy`)."""
        return predict_accuracy(self.step1, self.step2, n_params=n_params, n_tokens=n_tokens, level=level,
                                task=self.task)


def task_law(curves: Any, loss: str, accuracy: str, *, task: str | None = None, last: int = 5, warmup: float = 0.1,
             window: int = 5, objective: str = "huber", delta: float = 1e-3, chance: float | None = None,
             anchor: tuple[float, float] | None = (0.0, 1.0), bootstrap: int = 0, by: str = "run",
             step2_curves: Any = None, rng: int | np.random.Generator | None = None) -> TaskLaw:
    """Fit a two-step task law on a ladder's evaluation curves (Bhagia et al. 2024's recipe by default).

    Parameters
    ----------
    curves : RunTable or DataFrame
        One row per checkpoint with ``run`` (``by``), ``n_params``, ``n_tokens`` and the task's loss and
        accuracy columns (e.g. ``sc.load_dataset("olmo_ladder")`` filtered to the ladder runs).
    loss, accuracy : str
        Column names of the task loss (e.g. ``"bpb_hellaswag_val"``) and accuracy (``"acc_hellaswag_val"``).
    last : int
        Step 1 uses each run's mean task loss over its last ``last`` checkpoints (5).
    warmup, window : float, int
        Step 2 skips each run's first ``warmup`` fraction of checkpoints (0.1) and smooths loss and
        accuracy with a ``window``-point trailing moving average (5).
    objective, delta : str, float
        Step-1 objective of :func:`scaling.fit` (``"huber"`` on log residuals, δ = 1e-3; ``"squared"`` is
        plain least squares in loss space).
    chance, anchor : see :func:`fit_sigmoid` (default: the paper's bounds and its (0, 1) anchor).
    bootstrap : int
        Bootstrap resamples for both steps (0: none; 200 gives usable 90 % intervals): step 1 by
        :class:`scaling.Bootstrap` over runs, step 2 over runs (whole curves).
    step2_curves : optional
        Fit step 2 on other curves (default: the same).
    rng : int or Generator
        Seed for both bootstraps.
    """
    import scaling as sc

    name = task or accuracy
    frame = as_frame(curves, "of task_law()")
    pts1 = final_points(frame, loss, last=last, by=by, accuracy=accuracy)
    pts2 = curve_points(frame if step2_curves is None else as_frame(step2_curves, "of task_law()"), loss, accuracy,
                        warmup=warmup, window=window, by=by)
    table = sc.read_table(pts1[["n_params", "n_tokens", "loss", by]].rename(columns={by: "run"}),
                          name=f"{name} step 1", meta={"task_loss": loss}, duplicates="keep")
    g = np.random.default_rng(rng)
    s1, s2 = (int(x) for x in g.integers(0, 2**31 - 1, 2))
    unc = sc.Bootstrap(n=int(bootstrap), jackknife=False) if bootstrap else None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit1 = sc.fit(table, law="chinchilla", loss=objective, delta=delta, uncertainty=unc, rng=s1)
    for w in caught:  # re-emit, naming the task
        warnings.warn(f"step 1 of task {name!r}: {w.message}", w.category, stacklevel=2)
    fit2 = fit_sigmoid(pts2["loss"], pts2["accuracy"], chance=chance, anchor=anchor, bootstrap=int(bootstrap),
                       clusters=pts2[by], rng=s2)
    settings = {"loss": loss, "accuracy": accuracy, "last": last, "warmup": warmup, "window": window,
                "objective": objective, "delta": delta, "chance": chance, "anchor": anchor,
                "bootstrap": int(bootstrap), "by": by,
                "rng": rng if isinstance(rng, (int, np.integer)) or rng is None else None}
    return TaskLaw(task=name, step1=fit1, step2=fit2, points1=pts1, points2=pts2, settings=settings)


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.array(a, dtype=float)
    a.setflags(write=False)
    return a


def _quantiles(v: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    q = (1 - level) / 2
    return np.nanquantile(v, q, axis=0), np.nanquantile(v, 1 - q, axis=0)


def predict_accuracy(step1: Any, step2: SigmoidFit | None = None, *, n_params: Any, n_tokens: Any, level: float = 0.9,
                     task: str | None = None) -> AccuracyPrediction:
    """Chained prediction of accuracy at target(s) (N, D), with a ``level`` interval.

    ``step1``: a :class:`~scaling.FitResult` of the task loss (or a :class:`TaskLaw`, then ``step2`` may
    be omitted); ``step2``: a :class:`SigmoidFit`. Warns :class:`~scaling.errors.ExtrapolationWarning`
    when a target lies far beyond the fitted runs' compute or D/N (a ladder's targets always do: read the
    interval as parameter uncertainty only). The interval pushes every step-1 parameter sample's
    loss (bootstrap samples, or draws from its covariance) through every step-2 bootstrap sample; a step
    without either contributes its point estimate only (``uncertainty`` records which steps were sampled).
    """
    if isinstance(step1, TaskLaw):
        step2 = step1.step2 if step2 is None else step2
        task = task or step1.task
        step1 = step1.step1
    if step2 is None:
        raise DataError(format_message("Argument step2", "of predict_accuracy()", "a SigmoidFit", "None",
                                       "Pass the step-2 fit (fit_sigmoid(...)) or a TaskLaw as step1."))
    if not 0 < level < 1:
        raise DataError(format_message("Option level", "of predict_accuracy()", "in (0, 1)", repr(level)))
    N = np.atleast_1d(np.asarray(n_params, dtype=float))
    D = np.atleast_1d(np.asarray(n_tokens, dtype=float))
    N, D = np.broadcast_arrays(N, D)
    bad = np.flatnonzero(~(np.isfinite(N) & np.isfinite(D) & (N > 0) & (D > 0)))
    if bad.size:
        raise DataError(format_message("n_params/n_tokens", "of predict_accuracy()", "finite and > 0",
                                       f"N = {N[bad[0]]!r}, D = {D[bad[0]]!r} at target {int(bad[0])}"))
    from ..extrapolation import check_extrapolation

    # a ladder exists to extrapolate: say how far (ExtrapolationWarning), once, naming this function
    check_extrapolation(step1, n_params=N, n_tokens=D, where="predict_accuracy()")
    L = np.asarray(step1.law.predict(step1.params, n_params=N, n_tokens=D), dtype=float)
    acc = step2.predict(L)
    draws = step1._param_draws()  # bootstrap/MCMC samples, else draws from a covariance, else None
    used = []
    if draws is not None:
        Ls = np.asarray(step1.law.predict(draws, n_params=N, n_tokens=D), dtype=float).reshape(len(draws), len(N))
        used.append("step 1")
    else:
        Ls = L[None, :]
    if step2.samples is not None:
        A = step2.predict_samples(Ls)  # (k2, k1, m)
        used.append("step 2")
    else:
        A = step2.predict(Ls)[None]
    A = A.reshape(-1, len(N))
    if used:
        lo, hi = _quantiles(A, level)
        llo, lhi = _quantiles(Ls, level) if draws is not None else (np.full(len(N), np.nan),) * 2
    else:
        lo = hi = llo = lhi = np.full(len(N), np.nan)
    t = tuple
    return AccuracyPrediction(task=task or "task", n_params=t(map(float, N)), n_tokens=t(map(float, D)),
                              task_loss=t(map(float, L)), task_loss_lower=t(map(float, llo)),
                              task_loss_upper=t(map(float, lhi)), accuracy=t(map(float, acc)),
                              lower=t(map(float, lo)), upper=t(map(float, hi)), level=float(level),
                              uncertainty=" x ".join(used) if used else "none",
                              n_samples=int(A.shape[0]) if used else 0, samples=_frozen(A) if used else None)


# ------------------------------------------------------------------------------------------ single step
@dataclass(frozen=True)
class SingleStepFit:
    """Accuracy directly from (N, D): Acc = a / (1 + exp(−(A/N^α + B/D^β + E))) + b (the paper's
    single-step alternative, fitted on the per-run final accuracies). Immutable."""

    params: Mapping[str, float]
    objective: float
    n_points: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))

    def predict(self, n_params: Any, n_tokens: Any) -> np.ndarray:
        p = self.params
        N, D = np.asarray(n_params, float), np.asarray(n_tokens, float)
        z = p["A"] / N ** p["alpha"] + p["B"] / D ** p["beta"] + p["E"]
        return p["a"] / (1.0 + np.exp(-z)) + p["b"]


def single_step(law: TaskLaw | pd.DataFrame, *, delta: float = 1e-3) -> SingleStepFit:
    """Fit the single-step alternative on the step-1 points (columns n_params, n_tokens, accuracy), with
    Huber δ on log residuals (as the paper), from the paper's start and one more (L-BFGS-B)."""
    from scipy.optimize import minimize

    from ..estimation.objectives import huber

    pts = law.points1 if isinstance(law, TaskLaw) else law
    N, D, y = (pts[c].to_numpy(dtype=float) for c in ("n_params", "n_tokens", "accuracy"))
    lN, lD = np.log(N), np.log(D)

    def model(p: np.ndarray) -> np.ndarray:
        z = np.exp(p[0] - p[2] * lN) + np.exp(p[1] - p[3] * lD) + p[4]
        return p[5] / (1.0 + np.exp(-z)) + p[6]

    def obj(p: np.ndarray) -> float:
        m = model(p)
        if np.any(m <= 0):
            return 1e10
        return float(np.sum(huber(np.log(m) - np.log(y), delta)))

    bounds = [(0, None), (0, None), (0, None), (0, None), (None, None), (-1.0, 0.0), (0.0, 1.0)]
    best = None
    for p0 in ([3.0, 5.0, 0.2, 0.3, 0.0, -0.75, 1.0], [6.0, 8.0, 0.3, 0.3, -1.0, -0.75, 1.0]):  # the paper's + 1
        r = minimize(obj, np.array(p0), method="L-BFGS-B", bounds=bounds,
                     options={"maxiter": 20000, "gtol": 1e-12, "ftol": 1e-15})
        if best is None or r.fun < best.fun:
            best = r
    assert best is not None
    p = best.x
    return SingleStepFit(params={"A": float(np.exp(p[0])), "B": float(np.exp(p[1])), "alpha": float(p[2]),
                                 "beta": float(p[3]), "E": float(p[4]), "a": float(p[5]), "b": float(p[6])},
                         objective=float(best.fun), n_points=len(y))
