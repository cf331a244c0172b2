"""Observational scaling laws (Ruan, Maddison, Hashimoto 2024, arXiv 2405.10938).

Public models' benchmark scores lie near a low-dimensional space: the leading principal component of the
score matrix is a "capability" axis; within each model family it is log-linear in training compute (the
family's compute efficiency), and a benchmark's accuracy is a sigmoid of it.

* :func:`capability_pca` — centred (optionally standardised) PCA of the complete rows, by SVD; PC1 is
  oriented so that higher means more capable (its loadings sum to > 0);
* :func:`family_compute_fits` — per family, PC1 = slope · log10(C) + intercept by least squares;
* :func:`sigmoid_backtest` — a benchmark predicted from PC1 of the *other* benchmarks through
  acc = chance + (1 − chance)·σ(k·(PC1 − x0)) (least squares, k ≥ 0), fitted on all but the strongest
  models (top ``holdout`` fraction by PC1) and scored on them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError, format_message

__all__ = ["BENCHMARKS", "CapabilityPCA", "capability_pca", "family_compute_fits", "sigmoid_backtest",
           "BacktestResult", "CapabilitySigmoid", "fit_capability_sigmoid"]

BENCHMARKS: tuple[str, ...] = ("MMLU", "ARC-C", "HellaSwag", "Winograd", "TruthfulQA", "GSM8K", "XWinograd",
                               "HumanEval")


@dataclass(frozen=True)
class CapabilityPCA:
    """Principal components of a benchmark-score matrix. Immutable.

    ``explained`` / ``cumulative``: variance ratios of every component; ``loadings``: (benchmarks x
    components); ``scores``: the models' coordinates (complete rows only, indexed like the input);
    ``excluded``: the rows with a missing score, with the benchmarks missing.
    """

    benchmarks: tuple[str, ...]
    standardize: bool
    mean: pd.Series = field(repr=False)
    scale: pd.Series = field(repr=False)
    loadings: pd.DataFrame = field(repr=False)
    explained: tuple[float, ...]
    scores: pd.DataFrame = field(repr=False)
    excluded: pd.DataFrame = field(repr=False)

    @property
    def cumulative(self) -> tuple[float, ...]:
        return tuple(float(x) for x in np.cumsum(self.explained))

    def transform(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Coordinates of other models (complete rows) on the same components."""
        X = (frame[list(self.benchmarks)] - self.mean) / self.scale
        return pd.DataFrame(X.to_numpy(float) @ self.loadings.to_numpy(), index=frame.index,
                            columns=self.loadings.columns)


def capability_pca(frame: pd.DataFrame, benchmarks: Sequence[str] = BENCHMARKS, *, standardize: bool = False
                   ) -> CapabilityPCA:
    """Centred PCA (SVD) of the rows of ``frame`` that have every benchmark score."""
    b = list(benchmarks)
    missing_cols = [c for c in b if c not in frame.columns]
    if missing_cols:
        raise DataError(format_message(f"Benchmark column(s) {missing_cols}", "of capability_pca()", "present",
                                       f"columns {list(frame.columns)}", "Pass benchmarks=[...] that exist."))
    X = frame[b].astype(float)
    complete = X.notna().all(axis=1)
    if complete.sum() < len(b):
        raise DataError(format_message("The score matrix", "of capability_pca()", f"at least {len(b)} complete rows",
                                       int(complete.sum()), "Drop benchmarks with many missing scores."))
    excluded = frame.loc[~complete].assign(missing=X.loc[~complete].isna().apply(
        lambda r: ", ".join(r.index[r]), axis=1))
    Xc = X.loc[complete]
    mean = Xc.mean()
    scale = Xc.std(ddof=0) if standardize else pd.Series(1.0, index=b)
    Z = ((Xc - mean) / scale).to_numpy()
    _, s, vt = np.linalg.svd(Z, full_matrices=False)
    load = vt.T
    signs = np.sign(load.sum(axis=0))
    signs[signs == 0] = 1.0
    load = load * signs
    var = s ** 2
    names = [f"PC{i + 1}" for i in range(load.shape[1])]
    loadings = pd.DataFrame(load, index=b, columns=names)
    scores = pd.DataFrame(Z @ load, index=Xc.index, columns=names)
    return CapabilityPCA(benchmarks=tuple(b), standardize=standardize, mean=mean, scale=scale, loadings=loadings,
                         explained=tuple(float(v) for v in var / var.sum()), scores=scores, excluded=excluded)


