"""``plan_runs``: which (N, D) runs to train next, to most shrink the interval of the prediction that
matters (the compute-optimal model size, or the loss, at a target budget), within a compute budget.

Method (expected Fisher information of the law)
-----------------------------------------------
Near the fit, the log-loss residuals are approximately Gaussian with variance ``sigma^2`` (estimated
from the fit's residuals, n/(n-k) corrected), so the information about the free parameters ``w`` from
runs at points ``x_i`` is ``I = J^T J / sigma^2`` with ``J_ij = d log L(x_i; w) / d w_j`` (the
Gauss–Newton approximation of every objective here). The prediction ``q(w)`` (log N_opt or log loss
at ``target_flops``) then has variance ``g^T I^-1 g`` with ``g = dq/dw``; its expected 95 % interval is
``q ± 1.96 sqrt(g^T I^-1 g)`` (as a factor for N_opt). A new run at ``x`` adds ``j j^T / sigma^2``
(``j = d log L(x)/dw``): by the Sherman–Morrison formula it removes ``(g^T I^-1 j)^2 / (sigma^2 +
j^T I^-1 j)`` from the variance. Runs are chosen greedily (at most ``max_runs``, each candidate
at most once, until ``budget_flops`` is spent) twice — by variance removed per FLOP and by variance
removed — and the better of the two plans is kept (the standard guarantee for budgeted greedy
selection; Khuller et al. 1999, Krause & Guestrin 2005).

``plan_runs`` also reports the same expected interval for the naive alternative with equal compute —
extending the existing isoFLOP design by one more isoFLOP at the largest affordable budget
(:func:`isoflop_extension`) — so that the gain of the plan is explicit. ``tests/test_plan_runs.py``
checks by simulation with a known true law that the plan narrows the *realised* spread of the
estimate more than the isoFLOP extension.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError, format_message
from ..laws.base import FloatArray

__all__ = ["plan_runs", "RunPlan", "isoflop_extension", "expected_interval", "default_candidates"]

Z95 = 1.959963984540054


@dataclass(frozen=True)
class RunPlan:
    """The chosen runs and the expected interval of the quantity before and after training them.

    ``runs``: DataFrame (``n_params``, ``n_tokens``, ``flops``, ``tokens_per_param``, ``variance_removed``
    — share of the current variance each run removes when added in order); ``before``, ``after``,
    ``isoflop``: dicts with ``estimate``, ``lower``, ``upper``, ``factor`` (upper/estimate) of the
    expected 95 % interval now, after the plan, and after the equal-compute isoFLOP extension;
    ``isoflop_runs``: that extension's runs.
    """

    quantity: str
    target_flops: float
    budget_flops: float
    runs: pd.DataFrame
    before: dict[str, float]
    after: dict[str, float]
    isoflop: dict[str, float]
    isoflop_runs: pd.DataFrame
    sigma: float
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "runs", self.runs.copy())
        object.__setattr__(self, "isoflop_runs", self.isoflop_runs.copy())

    def to_frame(self) -> pd.DataFrame:
        return self.runs.copy()

    def to_dict(self) -> dict[str, Any]:
        return {"quantity": self.quantity, "target_flops": self.target_flops, "budget_flops": self.budget_flops,
                "runs": self.runs.to_dict(orient="records"), "before": self.before, "after": self.after,
                "isoflop_extension": self.isoflop, "isoflop_runs": self.isoflop_runs.to_dict(orient="records"),
                "sigma": self.sigma, "info": self.info}

    def __str__(self) -> str:
        what = {"n_opt": "N_opt", "loss": "loss at the compute-optimal allocation"}[self.quantity]

        def iv(d: dict[str, float]) -> str:
            return f"{d['estimate']:.4g} [{d['lower']:.4g}, {d['upper']:.4g}] (x/÷ {d['factor']:.3g})"

        used = float(self.runs["flops"].sum()) if len(self.runs) else 0.0
        lines = [f"Expected 95 % interval of {what} at C = {self.target_flops:.3g} FLOPs (Fisher information, "
                 f"sigma = {self.sigma:.3g} in log loss):",
                 f"  now                                : {iv(self.before)}",
                 f"  after the {len(self.runs)} planned runs ({used:.3g} FLOPs) : {iv(self.after)}",
                 f"  after an isoFLOP at the same compute: {iv(self.isoflop)}",
                 "Planned runs (in order of choice):"]
        fmt = self.runs.copy()
        lines.append(fmt.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
        return "\n".join(lines)


def _problem_of(fit: Any) -> tuple[Any, FloatArray, pd.DataFrame]:
    law = fit.law
    for v in ("n_params", "n_tokens"):
        if v not in law.variables:
            raise DataError(format_message("The fitted law", "passed to plan_runs()", "a law of n_params and n_tokens "
                                           "(e.g. 'chinchilla')", f"law '{law.name}' of {list(law.variables)}"))
    theta = fit.params[list(law.param_names)].to_numpy(dtype=float)
    w = law.contract(law.to_internal(theta[None, :]))[0]
    return law, w, fit.data


def _log_pred(law: Any, w: FloatArray, N: FloatArray, D: FloatArray) -> FloatArray:
    X = {"n_params": np.asarray(N, float), "n_tokens": np.asarray(D, float)}
    f, _ = law.evaluate(law.expand(np.atleast_2d(w)), X, grad=False)
    return np.log(f)


def _jac(law: Any, w: FloatArray, N: FloatArray, D: FloatArray) -> FloatArray:
    """d log L / d w at the points (n, k), central differences."""
    k = len(w)
    h = 1e-6 * np.maximum(1.0, np.abs(w))
    pts = np.concatenate([w + np.diag(h), w - np.diag(h)])
    f, _ = law.evaluate(law.expand(pts), {"n_params": np.asarray(N, float), "n_tokens": np.asarray(D, float)},
                        grad=False)
    lf = np.log(f)
    return ((lf[:k] - lf[k:]) / (2 * h[:, None])).T


def _quantity(law: Any, w: FloatArray, quantity: str, C: float, flops_per_token: float) -> float:
    from ..predict import compute_optimal

    theta = law.to_natural(law.expand(np.atleast_2d(w)))[0]
    alloc = compute_optimal((law, pd.Series(theta, index=list(law.param_names))), C, flops_model=flops_per_token)
    v = float(np.asarray(alloc.n_params if quantity == "n_opt" else alloc.loss, dtype=float).ravel()[0])
    return math.log(v) if v > 0 else math.nan


def _grad_q(law: Any, w: FloatArray, quantity: str, C: float, k: float) -> FloatArray:
    h = 1e-5 * np.maximum(1.0, np.abs(w))
    g = np.empty(len(w))
    for j in range(len(w)):
        e = np.zeros(len(w))
        e[j] = h[j]
        g[j] = (_quantity(law, w + e, quantity, C, k) - _quantity(law, w - e, quantity, C, k)) / (2 * h[j])
    return g


def _interval(q: float, var: float) -> dict[str, float]:
    s = math.sqrt(max(var, 0.0))
    return {"estimate": math.exp(q), "lower": math.exp(q - Z95 * s), "upper": math.exp(q + Z95 * s),
            "factor": math.exp(Z95 * s), "sd_log": s}


def expected_interval(fit: Any, quantity: str = "n_opt", target_flops: float = 1e24, *,
                      extra_runs: pd.DataFrame | None = None, flops_per_token: float = 6.0,
                      sigma: float | None = None) -> dict[str, float]:
    """Expected 95 % interval (Fisher information) of ``quantity`` at ``target_flops`` from the fit's runs
    plus ``extra_runs`` (columns ``n_params``, ``n_tokens``)."""
    law, w, data = _problem_of(fit)
    J = _jac(law, w, data["n_params"].to_numpy(), data["n_tokens"].to_numpy())
    s = _sigma(fit, law, w, data) if sigma is None else sigma
    if extra_runs is not None and len(extra_runs):
        J = np.vstack([J, _jac(law, w, extra_runs["n_params"].to_numpy(), extra_runs["n_tokens"].to_numpy())])
    info = J.T @ J / s**2
    g = _grad_q(law, w, quantity, target_flops, flops_per_token)
    q = _quantity(law, w, quantity, target_flops, flops_per_token)
    return _interval(q, float(g @ np.linalg.solve(info, g)))


def _sigma(fit: Any, law: Any, w: FloatArray, data: pd.DataFrame) -> float:
    r = _log_pred(law, w, data["n_params"].to_numpy(), data["n_tokens"].to_numpy())[0] - np.log(data["loss"].to_numpy())
    n, k = len(r), len(w)
    if n <= k:
        raise DataError(format_message("The fit", "passed to plan_runs()", f"more runs than free parameters ({k})",
                                       f"{n} runs", "Fit more runs first, or fix/tie parameters."))
    return float(math.sqrt(np.sum(r * r) / (n - k)))


def default_candidates(fit: Any, budget_flops: float, flops_per_token: float = 6.0) -> pd.DataFrame:
    """(N, D) candidates: N log-spaced from the smallest run's N to 30x the largest (40 values), D/N from 2
    to 500 (24 values), each costing at most ``budget_flops``."""
    d = fit.data
    N = np.geomspace(d["n_params"].min(), 30 * d["n_params"].max(), 40)
    M = np.geomspace(2.0, 500.0, 24)
    NN, MM = np.meshgrid(N, M)
    c = pd.DataFrame({"n_params": NN.ravel(), "n_tokens": (NN * MM).ravel()})
    c["flops"] = flops_per_token * c["n_params"] * c["n_tokens"]
    return c[c["flops"] <= budget_flops].reset_index(drop=True)


def isoflop_extension(fit: Any, budget_flops: float, *, n_runs: int = 6, flops_per_token: float = 6.0) -> pd.DataFrame:
    """The naive design with compute ``budget_flops``: one more isoFLOP of ``n_runs`` runs at ``C =
    budget / n_runs``, N log-spaced over a factor 10 around the fit's compute-optimal N at that C."""
    from ..predict import compute_optimal

    C = budget_flops / n_runs
    n0 = float(np.asarray(compute_optimal(fit, C, flops_model=flops_per_token).n_params).ravel()[0])
    N = n0 * np.geomspace(1 / math.sqrt(10), math.sqrt(10), n_runs)
    return pd.DataFrame({"n_params": N, "n_tokens": C / (flops_per_token * N), "flops": np.full(n_runs, C)})


