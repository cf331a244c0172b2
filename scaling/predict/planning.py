r"""Planning queries on a fitted or published law, each with percentile intervals over samples.

========================================  =============================================================
function                                  question
========================================  =============================================================
:func:`predict_loss`                      loss of a model of ``N`` parameters trained on ``D`` tokens
:func:`optimal_for_params`                the budget at which ``N`` is compute-optimal, and its ``D``
:func:`optimal_for_tokens`                the budget at which ``D`` tokens are compute-optimal, and its ``N``
:func:`compute_for_loss`                  the compute needed to reach a target loss (compute-optimal path)
:func:`allocation_table`                  Hoffmann Table 3 for a list of model sizes
:func:`inference_optimal`                 Sardana et al. 2024: minimise training + inference FLOPs at a
                                          reference model's loss
========================================  =============================================================

All return an :class:`~scaling.predict.result.Allocation` (``allocation_table`` a DataFrame).

For the Chinchilla law under ``C = k N D`` the answers are closed forms of Hoffmann et al. 2022
eq. 4: ``N`` is optimal at ``C = k (N/G)^(1/a)``; ``D`` at ``C = k (D G)^(1/b)``; along the optimal
path ``L*(C) = E + (A G^-alpha + B G^beta) (C/k)^(-alpha beta/(alpha+beta))``, which inverts in
closed form. For other laws or FLOP models they are solved numerically from the stationarity
condition of the isoFLOP problem, ``dL/dlog N - eps(N) dL/dlog D = 0`` with
``eps = dlog f/dlog N`` (1 for ``C = kND``), vectorised over samples x queries.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from ..errors import DataError, format_message
from ..laws.base import Law
from .. import numeric as _numeric
from ._source import Source, resolve
from .allocate import (DEFAULT_RATIO_BOUNDS, Method, choose_method, require_nd_law, as_query, check_level,
                       check_method, check_ratio_bounds, chinchilla_constants, law_eval,
                       over_rows, point_nan_warning, summarise)
from .flops import FlopsModel, as_flops_model
from .result import Allocation

__all__ = ["predict_loss", "optimal_for_params", "optimal_for_tokens", "compute_for_loss", "allocation_table",
           "inference_optimal", "HOFFMANN_TABLE3_SIZES", "GOPHER_FLOPS"]

FloatArray = NDArray[np.float64]

#: The model sizes of Hoffmann et al. 2022, Table 3.
HOFFMANN_TABLE3_SIZES: tuple[float, ...] = (400e6, 1e9, 10e9, 67e9, 175e9, 280e9, 520e9, 1e12, 10e12)
#: Gopher's training budget (Hoffmann et al. 2022, Table 3's "Gopher unit"), 6ND.
GOPHER_FLOPS: float = 5.76e23

_N_RANGE = (1e2, 1e18)  # parameters searched by compute_for_loss on the numeric path
_C_RANGE = (1e6, 1e40)  # FLOPs searched when inverting allocation laws
_H = 5e-3  # five-point finite-difference step in log N / log D for the stationarity condition

FlopsArg = FlopsModel | float | str | Callable[[Any], Any] | None


# --------------------------------------------------------------------------- shared pieces
def _setup(fit_or_law: Any, where: str, level: float, flops_model: FlopsArg) -> tuple[Source, float, FlopsModel]:
    src = resolve(fit_or_law, where)
    level = check_level(level, where)
    fm = src.flops_model if flops_model is None else as_flops_model(flops_model)
    return src, level, fm


def _stationarity(law: Law, theta: FloatArray, N: FloatArray, D: FloatArray, fm: FlopsModel) -> FloatArray:
    """``dL/dlog N - eps(N) dL/dlog D`` (zero where N, D is an isoFLOP optimum); any trailing shape."""
    N, D = np.broadcast_arrays(N, D)
    one = np.ones(4)
    steps = np.exp(np.array([-2.0, -1.0, 1.0, 2.0]) * _H)
    N8 = np.concatenate([N[..., None] * steps, N[..., None] * one], axis=-1)
    D8 = np.concatenate([D[..., None] * one, D[..., None] * steps], axis=-1)
    L = law_eval(law, theta, {"n_params": N8, "n_tokens": D8})

    def five_point(f: FloatArray) -> FloatArray:  # O(h^4) first derivative from f(x-2h), f(x-h), f(x+h), f(x+2h)
        return (8.0 * (f[..., 2] - f[..., 1]) - (f[..., 3] - f[..., 0])) / (12.0 * _H)

    return five_point(L[..., :4]) - fm.elasticity(N) * five_point(L[..., 4:])


def _tokens_for_params(law: Law, theta: FloatArray, N: FloatArray, fm: FlopsModel, meth: str,
                       bounds: tuple[float, float]) -> FloatArray:
    """``D`` (S, B) such that ``N`` (B,) is the isoFLOP optimum at ``C = f(N) D``."""
    S = theta.shape[0]
    if meth == "closed-form":
        k = fm.coefficient
        assert k is not None
        c = chinchilla_constants(theta)
        with np.errstate(all="ignore"):
            C = k * (N[None, :] / c["G"]) ** (1.0 / c["a"])
            return C / (k * N[None, :])
    Nb = N[None, :, None]
    lo = np.broadcast_to(np.log(N * bounds[0])[None, :], (S, N.size))
    hi = np.broadcast_to(np.log(N * bounds[1])[None, :], (S, N.size))
    y = _numeric.root(lambda y: _stationarity(law, theta, Nb, np.exp(y), fm), lo, hi)
    return np.exp(y)


def _params_for_tokens(law: Law, theta: FloatArray, D: FloatArray, fm: FlopsModel, meth: str,
                       bounds: tuple[float, float]) -> FloatArray:
    """``N`` (S, B) that is the isoFLOP optimum when ``D`` (B,) tokens are optimal."""
    S = theta.shape[0]
    if meth == "closed-form":
        k = fm.coefficient
        assert k is not None
        c = chinchilla_constants(theta)
        with np.errstate(all="ignore"):
            C = k * (D[None, :] * c["G"]) ** (1.0 / c["b"])
            return C / (k * D[None, :])
    Db = D[None, :, None]
    lo = np.broadcast_to(np.log(D / bounds[1])[None, :], (S, D.size))
    hi = np.broadcast_to(np.log(D / bounds[0])[None, :], (S, D.size))
    x = _numeric.root(lambda x: _stationarity(law, theta, np.exp(x), Db, fm), lo, hi)
    return np.exp(x)


def _finish(src: Source, query: str, method: str, fm: FlopsModel, scalar: bool, level: float,
            point: dict[str, FloatArray], samples: dict[str, FloatArray] | None, notes: list[str],
            order: Sequence[str], fixed: Sequence[str] = ()) -> Allocation:
    """Assemble the result; ``fixed`` columns are inputs of the query (no interval)."""
    values = {k: point[k][0] if np.ndim(point[k]) == 2 else point[k] for k in order if k in point}
    sampled = None if samples is None else {k: samples[k] for k in order if k in samples and k not in fixed}
    intervals, more = summarise(values, sampled, level, list(values))
    if src.samples is None:
        notes = notes + ["no parameter samples: no intervals"]
    return Allocation.build(query=query, source=src.label, method=method, flops_model=fm.name, scalar=scalar,
                            values=values, intervals=intervals, level=level,
                            n_samples=None if src.samples is None else int(src.samples.shape[0]),
                            notes=list(src.notes) + notes + more)


def _run(src: Source, run: Callable[[FloatArray], dict[str, FloatArray]], width: int
         ) -> tuple[dict[str, FloatArray], dict[str, FloatArray] | None]:
    point = run(src.rows())
    samples = None if src.samples is None else over_rows(run, src.samples, width)
    return point, samples


def _derived(N: FloatArray, D: FloatArray, C: FloatArray, loss: FloatArray | None) -> dict[str, FloatArray]:
    out = {"flops": C, "n_params": N, "n_tokens": D, "tokens_per_param": D / N}
    if loss is not None:
        out["loss"] = loss
    return out


_ORDER = ("flops", "n_params", "n_tokens", "tokens_per_param", "loss")


def _method_text(meth: str, what: str) -> str:
    if meth == "closed-form":
        return f"closed form (Hoffmann et al. 2022, eq. 4): {what}"
    return "numeric: root of the isoFLOP stationarity condition dL/dlogN = eps(N) dL/dlogD"


def _alloc_invert(src: Source, target: FloatArray, fm: FlopsModel, which: str
                  ) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Allocation law: the budget at which N_opt (which='n') or D_opt (which='d') equals ``target``."""
    al = src.allocation
    assert al is not None
    lo = np.full((1, target.size), np.log(_C_RANGE[0]))
    hi = np.full((1, target.size), np.log(_C_RANGE[1]))
    idx = 0 if which == "n" else 1

    def fun(lc: FloatArray) -> FloatArray:
        return np.log(al.allocate(np.exp(lc), fm)[idx]) - np.log(target)[None, :, None]

    lc = _numeric.root(fun, lo, hi, n_grid=64)[0]
    C = np.exp(lc)
    N, D = al.allocate(C, fm)
    return C, N, D


