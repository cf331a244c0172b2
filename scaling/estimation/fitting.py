"""fit(): one scaling-law fit at the true optimum of the stated objective (problem, multi-start, diagnostics)."""

from __future__ import annotations

import hashlib
import logging
import time
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from .._version import __version__
from ..conventions import DEFAULT_CONVENTIONS, Conventions
from ..errors import (BoundaryWarning, ConvergenceWarning, DataError, IdentifiabilityWarning, NonMonotoneWarning,
                      format_message, format_rows)
from ..laws import Law, get_law
from ..laws.base import as_param_array
from .objectives import LOSSES, Objective
from .problem import FitProblem
from .result import FitResult, Summary
from .spec import FitSpec

__all__ = ["fit", "FitResult", "FitProblem", "Summary", "Objective", "build_problem", "problem_from_result"]

log = logging.getLogger("scaling")

def as_table(table: Any, where: str = "fit()") -> Any:
    """A RunTable (or any table with ``to_frame()``) as is; a DataFrame through :func:`scaling.read_table`."""
    if isinstance(table, pd.DataFrame):
        from ..data import read_table

        return read_table(table)
    if not hasattr(table, "to_frame"):
        raise DataError(format_message("Argument table", f"of {where}", "a RunTable or a pandas DataFrame",
                                       type(table).__name__, "Load runs with scaling.read_table or load_dataset."))
    return table


def _data_hash(frame: pd.DataFrame) -> str:
    h = hashlib.sha256()
    for c in frame.columns:
        h.update(str(c).encode())
        h.update(np.ascontiguousarray(frame[c].to_numpy(dtype=float)).tobytes())
    return h.hexdigest()

def _sigma_start(objective: Objective, starts: np.ndarray) -> np.ndarray:
    """Profile start for log sigma of the Huber likelihood: sigma = delta * mean|r| (the optimum when
    all scaled residuals lie in the linear part of the Huber loss)."""
    z = objective.law.expand(starts)
    f, _ = objective.law.evaluate(z, objective.X, grad=False)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.abs(np.log(f) - np.log(objective.y))
    s = objective.delta * np.nanmean(r, axis=1)
    s = np.where(np.isfinite(s) & (s > 0), s, 1e-6)
    return np.log(s)

def _resolve_starts(law: Law, starts: Any, X: Mapping[str, np.ndarray], y: np.ndarray) -> tuple[np.ndarray, str]:
    if isinstance(starts, str):
        if starts != "grid":
            raise DataError(format_message("Option starts", "of fit()", "'grid' or parameter values (Series, dict, "
                                           "DataFrame or array)", repr(starts)))
        base = getattr(law, "base", law)
        if hasattr(base, "data_grid"):
            # laws whose sensible starts depend on the data's range (break locations of a BNSL)
            grid = np.unique(law.contract(base.data_grid(X, y)), axis=0)
            return grid, "data grid"
        return law.free_grid(), "grid"
    if isinstance(starts, pd.DataFrame) or (isinstance(starts, np.ndarray) and np.ndim(starts) == 2):
        theta = as_param_array(law, starts)
    else:
        theta = np.atleast_2d(as_param_array(law, starts))
    w = law.contract(law.to_internal(theta))
    if not np.all(np.isfinite(w)):
        raise DataError(format_message("Option starts", "of fit()", "inside the parameter domain (scale "
                                       "constants > 0)", np.array2string(theta, precision=4)))
    return w, "given" if len(w) > 1 else "single"

