"""``FitProblem``: everything needed to (re)solve a fit — law, objective, data, starts — so that
uncertainty methods can re-optimise resamples exactly as the original fit was optimised."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..laws.base import FloatArray, Law
from .engine import MultiStartResult, multistart
from .objectives import Objective

log = logging.getLogger("scaling")


@dataclass(frozen=True)
class FitProblem:
    """A law, an objective on fixed data, and start points in free coordinates (incl. nuisance)."""

    law: Law
    objective: Objective
    starts: FloatArray
    start_kind: str
    weights: FloatArray | None = None
    max_iter: int = 1000
    threads: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    engine: str = "auto"  # the screen: see scaling.estimation.compiled

    @property
    def n_points(self) -> int:
        return len(self.objective.y)

    @property
    def free_names(self) -> tuple[str, ...]:
        names = self.law.free_names
        return names + (("log_sigma",) if self.objective.extra else ())

    def solve(self, weights: FloatArray | None = None, starts: FloatArray | None = None) -> MultiStartResult:
        """Minimise from every start (default: the problem's own starts and weights)."""
        w = self.weights if weights is None else weights
        return multistart(self.objective, self.starts if starts is None else starts, weights=w,
                          max_iter=self.max_iter, threads=self.threads, engine=self.engine)

    def natural(self, x: FloatArray) -> tuple[FloatArray, dict[str, float]]:
        """Natural law parameters (…, P) and nuisance values from free vector(s) ``x``."""
        x = np.asarray(x, dtype=float)
        k = self.objective.extra
        xl = x[..., : x.shape[-1] - k] if k else x
        theta = self.law.to_natural(self.law.expand(xl))
        nuis = {"sigma": np.exp(x[..., -1])} if k else {}
        return theta, nuis

    def to_free(self, theta: FloatArray) -> FloatArray:
        """Free coordinates of natural parameter vector(s) (without nuisance)."""
        return self.law.contract(self.law.to_internal(np.asarray(theta, dtype=float)))

    def starts_frame(self, ms: MultiStartResult) -> pd.DataFrame:
        theta, nuis = self.natural(ms.starts_x)
        df = pd.DataFrame(ms.starts_x0, columns=[f"start_{n}" for n in self.free_names])
        for i, p in enumerate(self.law.param_names):
            df[p] = theta[:, i]
        for k, v in nuis.items():
            df[k] = v
        df["objective"] = ms.starts_f
        df["n_iter"] = np.asarray(ms.starts_iter, dtype=np.int64)
        df["status"] = pd.array(ms.starts_status, dtype="object")
        if ms.starts_stage is not None:
            df["stage"] = pd.array(ms.starts_stage, dtype="object")
        if ms.starts_grad is not None:
            df["grad_rel"] = np.asarray(ms.starts_grad, dtype=float)
        return df
