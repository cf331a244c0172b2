"""The frame of excluded rows that every :class:`~scaling.RunTable` carries, and the column order.

Every row removed at read time or by a later operation is kept here with its 0-based input ``row`` and
its ``reason``, then its values: nothing is dropped silently.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from . import validate as V

__all__ = ["ordered_columns", "excluded_frame", "empty_excluded", "concat_excluded"]


def ordered_columns(columns: Sequence[Any] | pd.Index) -> list[str]:
    cols = [str(c) for c in columns]
    present = set(cols)
    return ([c for c in V.CANONICAL if c in present]
            + [c for c in cols if c not in V.CANONICAL])


def excluded_frame(frame: pd.DataFrame, rows: NDArray[np.int64], reasons: NDArray[Any]) -> pd.DataFrame:
    out = frame.copy().reset_index(drop=True)
    out.insert(0, "reason", np.asarray(reasons, dtype=object).astype(str))
    out.insert(0, "row", np.asarray(rows, dtype=np.int64))
    return out


def empty_excluded(columns: Sequence[str]) -> pd.DataFrame:
    out = pd.DataFrame({"row": pd.Series([], dtype=np.int64), "reason": pd.Series([], dtype=object)})
    for c in columns:
        out[c] = pd.Series([], dtype=np.float64 if c in V.CORE else object)
    return out


def concat_excluded(old: pd.DataFrame, new: pd.DataFrame | None) -> pd.DataFrame:
    if new is None or len(new) == 0:
        return old
    if len(old) == 0:
        cols = list(new.columns) + [c for c in old.columns if c not in new.columns]
        return new.reindex(columns=cols)
    cols = list(old.columns) + [c for c in new.columns if c not in old.columns]
    out = pd.concat([old.reindex(columns=cols), new.reindex(columns=cols)], ignore_index=True)
    return out.sort_values("row", kind="stable").reset_index(drop=True)