def build_problem(table: Any, law: str | Law = "chinchilla", *, loss: str | None = None, delta: float | None = None,
                  weights: Any = None, starts: Any = "grid", fixed: Mapping[str, float] | None = None,
                  tied: Mapping[str, str] | None = None, max_iter: int = 1000, threads: int | None = None,
                  engine: str = "auto") -> tuple[FitProblem, Any, pd.DataFrame]:
    """Assemble the :class:`FitProblem` that :func:`fit` solves (exposed for uncertainty methods and tests)."""
    table = as_table(table)
    law_obj = get_law(law) if isinstance(law, Law) else get_law(law)
    law_obj = law_obj.constrain(fixed=fixed, tied=tied) if (fixed or tied) else law_obj
    loss = law_obj.default_loss if loss is None else loss
    if loss not in LOSSES:
        raise DataError(format_message("Option loss", "of fit()", f"one of {list(LOSSES)}", repr(loss),
                                       "'huber' is Hoffmann et al.'s objective; 'squared' is in loss space."))
    delta = law_obj.default_delta if delta is None else float(delta)
    frame = table.to_frame()
    missing = [v for v in law_obj.variables if v not in frame.columns]
    if missing:
        raise DataError(format_message("The table", "passed to fit()", f"to have the columns {list(law_obj.variables)} "
                                       f"needed by law '{law_obj.name}'", f"columns {list(frame.columns)}",
                                       f"Add {missing} to the table."))
    X = {v: frame[v].to_numpy(dtype=float) for v in law_obj.variables}
    for v, arr in X.items():
        bad = np.flatnonzero(~(np.isfinite(arr) & (arr > 0)))
        if bad.size:
            raise DataError(format_message(f"Column '{v}'", f"used by law '{law_obj.name}'", "finite and > 0 (the law "
                                           "takes its logarithm)",
                                           f"{float(arr[bad[0]])!r} in {format_rows(bad)} (0-based)",
                                           f"Drop those rows first: table.filter(table['{v}'] > 0, reason=...)."))
    y = frame["loss"].to_numpy(dtype=float)
    w = None
    if weights is not None:
        w = frame[weights].to_numpy(dtype=float) if isinstance(weights, str) else np.asarray(weights, dtype=float)
        if w.shape != y.shape or not np.all(np.isfinite(w)) or np.any(w < 0):
            raise DataError(format_message("Option weights", "of fit()", f"{len(y)} finite values >= 0",
                                           f"shape {w.shape}" if w.shape != y.shape
                                           else "negative or non-finite values",
                                           "Pass one weight per row (or a column name)."))
    objective = Objective(law_obj, loss, delta, X, y)
    w0, kind = _resolve_starts(law_obj, starts, X, y)
    if objective.extra:
        w0 = np.column_stack([w0, _sigma_start(objective, w0)])
    # every column of the table, aligned with the fitted points (cluster labels for the bootstrap, ...)
    columns = {str(c): frame[c].to_numpy() for c in frame.columns}
    problem = FitProblem(law=law_obj, objective=objective, starts=w0, start_kind=kind, weights=w,
                         max_iter=max_iter, threads=threads, extra={"columns": columns}, engine=engine)
    data = pd.DataFrame({v: X[v] for v in law_obj.variables})
    data["loss"] = y
    data["weight"] = np.ones_like(y) if w is None else w
    return problem, table, data

def residual_jacobian(problem: FitProblem, x: np.ndarray) -> np.ndarray:
    """d r_i / d w_j at free vector ``x`` (law coordinates only; log residuals unless loss is 'squared'),
    by central differences of the law (2 x free-parameter evaluations of the n points)."""
    law = problem.law
    k = problem.objective.extra
    w = np.asarray(x, dtype=float)[: len(x) - k] if k else np.asarray(x, dtype=float)
    h = 1e-6 * np.maximum(1.0, np.abs(w))
    pts = np.concatenate([w + np.diag(h), w - np.diag(h)])
    f, _ = law.evaluate(law.expand(pts), problem.objective.X, grad=False)
    if problem.objective.log_space:
        f = np.log(f)
    m = len(w)
    return ((f[:m] - f[m:]) / (2 * h[:, None])).T

def _group_codes(data: pd.DataFrame, cols: list[str]) -> np.ndarray:
    """Group number of each row by the values of ``cols`` (as ``groupby(cols).ngroup()``, up to the
    numbering; a few times faster: this runs for every fit, and fit_many makes a thousand)."""
    f = [pd.factorize(data[c])[0] for c in cols]
    if len(f) == 1:
        return f[0]
    return np.unique(np.column_stack(f), axis=0, return_inverse=True)[1].ravel()