def _greedy(Jc: FloatArray, cost: FloatArray, Ainv: FloatArray, g: FloatArray, sigma: float, budget: float,
            max_runs: int, per_flop: bool, var0: float) -> tuple[list[int], list[float], float]:
    Ainv = Ainv.copy()
    left = budget
    chosen: list[int] = []
    removed: list[float] = []
    avail = np.ones(len(cost), dtype=bool)
    var = float(g @ Ainv @ g)
    while len(chosen) < max_runs:
        ok = avail & (cost <= left)
        if not ok.any():
            break
        u = Jc @ (Ainv @ g)
        den = sigma**2 + np.einsum("ij,jk,ik->i", Jc, Ainv, Jc)
        gain = u**2 / den
        score = np.where(ok, gain / cost if per_flop else gain, -np.inf)
        i = int(np.argmax(score))
        if not np.isfinite(score[i]) or gain[i] <= 1e-6 * var:
            break
        Aj = Ainv @ Jc[i]
        Ainv -= np.outer(Aj, Aj) / (sigma**2 + Jc[i] @ Aj)
        var = float(g @ Ainv @ g)
        chosen.append(i)
        removed.append(float(gain[i] / var0))
        avail[i] = False
        left -= cost[i]
    return chosen, removed, var


def plan_runs(fit_or_table: Any, *, target_flops: float, budget_flops: float, candidates: Any = None,
              quantity: str = "n_opt", max_runs: int = 8, flops_per_token: float = 6.0, law: Any = "chinchilla",
              **fit_options: Any) -> RunPlan:
    """Choose the runs that most shrink the expected interval of ``quantity`` at ``target_flops``.

    Parameters
    ----------
    fit_or_table : FitResult, or a table (fitted first with ``scaling.fit(table, law, **fit_options)``)
    target_flops : the budget whose prediction matters (e.g. the next big run).
    budget_flops : total compute for the new runs (C = flops_per_token · N · D each).
    candidates : DataFrame with ``n_params`` and ``n_tokens`` (default :func:`default_candidates`).
    quantity : "n_opt" (compute-optimal model size) or "loss" (loss at the compute-optimal allocation).
    max_runs : at most this many runs.

    Returns
    -------
    RunPlan (``print(plan)``; ``plan.runs``; expected intervals before / after / for the isoFLOP extension).
    """
    if quantity not in ("n_opt", "loss"):
        raise DataError(format_message("Option quantity", "of plan_runs()", "'n_opt' or 'loss'", repr(quantity)))
    for name, v in (("target_flops", target_flops), ("budget_flops", budget_flops)):
        if not (isinstance(v, (int, float, np.floating)) and math.isfinite(float(v)) and float(v) > 0):
            raise DataError(format_message(f"Option {name}", "of plan_runs()", "a positive number of FLOPs", repr(v),
                                           f"Pass e.g. {name}=1e22 (CLI: --{name.replace('_', '-')} 1e22)."))
    fit = fit_or_table
    if not hasattr(fit, "params"):
        import warnings

        from .fitting import fit as _fit

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = _fit(fit_or_table, law, **fit_options)
    lw, w, data = _problem_of(fit)
    cand = default_candidates(fit, budget_flops, flops_per_token) if candidates is None else pd.DataFrame(candidates)
    for c in ("n_params", "n_tokens"):
        if c not in cand.columns:
            raise DataError(format_message("Option candidates", "of plan_runs()", "a table with columns n_params and "
                                           "n_tokens", f"columns {list(cand.columns)}"))
    cand = cand[["n_params", "n_tokens"]].astype(float).copy()
    cand["flops"] = flops_per_token * cand["n_params"] * cand["n_tokens"]
    cand = cand[(cand["flops"] <= budget_flops) & (cand["n_params"] > 0) & (cand["n_tokens"] > 0)]
    if cand.empty:
        raise DataError(format_message("Option candidates", "of plan_runs()", "at least one run within budget_flops",
                                       "none", "Raise budget_flops or pass cheaper candidates."))
    sigma = _sigma(fit, lw, w, data)
    J0 = _jac(lw, w, data["n_params"].to_numpy(), data["n_tokens"].to_numpy())
    Ainv = np.linalg.inv(J0.T @ J0 / sigma**2)
    g = _grad_q(lw, w, quantity, target_flops, flops_per_token)
    q = _quantity(lw, w, quantity, target_flops, flops_per_token)
    var0 = float(g @ Ainv @ g)
    Jc = _jac(lw, w, cand["n_params"].to_numpy(), cand["n_tokens"].to_numpy())
    cost = cand["flops"].to_numpy()
    # budgeted greedy, both ways, keeping the better (Khuller et al. 1999; Krause & Guestrin 2005): by
    # variance removed per FLOP, and by variance removed (cheap runs alone can win per FLOP yet leave
    # most of the budget unused within max_runs)
    best = None
    for per_flop in (True, False):
        ch, rem, var_end = _greedy(Jc, cost, Ainv, g, sigma, float(budget_flops), max_runs, per_flop, var0)
        if best is None or var_end < best[2]:
            best = (ch, rem, var_end, per_flop)
    assert best is not None
    chosen, removed, var, per_flop_won = best
    runs = cand.iloc[chosen].reset_index(drop=True)
    runs["tokens_per_param"] = runs["n_tokens"] / runs["n_params"]
    runs["variance_removed"] = removed
    iso = isoflop_extension(fit, float(runs["flops"].sum()) if len(runs) else budget_flops,
                            flops_per_token=flops_per_token)
    iso_iv = expected_interval(fit, quantity, target_flops, extra_runs=iso, flops_per_token=flops_per_token,
                               sigma=sigma)
    return RunPlan(quantity=quantity, target_flops=float(target_flops), budget_flops=float(budget_flops), runs=runs,
                   before=_interval(q, var0), after=_interval(q, var), isoflop=iso_iv, isoflop_runs=iso, sigma=sigma,
                   info={"method": "budgeted greedy on the expected Fisher information (Sherman-Morrison updates), "
                                   + ("per FLOP" if per_flop_won else "per run") + " (the better of the two)",
                         "n_candidates": int(len(cand)), "law": lw.name})


