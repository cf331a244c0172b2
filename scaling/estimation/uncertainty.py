r"""Honest uncertainty for fitted scaling laws.

``fit(..., uncertainty=...)`` accepts

==========================  ==========================================================================
``Bootstrap(n=1000)``       nonparametric bootstrap of points (``by=None``) or whole clusters
                            (``by="run"``, ``by="group"``, any table column), every resample optimised
                            to its own optimum; percentile and BCa intervals, standard errors, samples
``"sandwich"``              asymptotic (Huber/White) covariance of the M-estimator,
(alias ``"covariance"``)    :math:`H^{-1} (\sum_i s_i s_i^T) H^{-1}`, delta method to natural units
``"profile"``               profile-likelihood intervals (likelihood-type objectives only)
``MCMC(steps, walkers)``    posterior samples with ``emcee`` (likelihood-type objectives only)
==========================  ==========================================================================

and :func:`derived` turns any of them into intervals for derived quantities (``a = beta/(alpha+beta)``,
``G``, tokens per parameter at a budget, predicted loss).

Bootstrap: what "each resample at its optimum" means here
--------------------------------------------------------
Besiroglu et al. (2024) refit every resample with one BFGS start from the full-data optimum and
default tolerances; on their 240 points that leaves 44 % of 1,000 resamples above their optimum
(median 7e-6, up to 1e-3 relative; ``benchmarks/bench_bootstrap.py``). Here (:mod:`scaling.estimation.batch`):

1. every resample is a row of integer weights (draw counts); all resamples are optimised *together*
   by the engine's batched L-BFGS, in float64 to a relative objective change of 1e-14, from the
   full-data optimum, in coordinates where the full-data Hessian is the identity (stalled rows are
   restarted in the batch; rows at the iteration limit get the engine's tight scipy polish). The
   result equals a per-resample scipy L-BFGS-B polish (gtol 1e-12, ftol 1e-15) to 1e-10 relative.
2. Candidate starts: the full fit's start-grid end points are converged tightly in float64 and
   de-duplicated; each *distinct* optimum (up to ``starts``) is run for every resample where it is
   within ``screen`` resampling standard deviations of the resample's optimum (float64, tight;
   ``screen=inf``: always). On Epoch's data the 31 best end points with distinct predictions (at up
   to 10.8× the optimal objective) all converge to the one optimum: they are float32 screening stops,
   not minima.
3. ``extra_starts=k`` also runs k distinct random grid points per resample: a resample can have a
   basin that the full data do not show (``tests/test_bootstrap_trust.py``: the two-basin problem of
   issue 11, where 2 of 60 resamples stop 3.3 % and 2.4 % above their optimum without it). The default
   ``"auto"`` runs the *whole* grid for every resample when it has at most :data:`SMALL_GRID` (8)
   starts — each resample's search is then as thorough as a full-grid refit, at most 8× the runs —
   and none for larger grids (Hoffmann's 4,500), where verification and escalation take over.
4. **Verification, by default.** ``verify="auto"`` re-fits a uniform random subset of resamples from
   the *full* start grid (``problem.solve``) and compares objectives (relative 1e-9): as many as the
   optimiser iterations of the full fit and the bootstrap pay for, at least one (one of 1,000 on
   Epoch's 4,500-start grid). When a verified
   resample misses, the bootstrap **escalates** (``escalate=3`` rounds): every resample and jackknife
   fit is re-run with more random grid starts (8, 32, 128, capped at the grid), each keeps its best
   answer, and the same subset is re-verified, until it is clean. What still misses is replaced by its
   full-grid answer with a :class:`~scaling.errors.ConvergenceWarning`. ``result.uncertainty`` and
   ``summary()`` record the resamples verified, each round, and a one-sided 95 % Clopper-Pearson
   upper bound on the fraction of resamples not at their optimum (:func:`miss_rate_upper`).
5. ``result.bootstrap_counts`` (resamples × fitted rows, int) holds each resample's draw counts, so
   anyone can refit any resample (``weights=counts[b] * data.weight``) and check.
6. Flags (typed warnings, also in ``result.flags`` and the summary): a parameter on a bound (or a
   log-scale one at zero) in more than 5 % of resamples (:class:`~scaling.errors.BoundaryWarning`),
   a cluster bootstrap with fewer than 20 clusters, a zero-width interval of a free parameter
   (:class:`~scaling.errors.UncertaintyWarning`).

Cost on Epoch's 240 points (quiet 2-core machine, BLAS pinned to one thread, 2026-12-02,
``benchmarks/bench_bootstrap.py``): 1,000 resamples 0.27 s with ``verify=0``, 16× faster than Epoch's
one-start BFGS loop; each verification costs about one full fit (~1 s), so the default (one verified
resample) takes 1.24 s, 3.5× faster than that loop.
The Huber likelihood (``loss="huber_likelihood"``) is nearly piecewise linear at delta = 1e-3 (an L1
fit), so its resamples need ~150 iterations each: ~18 s for 300 resamples and the 240 jackknife fits.

Reproducibility and parallelism
-------------------------------
One ``rng`` argument, resolved with ``np.random.default_rng(rng)``: resamples are drawn in streams of
:data:`STREAM` (64) with child generators ``.spawn(...)``, so resample b is the same for any n > b.
They are optimised in blocks formed from n alone (at most :data:`BLOCK` rows), never from ``n_jobs``,
so ``n_jobs=2`` reproduces ``n_jobs=1`` bit for bit. Blocks run through ``joblib``, so any joblib
backend works, including a Dask or Ray cluster::

    with joblib.parallel_config(backend="dask"):      # after dask.distributed.Client(...)
        res = scaling.fit(runs, uncertainty=scaling.Bootstrap(n=10_000), n_jobs=-1, rng=0)

``progress=True`` shows a tqdm bar after one second (silent when stderr is not a terminal).

BCa intervals
-------------
``result.ci(level, method="bca")`` (Efron 1987) needs the jackknife acceleration: n leave-one-out
fits (one per cluster with ``by=``), batched like the resamples (weights with one zero). With
``Bootstrap(jackknife=True)`` (default) they run with the bootstrap (240 rows for Epoch's data,
~0.1–0.7 s) and are stored in ``result.uncertainty["jackknife"]``; otherwise :func:`bca_interval`
computes them on demand (point bootstrap only).

Sandwich covariance: limits
---------------------------
For Hoffmann's Huber loss with delta = 1e-3 most log-residuals lie in the linear part of the loss,
whose second derivative is zero: the Hessian of the summed objective comes only from the points with
|r| <= delta (39 of Epoch's 240) and from the curvature of the model, and the objective is close to
L1, whose asymptotics need the residual density at zero. The sandwich is then unreliable: on
Epoch's points its standard errors are 1.05× (E), 1.55× (A), 0.50× (B), 1.58× (alpha) and 0.75×
(beta) the bootstrap's (``tests/test_uncertainty.py`` bounds these ratios), and 1.3× for
a = beta/(alpha+beta). For the Huber likelihood (5 points inside delta·sigma) the Hessian is not
even positive definite. For ``squared_log`` on the same data the ratios are 0.90–0.96. Prefer the
bootstrap for Huber fits; the sandwich is reliable for ``squared_log``/``squared``.

Profile likelihood and MCMC
---------------------------
Only for objectives that are (scaled) negative log-likelihoods: ``huber_likelihood`` (the NLL itself:
statistic ``2 (f - f_min)``), ``squared_log`` and ``squared`` (Gaussian errors with the scale profiled
out: statistic ``n log(f / f_min)``). Plain ``huber`` is a robust loss, not a likelihood (its scale is
arbitrary), so these raise :class:`~scaling.errors.DataError` suggesting ``loss="huber_likelihood"`` or
the bootstrap. The interval is where the statistic stays below the chi-square(1) quantile, each point
re-optimised over the other parameters (:func:`profile_ci`). MCMC uses ``emcee`` directly (vectorised
log-probability over walkers) rather than lmfit's wrapper, which evaluates one walker at a time and
prints autocorrelation errors.

References
----------
Efron, B. (1987). Better bootstrap confidence intervals. JASA 82, 171–185 (BCa, eqs. 2.3, 6.6).
Huber, P. J. (1967). The behavior of maximum likelihood estimates under nonstandard conditions (sandwich).
Besiroglu, Erdil, Barnett, You (2024). Chinchilla Scaling: A replication attempt. arXiv 2404.10102.
Hoffmann et al. (2022). Training Compute-Optimal Large Language Models. arXiv 2203.15556, eq. 4.
"""

from __future__ import annotations

import logging
import math
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize as sopt
from scipy import stats

from ..errors import (BoundaryWarning, ConvergenceWarning, DataError, IdentifiabilityWarning, UncertaintyWarning,
                      format_message)
from ..laws.base import FloatArray
from ..laws.chinchilla import Chinchilla, allocation_constants
from ..predict.flops import as_flops_model
from ..units import FLOPS_PER_PARAM_TOKEN
from .batch import WeightedFits, distinct_optima, hessian_coordinates, optimise_weighted, pointwise
from .engine import objective_hessian
from .objectives import Objective
from .optimize import polish
from .problem import FitProblem

__all__ = ["Bootstrap", "MCMC", "Profile", "estimate_uncertainty", "bca_interval",
           "sandwich_covariance", "profile_ci", "derived", "problem_from_result", "bootstrap_weights",
           "miss_rate_upper", "describe_verification", "BLOCK", "ESCALATION"]

log = logging.getLogger("scaling")