def _non_monotone(law: Law, data: pd.DataFrame) -> list[str]:
    """Curves in the data that rise significantly somewhere although the law can only fall.

    For each variable of the law, rows sharing the values of the law's other variables form a curve;
    each curve with at least 5 distinct values is searched for an interior bump
    (:func:`scaling.diagnostics.find_peak`) standing at least 3 noise units above its base. The noise
    is the curve's own scatter in log loss: the smaller of 1.4826 MAD of its residuals about its best
    monotone (isotonic, decreasing) fit (which a narrow bump or a sharp knee barely moves) and 1.4826 MAD of
    its second differences / sqrt(6) (which a wide, smooth bump barely moves), and at least 0.5 %
    (seed-to-seed spread). Both estimates are low on very noisy curves: with 3 % point-to-point noise a quarter of
    monotone 16-point curves warn (15 of 60 seeds).
    """
    from scipy.optimize import isotonic_regression

    from ..diagnostics import find_peak

    found: list[str] = []
    for v in law.variables:
        others = [o for o in law.variables if o != v]
        if others:
            # only curves with >= 5 distinct values can be searched: find them without a groupby per curve
            codes = _group_codes(data, others)
            pairs = np.unique(np.column_stack([codes, pd.factorize(data[v])[0]]), axis=0)
            big = np.flatnonzero(np.bincount(pairs[:, 0]) >= 5) if len(pairs) else np.zeros(0, dtype=int)
            sub = data[np.isin(codes, big)]
            groups = sub.groupby(others, sort=False) if len(sub) else []
        else:
            groups = [((), data)]
        for key, g in groups:
            curve = g.groupby(v, sort=True)["loss"].mean()
            if len(curve) < 5:
                continue
            x, y = curve.index.to_numpy(dtype=float), curve.to_numpy(dtype=float)
            ly = np.log(y)
            res = ly + isotonic_regression(-ly).x  # residuals about the best non-increasing fit
            sigma_iso = 1.4826 * float(np.median(np.abs(res - np.median(res))))
            # a bump spanning much of the curve inflates the isotonic residuals (the default deep-double-descent
            # curve: 0.11); second differences see only the point-to-point scatter there (0.038; var = 6 sigma^2
            # for white noise), while a sharp knee or a narrow bump inflates them instead (datablations): the
            # smaller of the two catches both
            d2 = ly[2:] - 2 * ly[1:-1] + ly[:-2]
            sigma_d2 = 1.4826 * float(np.median(np.abs(d2 - np.median(d2)))) / np.sqrt(6.0)
            sigma = max(min(sigma_iso, sigma_d2), 5e-3)
            pk = find_peak(x, y, y_err=sigma * y, y_scale="log", min_z=3.0, n_boot=10, rng=0)
            if pk.found:
                at = "" if not others else " at " + ", ".join(f"{o} = {k:.3g}" for o, k in
                                                            zip(others, key if isinstance(key, tuple) else (key,)))
                found.append(f"{v}{at}: rises to {pk.y_peak:.4g} near {v} = {pk.x_peak:.3g} "
                             f"(+{pk.prominence:.3g} above the dip before it, {pk.prominence_z:.1f} noise units)")
    return found

def _collinear_nd(law: Law, data: pd.DataFrame) -> str | None:
    """N and D that move together cannot separate A/N^alpha from B/D^beta (Chinchilla-type laws)."""
    if not {"n_params", "n_tokens"} <= set(law.variables) or len(data) < 3:
        return None
    lN = np.log(data["n_params"].to_numpy(dtype=float))
    lD = np.log(data["n_tokens"].to_numpy(dtype=float))
    if np.ptp(lN) == 0 or np.ptp(lD) == 0:
        return None  # one variable constant: the distinct-values check says so
    ratio = lD - lN
    corr = float(np.corrcoef(lN, lD)[0, 1])
    same_ratio = np.ptp(ratio) <= np.log(1.05)
    if not (same_ratio or abs(corr) > 0.99):
        return None
    what = (f"every run has the same tokens per parameter (D/N = {float(np.exp(np.median(ratio))):.3g})" if same_ratio
            else f"log N and log D are almost collinear (correlation {corr:.4f})")
    free = set(law.free_names)
    hint = "tie the exponents (tied={'beta': 'alpha'}), fix E (fixed={'E': ...}), or add runs off the line"
    if not ({"alpha", "beta"} <= free or {"alpha", "beta"} <= {n.replace("log_", "") for n in free}):
        hint = "fix E (fixed={'E': ...}) or add runs off the line"
    return (f"{what}: the N and D terms of the law cannot be told apart, so the exponents, N_opt and D_opt are "
            f"not determined by these data. Fix: {hint}.")


