"""Operations on training curves (checkpoints of runs): the computations behind
:meth:`RunTable.final <scaling.RunTable.final>`, ``min_fraction``, ``best_of``, ``smooth`` and the
combination of duplicates at read time.

Each function works on a table's frame (canonical columns as float64) and returns which rows to keep
with a reason for each removed row, or the new values; :class:`~scaling.RunTable` validates the options,
applies the selection and records it, so nothing here is dropped silently either.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from . import validate as V
from .excluded import excluded_frame

__all__ = ["PLAN_RTOL", "FinalSelection", "past_planned_end", "close_value_ids", "group_ids",
           "checkpoint_order", "final_rows", "best_run_rows", "min_fraction_rows", "best_of_key", "combine",
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


PLAN_RTOL = 1e-3
"""Relative tolerance for comparing token counts (``n_tokens <= planned_tokens·(1 + PLAN_RTOL)``) and for
grouping N and D in ``best_of`` / ``best_run`` (values within 0.1 % are the same model size or budget)."""


@dataclass(frozen=True)
class FinalSelection:
    """Which rows ``final()`` keeps, why the others go, and the rule it used."""

    keep: NDArray[np.bool_]
    reasons: NDArray[Any]
    codes: NDArray[Any]
    rule: str
    plan: str | None
    n_past_planned_end: int
    runs_without_plan_end: int


def past_planned_end(frame: pd.DataFrame) -> tuple[NDArray[np.bool_], str | None, NDArray[Any]]:
    """Rows after their run's planned end, the plan column used (or None), and a text per row.

    ``planned_steps`` is used when the table has both it and ``step``; else ``planned_tokens``
    (``n_tokens > planned_tokens·(1 + PLAN_RTOL)``). Rows with a missing plan are never past it.
    """
    n = len(frame)
    none = np.zeros(n, dtype=bool)
    if "planned_steps" in frame.columns and "step" in frame.columns:
        step = frame["step"].to_numpy(dtype=np.float64, na_value=np.nan)
        plan = frame["planned_steps"].to_numpy(dtype=np.float64, na_value=np.nan)
        with np.errstate(invalid="ignore"):
            past = step > plan
        text = np.array([f"step {a:g} > planned_steps {b:g}" if p else "" for a, b, p in zip(step, plan, past)],
                        dtype=object)
        return past, "planned_steps", text
    if "planned_tokens" in frame.columns:
        tokens = frame["n_tokens"].to_numpy(dtype=np.float64)
        plan = frame["planned_tokens"].to_numpy(dtype=np.float64, na_value=np.nan)
        with np.errstate(invalid="ignore"):
            past = tokens > plan * (1.0 + PLAN_RTOL)
        text = np.array([f"n_tokens {a:.4g} > planned_tokens {b:.4g}" if p else ""
                         for a, b, p in zip(tokens, plan, past)], dtype=object)
        return past, "planned_tokens", text
    return none, None, np.full(n, "", dtype=object)


def final_rows(frame: pd.DataFrame, rows: NDArray[np.int64], by: Sequence[str]) -> FinalSelection:
    """The final checkpoint of each run: the last one at or before the run's planned end when the table has
    ``planned_steps`` (with ``step``) or ``planned_tokens``, else the one with the largest ``n_tokens``
    (ties: largest ``step``, then the last row)."""
    n = len(frame)
    gid = group_ids(frame, by)
    past, plan, past_text = past_planned_end(frame)
    order = checkpoint_order(frame, gid)
    eligible = order[~past[order]]
    g_sorted = gid[eligible]
    last = np.r_[g_sorted[1:] != g_sorted[:-1], True] if len(eligible) else np.zeros(0, dtype=bool)
    keep_pos = eligible[last]
    keep = np.zeros(n, dtype=bool)
    keep[keep_pos] = True
    kept_of_group = np.full(int(gid.max()) + 1, -1, dtype=np.int64)
    kept_of_group[gid[keep_pos]] = keep_pos
    by_text = list(by)
    # one text per run (the row it kept), then per row only where a checkpoint is past the plan
    kept_text = np.array([f"final(by={by_text}) kept row {rows[k]}" if k >= 0 else
                          f"its run has no checkpoint at or before its planned end, so final(by={by_text}) dropped "
                          "the run" for k in kept_of_group], dtype=object)
    out = np.flatnonzero(~keep)
    run_text = kept_text[gid[out]]
    reasons = np.array([f"not the final checkpoint of its run ({t})" for t in kept_text], dtype=object)[gid[out]]
    codes = np.full(len(out), "not_final", dtype=object)
    for j in np.flatnonzero(past[out]):
        codes[j] = "past_planned_end"
        reasons[j] = f"checkpoint past its run's planned end ({past_text[out[j]]}; {run_text[j]})"
    if plan is None:
        rule = ("the checkpoint with the largest n_tokens of each run (ties: the largest step); the table has no "
                "planned_steps or planned_tokens column, so checkpoints past a run's planned end cannot be told "
                "apart (add one, e.g. columns={'planned_steps': 'total_steps'})")
    elif plan == "planned_steps":
        rule = "the last checkpoint of each run with step <= planned_steps"
    else:
        rule = f"the last checkpoint of each run with n_tokens <= planned_tokens (relative tolerance {PLAN_RTOL:g})"
    dropped = int((kept_of_group < 0).sum())
    return FinalSelection(keep, reasons, codes, rule, plan, int(past.sum()), dropped)


def min_fraction_rows(frame: pd.DataFrame, rows: NDArray[np.int64], f: float, by: Sequence[str]
                      ) -> tuple[NDArray[np.bool_], NDArray[Any]]:
    """Keep checkpoints with ``n_tokens >= f ×`` the ``n_tokens`` of their run's final checkpoint
    (:func:`final_rows`: the last at or before the planned end, when the table has a plan)."""
    sel = final_rows(frame, rows, by)
    gid = group_ids(frame, by)
    tokens = frame["n_tokens"].to_numpy(dtype=np.float64)
    final_of_run = np.full(int(gid.max()) + 1, np.nan)
    final_of_run[gid[sel.keep]] = tokens[sel.keep]
    final = final_of_run[gid]
    final = np.where(np.isnan(final), frame.groupby(list(by), sort=False, dropna=False)["n_tokens"]
                     .transform("max").to_numpy(dtype=np.float64), final)
    keep = tokens >= f * final
    reasons = np.array([f"n_tokens < {f:g} × its run's final n_tokens ({fin:.4g}) (min_fraction({f:g}))"
                        for fin in final[~keep]], dtype=object)
    return keep, reasons


def best_of_key(columns: Sequence[str], over: Sequence[str], id_columns: Sequence[str]) -> list[str]:
    """The columns that define a group for ``best_of``: N, D and the distinguishing columns not in ``over``."""
    key = ["n_params", "n_tokens"] + [c for c in ("group", "n_unique_tokens", "lr", "seed") if c in columns]
    key += [c for c in id_columns if c in columns and c not in key]
    return [c for c in key if c not in over]


def close_value_ids(values: NDArray[np.float64], rtol: float = PLAN_RTOL) -> NDArray[np.int64]:
    """Ids of groups of positive values that lie within ``rtol`` of their neighbour (sorted), e.g. the token
    counts of the final checkpoints of runs with one plan (logged a step apart)."""
    logv = np.log(np.asarray(values, dtype=np.float64))
    order = np.argsort(logv, kind="stable")
    new = np.r_[True, np.diff(logv[order]) > np.log1p(rtol)]
    ids = np.empty(len(logv), dtype=np.int64)
    ids[order] = np.cumsum(new) - 1
    return ids


def grouping_frame(frame: pd.DataFrame, key: Sequence[str]) -> pd.DataFrame:
    """``frame[key]`` with ``n_params`` and ``n_tokens`` replaced by ids of values equal within PLAN_RTOL."""
    out = frame[list(key)].copy()
    for c in ("n_params", "n_tokens"):
        if c in out.columns:
            out[c] = close_value_ids(frame[c].to_numpy(dtype=np.float64))
    return out


def splitting_columns(frame: pd.DataFrame, key: Sequence[str], allowed: Sequence[str]) -> list[str]:
    """The columns of ``key`` other than N, D and ``allowed`` that take several values within one (N, D)."""
    nd = grouping_frame(frame, ["n_params", "n_tokens"])
    gid = nd.groupby(["n_params", "n_tokens"], sort=False).ngroup().to_numpy()
    out = []
    for c in key:
        if c in ("n_params", "n_tokens") or c in allowed:
            continue
        if (frame[c].reset_index(drop=True).groupby(gid).nunique(dropna=False) > 1).any():
            out.append(c)
    return out


def best_run_rows(frame: pd.DataFrame, rows: NDArray[np.int64], by: Sequence[str], key: Sequence[str],
                  label: str) -> tuple[NDArray[np.bool_], NDArray[Any], NDArray[Any], FinalSelection]:
    """Keep every checkpoint (up to the planned end) of the run with the lowest final loss in each group.

    Groups are the final checkpoints' ``key`` values (N and D equal within PLAN_RTOL). Returns the mask,
    reasons and codes of the removed rows, and the final-checkpoint selection used.
    """
    sel = final_rows(frame, rows, by)
    gid_run = group_ids(frame, by)
    finals = np.flatnonzero(sel.keep)
    fin = frame.iloc[finals]
    gkey = grouping_frame(fin, key)
    grp = gkey.groupby(list(key), sort=False, dropna=False).ngroup().to_numpy()
    loss = fin["loss"].to_numpy(dtype=np.float64)
    order = np.lexsort((np.arange(len(fin)), loss, grp))
    g_sorted = grp[order]
    best = order[np.r_[True, g_sorted[1:] != g_sorted[:-1]]]  # positions within finals
    best_of_grp = np.empty(int(grp.max()) + 1, dtype=np.int64)
    best_of_grp[grp[best]] = best
    run_of_final = gid_run[finals]
    winner_runs = set(run_of_final[best].tolist())
    past, _, _ = past_planned_end(frame)
    keep = np.isin(gid_run, list(winner_runs)) & ~past
    # the group of every run (through its final checkpoint), to name the winner in each reason
    grp_of_run = np.full(int(gid_run.max()) + 1, -1, dtype=np.int64)
    grp_of_run[run_of_final] = grp
    final_loss_of_run = np.full(int(gid_run.max()) + 1, np.nan)
    final_loss_of_run[run_of_final] = loss
    runs = frame["run"].to_numpy(dtype=object) if "run" in frame.columns else gid_run
    all_loss = frame["loss"].to_numpy(dtype=np.float64)
    n_runs = int(gid_run.max()) + 1
    run_text = np.empty(n_runs, dtype=object)  # the not_best_run reason of each run, built once
    for r in range(n_runs):
        g = grp_of_run[r]
        if g < 0:
            run_text[r] = f"its run has no checkpoint at or before its planned end ({label})"
            continue
        w = finals[best_of_grp[g]]
        run_text[r] = (f"a checkpoint of a run whose final loss {final_loss_of_run[r]:.5g} is not the lowest among "
                       f"runs with the same ({', '.join(key)}); {label} kept run {runs[w]!r} (final loss "
                       f"{all_loss[w]:.5g}, row {rows[w]})")
    out = np.flatnonzero(~keep)
    reasons = run_text[gid_run[out]].copy()
    codes = np.where(grp_of_run[gid_run[out]] < 0, "past_planned_end", "not_best_run").astype(object)
    winner = np.isin(gid_run[out], list(winner_runs))
    codes[winner] = "past_planned_end"
    reasons[winner] = f"checkpoint past its run's planned end ({label})"
    return keep, reasons, codes, sel


def combine(frame: pd.DataFrame, rows: NDArray[np.int64], key: list[str], rule: str, label: str,
            code: str | None = None, tolerant: bool = False
            ) -> tuple[pd.DataFrame, NDArray[np.int64], pd.DataFrame | None]:
    """Collapse rows sharing ``key`` to one per group by ``rule`` (min / mean / median / first).

    ``min`` keeps the lowest-loss row (ties: the first), ``first`` the first row, ``mean``/``median``
    the first row with the group's mean/median loss and, where another non-core column varies within
    the group, a missing value there (a combined row has no single seed or run). ``code`` is the exclusion
    code of the removed rows (default: ``not_best`` for ``min``, ``duplicate`` for ``first``, else ``combined``).
    ``tolerant``: N and D values within PLAN_RTOL count as equal.
    """
    n = len(frame)
    gframe = grouping_frame(frame, key) if tolerant else frame
    gid = gframe.groupby(key, sort=False, dropna=False).ngroup().to_numpy()
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
    if code is None:
        code = {"min": "not_best", "first": "duplicate"}.get(rule, "combined")
    excl = excluded_frame(frame[~keep], rows[~keep], reasons, code)
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