#: largest number of resamples optimised as one batch (the unit of parallel work). Blocks are formed
#: from n alone (balanced, at most BLOCK rows), never from n_jobs, so results do not depend on n_jobs.
BLOCK = 1024
#: resamples drawn from one child generator (see _draw_counts)
STREAM = 64
#: relative objective difference above which a verified resample counts as not at its optimum
VERIFY_RTOL = 1e-9
LIKELIHOOD_LOSSES = ("huber_likelihood", "squared_log", "squared")


# ---------------------------------------------------------------------------------------------- specs
@dataclass(frozen=True)
class Bootstrap:
    """Nonparametric bootstrap: refit the law on resamples drawn with replacement.

    Parameters
    ----------
    n : int
        Number of resamples (Epoch used 4,000; 1,000 gives standard errors to ~2 %).
    by : str, optional
        Resample whole clusters: a column of the table (``"run"``, ``"group"``, ...). Points of one
        training curve are not independent; resampling them one by one understates the uncertainty.
    level : float
        Default confidence level recorded with the result.
    verify : int or "auto"
        Re-fit this many random resamples from the full start grid and compare (see module notes);
        each costs about one full fit. ``"auto"`` (default): as many as the optimiser iterations of the full
        fit and of the bootstrap together pay for (at least one), so verification at most doubles the
        cost of ``fit(..., uncertainty=Bootstrap())``; one resample of 1,000 for Epoch's 4,500-start
        grid.
    starts : int
        Maximum number of distinct local optima of the full fit used as candidate starts.
    screen : float
        Run a non-optimal candidate for a resample when its objective there is within ``screen``
        resampling standard deviations of the resample's optimum; ``inf`` runs all of them.
    extra_starts : int or "auto"
        Also run this many points drawn at random from the fit's start grid for every resample
        (float64, tight): a resample can have a basin the full data do not
        (``verify`` measures how often); costs about ``extra_starts`` times the bootstrap.
        ``"auto"`` (default): the whole grid when it has at most 8 starts, else none.
    jackknife : bool
        Also run the leave-one-out (leave-one-cluster-out) fits needed by BCa intervals.
    escalate : int
        When a verified resample missed its full-grid optimum, re-run every resample (and jackknife
        fit) with more random grid starts (:data:`ESCALATION`: 8, then 32, then 128 per resample,
        capped at the whole grid) and re-verify the same resamples, up to ``escalate`` times; then
        replace what still misses by its full-grid answer and warn. The result records each round,
        the resamples verified and a 95 % upper confidence bound on the miss rate.
    """

    n: int = 1000
    by: str | None = None
    level: float = 0.95
    verify: int | str = "auto"
    starts: int = 8
    screen: float = 3.0
    extra_starts: int | str = "auto"
    jackknife: bool = True
    escalate: int = 3

    def __post_init__(self) -> None:
        if not isinstance(self.n, (int, np.integer)) or isinstance(self.n, bool) or self.n < 2:
            raise DataError(format_message("Option n", "of Bootstrap", "an integer >= 2", repr(self.n)))
        if self.by is not None and not isinstance(self.by, str):
            raise DataError(format_message("Option by", "of Bootstrap", "None or a column name", repr(self.by)))
        if not (isinstance(self.level, (int, float)) and 0 < self.level < 1):
            raise DataError(format_message("Option level", "of Bootstrap", "between 0 and 1", repr(self.level)))
        v = self.verify
        if not (v == "auto" or (isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 0)):
            raise DataError(format_message("Option verify", "of Bootstrap", "an integer >= 0 or 'auto'",
                                           repr(self.verify)))
        if not isinstance(self.escalate, (int, np.integer)) or isinstance(self.escalate, bool) or self.escalate < 0:
            raise DataError(format_message("Option escalate", "of Bootstrap", "an integer >= 0", repr(self.escalate)))
        if not isinstance(self.starts, (int, np.integer)) or isinstance(self.starts, bool) or self.starts < 1:
            raise DataError(format_message("Option starts", "of Bootstrap", "an integer >= 1", repr(self.starts)))
        if not (isinstance(self.screen, (int, float)) and self.screen >= 0):
            raise DataError(format_message("Option screen", "of Bootstrap", "a number >= 0 (or inf)",
                                           repr(self.screen)))
        e = self.extra_starts
        if not (e == "auto" or (isinstance(e, (int, np.integer)) and not isinstance(e, bool) and e >= 0)):
            raise DataError(format_message("Option extra_starts", "of Bootstrap", "an integer >= 0 or 'auto'",
                                           repr(self.extra_starts)))


@dataclass(frozen=True)
class MCMC:
    """Posterior sampling with ``emcee`` (affine-invariant ensemble sampler, Foreman-Mackey et al. 2013).

    The likelihood is the fit's objective read as a negative log-likelihood (``huber_likelihood``;
    Gaussian with a sampled scale for ``squared_log``/``squared``); the prior is flat in the
    optimiser's free coordinates (log E, log A, log B, alpha, beta for Chinchilla) within the law's
    bounds. Walkers start in a small ball around the optimum.

    Parameters
    ----------
    steps, walkers : int
        Steps per walker and number of walkers (>= 2 × free parameters).
    burn : int, optional
        Steps discarded at the start (default ``steps // 2``).
    thin : int
        Keep every ``thin``-th step.
    """

    steps: int = 2000
    walkers: int = 32
    burn: int | None = None
    thin: int = 1

    def __post_init__(self) -> None:
        for name in ("steps", "walkers", "thin"):
            v = getattr(self, name)
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 1:
                raise DataError(format_message(f"Option {name}", "of MCMC", "an integer >= 1", repr(v)))
        if self.burn is not None and (not isinstance(self.burn, (int, np.integer)) or not 0 <= self.burn < self.steps):
            raise DataError(format_message("Option burn", "of MCMC", f"an integer in [0, steps={self.steps})",
                                           repr(self.burn)))


@dataclass(frozen=True)
class Profile:
    """Profile-likelihood intervals at ``level`` (likelihood-type objectives; see :func:`profile_ci`);
    ``uncertainty="profile"`` is ``Profile(0.95)``."""

    level: float = 0.95

    def __post_init__(self) -> None:
        if not (isinstance(self.level, (int, float)) and not isinstance(self.level, bool) and 0 < self.level < 1):
            raise DataError(format_message("Option level", "of Profile", "between 0 and 1", repr(self.level)))


# ---------------------------------------------------------------------------------------------- helpers
def _seed_of(rng: Any) -> int | None:
    return int(rng) if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool) else None


def _x_hat(problem: FitProblem, result: Any) -> FloatArray:
    """The full-data optimum in free coordinates (incl. log sigma)."""
    x = problem.to_free(result.params[list(problem.law.param_names)].to_numpy(dtype=float))
    if problem.objective.extra:
        x = np.append(x, math.log(result.nuisance["sigma"]))
    return np.asarray(x, dtype=float)


def _natural_frame(problem: FitProblem, X: FloatArray) -> pd.DataFrame:
    theta, nuis = problem.natural(X)
    df = pd.DataFrame(np.atleast_2d(theta), columns=list(problem.law.param_names))
    for k, v in nuis.items():
        df[k] = np.asarray(v, dtype=float)
    return df


def _bar(enabled: bool, total: int, desc: str) -> Any:
    if not enabled:
        return None
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover - tqdm is optional
        log.info("progress=True but tqdm is not installed; no progress bar")
        return None
    # disable=None: silent when stderr is not a terminal; delay: only when it takes long
    return tqdm(total=total, desc=desc, disable=None, delay=1.0, leave=False)


def _parallel(fn: Callable[..., Any], jobs: Sequence[tuple[Any, ...]], n_jobs: int | None, bar: Any) -> list[Any]:
    """Run ``fn(*job)`` for every job through joblib (order kept), updating ``bar``."""
    out: list[Any] = []
    if n_jobs == 1:
        for job in jobs:
            out.append(fn(*job))
            if bar is not None:
                bar.update(1)
        return out
    from joblib import Parallel, delayed

    for r in Parallel(n_jobs=n_jobs, return_as="generator")(delayed(fn)(*job) for job in jobs):
        out.append(r)
        if bar is not None:
            bar.update(1)
    return out


def problem_from_result(result: Any) -> FitProblem:
    """Rebuild the objective of a fit from the result alone (law, loss, delta, data, weights).

    The starts are the fit's optimum only (the result does not carry the start grid's options);
    used by :func:`profile_ci` and by :func:`bca_interval` when the jackknife must be computed.
    """
    law = result.law
    data = result.data
    X = {v: data[v].to_numpy(dtype=float) for v in law.variables}
    y = data["loss"].to_numpy(dtype=float)
    w = data["weight"].to_numpy(dtype=float) if "weight" in data.columns else None
    if w is not None and np.all(w == 1.0):
        w = None
    obj = Objective(law, result.loss, result.delta, X, y)
    x0 = law.contract(law.to_internal(result.params[list(law.param_names)].to_numpy(dtype=float)))
    if obj.extra:
        x0 = np.append(x0, math.log(result.nuisance["sigma"]))
    return FitProblem(law=law, objective=obj, starts=np.atleast_2d(x0), start_kind="single", weights=w)


