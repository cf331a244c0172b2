"""Uncertainty after the fact: ``sc.bootstrap(res, table, n=1000, rng=0)`` and ``res.with_uncertainty(...)``.

A :class:`~scaling.FitResult` remembers what was fitted (``res.spec``), so the problem can be rebuilt from
the result alone — also from one saved and reloaded — or from the table it was fitted on
(:func:`scaling.estimation.fitting.problem_from_result`), and any uncertainty method of
:mod:`scaling.estimation.uncertainty` run on it. The result object itself never runs optimisations:
:meth:`FitResult.with_uncertainty` calls :func:`with_uncertainty` here, registered with
:mod:`scaling.estimation.result` at import (so the result module does not import the fitter).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import result as _result_module
from .fitting import problem_from_result
from .uncertainty import Bootstrap, estimate_uncertainty

__all__ = ["with_uncertainty", "bootstrap"]


def with_uncertainty(result: Any, method: Any, table: Any = None, *, rng: int | np.random.Generator | None = None,
                     n_jobs: int | None = None, progress: bool = False) -> Any:
    """Add uncertainty to a fit after the fact (``FitResult.with_uncertainty``; works on a reloaded fit).

    The problem is rebuilt from ``result.spec`` and the fitted data kept on the result, or from
    ``table`` (the table that was fitted; a cluster bootstrap needs it for its cluster column): the same
    law, objective, delta, fixed/tied parameters, weights and start grid as the fit. ``method``: as
    ``fit(uncertainty=...)`` (``Bootstrap(...)``, ``MCMC(...)``, ``"sandwich"``, ``"profile"``) or
    ``Profile(level)``. Returns a new result; ``result`` is unchanged.
    """
    problem, _, _ = problem_from_result(result, table)
    return estimate_uncertainty(problem, result, method, rng=rng, n_jobs=n_jobs, progress=progress)


def bootstrap(result: Any, table: Any = None, n: int = 1000, *, by: str | None = None,
              rng: int | np.random.Generator | None = None, n_jobs: int | None = None, progress: bool = False,
              **options: Any) -> Any:
    """``sc.bootstrap(res, table, n=1000, rng=0)``: the fit with a nonparametric bootstrap added after the
    fact (every resample at its optimum, verified; ``options`` are those of :class:`Bootstrap`)."""
    return with_uncertainty(result, Bootstrap(n=n, by=by, **options), table, rng=rng, n_jobs=n_jobs,
                            progress=progress)


_result_module.register_posthoc(with_uncertainty)
