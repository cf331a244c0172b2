r"""Compute-optimal allocation: the ``(N, D)`` that minimises a law's loss at a fixed training budget.

.. math:: N_{opt}(C), D_{opt}(C) = \operatorname{argmin}_{N, D:\ f(N) D = C} L(N, D)
   \qquad\text{(Hoffmann et al. 2022, eq. 1)}

* **Closed form** (Hoffmann et al. 2022, eq. 4, generalised from 6 to any ``k``) for the Chinchilla
  law under a linear FLOP model ``C = k N D``:
  ``N_opt = G (C/k)^a``, ``D_opt = G^{-1} (C/k)^b``, ``G = (alpha A / (beta B))^{1/(alpha+beta)}``,
  ``a = beta/(alpha+beta)``, ``b = alpha/(alpha+beta)``.
* **Numeric** for any other law of ``N`` and ``D`` (Kaplan's eq. 1.5, user laws) or FLOP model: the
  loss along the isoFLOP curve ``D = C / f(N)`` is minimised in ``log N``, vectorised over parameter
  samples x budgets (grid bracket, then Newton on the central-difference derivative; see
  :mod:`scaling.laws.optimum`). It agrees with the closed form to ~1e-9 relative.
* Both are :meth:`Law.optimum <scaling.laws.base.Law.optimum>`: the one route to the compute-optimal
  point, used here, by ``derived(res, "n_opt")``, the CLI and the demo.
* **Allocation laws** (Kaplan Table 6, DeepSeek, Llama 3, Porian): the published power law, see
  :class:`~scaling.predict.allocation_law.AllocationLaw`.

Intervals are percentile intervals of the same quantity evaluated over the source's parameter
samples (bootstrap / MCMC draws), computed as one ``(samples x budgets)`` array operation; the point
value is computed from the point estimate, never from the samples.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..errors import BoundaryWarning, DataError, format_message
from ..extrapolation import check_extrapolation
from ..laws.base import Law
from ..laws.chinchilla import allocation_constants
from ..laws.optimum import DEFAULT_RATIO_BOUNDS
from ..laws.optimum import evaluate_rows as law_eval
from ._source import Source, resolve
from .flops import FlopsModel, as_flops_model
from .queries import as_query, check_level, check_method, check_ratio_bounds
from .result import Allocation

__all__ = ["compute_optimal", "data_constrained_optimal", "chinchilla_constants"]

FloatArray = NDArray[np.float64]
Method = Literal["auto", "closed-form", "numeric"]

_CHUNK_ELEMENTS = 2_000_000


# --------------------------------------------------------------------------- law helpers
def chinchilla_constants(theta: FloatArray) -> dict[str, FloatArray]:
    """``E, A, B, alpha, beta`` columns ``(S, 1)`` and the eq. 4 constants ``G, a, b``
    (:func:`scaling.laws.chinchilla.allocation_constants`)."""
    return allocation_constants(theta)


def over_rows(run: Callable[[FloatArray], dict[str, FloatArray]], rows: FloatArray, width: int
              ) -> dict[str, FloatArray]:
    """``run`` on chunks of parameter rows (bounded memory), concatenated along axis 0."""
    S = rows.shape[0]
    size = max(1, _CHUNK_ELEMENTS // max(1, width))
    if S <= size:
        return run(rows)
    parts = [run(rows[i:i + size]) for i in range(0, S, size)]
    return {k: np.concatenate([p[k] for p in parts], axis=0) for k in parts[0]}


def summarise(point: Mapping[str, FloatArray], samples: Mapping[str, FloatArray] | None, level: float,
              names: Sequence[str]) -> tuple[dict[str, tuple[FloatArray, FloatArray]] | None, list[str]]:
    """Percentile intervals over samples for ``names``; notes about samples without a value."""
    if samples is None:
        return None, []
    q = [(1.0 - level) / 2.0, (1.0 + level) / 2.0]
    out: dict[str, tuple[FloatArray, FloatArray]] = {}
    notes: list[str] = []
    S = None
    for name in names:
        if name not in samples or samples[name] is None:
            continue
        arr = samples[name]
        S = arr.shape[0]
        finite = np.isfinite(arr)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns -> NaN interval
            lohi = np.nanquantile(arr, q, axis=0) if not finite.all() else np.quantile(arr, q, axis=0)
        out[name] = (lohi[0], lohi[1])
        if name == "n_params":
            n_bad = int((~finite).any(axis=1).sum()) if arr.ndim == 2 else int((~finite).sum())
            if n_bad:
                notes.append(f"{n_bad} of {S} parameter samples have no solution for some query points; "
                             "intervals use the others")
    return out, notes


def point_nan_warning(bad: FloatArray, what: str, hint: str) -> None:
    bad = np.asarray(bad, dtype=bool).reshape(-1)
    if bad.any():
        idx = np.flatnonzero(bad)
        warnings.warn(f"{what} for {len(idx)} of {bad.size} query points (positions {', '.join(map(str, idx[:5]))}"
                      f"{', ...' if len(idx) > 5 else ''}); returning NaN there. {hint}", BoundaryWarning, stacklevel=3)


# --------------------------------------------------------------------------- numeric isoFLOP minimum
def _flat_optimum(law: Law, theta: FloatArray, C: FloatArray, fm: FlopsModel, extra: Mapping[str, FloatArray],
                  N: FloatArray) -> FloatArray:
    """Point estimate only: budgets where the loss is constant (to rounding) for N in [N/1.05, 1.05 N]."""
    Ns = N[0][:, None] * np.array([1 / 1.05, 1.0, 1.05])
    variables = {"n_params": Ns[None], "n_tokens": fm.n_tokens(C[:, None], Ns)[None],
                 **{k: np.asarray(v, dtype=float)[None, :, None] for k, v in extra.items()}}
    with np.errstate(all="ignore"):
        L = law_eval(law, theta, variables)[0]
    tol = 1e-13 * np.abs(L[:, 1])
    return np.isfinite(N[0]) & (np.abs(L[:, 0] - L[:, 1]) <= tol) & (np.abs(L[:, 2] - L[:, 1]) <= tol)


def choose_method(src: Source, fm: FlopsModel, method: str, where: str) -> str:
    law = src.law
    closed_ok = law is not None and law.has_closed_form_optimum(fm)
    if method == "closed-form" and not closed_ok:
        has_one = law is not None and law.has_closed_form_optimum(as_flops_model(6.0))
        why = ("the law has no closed-form optimum" if not has_one
               else f"the FLOP model ({fm.name}) is not linear")
        raise DataError(format_message("Argument method", f"of {where}", "'auto' or 'numeric' here", "'closed-form'",
                                       f"Hoffmann eq. 4 needs the Chinchilla law and C = kND, but {why}."))
    return "closed-form" if (closed_ok and method != "numeric") else "numeric"


def require_nd_law(src: Source, where: str, extra_ok: Sequence[str] = ()) -> Law:
    law = src.law
    if law is None or not src.has_nd_law:
        raise DataError(format_message("The law", f"of {src.label} ({where})",
                                       "a law of n_params and n_tokens", "no such law" if law is None else
                                       f"a law of {list(law.variables)}",
                                       "Use a Chinchilla-type fit or published law."))
    other = [v for v in law.variables if v not in ("n_params", "n_tokens") and v not in extra_ok]
    if other:
        hint = ("Use data_constrained_optimal(..., unique_tokens=...)." if "n_unique_tokens" in other
                else "This query fixes only N and D.")
        raise DataError(format_message("The law", f"'{law.name}' of {src.label} ({where})",
                                       "a function of n_params and n_tokens only", f"it also reads {other}", hint))
    return law


def _method_text(method: str, fm: FlopsModel) -> str:
    if method == "closed-form":
        return f"closed form (Hoffmann et al. 2022, eq. 4 with C = {fm.coefficient:g}*N*D)"
    return "numeric minimisation of the loss along the isoFLOP curve D = C/f(N), in log N"


# --------------------------------------------------------------------------- public API
def compute_optimal(fit_or_law: Any, flops: ArrayLike, *, level: float = 0.95,
                    flops_model: FlopsModel | float | str | Callable[[Any], Any] | None = None,
                    method: Method = "auto",
                    tokens_per_param_bounds: tuple[float, float] = DEFAULT_RATIO_BOUNDS) -> Allocation:
    r"""Compute-optimal model size and data for one budget or an array of budgets.

    Solves Hoffmann et al. 2022 eq. 1, ``argmin L(N, D)`` subject to ``f(N) D = C``.

    Parameters
    ----------
    fit_or_law
        A fit result (``.law``, ``.params``, ``.samples``), a ``(law, params)`` pair,
        ``"published:NAME"`` (see :func:`~scaling.predict.list_published`), a
        :class:`~scaling.predict.PublishedLaw` or an :class:`~scaling.predict.AllocationLaw`.
    flops : float or array_like
        Training budget(s) ``C`` in FLOPs.
    level : float
        Level of the percentile intervals over the source's parameter samples (when it has any).
    flops_model : FlopsModel, number, callable or str, optional
        The compute rule ``C = f(N) D`` (:mod:`scaling.predict.flops`); default ``C = 6ND`` (a published
        entry's own rule for published sources). A number ``k`` means ``C = kND``.
    method : {"auto", "closed-form", "numeric"}
        ``"auto"`` uses Hoffmann's eq. 4 when it applies (Chinchilla law, linear FLOPs), else the
        numeric minimisation; ``"numeric"`` forces the latter. It agrees with eq. 4 to ~1e-9 relative
        while the reducible loss exceeds ~0.1% of the loss; in flatter regimes the rounding of the loss
        itself limits the location of its minimum (to ~1e-6 at a reducible part of 1e-7).
    tokens_per_param_bounds : (float, float)
        Search range of the numeric path as ``D/N`` (default ``(1e-4, 1e8)``). An optimum on its edge
        is reported as NaN with a :class:`~scaling.errors.BoundaryWarning`.

    Returns
    -------
    Allocation
        ``flops``, ``n_params``, ``n_tokens``, ``tokens_per_param``, ``loss`` (``None`` for allocation
        laws without a loss model), with intervals when the source has samples. Every allocation
        satisfies ``f(N) D == C`` to rounding.

    Examples
    --------
    >>> from scaling.predict import compute_optimal
    >>> a = compute_optimal("published:hoffmann2022-unrounded", flops=5.76e23)   # doctest: +SKIP
    >>> round(a.n_params / 1e10, 2), round(a.n_tokens / 1e12, 2)                 # doctest: +SKIP
    (4.04, 2.38)
    """
    where = "compute_optimal()"
    src = resolve(fit_or_law, where)
    C, scalar = as_query(flops, "flops", where)
    level = check_level(level, where)
    check_method(method, where)
    bounds = check_ratio_bounds(tokens_per_param_bounds, where)
    fm = src.flops_model if flops_model is None else as_flops_model(flops_model)
    notes = list(src.notes)

    if not src.has_nd_law:
        if src.allocation is None:
            require_nd_law(src, where)
        return _allocation_law_optimum(src, C, scalar, fm, notes)

    law = require_nd_law(src, where)
    meth = choose_method(src, fm, method, where)
    alloc = _solve(src, law, C, scalar, fm, meth, bounds, level, notes, extra={}, query="compute-optimal")
    warned = check_extrapolation(fit_or_law, flops=C, n_params=alloc.n_params, n_tokens=alloc.n_tokens,
                                 where=f"compute_optimal() at {len(C)} budget{'s' if len(C) > 1 else ''}")
    return alloc if warned is None else alloc.with_note(f"extrapolation: {warned}")


def _solve(src: Source, law: Law, C: FloatArray, scalar: bool, fm: FlopsModel, meth: str,
           bounds: tuple[float, float], level: float, notes: list[str], extra: Mapping[str, FloatArray],
           query: str) -> Allocation:
    def run(theta: FloatArray) -> dict[str, FloatArray]:
        opt = law.optimum(theta, C, fm, method=meth, extra=extra or None, ratio_bounds=bounds)
        N, D, edge = opt.n_params, opt.n_tokens, opt.edge
        variables = {"n_params": N, "n_tokens": D, **{k: np.asarray(v, dtype=float)[None, :] for k, v in extra.items()}}
        loss = law_eval(law, theta, variables)
        return {"n_params": N, "n_tokens": D, "loss": loss, "edge": edge.astype(float)}

    point = run(src.rows())
    if point["edge"].any():
        point_nan_warning(point["edge"][0] > 0, "No interior compute-optimal point",
                          f"The loss keeps falling towards an edge of D/N in {bounds}: the law may have no "
                          "optimum along C = f(N)D (check its exponents), or widen tokens_per_param_bounds.")
    if meth == "numeric":
        flat = _flat_optimum(law, src.rows(), C, fm, extra, point["n_params"])
        if flat.any():
            notes.append(f"the loss is flat along the isoFLOP curve around the optimum at {int(flat.sum())} of "
                         f"{flat.size} budgets (within rounding over a factor 1.1 in N): the optimal N is not unique "
                         "there (e.g. repeated data past saturation)")
    samp = None
    if src.samples is not None:
        samp = over_rows(run, src.samples, C.size * 40)
    values = {"flops": C, "n_params": point["n_params"][0], "n_tokens": point["n_tokens"][0],
              "tokens_per_param": point["n_tokens"][0] / point["n_params"][0], "loss": point["loss"][0]}
    sampled = None
    if samp is not None:
        sampled = {"n_params": samp["n_params"], "n_tokens": samp["n_tokens"],
                   "tokens_per_param": samp["n_tokens"] / samp["n_params"], "loss": samp["loss"]}
    for k, v in extra.items():
        values[k] = np.asarray(v, dtype=float)
    if "n_unique_tokens" in extra:
        values["epochs"] = values["n_tokens"] / values["n_unique_tokens"]
        if sampled is not None:
            sampled["epochs"] = sampled["n_tokens"] / np.asarray(extra["n_unique_tokens"])[None, :]
    intervals, more = summarise(values, sampled, level, list(values))
    if src.samples is None:
        notes.append("no parameter samples: no intervals (fit with uncertainty=... to get them)")
    return Allocation.build(query=query, source=src.label, method=_method_text(meth, fm), flops_model=fm.name,
                            scalar=scalar, values=values, intervals=intervals, level=level,
                            n_samples=None if src.samples is None else int(src.samples.shape[0]),
                            notes=notes + more)


def _allocation_law_optimum(src: Source, C: FloatArray, scalar: bool, fm: FlopsModel, notes: list[str]) -> Allocation:
    al = src.allocation
    assert al is not None
    N, D = al.allocate(C, fm)
    loss = al.predict_loss(C)
    if loss is None:
        notes.append("loss not available: this allocation law has no loss model")
    notes.append("no parameter samples: no intervals")
    values = {"flops": C, "n_params": N, "n_tokens": D, "tokens_per_param": D / N, "loss": loss}
    return Allocation.build(query="compute-optimal", source=src.label,
                            method=f"allocation law: {al.describe()}", flops_model=fm.name,
                            scalar=scalar, values=values, notes=notes)


def data_constrained_optimal(fit_or_law: Any, flops: ArrayLike, unique_tokens: ArrayLike, *, level: float = 0.95,
                             flops_model: FlopsModel | float | str | Callable[[Any], Any] | None = None,
                             tokens_per_param_bounds: tuple[float, float] = DEFAULT_RATIO_BOUNDS) -> Allocation:
    r"""Compute-optimal ``N``, ``D`` and epochs with only ``U`` unique tokens (Muennighoff et al. 2023).

    Minimises the data-constrained law ``L(N, D, U)`` (``get_law("datablations")``; REFERENCE §4)
    along ``f(N) D = C`` numerically (the authors use a grid search; no closed form exists).

    Parameters
    ----------
    fit_or_law
        A source whose law reads ``n_params``, ``n_tokens`` and ``n_unique_tokens``, e.g.
        ``"published:muennighoff2023"``.
    flops, unique_tokens : float or array_like
        Budget(s) ``C`` (FLOPs) and unique-token pool(s) ``U``; broadcast together.

    Returns
    -------
    Allocation
        With extra columns ``n_unique_tokens`` and ``epochs = D / U``.

    Examples
    --------
    >>> a = data_constrained_optimal("published:muennighoff2023", 1e22, 25e9)   # doctest: +SKIP
    >>> round(a.n_params / 1e9, 2), round(a.get("epochs"), 2)                    # doctest: +SKIP
    (7.03, 9.49)
    """
    where = "data_constrained_optimal()"
    src = resolve(fit_or_law, where)
    C, s1 = as_query(flops, "flops", where)
    U, s2 = as_query(unique_tokens, "unique_tokens", where)
    try:
        C, U = np.broadcast_arrays(C, U)
    except ValueError as exc:
        raise DataError(format_message("Arguments flops and unique_tokens", f"of {where}", "broadcastable",
                                       f"lengths {C.size} and {U.size}")) from exc
    C, U = C.copy(), U.copy()
    level = check_level(level, where)
    bounds = check_ratio_bounds(tokens_per_param_bounds, where)
    fm = src.flops_model if flops_model is None else as_flops_model(flops_model)
    law = require_nd_law(src, where, extra_ok=("n_unique_tokens",))
    if "n_unique_tokens" not in law.variables:
        raise DataError(format_message("The law", f"'{law.name}' of {src.label} ({where})",
                                       "a data-constrained law reading n_unique_tokens",
                                       f"a law of {list(law.variables)}",
                                       "Use 'published:muennighoff2023' or a datablations fit; for an unconstrained "
                                       "law use compute_optimal()."))
    return _solve(src, law, C, s1 and s2, fm, "numeric", bounds, level, list(src.notes),
                  extra={"n_unique_tokens": U}, query="compute-optimal with limited unique data")
