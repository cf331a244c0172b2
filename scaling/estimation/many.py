"""``fit_many``: many independent fits of one law — groups of a column, several loss columns, or a list
of tables — solved together, each at its own global optimum of the start grid.

How the problems are solved together
------------------------------------
Problems that share their loss column are written as *weight rows over one union of points*: a group
of a column is the table with weight 1 on its rows and 0 elsewhere; a list of tables (e.g. bootstrap
resample tables) becomes the counts of each distinct (N, D, loss) row in each table. The problems are
then optimised as one array computation with the engine's batched L-BFGS, each row carrying its own
weights (:func:`~scaling.estimation.batch.optimise_weighted`), so that 1,000 problems cost a few array
passes per iteration instead of 1,000 Python-level fits.

``strategy="grid"`` runs the full start grid for every problem (exactly :func:`scaling.fit`'s engine,
one problem at a time: slow for many problems, but literal). ``strategy="shared"`` (the default for
more than ``8`` problems of one loss column) proves its shortcut as it runs:

1. *Pilots*: a few problems (chosen by ``rng``) are solved from the full grid; the distinct optima of
   their grids' end points (refined in float64) become the candidate starts of every problem.
2. *All problems* run every candidate (float64, relative objective change 1e-14, stalled rows
   restarted, the rest polished); a problem's answer is its lowest end point.
3. *Verification*: ``verify`` other problems (chosen by ``rng``) are solved from the full grid as well.
   If any of them is lower than its shared answer (by more than 1e-9 relative), its optima join the
   candidates, every problem is re-solved and a new sample is verified (up to two escalations; then
   every problem runs the full grid). What was verified and escalated is in ``FitCollection.info``.

Every problem's status is "converged" only where the float64 convergence test of
:mod:`~scaling.estimation.engine` holds at its answer (relative projected gradient <= 1e-4).

Determinism: problems are split into blocks of fixed size whatever ``n_jobs`` is, and each block's
answer depends only on its rows, so ``n_jobs=2`` (or a cluster backend of joblib) reproduces
``n_jobs=1`` bit for bit for the same ``rng``.
"""

from __future__ import annotations

import math
import sys
import time
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from .._version import __version__
from ..conventions import DEFAULT_CONVENTIONS, Conventions
from ..errors import ConvergenceWarning, DataError, format_message
from ..laws import Law, get_law
from ..laws.base import FloatArray
from .batch import distinct_optima, optimise_weighted
from .engine import GTOL, centring, multistart, newton_finish, projected_gradient
from .optimize import polish
from .fitting import build_problem, data_hash, diagnose, resolve_starts, sigma_start
from .objectives import LOSSES, Objective
from .result import FitResult
from .spec import FitSpec

__all__ = ["fit_many", "FitCollection"]

#: problems per block of the shared solve (fixed: results do not depend on n_jobs)
BLOCK = 128
#: problems per chunk of result building (diagnostics, provenance)
RESULT_CHUNK = 50
#: relative objective difference above which a verified problem counts as missed
MISS_TOL = 1e-9