def _clusters(problem: FitProblem, by: str | None) -> tuple[np.ndarray, int, list[Any]]:
    """Cluster index per point (n,), number of clusters, cluster labels."""
    n = problem.n_points
    if by is None:
        return np.arange(n), n, list(range(n))
    cols = problem.extra.get("columns", {}) if isinstance(problem.extra, dict) else {}
    if by not in cols:
        raise DataError(format_message("Option by", "of Bootstrap", "a column of the fitted table",
                                       repr(by), f"Available columns: {sorted(cols)}. Add a column naming the "
                                       "cluster of each point (e.g. 'run' for the points of one training curve)."))
    lab = pd.Series(np.asarray(cols[by], dtype=object))
    if lab.isna().any():
        rows = np.flatnonzero(lab.isna().to_numpy())
        raise DataError(format_message(f"Column '{by}'", "used by Bootstrap(by=...)", "free of missing values",
                                       f"{len(rows)} missing (rows {', '.join(map(str, rows[:8]))})",
                                       "Fill or drop those rows before fitting."))
    codes, uniq = pd.factorize(lab, sort=True)
    if len(uniq) < 2:
        raise DataError(format_message(f"Column '{by}'", "used by Bootstrap(by=...)", "at least 2 distinct clusters",
                                       f"{len(uniq)} distinct value(s)", "Resample points instead (by=None)."))
    return np.asarray(codes, dtype=np.int64), int(len(uniq)), list(uniq)


