"""From per-checkpoint evaluation curves to the points the two steps of a task law are fitted on.

The recipe of Bhagia et al. 2024 (arXiv 2412.04403), every choice a keyword:

* step 1 (task loss from N, D): one point per run — N, the run's final D, and the mean of the task
  loss over the run's last ``last`` checkpoints (5);
* step 2 (accuracy from task loss): every checkpoint of every run after its first ``warmup`` fraction
  (ceil(0.1·n) rows skipped), task loss and accuracy each smoothed by a ``window``-point trailing
  moving average (5; the first window−1 points average what precedes them, as the authors' code does);
* the variance analysis: the spread (standard deviation, coefficient of variation) of the task loss
  and accuracy over the last ``last`` (10) checkpoints of one run — the noise a prediction cannot beat.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError, format_message

__all__ = ["moving_average", "final_points", "curve_points", "variance_analysis", "as_frame"]


def as_frame(curves: Any, where: str) -> pd.DataFrame:
    """The checkpoint rows of a RunTable or DataFrame (a copy)."""
    if isinstance(curves, pd.DataFrame):
        return curves.copy()
    if hasattr(curves, "to_frame"):
        return curves.to_frame()
    raise DataError(format_message("Argument curves", where, "a RunTable or a pandas DataFrame of checkpoints",
                                   type(curves).__name__, "Load them with scaling.load_dataset or read_table."))


def moving_average(values: Any, window: int) -> np.ndarray:
    """Trailing moving average over ``window`` points; the first ``window − 1`` points average the
    points so far (Bhagia et al.'s ``moving_average``). ``window=1`` returns the values."""
    x = np.asarray(values, dtype=float)
    if isinstance(window, bool) or not isinstance(window, (int, np.integer)) or window < 1:
        raise DataError(format_message("Option window", "of moving_average()", "an integer >= 1", repr(window),
                                       "window=1 means no smoothing."))
    c = np.cumsum(x)
    out = c / np.arange(1, len(x) + 1)
    if len(x) >= window:
        c[window:] = c[window:] - c[:-window]
        out[window - 1:] = c[window - 1:] / window
    return out


def _check_columns(frame: pd.DataFrame, cols: list[str], where: str, hint: str) -> None:
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise DataError(format_message(f"Column(s) {missing}", where, "present in the table",
                                       f"columns {list(frame.columns)[:12]}{' ...' if frame.shape[1] > 12 else ''}",
                                       hint))


def _runs(frame: pd.DataFrame, by: str, order: str) -> list[tuple[Any, pd.DataFrame]]:
    groups = []
    for key, g in frame.groupby(by, sort=False):
        groups.append((key, g.sort_values(order, kind="stable") if order in g.columns else g))
    return groups


def _finite(g: pd.DataFrame, cols: list[str], run: Any, where: str) -> None:
    vals = g[cols].to_numpy(dtype=float)
    bad = ~np.isfinite(vals)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise DataError(format_message(f"Column '{cols[j]}'", f"{where}, run {run!r}", "finite",
                                       f"{vals[i, j]!r} in {int(bad.any(axis=1).sum())} row(s)",
                                       "Drop those checkpoints first (table.filter(...))."))


def final_points(curves: Any, loss: str, *, last: int = 5, by: str = "run", order: str = "n_tokens",
                 accuracy: str | None = None) -> pd.DataFrame:
    """Step-1 points: per run, ``n_params``, the final ``n_tokens`` and the mean ``loss`` over the last
    ``last`` checkpoints (and the mean ``accuracy`` there, if a column is named)."""
    where = "of final_points()"
    frame = as_frame(curves, where)
    cols = [loss] + ([accuracy] if accuracy else [])
    _check_columns(frame, [by, "n_params", "n_tokens", *cols], where,
                   "Name the task's columns (loss=..., accuracy=...).")
    if isinstance(last, bool) or not isinstance(last, (int, np.integer)) or last < 1:
        raise DataError(format_message("Option last", where, "an integer >= 1", repr(last)))
    rows = []
    for run, g in _runs(frame, by, order):
        tail = g.iloc[-last:]
        _finite(tail, cols, run, where)
        if g["n_params"].nunique() != 1:
            raise DataError(format_message("Column 'n_params'", f"{where}, run {run!r}", "constant within a run",
                                           sorted(g["n_params"].unique())[:4], f"Check the '{by}' column."))
        row = {by: run, "n_params": float(g["n_params"].iloc[0]), "n_tokens": float(g["n_tokens"].iloc[-1]),
               "loss": float(tail[loss].mean()), "n_checkpoints": len(tail)}
        if accuracy:
            row["accuracy"] = float(tail[accuracy].mean())
        rows.append(row)
    return pd.DataFrame(rows)


def curve_points(curves: Any, loss: str, accuracy: str, *, warmup: float = 0.1, window: int = 5, by: str = "run",
                 order: str = "n_tokens") -> pd.DataFrame:
    """Step-2 points: per run, drop the first ceil(``warmup``·n) checkpoints, then smooth the task loss
    and the accuracy by a ``window``-point trailing :func:`moving_average`; all runs stacked."""
    where = "of curve_points()"
    frame = as_frame(curves, where)
    _check_columns(frame, [by, loss, accuracy], where, "Name the task's columns (loss=..., accuracy=...).")
    if not 0 <= warmup < 1:
        raise DataError(format_message("Option warmup", where, "a fraction in [0, 1)", repr(warmup),
                                       "0.1 skips each run's first 10 % of checkpoints (the paper)."))
    parts = []
    for run, g in _runs(frame, by, order):
        skip = int(math.ceil(warmup * len(g)))
        g = g.iloc[skip:]
        _finite(g, [loss, accuracy], run, where)
        parts.append(pd.DataFrame({by: run, "n_tokens": g["n_tokens"].to_numpy(dtype=float) if "n_tokens" in g
                                   else np.nan,
                                   "loss": moving_average(g[loss].to_numpy(dtype=float), window),
                                   "accuracy": moving_average(g[accuracy].to_numpy(dtype=float), window)}))
    if not parts:
        raise DataError(format_message("The table", where, "non-empty", "no rows"))
    return pd.concat(parts, ignore_index=True)


def variance_analysis(curves: Any, tasks: dict[str, tuple[str, str]], *, run: Any, last: int = 10, by: str = "run",
                      order: str = "n_tokens", max_loss_cv: float = 0.007, max_accuracy_cv: float = 0.02
                      ) -> pd.DataFrame:
    """Checkpoint-to-checkpoint noise of each task at the end of one run (Bhagia et al. §5).

    For each task (name -> (loss column, accuracy column)): the standard deviation (ddof 0) and the
    coefficient of variation (SD / mean) of the task loss and of the accuracy over the run's last
    ``last`` checkpoints, unsmoothed. A task is marked ``predictable = False`` when the loss CV exceeds
    ``max_loss_cv`` (0.7 %) or the accuracy CV exceeds ``max_accuracy_cv`` (2 %): its metric moves that
    much between neighbouring checkpoints of one model, so a prediction cannot be checked more
    precisely than that (the defaults mark Winogrande, BoolQ and OpenBookQA on the OLMo ladder's
    1B-10xC run; the paper drops the first two from its main results for their variance).
    """
    where = "of variance_analysis()"
    frame = as_frame(curves, where)
    sel = frame[frame[by] == run]
    if sel.empty:
        raise DataError(format_message(f"Option run={run!r}", where, f"a value of column '{by}'",
                                       repr(run), f"Known runs: {list(pd.unique(frame[by]))[:8]}"))
    sel = sel.sort_values(order, kind="stable") if order in sel.columns else sel
    rows = []
    for name, (lc, ac) in tasks.items():
        _check_columns(sel, [lc, ac], where, "Name existing columns for each task.")
        tail = sel.iloc[-last:]
        _finite(tail, [lc, ac], run, where)
        x, y = tail[lc].to_numpy(dtype=float), tail[ac].to_numpy(dtype=float)
        lsd, asd = float(np.std(x)), float(np.std(y))
        lcv, acv = lsd / float(np.mean(x)), asd / float(np.mean(y))
        rows.append({"task": name, "loss_sd": lsd, "loss_cv": lcv, "accuracy_sd": asd, "accuracy_cv": acv,
                     "n_checkpoints": len(tail), "predictable": bool(lcv <= max_loss_cv and acv <= max_accuracy_cv)})
    return pd.DataFrame(rows)