def _diagnose(problem: FitProblem, x: np.ndarray, theta: np.ndarray, data: pd.DataFrame) -> list[tuple[type, str]]:
    law = problem.law
    out: list[tuple[type, str]] = []
    if law.monotone:
        bumps = _non_monotone(law, data)
        if bumps:
            out.append((NonMonotoneWarning, f"Law '{law.name}' is monotone but the data are not: "
                        + "; ".join(bumps[:3]) + (f" (+{len(bumps) - 3} more curves)" if len(bumps) > 3 else "")
                        + ". A monotone law cannot follow a bump (double descent, overfitting, repeated data): "
                        "fit law='bnsl' with n_breaks >= 2, or restrict the range."))
    for v in law.variables:
        n_distinct = len(np.unique(data[v].to_numpy()))
        if n_distinct < 2:
            out.append((IdentifiabilityWarning, f"'{v}' takes {n_distinct} distinct value(s): the parameters that "
                        f"describe its effect cannot be identified. Add runs that vary {v}."))
    n_free = len(problem.free_names)
    if problem.n_points < n_free:
        out.append((IdentifiabilityWarning, f"{problem.n_points} points for {n_free} free parameters: the fit is "
                    "underdetermined. Add runs, or fix/tie parameters."))
    elif problem.n_points == n_free:
        out.append((IdentifiabilityWarning, f"{problem.n_points} points for {n_free} free parameters: the law can "
                    "pass through every point, so the fit has no residual to judge it by and no spread to estimate "
                    "uncertainty from. Add runs, or fix/tie parameters."))
    collinear = _collinear_nd(law, data)
    if collinear:
        out.append((IdentifiabilityWarning, collinear))
    lo, hi = law.bounds()
    for i, p in enumerate(law.param_names):
        for b, side in ((lo[i], "lower"), (hi[i], "upper")):
            if np.isfinite(b) and abs(theta[i] - b) <= 1e-6 * max(1.0, abs(b)):
                out.append((BoundaryWarning, f"{p} = {theta[i]:.6g} is on its {side} bound {b:g}: the optimum may "
                            "lie beyond it; widen the bound or check the data."))
    if problem.start_kind in ("grid", "data grid"):
        g = problem.starts
        names = problem.free_names
        for j in range(min(g.shape[1], len(names))):
            gmin, gmax = g[:, j].min(), g[:, j].max()
            if gmin < gmax and (x[j] <= gmin + 1e-9 * max(1, abs(gmin)) or x[j] >= gmax - 1e-9 * max(1, abs(gmax))):
                out.append((BoundaryWarning, f"{names[j]} = {x[j]:.6g} is on or beyond the edge of the start grid "
                            f"[{gmin:g}, {gmax:g}]: extend the grid (starts=...) to be sure the optimum is global."))
    # Local identifiability: the residual Jacobian J (n x free) must have full column rank. (The Hessian
    # of a Huber objective with a small delta is nearly piecewise linear, so its finite-difference
    # estimate is not a reliable test; J^T J is smooth and is singular exactly when a parameter
    # combination leaves every prediction unchanged.)
    try:
        J = residual_jacobian(problem, x)
        norms = np.linalg.norm(J, axis=0)
        if np.any(norms == 0) or not np.all(np.isfinite(J)):
            raise np.linalg.LinAlgError
        s = np.linalg.svd(J / norms, compute_uv=False)
        cond = s[0] / max(s[-1], 1e-300)
        if cond > 1e8:
            out.append((IdentifiabilityWarning, f"The residual Jacobian at the optimum is near-singular (condition "
                        f"number {cond:.3g}): some parameter combinations are not determined by the data; do not "
                        "trust their standard errors."))
    except np.linalg.LinAlgError:
        out.append((IdentifiabilityWarning, "The residual Jacobian at the optimum is singular or not finite: some "
                    "parameters do not affect the predictions at all."))
    return out