def _alloc_result(src: Source, query: str, C: FloatArray, N: FloatArray, D: FloatArray, fm: FlopsModel,
                  scalar: bool, level: float) -> Allocation:
    al = src.allocation
    assert al is not None
    loss = al.predict_loss(C)
    notes = [] if loss is not None else ["loss not available: this allocation law has no loss model"]
    point = _derived(N, D, C, loss)
    return _finish(src, query, f"allocation law: {al.describe()}", fm, scalar, level,
                   {k: np.asarray(v)[None, :] for k, v in point.items()}, None, notes, _ORDER)


# --------------------------------------------------------------------------- queries
def predict_loss(fit_or_law: Any, n_params: ArrayLike, n_tokens: ArrayLike, *, n_unique_tokens: ArrayLike | None = None,
                 level: float = 0.95, flops_model: FlopsArg = None) -> Allocation:
    """Loss of a model of ``N`` parameters trained on ``D`` tokens, with an interval over samples.

    ``n_params``, ``n_tokens`` (and ``n_unique_tokens`` for a data-constrained law) broadcast
    together. The result's ``flops`` is ``f(N) D`` under ``flops_model`` (default ``C = 6ND``).
    """
    where = "predict_loss()"
    src, level, fm = _setup(fit_or_law, where, level, flops_model)
    law = require_nd_law(src, where, extra_ok=("n_unique_tokens",))
    N, s1 = as_query(n_params, "n_params", where)
    D, s2 = as_query(n_tokens, "n_tokens", where)
    extra: dict[str, FloatArray] = {}
    scalar = s1 and s2
    arrays = [N, D]
    if "n_unique_tokens" in law.variables:
        if n_unique_tokens is None:
            raise DataError(format_message("Argument n_unique_tokens", f"of {where}",
                                           f"given for the data-constrained law '{law.name}'", "None",
                                           "Pass the number of unique tokens available."))
        U, s3 = as_query(n_unique_tokens, "n_unique_tokens", where)
        arrays.append(U)
        scalar = scalar and s3
    elif n_unique_tokens is not None:
        raise DataError(format_message("Argument n_unique_tokens", f"of {where}", "None for this law",
                                       "a value", f"Law '{law.name}' does not read n_unique_tokens."))
    try:
        arrays = [a.copy() for a in np.broadcast_arrays(*arrays)]
    except ValueError as exc:
        raise DataError(format_message("Arguments n_params, n_tokens", f"of {where}", "broadcastable",
                                       f"lengths {[a.size for a in arrays]}")) from exc
    N, D = arrays[0], arrays[1]
    if len(arrays) == 3:
        extra["n_unique_tokens"] = arrays[2]

    def run(theta: FloatArray) -> dict[str, FloatArray]:
        variables = {"n_params": N[None, :], "n_tokens": D[None, :], **{k: v[None, :] for k, v in extra.items()}}
        return {"loss": law_eval(law, theta, variables)}

    point, samples = _run(src, run, N.size)
    C = fm.flops(N, D)
    p = {**{k: v[None, :] for k, v in _derived(N, D, C, None).items()}, "loss": point["loss"]}
    order = list(_ORDER)
    if extra:
        p["n_unique_tokens"] = extra["n_unique_tokens"][None, :]
        p["epochs"] = (D / extra["n_unique_tokens"])[None, :]
        order += ["n_unique_tokens", "epochs"]
    return _finish(src, "loss at given (N, D)", f"law {law.name}: {law.formula}", fm, scalar, level, p,
                   samples, [], order)


