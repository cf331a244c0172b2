"""Operations on training curves (checkpoints of runs): the computations behind
:meth:`RunTable.final <scaling.RunTable.final>`, ``min_fraction``, ``best_of``, ``smooth`` and the
combination of duplicates at read time.

Each function works on a table's frame (canonical columns as float64) and returns which rows to keep
with a reason for each removed row, or the new values; :class:`~scaling.RunTable` validates the options,
applies the selection and records it, so nothing here is dropped silently either.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from . import validate as V
from .excluded import excluded_frame

__all__ = ["group_ids", "checkpoint_order", "final_rows", "min_fraction_rows", "best_of_key", "combine",
           "gaussian_smoother", "ema_smoother", "smooth_loss"]


def group_ids(frame: pd.DataFrame, by: Sequence[str]) -> NDArray[np.int64]:
    """0-based id of each row's run (the distinct values of the ``by`` columns, in order of appearance)."""
    return np.asarray(frame.groupby(list(by), sort=False, dropna=False).ngroup().to_numpy(), dtype=np.int64)


def checkpoint_order(frame: pd.DataFrame, gid: NDArray[np.int64]) -> NDArray[np.int64]:
    """Row positions sorted by run, then ``n_tokens``, then ``step`` (missing last-but-lowest), then position."""
    n = len(frame)
    step = (frame["step"].to_numpy(dtype=np.float64, na_value=-np.inf) if "step" in frame.columns
            else np.zeros(n))
    tokens = frame["n_tokens"].to_numpy(dtype=np.float64)
    return np.asarray(np.lexsort((np.arange(n), step, tokens, gid)), dtype=np.int64)


def final_rows(frame: pd.DataFrame, rows: NDArray[np.int64], by: Sequence[str]
               ) -> tuple[NDArray[np.bool_], NDArray[Any]]:
    """Keep the row with the largest ``n_tokens`` (ties: largest ``step``, then the last) of each run."""
    n = len(frame)
    gid = group_ids(frame, by)
    order = checkpoint_order(frame, gid)
    g_sorted = gid[order]
    last = np.r_[g_sorted[1:] != g_sorted[:-1], True]
    keep_pos = order[last]
    keep = np.zeros(n, dtype=bool)
    keep[keep_pos] = True
    kept_of_group = np.empty(int(gid.max()) + 1, dtype=np.int64)
    kept_of_group[gid[keep_pos]] = keep_pos
    reasons = np.array([f"not the final checkpoint of its run (final(by={list(by)}) kept row "
                        f"{rows[kept_of_group[g]]})" for g in gid[~keep]], dtype=object)
    return keep, reasons


def min_fraction_rows(frame: pd.DataFrame, f: float, by: Sequence[str]
                      ) -> tuple[NDArray[np.bool_], NDArray[Any]]:
    """Keep checkpoints with ``n_tokens >= f ×`` the largest ``n_tokens`` of their run."""
    final = frame.groupby(list(by), sort=False, dropna=False)["n_tokens"].transform("max").to_numpy()
    keep = frame["n_tokens"].to_numpy(dtype=np.float64) >= f * final
    reasons = np.array([f"n_tokens < {f:g} × its run's final n_tokens ({fin:.4g}) (min_fraction({f:g}))"
                        for fin in final[~keep]], dtype=object)
    return keep, reasons


def best_of_key(columns: Sequence[str], over: Sequence[str], id_columns: Sequence[str]) -> list[str]:
    """The columns that define a group for ``best_of``: N, D and the distinguishing columns not in ``over``."""
    key = ["n_params", "n_tokens"] + [c for c in ("group", "n_unique_tokens", "lr", "seed") if c in columns]
    key += [c for c in id_columns if c in columns and c not in key]
    return [c for c in key if c not in over]