@dataclass(frozen=True)
class FitCollection:
    """The outcome of :func:`fit_many`: one :class:`~scaling.estimation.result.FitResult` per problem.

    ``keys`` (DataFrame, one row per problem: the ``by`` values, ``metric``, ``table``), ``results``
    (tuple of FitResult, same order), ``info`` (how the problems were solved: strategy, pilots,
    verified problems, escalations, seconds). Index it like a list (``coll[3]``) or by key
    (``coll.get(group="c4")``); :meth:`to_frame` is the tidy table of parameters (and intervals).
    """

    keys: pd.DataFrame
    results: tuple[FitResult, ...]
    info: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "keys", self.keys.copy())
        object.__setattr__(self, "info", dict(self.info))

    def __len__(self) -> int:
        return len(self.results)

    def __iter__(self) -> Iterator[FitResult]:
        return iter(self.results)

    def __getitem__(self, i: int) -> FitResult:
        return self.results[i]

    def get(self, **key: Any) -> FitResult:
        """The result whose key columns equal ``key`` (e.g. ``get(group="c4", metric="loss")``)."""
        mask = np.ones(len(self.keys), dtype=bool)
        for k, v in key.items():
            if k not in self.keys.columns:
                raise KeyError(f"{k!r} is not a key of this collection; keys: {list(self.keys.columns)}")
            mask &= (self.keys[k] == v).to_numpy(dtype=bool)
        hits = np.flatnonzero(mask)
        if len(hits) != 1:
            raise KeyError(f"{len(hits)} problems match {key!r}; give more key columns")
        return self.results[int(hits[0])]

    @property
    def objectives(self) -> FloatArray:
        return np.array([r.objective for r in self.results])

    @property
    def status(self) -> list[str]:
        """Per problem: "converged" (float64 test held at the answer) or "not converged"."""
        return [str(r.provenance.get("status", "")) for r in self.results]

    @property
    def flags(self) -> list[tuple[str, ...]]:
        return [r.flags for r in self.results]

    def to_frame(self, level: float = 0.95, wide: bool = False) -> pd.DataFrame:
        """Tidy parameters: one row per (problem, parameter) with ``estimate`` and, where uncertainty was
        estimated, ``se``, ``lower``, ``upper`` (the results' default interval at ``level``), plus
        ``objective``, ``n_points``, ``status``, ``n_flags``. ``wide=True``: one row per problem."""
        rows = []
        for i, r in enumerate(self.results):
            ci = r.ci(level) if (r.samples is not None or r.cov is not None) else None
            se = r.se() if (r.samples is not None or r.cov is not None) else None
            for p, v in r.params.items():
                row = {**self.keys.iloc[i].to_dict(), "parameter": p, "estimate": float(v),
                       "se": float(se[p]) if se is not None else math.nan,
                       "lower": float(ci.loc[p].iloc[0]) if ci is not None else math.nan,
                       "upper": float(ci.loc[p].iloc[1]) if ci is not None else math.nan,
                       "objective": r.objective, "n_points": r.n_points,
                       "status": r.provenance.get("status"), "n_flags": len(r.flags)}
                rows.append(row)
        df = pd.DataFrame(rows)
        if not wide:
            return df
        keys = list(self.keys.columns)
        est = df.pivot_table(index=keys, columns="parameter", values="estimate", sort=False)
        return est.reset_index()


# ------------------------------------------------------------------ problem assembly


@dataclass
class _Problem:
    key: dict[str, Any]
    table: Any  # RunTable fitted
    excluded: pd.DataFrame | None


def _as_tables(tables: Any) -> list[tuple[dict[str, Any], Any]]:
    from ..data import read_table

    if isinstance(tables, Mapping):
        items = [({"table": k}, t) for k, t in tables.items()]
    elif isinstance(tables, (list, tuple)):
        items = [({"table": i}, t) for i, t in enumerate(tables)]
    else:
        items = [({}, tables)]
    out = []
    for key, t in items:
        if isinstance(t, pd.DataFrame):
            t = read_table(t)
        if not hasattr(t, "to_frame"):
            raise DataError(format_message("Argument tables", "of fit_many()", "a RunTable, a DataFrame, or a list "
                                           "or dict of them", type(t).__name__,
                                           "Load data with scaling.read_table or load_dataset."))
        out.append((key, t))
    if not out:
        raise DataError(format_message("Argument tables", "of fit_many()", "at least one table", "an empty list"))
    return out


