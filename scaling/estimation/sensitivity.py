"""``sensitivity``: refit one table across a grid of reasonable fitting choices — the law's form, the
objective (Huber delta, squared), the subset of runs — and compare the spread of a conclusion across
them with the bootstrap interval of the default choice.

Li et al. 2025 ("(Mis)Fitting: A Survey of Scaling Laws") show that such choices move conclusions more
than a bootstrap interval admits (tokens per parameter at Chinchilla's budget from about 0.05 to 28 on
one public sweep). A bootstrap interval only describes resampling noise *given* the choices; when the
spread across choices exceeds it, :class:`~scaling.errors.SensitivityWarning` says so.

>>> import scaling as sc                                                       # doctest: +SKIP
>>> s = sc.sensitivity(runs, laws={"free": {}, "tied": {"tied": {"beta": "alpha"}}},
...                    losses=["huber", "squared"], deltas=[1e-3, 1e-1],
...                    subsets={"all": None, "largest-compute half": "top_half_flops"},
...                    quantity="n_opt", flops=5.76e23)                        # doctest: +SKIP
>>> s.to_frame(); s.plot()                                                      # doctest: +SKIP
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError, ScalingWarning, SensitivityWarning, format_message

__all__ = ["sensitivity", "Sensitivity", "top_half_flops"]

QUANTITIES = ("n_opt", "d_opt", "tokens_per_param", "loss", "a", "b", "G")


def top_half_flops(frame: pd.DataFrame) -> np.ndarray:
    """Subset helper: the runs at or above the median training compute (``flops``; 6ND if absent)."""
    c = frame["flops"] if "flops" in frame.columns else 6.0 * frame["n_params"] * frame["n_tokens"]
    c = pd.to_numeric(c, errors="coerce").to_numpy(dtype=float)
    return c >= np.nanmedian(c)


_NAMED_SUBSETS: dict[str, Callable[[pd.DataFrame], np.ndarray]] = {"top_half_flops": top_half_flops}


@dataclass(frozen=True)
class Sensitivity:
    """Outcome of :func:`sensitivity`.

    ``table`` (DataFrame): one row per choice — ``law``, ``loss``, ``delta``, ``subset``, ``n_points``,
    ``estimate`` of the quantity, ``objective``, ``status``, ``default`` (bool), ``n_flags``; ``default_interval``
    (lower, upper) of the default choice at ``level``; ``spread`` = max - min of the estimates;
    ``dominates`` = spread > interval width; ``results`` (FitResult per choice, same order).
    """

    quantity: str
    label: str
    table: pd.DataFrame
    default_interval: tuple[float, float]
    level: float
    results: tuple[Any, ...] = field(repr=False, default=())

    def __post_init__(self) -> None:
        object.__setattr__(self, "table", self.table.copy())

    @property
    def spread(self) -> float:
        v = self.table["estimate"].to_numpy(dtype=float)
        v = v[np.isfinite(v)]
        return float(v.max() - v.min()) if v.size else math.nan

    @property
    def ratio_range(self) -> float:
        """max / min of the estimates (for positive quantities such as N_opt)."""
        v = self.table["estimate"].to_numpy(dtype=float)
        v = v[np.isfinite(v) & (v > 0)]
        return float(v.max() / v.min()) if v.size else math.nan

    @property
    def dominates(self) -> bool:
        lo, hi = self.default_interval
        return bool(self.spread > hi - lo)

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def __str__(self) -> str:
        lo, hi = self.default_interval
        head = (f"{self.label}: default choice {self.table.loc[self.table['default'], 'estimate'].iloc[0]:.4g}, "
                f"{self.level:.0%} bootstrap interval [{lo:.4g}, {hi:.4g}]; across {len(self.table)} choices "
                f"{self.table['estimate'].min():.4g} .. {self.table['estimate'].max():.4g} "
                f"({'exceeds' if self.dominates else 'within'} the interval)")
        cols = ["law", "loss", "delta", "subset", "n_points", "estimate", "status"]
        return head + "\n" + self.table[cols].to_string(index=False)

    def plot(self, ax: Any = None, log: bool | None = None, reference: tuple[float, str] | None = None) -> Any:
        """One row per choice: the estimate (point), the default choice's bootstrap interval (band and
        bar on its row); ``reference=(value, label)`` draws a vertical line (e.g. the observed loss).
        Returns the matplotlib Axes."""
        import matplotlib.pyplot as plt

        t = self.table
        n = len(t)
        if ax is None:
            _, ax = plt.subplots(figsize=(8.5, 1.6 + 0.36 * n), constrained_layout=True)
        lo, hi = self.default_interval
        y = np.arange(n)[::-1]
        ax.axvspan(lo, hi, color="tab:blue", alpha=0.15, lw=0,
                   label=f"default choice: {self.level:.0%} bootstrap interval")
        d = t["default"].to_numpy(dtype=bool)
        est = t["estimate"].to_numpy(dtype=float)
        ax.errorbar(est[d], y[d], xerr=[[est[d][0] - lo], [hi - est[d][0]]], fmt="o", color="tab:blue",
                    capsize=3, label="default choice")
        ax.plot(est[~d], y[~d], "o", color="tab:orange", label="other choices (point estimate)")
        if reference is not None:
            ax.axvline(float(reference[0]), color="k", ls="--", lw=1, label=reference[1])
        labels = [f"{r.law} | {r.loss}{'' if not np.isfinite(r.delta) else f' δ={r.delta:g}'} | {r.subset}"
                  for r in t.itertuples()]
        ax.set_yticks(y, labels, fontsize=8)
        ax.set_ylim(-0.7, n - 0.3)
        pos = est[np.isfinite(est)]
        if log is None:
            log = bool(pos.size and np.all(pos > 0) and lo > 0 and max(pos.max(), hi) / min(pos.min(), lo) > 5)
        if log:
            import matplotlib.ticker as mticker

            ax.set_xscale("log")
            ax.xaxis.set_major_locator(mticker.LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
            ax.xaxis.set_major_formatter(mticker.FuncFormatter(lambda v, _: f"{v:.3g}"))
            ax.xaxis.set_minor_formatter(mticker.NullFormatter())
        ax.set_xlabel(self.label)
        ax.grid(axis="x", alpha=0.3, which="both")
        ax.figure.legend(*ax.get_legend_handles_labels(), fontsize=8, loc="outside lower center", ncol=3,
                         frameon=False)
        ax.set_title(f"Sensitivity to fitting choices (law | objective | runs)\nspread across choices "
                     f"{'exceeds' if self.dominates else 'is within'} the default choice's bootstrap interval",
                     fontsize=10)
        return ax


def _label(quantity: str, flops: Any, n_params: Any, n_tokens: Any) -> str:
    if quantity in ("n_opt", "d_opt", "tokens_per_param"):
        name = {"n_opt": "N_opt (parameters)", "d_opt": "D_opt (tokens)", "tokens_per_param": "D_opt / N_opt"}[quantity]
        return f"{name} at C = {float(flops):.3g} FLOPs"
    if quantity == "loss":
        return f"loss at N = {float(n_params):.3g}, D = {float(n_tokens):.3g} (nats/token)"
    if quantity == "a":
        return "a = beta / (alpha + beta)"
    return quantity


def _point(result: Any, quantity: str, flops: Any, n_params: Any, n_tokens: Any, k: float) -> float:
    """The quantity at the fit's parameters (no interval)."""
    from ..predict import compute_optimal

    p = result.params
    if quantity in p.index:
        return float(p[quantity])
    if quantity in ("a", "b", "G"):
        al, be = float(p["alpha"]), float(p["beta"])
        if quantity == "a":
            return be / (al + be)
        if quantity == "b":
            return al / (al + be)
        return float((al * p["A"] / (be * p["B"])) ** (1.0 / (al + be)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # extrapolation is the point of the question; not warned per choice
        if quantity == "loss":
            return float(np.asarray(result.predict(float(n_params), float(n_tokens)), dtype=float).ravel()[0])
        alloc = compute_optimal((result.law, p), float(flops), flops_model=k)
    n = float(np.asarray(alloc.n_params, dtype=float).ravel()[0])
    d = float(np.asarray(alloc.n_tokens, dtype=float).ravel()[0])
    return {"n_opt": n, "d_opt": d, "tokens_per_param": d / n}[quantity]


def _subset_mask(spec: Any, frame: pd.DataFrame, label: str) -> np.ndarray | None:
    if spec is None:
        return None
    if isinstance(spec, str):
        if spec not in _NAMED_SUBSETS:
            raise DataError(format_message(f"Subset '{label}'", "of sensitivity()", f"a mask, a function, None or one "
                                           f"of {sorted(_NAMED_SUBSETS)}", repr(spec)))
        spec = _NAMED_SUBSETS[spec]
    m = spec(frame) if callable(spec) else spec
    m = np.asarray(m)
    if m.dtype != bool or m.shape != (len(frame),):
        raise DataError(format_message(f"Subset '{label}'", "of sensitivity()",
                                       f"a boolean mask of length {len(frame)}",
                                       f"dtype {m.dtype}, shape {m.shape}",
                                       "Pass e.g. lambda f: f.flops >= f.flops.median()."))
    return m


def _fit_choice(table: Any, law: Any, options: Mapping[str, Any], loss: str, delta: float | None,
                mask: np.ndarray | None, subset: str, uncertainty: Any, rng: Any) -> tuple[Any, list[str]]:
    from .fitting import fit

    t = table if mask is None else table.filter(mask, reason=f"not in subset '{subset}' (sensitivity)")
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        res = fit(t, law, loss=loss, delta=delta, uncertainty=uncertainty, rng=rng, **dict(options))
    return res, [f"{w.category.__name__}: {w.message}" for w in rec if issubclass(w.category, ScalingWarning)]


def sensitivity(table: Any, *, laws: Mapping[str, Any] | Sequence[Any] | None = None,
                losses: Sequence[str] | None = None, deltas: Sequence[float] | None = None,
                subsets: Mapping[str, Any] | None = None, quantity: str = "n_opt", flops: float | None = None,
                n_params: float | None = None, n_tokens: float | None = None, flops_per_token: float = 6.0,
                uncertainty: Any = None, level: float = 0.95, rng: int | np.random.Generator | None = 0,
                n_jobs: int | None = None) -> Sensitivity:
    """Refit ``table`` under every combination of choices and compare a conclusion across them.

    Parameters
    ----------
    table : RunTable or DataFrame
    laws : mapping label -> law options, or list of law names
        e.g. ``{"free": {}, "tied exponents": {"tied": {"beta": "alpha"}}, "E fixed": {"fixed": {"E": 1.69}}}``
        (options: ``law`` (default "chinchilla"), ``fixed``, ``tied``, ``starts``). The first is the default.
    losses : list of objective names (default ``["huber"]``); the first is the default.
    deltas : Huber deltas tried with each Huber-type loss (default ``[1e-3]``); the first is the default.
    subsets : mapping label -> None (all rows), a boolean mask, a function of the table's frame, or
        ``"top_half_flops"``; the first is the default.
    quantity : "n_opt", "d_opt", "tokens_per_param" (at ``flops``), "loss" (at ``n_params``, ``n_tokens``),
        "a", "b", "G", or a parameter name ("alpha", ...).
    uncertainty : the default choice's uncertainty (default ``Bootstrap(n=200)``).
    level : interval level.
    rng : seed for the bootstrap; n_jobs : joblib workers across choices (any joblib backend).

    Returns
    -------
    Sensitivity

    Warns
    -----
    SensitivityWarning
        The spread of the quantity across choices exceeds the width of the default choice's interval.
    """
    from .fitting import as_table
    from .uncertainty import Bootstrap, derived

    table = as_table(table, "sensitivity()")
    if quantity not in QUANTITIES and quantity not in ("E", "A", "B", "alpha", "beta"):
        raise DataError(format_message("Option quantity", "of sensitivity()", f"one of {list(QUANTITIES)} or a "
                                       "parameter name", repr(quantity)))
    if quantity in ("n_opt", "d_opt", "tokens_per_param") and flops is None:
        raise DataError(format_message("Option flops", "of sensitivity()", f"a compute budget for '{quantity}'",
                                       "None", "Pass flops=5.76e23 (Chinchilla's budget), for example."))
    if quantity == "loss" and (n_params is None or n_tokens is None):
        raise DataError(format_message("Options n_params and n_tokens", "of sensitivity()", "given for 'loss'",
                                       "None", "Pass n_params=7e10, n_tokens=1.4e12, for example."))
    if laws is None:
        law_items: list[tuple[str, dict[str, Any]]] = [("chinchilla", {})]
    elif isinstance(laws, Mapping):
        law_items = [(str(k), dict(v or {})) for k, v in laws.items()]
    else:
        law_items = [(str(v), {"law": v}) for v in laws]
    loss_list = list(losses or ["huber"])
    delta_list = list(deltas or [1e-3])
    subset_items = list((subsets or {"all runs": None}).items())
    frame = table.to_frame()
    masks = {lab: _subset_mask(spec, frame, lab) for lab, spec in subset_items}
    choices = []
    for (llab, lopt), loss, (slab, _) in itertools.product(law_items, loss_list, subset_items):
        ds = delta_list if loss in ("huber", "huber_likelihood") else [math.nan]
        for d in ds:
            choices.append((llab, lopt, loss, d, slab))
    unc = Bootstrap(n=200) if uncertainty is None else uncertainty
    jobs = []
    for i, (_llab, lopt, loss, d, slab) in enumerate(choices):
        opts = {k: v for k, v in lopt.items() if k != "law"}
        jobs.append((table, lopt.get("law", "chinchilla"), opts, loss, None if not np.isfinite(d) else d,
                     masks[slab], slab, unc if i == 0 else None, rng if i == 0 else None))
    if n_jobs is None or n_jobs == 1:
        out = [_fit_choice(*j) for j in jobs]
    else:
        from joblib import Parallel, delayed

        out = Parallel(n_jobs=n_jobs)(delayed(_fit_choice)(*j) for j in jobs)
    rows = []
    for i, ((llab, _lopt, loss, d, slab), (res, warns)) in enumerate(zip(choices, out)):
        rows.append({"law": llab, "loss": loss, "delta": d, "subset": slab, "n_points": res.n_points,
                     "estimate": _point(res, quantity, flops, n_params, n_tokens, flops_per_token),
                     "objective": res.objective, "status": res.starts["status"].iloc[
                         int(np.argmin(res.starts["objective"].to_numpy()))] if res.starts is not None else "",
                     "default": i == 0, "n_flags": len(res.flags), "warnings": " | ".join(warns)})
    tab = pd.DataFrame(rows)
    base = out[0][0]
    if quantity in base.params.index:
        ci = base.ci(level)
        lo, hi = float(ci.loc[quantity].iloc[0]), float(ci.loc[quantity].iloc[1])
    else:
        dq = derived(base, quantity, level, flops=flops, n_params=n_params, n_tokens=n_tokens,
                     flops_per_token=flops_per_token)
        lo, hi = float(dq["lower"].iloc[0]), float(dq["upper"].iloc[0])
    label = _label(quantity, flops, n_params, n_tokens)
    sens = Sensitivity(quantity=quantity, label=label, table=tab, default_interval=(lo, hi), level=level,
                       results=tuple(r for r, _ in out))
    if sens.dominates:
        est = tab["estimate"]
        i_min, i_max = int(est.idxmin()), int(est.idxmax())

        def name(i: int) -> str:
            r = tab.iloc[i]
            dl = "" if not np.isfinite(r["delta"]) else f" delta={r['delta']:g}"
            return f"{r['law']} / {r['loss']}{dl} / {r['subset']}"

        warnings.warn(f"{label} ranges from {est.min():.4g} ({name(i_min)}) to {est.max():.4g} ({name(i_max)}) "
                      f"across {len(tab)} fitting choices (spread {sens.spread:.3g}), more than the width "
                      f"{hi - lo:.3g} of the default choice's {level:.0%} bootstrap interval [{lo:.4g}, {hi:.4g}]: "
                      "the interval understates the uncertainty. Report the range across choices "
                      "(Sensitivity.to_frame(), .plot()) and settle the choice on held-out runs (sc.backtest).",
                      SensitivityWarning, stacklevel=2)
    return sens