def optimal_for_params(fit_or_law: Any, n_params: ArrayLike, *, level: float = 0.95, flops_model: FlopsArg = None,
                       method: Method = "auto",
                       tokens_per_param_bounds: tuple[float, float] = DEFAULT_RATIO_BOUNDS) -> Allocation:
    """The budget at which a model of ``N`` parameters is compute-optimal, and its tokens ``D``.

    Chinchilla under ``C = kND``: ``C = k (N/G)^(1/a)`` (Hoffmann eq. 4 inverted), ``D = C/(kN)``.
    Allocation laws are inverted numerically (``N_opt(C) = N``).
    """
    where = "optimal_for_params()"
    src, level, fm = _setup(fit_or_law, where, level, flops_model)
    N, scalar = as_query(n_params, "n_params", where)
    check_method(method, where)
    bounds = check_ratio_bounds(tokens_per_param_bounds, where)
    if not src.has_nd_law and src.allocation is not None:
        C, Na, Da = _alloc_invert(src, N, fm, "n")
        return _alloc_result(src, "compute-optimal for given N", C, Na, Da, fm, scalar, level)
    law = require_nd_law(src, where)
    meth = choose_method(src, fm, method, where)

    def run(theta: FloatArray) -> dict[str, FloatArray]:
        D = _tokens_for_params(law, theta, N, fm, meth, bounds)
        Nb = np.broadcast_to(N[None, :], D.shape)
        return _derived(Nb, D, fm.flops(Nb, D), law_eval(law, theta, {"n_params": Nb, "n_tokens": D}))

    point, samples = _run(src, run, N.size * 128)
    point_nan_warning(~np.isfinite(point["n_tokens"][0]), "No data size makes N compute-optimal",
                      f"No root of the isoFLOP condition with D/N in {bounds}; widen tokens_per_param_bounds.")
    return _finish(src, "compute-optimal for given N", _method_text(meth, "C = k (N/G)^(1/a)"), fm, scalar, level,
                   point, samples, [], _ORDER, fixed=("n_params",))