def _problems(tables: Any, by: Sequence[str] | str | None, metrics: Sequence[str] | None) -> list[_Problem]:
    from ..data import read_table

    by_cols = [by] if isinstance(by, str) else list(by or [])
    out: list[_Problem] = []
    for key, t in _as_tables(tables):
        frame = t.to_frame()
        for c in by_cols + list(metrics or []):
            if c not in frame.columns:
                raise DataError(format_message(f"Column '{c}'", "named in fit_many(by=/metrics=)", "a column of the "
                                               "table", f"columns {list(frame.columns)}",
                                               "Pass existing column names (see table.columns)."))
        if by_cols:
            groups = frame.groupby(by_cols, sort=True, dropna=False).size().index
            group_keys = [g if isinstance(g, tuple) else (g,) for g in groups]
        else:
            group_keys = [()]
        for gk in group_keys:
            sub = t.subset(dict(zip(by_cols, gk))) if by_cols else t
            for m in (list(metrics) if metrics else [None]):
                k = {**key, **dict(zip(by_cols, gk))}
                if m is None:
                    out.append(_Problem(k, sub, None))
                    continue
                k["metric"] = m
                f = sub.to_frame()
                vals = pd.to_numeric(f[m], errors="coerce").to_numpy(dtype=float)
                ok = np.isfinite(vals) & (vals > 0)
                if ok.sum() == 0:
                    raise DataError(format_message(f"Metric column '{m}'", f"of problem {k}", "finite values > 0",
                                                   "no such value", "Drop the metric or fill it."))
                sub_m = sub.filter(ok, reason=f"metric '{m}' missing or <= 0") if not ok.all() else sub
                fm = sub_m.to_frame()
                fm["loss"] = pd.to_numeric(fm[m], errors="coerce").to_numpy(dtype=float)
                meta = dict(getattr(t, "meta", {}) or {})
                keep = [c for c in fm.columns if c in ("n_params", "n_tokens", "flops", "loss", "run", "step",
                                                       "lr", "n_unique_tokens") or c in by_cols]
                tm = read_table(fm[keep], flops_per_token=meta.get("flops_per_token") or 6.0, duplicates="keep")
                out.append(_Problem(k, tm, sub_m.excluded))
    return out


def _family_key(p: _Problem) -> str:
    return str(p.key.get("metric", "loss"))


def _union(problems: list[_Problem], variables: tuple[str, ...]) -> tuple[dict[str, FloatArray], FloatArray,
                                                                           FloatArray]:
    """Distinct (variables, loss) rows over the problems, and each problem's count of each row."""
    cols = list(variables) + ["loss"]
    frames = [p.table.to_frame()[cols].to_numpy(dtype=float) for p in problems]
    allrows = np.concatenate(frames)
    uniq, inv = np.unique(allrows, axis=0, return_inverse=True)
    inv = inv.ravel()
    W = np.zeros((len(problems), len(uniq)))
    start = 0
    for i, fr in enumerate(frames):
        np.add.at(W[i], inv[start:start + len(fr)], 1.0)
        start += len(fr)
    X = {v: uniq[:, j].copy() for j, v in enumerate(variables)}
    return X, uniq[:, -1].copy(), W


# ------------------------------------------------------------------ solving


def _grid_one(objective: Objective, w: FloatArray, grid: FloatArray, max_iter: int) -> tuple[FloatArray, float, Any]:
    ms = multistart(objective, grid, weights=w, max_iter=max_iter, threads=1)
    return ms.x, ms.f, ms


def _shared_block(objective: Objective, W: FloatArray, cand: FloatArray, max_iter: int
                  ) -> tuple[FloatArray, FloatArray, np.ndarray]:
    with threadpool_limits(limits=1, user_api="blas"):
        res = optimise_weighted(objective, W, cand, scale=None, max_iter=max_iter)
    return res.x, res.f, res.converged


def _parallel(fn: Any, jobs: list[tuple[Any, ...]], n_jobs: int | None, bar: Any) -> list[Any]:
    if n_jobs is None or n_jobs == 1 or len(jobs) <= 1:
        out = []
        for j in jobs:
            out.append(fn(*j))
            if bar is not None:
                bar.update(1)
        return out
    from joblib import Parallel, delayed

    out = []
    for r in Parallel(n_jobs=n_jobs, return_as="generator")(delayed(fn)(*j) for j in jobs):
        out.append(r)
        if bar is not None:
            bar.update(1)
    return out


def _grad_rel(objective: Objective, x: FloatArray, W: FloatArray) -> FloatArray:
    _, _, lo, hi = centring(objective)
    return projected_gradient(objective, x, W, lo, hi)[1]


