"""File formats and in-memory sources read by :func:`scaling.read_table` (CSV, TSV, JSON, JSONL,
Parquet, Excel; a DataFrame, a mapping of columns, a list of records, a file object).

Each reader returns the *raw* frame: string column names, a RangeIndex, values as the source had them.
Parsing and validation of the values happen later, in :mod:`scaling.data.io`.
"""

from __future__ import annotations

import bz2
import gzip
import importlib
import json
import lzma
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError, format_message
from . import logs
from .logs import LOG_FORMATS

__all__ = ["load_source", "clean_columns", "require_module", "FORMATS"]

FORMATS = ("csv", "tsv", "json", "jsonl", "parquet", "excel", *LOG_FORMATS)
_SUFFIX_FORMAT = {".csv": "csv", ".txt": "csv", ".dat": "csv", ".tsv": "tsv", ".tab": "tsv",
                  ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet",
                  ".pq": "parquet", ".parq": "parquet", ".xlsx": "excel", ".xlsm": "excel", ".xls": "excel"}
_COMPRESSION = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}


def load_source(source: Any, fmt: str | None, sep: str | None, sheet: str | int | None
          ) -> tuple[pd.DataFrame, str, str, str | None]:
    """The raw frame (string column names, RangeIndex), a label for messages, meta['source'], a default name."""
    if isinstance(source, pd.DataFrame):
        _no_file_options(sep, sheet, fmt, "a DataFrame")
        raw = _from_dataframe(source)
        return raw, "the input DataFrame", "DataFrame", None
    if isinstance(source, Mapping):
        _no_file_options(sep, sheet, fmt, "a mapping of columns")
        return _frame_from_json(dict(source), "the input mapping"), "the input mapping", "mapping", None
    if isinstance(source, (list, tuple)):
        _no_file_options(sep, sheet, fmt, "a list of records")
        return _frame_from_json(list(source), "the input records"), "the input records", "records", None
    if hasattr(source, "read"):
        if fmt is None:
            raise DataError(format_message("Option format", "for a file object", "one of " + ", ".join(
                repr(f) for f in FORMATS), "None", "A file object has no suffix: pass format='csv' (or ...)."))
        label = str(getattr(source, "name", "the input file"))
        return _read_format(source, fmt, sep, sheet, label), label, label, None
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.exists():
            raise FileNotFoundError(f"read_table: no such file: {str(path)!r}")
        if fmt in LOG_FORMATS or path.is_dir() or "tfevents" in path.name:
            return _read_log(path, fmt, sep, sheet), path.name, str(source), path.stem or None
        suffixes = [s.lower() for s in path.suffixes]
        compression = suffixes[-1] if suffixes and suffixes[-1] in (*_COMPRESSION, ".zst", ".zip") else None
        base = suffixes[-2] if compression and len(suffixes) >= 2 else (suffixes[-1] if suffixes else "")
        stem = path.name
        if compression:
            stem = stem[: -len(compression)]
        if base and stem.lower().endswith(base):
            stem = stem[: -len(base)]
        if fmt is None:
            if base not in _SUFFIX_FORMAT:
                raise DataError(format_message(
                    "The file type", f"of {path.name}", "one of " + ", ".join(sorted(_SUFFIX_FORMAT)),
                    repr(base or path.name), "Pass format='csv' (or 'tsv', 'json', 'jsonl', 'parquet', 'excel')."))
            fmt = _SUFFIX_FORMAT[base]
        raw = _read_format(path, fmt, sep, sheet, path.name, compression)
        return raw, path.name, str(source), stem or None
    raise TypeError(f"read_table: source must be a path, a pandas DataFrame, a dict of columns, a list of records "
                    f"or a file object; got {type(source).__name__}")


def _read_log(path: Path, fmt: str | None, sep: str | None, sheet: str | int | None) -> pd.DataFrame:
    """A training log (TensorBoard, W&B, MLflow, or a folder of per-run CSV files) as a raw frame."""
    _no_file_options(sep, sheet, None, "a training log")
    if fmt is None:
        fmt = "tensorboard" if "tfevents" in path.name else logs.detect_log_format(path)
    elif fmt not in LOG_FORMATS:
        raise DataError(format_message("Option format", f"for the folder {path.name}", "one of "
                                       + ", ".join(repr(f) for f in LOG_FORMATS) + " or None (detected)",
                                       repr(fmt), "A folder is read as a training log."))
    if fmt == "tensorboard":
        raw = logs.read_tensorboard(path)
    elif fmt == "mlflow":
        raw = logs.read_mlflow(path)
    elif fmt == "wandb":
        raw = logs.read_wandb(path)
    else:
        raw = logs.read_csv_runs(path)
    return clean_columns(raw, path.name)


