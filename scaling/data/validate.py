"""Validation helpers of :mod:`scaling.data` (column names, parsing, value checks).

Column names, aliases, vectorized parsing of counts and numbers, option checks, and the
:class:`~scaling.errors.DataError` messages about bad values. Row numbers in every message are the
**0-based positions of the data rows in the input** (row 0 is the first row after a file's header,
i.e. line 2 of a CSV file), and the messages say "(0-based)".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ..errors import DataError, format_message, format_rows
from ..units import parse_count

__all__: list[str] = []

CORE: tuple[str, ...] = ("n_params", "n_tokens", "flops", "loss")
"""Canonical columns every table has (one of the first three may be derived)."""

OPTIONAL: tuple[str, ...] = (
    "run", "step", "group", "n_params_nonembedding", "n_unique_tokens", "seed", "lr", "planned_steps",
    "planned_tokens",
)
"""Canonical optional columns, in the order they appear after the core ones."""

CANONICAL: tuple[str, ...] = CORE + OPTIONAL

COUNT_COLUMNS: frozenset[str] = frozenset(
    {"n_params", "n_tokens", "flops", "n_params_nonembedding", "n_unique_tokens", "step", "planned_steps",
     "planned_tokens"})
"""Columns parsed as counts (``70M``, ``1.4B``, ``2T``, ``1.2e9`` and plain numbers)."""

NUMERIC_OPTIONAL: frozenset[str] = frozenset({"step", "n_params_nonembedding", "n_unique_tokens", "lr",
                                              "planned_steps", "planned_tokens"})
"""Optional columns that are numeric (missing values allowed, other bad values are errors)."""

LABEL_COLUMNS: frozenset[str] = frozenset({"run", "group", "seed"})
"""Optional columns kept as given (identifiers)."""

ALIASES: dict[str, tuple[str, ...]] = {
    "n_params": ("n_params", "params", "param", "parameters", "N", "model_size", "num_params",
                 "n_parameters", "num_parameters", "number_of_parameters", "param_count",
                 "parameter_count", "params_count", "total_params", "model_params"),
    "n_tokens": ("n_tokens", "tokens", "D", "data", "num_tokens", "train_tokens", "training_tokens",
                 "tokens_seen", "tokens_trained", "token_num", "total_tokens", "number_of_tokens",
                 "data_size", "dataset_size"),
    "flops": ("flops", "flop", "compute", "C", "training_flop", "training_flops", "train_flops",
              "total_flops", "training_compute", "compute_flops"),
    "loss": ("loss", "val_loss", "validation_loss", "valid_loss", "eval_loss", "evaluation_loss",
             "test_loss", "L", "final_loss"),
    "run": ("run", "run_id", "run_name"),
    "step": ("step", "steps", "iteration", "iter", "global_step", "train_step", "training_step"),
    "group": ("group", "family", "model_family"),
    "n_params_nonembedding": ("n_params_nonembedding", "non_embedding_params", "nonembedding_params",
                              "n_params_no_embed", "params_no_embed", "N_no_embed",
                              "non_embedding_parameters", "params_nonembedding"),
    "n_unique_tokens": ("n_unique_tokens", "unique_tokens", "U", "U_D", "num_unique_tokens",
                        "tokens_per_epoch"),
    "seed": ("seed", "random_seed", "rng_seed"),
    "lr": ("lr", "learning_rate", "peak_lr", "max_lr", "peak_learning_rate"),
    "planned_steps": ("planned_steps", "total_steps", "max_steps", "train_steps", "num_train_steps",
                      "total_train_steps", "max_iters", "total_iters"),
    "planned_tokens": ("planned_tokens", "train_tokens_planned", "planned_train_tokens", "total_train_tokens",
                       "max_tokens", "target_tokens", "token_budget"),
}
"""Accepted source column names per canonical column (matched case/space/underscore-insensitively)."""


def normalize_name(name: object) -> str:
    """Lower-case ``name`` and drop spaces, underscores, hyphens and dots: ``'Model Size' -> 'modelsize'``."""
    return re.sub(r"[\s_\-.]+", "", str(name).lower())


_ALIAS_INDEX: dict[str, str] = {normalize_name(a): canon for canon, names in ALIASES.items() for a in names}


def alias_target(name: object) -> str | None:
    """The canonical column a source column name is an alias of, or ``None``."""
    return _ALIAS_INDEX.get(normalize_name(name))


def accepted_names(canon: str) -> str:
    """``"'loss', 'val_loss', ..."`` for messages."""
    return ", ".join(repr(a) for a in ALIASES[canon])


def describe_columns(columns: Iterable[object], limit: int = 20) -> str:
    """``"['a', 'b', ...]"`` (at most ``limit`` names) for messages."""
    cols = [str(c) for c in columns]
    shown = ", ".join(repr(c) for c in cols[:limit])
    if len(cols) > limit:
        shown += f", ... ({len(cols)} columns)"
    return f"[{shown}]"


def rows_text(rows: Sequence[int] | NDArray[np.int64]) -> str:
    """``'rows 4, 9 (0-based)'``: the package-wide way of naming input rows."""
    return f"{format_rows([int(r) for r in rows])} (0-based)"


def values_text(values: Sequence[Any], limit: int = 5) -> str:
    """Distinct offending values, repr'd, in order of appearance: ``"0, -5.0"``."""
    seen: list[str] = []
    for v in values:
        r = _value_repr(v)
        if r not in seen:
            seen.append(r)
    text = ", ".join(seen[:limit])
    if len(seen) > limit:
        text += f", ... ({len(seen)} distinct values)"
    return text


