r"""Extrapolation backtests: fit a law on the smaller runs, predict the larger held-out ones.

The error of a prediction is the **absolute relative error** (Choshen, Zhang, Andreas 2024, "A
Hitchhiker's Guide to Scaling Law Estimation", arXiv 2410.11840):

.. math:: \mathrm{ARE}_i = \frac{|\hat L_i - L_i|}{L_i}

where :math:`L_i` is the observed loss of held-out run i and :math:`\hat L_i` the fitted law's
prediction at its (N, D). They report ≈4 % ARE as the bar for decision-useful laws (seed variation
alone is ≈3.5 %) [secondary source]. Gadre et al. 2024 (arXiv 2403.08540) report 0.71 % and 0.73 %
for their 1.4B and 6.9B RedPajama models extrapolated from five small runs.

>>> from scaling.datasets import load_dataset                          # doctest: +SKIP
>>> bt = backtest(load_dataset("epoch_chinchilla", drop_highest_loss=5), fraction=0.1)  # doctest: +SKIP
>>> print(bt.summary())                                                 # doctest: +SKIP
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from ..errors import DataError, format_message, format_rows
from ..laws import Law
from .._serialize import frame_from_json as _frame_from_json
from .._serialize import frame_to_json as _frame_to_json
from .._serialize import jsonable as _jsonable
from .result import FitResult, Summary

__all__ = ["BacktestResult", "backtest"]

HoldoutColumn = Literal["flops", "n_params", "n_tokens"]
_HOLDOUT_COLUMNS = ("flops", "n_params", "n_tokens")
#: fit() keywords that backtest sets itself (the table, the law) or takes as its own arguments
_RESERVED_FIT_KEYS = ("table", "law", "uncertainty", "rng")


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class BacktestResult:
    r"""Outcome of :func:`backtest`. Immutable; frames and arrays are copies.

    Attributes
    ----------
    law : str
        The fitted law's name.
    fit : FitResult
        The fit on the training rows only (``fit.n_points == n_train``).
    level : float
        Level of the prediction intervals.
    selection : dict
        How rows were split: ``mode`` (``'n_holdout'``, ``'fraction'``, ``'threshold'`` or ``'mask'``),
        ``column``, the option's value and ``cutoff`` (held out: ``column >= cutoff``).
    n_train, n_holdout, n_unused : int
        Rows fitted, predicted, and in neither set (only with an explicit ``train_mask``).
    mean_are, median_are, max_are : float
        Summary of the held-out absolute relative errors (fractions, not %).
    train_rows : numpy.ndarray
        0-based input rows (``table.source_rows``) that were fitted.
    predictions : pandas.DataFrame
        One row per held-out run: ``row`` (0-based input row), ``run``/``group`` when present,
        ``n_params``, ``n_tokens``, ``flops``, ``loss`` (observed), ``predicted``, ``lower``, ``upper``
        (prediction interval at ``level``; NaN without fit uncertainty), ``are``, ``are_lower``,
        ``are_upper`` (the ARE range over the interval: 0 when it covers the observation),
        ``covered`` (observation inside the interval; missing without uncertainty).
    """

    law: str
    fit: FitResult
    level: float
    n_train: int
    n_holdout: int
    n_unused: int
    mean_are: float
    median_are: float
    max_are: float
    _selection: Mapping[str, Any] = field(repr=False)
    _train_rows: NDArray[np.int64] = field(repr=False)
    _predictions: pd.DataFrame = field(repr=False)

    selection = property(lambda self: dict(self._selection))
    train_rows = property(lambda self: self._train_rows.copy())
    predictions = property(lambda self: self._predictions.copy())

    @property
    def has_intervals(self) -> bool:
        """Whether the predictions carry intervals (the fit had samples or a covariance)."""
        return bool(np.isfinite(self._predictions["lower"].to_numpy(dtype=float)).any())

    def to_frame(self) -> pd.DataFrame:
        """The held-out predictions (a copy; see :attr:`predictions`)."""
        return self._predictions.copy()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-compatible dict; :meth:`from_dict` rebuilds the result exactly."""
        return {
            "kind": "scaling.BacktestResult",
            "law": self.law,
            "level": self.level,
            "selection": _jsonable(dict(self._selection)),
            "n_train": self.n_train, "n_holdout": self.n_holdout, "n_unused": self.n_unused,
            "mean_are": self.mean_are, "median_are": self.median_are, "max_are": self.max_are,
            "train_rows": [int(r) for r in self._train_rows],
            "predictions": _frame_to_json(self._predictions),
            "fit": self.fit.to_dict(),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], law: Law | None = None) -> BacktestResult:
        """Rebuild a result from :meth:`to_dict` output (pass ``law`` for a custom law)."""
        if d.get("kind") != "scaling.BacktestResult":
            raise DataError(format_message("The JSON", "", "a saved scaling.BacktestResult", repr(d.get("kind")),
                                           "Save backtests with json.dumps(result.to_dict())."))
        preds = _frame_from_json(d["predictions"])
        assert preds is not None
        preds["covered"] = pd.Series([None if v is None else str(v) == "True" for v in preds["covered"]],
                                     dtype=object)
        rows = np.array(d["train_rows"], dtype=np.int64)
        rows.flags.writeable = False
        return cls(law=d["law"], fit=FitResult.from_dict(d["fit"], law=law), level=float(d["level"]),
                   n_train=int(d["n_train"]), n_holdout=int(d["n_holdout"]), n_unused=int(d["n_unused"]),
                   mean_are=float(d["mean_are"]), median_are=float(d["median_are"]), max_are=float(d["max_are"]),
                   _selection=dict(d["selection"]), _train_rows=rows, _predictions=preds)

    def summary(self) -> Summary:
        """The held-out errors and the settings that matter (``str()`` it to print)."""
        s = self._selection
        col = s.get("column")
        if s.get("mode") == "mask":
            how = "explicit masks"
        else:
            how = f"{s['mode']} = {s.get(s['mode'])!r} by {col} (held out: {col} >= {s.get('cutoff'):.4g})"
        header = [
            ("law", f"{self.fit.law.name}: {self.fit.law.formula}"),
            ("objective", f"{self.fit.loss}" + (f" (delta={self.fit.delta:g})" if "huber" in self.fit.loss else "")),
            ("split", f"{self.n_train} rows fitted, {self.n_holdout} held out ({how})"
                      + (f", {self.n_unused} unused" if self.n_unused else "")),
            ("ARE", f"mean {100 * self.mean_are:.4g} %, median {100 * self.median_are:.4g} %, "
                    f"max {100 * self.max_are:.4g} %"),
        ]
        if self.has_intervals:
            header.append(("intervals", f"{self.level:.0%} prediction intervals from the fit's "
                                        f"{(self.fit.uncertainty or {}).get('method', 'uncertainty')}"))
        cols = [c for c in ("row", "run", "n_params", "n_tokens", "loss", "predicted", "lower", "upper", "are")
                if c in self._predictions.columns]
        table = self._predictions[cols].copy()
        table["are %"] = 100 * table.pop("are")
        if not self.has_intervals:
            table = table.drop(columns=["lower", "upper"])
        return Summary(header, table.set_index("row"), list(self.fit.flags))

    def __repr__(self) -> str:
        return (f"<BacktestResult {self.law}: {self.n_holdout} held out, mean ARE {100 * self.mean_are:.3g} % "
                f"(max {100 * self.max_are:.3g} %); fitted on {self.n_train} rows>")

    __str__ = __repr__