def _no_file_options(sep: str | None, sheet: str | int | None, fmt: str | None, what: str) -> None:
    for opt, value in (("sep", sep), ("sheet", sheet), ("format", fmt)):
        if value is not None:
            raise DataError(format_message(f"Option {opt}", f"for {what}", "None (it applies to files)",
                                           repr(value)))


def _from_dataframe(df: pd.DataFrame) -> pd.DataFrame:
    if isinstance(df.columns, pd.MultiIndex):
        raise DataError(format_message("The DataFrame's columns", "", "a flat index (one level)", "a MultiIndex",
                                       "Flatten it, e.g. df.columns = ['_'.join(c) for c in df.columns]."))
    out = df.copy(deep=True)
    named_index = any(n is not None for n in out.index.names)
    out = out.reset_index(drop=not named_index)
    return clean_columns(out, "the input DataFrame")


def clean_columns(raw: pd.DataFrame, label: str) -> pd.DataFrame:
    names = [str(c) for c in raw.columns]
    dup = sorted({c for c in names if names.count(c) > 1})
    if dup:
        raise DataError(format_message("Column names", f"of {label}", "unique", f"{dup} more than once",
                                       "Rename the repeated columns."))
    raw.columns = pd.Index(names, dtype=object)
    return raw.reset_index(drop=True)


def _read_format(path: Any, fmt: str, sep: str | None, sheet: str | int | None, label: str,
                 compression: str | None = None) -> pd.DataFrame:
    if sep is not None and fmt not in ("csv", "tsv"):
        raise DataError(format_message("Option sep", f"for {label}", "None (it applies to CSV/TSV files)", repr(sep)))
    if sheet is not None and fmt != "excel":
        raise DataError(format_message("Option sheet", f"for {label}", "None (it applies to Excel files)",
                                       repr(sheet)))
    try:
        if fmt in ("csv", "tsv"):
            delimiter = sep if sep is not None else ("\t" if fmt == "tsv" else ",")
            try:
                raw = pd.read_csv(path, sep=delimiter, low_memory=False)
            except pd.errors.EmptyDataError:
                raw = pd.DataFrame()
            if raw.shape[1] == 1 and sep is None and len(raw) and isinstance(raw.columns[0], str) and (
                    "\t" in raw.columns[0] or ";" in raw.columns[0]):
                raise DataError(format_message("The delimiter", f"of {label}", repr(delimiter),
                                               f"a single column {raw.columns[0]!r}",
                                               "Pass sep='\\t' or sep=';' (or format='tsv')."))
        elif fmt in ("json", "jsonl"):
            text = _read_text(path, compression)
            if fmt == "json":
                try:
                    obj = json.loads(text)
                except json.JSONDecodeError as e:
                    raise DataError(format_message("The file", label, "valid JSON", f"{e.msg} at line {e.lineno}",
                                                   "If it has one object per line, use format='jsonl'.")) from e
            else:
                obj = []
                for lineno, line in enumerate(text.splitlines(), start=1):
                    if line.strip():
                        try:
                            obj.append(json.loads(line))
                        except json.JSONDecodeError as e:
                            raise DataError(format_message("Line", f"{lineno} of {label}", "one JSON object",
                                                           repr(line[:60]), "Fix or remove that line.")) from e
            raw = _frame_from_json(obj, label)
        elif fmt == "parquet":
            require_module("pyarrow", "Reading Parquet files needs pyarrow: pip install pyarrow "
                     "(or pip install 'scaling[parquet]').", label)
            raw = pd.read_parquet(path)
            raw = raw.reset_index(drop=not any(n is not None for n in raw.index.names))
        else:  # excel
            require_module("openpyxl", "Reading Excel files needs openpyxl: pip install openpyxl "
                     "(or pip install 'scaling[excel]').", label)
            raw = pd.read_excel(path, sheet_name=sheet if sheet is not None else 0)
    except DataError:
        raise
    except (ValueError, OSError, UnicodeDecodeError, pd.errors.ParserError) as e:
        raise DataError(format_message("The file", label, f"readable as {fmt}", f"{type(e).__name__}: {e}",
                                       "Check the file or pass format=... / sep=...")) from e
    return clean_columns(raw, label)