def _value_repr(v: Any) -> str:
    if v is None or v is pd.NA or v is pd.NaT:
        return "missing"
    if isinstance(v, (float, np.floating)):
        f = float(v)
        if np.isnan(f):
            return "NaN"
        if np.isinf(f):
            return "inf" if f > 0 else "-inf"
        return f"{f:.6g}"
    if isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)):
        return str(int(v))
    return repr(v)


# ----------------------------------------------------------------------------------------------------
# options


def check_choice(option: str, value: object, choices: Sequence[object], hint: str = "") -> None:
    """Raise :class:`DataError` unless ``value`` is one of ``choices``."""
    if not any(value == c and type(value) is type(c) for c in choices):
        raise DataError(format_message(f"Option {option}", "", "one of " + ", ".join(repr(c) for c in choices),
                                       repr(value), hint))


def check_positive_number(option: str, value: object, hint: str = "", *, upper: float | None = None,
                          upper_inclusive: bool = True) -> float:
    """``value`` as a float, after checking it is a finite real number > 0 (and <= ``upper``)."""
    constraint = "a finite number > 0" + (f" and <= {upper:g}" if upper is not None and upper_inclusive
                                          else f" and < {upper:g}" if upper is not None else "")
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise DataError(format_message(f"Option {option}", "", constraint, repr(value), hint))
    x = float(value)
    bad = not np.isfinite(x) or x <= 0
    if upper is not None:
        bad = bad or (x > upper if upper_inclusive else x >= upper)
    if bad:
        raise DataError(format_message(f"Option {option}", "", constraint, repr(value), hint))
    return x


# ----------------------------------------------------------------------------------------------------
# parsing