# ====================================================================================================


def _mask_of(name: str, mask: ArrayLike, n: int) -> NDArray[np.bool_]:
    if isinstance(mask, (pd.Series, pd.Index)):
        if mask.isna().any():
            raise DataError(format_message(f"Option {name}", "of backtest()", "boolean without missing values",
                                           "missing values", "Fill them, e.g. mask.fillna(False)."))
        mask = mask.to_numpy()
    arr = np.asarray(mask)
    if arr.dtype != np.bool_ or arr.shape != (n,):
        got = f"dtype {arr.dtype}" if arr.dtype != np.bool_ else f"shape {arr.shape}"
        raise DataError(format_message(f"Option {name}", "of backtest()",
                                       f"a boolean array with one value per table row ({n},)", got,
                                       "Build it by comparison, e.g. table.flops >= 1e21."))
    return arr


def _select(values: NDArray[np.float64], *, n_holdout: int | None, fraction: float | None,
            threshold: float | None, column: str) -> tuple[NDArray[np.bool_], dict[str, Any]]:
    """Held-out rows by the criterion column: the top distinct values, a top fraction, or a threshold."""
    n = len(values)
    distinct = np.unique(values)
    if threshold is not None:
        mode, value = "threshold", threshold
        cutoff = float(threshold)
    elif fraction is not None:
        mode, value = "fraction", fraction
        m = max(1, math.ceil(fraction * n))
        cutoff = float(np.sort(values)[n - m])
    else:
        mode, value = "n_holdout", n_holdout if n_holdout is not None else 1
        assert isinstance(value, int)
        if value >= len(distinct):
            raise DataError(format_message(
                "Option n_holdout", "of backtest()", f"smaller than the number of distinct {column} values "
                f"({len(distinct)}), so that some rows remain to fit", repr(value),
                "n_holdout counts distinct values of the holdout column (all rows sharing a value go together)."))
        cutoff = float(distinct[len(distinct) - value])
    hold = values >= cutoff
    return hold, {"mode": mode, mode: value, "column": column, "cutoff": cutoff}