def optimal_for_tokens(fit_or_law: Any, n_tokens: ArrayLike, *, level: float = 0.95, flops_model: FlopsArg = None,
                       method: Method = "auto",
                       tokens_per_param_bounds: tuple[float, float] = DEFAULT_RATIO_BOUNDS) -> Allocation:
    """The budget at which training on ``D`` tokens is compute-optimal, and the optimal size ``N``.

    Chinchilla under ``C = kND``: ``C = k (D G)^(1/b)``, ``N = C/(kD)``.
    """
    where = "optimal_for_tokens()"
    src, level, fm = _setup(fit_or_law, where, level, flops_model)
    D, scalar = as_query(n_tokens, "n_tokens", where)
    check_method(method, where)
    bounds = check_ratio_bounds(tokens_per_param_bounds, where)
    if not src.has_nd_law and src.allocation is not None:
        C, Na, Da = _alloc_invert(src, D, fm, "d")
        return _alloc_result(src, "compute-optimal for given D", C, Na, Da, fm, scalar, level)
    law = require_nd_law(src, where)
    meth = choose_method(src, fm, method, where)

    def run(theta: FloatArray) -> dict[str, FloatArray]:
        N = _params_for_tokens(law, theta, D, fm, meth, bounds)
        Db = np.broadcast_to(D[None, :], N.shape)
        return _derived(N, Db, fm.flops(N, Db), law_eval(law, theta, {"n_params": N, "n_tokens": Db}))

    point, samples = _run(src, run, D.size * 128)
    point_nan_warning(~np.isfinite(point["n_params"][0]), "No model size makes D compute-optimal",
                      f"No root of the isoFLOP condition with D/N in {bounds}; widen tokens_per_param_bounds.")
    return _finish(src, "compute-optimal for given D", _method_text(meth, "C = k (D G)^(1/b)"), fm, scalar, level,
                   point, samples, [], _ORDER, fixed=("n_tokens",))