def require_module(module: str, hint: str, label: str) -> None:
    try:
        importlib.import_module(module)
    except ImportError as e:
        raise DataError(format_message(f"The optional dependency {module!r}", f"(needed for {label})",
                                       "installed", "not installed", hint)) from e


def _read_text(path: Any, compression: str | None) -> str:
    if hasattr(path, "read"):
        data = path.read()
        return data.decode("utf-8") if isinstance(data, bytes) else str(data)
    if compression in (".zst", ".zip"):
        raise DataError(format_message("The compression", f"of {Path(path).name}", "gzip, bz2 or xz for JSON",
                                       repr(compression), "Decompress the file first."))
    opener: Callable[..., Any] = _COMPRESSION.get(compression or "", open)  # type: ignore[assignment]
    with opener(path, "rt", encoding="utf-8") as f:
        return str(f.read())


def _frame_from_json(obj: Any, label: str) -> pd.DataFrame:
    """A DataFrame from parsed JSON: records (list of objects), columns ({col: [..]} or {col: {i: v}}),
    split ({"columns": [...], "data": [[...]]}) or table ({"schema": ..., "data": [{...}]}) orientation."""
    if isinstance(obj, list):
        if not all(isinstance(r, Mapping) for r in obj):
            bad = next(i for i, r in enumerate(obj) if not isinstance(r, Mapping))
            raise DataError(format_message("Each record", f"of {label}", "an object {column: value}",
                                           f"{type(obj[bad]).__name__} in row {bad} (0-based)",
                                           "Use records orientation [{...}, ...] or columns {col: [...]}."))
        raw = pd.DataFrame.from_records(list(obj)) if obj else pd.DataFrame()
    elif isinstance(obj, Mapping):
        if "columns" in obj and "data" in obj and isinstance(obj["data"], list) and (
                not obj["data"] or isinstance(obj["data"][0], list)):
            raw = pd.DataFrame(obj["data"], columns=list(obj["columns"]))
        elif "schema" in obj and "data" in obj and isinstance(obj["data"], list):
            raw = pd.DataFrame.from_records(obj["data"]) if obj["data"] else pd.DataFrame()
            pk = obj["schema"].get("primaryKey", []) if isinstance(obj["schema"], Mapping) else []
            raw = raw.drop(columns=[c for c in pk if c in raw.columns and c == "index"])
        else:
            cols: dict[str, Any] = {}
            lengths = set()
            for c, v in obj.items():
                if isinstance(v, Mapping):  # pandas' "columns" orientation: {column: {index: value}}
                    cols[c] = pd.Series(list(v.values()), index=list(v.keys()), dtype=object)
                    lengths.add(len(v))
                elif isinstance(v, (pd.Series, pd.Index)):
                    cols[c] = v.to_numpy()
                    lengths.add(len(v))
                elif isinstance(v, np.ndarray) and v.ndim == 1:
                    cols[c] = v
                    lengths.add(len(v))
                elif isinstance(v, (list, tuple)):
                    cols[c] = list(v)
                    lengths.add(len(v))
                else:  # a scalar: the same value in every row
                    cols[c] = v
            if len(lengths) > 1:
                raise DataError(format_message("The columns", f"of {label}", "of equal length",
                                               f"lengths {sorted(lengths)}", "Give one value per run in each column."))
            if not lengths:
                cols = {c: [v] for c, v in cols.items()}
            try:
                raw = pd.DataFrame(cols)
            except ValueError as e:
                raise DataError(format_message("The columns", f"of {label}", "a table", str(e))) from e
            raw = _infer(raw)
    else:
        raise DataError(format_message("The JSON data", f"of {label}", "a list of records or an object of columns",
                                       type(obj).__name__))
    return clean_columns(raw, label)


def _infer(raw: pd.DataFrame) -> pd.DataFrame:
    """Object columns of plain numbers -> numeric dtypes (keeps ints beyond int64 as objects)."""
    out = {}
    for c in raw.columns:
        s = raw[c]
        if s.dtype == object:
            try:
                s = s.infer_objects()
            except (TypeError, ValueError):
                pass
        out[c] = s
    return pd.DataFrame(out).reset_index(drop=True)
