"""JSON serialisation shared by every result object (fits, backtests, approaches): DataFrames as
column lists with their dtypes (non-finite floats as their repr), numpy scalars as Python numbers, so
that ``from_dict(to_dict())`` round-trips exactly and ``json.dumps(..., allow_nan=False)`` works."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["frame_to_json", "frame_from_json", "jsonable", "plain_json"]


def frame_to_json(df: pd.DataFrame | None) -> dict[str, Any] | None:
    if df is None:
        return None
    cols = [str(c) for c in df.columns]
    data = []
    for c in df.columns:
        s = df[c]
        if pd.api.types.is_bool_dtype(s):
            data.append([bool(v) for v in s])
        elif pd.api.types.is_integer_dtype(s):
            data.append([int(v) for v in s])
        elif pd.api.types.is_float_dtype(s):
            data.append([float(v) if math.isfinite(v) else repr(float(v)) for v in s])
        else:
            data.append([None if v is None or (isinstance(v, float) and math.isnan(v)) else str(v) for v in s])
    dtypes = [str(df[c].dtype) for c in df.columns]
    index = [str(i) for i in df.index] if not isinstance(df.index, pd.RangeIndex) else None
    return {"columns": cols, "dtypes": dtypes, "data": data, "index": index}


def frame_from_json(d: Mapping[str, Any] | None) -> pd.DataFrame | None:
    if d is None:
        return None
    cols = {}
    for c, dt, vals in zip(d["columns"], d["dtypes"], d["data"]):
        if dt.startswith("float"):
            cols[c] = np.array([np.nan if v is None else float(v) for v in vals], dtype=float)
        elif dt.startswith("int"):
            cols[c] = np.array(vals, dtype=np.int64)
        elif dt == "bool":
            cols[c] = np.array(vals, dtype=bool)
        else:
            cols[c] = pd.array(vals, dtype="object")
    df = pd.DataFrame(cols, columns=list(d["columns"]))
    if d.get("index") is not None:
        df.index = pd.Index(d["index"])
    return df


def jsonable(x: Any) -> Any:
    if isinstance(x, Mapping):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray):
        return [jsonable(v) for v in x.tolist()]
    if isinstance(x, float) and not math.isfinite(x):
        return repr(x)
    return x


def plain_json(x: Any) -> Any:
    """Plain JSON types for reports and CLI output: mappings, sequences, frames (as records), Series (as
    mappings) and arrays become dicts and lists; numpy scalars Python numbers; non-finite floats ``None``;
    paths and other objects their text. (Results that must round-trip use :func:`jsonable`.)"""
    if isinstance(x, Mapping):
        return {str(k): plain_json(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [plain_json(v) for v in x]
    if isinstance(x, pd.DataFrame):
        return [plain_json(r) for r in x.to_dict(orient="records")]
    if isinstance(x, pd.Series):
        return {str(k): plain_json(v) for k, v in x.items()}
    if isinstance(x, np.ndarray):
        return plain_json(x.tolist())
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        v = float(x)
        return v if math.isfinite(v) else None
    if x is None or isinstance(x, str):
        return x
    return str(x)
