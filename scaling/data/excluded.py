"""The frame of excluded rows that every :class:`~scaling.RunTable` carries, and the column order.

Every row removed at read time or by a later operation is kept here with its 0-based input ``row``, a
short groupable ``code`` (one of :data:`EXCLUSION_CODES`), the ``reason`` in full (with the details: which
rule, which row was kept instead), then its values: nothing is dropped silently.
``table.excluded.groupby("code").size()`` counts the rows removed for each reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from . import validate as V

__all__ = ["EXCLUSION_CODES", "ordered_columns", "excluded_frame", "empty_excluded", "concat_excluded"]

EXCLUSION_CODES: dict[str, str] = {
    "invalid": "a value is not a number, missing, not finite or out of range (read_table, on_invalid='exclude')",
    "no_metric": "the chosen metric has no value at this checkpoint (read_table(metric=...))",
    "duplicate": "an exact duplicate, or combined with rows of the same run and (N, D) (read_table(duplicates=...))",
    "filter": "removed by filter(mask, reason=...) (the reason says why)",
    "subset": "not in subset(...)",
    "min_tokens": "fewer tokens than min_tokens(x)",
    "min_fraction": "earlier than the fraction f of its run (min_fraction(f))",
    "not_final": "not the final checkpoint of its run (final())",
    "past_planned_end": "a checkpoint after its run's planned end (planned_steps / planned_tokens; final())",
    "not_best": "not the lowest loss among rows sharing (N, D) (best_of(rule='min'))",
    "combined": "combined into another row (best_of(rule='mean' or 'median'))",
    "not_best_run": "a checkpoint of a run whose final loss is not the best over its (N, D) (best_run())",
    "upstream": "an entry of the source that is not a run of the table (datasets; row = -1)",
}
"""The short codes of ``RunTable.excluded['code']`` and what each means."""


def ordered_columns(columns: Sequence[Any] | pd.Index) -> list[str]:
    cols = [str(c) for c in columns]
    present = set(cols)
    return ([c for c in V.CANONICAL if c in present]
            + [c for c in cols if c not in V.CANONICAL])


def excluded_frame(frame: pd.DataFrame, rows: NDArray[np.int64], reasons: NDArray[Any] | str,
                   code: NDArray[Any] | str) -> pd.DataFrame:
    """The excluded-rows frame of ``frame``: ``row``, ``code``, ``reason``, then the rows' values."""
    codes = {code} if isinstance(code, str) else set(np.asarray(code, dtype=object).tolist())
    if not codes <= set(EXCLUSION_CODES):
        raise ValueError(f"unknown exclusion code {code!r}")  # a bug in scaling, not a user error
    out = frame.copy().reset_index(drop=True)
    n = len(out)
    out.insert(0, "reason", np.broadcast_to(np.asarray(reasons, dtype=object), (n,)).astype(str))
    out.insert(0, "code", np.broadcast_to(np.asarray(code, dtype=object), (n,)).astype(str))
    out.insert(0, "row", np.asarray(rows, dtype=np.int64))
    return out


def empty_excluded(columns: Sequence[str]) -> pd.DataFrame:
    cols = {"row": pd.Series([], dtype=np.int64), "code": pd.Series([], dtype=object),
            "reason": pd.Series([], dtype=object)}
    for c in columns:
        cols[c] = pd.Series([], dtype=np.float64 if c in V.CORE else object)
    return pd.DataFrame(cols)


def concat_excluded(old: pd.DataFrame, new: pd.DataFrame | None) -> pd.DataFrame:
    if new is None or len(new) == 0:
        return old
    if len(old) == 0:
        cols = list(new.columns) + [c for c in old.columns if c not in new.columns]
        return new.reindex(columns=cols)
    cols = list(old.columns) + [c for c in new.columns if c not in old.columns]
    out = pd.concat([old.reindex(columns=cols), new.reindex(columns=cols)], ignore_index=True)
    return out.sort_values("row", kind="stable").reset_index(drop=True)