def _solve_family(objective: Objective, W: FloatArray, grid: FloatArray, *, strategy: str, rng: np.random.Generator,
                  n_pilots: int, verify: int, max_starts: int, max_iter: int, n_jobs: int | None, bar: Any
                  ) -> tuple[FloatArray, FloatArray, np.ndarray, dict[str, Any]]:
    R = len(W)
    info: dict[str, Any] = {"n_problems": R, "n_points_union": int(W.shape[1])}
    if strategy == "grid":
        out = _parallel(_grid_one, [(objective, W[i], grid, max_iter) for i in range(R)], n_jobs, bar)
        x = np.array([o[0] for o in out])
        f = np.array([o[1] for o in out])
        conv = np.array([bool(o[2].converged) for o in out])
        # the engine's own test at each best start (same objective, same rows)
        info["grad_rel"] = [float(np.nanmin(o[2].starts_grad[o[2].starts_f == o[1]])) if o[2].starts_grad is not None
                            else math.nan for o in out]
        info.update(strategy="grid", verified=R, missed=0, escalations=0)
        return x, f, conv, info
    order = rng.permutation(R)
    pilots = order[:min(n_pilots, R)]
    rest = order[len(pilots):]
    pil = _parallel(_grid_one, [(objective, W[i], grid, max_iter) for i in pilots], n_jobs, bar)
    cands: list[FloatArray] = []
    for (xb, _fb, ms), i in zip(pil, pilots):
        cands.extend(distinct_optima(objective, xb, ms.starts_x, ms.starts_f, max_starts, weights=W[i],
                                     max_iter=max_iter))
    best = int(np.argmin([o[1] for o in pil]))
    cand = _dedupe(objective, np.array([pil[best][0]] + cands))
    verified: list[int] = [int(i) for i in pilots]
    literal = {int(i): (o[0], o[1]) for i, o in zip(pilots, pil)}
    escalations = 0
    missed_total = 0
    while True:
        blocks = [np.arange(s, min(s + BLOCK, R)) for s in range(0, R, BLOCK)]
        res = _parallel(_shared_block, [(objective, W[b], cand, max_iter) for b in blocks], n_jobs, bar)
        x = np.concatenate([r[0] for r in res])
        f = np.concatenate([r[1] for r in res])
        conv = np.concatenate([r[2] for r in res])
        # the pilots' own full-grid answers are known: keep the lower
        for i, (xl, fl) in literal.items():
            if fl < f[i]:
                x[i], f[i] = xl, fl
        pick = [int(i) for i in rest if int(i) not in literal][:verify]
        ver = _parallel(_grid_one, [(objective, W[i], grid, max_iter) for i in pick], n_jobs, bar)
        missed = []
        for i, (xv, fv, ms) in zip(pick, ver):
            literal[i] = (xv, fv)
            verified.append(i)
            if f[i] > fv + MISS_TOL * max(abs(fv), 1e-300):
                missed.append((i, ms))
            if fv < f[i]:
                x[i], f[i] = xv, fv
        missed_total += len(missed)
        if not missed:
            break
        escalations += 1
        if escalations > 2:  # give up the shortcut: every problem from the full grid
            info.update(strategy="shared -> grid (escalated)")
            xg, fg, cg, _ = _solve_family(objective, W, grid, strategy="grid", rng=rng, n_pilots=0, verify=0,
                                          max_starts=max_starts, max_iter=max_iter, n_jobs=n_jobs, bar=bar)
            info.update(verified=R, missed=missed_total, escalations=escalations, n_candidates=len(cand))
            return xg, fg, cg, info
        extra = []
        for i, ms in missed:
            extra.extend(distinct_optima(objective, literal[i][0], ms.starts_x, ms.starts_f, max_starts,
                                         weights=W[i], max_iter=max_iter))
        cand = _dedupe(objective, np.vstack([cand, np.array(extra)]))
        rest = np.array([i for i in rest if int(i) not in literal])
    # every answer gets the engine's Newton finish (as the single fit's best point does), then rows whose
    # answer fails the gradient test get the tight float64 polish (scipy L-BFGS-B)
    _, _, lo, hi = centring(objective)
    if objective.has_hessian:
        for i in range(R):
            xn, fn = newton_finish(objective, x[i], W[i], lo, hi)
            if fn < f[i]:
                x[i], f[i] = xn, fn
    g = _grad_rel(objective, x, W)
    n_pol = 0
    for i in np.flatnonzero(~(g <= GTOL)):
        def fun1(v: FloatArray, w: FloatArray = W[i]) -> tuple[float, FloatArray]:
            fv, gv = objective(v[None, :], w)
            return float(fv[0]), gv[0]

        xp, fp, _, ok, m = polish(fun1, x[i], lo, hi)
        xp, fp = newton_finish(objective, xp, W[i], lo, hi)
        n_pol += 1
        if np.isfinite(fp) and fp <= f[i]:
            x[i], f[i] = xp, fp
            conv[i] = ok or "ABNORMAL" in m.upper()
    info.update(n_polished=n_pol)
    info.update(strategy="shared", pilots=[int(i) for i in pilots], verified=len(verified),
                verified_problems=sorted(verified), missed=missed_total, escalations=escalations,
                n_candidates=int(len(cand)))
    return x, f, conv, info