def compute_for_loss(fit_or_law: Any, loss: ArrayLike, *, level: float = 0.95, flops_model: FlopsArg = None,
                     method: Method = "auto",
                     tokens_per_param_bounds: tuple[float, float] = DEFAULT_RATIO_BOUNDS) -> Allocation:
    r"""The training compute needed to reach a target loss, training compute-optimally.

    Chinchilla under ``C = kND``: the loss along the optimal path is
    ``L*(C) = E + K (C/k)^(-gamma)`` with ``K = A G^-alpha + B G^beta`` and
    ``gamma = alpha beta/(alpha + beta)``, so ``C = k ((L - E)/K)^(-1/gamma)``. A target at or below the
    irreducible loss ``E`` is unreachable (NaN, with a warning). Numeric path: root of
    ``L(N, D*(N)) = target`` over ``N`` in [1e2, 1e18].
    """
    where = "compute_for_loss()"
    src, level, fm = _setup(fit_or_law, where, level, flops_model)
    ell, scalar = as_query(loss, "loss", where)
    check_method(method, where)
    bounds = check_ratio_bounds(tokens_per_param_bounds, where)
    if not src.has_nd_law and src.allocation is not None:
        al = src.allocation
        if al.loss is None:
            raise DataError(format_message("The source", f"{src.label} of {where}", "a law with a loss model",
                                           "an allocation law without a loss",
                                           "Only Kaplan's L(C_min) (published:kaplan2020) and loss laws give losses."))
        with np.errstate(all="ignore"):
            C = al.loss.inverse(ell)
        N, D = al.allocate(C, fm)
        return _alloc_result(src, "compute to reach a target loss", C, N, D, fm, scalar, level)
    law = require_nd_law(src, where)
    meth = choose_method(src, fm, method, where)

    def run(theta: FloatArray) -> dict[str, FloatArray]:
        if meth == "closed-form":
            k = fm.coefficient
            assert k is not None
            c = chinchilla_constants(theta)
            K = c["A"] * c["G"] ** (-c["alpha"]) + c["B"] * c["G"] ** c["beta"]
            gamma = c["alpha"] * c["beta"] / (c["alpha"] + c["beta"])
            with np.errstate(all="ignore"):
                excess = ell[None, :] - c["E"]
                C = np.where(excess > 0, k * (np.where(excess > 0, excess, 1.0) / K) ** (-1.0 / gamma), np.nan)
            with np.errstate(all="ignore"):
                N = c["G"] * (C / k) ** c["a"]
                D = C / (k * N)
        else:
            S = theta.shape[0]

            def gap(x: FloatArray) -> FloatArray:
                Nx = np.exp(x)
                Dx = _tokens_along(law, theta, Nx, fm, bounds)
                return law_eval(law, theta, {"n_params": Nx, "n_tokens": Dx}) - ell[None, :, None]

            lo = np.full((S, ell.size), np.log(_N_RANGE[0]))
            hi = np.full((S, ell.size), np.log(_N_RANGE[1]))
            # the loss along the optimal path falls monotonically with N: a coarse grid brackets the root
            N = np.exp(_numeric.root(gap, lo, hi, n_grid=12))
            D = _tokens_along(law, theta, N, fm, bounds)
            C = fm.flops(N, D)
        loss_at = law_eval(law, theta, {"n_params": N, "n_tokens": D})
        return _derived(N, D, C, loss_at)

    point, samples = _run(src, run, ell.size * (1 if meth == "closed-form" else 12 * 16 * 4))
    point_nan_warning(~np.isfinite(point["flops"][0]), "The target loss is unreachable",
                      "Targets at or below the irreducible loss E (or outside N in [1e2, 1e18]) have no finite budget.")
    return _finish(src, "compute to reach a target loss",
                   _method_text(meth, "C = k ((L - E)/K)^(-1/gamma)"), fm, scalar, level, point, samples, [], _ORDER,
                   fixed=("loss",))


def _tokens_along(law: Law, theta: FloatArray, N: FloatArray, fm: FlopsModel, bounds: tuple[float, float]
                  ) -> FloatArray:
    """``D*(N)`` on the compute-optimal path for ``N`` of shape (S, ...) (numeric; trailing axes allowed)."""
    lo = np.log(N * bounds[0])
    hi = np.log(N * bounds[1])
    y = _numeric.root(lambda y: _stationarity(law, theta, N[..., None], np.exp(y), fm), lo, hi, n_grid=16)
    return np.exp(y)