def _draw_counts(G: int, n: int, rng: Any) -> tuple[FloatArray, np.random.Generator, np.random.Generator]:
    """(n, G) draw counts. Resamples are drawn in streams of :data:`STREAM` with the child generators
    ``default_rng(rng).spawn(...)`` (one per stream), so resample b is the same for any n > b, and
    independent of the block size and of n_jobs; two more children pick the resamples to verify and the
    extra starts."""
    n_streams = -(-n // STREAM)
    children = np.random.default_rng(rng).spawn(n_streams + 2)
    parts = []
    for c in range(n_streams):
        m = min(STREAM, n - c * STREAM)
        draws = children[c].integers(0, G, size=(m, G))  # G draws with replacement per resample
        parts.append(np.bincount((draws + G * np.arange(m)[:, None]).ravel(), minlength=m * G).reshape(m, G))
    return np.concatenate(parts).astype(float), children[n_streams], children[n_streams + 1]


def bootstrap_weights(problem: FitProblem, n: int, by: str | None = None,
                      rng: int | np.random.Generator | None = None) -> FloatArray:
    """The (n, n_points) weight rows of the bootstrap that ``Bootstrap(n=n, by=by)`` with ``rng`` fits
    (draw counts times the fit's own weights); for benchmarks and external checks."""
    labels, G, _ = _clusters(problem, by)
    counts, _, _ = _draw_counts(G, n, rng)
    base_w = np.ones(problem.n_points) if problem.weights is None else np.asarray(problem.weights, dtype=float)
    return counts[:, labels] * base_w


def _blocks(n: int) -> list[np.ndarray]:
    return np.array_split(np.arange(n), max(1, -(-n // BLOCK)))


def _cluster_sum(d: FloatArray, labels: np.ndarray, G: int) -> FloatArray:
    out = np.zeros((d.shape[0], G))
    for k in range(d.shape[0]):
        out[k] = np.bincount(labels, weights=d[k], minlength=G)
    return out


def _solve_block(objective: Objective, W: FloatArray, candidates: FloatArray, scale: FloatArray, screen: float,
                 max_iter: int, coords: tuple[FloatArray, FloatArray], row_starts: FloatArray | None) -> WeightedFits:
    return optimise_weighted(objective, W, candidates, scale=scale, screen=screen, max_iter=max_iter, coords=coords,
                             row_starts=row_starts)


def _verify_one(problem: FitProblem, w: FloatArray) -> tuple[FloatArray, float]:
    ms = problem.solve(weights=w)
    return ms.x, float(ms.f)


# ---------------------------------------------------------------------------------------------- dispatch
def estimate_uncertainty(problem: FitProblem, result: Any, uncertainty: Any, *,
                         rng: int | np.random.Generator | None = None, n_jobs: int | None = None,
                         progress: bool = False) -> Any:
    """Attach uncertainty to a fitted result (called by :func:`scaling.fit`).

    Parameters
    ----------
    problem : FitProblem
        The problem the fit solved (law, objective, starts, weights, table columns in ``extra``).
    result : FitResult
        The fit at the full-data optimum.
    uncertainty : Bootstrap, MCMC, or one of "bootstrap", "sandwich", "covariance", "profile"
    rng, n_jobs, progress
        Random source (bootstrap resampling, MCMC), joblib workers, progress bar.

    Returns
    -------
    FitResult
        ``result.replace(samples=..., cov=..., uncertainty={method info})``.
    """
    if isinstance(uncertainty, str):
        key = uncertainty.lower()
        if key == "bootstrap":
            uncertainty = Bootstrap()
        elif key in ("sandwich", "covariance"):
            return _sandwich_result(problem, result)
        elif key == "profile":
            return _profile_result(problem, result, 0.95)
        else:
            raise DataError(format_message("Option uncertainty", "of fit()", "Bootstrap(...), MCMC(...) or one of "
                                           "'bootstrap', 'sandwich', 'covariance', 'profile'", repr(uncertainty)))
    if isinstance(uncertainty, Profile):
        return _profile_result(problem, result, uncertainty.level)
    if isinstance(uncertainty, Bootstrap):
        return _bootstrap(problem, result, uncertainty, rng=rng, n_jobs=n_jobs, progress=progress)
    if isinstance(uncertainty, MCMC):
        return _mcmc(problem, result, uncertainty, rng=rng, progress=progress)
    raise DataError(format_message("Option uncertainty", "of fit()", "Bootstrap(...), MCMC(...) or one of "
                                   "'bootstrap', 'sandwich', 'covariance', 'profile'", type(uncertainty).__name__))


# ---------------------------------------------------------------------------------------------- bootstrap
def _candidates(problem: FitProblem, result: Any, x_hat: FloatArray, max_starts: int) -> FloatArray:
    starts = result.starts
    if max_starts <= 1 or starts is None or len(starts) == 0:
        return x_hat[None, :]
    names = list(problem.law.param_names)
    theta = starts[names].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ends = problem.to_free(theta)
        if problem.objective.extra:
            ends = np.column_stack([ends, np.log(starts["sigma"].to_numpy(dtype=float))])
    return distinct_optima(problem.objective, x_hat, ends, starts["objective"].to_numpy(dtype=float), max_starts,
                           weights=problem.weights, max_iter=problem.max_iter)


def _run_weighted(problem: FitProblem, W_blocks: list[FloatArray], S_blocks: list[FloatArray],
                  E_blocks: list[FloatArray | None], cand: FloatArray, screen: float, n_jobs: int | None,
                  bar: Any) -> list[WeightedFits]:
    T, Ti, _, _ = hessian_coordinates(problem.objective, cand[0], problem.weights)
    jobs = [(problem.objective, W, cand, S, screen, problem.max_iter, (T, Ti), E)
            for W, S, E in zip(W_blocks, S_blocks, E_blocks)]
    return _parallel(_solve_block, jobs, n_jobs, bar)


def _grid_picks(gen: np.random.Generator, rows: int, n_grid: int, k: int) -> np.ndarray:
    """(rows, min(k, n_grid)) indices of distinct grid points per row (all of them when k >= n_grid)."""
    if k >= n_grid:
        return np.tile(np.arange(n_grid), (rows, 1))
    return np.argpartition(gen.random((rows, n_grid)), k - 1, axis=1)[:, :k]


def _auto_verify(n: int, boot_work: int, grid_work: int) -> int:
    """Resamples verified by default. Work is counted in optimiser iterations summed over runs (what a
    batched L-BFGS iteration costs per row; deterministic, unlike timings): ``grid_work`` for one
    full-grid refit (the full fit's iterations over its start grid), ``boot_work`` for the bootstrap's
    resamples and jackknife fits. As many refits as ``grid_work + boot_work`` pays for, so verification
    at most about doubles the cost of ``fit(..., uncertainty=Bootstrap())``; at least one."""
    return int(min(n, max(1, (grid_work + boot_work) // max(grid_work, 1))))


def miss_rate_upper(misses: int, verified: int, level: float = 0.95) -> float:
    """One-sided Clopper-Pearson upper confidence bound on the fraction of resamples not at their
    global optimum, from ``misses`` among ``verified`` uniformly drawn resamples (1 if none verified)."""
    if verified <= 0:
        return 1.0
    if misses >= verified:
        return 1.0
    return float(stats.beta.ppf(level, misses + 1, verified - misses))


def describe_verification(u: Any) -> str:
    """One line for ``summary()``: what was verified, what escalated, the miss-rate bound."""
    v = int(u.get("verified") or 0)
    if not v:
        return "no resample verified against a full-grid refit (verify=0)"
    esc = int(u.get("escalations") or 0)
    text = (f"{v} of {u.get('n')} resamples verified against full-grid refits, {u.get('verify_misses', 0)} missed"
            f" after {esc} escalation(s)" if esc else
            f"{v} of {u.get('n')} resamples verified against full-grid refits, {u.get('verify_misses', 0)} missed")
    if esc:
        text += f" (escalated to {u.get('extra_starts')} grid starts per resample)"
    if u.get("replaced"):
        text += f", {u['replaced']} replaced"
    ucb = u.get("miss_rate_upper")
    if ucb is not None:
        text += f"; miss rate <= {float(ucb):.2g} (95 % upper bound)"
    return text


#: grids this small are run whole for every resample by default (Bootstrap(extra_starts="auto"))
SMALL_GRID = 8

#: escalation schedule: random grid points per resample in escalation round 1, 2, ... (capped at the grid)
ESCALATION = (8, 32, 128)


def _bootstrap(problem: FitProblem, result: Any, spec: Bootstrap, *, rng: Any, n_jobs: int | None,
               progress: bool) -> Any:
    t0 = time.perf_counter()
    obj = problem.objective
    n = problem.n_points
    base_w = np.ones(n) if problem.weights is None else np.asarray(problem.weights, dtype=float)
    labels, G, _ = _clusters(problem, spec.by)
    x_hat = _x_hat(problem, result)
    cand = _candidates(problem, result, x_hat, spec.starts)
    K = len(cand)
    # per-cluster objective differences between candidates and the optimum (the screen's scale)
    if K > 1:
        rho = np.stack([pointwise(obj, c, base_w)[0] for c in cand])
        dd = _cluster_sum(rho - rho[0], labels, G) ** 2  # (K, G)
    else:
        dd = np.zeros((1, G))

    counts_all, verify_gen, starts_gen = _draw_counts(G, spec.n, rng)
    pool = np.asarray(problem.starts, dtype=float)
    n_grid = len(pool)
    blocks = _blocks(spec.n)
    W_blocks, S_blocks = [], []
    for rows in blocks:
        counts = counts_all[rows]
        W_blocks.append(counts[:, labels] * base_w)
        S_blocks.append(np.sqrt(np.maximum(counts @ dd.T, 0.0)))
    jk_blocks: list[FloatArray] = []
    jk_scale: list[FloatArray] = []
    if spec.jackknife:
        for gs in _blocks(G):
            keep = labels[None, :] != gs[:, None]
            jk_blocks.append(keep * base_w)
            ones = np.ones((len(gs), G))
            ones[np.arange(len(gs)), gs] = 0.0
            jk_scale.append(np.sqrt(np.maximum(ones @ dd.T, 0.0)))
    n_jk = int(sum(len(b) for b in jk_blocks))

    def extra_for(k: int, rows: int) -> FloatArray | None:
        return None if k <= 0 else pool[_grid_picks(starts_gen, rows, n_grid, k)]

    def run(k: int, bar: Any) -> tuple[FloatArray, FloatArray, np.ndarray, list[WeightedFits]]:
        E_b = [extra_for(k, len(W)) for W in W_blocks]
        E_j = [extra_for(k, len(W)) for W in jk_blocks]
        fits = _run_weighted(problem, W_blocks + jk_blocks, S_blocks + jk_scale, E_b + E_j, cand, spec.screen,
                             n_jobs, bar)
        X_ = np.concatenate([b.x for b in fits[: len(W_blocks)]])
        F_ = np.concatenate([b.f for b in fits[: len(W_blocks)]])
        C_ = np.concatenate([b.converged for b in fits[: len(W_blocks)]])
        return X_, F_, C_, fits

    bar = _bar(progress, len(W_blocks) + len(jk_blocks), "bootstrap")
    rounds: list[dict[str, Any]] = []
    try:
        k = (n_grid if n_grid <= SMALL_GRID else 0) if spec.extra_starts == "auto" else int(spec.extra_starts)
        X, F, conv, fits = run(k, bar)
        boot, jack = fits[: len(W_blocks)], fits[len(W_blocks):]
        runs = spec.n + n_jk + int(sum(f.n_alt for f in fits))
        W_all = np.concatenate(W_blocks)
        boot_work = int(sum(int(np.sum(f.n_iter)) for f in fits))
        st = result.starts
        grid_work = max(n_grid, int(st["n_iter"].sum()) if st is not None and "n_iter" in st.columns else 0)
        n_verify = (_auto_verify(spec.n, boot_work, grid_work) if spec.verify == "auto"
                    else min(int(spec.verify), spec.n))
        rels = np.zeros(0)
        pick = np.zeros(0, dtype=int)
        grid_x = grid_f = None
        if n_verify:
            pick = np.sort(verify_gen.choice(spec.n, size=n_verify, replace=False))
            if bar is not None:
                bar.total += n_verify
            ver = _parallel(_verify_one, [(problem, W_all[b]) for b in pick], n_jobs, bar)
            grid_x = np.array([v[0] for v in ver])
            grid_f = np.array([v[1] for v in ver])
            rels = (F[pick] - grid_f) / np.maximum(np.abs(grid_f), 1e-300)
            rounds.append({"extra_starts": k, "misses": int(np.sum(rels > VERIFY_RTOL)),
                           "max_rel_diff": float(np.max(rels))})
            # escalate: more starts for every resample (and jackknife fit), then re-verify the same subset
            for r in range(int(spec.escalate)):
                if not np.any(rels > VERIFY_RTOL) or k >= n_grid:
                    break
                k = min(n_grid, ESCALATION[min(r, len(ESCALATION) - 1)] if k < ESCALATION[0]
                        else 4 * k)
                if bar is not None:
                    bar.total += len(W_blocks) + len(jk_blocks)
                X2, F2, C2, fits2 = run(k, bar)
                better = F2 < F
                X[better], F[better], conv[better] = X2[better], F2[better], C2[better]
                if jack:
                    for j, (a, b2) in enumerate(zip(jack, fits2[len(W_blocks):])):
                        bj = b2.f < a.f
                        jack[j] = WeightedFits(x=np.where(bj[:, None], b2.x, a.x), f=np.where(bj, b2.f, a.f),
                                               n_iter=a.n_iter, converged=np.where(bj, b2.converged, a.converged),
                                               n_alt=a.n_alt + b2.n_alt, n_improved=a.n_improved)
                runs += spec.n + n_jk + int(sum(f.n_alt for f in fits2))
                rels = (F[pick] - grid_f) / np.maximum(np.abs(grid_f), 1e-300)
                rounds.append({"extra_starts": k, "misses": int(np.sum(rels > VERIFY_RTOL)),
                               "max_rel_diff": float(np.max(rels))})
    finally:
        if bar is not None:
            bar.close()
    misses = int(np.sum(rels > VERIFY_RTOL))
    max_rel = float(np.max(rels)) if n_verify else None
    replaced = 0
    if misses:
        assert grid_x is not None and grid_f is not None
        for jm in np.flatnonzero(rels > VERIFY_RTOL):
            b = pick[jm]
            X[b], F[b], conv[b] = grid_x[jm], grid_f[jm], True
            replaced += 1
    ucb = miss_rate_upper(misses, n_verify)
    escalations = len(rounds) - 1 if rounds else 0
    flags: list[tuple[type[Warning], str]] = []
    if misses:
        flags.append((ConvergenceWarning, f"{misses} of {n_verify} verified bootstrap resamples had a lower objective "
                      f"from the full start grid than from the bootstrap's starts (largest relative gap {max_rel:.3g}) "
                      + (f"after {escalations} escalation(s) to {k} grid starts per resample" if escalations else
                         "(no escalation: Bootstrap(escalate=0) or already at the whole grid)")
                      + "; they were replaced, but "
                      f"unverified resamples may be affected too (miss rate <= {ucb:.2g} at 95 % confidence). Use "
                      "Bootstrap(extra_starts=k) with a larger k, or verify more resamples (verify=...)."))
    samples = _natural_frame(problem, X)
    names = list(problem.law.param_names)
    nonfinite = int((~np.all(np.isfinite(samples[names].to_numpy()), axis=1)).sum())
    n_bad = int((~conv).sum())
    if n_bad or nonfinite:
        flags.append((ConvergenceWarning, f"{n_bad} of {spec.n} bootstrap resamples did not meet the convergence test "
                      f"and {nonfinite} gave non-finite parameters; their samples are kept (see result.uncertainty)."))
    flags += _sample_flags(problem, result, samples, spec, G)
    for cat, text in flags:
        warnings.warn(text, cat, stacklevel=4)
    cov = samples[names].cov()
    counts_rows = counts_all[:, labels].astype(np.int64)
    # top-level scalars are what summary() prints; nested dicts hold the diagnostics
    info: dict[str, Any] = {
        "method": "bootstrap", "n": int(spec.n), "by": spec.by, "level": float(spec.level), "rng": _seed_of(rng),
        "verified": int(n_verify), "verified_fraction": float(n_verify / spec.n),
        "verify_max_rel_diff": max_rel, "verify_misses": misses, "replaced": int(replaced),
        "miss_rate_upper": ucb, "escalations": int(escalations), "extra_starts": int(k),
        "not_converged": n_bad,
        "search": {
            "optimizer": "batched L-BFGS per resample from the full-data optimum (float64, ftol 1e-14) + screened "
                         "distinct optima of the start grid and extra starts (float64)",
            "starts": int(K), "screen": float(spec.screen) if math.isfinite(spec.screen) else "inf",
            "extra_starts": int(k), "alternative_runs": int(sum(b.n_alt for b in boot)),
            "improved_by_alternative": int(sum(b.n_improved for b in boot)), "block": BLOCK,
            "optimizer_runs": int(runs), "grid_starts": int(n_grid), "iterations": int(boot_work),
            "grid_iterations": int(grid_work),
        },
        "verification": {"resamples": [int(b) for b in pick], "rtol": VERIFY_RTOL, "rounds": rounds,
                         "confidence": 0.95},
        "counts": counts_rows,
        "details": {"n_clusters": int(G), "non_finite": nonfinite, "objective_mean": float(np.nanmean(F))},
    }
    if jack:
        XJ = np.concatenate([b.x for b in jack])
        jt = _natural_frame(problem, XJ)
        info["jackknife"] = {p: jt[p].to_numpy(dtype=float) for p in names}
        info["details"]["jackknife_not_converged"] = int(sum(int((~b.converged).sum()) for b in jack))
    info["details"]["seconds"] = round(time.perf_counter() - t0, 4)
    new_flags = tuple(result.flags) + tuple(t for _, t in flags)
    return result.replace(samples=samples, cov=cov, uncertainty=info, flags=new_flags)


#: fraction of resamples on a bound above which the bootstrap warns
BOUND_FRACTION = 0.05
#: fewest clusters for which a cluster bootstrap is trusted
MIN_CLUSTERS = 20


def _sample_flags(problem: FitProblem, result: Any, samples: pd.DataFrame, spec: Bootstrap,
                  G: int) -> list[tuple[type[Warning], str]]:
    """Warnings about what the bootstrap distribution says: parameters on a bound in many resamples,
    too few clusters, intervals of zero width."""
    out: list[tuple[type[Warning], str]] = []
    law = problem.law
    names = list(law.param_names)
    fixed = set(getattr(law, "fixed", {}) or {})
    lo, hi = law.bounds()
    est = result.params
    transforms = dict(zip(names, getattr(law, "transforms", ("linear",) * len(names))))
    for i, p in enumerate(names):
        if p in fixed:
            continue
        v = samples[p].to_numpy(dtype=float)
        at = np.zeros(len(v), dtype=bool)
        where = []
        for b, side in ((lo[i], "lower"), (hi[i], "upper")):
            if transforms.get(p) == "log" and b == 0:
                continue  # a log-scale parameter's bound at 0: the rule below ("zero (log scale)")
            if np.isfinite(b):
                hit = np.abs(v - b) <= 1e-6 * max(1.0, abs(b))
                if hit.any():
                    where.append(f"{side} bound {b:g}")
                at |= hit
        if transforms.get(p) == "log":  # a log-scale parameter running to zero (its natural lower limit)
            hit = v <= 1e-8 * max(1.0, abs(float(est[p])))
            if hit.any():
                where.append("zero (log scale)")
            at |= hit
        frac = float(np.mean(at)) if len(v) else 0.0
        if frac > BOUND_FRACTION:
            out.append((BoundaryWarning, f"{p} is on a bound ({', '.join(where)}) in {int(at.sum())} of {len(v)} "
                        f"bootstrap resamples ({frac:.0%} > {BOUND_FRACTION:.0%}): its interval is cut by the bound "
                        f"and the resamples' other parameters compensate. Fix {p} (fixed={{'{p}': ...}}), widen the "
                        "bound, or add data that pin it down."))
    if spec.by is not None and G < MIN_CLUSTERS:
        out.append((UncertaintyWarning, f"The cluster bootstrap (by={spec.by!r}) resamples only {G} clusters "
                    f"(< {MIN_CLUSTERS}): with so few, its intervals are too narrow and unstable. Report them as "
                    "rough, add runs, or use a parametric interval (uncertainty='profile' with a likelihood loss)."))
    q = (1 - spec.level) / 2
    zero = []
    for p in names:
        if p in fixed:
            continue
        v = samples[p].to_numpy(dtype=float)
        v = v[np.isfinite(v)]
        if len(v) and np.quantile(v, 1 - q) - np.quantile(v, q) <= 1e-12 * max(1.0, abs(float(est[p]))):
            zero.append(p)
    if zero:
        out.append((UncertaintyWarning, f"The {spec.level:.0%} bootstrap interval of {', '.join(zero)} has zero width: "
                    "(nearly) every resample gives the same value, which is not a statement of certainty (a bound, "
                    "a parameter the data do not move, or too few distinct resamples). Check the fit's flags; fix "
                    "or tie that parameter, or use another interval method."))
    return out


# ---------------------------------------------------------------------------------------------- BCa
def _jackknife_values(result: Any, compute: bool = True) -> FloatArray:
    """(G, P) jackknife parameter values: stored by the bootstrap, else computed (point bootstrap only;
    ``compute=False``: an error naming the calls that compute them)."""
    names = list(result.law.param_names)
    u = result.uncertainty or {}
    jk = u.get("jackknife")
    if isinstance(jk, Mapping) and all(p in jk for p in names):
        return np.column_stack([np.asarray(jk[p], dtype=float) for p in names])
    if u.get("by") is not None:
        raise DataError(format_message("BCa intervals", f"of a cluster bootstrap (by={u.get('by')!r})",
                                       "computed with the bootstrap's jackknife", "no stored jackknife",
                                       "Refit with Bootstrap(by=..., jackknife=True)."))
    if not compute:
        raise DataError(format_message("BCa intervals", "from result.ci()", "computed from a stored jackknife",
                                       "a bootstrap run with jackknife=False", "A result does not run fits itself: "
                                       "res.with_uncertainty(Bootstrap(jackknife=True, ...)) stores it, or "
                                       "scaling.estimation.uncertainty.bca_interval(res, level) runs the "
                                       "leave-one-out fits now."))
    problem = problem_from_result(result)
    x_hat = problem.starts[0]
    n = problem.n_points
    base_w = np.ones(n) if problem.weights is None else problem.weights
    blocks = [(~np.eye(n, dtype=bool)[rows]) * base_w for rows in _blocks(n)]
    T, Ti, _, _ = hessian_coordinates(problem.objective, x_hat, problem.weights)
    fits = [optimise_weighted(problem.objective, W, x_hat[None, :], max_iter=problem.max_iter, coords=(T, Ti))
            for W in blocks]
    X = np.concatenate([f.x for f in fits])
    return _natural_frame(problem, X)[names].to_numpy(dtype=float)


def _bca(values: FloatArray, estimate: float, jack: FloatArray, level: float) -> tuple[float, float]:
    """BCa interval (Efron 1987, eq. 2.3 with the jackknife acceleration, eq. 6.6)."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    B = len(v)
    if B == 0 or not np.isfinite(estimate):
        return float("nan"), float("nan")
    if np.all(v == v[0]):
        return float(v[0]), float(v[0])
    prop = (np.sum(v < estimate) + 0.5 * np.sum(v == estimate)) / B
    prop = min(max(prop, 0.5 / B), 1 - 0.5 / B)
    z0 = stats.norm.ppf(prop)
    j = np.asarray(jack, dtype=float)
    j = j[np.isfinite(j)]
    dj = j.mean() - j if len(j) else np.zeros(1)
    den = 6.0 * np.sum(dj ** 2) ** 1.5
    acc = float(np.sum(dj ** 3) / den) if den > 0 else 0.0
    out = []
    for zq in (stats.norm.ppf((1 - level) / 2), stats.norm.ppf((1 + level) / 2)):
        a = stats.norm.cdf(z0 + (z0 + zq) / (1 - acc * (z0 + zq)))
        out.append(float(np.quantile(v, a)))
    return out[0], out[1]


def bca_interval(result: Any, level: float = 0.95, compute: bool = True) -> pd.DataFrame:
    """Bias-corrected and accelerated bootstrap intervals (Efron 1987) per parameter.

    Uses ``result.samples`` (the bootstrap) and the jackknife stored by ``Bootstrap(jackknife=True)``;
    without it, the n leave-one-out fits are run now (batched; about the cost of n/1000 of a 1,000-
    resample bootstrap); with ``compute=False`` (what ``result.ci(level, method="bca")`` calls), a
    missing jackknife is an error instead.

    Returns
    -------
    pandas.DataFrame with columns ``lower, upper`` indexed by parameter.
    """
    if result.samples is None:
        raise DataError(format_message("BCa intervals", "", "computed from bootstrap samples", "a fit without samples",
                                       "Fit with uncertainty=Bootstrap(...)."))
    if not 0 < level < 1:
        raise DataError(format_message("Option level", "of bca_interval()", "between 0 and 1", repr(level)))
    u = result.uncertainty or {}
    if u.get("method") != "bootstrap":
        raise DataError(format_message("BCa intervals", "", "computed from bootstrap samples",
                                       f"samples from {u.get('method')!r}",
                                       "Use method='percentile' for MCMC samples."))
    names = list(result.law.param_names)
    jack = _jackknife_values(result, compute=compute)
    samples = result.samples
    est = result.params
    rows = {p: _bca(samples[p].to_numpy(dtype=float), float(est[p]), jack[:, i], level) for i, p in enumerate(names)}
    return pd.DataFrame.from_dict(rows, orient="index", columns=["lower", "upper"])


# ---------------------------------------------------------------------------------------------- sandwich
def _natural_jacobian(problem: FitProblem, x: FloatArray) -> FloatArray:
    """d theta / d w (P, k_law) at free vector x (law part): expand is affine, theta = to_natural(z)."""
    law = problem.law
    kl = len(law.free_names)
    xl = np.asarray(x, dtype=float)[:kl]
    z = np.asarray(law.expand(xl[None, :]), dtype=float)[0]
    E = np.asarray(law.expand(np.eye(kl)), dtype=float) - np.asarray(law.expand(np.zeros((1, kl))), dtype=float)
    return law.dnatural_dinternal(z)[:, None] * E.T


def sandwich_covariance(problem: FitProblem, x: FloatArray) -> dict[str, Any]:
    r"""Sandwich covariance of the M-estimator at free vector ``x``.

    .. math:: \mathrm{Cov}(\hat w) = H^{-1} \Big(\sum_i s_i s_i^T\Big) H^{-1},
              \qquad \mathrm{Cov}(\hat\theta) = J\, \mathrm{Cov}(\hat w)\, J^T

    with :math:`s_i = w_i \nabla_w \rho(r_i)` the per-point scores, :math:`H` the Hessian of the summed
    objective (:func:`~scaling.estimation.engine.objective_hessian`: analytic for Chinchilla, else central
    differences of the analytic gradient)
    and :math:`J = \partial\theta/\partial w` (log parameters: ``diag(theta)``; fixed parameters: zero
    rows; tied ones: copied rows). Huber (1967); White (1980).

    Returns a dict with ``cov`` (P, P natural), ``cov_free`` (k, k incl. nuisance), ``hessian``,
    ``meat``, ``min_eigenvalue`` (of H, scaled by its largest), ``n_inside_delta`` (Huber losses).
    """
    obj = problem.objective
    x = np.asarray(x, dtype=float)
    _, S = pointwise(obj, x, problem.weights, grad=True)
    meat = S.T @ S  # type: ignore[union-attr,operator]
    H = objective_hessian(obj, x, problem.weights)
    ev = np.linalg.eigvalsh(H)
    rel_min = float(ev.min() / max(abs(ev.max()), 1e-300))
    pd_ok = bool(np.all(np.isfinite(ev)) and rel_min > 1e-12)
    Hi = np.linalg.inv(H) if pd_ok else np.linalg.pinv(H)
    cov_free = Hi @ meat @ Hi
    kl = len(problem.law.free_names)
    J = _natural_jacobian(problem, x)
    cov = J @ cov_free[:kl, :kl] @ J.T
    inside = None
    if obj.loss in ("huber", "huber_likelihood"):
        r = obj.residuals(x)
        if obj.extra:
            r = r / math.exp(x[-1])
        inside = int(np.sum(np.abs(r) <= obj.delta))
    return {"cov": cov, "cov_free": cov_free, "hessian": H, "meat": meat, "min_eigenvalue": rel_min,
            "positive_definite": pd_ok, "n_inside_delta": inside}


def _sandwich_result(problem: FitProblem, result: Any) -> Any:
    t0 = time.perf_counter()
    x = _x_hat(problem, result)
    s = sandwich_covariance(problem, x)
    names = list(problem.law.param_names)
    if not s["positive_definite"]:
        warnings.warn("The Hessian of the objective at the optimum is not positive definite (smallest/largest "
                      f"eigenvalue {s['min_eigenvalue']:.3g}); the sandwich covariance uses its pseudo-inverse and "
                      "is not trustworthy. Use uncertainty=Bootstrap(...).", IdentifiabilityWarning, stacklevel=4)
    info: dict[str, Any] = {"method": "sandwich", "positive_definite": s["positive_definite"],
                            "n_inside_delta": s["n_inside_delta"],
                            "details": {"hessian": "analytic" if getattr(problem.objective, "has_hessian", False)
                                        else "central differences of the analytic gradient",
                                        "min_eigenvalue": s["min_eigenvalue"],
                                        "seconds": round(time.perf_counter() - t0, 4)}}
    if problem.objective.extra:
        info["details"]["se_sigma"] = float(math.exp(x[-1]) * math.sqrt(max(s["cov_free"][-1, -1], 0.0)))
    cov = pd.DataFrame(s["cov"], index=names, columns=names)
    return result.replace(cov=cov, samples=None, uncertainty=info)


# ---------------------------------------------------------------------------------------------- profile
def _require_likelihood(loss: str, what: str) -> None:
    if loss not in LIKELIHOOD_LOSSES:
        raise DataError(format_message(what, f"of a fit with loss={loss!r}",
                                       f"used with a likelihood-type objective ({', '.join(LIKELIHOOD_LOSSES)})",
                                       repr(loss), "The Huber loss has an arbitrary scale, so it is not a "
                                       "log-likelihood: refit with loss='huber_likelihood' (Besiroglu et al. 2024) "
                                       "or use uncertainty=Bootstrap(...)."))


class _Profiler:
    """Profile of one parameter: re-optimise the others with it fixed (warm starts along the path)."""

    def __init__(self, problem: FitProblem, x_hat: FloatArray, f_hat: float) -> None:
        self.problem = problem
        self.obj = problem.objective
        law = problem.law
        self.base = getattr(law, "base", law)
        self.fixed0 = dict(getattr(law, "fixed", {}) or {})
        self.tied0 = dict(getattr(law, "tied", {}) or {})
        self.x_hat = np.asarray(x_hat, dtype=float)
        self.f_hat = float(f_hat)
        kl = len(law.free_names)
        self.z_hat = np.asarray(law.expand(self.x_hat[None, :kl]), dtype=float)[0]
        self.nuis = self.x_hat[kl:]
        n_eff = int(np.sum(problem.weights > 0)) if problem.weights is not None else problem.n_points
        self.n_eff = n_eff
        self.nll = self.obj.loss == "huber_likelihood"
        H = objective_hessian(self.obj, self.x_hat, problem.weights)
        try:
            Hi = np.linalg.inv(H)
        except np.linalg.LinAlgError:
            Hi = np.full_like(H, np.nan)
        self.cov_free = Hi if self.nll else (2.0 * self.f_hat / n_eff) * Hi
        self.E = (np.asarray(law.expand(np.eye(kl)), dtype=float)
                  - np.asarray(law.expand(np.zeros((1, kl))), dtype=float))

    def statistic(self, f: float) -> float:
        if self.nll:
            return 2.0 * (f - self.f_hat)
        return self.n_eff * math.log(max(f, 1e-300) / self.f_hat)

    def refit(self, name: str, u: float, z_start: FloatArray, nuis_start: FloatArray
              ) -> tuple[float, FloatArray, FloatArray]:
        """Objective with parameter ``name`` fixed at internal value ``u``; (f, z, nuisance)."""
        i = self.base.param_names.index(name)
        t = float(self.base.to_natural(np.where(np.arange(len(self.z_hat)) == i, u, self.z_hat))[i])
        followers = [f for f, q in self.tied0.items() if q == name]
        fixed = {**self.fixed0, name: t, **{f: t for f in followers}}
        tied = {f: q for f, q in self.tied0.items() if q != name}
        law_c = self.base.constrain(fixed=fixed, tied=tied)
        obj_c = Objective(law_c, self.obj.loss, self.obj.delta, self.obj.X, self.obj.y)
        w0 = np.append(law_c.contract(z_start), nuis_start)
        lo, hi = law_c.free_bounds()
        if obj_c.extra:
            lo, hi = np.append(lo, -np.inf), np.append(hi, np.inf)
        W = self.problem.weights
        if w0.size == 0:  # every parameter fixed
            f, _ = obj_c(np.zeros((1, 0)), W, grad=False)
            return float(f[0]), np.asarray(law_c.expand(np.zeros((1, 0))), dtype=float)[0], nuis_start

        def fun1(v: FloatArray) -> tuple[float, FloatArray]:
            fv, gv = obj_c(v[None, :], W)
            assert gv is not None
            return float(fv[0]), gv[0]

        x, f_min, _, _, _ = polish(fun1, np.clip(w0, lo, hi), lo, hi)
        kc = len(law_c.free_names)
        z = np.asarray(law_c.expand(x[None, :kc]), dtype=float)[0]
        return float(f_min), z, x[kc:]

    def interval(self, name: str, level: float) -> tuple[float, float, dict[str, Any]]:
        crit = float(stats.chi2.ppf(level, df=1))
        i = self.base.param_names.index(name)
        u_hat = float(self.z_hat[i])
        lo_b, hi_b = self.base.internal_bounds()
        kl = self.E.shape[0]
        e = np.zeros(self.cov_free.shape[0])
        e[:kl] = self.E[:, i]
        var = float(e @ self.cov_free @ e)
        s = math.sqrt(crit * var) if np.isfinite(var) and var > 0 else 0.05 * max(1.0, abs(u_hat))
        notes: dict[str, Any] = {"n_refits": 0}
        ends = []
        for sign in (-1.0, 1.0):
            bound = lo_b[i] if sign < 0 else hi_b[i]
            prev_u, prev_z, prev_n = u_hat, self.z_hat, self.nuis
            step, found = 0.5 * s, None
            for _ in range(60):
                u = prev_u + sign * step
                if (sign < 0 and u <= bound) or (sign > 0 and u >= bound):
                    u = float(bound)
                f, z, nu = self.refit(name, u, prev_z, prev_n)
                notes["n_refits"] += 1
                st = self.statistic(f)
                if st < -1e-6:
                    notes["lower_objective_found"] = True
                if st >= crit:
                    found = (prev_u, prev_z, prev_n, u)
                    break
                if u == bound:
                    break
                prev_u, prev_z, prev_n = u, z, nu
                step *= 1.5
            if found is None:
                ends.append(float(bound) if np.isfinite(bound) else sign * np.inf)
                notes.setdefault("open", []).append("lower" if sign < 0 else "upper")
                continue
            ua, za, na, ub = found

            def g(uu: float, za: FloatArray = za, na: FloatArray = na) -> float:
                notes["n_refits"] += 1
                return self.statistic(self.refit(name, uu, za, na)[0]) - crit

            root = sopt.brentq(g, ua, ub, xtol=1e-8 * max(s, 1e-12), rtol=4 * np.finfo(float).eps, maxiter=100)
            ends.append(float(root))
        nat = []
        for u in ends:
            if np.isinf(u):
                nat.append(float(u) if self.base.transforms[i] != "log" else (0.0 if u < 0 else float("inf")))
            else:
                nat.append(float(self.base.to_natural(np.where(np.arange(len(self.z_hat)) == i, u, self.z_hat))[i]))
        return nat[0], nat[1], notes


def _profile_intervals(problem: FitProblem, x_hat: FloatArray, f_hat: float, params: Sequence[str],
                       level: float) -> tuple[pd.DataFrame, dict[str, Any]]:
    _require_likelihood(problem.objective.loss, "Profile-likelihood intervals")
    prof = _Profiler(problem, x_hat, f_hat)
    names = list(problem.law.param_names)
    theta_hat = problem.natural(x_hat)[0]
    rows: dict[str, tuple[float, float]] = {}
    notes: dict[str, Any] = {}
    for p in params:
        if p not in names:
            raise DataError(format_message("Parameter", "of profile_ci()", f"one of {names}", repr(p)))
        if p in prof.fixed0:
            v = float(theta_hat[names.index(p)])
            rows[p] = (v, v)
            continue
        lead = prof.tied0.get(p, p)
        if lead in rows:
            rows[p] = rows[lead]
            continue
        lo, hi, note = prof.interval(lead, level)
        rows[p] = rows[lead] = (lo, hi)
        notes[lead] = note
    if any(n.get("lower_objective_found") for n in notes.values()):
        warnings.warn("The profile found a lower objective than the fit's optimum: the fit was not at its global "
                      "optimum, so the intervals are not reliable. Refit with more starts.", ConvergenceWarning,
                      stacklevel=3)
    opened = {p: n["open"] for p, n in notes.items() if n.get("open")}
    if opened:
        warnings.warn(f"The profile likelihood does not cross the {level:.0%} threshold within the parameter range "
                      f"for {opened}: the interval is open on that side (reported as the bound or ±inf); the data do "
                      "not constrain the parameter there.", IdentifiabilityWarning, stacklevel=3)
    df = pd.DataFrame.from_dict({p: rows[p] for p in params}, orient="index", columns=["lower", "upper"])
    return df, notes


def _profile_result(problem: FitProblem, result: Any, level: float) -> Any:
    t0 = time.perf_counter()
    _require_likelihood(problem.objective.loss, "Option uncertainty='profile'")
    x = _x_hat(problem, result)
    df, notes = _profile_intervals(problem, x, result.objective, list(problem.law.param_names), level)
    prof = _Profiler(problem, x, result.objective)
    kl = len(problem.law.free_names)
    J = _natural_jacobian(problem, x)
    cov = J @ prof.cov_free[:kl, :kl] @ J.T
    names = list(problem.law.param_names)
    info = {"method": "profile", "level": level, "statistic": "2 (f - f_min)" if prof.nll else "n log(f / f_min)",
            "intervals": {p: [float(df.at[p, "lower"]), float(df.at[p, "upper"])] for p in names},  # type: ignore[arg-type]
            "details": {"critical": float(stats.chi2.ppf(level, 1)),
                        "n_refits": int(sum(n["n_refits"] for n in notes.values())),
                        "cov": "observed information (inverse Hessian)",
                        "seconds": round(time.perf_counter() - t0, 4)}}
    return result.replace(cov=pd.DataFrame(cov, index=names, columns=names), samples=None, uncertainty=info)


def profile_ci(result: Any, param: str | Sequence[str] | None = None, level: float = 0.95,
               compute: bool = True) -> pd.DataFrame:
    """Profile-likelihood confidence intervals.

    For each parameter, the set of values whose profile statistic stays below the chi-square(1)
    quantile at ``level``; the statistic is ``2 (f - f_min)`` for ``huber_likelihood`` (a negative
    log-likelihood) and ``n log(f / f_min)`` for ``squared_log`` / ``squared`` (Gaussian errors, scale
    profiled out). The other parameters (and sigma) are re-optimised at every value, warm-started
    along the path; endpoints are located by Brent's method to 1e-8 of the Wald scale.

    Parameters
    ----------
    result : FitResult
    param : str or list of str, optional
        Default: every parameter (fixed ones get a zero-width interval; tied ones their leader's).
    level : float
    compute : bool
        Stored intervals (``uncertainty="profile"`` / ``Profile(level)``) are returned when they are
        at ``level``; otherwise they are computed now, or, with ``compute=False`` (what
        ``result.ci(method="profile")`` calls), a :class:`~scaling.errors.DataError` names the call.

    Returns
    -------
    pandas.DataFrame with columns ``lower, upper`` (natural units).

    Raises
    ------
    DataError
        For a plain ``huber`` fit (not a likelihood): use ``loss="huber_likelihood"`` or the bootstrap.
    """
    if not 0 < level < 1:
        raise DataError(format_message("Option level", "of profile_ci()", "between 0 and 1", repr(level)))
    _require_likelihood(result.loss, "Profile-likelihood intervals")
    names = list(result.law.param_names)
    params = names if param is None else ([param] if isinstance(param, str) else list(param))
    u = result.uncertainty or {}
    stored = u.get("intervals", {}) if u.get("method") == "profile" else {}
    if abs(float(u.get("level", -1)) - level) < 1e-12 and all(p in stored for p in params):
        return pd.DataFrame.from_dict({p: list(stored[p]) for p in params}, orient="index",
                                      columns=["lower", "upper"])
    if not compute:
        have = (f"profile intervals at level {u.get('level')}" if u.get("method") == "profile"
                else f"uncertainty from {u.get('method')!r}" if u else "no uncertainty")
        raise DataError(format_message("Profile intervals", f"at level {level:g} from result.ci()", "stored with the "
                                       "fit", have, f"A result does not run fits itself: "
                                       f"res.with_uncertainty(Profile(level={level:g})) stores them, or "
                                       f"scaling.estimation.uncertainty.profile_ci(res, level={level:g}) computes "
                                       "them now."))
    problem = problem_from_result(result)
    df, _ = _profile_intervals(problem, problem.starts[0], result.objective, params, level)
    return df


# ---------------------------------------------------------------------------------------------- MCMC
def _mcmc(problem: FitProblem, result: Any, spec: MCMC, *, rng: Any, progress: bool) -> Any:
    t0 = time.perf_counter()
    _require_likelihood(problem.objective.loss, "Option uncertainty=MCMC(...)")
    try:
        import emcee
    except ImportError as e:
        raise DataError(format_message("Option uncertainty=MCMC(...)", "", "used with the emcee package installed",
                                       "no emcee", "pip install emcee, or use uncertainty=Bootstrap(...).")) from e
    obj = problem.objective
    W = problem.weights
    x_hat = _x_hat(problem, result)
    nll = obj.loss == "huber_likelihood"
    n_eff = int(np.sum(W > 0)) if W is not None else problem.n_points
    lo, hi = problem.law.free_bounds()
    if nll:
        lo, hi = np.append(lo, -np.inf), np.append(hi, np.inf)
        x0 = x_hat
    else:  # Gaussian likelihood with a sampled log sigma
        sig = math.sqrt(max(result.objective, 1e-300) / n_eff)
        x0 = np.append(x_hat, math.log(sig))
        lo, hi = np.append(lo, -np.inf), np.append(hi, np.inf)
    k = len(x0)
    if spec.walkers < 2 * k:
        raise DataError(format_message("Option walkers", "of MCMC", f">= 2 × free parameters = {2 * k}",
                                       repr(spec.walkers), f"Use MCMC(walkers={2 * k}) or more."))

    def log_prob(X: FloatArray) -> FloatArray:
        X = np.atleast_2d(X)
        out = np.full(len(X), -np.inf)
        inside = np.all((X >= lo) & (X <= hi), axis=1)
        if not inside.any():
            return out
        Xi = X[inside]
        if nll:
            f, _ = obj(Xi, W, grad=False)
            lp = -f
        else:
            f, _ = obj(Xi[:, :-1], W, grad=False)
            ls = Xi[:, -1]
            lp = -0.5 * f * np.exp(-2.0 * ls) - n_eff * ls
        out[inside] = np.where(np.isfinite(lp), lp, -np.inf)
        return out

    gen = np.random.default_rng(rng)
    # starting ball: scaled by the observed-information SEs when available, else 1e-4 relative
    try:
        H = objective_hessian(obj, x_hat, W)
        sd = np.sqrt(np.clip(np.diag(np.linalg.inv(H)), 0, None))
        if not nll:
            sd = np.append(sd * math.sqrt(2.0 * max(result.objective, 1e-300) / n_eff), 0.05)
    except np.linalg.LinAlgError:
        sd = np.full(k, np.nan)
    big = np.maximum(1.0, np.abs(x0))
    sd = np.where(np.isfinite(sd) & (sd > 0), np.minimum(sd, 0.1 * big), 1e-4 * big)
    p0 = x0 + 0.01 * sd * gen.standard_normal((spec.walkers, k))
    p0 = np.clip(p0, lo, hi)
    sampler = emcee.EnsembleSampler(spec.walkers, k, log_prob, vectorize=True)
    sampler.random_state = np.random.RandomState(int(gen.integers(2**32 - 1))).get_state()
    with np.errstate(all="ignore"):
        sampler.run_mcmc(p0, spec.steps, progress=bool(progress))
    burn = spec.steps // 2 if spec.burn is None else spec.burn
    chain = sampler.get_chain(discard=burn, thin=spec.thin, flat=True)
    try:  # tol=0: emcee's own length check would log to stderr; ours is the ConvergenceWarning below
        tau = sampler.get_autocorr_time(discard=burn, tol=0)
    except Exception as e:  # pragma: no cover - emcee internals
        log.info("autocorrelation time not available: %s", e)
        tau = np.full(k, np.nan)
    xs = chain if nll else chain[:, :-1]
    samples = _natural_frame(problem, xs)
    if not nll:
        samples["sigma"] = np.exp(chain[:, -1])
    names = list(problem.law.param_names)
    acc = float(np.mean(sampler.acceptance_fraction))
    n_kept = len(chain)
    if np.any(np.isfinite(tau)) and n_kept / spec.walkers < 50 * np.nanmax(tau):
        warnings.warn(f"The MCMC chain ({spec.steps} steps, {burn} burned) is shorter than 50 autocorrelation times "
                      f"(max tau = {np.nanmax(tau):.1f} steps): the samples may not represent the posterior. Increase "
                      "MCMC(steps=...).", ConvergenceWarning, stacklevel=4)
    info = {"method": "mcmc", "steps": spec.steps, "walkers": spec.walkers, "burn": burn, "thin": spec.thin,
            "rng": _seed_of(rng), "acceptance_fraction": acc,
            "details": {"sampler": f"emcee {emcee.__version__} EnsembleSampler", "n_samples": int(n_kept),
                        "autocorr_time": [float(t) for t in np.atleast_1d(tau)],
                        "likelihood": "huber_likelihood" if nll else "Gaussian with sampled sigma",
                        "prior": "flat in free coordinates within the law's bounds",
                        "seconds": round(time.perf_counter() - t0, 4)}}
    return result.replace(samples=samples, cov=samples[names].cov(), uncertainty=info)


# ---------------------------------------------------------------------------------------------- derived
def _chinchilla_parts(df: pd.DataFrame) -> tuple[FloatArray, ...]:
    missing = [p for p in ("E", "A", "B", "alpha", "beta") if p not in df.columns]
    if missing:
        raise DataError(format_message("Named quantity", "of derived()", "used with a law with parameters E, A, B, "
                                       "alpha, beta (Chinchilla form)", f"parameters {list(df.columns)}",
                                       "Pass a function of the parameter frame instead."))
    return tuple(df[p].to_numpy(dtype=float) for p in ("E", "A", "B", "alpha", "beta"))


QUANTITIES = ("a", "b", "G", "n_opt", "d_opt", "tokens_per_param", "loss")


def _quantity(name: str, flops: Any, n_params: Any, n_tokens: Any, k: float,
              law: Any = None) -> Callable[[pd.DataFrame], Any]:
    def need(what: str, v: Any) -> FloatArray:
        if v is None:
            raise DataError(format_message(f"Option {what}", f"of derived({name!r})", "given", "None",
                                           f"Pass {what}=... ."))
        return np.asarray(v, dtype=float)

    def constants(df: pd.DataFrame) -> dict[str, FloatArray]:
        _chinchilla_parts(df)
        return allocation_constants(df[["E", "A", "B", "alpha", "beta"]].to_numpy(dtype=float))

    def G(df: pd.DataFrame) -> FloatArray:
        return constants(df)["G"][:, 0]

    def a(df: pd.DataFrame) -> FloatArray:
        return constants(df)["a"][:, 0]

    def b(df: pd.DataFrame) -> FloatArray:
        return constants(df)["b"][:, 0]

    def optimum(df: pd.DataFrame) -> Any:
        C = np.ravel(need("flops", flops))
        the_law = law if law is not None else Chinchilla()
        if law is None:
            _chinchilla_parts(df)
        return the_law.optimum(df[list(the_law.param_names)].to_numpy(dtype=float), C, as_flops_model(k))

    def n_opt(df: pd.DataFrame) -> FloatArray:
        return optimum(df).n_params

    def d_opt(df: pd.DataFrame) -> FloatArray:
        return optimum(df).n_tokens

    def tpp(df: pd.DataFrame) -> FloatArray:
        opt = optimum(df)
        return opt.n_tokens / opt.n_params

    def loss(df: pd.DataFrame) -> FloatArray:
        N, D = np.broadcast_arrays(np.ravel(need("n_params", n_params)), np.ravel(need("n_tokens", n_tokens)))
        the_law = law if law is not None else Chinchilla()
        if law is None:
            _chinchilla_parts(df)
        return np.atleast_2d(the_law.predict(df[list(the_law.param_names)].to_numpy(dtype=float), n_params=N,
                                             n_tokens=D))

    table = {"a": a, "b": b, "G": G, "n_opt": n_opt, "d_opt": d_opt, "tokens_per_param": tpp, "loss": loss}
    if name not in table:
        raise DataError(format_message("Quantity", "of derived()", f"one of {list(QUANTITIES)} or a function",
                                       repr(name), "A function receives a DataFrame of parameter values (one row per "
                                       "sample) and returns one value per row (or a (rows, m) array)."))
    return table[name]


def derived(result: Any, quantity: str | Callable[[pd.DataFrame], Any], level: float = 0.95, *,
            method: str = "percentile", flops: Any = None, n_params: Any = None, n_tokens: Any = None,
            flops_per_token: float | None = None, rng: int | np.random.Generator | None = 0) -> pd.DataFrame:
    r"""Estimate, standard error and interval of a quantity derived from the parameters.

    Evaluated on every parameter sample (bootstrap or MCMC), or on draws from ``result.cov``
    (4,000 multivariate-normal draws with ``rng``) when the fit has only a covariance.

    Named quantities (Chinchilla form, Hoffmann et al. 2022, eq. 4, with ``C = k N D``, ``k =
    flops_per_token``, by default the fitted table's rule ``result.conventions.flops_per_token``; the
    compute-optimal point is the law's own :meth:`~scaling.laws.base.Law.optimum`):

    * ``"a"`` = beta/(alpha+beta), ``"b"`` = alpha/(alpha+beta) — exponents of N_opt, D_opt in C;
    * ``"G"`` = (alpha A / (beta B))^(1/(alpha+beta));
    * ``"n_opt"``, ``"d_opt"`` = G (C/k)^a, G^-1 (C/k)^b at ``flops=C`` (parameters, tokens);
    * ``"tokens_per_param"`` = d_opt / n_opt at ``flops``;
    * ``"loss"`` = E + A/N^alpha + B/D^beta at ``n_params``, ``n_tokens`` (nats/token).

    Parameters
    ----------
    result : FitResult with samples or a covariance.
    quantity : str or callable
        A name above, or ``f(params: DataFrame) -> array`` of shape (rows,) or (rows, m).
    level : float
    method : {"percentile", "bca"}
        BCa uses the bootstrap's jackknife (see :func:`bca_interval`).
    flops, n_params, n_tokens : array-like, optional
        Arguments of the named quantities (scalars or 1-D).

    Returns
    -------
    pandas.DataFrame
        Columns ``estimate, se, lower, upper`` (``estimate`` at the fitted parameters), one row per
        output element, indexed by the quantity name (``name[i]`` for vector outputs).
    """
    if not 0 < level < 1:
        raise DataError(format_message("Option level", "of derived()", "between 0 and 1", repr(level)))
    if method not in ("percentile", "bca"):
        raise DataError(format_message("Option method", "of derived()", "'percentile' or 'bca'", repr(method)))
    if isinstance(quantity, str):
        name = quantity
        k = (float(flops_per_token) if flops_per_token is not None
             else float(getattr(getattr(result, "conventions", None), "flops_per_token", FLOPS_PER_PARAM_TOKEN)))
        fn = _quantity(quantity, flops, n_params, n_tokens, k, law=getattr(result, "law", None))
    elif callable(quantity):
        name = getattr(quantity, "__name__", "quantity")
        fn = quantity
    else:
        raise DataError(format_message("Quantity", "of derived()", "a name or a function", type(quantity).__name__))
    names = list(result.law.param_names)
    samples = result.samples
    if samples is not None:
        draws = samples[names]
    elif result.cov is not None:
        if method == "bca":
            raise DataError(format_message("Option method='bca'", "of derived()", "used with bootstrap samples",
                                           "a fit with a covariance only", "Use method='percentile'."))
        g = np.random.default_rng(rng)
        draws = pd.DataFrame(g.multivariate_normal(result.params[names].to_numpy(dtype=float),
                                                   result.cov.loc[names, names].to_numpy(dtype=float),
                                                   size=4000, method="svd"), columns=names)
    else:
        raise DataError(format_message("derived()", "", "called on a fit with uncertainty", "a fit without any",
                                       "Fit with uncertainty=Bootstrap(...) or 'covariance'."))
    est_df = result.params[names].to_frame().T.reset_index(drop=True)

    def evaluate(df: pd.DataFrame) -> FloatArray:
        with np.errstate(all="ignore"):
            v = np.asarray(fn(df.reset_index(drop=True)), dtype=float)
        if v.ndim == 0 or v.shape[0] != len(df):
            raise DataError(format_message("The quantity function", f"{name!r}", "returning one value per row of "
                                           "the parameter frame", f"shape {v.shape} for {len(df)} rows"))
        return v.reshape(len(df), -1)

    vals = evaluate(draws)
    est = evaluate(est_df)[0]
    m = vals.shape[1]
    idx = [name] if m == 1 else [f"{name}[{i}]" for i in range(m)]
    q = (1 - level) / 2
    if method == "bca":
        jv = evaluate(pd.DataFrame(_jackknife_values(result), columns=names))
        bounds = np.array([_bca(vals[:, j], est[j], jv[:, j], level) for j in range(m)])
        lo, hi = bounds[:, 0], bounds[:, 1]
    else:
        lo, hi = np.nanquantile(vals, q, axis=0), np.nanquantile(vals, 1 - q, axis=0)
    se = np.nanstd(vals, axis=0, ddof=1)
    return pd.DataFrame({"estimate": est, "se": se, "lower": lo, "upper": hi}, index=idx)
