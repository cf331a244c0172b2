"""Estimation: fitting scaling laws at the true optimum of the stated objective, and their uncertainty.

>>> import scaling as sc                                       # doctest: +SKIP
>>> res = sc.fit(sc.load_dataset("epoch_chinchilla"), law="chinchilla")   # doctest: +SKIP

Modules: :mod:`.fitting` (``fit``), :mod:`.objectives`, :mod:`.problem`, :mod:`.engine` /
:mod:`.optimize` / :mod:`.batch` (the batched multi-start), :mod:`.result` (``FitResult``),
:mod:`.uncertainty` (bootstrap, sandwich, profile, MCMC, derived quantities), :mod:`.approaches`
(Hoffmann's Approaches 1 and 2), :mod:`.backtest`.
"""

from __future__ import annotations

from .fitting import build_problem, fit
from .objectives import Objective
from .problem import FitProblem
from .result import FitResult, Summary
from . import posthoc  # noqa: F401,I001  (registers FitResult.with_uncertainty)

__all__ = ["fit", "FitResult", "FitProblem", "Summary", "Objective", "build_problem"]