def combine(frame: pd.DataFrame, rows: NDArray[np.int64], key: list[str], rule: str, label: str
            ) -> tuple[pd.DataFrame, NDArray[np.int64], pd.DataFrame | None]:
    """Collapse rows sharing ``key`` to one per group by ``rule`` (min / mean / median / first).

    ``min`` keeps the lowest-loss row (ties: the first), ``first`` the first row, ``mean``/``median``
    the first row with the group's mean/median loss and, where another non-core column varies within
    the group, a missing value there (a combined row has no single seed or run).
    """
    n = len(frame)
    gid = frame.groupby(key, sort=False, dropna=False).ngroup().to_numpy()
    sizes = np.bincount(gid)
    if (sizes <= 1).all():
        return frame, rows, None
    loss = frame["loss"].to_numpy(dtype=np.float64)
    pos = np.arange(n)
    if rule == "min":
        order = np.lexsort((pos, loss, gid))
    else:  # first / mean / median keep the group's first row
        order = np.lexsort((pos, gid))
    g_sorted = gid[order]
    keep_pos = order[np.r_[True, g_sorted[1:] != g_sorted[:-1]]]
    kept_of_group = np.empty(len(sizes), dtype=np.int64)
    kept_of_group[gid[keep_pos]] = keep_pos
    keep = np.zeros(n, dtype=bool)
    keep[keep_pos] = True
    out = frame.copy()
    if rule in ("mean", "median"):
        agg = pd.Series(loss).groupby(gid).agg(rule).to_numpy()
        multi = sizes[gid] > 1
        new_loss = loss.copy()
        new_loss[keep & multi] = agg[gid[keep & multi]]
        out["loss"] = new_loss
        gseries = pd.Series(gid)
        for c in out.columns:
            if c in key or c in V.CORE:
                continue
            varies = (frame[c].reset_index(drop=True).groupby(gseries).transform("nunique", dropna=False)
                      .to_numpy() > 1)
            target = keep & varies
            if target.any():
                col = out[c].copy() if pd.api.types.is_float_dtype(out[c].dtype) else out[c].astype(object)
                col[target] = np.nan if pd.api.types.is_float_dtype(col.dtype) else None
                out[c] = col
    key_text = ", ".join(key)
    if rule == "min":
        what = f"not the lowest loss among rows with the same ({key_text}) ({label} kept row {{}})"
    elif rule == "first":
        what = f"duplicate of row {{}} (same {key_text}); {label} kept the first"
    else:
        what = f"combined into row {{}} (same {key_text}) by {label}"
    reasons = np.array([what.format(rows[kept_of_group[g]]) for g in gid[~keep]], dtype=object)
    excl = excluded_frame(frame[~keep], rows[~keep], reasons)
    return out[keep], rows[keep], excl


Smoother = Callable[[NDArray[np.float64]], NDArray[np.float64]]


def gaussian_smoother(window: int, std: float) -> Smoother:
    """A centred Gaussian kernel of ``2·(window//2)+1`` taps, renormalised at the ends of a run."""
    half = window // 2
    offsets = np.arange(-half, half + 1, dtype=np.float64)
    kernel = np.exp(-0.5 * (offsets / std) ** 2)

    def smooth_one(x: NDArray[np.float64]) -> NDArray[np.float64]:
        num = np.convolve(x, kernel, mode="full")[half:half + len(x)]
        den = np.convolve(np.ones_like(x), kernel, mode="full")[half:half + len(x)]
        return np.asarray(num / den, dtype=np.float64)

    return smooth_one


def ema_smoother(alpha: float) -> Smoother:
    """The bias-corrected exponential moving average (pandas' ``ewm(alpha=alpha, adjust=True)``)."""

    def smooth_one(x: NDArray[np.float64]) -> NDArray[np.float64]:
        return pd.Series(x).ewm(alpha=alpha, adjust=True).mean().to_numpy(dtype=np.float64)

    return smooth_one


def smooth_loss(frame: pd.DataFrame, by: Sequence[str], smoother: Smoother) -> NDArray[np.float64]:
    """The loss of every run smoothed along its checkpoints (sorted by ``n_tokens``, then ``step``)."""
    n = len(frame)
    gid = group_ids(frame, by)
    order = checkpoint_order(frame, gid)
    g_sorted = gid[order]
    bounds = np.flatnonzero(np.r_[True, g_sorted[1:] != g_sorted[:-1], True])
    loss = frame["loss"].to_numpy(dtype=np.float64)
    new = np.empty(n, dtype=np.float64)
    for s, e in zip(bounds[:-1], bounds[1:]):
        idx = order[s:e]
        new[idx] = smoother(loss[idx])
    return new