def _check_fit_options(fit_options: Mapping[str, Any] | None) -> dict[str, Any]:
    from . import fit as fit_fn

    if fit_options is None:
        return {}
    if not isinstance(fit_options, Mapping):
        raise DataError(format_message("Option fit_options", "of backtest()", "a mapping of fit() keywords",
                                       repr(fit_options), "e.g. fit_options={'loss': 'squared'}."))
    accepted = [p for p in inspect.signature(fit_fn).parameters if p not in _RESERVED_FIT_KEYS]
    for key in fit_options:
        if key in _RESERVED_FIT_KEYS:
            raise TypeError(f"backtest(): fit_options may not contain {key!r}; "
                            + ("pass it to backtest() directly." if key in ("uncertainty", "rng")
                               else "backtest() passes the training table and law itself."))
        if key not in accepted:
            raise TypeError(f"backtest(): unknown fit option {key!r}; fit() accepts {accepted}")
    return dict(fit_options)


def _score(fit_result: FitResult, held: pd.DataFrame, rows: NDArray[np.int64], level: float) -> pd.DataFrame:
    """Predictions and absolute relative errors for the held-out rows."""
    law = fit_result.law
    missing = [v for v in law.variables if v not in held.columns]
    if missing:
        raise DataError(format_message("The held-out rows", "of backtest()", f"to have the law's variables "
                                       f"{list(law.variables)}", f"columns {list(held.columns)}",
                                       f"Add {missing} to the table."))
    X = {v: held[v].to_numpy(dtype=np.float64) for v in law.variables}
    pred = np.asarray(fit_result.predict(**X), dtype=np.float64)
    obs = held["loss"].to_numpy(dtype=np.float64)
    lower = np.full(len(obs), np.nan)
    upper = np.full(len(obs), np.nan)
    if fit_result.samples is not None or fit_result.cov is not None:
        band = fit_result.predict(**X, level=level)
        lower = band["lower"].to_numpy(dtype=np.float64)
        upper = band["upper"].to_numpy(dtype=np.float64)
    are = np.abs(pred - obs) / obs
    has = np.isfinite(lower) & np.isfinite(upper)
    covered_arr = (lower <= obs) & (obs <= upper)
    with np.errstate(invalid="ignore"):
        d_lo, d_hi = np.abs(lower - obs) / obs, np.abs(upper - obs) / obs
    are_lower = np.where(has, np.where(covered_arr, 0.0, np.minimum(d_lo, d_hi)), np.nan)
    are_upper = np.where(has, np.maximum(d_lo, d_hi), np.nan)
    out = pd.DataFrame({"row": np.asarray(rows, dtype=np.int64)})
    for c in ("run", "group"):
        if c in held.columns:
            out[c] = held[c].to_numpy()
    for c in ("n_params", "n_tokens", "flops"):
        out[c] = held[c].to_numpy(dtype=np.float64)
    for c in law.variables:
        if c not in out.columns:
            out[c] = X[c]
    out["loss"] = obs
    out["predicted"] = pred
    out["lower"], out["upper"] = lower, upper
    out["are"] = are
    out["are_lower"], out["are_upper"] = are_lower, are_upper
    out["covered"] = pd.Series([bool(c) if h else None for c, h in zip(covered_arr, has)], dtype=object)
    return out