def fit(table: Any, law: str | Law = "chinchilla", *, loss: str | None = None, delta: float | None = None,
        weights: Any = None, starts: Any = "grid", fixed: Mapping[str, float] | None = None,
        tied: Mapping[str, str] | None = None, uncertainty: Any = None, rng: int | np.random.Generator | None = None,
        n_jobs: int | None = None, progress: bool = False, max_iter: int = 1000, engine: str = "auto") -> FitResult:
    """Fit a scaling law to a table of runs, at the optimum of the stated objective.

    Parameters
    ----------
    table : RunTable or pandas.DataFrame
        The runs (canonical columns ``n_params``, ``n_tokens``, ``flops``, ``loss``, ...).
    law : str or Law
        ``"chinchilla"`` (default), ``"kaplan-nd"``, ``"powerlaw"``, ``"datablations"``, ``"bnsl"``, ... or a
        :class:`~scaling.laws.Law` instance (e.g. a :class:`~scaling.laws.custom.CustomLaw`).
    loss : {"huber", "squared_log", "squared", "huber_likelihood"}, optional
        The objective, always summed over points; default the law's (Huber on log residuals for Chinchilla).
    delta : float, optional
        Huber delta (default 1e-3, as Hoffmann et al. 2022).
    weights : array or column name, optional
        Per-point weights (multiply each point's term in the sum).
    starts : "grid" or parameter values
        ``"grid"``: the law's default start grid (Hoffmann's 4,500 points for Chinchilla); or one start
        (Series / dict) or many (DataFrame / (k, P) array) in natural units.
    fixed, tied : mapping, optional
        Hold parameters at natural values (``{"E": 1.69}``) or tie them (``{"beta": "alpha"}``).
    uncertainty : optional
        ``scaling.Bootstrap(n=1000, by=None)``, ``"covariance"`` (sandwich), ``"profile"``, ... (see
        :mod:`scaling.estimation.uncertainty`).
    rng : int or numpy Generator, optional
        The single source of randomness (bootstrap resampling); recorded in the provenance.
    n_jobs, progress : parallel workers and progress bar for uncertainty estimation.
    max_iter : maximum iterations per start.
    engine : {"auto", "compiled", "numpy"}
        What screens the starts: ``"auto"`` uses the compiled (numba) float32 L-BFGS where numba is installed
        (``pip install 'scaling[fast]'``) and the problem has a compiled kernel (Chinchilla's law; huber,
        squared_log or squared loss), numpy's batched L-BFGS otherwise; the same algorithm and stopping
        rule either way (numpy's batch finishes its last 24 starts in float64), and the same float64
        polish after it (:mod:`scaling.estimation.compiled`). ``res.provenance["engine"]`` says which ran.

    Returns
    -------
    FitResult

    Warns
    -----
    BoundaryWarning, IdentifiabilityWarning, ConvergenceWarning — one of each kind at most, summarising.

    Notes
    -----
    Every start is optimised to its own convergence (a batched L-BFGS over all starts at once), then
    the best distinct end points are polished with L-BFGS-B at gtol 1e-12 / ftol 1e-15 on a rescaled
    objective, so the reported optimum does not depend on where a start stopped.
    """
    t0 = time.perf_counter()
    problem, table, data = build_problem(table, law, loss=loss, delta=delta, weights=weights, starts=starts,
                                         fixed=fixed, tied=tied, max_iter=max_iter, engine=engine)
    ms = problem.solve()
    theta, nuis = problem.natural(ms.x)
    law_obj = problem.law
    params = pd.Series(theta, index=list(law_obj.param_names), dtype=float)
    diags = _diagnose(problem, ms.x, theta, data)
    if not ms.converged:
        diags.append((ConvergenceWarning, f"The float64 polish of the best start did not pass the convergence "
                      f"test: {ms.polish_message}. The parameters may be off by more than the optimiser's precision: "
                      "check them with res.ci(method='profile') or a refit from other starts (starts=...); a "
                      "larger Huber delta (delta=...) makes the objective smooth (res.starts lists every start's "
                      "end point, status and gradient)."))
    by_kind: dict[type, list[str]] = {}
    for kind, msg in diags:
        by_kind.setdefault(kind, []).append(msg)
    for kind, msgs in by_kind.items():
        warnings.warn(" ".join(msgs) if len(msgs) <= 3 else " ".join(msgs[:3]) + f" (+{len(msgs) - 3} more)",
                      kind, stacklevel=2)
    seed = rng if isinstance(rng, (int, np.integer)) or rng is None else None
    meta = dict(getattr(table, "meta", {}) or {})
    provenance: dict[str, Any] = {
        "package": "scaling", "version": __version__,
        "law": law_obj.spec(), "loss": problem.objective.loss, "delta": problem.objective.delta,
        "weights": None if weights is None else (weights if isinstance(weights, str) else "array"),
        "starts": {"kind": problem.start_kind, "n": int(len(problem.starts)), "n_agree": int(ms.n_agree),
                   "polished": int(len(ms.polished)),
                   "status_counts": {str(k): int(v) for k, v in pd.Series(ms.starts_status).value_counts().items()},
                   "optima": [float(v) for v in (ms.optima if ms.optima is not None else [])]},
        "optimizer": ("compiled L-BFGS (float32 screening, numba)" if ms.engine == "compiled" else
                      "batched L-BFGS (float32 screening)") + " + L-BFGS-B polish (gtol 1e-12, ftol 1e-15, rescaled)",
        "engine": ms.engine,
        "rng": None if seed is None else int(seed),
        "data_hash": _data_hash(data),
        "data_name": meta.get("name"),
        "data_source": str(meta.get("source")) if meta.get("source") is not None else None,
        "flops_per_token": meta.get("flops_per_token"),
        "n_params_convention": meta.get("n_params_convention"),
        "seconds": round(time.perf_counter() - t0, 4),
    }
    excluded = getattr(table, "excluded", None)
    conventions = getattr(table, "conventions", None)
    spec = FitSpec(law=law_obj.spec(), loss=problem.objective.loss, delta=problem.objective.delta,
                   starts=problem.start_kind if problem.start_kind in ("grid", "data grid")
                   else [list(map(float, row)) for row in problem.natural(problem.starts)[0]],
                   weights=None if weights is None else (weights if isinstance(weights, str) else "array"),
                   max_iter=max_iter, data_hash=provenance["data_hash"],
                   conventions=conventions if isinstance(conventions, Conventions) else DEFAULT_CONVENTIONS)
    result = FitResult(law=law_obj, params=params, objective=ms.f, loss=problem.objective.loss,
                       delta=problem.objective.delta, nuisance={k: float(v) for k, v in nuis.items()}, data=data,
                       excluded=excluded if isinstance(excluded, pd.DataFrame) else None,
                       starts=problem.starts_frame(ms), flags=tuple(m for _, m in diags), provenance=provenance,
                       spec=spec)
    if uncertainty is not None:
        from .uncertainty import estimate_uncertainty

        result = estimate_uncertainty(problem, result, uncertainty, rng=rng, n_jobs=n_jobs, progress=progress)
    return result