def parse_numbers(series: pd.Series) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Parse a column of numbers or counts (``70M``, ``1.4B``, ``1.2e9``, ``12,000``) into float64.

    Returns ``(values, bad)``: ``values`` has NaN where the input is missing or unparseable and ``bad``
    marks the unparseable entries. Numeric columns are converted without a Python loop; text columns go
    through :func:`pandas.to_numeric` first and only the distinct values it cannot read are parsed one by
    one with :func:`scaling.units.parse_count`. Integers beyond int64 (object columns) become floats.
    """
    n = len(series)
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return np.full(n, np.nan), np.ones(n, dtype=bool)
    if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_complex_dtype(dtype):
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        return np.array(values, dtype=np.float64, copy=True), np.zeros(n, dtype=bool)
    if not (pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype)
            or isinstance(dtype, pd.CategoricalDtype)):
        # datetimes, timedeltas, complex numbers, intervals ...: not counts
        return np.full(n, np.nan), ~series.isna().to_numpy(dtype=bool)

    if isinstance(dtype, pd.CategoricalDtype):
        series = series.astype(object)
    missing = series.isna().to_numpy(dtype=bool)
    try:
        values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        values = np.array(values, dtype=np.float64, copy=True)
    except (TypeError, ValueError):  # lists, dicts ... inside an object column
        values = np.full(n, np.nan)
    bad = np.zeros(n, dtype=bool)
    if pd.api.types.is_object_dtype(series.dtype):
        # pandas turns True/False into 1/0: booleans are not counts
        is_bool = np.fromiter((isinstance(v, (bool, np.bool_)) for v in series.array), dtype=bool, count=n)
        values[is_bool] = np.nan
        bad |= is_bool
    retry = np.isnan(values) & ~missing & ~bad
    if retry.sum() > 64 and (pd.api.types.is_string_dtype(series.dtype) or pd.api.types.is_object_dtype(series.dtype)):
        # many suffixed counts ("70M", "1.4B"): one vectorized regex pass instead of a Python loop
        sub = series[retry]
        is_str = np.fromiter((isinstance(v, str) for v in sub.array), dtype=bool, count=len(sub))
        text = sub.where(is_str).astype(object)
        strings = pd.Series(text, dtype=_STRING_DTYPE).str.strip()
        factor = strings.str[-1].map(_SUFFIX_FACTOR).to_numpy(dtype=np.float64, na_value=np.nan)
        number = pd.to_numeric(strings.str[:-1], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        got = number * factor
        ok = ~np.isnan(got)
        values[np.flatnonzero(retry)[ok]] = got[ok]
        retry = np.isnan(values) & ~missing & ~bad
    if retry.any():
        idx = np.flatnonzero(retry)
        raw = series.array
        cache: dict[Any, float | None] = {}
        for i in idx:
            v = raw[i]
            try:
                key: Any = v if isinstance(v, str) else (type(v), v)
                hash(key)
            except TypeError:
                key = None
            if key is not None and key in cache:
                parsed = cache[key]
            else:
                parsed = _parse_one(v)
                if key is not None:
                    cache[key] = parsed
            if parsed is None:
                bad[i] = True
            else:
                values[i] = parsed
    return values, bad


try:  # vectorized string kernels when pyarrow is there
    import pyarrow  # noqa: F401

    _STRING_DTYPE = "string[pyarrow]"
except ImportError:  # pragma: no cover - pyarrow is optional
    _STRING_DTYPE = "string"
_SUFFIX_FACTOR = {"k": 1e3, "K": 1e3, "m": 1e6, "M": 1e6, "b": 1e9, "B": 1e9, "g": 1e9, "G": 1e9,
                  "t": 1e12, "T": 1e12, "p": 1e15, "P": 1e15}


def _parse_one(v: Any) -> float | None:
    if isinstance(v, (bool, np.bool_)):
        return None
    try:
        return parse_count(v)
    except DataError:
        pass
    if isinstance(v, str):
        try:
            return float(v.strip())  # 'nan', 'inf', '-Infinity' ...: reported later as non-finite
        except ValueError:
            return None
    return None


# ----------------------------------------------------------------------------------------------------
# value checks


@dataclass(frozen=True)
class Issue:
    """One kind of bad value in one column (all rows sharing the problem)."""

    column: str
    source_column: str | None
    constraint: str
    problem: str  # short, for excluded reasons: "not a number", "missing", "not finite", "<= 0"
    rows: NDArray[np.int64]  # positions in the table being checked
    values: tuple[Any, ...]

    def message(self, where: str, row_numbers: NDArray[np.int64], hint: str) -> str:
        what = f"Column {self.column!r}"
        if self.source_column is not None and self.source_column != self.column:
            what += f" (source column {self.source_column!r})"
        value = f"{values_text(self.values)} in {rows_text(row_numbers[self.rows])}"
        return format_message(what, where, self.constraint, value, hint)

    def reason(self, raw: Any) -> str:
        return f"invalid {self.column}: {self.problem} ({_value_repr(raw)})"


def check_values(column: str, source_column: str | None, values: NDArray[np.float64],
                 bad: NDArray[np.bool_], raw: pd.Series | None, *, required: bool, lower: float,
                 strict: bool, constraint_text: str) -> list[Issue]:
    """The issues of one numeric column: unparseable, missing (if required), non-finite, below ``lower``.

    ``strict``: values must be ``> lower`` (else ``>= lower``). ``raw`` holds the original values for
    messages (``values`` is used when it is ``None``).
    """
    issues: list[Issue] = []
    shown = raw.array if raw is not None else values

    def add(mask: NDArray[np.bool_], constraint: str, problem: str) -> None:
        if mask.any():
            rows = np.flatnonzero(mask)
            issues.append(Issue(column, source_column, constraint, problem, rows,
                                tuple(shown[i] for i in rows[:50])))

    add(bad, f"a number or a count such as 70M, 1.4B, 2T or 1.2e9 ({constraint_text})", "not a number")
    nan = np.isnan(values) & ~bad
    if required:
        add(nan, f"a finite number {constraint_text} (not missing or NaN)", "missing or NaN")
    inf = np.isinf(values)
    add(inf, f"a finite number {constraint_text}", "not finite")
    with np.errstate(invalid="ignore"):
        low = (values <= lower) if strict else (values < lower)
    add(low & np.isfinite(values), f"a finite number {constraint_text}", constraint_text.replace(">", "not >"))
    return issues


def exclusion_reasons(issues: Sequence[Issue], n: int, raw: Mapping[str, pd.Series | None]
                           ) -> dict[int, list[str]]:
    """Row position -> reasons, for ``on_invalid='exclude'``."""
    reasons: dict[int, list[str]] = {}
    for issue in issues:
        src = raw.get(issue.column)
        for i in issue.rows:
            value = src.array[int(i)] if src is not None else None
            reasons.setdefault(int(i), []).append(issue.reason(value))
    return reasons