def backtest(table: Any, law: str | Law = "chinchilla", *, holdout: HoldoutColumn = "flops",
             n_holdout: int | None = None, fraction: float | None = None, threshold: float | None = None,
             holdout_mask: ArrayLike | None = None, train_mask: ArrayLike | None = None, level: float = 0.95,
             fit_options: Mapping[str, Any] | None = None, uncertainty: Any = None,
             rng: int | np.random.Generator | None = None) -> BacktestResult:
    r"""Fit a scaling law on the smaller runs and score its extrapolation to the held-out larger ones.

    The held-out rows are chosen by the ``holdout`` column (compute, model size or tokens) in one of
    three ways — or given explicitly by masks:

    * ``n_holdout=k`` (default ``k = 1``): the rows carrying the ``k`` largest **distinct** values
      (all runs of the largest model go together with ``holdout="n_params"``);
    * ``fraction=f``: the top ``ceil(f·n)`` rows, plus any rows tied with the last of them;
    * ``threshold=t``: the rows with value ``>= t``;
    * ``holdout_mask=`` and/or ``train_mask=``: boolean arrays over the table's rows. With only one of
      them the other set is its complement; with both, they must be disjoint, and rows in neither are
      ignored (counted in ``n_unused``).

    The law is fitted on the training rows only (``result.fit.n_points == result.n_train``), with
    ``fit(train, law, **fit_options, uncertainty=uncertainty, rng=rng)``, then each held-out run is
    predicted at its (N, D) and scored by its absolute relative error
    :math:`\mathrm{ARE} = |\hat L - L|/L` (Choshen et al. 2024). When the fit carries uncertainty
    (parameter samples or a covariance), each prediction gets a ``level`` interval
    (:meth:`FitResult.predict` with ``level``) and the ARE its range over that interval.

    Parameters
    ----------
    table : RunTable or DataFrame
    law : str or Law
        Passed to :func:`scaling.fit` (default ``"chinchilla"``).
    holdout : {'flops', 'n_params', 'n_tokens'}
        The column that orders runs from small to large.
    n_holdout, fraction, threshold : optional
        At most one of them (and not together with ``holdout_mask``); see above.
    holdout_mask, train_mask : array of bool, optional
        Explicit row selections (one value per table row, in table order).
    level : float
        Level of the prediction intervals.
    fit_options : mapping, optional
        Further :func:`scaling.fit` keywords, e.g. ``{"loss": "squared", "tied": {"beta": "alpha"}}``.
    uncertainty : optional
        Passed to :func:`scaling.fit` (e.g. ``Bootstrap(n=200)``) to get prediction intervals.
    rng : int or numpy.random.Generator, optional
        Passed to :func:`scaling.fit` (the fit's bootstrap).

    Returns
    -------
    BacktestResult

    Raises
    ------
    DataError
        Conflicting or invalid selection options, an empty training or held-out set, overlapping masks.
    TypeError
        An unknown key in ``fit_options``, or one that backtest sets itself.

    Examples
    --------
    Gadre et al. 2024's setting (Figure 1 / Table 2): five small RedPajama runs, chinchilla form with
    tied exponents fitted by squared error in loss space; 0.7103 % error at 1.4B (M = 640)::

        t = load_dataset("gadre_overtraining")          # C4-eval loss
        f = t.to_frame()
        small = f.model_config.isin(["d=96_l=8_h=4", "d=512_l=8_h=4", "d=576_l=24_h=8", "d=1024_l=24_h=8"])
        rpj = f.group == "rpj"
        train = rpj & ((small & (f.token_multiplier == 20)) |
                       ((f.model_config == "d=96_l=8_h=4") & (f.token_multiplier == 320)))
        test = rpj & (((f.model_config == "open_lm_1b") & (f.token_multiplier == 640)) |
                      ((f.model_config == "open_lm_7b") & (f.token_multiplier == 20)))
        bt = backtest(t, train_mask=train, holdout_mask=test,
                      fit_options={"loss": "squared", "tied": {"beta": "alpha"}})
        bt.predictions["are"]                           # 0.007103, 0.007320
    """
    from . import fit as fit_fn
    from .fitting import as_table

    if isinstance(level, bool) or not isinstance(level, (int, float, np.floating)) or not 0 < float(level) < 1:
        raise DataError(format_message("Option level", "of backtest()", "a number between 0 and 1 (exclusive)",
                                       repr(level), "Pass e.g. level=0.95."))
    level = float(level)
    if not isinstance(holdout, str) or holdout not in _HOLDOUT_COLUMNS:
        raise DataError(format_message("Option holdout", "of backtest()", "one of " + ", ".join(
            repr(c) for c in _HOLDOUT_COLUMNS), repr(holdout), "Hold out the largest runs by compute ('flops'), "
            "model size ('n_params') or tokens ('n_tokens'); or pass holdout_mask=..."))
    given = [k for k, v in (("n_holdout", n_holdout), ("fraction", fraction), ("threshold", threshold),
                            ("holdout_mask", holdout_mask)) if v is not None]
    if len(given) > 1:
        raise DataError(format_message("Options " + " and ".join(given), "of backtest()", "given one at a time",
                                       "both" if len(given) == 2 else f"{len(given)} of them",
                                       "Choose one way of selecting the held-out rows."))
    if n_holdout is not None and (isinstance(n_holdout, (bool, np.bool_))
                                  or not isinstance(n_holdout, (int, np.integer)) or n_holdout < 1):
        raise DataError(format_message("Option n_holdout", "of backtest()", "an integer >= 1", repr(n_holdout),
                                       "Pass the number of distinct largest values to hold out, e.g. 1."))
    if fraction is not None and (isinstance(fraction, bool) or not isinstance(fraction, (int, float, np.floating))
                                 or not 0 < float(fraction) < 1):
        raise DataError(format_message("Option fraction", "of backtest()", "a number in (0, 1)", repr(fraction),
                                       "e.g. fraction=0.1 holds out the top 10 % of rows."))
    if threshold is not None and (isinstance(threshold, bool) or not isinstance(threshold, (int, float, np.floating))
                                  or not (math.isfinite(threshold) and threshold > 0)):
        raise DataError(format_message("Option threshold", "of backtest()", "a positive number", repr(threshold),
                                       f"Rows with {holdout} >= threshold are held out."))
    options = _check_fit_options(fit_options)
    tbl = as_table(table, "backtest()")
    n = len(tbl)
    values = np.asarray(getattr(tbl, holdout), dtype=np.float64)

    train_sel = None if train_mask is None else _mask_of("train_mask", train_mask, n)
    if holdout_mask is not None:
        hold = _mask_of("holdout_mask", holdout_mask, n)
        selection: dict[str, Any] = {"mode": "mask", "column": None, "cutoff": None}
    elif train_sel is not None and not given:
        hold = ~train_sel
        selection = {"mode": "mask", "column": None, "cutoff": None}
    else:
        hold, selection = _select(values, n_holdout=None if n_holdout is None else int(n_holdout),
                                  fraction=None if fraction is None else float(fraction),
                                  threshold=None if threshold is None else float(threshold), column=holdout)
    train = ~hold if train_sel is None else train_sel
    both = train & hold
    if both.any():
        raise DataError(format_message(
            "Options train_mask and the held-out selection", "of backtest()", "disjoint (no row both fitted and "
            "predicted)", f"{int(both.sum())} rows in both ({format_rows(np.asarray(tbl.source_rows)[both])})",
            "Remove the held-out rows from train_mask."))
    if not hold.any():
        raise DataError(format_message("The held-out set", "of backtest()", "non-empty", "0 rows",
                                       "Lower the threshold, or check holdout_mask."))
    if not train.any():
        raise DataError(format_message("The training set", "of backtest()", "non-empty", "0 rows",
                                       "Hold out fewer rows, or check train_mask."))
    unused = ~train & ~hold
    selection.update({"n_train": int(train.sum()), "n_holdout": int(hold.sum())})

    src = np.asarray(tbl.source_rows, dtype=np.int64)
    frame = tbl.to_frame()
    train_table = tbl
    if unused.any():
        train_table = train_table.filter(~unused, reason="not in train_mask (backtest)")
    hold_reason = ("held out (holdout_mask)" if selection["mode"] == "mask"
                   else f"held out ({holdout} >= {selection['cutoff']:.6g})")
    train_table = train_table.filter(train[~unused], reason=hold_reason)
    result = fit_fn(train_table, law, **options, uncertainty=uncertainty, rng=rng)
    preds = _score(result, frame.loc[hold].reset_index(drop=True), src[hold], level)
    are = preds["are"].to_numpy()
    train_rows = src[train].copy()
    train_rows.flags.writeable = False
    return BacktestResult(law=result.law.name, fit=result, level=level, n_train=int(train.sum()),
                          n_holdout=int(hold.sum()), n_unused=int(unused.sum()), mean_are=float(are.mean()),
                          median_are=float(np.median(are)), max_are=float(are.max()),
                          _selection=selection, _train_rows=train_rows, _predictions=preds)