def _dedupe(objective: Objective, pts: FloatArray, tol: float = 1e-5) -> FloatArray:
    law = objective.law
    k = objective.extra
    pl = pts[:, : pts.shape[1] - k] if k else pts
    with np.errstate(all="ignore"):
        P = np.log(law.evaluate(law.expand(pl), objective.X, grad=False)[0])
    keep: list[int] = []
    for i in range(len(pts)):
        if not np.all(np.isfinite(P[i])):
            continue
        if all(np.max(np.abs(P[i] - P[j])) > tol for j in keep):
            keep.append(i)
    return pts[keep]


# ------------------------------------------------------------------ results


def _result(p: _Problem, law: Law, x: FloatArray, f: float, converged: bool, grad_rel: float, opts: dict[str, Any],
            info: dict[str, Any], t_share: float) -> tuple[FitResult, list[tuple[type, str]]]:
    problem, table, data = build_problem(p.table, law, loss=opts["loss"], delta=opts["delta"], starts=opts["starts"],
                                         fixed=opts["fixed"], tied=opts["tied"], max_iter=opts["max_iter"])
    theta, nuis = problem.natural(x)
    law_obj = problem.law
    params = pd.Series(theta, index=list(law_obj.param_names), dtype=float)
    diags = diagnose(problem, x, theta, data)
    status = "converged" if converged and grad_rel <= GTOL else "not converged"
    if status != "converged":
        diags.append((ConvergenceWarning, f"Problem {p.key}: the float64 convergence test did not hold at its "
                      f"answer (relative projected gradient {grad_rel:.2g}, test <= {GTOL:g}); refit it alone with "
                      "scaling.fit to inspect its starts."))
    # the objective as the problem's own table defines it (order of summation of its own rows)
    f_own = float(problem.objective(np.asarray(x)[None, :], problem.weights, grad=False)[0][0])
    meta = dict(getattr(table, "meta", {}) or {})
    provenance: dict[str, Any] = {
        "package": "scaling", "version": __version__, "law": law_obj.spec(), "loss": problem.objective.loss,
        "delta": problem.objective.delta, "weights": None,
        "starts": {"kind": problem.start_kind, "n": int(len(problem.starts))},
        "optimizer": f"fit_many ({info.get('strategy')}): batched float64 L-BFGS from candidate starts "
                     "(distinct optima of full-grid fits), verified against full-grid fits of a random sample",
        "fit_many": {k: v for k, v in info.items() if k != "verified_problems"},
        "status": status, "grad_rel": float(grad_rel),
        "rng": opts["seed"], "data_hash": data_hash(data), "data_name": meta.get("name"),
        "data_source": str(meta.get("source")) if meta.get("source") is not None else None,
        "flops_per_token": meta.get("flops_per_token"), "n_params_convention": meta.get("n_params_convention"),
        "seconds": round(t_share, 6), "key": {k: (v if isinstance(v, (int, float, str)) else str(v))
                                              for k, v in p.key.items()},
    }
    excluded = getattr(table, "excluded", None)
    if p.excluded is not None and len(p.excluded):
        excluded = p.excluded if excluded is None or not len(excluded) else pd.concat([p.excluded, excluded])
    starts = pd.DataFrame({**{name: [float(theta[i])] for i, name in enumerate(law_obj.param_names)},
                           "objective": [f_own], "n_iter": [0], "status": [status], "stage": ["fit_many"],
                           "grad_rel": [float(grad_rel)]})
    conventions = getattr(table, "conventions", None)
    spec = FitSpec(law=law_obj.spec(), loss=problem.objective.loss, delta=problem.objective.delta,
                   starts=problem.start_kind if problem.start_kind in ("grid", "data grid")
                   else [list(map(float, row)) for row in problem.natural(problem.starts)[0]],
                   weights=None, max_iter=opts["max_iter"], data_hash=provenance["data_hash"],
                   conventions=conventions if isinstance(conventions, Conventions) else DEFAULT_CONVENTIONS)
    res = FitResult(law=law_obj, params=params, objective=f_own, loss=problem.objective.loss,
                    delta=problem.objective.delta, nuisance={k: float(v) for k, v in nuis.items()}, data=data,
                    excluded=excluded if isinstance(excluded, pd.DataFrame) else None, starts=starts,
                    flags=tuple(m for _, m in diags), provenance=provenance, spec=spec)
    if opts["uncertainty"] is not None:
        from .uncertainty import estimate_uncertainty

        with warnings.catch_warnings(record=True) as rec:
            warnings.simplefilter("always")
            res = estimate_uncertainty(problem, res, opts["uncertainty"], rng=opts["child_rng"], n_jobs=1)
        diags += [(w.category, str(w.message)) for w in rec if issubclass(w.category, Warning)]
    return res, diags