def allocation_table(fit_or_law: Any, n_params: ArrayLike = HOFFMANN_TABLE3_SIZES, *, level: float = 0.95,
                     flops_model: FlopsArg = None, method: Method = "auto",
                     style: Literal["columns", "hoffmann"] = "columns") -> pd.DataFrame:
    """Hoffmann et al. 2022 Table 3 for a law: per model size, the budget at which it is compute-optimal,
    its tokens and its loss.

    ``style="columns"`` returns numbers (``n_params, flops, n_tokens, tokens_per_param, loss`` and
    interval columns); ``style="hoffmann"`` returns the paper's layout as text: ``Parameters``,
    ``FLOPs``, ``FLOPs (in Gopher unit)``, ``Tokens``, ``Loss``.
    """
    if style not in ("columns", "hoffmann"):
        raise DataError(format_message("Argument style", "of allocation_table()", "'columns' or 'hoffmann'",
                                       repr(style)))
    res = optimal_for_params(fit_or_law, n_params, level=level, flops_model=flops_model, method=method)
    df = res.to_frame()
    cols = [c + suffix for c in ("n_params", "flops", "n_tokens", "tokens_per_param", "loss")
            for suffix in ("", "_lower", "_upper") if c + suffix in df.columns]
    df = df[cols]
    df.attrs.update({"source": res.source, "method": res.method, "flops_model": res.flops_model,
                     "notes": list(res.notes)})
    if style == "columns":
        return df
    out = pd.DataFrame({
        "Parameters": [_words(v, None) for v in df["n_params"]],
        "FLOPs": [f"{v:.2e}" for v in df["flops"]],
        "FLOPs (in Gopher unit)": [_gopher(v) for v in df["flops"]],
        "Tokens": [_words(v, 1) for v in df["n_tokens"]],
    })
    if "loss" in df:
        out["Loss"] = [f"{v:.3f}" for v in df["loss"]]
    out.attrs.update(df.attrs)
    return out


def _words(x: float, decimals: int | None) -> str:
    if not np.isfinite(x):
        return "nan"
    for name, scale in (("Trillion", 1e12), ("Billion", 1e9), ("Million", 1e6), ("Thousand", 1e3)):
        if abs(x) >= scale:
            v = x / scale
            return f"{v:.{decimals}f} {name}" if decimals is not None else f"{v:.4g} {name}"
    return f"{x:.4g}"


def _gopher(c: float) -> str:
    if not np.isfinite(c):
        return "nan"
    r = c / GOPHER_FLOPS
    if r < 0.95:
        return f"1/{1.0 / r:,.0f}"
    return f"{r:.1f}"