class _FittedData:
    """The fitted data of a result, in the shape :func:`build_problem` reads (``to_frame``)."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self._frame = frame
        self.excluded = None

    def to_frame(self) -> pd.DataFrame:
        return self._frame.copy()


def problem_from_result(result: FitResult, table: Any = None) -> tuple[FitProblem, Any, pd.DataFrame]:
    """Rebuild the :class:`FitProblem` that produced ``result`` (for uncertainty after the fact).

    Parameters
    ----------
    result : FitResult
        A fit, possibly saved and reloaded (its :attr:`~FitResult.spec` says what was fitted).
    table : RunTable or DataFrame, optional
        The table that was fitted (needed for a cluster bootstrap, whose clusters are table columns).
        Without it the problem is rebuilt from the fitted data kept on the result.

    Raises
    ------
    DataError
        When ``table`` is not the table that was fitted (its data hash differs).
    """
    spec = result.spec
    opts = spec.fit_options()
    if spec.starts == "given":
        raise DataError(format_message("The saved fit", "", "a record of its starts", "a schema-1 file that kept "
                                       "only their number", "Refit with scaling.fit(...) and save it again."))
    if table is None:
        data = result.data
        w = data["weight"].to_numpy(dtype=float)
        frame = data.drop(columns=["weight"])
        problem, tab, fitted = build_problem(_FittedData(frame), result.law, weights=None if np.all(w == 1) else w,
                                             **opts)
    else:
        weights: Any = spec.weights if isinstance(spec.weights, str) and spec.weights != "array" else None
        if spec.weights == "array":
            weights = result.data["weight"].to_numpy(dtype=float)
        problem, tab, fitted = build_problem(table, result.law, weights=weights, **opts)
    if spec.data_hash and _data_hash(fitted) != spec.data_hash:
        raise DataError(format_message("The table", "passed with the fit", f"the fitted data (sha256 "
                                       f"{spec.data_hash[:12]})", f"other data (sha256 {_data_hash(fitted)[:12]}, "
                                       f"{len(fitted)} rows vs {result.n_points})",
                                       "Pass the table the fit was made on (same rows and order), or no table to use "
                                       "the fitted data kept on the result."))
    return problem, tab, fitted


# public names of the helpers that scaling.estimation.many (fit_many) builds its per-problem results with
data_hash = _data_hash
diagnose = _diagnose
resolve_starts = _resolve_starts
sigma_start = _sigma_start