def _result_chunk(jobs: list[tuple[Any, ...]]) -> list[tuple[FitResult, list[tuple[type, str]]]]:
    return [_result(*j) for j in jobs]


def fit_many(tables: Any, by: Sequence[str] | str | None = None, law: str | Law = "chinchilla", *,
             metrics: Sequence[str] | None = None, loss: str | None = None, delta: float | None = None,
             starts: Any = "grid", fixed: Mapping[str, float] | None = None, tied: Mapping[str, str] | None = None,
             uncertainty: Any = None, strategy: str = "auto", verify: int = 4, pilots: int = 4,
             max_starts: int = 16, rng: int | np.random.Generator | None = 0, n_jobs: int | None = None,
             progress: bool = False, max_iter: int = 1000) -> FitCollection:
    """Fit one law to many independent problems at once.

    Parameters
    ----------
    tables : RunTable, DataFrame, or a list / dict of them
        One table (split into problems by ``by`` and ``metrics``) or several (each a problem; keys are
        the list index or the dict key, in the ``table`` key column).
    by : column name(s), optional
        One problem per distinct value (combination) of these columns.
    law, loss, delta, starts, fixed, tied, max_iter
        As in :func:`scaling.fit` (the same for every problem).
    metrics : list of column names, optional
        Fit each of these columns as the loss (one problem per metric; rows where a metric is missing
        or <= 0 are excluded from that problem, with the reason).
    uncertainty : optional
        As in :func:`scaling.fit` (``sc.Bootstrap(n)``, "sandwich", ...), estimated per problem.
    strategy : {"auto", "shared", "grid"}
        ``"grid"``: the full start grid for every problem (one at a time); ``"shared"``: candidates
        from full-grid pilots, verified on ``verify`` random problems with escalation (module
        docstring); ``"auto"``: "grid" for up to 8 problems per loss column, else "shared".
    verify, pilots, max_starts
        Problems verified against (and used as pilots for) full-grid fits; distinct optima kept per pilot.
    rng : seed or Generator
        Chooses pilots and verified problems, and seeds each problem's uncertainty. Results are the same
        for any ``n_jobs``.
    n_jobs : joblib workers (``-1``: all cores; any joblib backend, e.g. dask, through
        ``joblib.parallel_backend``).
    progress : a tqdm progress bar on stderr.

    Returns
    -------
    FitCollection

    Warns
    -----
    The diagnostics of :func:`scaling.fit` (one warning per kind, naming how many problems raised it);
    ConvergenceWarning where a problem's answer fails the float64 convergence test.
    """
    t0 = time.perf_counter()
    if strategy not in ("auto", "shared", "grid"):
        raise DataError(format_message("Option strategy", "of fit_many()", "'auto', 'shared' or 'grid'",
                                       repr(strategy)))
    probs = _problems(tables, by, metrics)
    law_obj = get_law(law)
    law_obj = law_obj.constrain(fixed=fixed, tied=tied) if (fixed or tied) else law_obj
    loss_ = law_obj.default_loss if loss is None else loss
    if loss_ not in LOSSES:
        raise DataError(format_message("Option loss", "of fit_many()", f"one of {list(LOSSES)}", repr(loss_)))
    delta_ = law_obj.default_delta if delta is None else float(delta)
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    seed = int(rng) if isinstance(rng, (int, np.integer)) else None
    fam_rng, unc_rng = gen.spawn(2)
    families: dict[str, list[int]] = {}
    for i, p in enumerate(probs):
        families.setdefault(_family_key(p), []).append(i)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=None, desc="fit_many", file=sys.stderr, unit="task")
    xs: dict[int, FloatArray] = {}
    fs: dict[int, float] = {}
    cs: dict[int, bool] = {}
    gr: dict[int, float] = {}
    infos: dict[str, Any] = {}
    for fam, idx in families.items():
        fam_probs = [probs[i] for i in idx]
        X, y, W = _union(fam_probs, law_obj.variables)
        for v, arr in X.items():
            if not np.all(np.isfinite(arr) & (arr > 0)):
                raise DataError(format_message(f"Column '{v}'", "of fit_many()'s problems", "finite and > 0",
                                               "a non-positive or missing value", "Filter the tables first."))
        objective = Objective(law_obj, loss_, delta_, X, y)
        grid, _kind = resolve_starts(law_obj, starts, X, y)
        if objective.extra:
            grid = np.column_stack([grid, sigma_start(objective, grid)])
        strat = strategy if strategy != "auto" else ("grid" if len(idx) <= 8 else "shared")
        frng = fam_rng.spawn(1)[0]
        x, f, conv, info = _solve_family(objective, W, grid, strategy=strat, rng=frng, n_pilots=pilots,
                                         verify=verify, max_starts=max_starts, max_iter=max_iter, n_jobs=n_jobs,
                                         bar=bar)
        g = np.asarray(info.pop("grad_rel")) if "grad_rel" in info else _grad_rel(objective, x, W)
        for j, i in enumerate(idx):
            xs[i], fs[i], cs[i], gr[i] = x[j], float(f[j]), bool(conv[j]), float(g[j])
        infos[fam] = info
    t_solve = time.perf_counter() - t0
    child = unc_rng.spawn(len(probs))
    results: list[FitResult] = []
    diag_all: dict[type, list[str]] = {}
    per = t_solve / max(len(probs), 1)
    jobs = []
    for i, p in enumerate(probs):
        opts = {"loss": loss_, "delta": delta_, "starts": starts, "fixed": fixed, "tied": tied, "max_iter": max_iter,
                "uncertainty": uncertainty, "seed": seed, "child_rng": child[i]}
        jobs.append((p, law_obj, xs[i], fs[i], cs[i], gr[i], opts, infos[_family_key(p)], per))
    # results (diagnostics, provenance, uncertainty) are built in fixed chunks, in parallel like the solve
    chunks = [jobs[j:j + RESULT_CHUNK] for j in range(0, len(jobs), RESULT_CHUNK)]
    for out in _parallel(_result_chunk, [(c,) for c in chunks], n_jobs, bar):
        for r, diags in out:
            results.append(r)
            for kind, msg in diags:
                diag_all.setdefault(kind, []).append(msg)
    if bar is not None:
        bar.close()
    for kind, msgs in diag_all.items():
        uniq = list(dict.fromkeys(msgs))
        warnings.warn(f"{len(msgs)} diagnostic(s) across {len(probs)} problems (see each result's flags), e.g.: "
                      + " | ".join(uniq[:2]) + (f" (+{len(uniq) - 2} other messages)" if len(uniq) > 2 else ""),
                      kind, stacklevel=2)
    keys = pd.DataFrame([p.key for p in probs]) if any(p.key for p in probs) else pd.DataFrame(index=range(len(probs)))
    info_all = {"families": infos, "seconds": round(time.perf_counter() - t0, 3), "seconds_solve": round(t_solve, 3),
                "n_problems": len(probs)}
    return FitCollection(keys=keys.reset_index(drop=True), results=tuple(results), info=info_all)