def inference_optimal(fit_or_law: Any, n_params_ref: ArrayLike, inference_tokens: ArrayLike, *, level: float = 0.95,
                      flops_model: FlopsArg = None, inference_flops_per_param_token: float = 2.0,
                      method: Method = "auto") -> Allocation:
    r"""Inference-aware allocation (Sardana et al. 2024, arXiv 2401.00448).

    Minimise training plus inference compute ``f(N) D_tr + p N D_inf`` (``f(N) = 6N``, ``p = 2``)
    subject to ``L(N, D_tr) = L_ref``, the loss of a reference model of ``N_ref`` parameters trained
    compute-optimally (at the budget where ``N_ref`` is optimal; closed form for Chinchilla). Solved
    numerically: for each ``N``, ``D_tr(N)`` is the root of ``L(N, D) = L_ref``; the total is
    minimised over ``log N`` (the optimum is at most ``N_ref``).

    Parameters
    ----------
    n_params_ref : float or array_like
        Reference model size(s) ``N_ref``.
    inference_tokens : float or array_like
        Tokens to be generated/processed at inference over the model's lifetime, ``D_inf``.
    inference_flops_per_param_token : float
        Inference FLOPs per parameter and token (2: a forward pass).

    Returns
    -------
    Allocation
        ``n_params``/``n_tokens``/``flops`` of the inference-optimal model (training), ``loss``
        (= the reference loss) and the columns ``inference_tokens``, ``flops_inference``,
        ``flops_total``, ``reference_n_params``, ``reference_n_tokens``, ``reference_flops``,
        ``reference_flops_total``, ``savings`` (FLOPs), ``savings_fraction``, ``tokens_ratio``
        (``D_tr / D_ref``).

    Examples
    --------
    With Sardana's constants (A = 406.4, B = 410.7, E = 1.69, alpha = 0.336, beta = 0.283), a 13B
    reference and 2e12 inference tokens give N* = 6.97B and save 1.69e22 FLOPs (17.4%).
    """
    where = "inference_optimal()"
    src, level, fm = _setup(fit_or_law, where, level, flops_model)
    Nr, s1 = as_query(n_params_ref, "n_params_ref", where)
    Di = np.asarray(inference_tokens, dtype=float)
    s2 = Di.ndim == 0
    Di = Di.reshape(-1)
    if Di.size == 0 or not np.all(np.isfinite(Di) & (Di >= 0)):
        raise DataError(format_message("Argument inference_tokens", f"of {where}", "finite and >= 0",
                                       np.array2string(Di[:5]), "Pass the lifetime inference tokens."))
    p = float(inference_flops_per_param_token)
    if not (np.isfinite(p) and p >= 0):
        raise DataError(format_message("Argument inference_flops_per_param_token", f"of {where}", "finite and >= 0",
                                       repr(inference_flops_per_param_token)))
    try:
        Nr, Di = (a.copy() for a in np.broadcast_arrays(Nr, Di))
    except ValueError as exc:
        raise DataError(format_message("Arguments n_params_ref and inference_tokens", f"of {where}", "broadcastable",
                                       f"lengths {Nr.size} and {Di.size}")) from exc
    check_method(method, where)
    law = require_nd_law(src, where)
    meth = choose_method(src, fm, method, where)
    B = Nr.size

    def run(theta: FloatArray) -> dict[str, FloatArray]:
        S = theta.shape[0]
        D_ref = _tokens_for_params(law, theta, Nr, fm, meth, DEFAULT_RATIO_BOUNDS)
        Nrb = np.broadcast_to(Nr[None, :], D_ref.shape)
        target = law_eval(law, theta, {"n_params": Nrb, "n_tokens": D_ref})
        C_ref = fm.flops(Nrb, D_ref)
        total_ref = C_ref + p * Nrb * Di[None, :]
        lDr = np.log(D_ref)

        def d_of(x: FloatArray) -> FloatArray:
            # D with L(e^x, D) = target; x has shape (S, B, K)
            Nx = np.exp(x)
            tgt = target[..., None]

            def gap(y: FloatArray) -> FloatArray:
                return law_eval(law, theta, {"n_params": Nx[..., None], "n_tokens": np.exp(y)}) - tgt[..., None]

            lo = np.broadcast_to(lDr[..., None] - 2.0, x.shape)
            hi = np.broadcast_to(lDr[..., None] + 30.0, x.shape)
            # L(N, D) - target decreases in D: a coarse grid brackets the single root
            return np.exp(_numeric.root(gap, lo, hi, n_grid=12, xtol=1e-14))

        def total(x: FloatArray) -> FloatArray:
            Nx = np.exp(x)
            return fm.flops(Nx, d_of(x)) + p * Nx * Di[None, :, None]

        lNr = np.broadcast_to(np.log(Nr)[None, :], (S, B))
        x, _ = _numeric.minimize(total, lNr - 10.0, lNr + 0.5)
        N = np.exp(x)
        D = d_of(x[..., None])[..., 0]
        C = fm.flops(N, D)
        tot = C + p * N * Di[None, :]
        return {"flops": C, "n_params": N, "n_tokens": D, "tokens_per_param": D / N, "loss": target,
                "inference_tokens": np.broadcast_to(Di[None, :], N.shape), "flops_inference": p * N * Di[None, :],
                "flops_total": tot, "reference_n_params": Nrb, "reference_n_tokens": D_ref, "reference_flops": C_ref,
                "reference_flops_total": total_ref, "savings": total_ref - tot,
                "savings_fraction": (total_ref - tot) / total_ref, "tokens_ratio": D / D_ref}

    point, samples = _run(src, run, B * 32 * 12 * 2)
    point_nan_warning(~np.isfinite(point["n_params"][0]), "No inference-optimal size found",
                      "The reference loss may be unreachable for smaller models within 30 nats of data.")
    order = list(point)
    return _finish(src, "inference-aware allocation (Sardana et al. 2024)",
                   f"numeric: minimise f(N) D_tr + {p:g} N D_inf subject to L(N, D_tr) = L(reference at its "
                   "compute-optimal budget)", fm, s1 and s2, level, point, samples, [], order,
                   fixed=("inference_tokens", "reference_n_params"))