def family_compute_fits(frame: pd.DataFrame, capability: pd.Series, *, family: str = "family", flops: str = "flops",
                        min_models: int = 3) -> pd.DataFrame:
    """Per family: capability = slope · log10(FLOPs) + intercept (least squares), for families with at least
    ``min_models`` models that have FLOPs. Columns: family, n_models, slope, intercept, r2, and
    ``flops_at_zero`` (the compute at which the family's line reaches capability 0: lower = more efficient)."""
    df = frame.loc[capability.index].assign(_cap=capability)
    df = df[np.isfinite(df[flops].astype(float)) & (df[flops].astype(float) > 0)]
    rows = []
    for fam, g in df.groupby(family, sort=True):
        if len(g) < min_models or g[flops].nunique() < 2:
            continue
        x = np.log10(g[flops].to_numpy(float))
        y = g["_cap"].to_numpy(float)
        slope, intercept = np.polyfit(x, y, 1)
        resid = y - (slope * x + intercept)
        r2 = 1 - float(np.sum(resid ** 2)) / max(float(np.sum((y - y.mean()) ** 2)), 1e-300)
        rows.append({"family": fam, "n_models": len(g), "slope": float(slope), "intercept": float(intercept),
                     "r2": r2, "flops_at_zero": float(10 ** (-intercept / slope)) if slope > 0 else np.nan})
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class CapabilitySigmoid:
    """acc = chance + (1 − chance)·σ(k·(x − x0)), x the capability axis. Immutable."""

    chance: float
    k: float
    x0: float
    sse: float

    def predict(self, x: Any) -> np.ndarray:
        z = np.clip(self.k * (np.asarray(x, dtype=float) - self.x0), -500, 500)
        return self.chance + (1 - self.chance) / (1 + np.exp(-z))


def fit_capability_sigmoid(x: Any, y: Any, *, chance: float = 0.0) -> CapabilitySigmoid:
    """Least-squares fit of acc = chance + (1 − chance)·σ(k·(x − x0)), k >= 0, from a fixed grid of starts."""
    from scipy.optimize import least_squares

    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if len(x) < 3 or not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise DataError(format_message("The points", "of fit_capability_sigmoid()", "at least 3, finite", len(x)))
    if not 0 <= chance < 1:
        raise DataError(format_message("Option chance", "of fit_capability_sigmoid()", "in [0, 1)", chance))

    def resid(p: np.ndarray) -> np.ndarray:
        z = np.clip(p[0] * (x - p[1]), -500, 500)
        return chance + (1 - chance) / (1 + np.exp(-z)) - y

    best = None
    span = float(np.ptp(x)) or 1.0
    for k0 in (0.5 / span, 2.0 / span, 8.0 / span):
        for x0 in np.quantile(x, [0.5, 0.9]).tolist() + [float(x.max() + span)]:
            r = least_squares(resid, [k0, x0], bounds=([0.0, -np.inf], [np.inf, np.inf]), method="trf",
                              xtol=1e-12, ftol=1e-12, gtol=1e-12, max_nfev=5000)
            if best is None or r.cost < best.cost:
                best = r
    assert best is not None
    return CapabilitySigmoid(chance=float(chance), k=float(best.x[0]), x0=float(best.x[1]), sse=2 * float(best.cost))


@dataclass(frozen=True)
class BacktestResult:
    """A benchmark predicted from the capability axis of the other benchmarks. Immutable."""

    target: str
    holdout: float
    sigmoid: Any
    pca: CapabilityPCA
    table: pd.DataFrame = field(repr=False)  # model, capability, actual, predicted, held_out

    @property
    def mae_train(self) -> float:
        t = self.table[~self.table["held_out"]]
        return float((t["predicted"] - t["actual"]).abs().mean())

    @property
    def mae_heldout(self) -> float:
        t = self.table[self.table["held_out"]]
        return float((t["predicted"] - t["actual"]).abs().mean())


def sigmoid_backtest(frame: pd.DataFrame, target: str, *, benchmarks: Sequence[str] = BENCHMARKS,
                     holdout: float = 0.2, chance: float = 0.0, standardize: bool = False,
                     model: str = "model") -> BacktestResult:
    """Predict ``target`` from PC1 of the other benchmarks through a sigmoid; hold out the strongest
    ``holdout`` fraction of the models (by that PC1), fit on the rest, and score both parts."""
    others = [b for b in benchmarks if b != target]
    if target not in frame.columns:
        raise DataError(format_message(f"Target {target!r}", "of sigmoid_backtest()", "a column", repr(target)))
    if not 0 < holdout < 1:
        raise DataError(format_message("Option holdout", "of sigmoid_backtest()", "a fraction in (0, 1)", holdout))
    rows = frame[frame[target].notna()]
    pca = capability_pca(rows, others, standardize=standardize)
    cap = pca.scores["PC1"]
    y = rows.loc[cap.index, target].astype(float)
    n_out = max(1, int(round(holdout * len(cap))))
    order = cap.sort_values(ascending=False).index
    held = pd.Series(False, index=cap.index)
    held.loc[order[:n_out]] = True
    sig = fit_capability_sigmoid(cap[~held].to_numpy(), y[~held].to_numpy(), chance=chance)
    pred = sig.predict(cap.to_numpy())
    table = pd.DataFrame({"model": rows.loc[cap.index, model] if model in rows else cap.index,
                          "capability": cap, "actual": y, "predicted": pred, "held_out": held})
    return BacktestResult(target=target, holdout=holdout, sigmoid=sig, pca=pca, table=table)
