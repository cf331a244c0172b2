r"""Figures: fits against data, isoFLOP curves, compute-optimal allocation, loss contours, and the
classic figures of the scaling-law papers.

Every function draws on an existing :class:`matplotlib.axes.Axes` when given one (``ax=...``) and
otherwise creates a new figure; it returns the Axes it drew on (``kaplan_figure1`` returns its three
Axes). Axes are labelled with units, log scales follow the papers, legends say what is data and what
is a fitted or published law, and intervals are drawn as bands when the fit carries parameter samples
(bootstrap) or a covariance.

Styling is passed explicitly through ``scatter_kws=`` / ``line_kws=`` dictionaries (forwarded to
:meth:`~matplotlib.axes.Axes.scatter` / :meth:`~matplotlib.axes.Axes.plot`); there is no catch-all
``**kwargs``.

This is the only module of :mod:`scaling` that imports matplotlib.

Models
------
Functions that draw a law accept a *model*: a :class:`~scaling.estimation.FitResult`, the name of a
published law (``"published:hoffmann2022-unrounded"``; see :func:`scaling.predict.published_law`),
or any object with ``law`` and ``params`` attributes.

Examples
--------
>>> import scaling as sc                                          # doctest: +SKIP
>>> res = sc.fit(sc.load_dataset("epoch_chinchilla", drop_highest_loss=5))   # doctest: +SKIP
>>> ax = sc.plot.isoflop(res, budgets=[6e18, 1e19, 3e19, 1e20, 3e20, 1e21], data=res.data)  # doctest: +SKIP
>>> ax.figure.savefig("isoflop.png", dpi=150)                     # doctest: +SKIP
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import matplotlib
import matplotlib.pyplot as plt
import matplotlib.ticker
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from numpy.typing import ArrayLike, NDArray

from .errors import DataError, ExtrapolationWarning, format_message
from .units import FLOPS_PER_PARAM_TOKEN, PF_DAY

__all__ = [
    "LABELS",
    "fit_vs_data",
    "curve_fits",
    "residuals",
    "isoflop",
    "allocation",
    "contours",
    "kaplan_figure1",
    "law_curves",
    "double_descent",
    "optimal_points",
    "overtraining",
    "data_constrained",
    "parameter_comparison",
    "subplots",
    "save_figure",
]

#: Axis labels with units, by column name.
LABELS: dict[str, str] = {
    "n_params": "Parameters N",
    "n_tokens": "Training tokens D",
    "flops": "Training compute C (FLOPs)",
    "loss": "Loss (nats/token)",
    "n_unique_tokens": "Unique tokens U",
    "epochs": "Epochs D/U",
    "step": "Training step",
    "x": "x",
}

#: Short symbols of the columns, for legends.
SYMBOLS: dict[str, str] = {"n_params": "N", "n_tokens": "D", "flops": "C", "n_unique_tokens": "U", "loss": "L",
                           "epochs": "epochs"}

_BLUE = "#1f5fa8"
_ORANGE = "#d9731a"
_GREY = "0.55"
#: colour-blind-safe qualitative palette (Okabe & Ito)
_OKABE_ITO = ("#000000", "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#F0E442")
_CMAP = "viridis"
_FIGSIZE = (6.4, 4.4)


# ====================================================================================================
# helpers


def _label(column: str) -> str:
    return LABELS.get(column, column)


def _new_ax(ax: Axes | None, figsize: tuple[float, float] = _FIGSIZE) -> Axes:
    if ax is None:
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
        return ax
    if not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes or None; got {type(ax).__name__}")
    return ax


def _kws(user: Mapping[str, Any] | None, name: str, **defaults: Any) -> dict[str, Any]:
    if user is None:
        return dict(defaults)
    if not isinstance(user, Mapping):
        raise TypeError(f"{name} must be a dict of matplotlib keyword arguments or None; got {type(user).__name__}")
    out = dict(defaults)
    out.update(user)
    return out


def _sci(x: float, digits: int = 3) -> str:
    """Mathtext for a number in scientific notation: ``6e18`` -> ``$6\\times10^{18}$``."""
    x = float(x)
    if x == 0 or not math.isfinite(x):
        return f"{x:g}"
    exp = int(math.floor(math.log10(abs(x))))
    mant = x / 10 ** exp
    if round(mant, digits - 1) >= 10:
        mant /= 10
        exp += 1
    m = f"{mant:.{digits - 1}f}".rstrip("0").rstrip(".")
    if m == "1":
        return rf"$10^{{{exp}}}$"
    return rf"${m}\times10^{{{exp}}}$"


def _count(x: float) -> str:
    """Human count: 7.0e10 -> '70B', 1.4e12 -> '1.4T'."""
    x = float(x)
    for unit, scale in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(x) >= scale:
            v = x / scale
            return (f"{v:.3g}" if v < 1000 else f"{v:.0f}") + unit
    return f"{x:.3g}"


def _finite_positive(name: str, values: ArrayLike, where: str) -> NDArray[np.float64]:
    try:
        a = np.atleast_1d(np.asarray(values, dtype=float)).ravel()
    except (TypeError, ValueError) as e:
        raise DataError(format_message(f"Argument {name!r}", where, "numbers", repr(values))) from e
    bad = ~(np.isfinite(a) & (a > 0))
    if a.size == 0 or bad.any():
        shown = "no values" if a.size == 0 else f"{a[bad][0]!r}"
        raise DataError(format_message(f"Argument {name!r}", where, "non-empty, finite and > 0", shown,
                                       "Pass positive numbers such as [1e19, 1e20, 1e21]."))
    return a


def _frame(data: Any, where: str) -> pd.DataFrame:
    """A DataFrame from a RunTable, a DataFrame or a FitResult (its fitted points)."""
    if data is None:
        return pd.DataFrame()
    if isinstance(data, pd.DataFrame):
        return data.copy()
    if hasattr(data, "to_frame") and callable(data.to_frame):
        return data.to_frame()
    if hasattr(data, "data") and isinstance(data.data, pd.DataFrame):
        return data.data
    raise DataError(format_message("Argument 'data'", where, "a RunTable, a pandas DataFrame or a FitResult",
                                   type(data).__name__))


def _with_flops(df: pd.DataFrame, k: float) -> pd.DataFrame:
    if "flops" not in df.columns and {"n_params", "n_tokens"} <= set(df.columns):
        df = df.assign(flops=k * df["n_params"].to_numpy(float) * df["n_tokens"].to_numpy(float))
    if "n_tokens" not in df.columns and {"n_params", "flops"} <= set(df.columns):
        df = df.assign(n_tokens=df["flops"].to_numpy(float) / (k * df["n_params"].to_numpy(float)))
    return df


def _require_columns(df: pd.DataFrame, cols: Sequence[str], where: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise DataError(format_message("Argument 'data'", where, f"a table with the columns {list(cols)}",
                                       f"columns {list(df.columns)}", f"Add {missing}."))


def _band(ax: Axes, x: NDArray[np.float64], lo: NDArray[np.float64], hi: NDArray[np.float64], color: Any,
          label: str | None = None, alpha: float = 0.2) -> None:
    ok = np.isfinite(lo) & np.isfinite(hi)
    if ok.any():
        ax.fill_between(x[ok], lo[ok], hi[ok], color=color, alpha=alpha, linewidth=0, label=label)


def _legend(ax: Axes, handles: list[Any] | None = None, **kw: Any) -> None:
    opts = dict(fontsize="small", frameon=False)
    opts.update(kw)
    if handles is None:
        ax.legend(**opts)
    else:
        ax.legend(handles=handles, **opts)


def _colorbar(ax: Axes, mappable: Any, label: str) -> Any:
    cb = ax.figure.colorbar(mappable, ax=ax, pad=0.02)
    cb.set_label(label)
    return cb


# ----------------------------------------------------------------------------------------------------
# models


@dataclass(frozen=True)
class _Model:
    law: Any
    params: pd.Series
    draws: NDArray[np.float64] | None
    label: str
    flops_per_token: float
    source: Any
    interval: str | None  # how draws were obtained: "bootstrap", "covariance", ...

    def predict(self, **X: ArrayLike) -> NDArray[np.float64]:
        return np.asarray(self.law.predict(self.params, **X), dtype=float)

    def predict_draws(self, **X: ArrayLike) -> NDArray[np.float64] | None:
        if self.draws is None:
            return None
        return np.asarray(self.law.predict(self.draws, **X), dtype=float)


def _resolve(model: Any, where: str) -> _Model:
    from .estimation.result import FitResult

    if isinstance(model, FitResult):
        draws = None
        interval = None
        names = list(model.law.param_names)
        samples = model.samples
        if samples is not None and len(samples):
            draws = samples[names].to_numpy(dtype=float)
            interval = str((model.uncertainty or {}).get("method", "bootstrap"))
        elif model.cov is not None:
            cov = model.cov.loc[names, names].to_numpy(dtype=float)
            draws = np.random.default_rng(0).multivariate_normal(model.params[names].to_numpy(float), cov,
                                                                  size=2000, method="svd")
            interval = "covariance"
        prov = model.provenance
        k = model.conventions.flops_per_token
        name = prov.get("data_name")
        label = f"{model.law.name} fit" + (f" to {name}" if name else "")
        return _Model(model.law, model.params, draws, label, float(k), model, interval)
    if isinstance(model, str):
        from .predict import get_published

        name = model.split(":", 1)[1] if model.startswith("published:") else model
        # a figure is not the place to repeat the published law's known inconsistencies
        # (get_published(name).checks() and `scaling laws` list them)
        return _resolve_published(get_published(name, warn=False), where)
    if isinstance(model, tuple) and len(model) == 2:
        from .laws import get_law

        law = get_law(model[0]) if isinstance(model[0], str) else model[0]
        return _Model(law, pd.Series(dict(model[1]), dtype=float), None, f"law {law.name}", FLOPS_PER_PARAM_TOKEN,
                      model, None)
    if hasattr(model, "law") and hasattr(model, "params"):
        return _resolve_published(model, where)
    raise DataError(format_message("Argument 'model'", where,
                                   "a FitResult, a published law name such as 'published:hoffmann2022-unrounded', "
                                   "a (law, params) pair or an object with .law and .params", type(model).__name__))


def _resolve_published(pub: Any, where: str) -> _Model:
    law = pub.law
    if law is None:
        raise DataError(format_message(f"The published law '{getattr(pub, 'name', pub)}'", where,
                                       "a loss law L(N, D)", "an allocation-only law (no loss model)",
                                       "Draw it with plot.allocation(), or pick a law with a loss model."))
    if isinstance(law, str):
        from .laws import get_law

        law = get_law(law)
    params = pd.Series(dict(pub.params), dtype=float) if not isinstance(pub.params, pd.Series) else pub.params
    fm = getattr(pub, "flops_model", None)
    k = getattr(fm, "coefficient", None) or getattr(pub, "flops_per_token", None) or FLOPS_PER_PARAM_TOKEN
    name = getattr(pub, "name", None) or getattr(law, "name", "law")
    label = f"published:{name}" if hasattr(pub, "flops_model") else str(name)
    return _Model(law, params, None, label, float(k), pub, None)


def _need_nd(m: _Model, where: str) -> None:
    vars_ = tuple(m.law.variables)
    if set(vars_) != {"n_params", "n_tokens"}:
        raise DataError(format_message(f"The law '{m.law.name}'", where, "a law of (n_params, n_tokens)",
                                       f"variables {list(vars_)}",
                                       "isoFLOP curves, contours and allocations need L(N, D) (e.g. 'chinchilla')."))


def _loss_nc(m: _Model, N: NDArray[np.float64], C: NDArray[np.float64]) -> NDArray[np.float64]:
    D = C / (m.flops_per_token * N)
    return m.predict(n_params=N, n_tokens=D)


def _optimum_n(m: _Model, C: NDArray[np.float64]) -> NDArray[np.float64]:
    """Compute-optimal N at each budget (point estimate), from :func:`scaling.predict.compute_optimal`:
    the same answer the planner gives (closed form for Chinchilla, numeric otherwise)."""
    from .predict import compute_optimal

    alloc = compute_optimal((m.law, m.params), np.asarray(C, dtype=float), flops_model=m.flops_per_token)
    return np.atleast_1d(np.asarray(alloc.n_params, dtype=float))


# ====================================================================================================
# fits against data


def fit_vs_data(result: Any, ax: Axes | None = None, *, kind: str = "parity", level: float = 0.95,
                scatter_kws: Mapping[str, Any] | None = None, line_kws: Mapping[str, Any] | None = None) -> Axes:
    """Observed losses against the fitted law.

    Parameters
    ----------
    result : FitResult
        A fit (its fitted points are the data drawn).
    ax : Axes, optional
    kind : str, default ``"parity"``
        ``"parity"``: observed against predicted loss with the identity line (any law).
        A variable of the law (``"n_params"``, ``"n_tokens"``, ...): loss against that variable on a
        log axis, points coloured by the law's other variable, with the fitted law drawn at a few
        representative values of it (Kaplan et al. 2020, Fig. 9 left style) and interval bands when the
        fit has samples or a covariance.
    level : float, default 0.95
        Level of the interval bands.
    scatter_kws, line_kws : dict, optional
        Styling of the data points and of the law's lines.

    Returns
    -------
    Axes
    """
    from .estimation.result import FitResult

    if not isinstance(result, FitResult):
        raise DataError(format_message("Argument 'result'", "of fit_vs_data()", "a FitResult",
                                       type(result).__name__, "Fit first: scaling.fit(table, law=...)."))
    m = _resolve(result, "of fit_vs_data()")
    data = result.data
    law = result.law
    variables = list(law.variables)
    ax = _new_ax(ax)
    y = data["loss"].to_numpy(float)
    if kind == "parity":
        X = {v: data[v].to_numpy(float) for v in variables}
        pred = m.predict(**X)
        skw = _kws(scatter_kws, "scatter_kws", s=14, color=_BLUE, alpha=0.7, edgecolor="none",
                   label=f"runs ({len(y)})")
        draws = m.predict_draws(**X)
        if draws is not None:
            q = (1 - level) / 2
            lo, hi = np.nanquantile(draws, q, axis=0), np.nanquantile(draws, 1 - q, axis=0)
            ax.errorbar(pred, y, xerr=np.vstack([np.clip(pred - lo, 0, None), np.clip(hi - pred, 0, None)]),
                        fmt="none", ecolor=_GREY, elinewidth=0.6, alpha=0.6, zorder=1,
                        label=f"{level:.0%} interval of the prediction ({m.interval})")
        ax.scatter(pred, y, zorder=2, **skw)
        lo_, hi_ = float(min(pred.min(), y.min())), float(max(pred.max(), y.max()))
        pad = 0.03 * (hi_ - lo_)
        lkw = _kws(line_kws, "line_kws", color="k", lw=1, ls="--", label="perfect fit (observed = predicted)")
        ax.plot([lo_ - pad, hi_ + pad], [lo_ - pad, hi_ + pad], **lkw)
        ax.set_xlim(lo_ - pad, hi_ + pad)
        ax.set_ylim(lo_ - pad, hi_ + pad)
        ax.set_aspect("equal", adjustable="box")
        ax.set_xlabel("Predicted loss (nats/token)")
        ax.set_ylabel("Observed loss (nats/token)")
        r = result.residuals().to_numpy(float)
        unit = "nats" if result.loss == "squared" else "log loss"
        ax.set_title(f"{law.name}: observed vs fitted (RMS residual {np.sqrt(np.mean(r ** 2)):.3g} {unit})",
                     fontsize="medium")
        _legend(ax, loc="upper left")
        return ax
    if kind not in variables:
        raise DataError(format_message("Option kind", "of fit_vs_data()", f"'parity' or one of {variables}",
                                       repr(kind), "The x axis must be a variable of the law."))
    others = [v for v in variables if v != kind]
    if len(others) > 1:
        raise DataError(format_message("Option kind", "of fit_vs_data()", "'parity' for a law of more than two "
                                       "variables", repr(kind), f"Law '{law.name}' has {variables}."))
    x = data[kind].to_numpy(float)
    xs = np.geomspace(x.min() / 1.5, x.max() * 1.5, 200)
    ax.set_xscale("log")
    if not others:
        skw = _kws(scatter_kws, "scatter_kws", s=18, color=_BLUE, edgecolor="none", alpha=0.8, label="data (runs)")
        ax.scatter(x, y, zorder=3, **skw)
        lkw = _kws(line_kws, "line_kws", color=_ORANGE, lw=2, label=f"fitted law: {law.formula}")
        ax.plot(xs, m.predict(**{kind: xs}), **lkw)
        draws = m.predict_draws(**{kind: xs})
        if draws is not None:
            q = (1 - level) / 2
            _band(ax, xs, np.nanquantile(draws, q, axis=0), np.nanquantile(draws, 1 - q, axis=0), _ORANGE,
                  f"{level:.0%} interval ({m.interval})")
    else:
        other = others[0]
        z = data[other].to_numpy(float)
        norm = LogNorm(vmin=float(z.min()), vmax=float(z.max()))
        cmap = plt.get_cmap(_CMAP)
        skw = _kws(scatter_kws, "scatter_kws", s=18, edgecolor="k", linewidth=0.3, alpha=0.9)
        sc = ax.scatter(x, y, c=z, cmap=cmap, norm=norm, zorder=3, **skw)
        _colorbar(ax, sc, _label(other) + " (colour)")
        levels = np.exp(np.quantile(np.log(z), [0.1, 0.4, 0.7, 0.95]))
        for zv in levels:
            X = {kind: xs, other: np.full_like(xs, zv)}
            color = cmap(norm(zv))
            label = f"fit at {SYMBOLS.get(other, other)} = {_count(zv)}"
            lkw = _kws(line_kws, "line_kws", color=color, lw=1.8, label=label)
            ax.plot(xs, m.predict(**X), **lkw)
            draws = m.predict_draws(**X)
            if draws is not None:
                q = (1 - level) / 2
                _band(ax, xs, np.nanquantile(draws, q, axis=0), np.nanquantile(draws, 1 - q, axis=0), color,
                      alpha=0.15)
        handles, labels = ax.get_legend_handles_labels()
        handles = [Line2D([], [], ls="none", marker="o", mfc="0.6", mec="k", mew=0.3, label="runs (colour = "
                          f"{SYMBOLS.get(other, other)})")] + handles
        _legend(ax, handles=handles, loc="upper right")
        ymax = float(np.quantile(y, 0.99)) * 1.08
        ax.set_ylim(max(0.0, float(y.min()) * 0.95), ymax)
    ax.set_xlabel(_label(kind))
    ax.set_ylabel(_label("loss"))
    ax.set_title(f"{law.name} fit: {law.formula}", fontsize="medium")
    return ax


def residuals(result: Any, ax: Axes | None = None, *, x: str | None = None,
              scatter_kws: Mapping[str, Any] | None = None) -> Axes:
    """Residuals of a fit, ``log L̂ − log L`` (loss units for ``loss="squared"``), against a column.

    Parameters
    ----------
    result : FitResult
    ax : Axes, optional
    x : str, optional
        ``"flops"`` (default for laws of N and D; C = k·N·D), a variable of the law (default
        otherwise), or ``"predicted"``.
    scatter_kws : dict, optional

    Returns
    -------
    Axes
        With a zero line and, for Huber objectives, the band ``±delta`` in which residuals are
        penalised quadratically (outside it, linearly: such points are down-weighted).
    """
    from .estimation.result import FitResult

    if not isinstance(result, FitResult):
        raise DataError(format_message("Argument 'result'", "of residuals()", "a FitResult", type(result).__name__))
    m = _resolve(result, "of residuals()")
    data = _with_flops(result.data, m.flops_per_token)
    variables = list(result.law.variables)
    if x is None:
        x = "flops" if {"n_params", "n_tokens"} <= set(variables) else variables[0]
    r = result.residuals().to_numpy(float)
    if x == "predicted":
        xv = result.predict(**{v: data[v].to_numpy(float) for v in variables})
        xlabel = "Predicted loss (nats/token)"
        logx = False
    elif x in data.columns:
        xv = data[x].to_numpy(float)
        xlabel = _label(x)
        logx = bool(np.all(xv > 0)) and xv.max() / max(xv.min(), 1e-300) > 20
    else:
        raise DataError(format_message("Option x", "of residuals()", f"'predicted' or one of {list(data.columns)}",
                                       repr(x)))
    ax = _new_ax(ax)
    if "huber" in result.loss and result.loss != "squared":
        d = result.delta
        ax.axhspan(-d, d, color=_ORANGE, alpha=0.15, lw=0, label=f"Huber δ = {d:g} (quadratic zone)")
    skw = _kws(scatter_kws, "scatter_kws", s=14, color=_BLUE, alpha=0.75, edgecolor="none",
               label=f"runs ({len(r)})")
    ax.scatter(xv, r, zorder=3, **skw)
    ax.axhline(0, color="k", lw=0.8)
    if logx:
        ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    unit = "nats/token" if result.loss == "squared" else "log loss"
    ax.set_ylabel("Residual " + ("L̂ − L" if result.loss == "squared" else "log L̂ − log L") + f" ({unit})")
    ax.set_title(f"Residuals of the {result.law.name} fit (RMS {np.sqrt(np.mean(r ** 2)):.3g})",
                 fontsize="medium")
    _legend(ax, loc="best")
    return ax


# ====================================================================================================
# isoFLOP curves, allocation, contours (Hoffmann et al. 2022, Figs. 3 and 4)


def _snap_to_budgets(flops: NDArray[np.float64], budgets: NDArray[np.float64], tol_dex: float) -> NDArray[np.int64]:
    """Index of the budget each run belongs to (within ``tol_dex`` decades), or -1."""
    d = np.abs(np.log10(flops)[:, None] - np.log10(budgets)[None, :])
    j = np.argmin(d, axis=1)
    return np.where(d[np.arange(len(flops)), j] <= tol_dex, j, -1)


def isoflop(model: Any, budgets: ArrayLike, data: Any = None, ax: Axes | None = None, *,
            n_range: tuple[float, float] | None = None, level: float | None = None, tolerance: float = 0.06,
            scatter_kws: Mapping[str, Any] | None = None, line_kws: Mapping[str, Any] | None = None) -> Axes:
    """Loss against model size along iso-compute curves, minima marked (Hoffmann et al. 2022, Fig. 3 left).

    For each budget C the law is evaluated at ``L(N, D = C/(k·N))`` (``k`` FLOPs per parameter-token,
    6 unless the fit's data says otherwise); the minimum of each curve is marked.

    Parameters
    ----------
    model : FitResult, published-law name or object with ``law`` and ``params``
        A law of ``(n_params, n_tokens)``.
    budgets : array_like
        Training budgets C in FLOPs.
    data : RunTable, DataFrame or FitResult, optional
        Runs to overlay (``n_params``, ``loss`` and ``flops`` or ``n_tokens``). A run within
        ``tolerance`` decades of a budget takes that budget's colour; other runs are grey.
    ax : Axes, optional
    n_range : (float, float), optional
        Range of N drawn (default: around the minima, or the data's range).
    level : float, optional
        Draw interval bands of this level around each curve (needs samples or a covariance).
    tolerance : float, default 0.06
        Decades within which a run counts as on a budget's curve.
    scatter_kws, line_kws : dict, optional

    Returns
    -------
    Axes
    """
    where = "of isoflop()"
    m = _resolve(model, where)
    _need_nd(m, where)
    C = np.sort(_finite_positive("budgets", budgets, where))
    df = _frame(data, where)
    if len(df):
        df = _with_flops(df, m.flops_per_token)
        _require_columns(df, ["n_params", "flops", "loss"], where)
    nopt = _optimum_n(m, C)
    on = np.zeros(len(df), dtype=bool)
    idx = np.full(len(df), -1)
    if len(df):
        idx = _snap_to_budgets(df["flops"].to_numpy(float), C, tolerance)
        on = idx >= 0
    if n_range is None:
        if on.any():
            n_on = df["n_params"].to_numpy(float)[on]
            n_range = (min(float(n_on.min()), float(nopt.min())) / 1.6, max(float(n_on.max()), float(nopt.max())) * 1.6)
        else:
            n_range = (float(nopt.min()) / 20, float(nopt.max()) * 20)
    nr = _finite_positive("n_range", n_range, where)
    N = np.geomspace(float(nr.min()), float(nr.max()), 300)
    ax = _new_ax(ax)
    norm = LogNorm(vmin=float(C.min()) / (1.5 if len(C) == 1 else 1), vmax=float(C.max()) * (1.5 if len(C) == 1 else 1))
    cmap = plt.get_cmap("plasma_r")

    def color_of(c: float) -> Any:
        return cmap(0.22 + 0.73 * norm(c)) if len(C) > 1 else _BLUE

    lmins, near = [], []
    for j, c in enumerate(C):
        color = color_of(c)
        L = _loss_nc(m, N, np.full_like(N, c))
        lkw = _kws(line_kws, "line_kws", color=color, lw=1.8)
        ax.plot(N, L, **lkw)
        if level is not None and m.draws is not None:
            Ld = m.predict_draws(n_params=N, n_tokens=c / (m.flops_per_token * N))
            q = (1 - level) / 2
            _band(ax, N, np.nanquantile(Ld, q, axis=0), np.nanquantile(Ld, 1 - q, axis=0), color, alpha=0.15)
        lmin = float(_loss_nc(m, nopt[j:j + 1], np.array([c]))[0])
        ax.plot([nopt[j]], [lmin], marker="*", ms=12, color=color, mec="k", mew=0.6, zorder=6, ls="none")
        lmins.append(lmin)
        # the curve one decade either side of its minimum sets the default y range
        near.append(float(np.nanmax(_loss_nc(m, nopt[j] * np.array([0.1, 10.0]), np.array([c, c])))))
    handles: list[Any] = [Line2D([], [], color="0.3", lw=1.8, label=f"{m.label}: L(N, D = C/({m.flops_per_token:g}N))"),
                          Line2D([], [], marker="*", ms=12, color="0.3", mec="k", ls="none",
                                 label="minimum of each curve (N_opt)")]
    if level is not None and m.draws is not None:
        handles.append(Patch(color="0.3", alpha=0.2, label=f"{level:.0%} interval ({m.interval})"))
    y_lo, y_hi = min(lmins), max(near)
    if len(df):
        colors = [color_of(C[i]) for i in idx[on]]
        skw = _kws(scatter_kws, "scatter_kws", s=22, edgecolor="k", linewidth=0.4, zorder=4)
        ax.scatter(df["n_params"].to_numpy(float)[on], df["loss"].to_numpy(float)[on], c=colors, **skw)
        handles.append(Line2D([], [], ls="none", marker="o", mfc="0.6", mec="k", mew=0.4,
                              label=f"runs within {tolerance:g} decades of a budget ({int(on.sum())})"))
        inside = (~on) & (df["n_params"].to_numpy(float) >= N[0]) & (df["n_params"].to_numpy(float) <= N[-1])
        if inside.any():
            ax.scatter(df["n_params"].to_numpy(float)[inside], df["loss"].to_numpy(float)[inside], s=8,
                       color="0.78", zorder=2, edgecolor="none")
            handles.append(Line2D([], [], ls="none", marker="o", ms=4, mfc="0.78", mec="none",
                                  label=f"other runs ({int(inside.sum())})"))
        if on.any():
            lo_on = df["loss"].to_numpy(float)[on]
            y_lo, y_hi = min(y_lo, float(lo_on.min())), float(lo_on.max())
    pad = 0.06 * (y_hi - y_lo + 1e-9)
    ax.set_ylim(y_lo - pad, y_hi + 5 * pad)
    ax.set_xscale("log")
    ax.set_xlim(N[0], N[-1])
    ax.set_xlabel(_label("n_params"))
    ax.set_ylabel(_label("loss"))
    if len(C) > 1:
        sm = matplotlib.cm.ScalarMappable(norm=norm, cmap=matplotlib.colors.ListedColormap(
            cmap(np.linspace(0.22, 0.95, 256))))
        _colorbar(ax, sm, "Budget C (FLOPs)")
    else:
        ax.set_title(f"C = {_sci(C[0])} FLOPs", fontsize="medium")
    _legend(ax, handles=handles, loc="upper center" if len(C) > 1 else "best")
    return ax


def allocation(model: Any, flops: ArrayLike, ax: Axes | None = None, *,
               quantity: Literal["both", "n_params", "n_tokens"] = "both", level: float | None = 0.8,
               data: Any = None, scatter_kws: Mapping[str, Any] | None = None,
               line_kws: Mapping[str, Any] | None = None) -> Axes:
    """Compute-optimal model size N_opt(C) and data D_opt(C) with interval bands (Hoffmann Fig. 3 middle/right).

    The allocation comes from :func:`scaling.predict.compute_optimal` (closed form eq. 4 for the
    Chinchilla law, numerical otherwise); bands are its ``level`` intervals over the fit's parameter
    samples (bootstrap) or covariance.

    Parameters
    ----------
    model : FitResult, published-law name or object accepted by ``compute_optimal``
    flops : array_like
        Budgets C in FLOPs; with two values, 100 log-spaced budgets between them are drawn.
    ax : Axes, optional
    quantity : {"both", "n_params", "n_tokens"}
        Which optimum to draw (both on one log–log axis by default).
    level : float or None, default 0.8
        Interval level (Hoffmann report 10th–90th percentiles); None for no band.
    data : DataFrame or RunTable, optional
        Compute-optimal points to overlay, with ``flops`` and ``n_params`` and/or ``n_tokens``
        (e.g. isoFLOP minima, Approach 2).
    scatter_kws, line_kws : dict, optional

    Returns
    -------
    Axes
    """
    where = "of allocation()"
    if quantity not in ("both", "n_params", "n_tokens"):
        raise DataError(format_message("Option quantity", where, "'both', 'n_params' or 'n_tokens'", repr(quantity)))
    C = _finite_positive("flops", flops, where)
    if len(C) == 2:
        C = np.geomspace(C.min(), C.max(), 100)
    C = np.sort(C)
    label = _model_label(model)
    alloc = _compute_optimal(model, C, level)
    ax = _new_ax(ax)
    show = ["n_params", "n_tokens"] if quantity == "both" else [quantity]
    colors = {"n_params": _BLUE, "n_tokens": _ORANGE}
    names = {"n_params": "N_opt (parameters)", "n_tokens": "D_opt (tokens)"}
    for q in show:
        lkw = _kws(line_kws, "line_kws", color=colors[q], lw=2, label=f"{names[q]}: {label}")
        ax.plot(C, alloc[q].to_numpy(float), **lkw)
        lo, hi = f"{q}_lower", f"{q}_upper"
        if level is not None and lo in alloc.columns and alloc[lo].notna().any():
            _band(ax, C, alloc[lo].to_numpy(float), alloc[hi].to_numpy(float), lkw.get("color", colors[q]),
                  f"{level:.0%} interval")
    df = _frame(data, where)
    if len(df):
        df = _with_flops(df, FLOPS_PER_PARAM_TOKEN) if "flops" not in df.columns else df
        for q in show:
            if q in df.columns:
                skw = _kws(scatter_kws, "scatter_kws", s=30, color=colors[q], edgecolor="k", linewidth=0.5,
                           zorder=5, marker="o" if q == "n_params" else "s",
                           label=f"{names[q].split(' ')[0]} from data")
                ax.scatter(df["flops"].to_numpy(float), df[q].to_numpy(float), **skw)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(_label("flops"))
    ax.set_ylabel({"both": "Compute-optimal N (parameters) and D (tokens)", "n_params": "Compute-optimal "
                   "parameters N_opt", "n_tokens": "Compute-optimal tokens D_opt"}[quantity])
    ax.grid(True, which="major", color="0.9", lw=0.6)
    _legend(ax, loc="upper left")
    return ax


def _model_label(model: Any) -> str:
    if isinstance(model, str):
        return model if model.startswith("published:") else f"published:{model}"
    name = getattr(model, "name", None)
    if name is not None and not hasattr(model, "samples"):
        return f"published:{name}" if hasattr(model, "flops_model") else str(name)
    try:
        return _resolve(model, "").label
    except DataError:
        return type(model).__name__


def _compute_optimal(model: Any, C: NDArray[np.float64], level: float | None) -> pd.DataFrame:
    from .predict import compute_optimal

    if isinstance(model, str):
        from .predict import get_published

        model = get_published(model.split(":", 1)[1] if model.startswith("published:") else model, warn=False)
    with warnings.catch_warnings():
        # a figure draws the law across a range by design (the data are shown); the extrapolation guard is
        # for planning questions (compute_optimal, predict), which warn there
        warnings.simplefilter("ignore", ExtrapolationWarning)
        alloc = compute_optimal(model, flops=C, level=0.95 if level is None else level)
    return alloc.to_frame()


def contours(result: Any, data: Any = None, ax: Axes | None = None, *,
             flops_range: tuple[float, float] | None = None, n_range: tuple[float, float] | None = None,
             levels: int | ArrayLike = 16, budgets: ArrayLike | None = None,
             scatter_kws: Mapping[str, Any] | None = None, line_kws: Mapping[str, Any] | None = None) -> Axes:
    """Loss contours over (compute, model size) with the efficient frontier (Hoffmann et al. 2022, Fig. 4 left).

    Parameters
    ----------
    result : FitResult, published-law name or object with ``law`` and ``params``
        A law of ``(n_params, n_tokens)``.
    data : RunTable, DataFrame or FitResult, optional
        Runs drawn as points (coloured by their loss on the contours' colour scale).
    ax : Axes, optional
    flops_range, n_range : (float, float), optional
        Axis ranges (default: the data's range, widened; or 1e18–1e24 FLOPs around the frontier).
    levels : int or array_like, default 16
        Contour levels: a number (spaced geometrically in the reducible loss L − E, so that they are
        dense near the frontier) or the values themselves (nats/token).
    budgets : array_like, optional
        Draw dashed vertical lines at these budgets (the isoFLOP slices of Fig. 4 right).
    scatter_kws, line_kws : dict, optional
        Styling of the runs and of the frontier line.

    Returns
    -------
    Axes
    """
    where = "of contours()"
    m = _resolve(result, where)
    _need_nd(m, where)
    df = _frame(data, where)
    if len(df):
        df = _with_flops(df, m.flops_per_token)
        _require_columns(df, ["n_params", "flops", "loss"], where)
    if flops_range is None:
        if len(df):
            flops_range = (float(df["flops"].min()) / 3, float(df["flops"].max()) * 30)
        else:
            flops_range = (1e18, 1e24)
    cf = _finite_positive("flops_range", flops_range, where)
    Cg = np.geomspace(cf.min(), cf.max(), 160)
    front = _optimum_n(m, Cg)
    if n_range is None:
        lo, hi = float(front.min()) / 10, float(front.max()) * 10
        if len(df):
            lo = min(lo, float(df["n_params"].min()) / 2)
            hi = max(hi, float(df["n_params"].max()) * 2)
        n_range = (lo, hi)
    nf = _finite_positive("n_range", n_range, where)
    Ng = np.geomspace(nf.min(), nf.max(), 150)
    CC, NN = np.meshgrid(Cg, Ng)
    with np.errstate(all="ignore"):
        LL = _loss_nc(m, NN.ravel(), CC.ravel()).reshape(NN.shape)
    ax = _new_ax(ax, figsize=(6.6, 4.6))
    lmin = float(np.nanmin(LL))
    if np.isscalar(levels) or np.ndim(levels) == 0:
        hi_level = float(np.nanquantile(LL, 0.9))
        if len(df):
            hi_level = max(hi_level, float(np.quantile(df["loss"], 0.98)))
        # geometric in the reducible loss L - E: fine levels near the frontier, coarse far from it
        floor = float(m.params["E"]) if "E" in m.params.index and 0 < m.params["E"] < lmin else 0.9 * lmin
        lv = floor + np.geomspace((lmin - floor) * 1.02, hi_level - floor, int(levels))  # type: ignore[arg-type]
        lv = np.unique(np.round(lv, 3))
    else:
        lv = np.sort(np.asarray(levels, dtype=float))
    cmap = plt.get_cmap("viridis")
    bnorm = matplotlib.colors.BoundaryNorm(lv, cmap.N)  # one distinct colour per band
    cs = ax.contourf(CC, NN, np.clip(LL, lv[0], lv[-1]), levels=lv, cmap=cmap, norm=bnorm, extend="neither")
    ax.contour(CC, NN, LL, levels=lv, colors="k", linewidths=0.3, alpha=0.4)
    cb = _colorbar(ax, cs, "Loss predicted by the law (nats/token)")
    cb.ax.yaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%.2f"))
    lkw = _kws(line_kws, "line_kws", color="#e8432e", lw=2.4, label=f"efficient frontier N_opt(C) ({m.label})")
    ax.plot(Cg, front, **lkw)
    if len(df):
        skw = _kws(scatter_kws, "scatter_kws", s=14, color="white", edgecolor="k", linewidth=0.5, zorder=4,
                   label=f"runs ({len(df)})")
        ax.scatter(df["flops"].to_numpy(float), df["n_params"].to_numpy(float), **skw)
    if budgets is not None:
        for j, b in enumerate(_finite_positive("budgets", budgets, where)):
            ax.axvline(b, color="white", ls="--", lw=0.8, alpha=0.8, label="isoFLOP slices" if j == 0 else None)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(Cg[0], Cg[-1])
    ax.set_ylim(Ng[0], Ng[-1])
    ax.set_xlabel(_label("flops"))
    ax.set_ylabel(_label("n_params"))
    _legend(ax, loc="upper left", frameon=True, framealpha=0.9, facecolor="0.85")
    return ax


# ====================================================================================================
# curves of published laws


def law_curves(model: Any, x: str, values: Mapping[str, ArrayLike] | None = None, ax: Axes | None = None, *,
               x_range: tuple[float, float] = (1e6, 1e12), data: Any = None, color_by: str | None = None,
               scatter_kws: Mapping[str, Any] | None = None, line_kws: Mapping[str, Any] | None = None) -> Axes:
    """The law's loss against one variable, one curve per value of another (e.g. Kaplan eq. 1.5).

    Parameters
    ----------
    model : FitResult, published-law name or object with ``law`` and ``params``
    x : str
        The variable on the x axis (log scale), e.g. ``"n_tokens"``.
    values : mapping, optional
        The other variables: one array (several curves, coloured) and scalars (held fixed), e.g.
        ``{"n_params": [1e6, 1e7, 1e8, 1e9]}``.
    ax : Axes, optional
    x_range : (float, float)
        Range of ``x``.
    data : RunTable or DataFrame, optional
        Runs to overlay, coloured by ``color_by`` (default: the varying variable).
    color_by : str, optional
    scatter_kws, line_kws : dict, optional

    Returns
    -------
    Axes
    """
    where = "of law_curves()"
    m = _resolve(model, where)
    variables = list(m.law.variables)
    if x not in variables:
        raise DataError(format_message("Option x", where, f"one of the law's variables {variables}", repr(x)))
    values = dict(values or {})
    missing = [v for v in variables if v != x and v not in values]
    if missing:
        raise DataError(format_message("Option values", where, f"values for {missing}", repr(sorted(values)),
                                       "Give each other variable of the law a value or a list of values."))
    varying = [k for k, v in values.items() if np.ndim(v) > 0 and len(np.atleast_1d(v)) > 1]
    if len(varying) > 1:
        raise DataError(format_message("Option values", where, "at most one list of values", repr(varying)))
    xr = _finite_positive("x_range", x_range, where)
    xs = np.geomspace(xr.min(), xr.max(), 250)
    ax = _new_ax(ax)
    cmap = plt.get_cmap(_CMAP)
    if varying:
        vname = varying[0]
        vals = _finite_positive(vname, values[vname], where)
        norm = LogNorm(vmin=vals.min(), vmax=vals.max()) if len(vals) > 1 else None
    else:
        vname, vals, norm = None, np.array([np.nan]), None
    for v in vals:
        X = {k: (np.full_like(xs, float(np.atleast_1d(val)[0])) if k != vname else np.full_like(xs, v))
             for k, val in values.items() if k in variables}
        X[x] = xs
        color = cmap(0.9 * norm(v)) if norm is not None else _BLUE
        lab = f"{SYMBOLS.get(vname, vname)} = {_count(v)}" if vname else m.label
        lkw = _kws(line_kws, "line_kws", color=color, lw=1.8, label=lab)
        ax.plot(xs, m.predict(**X), **lkw)
    df = _frame(data, where)
    if len(df):
        cb = color_by or vname
        skw = _kws(scatter_kws, "scatter_kws", s=18, edgecolor="k", linewidth=0.3, zorder=4)
        if cb and cb in df.columns and norm is not None:
            ax.scatter(df[x], df["loss"], c=[cmap(0.9 * norm(v)) for v in df[cb]], **skw)
        else:
            ax.scatter(df[x], df["loss"], color="0.4", **skw)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(_label(x))
    ax.set_ylabel(_label("loss"))
    _fix_log_loss_ticks(ax)
    title = f"{m.label}: {m.law.formula}"
    ax.set_title(title, fontsize="medium")
    _legend(ax, loc="upper right", title=m.label if vname else None, title_fontsize="small")
    return ax


def _fix_log_loss_ticks(ax: Axes) -> None:
    """Readable plain-number ticks on a log loss axis (2, 3, 4, ... or 2, 2.5, 3, ... on short ranges)."""
    from matplotlib.ticker import FuncFormatter, LogLocator

    lo, hi = ax.get_ylim()
    if hi / max(lo, 1e-300) < 3.5:
        major, minor = np.arange(1, 10, 0.5), np.arange(1, 10, 0.1)
    else:
        major, minor = np.array([1, 1.5, 2, 2.5, 3, 4, 5, 6, 8]), np.arange(1, 10, 0.5)
    ax.yaxis.set_major_locator(LogLocator(base=10, subs=major))
    ax.yaxis.set_minor_locator(LogLocator(base=10, subs=minor))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, _: ""))


def kaplan_figure1(axes: Sequence[Axes] | None = None, *, constants: Mapping[str, Mapping[str, float]] | None = None,
                   line_kws: Mapping[str, Any] | None = None) -> NDArray[Any]:
    """Kaplan et al. 2020, Figure 1: loss against compute, dataset size and parameters (published laws).

    Draws, from the published constants (Table 5; REFERENCE §1),

    * L(C_min) = (C_c/C_min)^α_C with C in PF-days (eq. 1.3; C_c = 3.1e8 PF-days, α_C = 0.050),
    * L(D) = (D_c/D)^α_D (eq. 1.2; D_c = 5.4e13 tokens, α_D = 0.095),
    * L(N) = (N_c/N)^α_N (eq. 1.1; N_c = 8.8e13 non-embedding parameters, α_N = 0.076),

    on log–log axes over the ranges of the paper's figure; the parts outside the range Kaplan et al.
    trained on are dashed.

    Parameters
    ----------
    axes : sequence of three Axes, optional
    constants : mapping, optional
        Override the constants, keyed ``"kaplan-c"``, ``"kaplan-d"``, ``"kaplan-n"`` (as
        :data:`scaling.laws.kaplan.KAPLAN_2020`; ``C_c`` in FLOPs).
    line_kws : dict, optional

    Returns
    -------
    numpy.ndarray of three Axes
    """
    from .laws.kaplan import KAPLAN_2020

    const = {k: dict(v) for k, v in KAPLAN_2020.items()}
    for k, v in dict(constants or {}).items():
        if k not in ("kaplan-c", "kaplan-d", "kaplan-n"):
            raise DataError(format_message("Key of 'constants'", "of kaplan_figure1()",
                                           "'kaplan-c', 'kaplan-d' or 'kaplan-n'", repr(k)))
        const[k].update(v)
    if axes is None:
        fig, axs = plt.subplots(1, 3, figsize=(12, 3.9), sharey=True, layout="constrained")
    else:
        axs = np.asarray(axes, dtype=object).ravel()
        if len(axs) != 3 or not all(isinstance(a, Axes) for a in axs):
            raise TypeError("axes must be a sequence of three matplotlib Axes or None")
    c, d, n = const["kaplan-c"], const["kaplan-d"], const["kaplan-n"]
    panels = [
        # x grid, trained range, function, label, formula
        (np.geomspace(1e-9, 1e1, 200), (1e-8, 1e1),
         lambda x: (c["C_c"] / PF_DAY / x) ** c["alpha_C"], "Compute C_min (PF-days, non-embedding)",
         rf"$L = (C_{{min}}/{_sci(c['C_c'] / PF_DAY).strip('$')})^{{-{c['alpha_C']:g}}}$"),
        (np.geomspace(1e7, 1e11, 200), (2.2e7, 2.3e10),
         lambda x: (d["D_c"] / x) ** d["alpha_D"], "Dataset size D (tokens)",
         rf"$L = (D/{_sci(d['D_c']).strip('$')})^{{-{d['alpha_D']:g}}}$"),
        (np.geomspace(1e4, 1e10, 200), (768, 1.5e9),
         lambda x: (n["N_c"] / x) ** n["alpha_N"], "Parameters N (non-embedding)",
         rf"$L = (N/{_sci(n['N_c']).strip('$')})^{{-{n['alpha_N']:g}}}$"),
    ]
    colors = ["#3a6fb0", "#2e8b57", "#b0413e"]
    for a, (xs, (lo, hi), f, xlabel, formula), color in zip(axs, panels, colors):
        inside = (xs >= lo) & (xs <= hi)
        lkw = _kws(line_kws, "line_kws", color=color, lw=2.2)
        a.plot(xs[inside], f(xs[inside]), label=formula, **lkw)
        lkw2 = dict(lkw)
        lkw2.update(ls="--", lw=1.4)
        a.plot(xs[xs <= lo], f(xs[xs <= lo]), **lkw2)
        a.plot(xs[xs >= hi], f(xs[xs >= hi]), label="extrapolated beyond the trained range", **lkw2)
        a.set_xscale("log")
        a.set_yscale("log")
        a.set_xlabel(xlabel)
        a.grid(True, which="both", color="0.92", lw=0.5)
        _legend(a, loc="upper right")
    axs[0].set_ylabel("Test loss (nats/token)")
    _fix_log_loss_ticks(axs[0])
    axs[0].figure.suptitle("Kaplan et al. 2020, Figure 1 (published power laws, Table 5)", fontsize="medium")
    return np.asarray(axs, dtype=object)


# ====================================================================================================
# double descent


def double_descent(simulation: Any, ax: Axes | None = None, *, fit: Any = None, peak: Any = None,
                   theory: bool = True, scatter_kws: Mapping[str, Any] | None = None,
                   line_kws: Mapping[str, Any] | None = None) -> Axes:
    """Test risk against p/n: theory, simulated points with error bars, a BNSL fit, the peak marked.

    Parameters
    ----------
    simulation : DoubleDescentSimulation or DataFrame
        From :func:`scaling.doubledescent.simulate_min_norm` (model-wise: one ``n``); a DataFrame needs
        ``gamma``, ``excess_risk_mean`` and ``excess_risk_se`` (and ``p``, ``n`` for the theory).
    ax : Axes, optional
    fit : FitResult, optional
        A one-variable fit (e.g. law ``"bnsl"`` with a negative ``c_i``) of the risk against ``p``
        (the fit's variable is read as ``p = gamma·n``), drawn as a line.
    peak : PeakResult, optional
        From :func:`scaling.doubledescent.find_peak` on ``(gamma, risk)``: the peak is marked with its
        interval.
    theory : bool, default True
        Draw the exact finite-n expectation and the asymptotic risk (Hastie et al. 2019, Thm. 1).
    scatter_kws, line_kws : dict, optional

    Returns
    -------
    Axes
        Log–log axes, x = p/n, y = excess risk ``E‖β̂ − β‖²`` (test MSE minus the noise variance).
    """
    from .doubledescent import excess_risk_asymptotic, excess_risk_finite

    where = "of double_descent()"
    if isinstance(simulation, pd.DataFrame):
        df = simulation.copy()
        r2 = sigma2 = 1.0
    elif hasattr(simulation, "to_frame"):
        df = simulation.to_frame()
        r2, sigma2 = float(simulation.r2), float(simulation.sigma2)
    else:
        raise DataError(format_message("Argument 'simulation'", where, "a DoubleDescentSimulation or a DataFrame",
                                       type(simulation).__name__))
    _require_columns(df, ["gamma", "excess_risk_mean", "excess_risk_se"], where)
    df = df.sort_values("gamma")
    g = df["gamma"].to_numpy(float)
    y = df["excess_risk_mean"].to_numpy(float)
    e = df["excess_risk_se"].to_numpy(float)
    ax = _new_ax(ax)
    n = int(df["n"].iloc[0]) if "n" in df.columns and df["n"].nunique() == 1 else None
    if theory:
        gg = np.geomspace(g.min(), g.max(), 600)
        gg = gg[np.abs(gg - 1) > 0.004]
        with np.errstate(all="ignore"):
            asym = np.asarray(excess_risk_asymptotic(gg, r2=r2, sigma2=sigma2), float)
        ax.plot(gg[gg < 1], asym[gg < 1], color="k", lw=1.2, ls="--", label="asymptotic theory (Hastie et al. 2019)")
        ax.plot(gg[gg > 1], asym[gg > 1], color="k", lw=1.2, ls="--")
        if n is not None:
            p = np.unique(np.round(gg * n).astype(int))
            p = p[(p < n - 1) | (p > n + 1)]
            fin = np.asarray(excess_risk_finite(p, n, r2=r2, sigma2=sigma2), float)
            lkw = _kws(line_kws, "line_kws", color="k", lw=1.8)
            ax.plot(p[p < n] / n, fin[p < n], label=f"exact expectation, n = {n}", **lkw)
            ax.plot(p[p > n] / n, fin[p > n], **lkw)
    skw = _kws(scatter_kws, "scatter_kws", fmt="o", ms=4.5, color=_BLUE, ecolor=_BLUE, elinewidth=1, capsize=2,
               zorder=4)
    reps = f", {int(df['n_reps'].iloc[0])} reps" if "n_reps" in df.columns else ""
    ax.errorbar(g, y, yerr=e, label=f"simulated min-norm least squares (mean ± SE{reps})", **skw)
    if fit is not None:
        fm = _resolve(fit, where)
        if len(fm.law.variables) != 1:
            raise DataError(format_message("Argument 'fit'", where, "a fit of a one-variable law (e.g. 'bnsl')",
                                           f"variables {list(fm.law.variables)}"))
        scale = float(n) if n is not None and fm.law.variables[0] in ("n_params", "p") else 1.0
        gg = np.geomspace(g.min(), g.max(), 600)
        yy = fm.predict(**{fm.law.variables[0]: gg * scale})
        nb = getattr(fm.law, "n_breaks", None)
        what = (f"broken power law, {nb} break{'s' if nb != 1 else ''}" if nb is not None
                else f"{len(fm.params)} parameters")
        ax.plot(gg, yy, color=_ORANGE, lw=2, label=f"{fm.law.name} fit ({what})")
    if peak is not None and getattr(peak, "found", False):
        xp = float(peak.x_peak)
        lo, hi = float(peak.x_peak_lower), float(peak.x_peak_upper)
        ax.axvspan(lo, hi, color="0.6", alpha=0.2, lw=0,
                   label=f"interpolation peak found at p/n = {xp:.3g} ({peak.level:.0%} interval {lo:.3g}–{hi:.3g})")
        ax.axvline(xp, color="crimson", lw=1.2, ls=":")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ymax = float(np.nanmax(y + e)) * 2
    ax.set_ylim(max(float(np.nanmin(y)) / 2, 1e-3), ymax)
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(matplotlib.ticker.FuncFormatter(
        lambda v, _: f"{v:g}" if round(v / 10 ** math.floor(math.log10(v)), 6) in (2, 5) else ""))
    ax.set_xlabel("Parameters per sample p/n")
    ax.set_ylabel(r"Excess test risk $E\,\|\hat\beta - \beta\|^2$")
    ax.set_title("Double descent of ridgeless least squares" + (f" (n = {n}, r² = {r2:g}, σ² = {sigma2:g})"
                                                               if n else ""), fontsize="medium")
    _legend(ax, loc="lower right", frameon=True, framealpha=0.9)
    return ax


# ====================================================================================================
# other reproductions


def optimal_points(points: Any, ax: Axes | None = None, *, by: str = "group", y: str = "n_params",
                   fits: Mapping[str, tuple[float, float]] | None = None, labels: Mapping[str, str] | None = None,
                   scatter_kws: Mapping[str, Any] | None = None, line_kws: Mapping[str, Any] | None = None) -> Axes:
    """Compute-optimal points N*(C) of several configurations with their power-law fits (Porian et al. 2024, Fig. 1).

    Parameters
    ----------
    points : DataFrame or RunTable
        Columns ``flops``, ``y`` (default ``n_params``) and ``by``.
    ax : Axes, optional
    by : str, default ``"group"``
        Column naming the configuration.
    y : str, default ``"n_params"``
    fits : mapping group -> (exponent, coefficient), optional
        Power laws ``y = coefficient · C^exponent`` to draw (the legend shows the exponent).
    labels : mapping group -> str, optional
        Legend labels (default: the group names); also fixes the order.
    scatter_kws, line_kws : dict, optional

    Returns
    -------
    Axes
    """
    where = "of optimal_points()"
    df = _frame(points, where)
    _require_columns(df, ["flops", y, by], where)
    groups = list(labels) if labels else list(dict.fromkeys(df[by]))
    ax = _new_ax(ax, figsize=(6.6, 4.6))
    for i, gname in enumerate(groups):
        sub = df[df[by] == gname]
        color = _OKABE_ITO[i % len(_OKABE_ITO)]
        lab = (labels or {}).get(gname, str(gname))
        skw = _kws(scatter_kws, "scatter_kws", s=26, color=color, edgecolor="k", linewidth=0.4, zorder=4)
        ax.scatter(sub["flops"], sub[y], **skw)
        if fits and gname in fits:
            a, coef = fits[gname]
            cs = np.geomspace(float(sub["flops"].min()) / 1.5, float(sub["flops"].max()) * 1.5, 50)
            lkw = _kws(line_kws, "line_kws", color=color, lw=1.8)
            ax.plot(cs, coef * cs ** a, label=f"{lab}: a = {a:.3f}", **lkw)
        else:
            ax.plot([], [], color=color, marker="o", ls="none", label=lab)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(_label("flops"))
    ax.set_ylabel("Compute-optimal " + _label(y).lower().replace("parameters n", "parameters N*")
                  .replace("training tokens d", "tokens D*"))
    _legend(ax, loc="upper left", title=r"fits $N^* \propto C^{a}$" if fits else None, title_fontsize="small")
    return ax


def overtraining(result: Any, data: Any, ax: Axes | None = None, *, targets: Any = None, context: Any = None,
                 scatter_kws: Mapping[str, Any] | None = None, line_kws: Mapping[str, Any] | None = None) -> Axes:
    """Loss against compute for several token multipliers M = D/N, fit and extrapolations (Gadre et al. 2024, Fig. 1).

    Parameters
    ----------
    result : FitResult or model with ``law`` and ``params``
        A law of ``(n_params, n_tokens)``.
    data : DataFrame or RunTable
        The runs used for the fit (``n_params``, ``n_tokens``, ``loss``): filled circles.
    ax : Axes, optional
    targets : DataFrame or RunTable, optional
        Held-out runs predicted by extrapolation: stars annotated with the relative error.
    context : DataFrame or RunTable, optional
        Other runs, drawn small and grey (not fitted, not predicted).
    scatter_kws, line_kws : dict, optional

    Returns
    -------
    Axes
    """
    where = "of overtraining()"
    m = _resolve(result, where)
    _need_nd(m, where)
    fit_df = _with_flops(_frame(data, where), m.flops_per_token)
    _require_columns(fit_df, ["n_params", "n_tokens", "loss"], where)
    tg = _with_flops(_frame(targets, where), m.flops_per_token) if targets is not None else pd.DataFrame()
    allpts = pd.concat([fit_df, tg], ignore_index=True) if len(tg) else fit_df
    M_all = np.unique(np.round(allpts["n_tokens"] / allpts["n_params"], 6))
    if len(M_all) <= len(_OKABE_ITO) - 1:
        palette = {M: _OKABE_ITO[1 + i] for i, M in enumerate(M_all)}
    else:
        cmap = plt.get_cmap("coolwarm")
        norm = LogNorm(vmin=M_all.min() / 1.2, vmax=M_all.max() * 1.2)
        palette = {M: cmap(norm(M)) for M in M_all}

    def col(M: float) -> Any:
        return palette[M_all[int(np.argmin(np.abs(np.log(M_all) - math.log(M))))]]

    ax = _new_ax(ax)
    ctx = _with_flops(_frame(context, where), m.flops_per_token) if context is not None else pd.DataFrame()
    lo_c = [float(allpts["flops"].min())] + ([float(ctx["flops"].min())] if len(ctx) else [])
    hi_c = [float(allpts["flops"].max())] + ([float(ctx["flops"].max())] if len(ctx) else [])
    cs = np.geomspace(min(lo_c) / 3, max(hi_c) * 3, 200)
    if len(ctx):
        ax.scatter(ctx["flops"], ctx["loss"], s=10, color="0.75", edgecolor="none", zorder=2)
    for M in M_all:
        N = np.sqrt(cs / (m.flops_per_token * M))
        lkw = _kws(line_kws, "line_kws", color=palette[M], lw=1.6, label=f"law at M = {M:g}")
        ax.plot(cs, m.predict(n_params=N, n_tokens=M * N), **lkw)
    skw = _kws(scatter_kws, "scatter_kws", s=40, edgecolor="k", linewidth=0.6, zorder=5)
    Mf = (fit_df["n_tokens"] / fit_df["n_params"]).to_numpy(float)
    ax.scatter(fit_df["flops"], fit_df["loss"], c=[col(v) for v in Mf], **skw)
    handles, _ = ax.get_legend_handles_labels()
    handles.append(Line2D([], [], ls="none", marker="o", mfc="0.6", mec="k",
                          label=f"runs used for the fit ({len(fit_df)})"))
    if len(tg):
        pred = m.predict(n_params=tg["n_params"].to_numpy(float), n_tokens=tg["n_tokens"].to_numpy(float))
        Mt = (tg["n_tokens"] / tg["n_params"]).to_numpy(float)
        ax.scatter(tg["flops"], tg["loss"], marker="*", s=220, c=[col(v) for v in Mt], edgecolor="k",
                   linewidth=0.6, zorder=6)
        for j, (c, lo, pr, n, mt) in enumerate(zip(tg["flops"], tg["loss"], pred, tg["n_params"], Mt)):
            err = 100 * abs(pr - lo) / lo
            ax.annotate(f"N = {_count(n)}, M = {mt:g}: predicted {pr:.3f}, observed {lo:.3f} ({err:.2f}% error)",
                        (c, lo), xycoords="data", textcoords="axes fraction", xytext=(0.03, 0.16 - 0.08 * j),
                        ha="left", va="center", fontsize="small",
                        arrowprops=dict(arrowstyle="->", color="0.35", lw=0.7, shrinkB=6))
        handles.append(Line2D([], [], ls="none", marker="*", ms=13, mfc="0.6", mec="k",
                              label=f"held-out runs, extrapolated ({len(tg)})"))
    if len(ctx):
        handles.append(Line2D([], [], ls="none", marker="o", ms=4, mfc="0.75", mec="none",
                              label=f"other runs, not used ({len(ctx)})"))
    ax.set_xscale("log")
    ax.set_yscale("log")
    _fix_log_loss_ticks(ax)
    ax.set_xlabel(_label("flops"))
    ax.set_ylabel("Validation loss on C4 (nats/token)")
    _legend(ax, handles=handles, loc="upper right", title="token multiplier M = D/N", title_fontsize="small")
    return ax


def data_constrained(model: Any, data: Any, ax: Axes | None = None, *,
                     fixed: Literal["n_tokens", "n_unique_tokens"] = "n_tokens",
                     groups: Sequence[tuple[float, float]] | None = None,
                     scatter_kws: Mapping[str, Any] | None = None, line_kws: Mapping[str, Any] | None = None) -> Axes:
    """Loss against epochs of repeated data (Muennighoff et al. 2023).

    Runs are grouped by parameters N and ``fixed``:

    * ``fixed="n_tokens"`` — the same total tokens D (hence the same compute) spent on fewer unique
      tokens U = D/epochs (the paper's "repeating data at fixed compute" view); the law's curve is
      L(N, D, U = D/epochs) and the dashed line is the same budget with all data unique, L(N, D, ∞);
    * ``fixed="n_unique_tokens"`` — the same unique data U trained for more epochs (D = epochs·U);
      the law's curve is L(N, epochs·U, U) and the dashed curve L(N, epochs·U, ∞).

    Parameters
    ----------
    model : FitResult or model with ``law`` and ``params``
        A law of ``(n_params, n_tokens, n_unique_tokens)`` (``"datablations"``).
    data : DataFrame or RunTable
        Runs with ``n_params``, ``n_tokens``, ``n_unique_tokens``, ``loss``.
    ax : Axes, optional
    fixed : {"n_tokens", "n_unique_tokens"}
    groups : sequence of (N, value of ``fixed``), optional
        The groups to draw; default: the four groups with the most runs spanning >= 4 epochs.
    scatter_kws, line_kws : dict, optional

    Returns
    -------
    Axes
    """
    where = "of data_constrained()"
    if fixed not in ("n_tokens", "n_unique_tokens"):
        raise DataError(format_message("Option fixed", where, "'n_tokens' or 'n_unique_tokens'", repr(fixed)))
    m = _resolve(model, where)
    df = _frame(data, where)
    _require_columns(df, ["n_params", "n_tokens", "n_unique_tokens", "loss"], where)
    if set(m.law.variables) != {"n_params", "n_tokens", "n_unique_tokens"}:
        raise DataError(format_message(f"The law '{m.law.name}'", where, "a law of (n_params, n_tokens, "
                                       "n_unique_tokens)", f"variables {list(m.law.variables)}",
                                       "Use law 'datablations'."))
    df = df.assign(epochs=df["n_tokens"] / df["n_unique_tokens"])
    stats = df.groupby(["n_params", fixed])["epochs"].agg(["count", "min", "max"]).reset_index()
    if groups is None:
        ok = (stats["count"] >= 3) & (stats["max"] / stats["min"] >= 4)
        chosen = stats[ok].sort_values(["count", "max"], ascending=False).head(4)
    else:
        keys = [(float(a), float(b)) for a, b in groups]
        keep = [any(np.isclose(r.n_params, a, rtol=1e-6) and np.isclose(getattr(r, fixed), b, rtol=1e-6)
                    for a, b in keys) for r in stats.itertuples()]
        chosen = stats[np.asarray(keep, dtype=bool)]
    chosen = chosen.sort_values(["n_params", fixed])
    if chosen.empty:
        raise DataError(format_message("Argument 'data'", where, "runs repeating data (>= 3 runs over >= 4x the "
                                       "epochs for some group)", "none", "Pass the datablations runs, or groups=."))
    ax = _new_ax(ax, figsize=(6.8, 4.6))
    sym = SYMBOLS[fixed]
    for i, (_, row) in enumerate(chosen.iterrows()):
        N, V = float(row["n_params"]), float(row[fixed])
        sub = df[np.isclose(df["n_params"], N) & np.isclose(df[fixed], V)]
        color = _OKABE_ITO[1 + i % (len(_OKABE_ITO) - 1)]
        ep = np.geomspace(max(float(sub["epochs"].min()) / 1.5, 0.5), float(sub["epochs"].max()) * 1.5, 200)
        if fixed == "n_tokens":
            D, U = np.full_like(ep, V), V / ep
        else:
            D, U = ep * V, np.full_like(ep, V)
        lkw = _kws(line_kws, "line_kws", color=color, lw=1.8)
        Nv = np.full_like(ep, N)
        ax.plot(ep, m.predict(n_params=Nv, n_tokens=D, n_unique_tokens=U),
                label=f"N = {_count(N)}, {sym} = {_count(V)} tokens", **lkw)
        ax.plot(ep, m.predict(n_params=Nv, n_tokens=D, n_unique_tokens=np.full_like(ep, 1e30)), color=color, lw=1,
                ls="--", alpha=0.9)
        skw = _kws(scatter_kws, "scatter_kws", s=26, color=color, edgecolor="k", linewidth=0.4, zorder=4)
        ax.scatter(sub["epochs"], sub["loss"], **skw)
    handles, _ = ax.get_legend_handles_labels()
    handles += [Line2D([], [], color="0.4", lw=1.8, label=f"{m.label} (repeated data)"),
                Line2D([], [], color="0.4", lw=1, ls="--", label="same law if all tokens were unique"),
                Line2D([], [], ls="none", marker="o", mfc="0.6", mec="k", label="runs (final loss)")]
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    ax.set_xlabel(_label("epochs") + (" (same total tokens D)" if fixed == "n_tokens" else " (same unique tokens U)"))
    ax.set_ylabel("Final validation loss (nats/token)")
    _legend(ax, handles=handles, loc="best")
    return ax


def parameter_comparison(table: pd.DataFrame, ax: Axes | None = None, *, reference: str | None = None,
                         scatter_kws: Mapping[str, Any] | None = None) -> Axes:
    """Estimates of the same parameters from several sources, as ratios to a reference (log scale).

    Parameters
    ----------
    table : DataFrame
        Rows = parameters, columns = sources (e.g. ``Hoffmann (TeX)``, ``Epoch``, ``ours``); optional
        columns ``<source> lower`` / ``<source> upper`` give intervals.
    ax : Axes, optional
    reference : str, optional
        Source the ratios are taken to (default: the first column).
    scatter_kws : dict, optional

    Returns
    -------
    Axes
    """
    where = "of parameter_comparison()"
    if not isinstance(table, pd.DataFrame) or table.empty:
        raise DataError(format_message("Argument 'table'", where, "a non-empty DataFrame", type(table).__name__))
    sources = [c for c in table.columns if not str(c).endswith((" lower", " upper"))]
    reference = reference or sources[0]
    if reference not in sources:
        raise DataError(format_message("Option reference", where, f"one of {sources}", repr(reference)))
    ax = _new_ax(ax, figsize=(8.4, 0.55 * len(table) + 2.2))
    params = list(table.index)
    ypos = np.arange(len(params))[::-1]
    markers = ["o", "s", "D", "^", "v", "P"]
    width = 0.6 / max(len(sources), 1)
    for j, s in enumerate(sources):
        ratio = table[s].to_numpy(float) / table[reference].to_numpy(float)
        yy = ypos + 0.3 - (j + 0.5) * width
        skw = _kws(scatter_kws, "scatter_kws", s=40, marker=markers[j % len(markers)], zorder=4,
                   edgecolor="k", linewidth=0.5)
        ax.scatter(ratio, yy, label=s, **skw)
        if f"{s} lower" in table.columns:
            lo = table[f"{s} lower"].to_numpy(float) / table[reference].to_numpy(float)
            hi = table[f"{s} upper"].to_numpy(float) / table[reference].to_numpy(float)
            ax.hlines(yy, lo, hi, color="k", lw=1, zorder=3)
    ax.axvline(1, color="k", lw=0.8)
    ax.set_yticks(ypos, [str(p) for p in params])
    ax.set_xscale("log")
    fmt = matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}")
    ax.xaxis.set_major_formatter(fmt)
    ax.xaxis.set_minor_formatter(matplotlib.ticker.FuncFormatter(
        lambda v, _: f"{v:g}" if round(v / 10 ** math.floor(math.log10(v)), 6) in (2, 5) else ""))
    ax.set_xlabel(f"Estimate / {reference} estimate (log scale)")
    ax.grid(True, axis="x", which="both", color="0.92", lw=0.5)
    _legend(ax, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return ax


# ====================================================================================================
# figures and saving


def curve_fits(results: Mapping[str, Any], variable: str, ax: Axes | None = None, *, peak: Any = None,
               title: str | None = None, scatter_kws: Mapping[str, Any] | None = None) -> Axes:
    """One curve of data with several fitted laws over it (e.g. a monotone law and a BNSL on a bump).

    Parameters
    ----------
    results : mapping of label -> FitResult
        Fits of the same points (the first one's ``data`` is drawn); each law is drawn over the data's
        range of ``variable`` (log axis).
    variable : str
        The law variable on the x axis (``"n_tokens"``, ``"n_params"``, ...).
    peak : PeakResult, optional
        From :func:`scaling.doubledescent.find_peak` on the data: its bracket is shaded and the peak marked.

    Returns
    -------
    Axes
    """
    from .estimation.result import FitResult

    if not results or not all(isinstance(r, FitResult) for r in results.values()):
        raise DataError(format_message("Argument 'results'", "of curve_fits()", "a non-empty mapping of label -> "
                                       "FitResult", type(results).__name__))
    first = next(iter(results.values()))
    data = first.data
    if variable not in data.columns:
        raise DataError(format_message("Argument 'variable'", "of curve_fits()", f"one of {list(first.law.variables)}",
                                       repr(variable)))
    ax = _new_ax(ax)
    x = data[variable].to_numpy(float)
    y = data["loss"].to_numpy(float)
    xs = np.geomspace(x.min(), x.max(), 600)
    for (label, res), color in zip(results.items(), _OKABE_ITO[1:]):
        others = {v: np.full_like(xs, float(np.median(res.data[v]))) for v in res.law.variables if v != variable}
        ax.plot(xs, res.predict(**{variable: xs, **others}), color=color, lw=2,
                label=f"fit: {label} (objective {res.objective:.3g})")
    if peak is not None and getattr(peak, "found", False):
        ax.axvspan(*peak.x_bracket, color=_GREY, alpha=0.15, lw=0, label="bracket of the bump (data)")
        ax.plot([peak.x_peak], [peak.y_peak], marker="v", ms=10, color="k", ls="none",
                label=f"peak near {SYMBOLS.get(variable, variable)} = {peak.x_peak:.2g}")
    skw = _kws(scatter_kws, "scatter_kws", s=28, color="k", zorder=3, label=f"runs ({len(y)})")
    ax.scatter(x, y, **skw)
    ax.set_xscale("log")
    ax.set_xlabel(_label(variable))
    ax.set_ylabel(_label("loss"))
    if title:
        ax.set_title(title)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8)
    return ax


def subplots(nrows: int = 1, ncols: int = 1, *, figsize: tuple[float, float] | None = None,
             sharey: bool = False) -> tuple[Figure, Any]:
    """A new figure with a grid of Axes (constrained layout), for multi-panel figures.

    Returns ``(figure, axes)`` as :func:`matplotlib.pyplot.subplots` does (one Axes, or an array).
    """
    size = figsize or (_FIGSIZE[0] * ncols, _FIGSIZE[1] * nrows)
    fig, axes = plt.subplots(nrows, ncols, figsize=size, layout="constrained", sharey=sharey)
    return fig, axes



def save_figure(figure: Figure | Axes, path: str | Path, formats: Sequence[str] = ("png", "pdf"), *,
                dpi: int = 150, close: bool = True) -> list[Path]:
    """Save a figure under ``path`` (suffix replaced) in each format; return the paths written.

    Parameters
    ----------
    figure : Figure or Axes
    path : str or Path
        Output path; its suffix (if any) is replaced by each format's.
    formats : sequence of str, default ("png", "pdf")
    dpi : int, default 150
        Resolution of raster formats.
    close : bool, default True
        Close the figure afterwards (frees memory in loops).
    """
    fig = figure.figure if isinstance(figure, Axes) else figure
    if not isinstance(fig, Figure):
        raise TypeError(f"figure must be a matplotlib Figure or Axes; got {type(figure).__name__}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    out = []
    for f in formats:
        p = path.with_suffix("." + f.lstrip("."))
        fig.savefig(p, dpi=dpi, metadata=_metadata(f))
        out.append(p)
    if close:
        plt.close(fig)
    return out


def _metadata(fmt: str) -> dict[str, Any] | None:
    # deterministic files: no creation date in PDF/SVG
    fmt = fmt.lower().lstrip(".")
    if fmt == "pdf":
        return {"CreationDate": None, "Creator": "scaling"}
    if fmt == "svg":
        return {"Date": None, "Creator": "scaling"}
    if fmt == "png":
        return {"Software": "scaling"}
    return None