# ------------------------------------------------------------------ CLI (registered in scaling/cli.py)


def add_parser(sub: Any, common: Any) -> None:
    p = sub.add_parser("plan-runs", help="choose the next runs that most shrink the interval of N_opt or the loss",
                       description="Given a saved fit (or a table to fit), a target budget and a compute budget for "
                                   "new runs, choose the (N, D) runs that most shrink the expected 95 % interval of "
                                   "the compute-optimal N (or the loss) at the target (Fisher information of the law).")
    p.add_argument("source", metavar="FIT_OR_TABLE", help="fit JSON (scaling fit -o), a CSV/Parquet table, or "
                   "dataset:NAME")
    p.add_argument("--target-flops", type=float, required=True, metavar="C", help="the budget whose prediction matters")
    p.add_argument("--budget-flops", type=float, required=True, metavar="C", help="total compute for the new runs")
    p.add_argument("--quantity", choices=("n_opt", "loss"), default="n_opt")
    p.add_argument("--max-runs", type=int, default=8, metavar="K", help="at most K new runs (default 8)")
    common(p)
    p.set_defaults(func=cmd_plan_runs)


def cmd_plan_runs(args: Any, out: Any) -> int:
    from pathlib import Path

    src = str(args.source)
    if src.endswith(".json") and Path(src).exists():
        from .result import FitResult

        obj: Any = FitResult.load(src)
    elif src.startswith("dataset:"):
        from ..datasets import load_dataset

        obj = load_dataset(src.split(":", 1)[1])
    else:
        from ..data import read_table

        if not Path(src).exists():
            raise DataError(format_message("FIT_OR_TABLE", "of plan-runs", "a fit JSON, a table file or dataset:NAME",
                                           repr(src)))
        obj = read_table(src)
    plan = plan_runs(obj, target_flops=args.target_flops, budget_flops=args.budget_flops, quantity=args.quantity,
                     max_runs=args.max_runs)
    if getattr(args, "json", False):
        out.json(plan.to_dict())
    else:
        out.print(str(plan))
    return 0
