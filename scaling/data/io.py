"""Reading a table of runs: :func:`read_table`.

All unit handling and validation happen once, here: downstream code (laws, fitting, planning, plots)
can assume every row has positive, finite ``n_params`` (N, parameters), ``n_tokens`` (D, training
tokens), ``flops`` (C, training FLOPs) and ``loss`` (cross-entropy in nats per token).

Conventions
-----------
* **Row numbers** in messages and in :attr:`RunTable.excluded` are the 0-based positions of the data
  rows in the input (row 0 is the first row after a file's header, i.e. line 2 of a CSV file).
* **Nothing is dropped silently**: every row removed at read time (invalid values with
  ``on_invalid="exclude"``, exact or combined duplicates) or by a later operation (``filter``,
  ``final``, ``best_of``, ...) is listed in :attr:`RunTable.excluded` with its row number and reason.
* **FLOPs per token**: the missing one of (N, D, C) is derived from ``C = k·N·D`` with
  ``k = flops_per_token`` (default 6: 2 forward + 4 backward FLOPs per parameter and token,
  Kaplan et al. 2020 §2.1; Hoffmann et al. 2022 App. F), and the table records which column was derived.
* **Loss units** are never guessed: bits (× ln 2) and perplexity (natural log) are converted to nats
  only when ``loss_unit`` says so.

The raw sources (files, frames, records) are read by :mod:`scaling.data.formats`; read_table then
runs its steps in order: check the options, resolve the columns, parse and check the values, derive the
missing one of N, D, C, assemble the frame, exclude invalid rows, handle duplicates, record the meta.
"""

from __future__ import annotations

import copy
import logging
import os
import types
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ..errors import DataError, FlopsRuleWarning, UnitsWarning, format_message
from ..units import FLOPS_PER_PARAM_TOKEN, to_nats
from . import curves as C
from . import validate as V
from .excluded import concat_excluded, empty_excluded, excluded_frame, ordered_columns
from .formats import FORMATS, load_source
from .table import RunTable

__all__ = ["read_table", "CANONICAL_COLUMNS", "OPTIONAL_COLUMNS", "COLUMN_ALIASES"]

log = logging.getLogger("scaling")

CANONICAL_COLUMNS: tuple[str, ...] = V.CORE
"""``('n_params', 'n_tokens', 'flops', 'loss')``: the columns every :class:`RunTable` has."""

OPTIONAL_COLUMNS: tuple[str, ...] = V.OPTIONAL
"""``('run', 'step', 'group', 'n_params_nonembedding', 'n_unique_tokens', 'seed', 'lr')``."""

COLUMN_ALIASES: Mapping[str, tuple[str, ...]] = types.MappingProxyType(dict(V.ALIASES))
"""Source column names recognised for each canonical column (case/space/underscore-insensitive)."""

LossUnitOption = Literal["nats", "bits", "perplexity"]
DuplicatesOption = Literal["raise", "mean", "median", "min", "first", "keep"]
OnInvalidOption = Literal["raise", "exclude"]
ConventionOption = Literal["total", "non-embedding"]
FormatOption = Literal["csv", "tsv", "json", "jsonl", "parquet", "excel", "tensorboard", "wandb", "mlflow"]

_LOSS_UNITS = ("nats", "bits", "perplexity")
_DUPLICATES = ("raise", "mean", "median", "min", "first", "keep")
_ON_INVALID = ("raise", "exclude")
_CONVENTIONS = ("total", "non-embedding")
_TRIPLE = ("n_params", "n_tokens", "flops")
_DISTINGUISHING = ("group", "run", "seed", "lr", "step", "n_unique_tokens")

#: meta keys set by read_table / RunTable operations (a user ``meta`` may not override them)
_RESERVED_META = ("name", "flops_per_token", "derived", "derivation", "loss_unit", "n_params_convention",
                  "columns", "scale", "duplicates", "on_invalid", "id_columns", "ignored_columns",
                  "operations", "best_of", "smoothing", "run_columns", "metric", "metadata", "log10", "final",
                  "best_run")

_INVALID_HINT = ("Fix or remove these rows, or pass on_invalid='exclude' to exclude them "
                 "(they are then listed in table.excluded).")


def read_table(
    source: str | os.PathLike[str] | pd.DataFrame | Mapping[str, Any] | Sequence[Mapping[str, Any]] | Any,
    columns: Mapping[str, str | None] | None = None,
    *,
    loss_unit: LossUnitOption = "nats",
    flops_per_token: float = FLOPS_PER_PARAM_TOKEN,
    n_params_convention: ConventionOption | None = None,
    name: str | None = None,
    meta: Mapping[str, Any] | None = None,
    sep: str | None = None,
    sheet: str | int | None = None,
    format: FormatOption | None = None,  # noqa: A002 - the natural name, as in pandas
    scale: Mapping[str, float] | None = None,
    duplicates: DuplicatesOption = "raise",
    id_columns: Sequence[str] = (),
    on_invalid: OnInvalidOption = "raise",
    run: str | Sequence[str] | None = None,
    metric: str | None = None,
    metadata: Any = None,
    log10: Sequence[str] = (),
    check_units: bool = True,
) -> RunTable:
    """Read a table of training runs into a validated, immutable :class:`RunTable`.

    Parameters
    ----------
    source : path, DataFrame, dict of columns, list of records, or file-like
        A CSV, TSV, JSON (records, columns, split or table orientation), JSONL, Parquet (needs pyarrow)
        or Excel (needs openpyxl) file, chosen by suffix (``.gz``/``.bz2``/``.xz`` compression allowed)
        or by ``format``; or a pandas DataFrame (never modified; a *named* index becomes columns);
        or a dict of columns / a list of row dicts; or an open text file (``format`` required).
    columns : mapping, optional
        Canonical name -> your column name, e.g. ``{"n_params": "Model Size", "flops": "Training FLOP"}``.
        ``None`` as a value means "no such column" (e.g. ``{"flops": None}`` ignores a wrong flops column
        and derives it). Unmapped canonical columns are found by alias, case/space/underscore-insensitively
        (see :data:`COLUMN_ALIASES`: ``params``, ``N``, ``model_size`` -> n_params; ``tokens``, ``D``,
        ``data`` -> n_tokens; ``compute``, ``C``, ``training_flop`` -> flops; ``val_loss``, ``L`` -> loss;
        ...). Other source columns are kept after the canonical ones.
    loss_unit : {'nats', 'bits', 'perplexity'}
        The unit of the loss column; bits are multiplied by ln 2, perplexity is log'ed. Never guessed.
    flops_per_token : float
        ``k`` in ``C = k·N·D`` (default 6), used to derive the missing one of n_params, n_tokens, flops.
    n_params_convention : {'total', 'non-embedding'}, optional
        Whether n_params counts embedding parameters (recorded; ``None`` = unknown).
    name : str, optional
        A short name for the table (default: the file's stem).
    meta : mapping, optional
        Extra provenance stored in ``table.meta`` (may set ``source``, e.g. a URL; may not contradict the
        keys read_table sets).
    sep : str, optional
        Delimiter of a text file (default ``','`` for CSV and ``'\\t'`` for TSV).
    sheet : str or int, optional
        Excel sheet (default the first).
    format : {'csv', 'tsv', 'json', 'jsonl', 'parquet', 'excel', 'tensorboard', 'wandb', 'mlflow'}, optional
        Overrides the suffix. The last three read a training log with :func:`scaling.data.read_tensorboard`,
        :func:`~scaling.data.read_wandb` or :func:`~scaling.data.read_mlflow`; a folder is read as a log
        of the detected kind (event files, an MLflow store, or CSV files with one run each, named by file).
    scale : mapping, optional
        Multiply columns after parsing, e.g. ``{"n_tokens": 1e9}`` for a column of billions of tokens.
    duplicates : {'raise', 'mean', 'median', 'min', 'first', 'keep'}
        Rows with the same n_params and n_tokens (and group, run, seed, lr, step, n_unique_tokens and
        ``id_columns``, where present). ``'raise'`` (default): an error if their losses differ; exact
        duplicates (same loss) are dropped and listed in ``excluded`` as "exact duplicate". ``'mean'`` /
        ``'median'`` keep the first row with the mean / median loss, ``'min'`` the lowest-loss row,
        ``'first'`` the first row; ``'keep'`` keeps them all.
    id_columns : sequence of str
        Further (non-canonical) columns that tell runs apart, e.g. ``("dataset",)``.
    on_invalid : {'raise', 'exclude'}
        What to do with rows holding non-numeric, missing, non-finite or non-positive values:
        raise a :class:`~scaling.errors.DataError` (default), or exclude them (listed in ``excluded``).
    run : str or sequence of str, optional
        The run identity: one source column (as ``columns={'run': ...}``), or several, e.g.
        ``run=["model", "total_steps", "peak_lr"]``: the table's ``run`` column is then the label
        ``"model=..., total_steps=..., peak_lr=..."`` of each row, the source columns are kept (as canonical
        columns where they are aliases, e.g. ``peak_lr`` -> ``lr``, ``total_steps`` -> ``planned_steps``;
        a source column ``run`` not in the list is kept as ``run_name``), and ``meta['run_columns']``
        names them. Every run-wise operation (``final``, ``min_fraction``,
        ``best_run``, ``smooth``, ``Bootstrap(by="run")``) uses it.
    metric : str, optional
        The loss column of a log with one column per evaluation, e.g.
        ``metric="eval/c4_en-validation/CrossEntropyLoss"`` (as ``columns={'loss': ...}``); rows where
        that metric has no value (other evaluations' checkpoints) are excluded with code ``no_metric``.
    metadata : path, DataFrame, mapping or records, optional
        A per-run table (N, planned tokens or steps, schedule, ...) joined on the run identity: the
        ``run`` columns when given, else the run-id column (``run``, ``run_id`` or ``run_name``) both have.
        Every run of the log needs exactly one metadata row.
    log10 : sequence of str
        Numeric canonical columns stored as log10 values (e.g. ``log10=["n_tokens", "flops"]``):
        ``10**x`` is taken after parsing (before ``scale``).
    check_units : bool
        Guard against unit mistakes (default True): counts that cannot be raw counts of a language model
        run (``n_params`` below 1e4 everywhere, ``n_tokens`` or ``flops`` below 1e3 everywhere: log10 values,
        millions, PF-days) are a :class:`~scaling.errors.DataError` naming the fix; a loss that looks like a
        perplexity warns (:class:`~scaling.errors.UnitsWarning`), and so do given FLOPs off ``k·N·D`` by
        more than 2× (:class:`~scaling.errors.FlopsRuleWarning`). Pass False for tables that are not
        language-model runs (e.g. a random-features model with 800 parameters).

    Returns
    -------
    RunTable

    Raises
    ------
    DataError
        A missing or ambiguous column, bad values (naming the column, the 0-based rows, the values and a
        fix), conflicting duplicates, an empty table, an unknown option value, an unreadable file.
    FileNotFoundError
        ``source`` is a path that does not exist.

    Examples
    --------
    >>> import os
    >>> path = os.path.join(os.environ.get("SCALING_DATA_DIR", "."), "epoch_chinchilla/data/svg_extracted_data.csv")
    >>> t = read_table(path, columns={"n_params": "Model Size", "flops": "Training FLOP"},
    ...                name="epoch_chinchilla")  # doctest: +SKIP
    >>> t  # doctest: +SKIP
    <RunTable 'epoch_chinchilla': 245 runs, 142 distinct N, n_tokens derived as flops/(6·n_params), loss in nats>
    """
    opts = _check_options(columns, loss_unit, flops_per_token, n_params_convention, name, meta, format,
                          scale, duplicates, id_columns, on_invalid, run, metric, log10)
    if isinstance(source, RunTable):
        given = {k: v for k, v in (("columns", columns), ("loss_unit", loss_unit), ("flops_per_token", opts.k),
                                   ("n_params_convention", n_params_convention), ("name", name), ("meta", meta),
                                   ("sep", sep), ("sheet", sheet), ("format", format), ("scale", scale),
                                   ("duplicates", duplicates), ("id_columns", opts.id_cols),
                                   ("on_invalid", on_invalid), ("run", run), ("metric", metric),
                                   ("metadata", metadata), ("log10", list(opts.log10)),
                                   ("check_units", check_units))
                 if not _is_default(v, _DEFAULTS[k])}
        return _from_runtable(source, given)

    raw, label, source_text, default_name = load_source(source, format, sep, sheet)
    name = default_name if name is None else name
    where = f"of {name!r}" if name and label.startswith("the ") else f"of {label}"

    metadata_info = None
    if metadata is not None:
        raw, metadata_info = _join_metadata(raw, metadata, opts.run_cols, where)
    columns = _run_and_metric_columns(raw, columns, opts, where)
    if len(opts.run_cols) > 1:
        if "run" in raw.columns and "run" not in opts.run_cols:  # e.g. the log's own run names: kept
            if "run_name" in raw.columns:
                raise DataError(format_message("Columns 'run' and 'run_name'", where, "not both present when run=[...] "
                                               "builds the run label", "both", "Rename one of them."))
            raw = raw.rename(columns={"run": "run_name"})
        raw = raw.assign(run=_run_labels(raw, opts.run_cols, where))
    mapping, _ = _resolve_columns(list(raw.columns), columns, where)
    _check_required_columns(raw, mapping, opts, where)
    parsed = _parse_values(raw, mapping, opts, where)
    derived, derivation = _derive_missing(parsed, opts, where)
    parsed.values["loss"] = to_nats(parsed.values["loss"], opts.loss_unit)  # type: ignore[arg-type]
    full, ignored = _assemble(raw, mapping, parsed.values)
    frame, rows, excluded = _exclude_invalid(full, raw, mapping, parsed, where)
    if check_units is not True and check_units is not False:
        raise DataError(format_message("Option check_units", "", "True or False", repr(check_units)))
    if check_units:
        _check_units(frame, rows, opts, derived, where)
    frame, rows, dup_excl = _handle_duplicates(frame, rows, opts.duplicates, opts.id_cols, where)
    excluded = concat_excluded(excluded, dup_excl)

    table_meta = _table_meta(opts, source_text, name, derived, derivation, mapping, ignored, metadata_info)
    table = RunTable._create(frame, rows, table_meta, excluded)
    log.debug("read_table: %r", table)
    return table


# ----------------------------------------------------------------------------------------------------
# the steps of read_table


@dataclass(frozen=True)
class _Options:
    """read_table's options after checking."""

    loss_unit: str
    k: float
    n_params_convention: str | None
    duplicates: str
    on_invalid: str
    id_cols: list[str]
    scale: dict[str, float]
    meta: Mapping[str, Any]
    run_cols: tuple[str, ...]
    metric: str | None
    log10: tuple[str, ...]


def _check_options(columns: Any, loss_unit: Any, flops_per_token: Any, n_params_convention: Any, name: Any,
                   meta: Any, fmt: Any, scale: Any, duplicates: Any, id_columns: Any, on_invalid: Any, run: Any,
                   metric: Any, log10: Any) -> _Options:
    V.check_choice("loss_unit", loss_unit, _LOSS_UNITS, "Say which unit the loss column is in.")
    k = V.check_positive_number("flops_per_token", flops_per_token,
                                "Use the FLOPs per parameter per token of training, e.g. 6.")
    if n_params_convention is not None:
        V.check_choice("n_params_convention", n_params_convention, _CONVENTIONS,
                       "Say whether n_params counts embedding parameters ('total') or not ('non-embedding'); "
                       "None means unknown.")
    V.check_choice("duplicates", duplicates, _DUPLICATES,
                   "Use 'raise' to be told about conflicting duplicates, or say how to combine them.")
    V.check_choice("on_invalid", on_invalid, _ON_INVALID)
    if fmt is not None:
        V.check_choice("format", fmt, FORMATS)
    if name is not None and not isinstance(name, str):
        raise DataError(format_message("Option name", "", "a string or None", repr(name)))
    if meta is not None and not isinstance(meta, Mapping):
        raise DataError(format_message("Option meta", "", "a mapping or None", repr(meta)))
    if columns is not None and not isinstance(columns, Mapping):
        raise DataError(format_message("Option columns", "", "a mapping {canonical name: your column name}",
                                       repr(columns), "e.g. columns={'n_params': 'Model Size'}."))
    if isinstance(id_columns, str):
        id_columns = (id_columns,)
    run_cols = _names_option("run", run, "e.g. run=['model', 'total_steps', 'peak_lr']")
    if metric is not None and (not isinstance(metric, str) or not metric):
        raise DataError(format_message("Option metric", "", "a column name or None", repr(metric),
                                       "e.g. metric='eval/c4_en-validation/CrossEntropyLoss'."))
    log10_cols = _names_option("log10", log10, "e.g. log10=['n_tokens', 'flops']")
    numeric = [c for c in V.CANONICAL if c not in V.LABEL_COLUMNS]
    for c in log10_cols:
        if c not in numeric:
            raise DataError(format_message("Option log10", "", "canonical numeric column names (" + ", ".join(numeric)
                                           + ")", repr(c), "Name the columns after mapping, e.g. log10=['flops']."))
    return _Options(loss_unit=loss_unit, k=k, n_params_convention=n_params_convention, duplicates=duplicates,
                    on_invalid=on_invalid, id_cols=[str(c) for c in id_columns], scale=_check_scale(scale),
                    meta=meta or {}, run_cols=run_cols, metric=metric, log10=log10_cols)


def _names_option(option: str, value: Any, example: str) -> tuple[str, ...]:
    """A column-name option given as a string or a sequence of strings -> a tuple (empty for None)."""
    if value is None:
        return ()
    names = (value,) if isinstance(value, str) else value
    if not isinstance(names, (list, tuple)) or not all(isinstance(c, str) and c for c in names):
        raise DataError(format_message(f"Option {option}", "", "a column name or a list of column names",
                                       repr(value), example + "."))
    if len(set(names)) != len(names):
        raise DataError(format_message(f"Option {option}", "", "a list of distinct column names", repr(value)))
    return tuple(names)


def _join_metadata(raw: pd.DataFrame, metadata: Any, run_cols: Sequence[str], where: str
                   ) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Join a per-run table onto the log on the run identity (one metadata row per run): on the ``run=``
    columns both tables have, else on the run-id column (``run``, ``run_id``, ``run_name``) both have."""
    meta_raw, meta_label, meta_source, _ = load_source(metadata, None, None, None)
    key = [c for c in run_cols if c in raw.columns and c in meta_raw.columns]
    if not key:  # the run identity lives in the metadata: join on the run-id column both tables have
        shared = [c for c in raw.columns if c in meta_raw.columns and V.alias_target(c) == "run"]
        if len(shared) != 1:
            raise DataError(format_message(
                "The run identity", f"joining the metadata {meta_label} {where}",
                "one run-id column (run, run_id or run_name) in both tables, or named with run=[...]",
                f"columns {V.describe_columns(raw.columns)} and {V.describe_columns(meta_raw.columns)}",
                "Name the columns that identify a run in both tables with run=['model', ...]."))
        key = shared
    overlap = [c for c in meta_raw.columns if c in raw.columns and c not in key]
    if overlap:
        raise DataError(format_message(f"Column(s) {overlap}", f"of the metadata {meta_label}",
                                       "absent from the log (each column comes from one table)",
                                       "present in both", "Drop or rename them in one of the two tables."))
    mkey = meta_raw[key].astype(str).agg("\x1f".join, axis=1)
    lkey = raw[key].astype(str).agg("\x1f".join, axis=1)
    dup = mkey.duplicated(keep=False).to_numpy()
    if dup.any():
        raise DataError(format_message(f"The run identity ({', '.join(key)})", f"of the metadata {meta_label}",
                                       "unique (one row per run)",
                                       f"repeated in {V.rows_text(np.flatnonzero(dup))}",
                                       "Keep one metadata row per run."))
    unknown = ~lkey.isin(set(mkey)).to_numpy()
    if unknown.any():
        runs = V.values_text(list(lkey[unknown].str.replace("\x1f", ", ")))
        raise DataError(format_message(f"Every run ({', '.join(key)})", where, f"in the metadata {meta_label}",
                                       f"no metadata for {runs} ({V.rows_text(np.flatnonzero(unknown))} of the log)",
                                       "Add a metadata row for each run (or remove those rows from the log)."))
    extra = meta_raw.drop(columns=key).set_index(mkey.to_numpy())
    joined = pd.concat([raw.reset_index(drop=True), extra.loc[lkey.to_numpy()].reset_index(drop=True)], axis=1)
    return joined, {"source": meta_source, "on": key, "columns": [str(c) for c in extra.columns]}


def _run_and_metric_columns(raw: pd.DataFrame, columns: Mapping[str, str | None] | None, opts: _Options,
                            where: str) -> dict[str, str | None]:
    """``columns`` with ``run=`` and ``metric=`` folded in (they are shorthands for its 'run' and 'loss')."""
    out: dict[str, str | None] = dict(columns or {})
    for canon, value, option in (("run", opts.run_cols[0] if len(opts.run_cols) == 1 else
                                  ("run" if opts.run_cols else None), "run"),
                                 ("loss", opts.metric, "metric")):
        if value is None:
            continue
        if canon in out and out[canon] != value:
            raise DataError(format_message(f"Options {option} and columns[{canon!r}]", where, "not both given",
                                           f"{option}={value!r} and columns={{'{canon}': {out[canon]!r}}}",
                                           f"Pass only {option}=..."))
        out[canon] = value
    missing = [c for c in (*opts.run_cols, *([opts.metric] if opts.metric else [])) if c not in raw.columns]
    if missing:
        raise DataError(format_message(f"Column(s) {missing} (options run / metric)", where, "present",
                                       f"columns {V.describe_columns(raw.columns)}",
                                       "Check the spelling (names must match exactly)."))
    return out


def _run_labels(raw: pd.DataFrame, run_cols: Sequence[str], where: str) -> pd.Series:
    """``"model=m1, total_steps=1000, peak_lr=0.001"`` per row: the label of its run."""
    parts = [raw[c].map(lambda v, c=c: f"{c}={_label_value(v)}") for c in run_cols]
    out = parts[0]
    for part in parts[1:]:
        out = out + ", " + part
    return out.astype(object)


def _label_value(v: Any) -> str:
    if v is None or (isinstance(v, float) and v != v):
        return "missing"
    if isinstance(v, (float, np.floating)):
        return f"{float(v):.12g}"
    return str(v)


def _check_required_columns(raw: pd.DataFrame, mapping: Mapping[str, str], opts: _Options, where: str) -> None:
    """A loss column, two of N, D, C, at least one row, and id_columns that exist."""
    present = [c for c in _TRIPLE if c in mapping]
    if "loss" not in mapping:
        raise DataError(format_message(
            "Column 'loss'", where, "present (accepted names, case/space/underscore-insensitive: "
            f"{V.accepted_names('loss')})", f"columns {V.describe_columns(raw.columns)}",
            "Name your loss column with columns={'loss': 'your column'}."))
    if len(present) < 2:
        missing = [c for c in _TRIPLE if c not in mapping]
        accepted = "; ".join(f"{c}: {V.accepted_names(c)}" for c in missing)
        got = ("only " + ", ".join(repr(c) for c in present) if present else "none of them")
        raise DataError(format_message(
            "Column " + " or ".join(repr(c) for c in missing), where,
            f"present (at least two of 'n_params', 'n_tokens', 'flops' are needed; the third is derived from "
            f"flops = {opts.k:g}·n_params·n_tokens)", f"{got} among columns {V.describe_columns(raw.columns)}",
            f"Accepted names (case/space/underscore-insensitive) - {accepted}. Or map yours with "
            f"columns={{'{missing[0]}': 'your column'}}."))
    if len(raw) == 0:
        raise DataError(format_message("The table", where, "non-empty (at least one run)", "0 rows",
                                       "Check the file or DataFrame."))
    for c in opts.id_cols:
        if c in V.CORE or (c not in raw.columns and c not in mapping):
            raise DataError(format_message(
                f"Column {c!r}", f"(option id_columns) {where}", "a non-core column of the table",
                f"columns {V.describe_columns(raw.columns)}", "Name columns that tell runs apart."))


@dataclass
class _Parsed:
    """The numeric canonical columns as float64, the source values (for messages), and the invalid rows."""

    values: dict[str, NDArray[np.float64]]
    shown: dict[str, pd.Series | None]
    invalid_reasons: dict[int, list[str]]
    valid: NDArray[np.bool_]
    no_metric: NDArray[np.bool_]


def _parse_values(raw: pd.DataFrame, mapping: Mapping[str, str], opts: _Options, where: str) -> _Parsed:
    """Parse every numeric canonical column, check its values, and apply ``scale``.

    Raises on the first kind of bad value with ``on_invalid='raise'``; otherwise records a reason per row.
    """
    n = len(raw)
    values: dict[str, NDArray[np.float64]] = {}
    shown: dict[str, pd.Series | None] = {}
    issues: list[V.Issue] = []
    no_metric = np.zeros(n, dtype=bool)
    for canon in V.CANONICAL:
        if canon not in mapping or canon in V.LABEL_COLUMNS:
            continue
        src = mapping[canon]
        s = raw[src]
        vals, bad = V.parse_numbers(s)
        required = canon in V.CORE
        if canon == "loss" and opts.metric is not None:
            required = False  # a wide log: rows without this metric are other evaluations' checkpoints
            no_metric = np.isnan(vals) & ~bad
        if canon in opts.log10:
            lower, strict, text = -np.inf, True, "finite (a log10 value)"
        elif canon == "loss" and opts.loss_unit == "perplexity":
            lower, strict, text = 1.0, True, "> 1 (a perplexity)"
        elif canon in ("step", "lr"):  # step 0; a learning rate of 0 (warmup start, a schedule decayed to 0)
            lower, strict, text = 0.0, False, ">= 0"
        else:
            lower, strict, text = 0.0, True, "> 0"
        issues += V.check_values(canon, src, vals, bad, s, required=required, lower=lower, strict=strict,
                                 constraint_text=text)
        if canon in opts.log10:
            with np.errstate(over="ignore"):
                vals = 10.0 ** vals
        if canon in opts.scale:
            vals = vals * opts.scale[canon]
        values[canon] = vals
        shown[canon] = s
    invalid_reasons: dict[int, list[str]] = {}
    if issues:
        if opts.on_invalid == "raise":
            raise DataError(issues[0].message(where, np.arange(n), _INVALID_HINT))
        invalid_reasons = V.exclusion_reasons(issues, n, shown)
    valid = ~no_metric
    if invalid_reasons:
        valid[list(invalid_reasons)] = False
    if not valid.any() and no_metric.all():
        raise DataError(format_message(f"Column {opts.metric!r} (option metric)", where, "not empty",
                                       "no value in any row", "Check the metric name against the log's columns."))
    return _Parsed(values, shown, invalid_reasons, valid, no_metric & ~np.isin(np.arange(n), list(invalid_reasons)))


def _derive_missing(parsed: _Parsed, opts: _Options, where: str) -> tuple[str | None, str | None]:
    """Derive the missing one of N, D, C from ``C = k·N·D`` (in place); check the derived values."""
    values, k = parsed.values, opts.k
    derived: str | None = None
    derivation: str | None = None
    with np.errstate(all="ignore"):
        if "flops" not in values:
            derived, derivation = "flops", f"flops = {k:g}·n_params·n_tokens"
            values["flops"] = k * values["n_params"] * values["n_tokens"]
        elif "n_tokens" not in values:
            derived, derivation = "n_tokens", f"n_tokens = flops/({k:g}·n_params)"
            values["n_tokens"] = values["flops"] / (k * values["n_params"])
        elif "n_params" not in values:
            derived, derivation = "n_params", f"n_params = flops/({k:g}·n_tokens)"
            values["n_params"] = values["flops"] / (k * values["n_tokens"])
    if derived is not None:
        dv = values[derived]
        bad_derived = parsed.valid & ~(np.isfinite(dv) & (dv > 0))
        if bad_derived.any():
            rows = np.flatnonzero(bad_derived)
            issue = V.Issue(derived, None, f"finite and > 0 after derivation ({derivation})", "derived value "
                            "not finite or not > 0", rows, tuple(dv[rows[:50]]))
            if opts.on_invalid == "raise":
                raise DataError(issue.message(where, np.arange(len(dv)), "Check the units of the given columns "
                                              "(overflow or underflow) or " + _INVALID_HINT[0].lower()
                                              + _INVALID_HINT[1:]))
            for i in rows:
                parsed.invalid_reasons.setdefault(int(i), []).append(issue.reason(dv[i]))
            parsed.valid[rows] = False
    return derived, derivation


def _assemble(raw: pd.DataFrame, mapping: Mapping[str, str], values: Mapping[str, NDArray[np.float64]]
              ) -> tuple[pd.DataFrame, list[str]]:
    """The full frame (canonical columns, then the source's others) and the ignored canonical-named columns."""
    data: dict[str, Any] = {}
    for canon in V.CANONICAL:
        if canon in values:
            data[canon] = values[canon]
        elif canon in mapping:  # run / group / seed: as given
            data[canon] = raw[mapping[canon]]
    used = set(mapping.values())
    ignored = [c for c in raw.columns if c not in used and c in V.CANONICAL]
    if ignored:
        log.info("read_table: ignoring source column(s) %s (their canonical name is taken by another column "
                 "or disabled with columns={...: None})", ignored)
    for c in raw.columns:
        if c not in used and c not in V.CANONICAL:
            data[c] = raw[c]
    return pd.DataFrame(data, index=pd.RangeIndex(len(raw))), ignored


def _exclude_invalid(full: pd.DataFrame, raw: pd.DataFrame, mapping: Mapping[str, str], parsed: _Parsed,
                     where: str) -> tuple[pd.DataFrame, NDArray[np.int64], pd.DataFrame]:
    """The valid rows, their input row numbers, and the excluded frame of the invalid ones."""
    n = len(full)
    rows_all = np.arange(n, dtype=np.int64)
    excluded = empty_excluded(ordered_columns(full.columns))
    if parsed.invalid_reasons or parsed.no_metric.any():
        bad_rows = np.flatnonzero(~parsed.valid)
        shown_frame = full.iloc[bad_rows].copy()
        for canon, src in mapping.items():  # show what the source said, not the NaN it parsed to
            if canon in parsed.values:
                shown_frame[canon] = raw[src].iloc[bad_rows].to_numpy(copy=True)
        reasons = np.array(["; ".join(parsed.invalid_reasons.get(int(i), [])) for i in bad_rows], dtype=object)
        codes = np.where(parsed.no_metric[bad_rows], "no_metric", "invalid")
        reasons = np.where(parsed.no_metric[bad_rows], "no value of the metric at this checkpoint", reasons)
        excluded = concat_excluded(excluded, excluded_frame(shown_frame, rows_all[bad_rows], reasons, codes))
        log.info("read_table: excluded %d rows of %d (invalid or without the metric)", len(bad_rows), n)
    frame = full[parsed.valid].reset_index(drop=True)
    if len(frame) == 0:
        raise DataError(format_message("The table", where, "non-empty after excluding invalid rows",
                                       f"0 of {n} rows left", "Every row has an invalid value: see the "
                                       "reasons with on_invalid='raise'."))
    return frame, rows_all[parsed.valid], excluded


#: loss "looks like a perplexity" when every value exceeds this (nats), or the median exceeds _PPL_MEDIAN
_PPL_ALL = 15.0
_PPL_MEDIAN = 10.0
#: counts below these are not plausible raw counts: log10 values or counts in millions / billions
_COUNT_FLOOR = {"n_params": 1e4, "n_tokens": 1e3, "flops": 1e3}
_LOG10_CEILING = 30.0  # log10 of any count of a language model run is below 30
_FLOPS_RULE_FACTOR = 2.0


def _check_units(frame: pd.DataFrame, rows: NDArray[np.int64], opts: _Options, derived: str | None,
                 where: str) -> None:
    """Guards against the unit mistakes that fit quietly to nonsense (issue: OPT's log10 tokens and
    perplexities gave E = 5e-65): counts that look like log10 values or millions (an error naming the fix),
    a loss that looks like a perplexity (UnitsWarning), FLOPs that disagree with k·N·D (FlopsRuleWarning)."""
    for c, floor in _COUNT_FLOOR.items():
        if c == derived or c in opts.log10:
            continue
        v = frame[c].to_numpy(dtype=np.float64)
        if len(v) and v.max() < floor:
            if c == "flops":  # log10 FLOPs (~17-25) and PF-days (~0.01-1e3) overlap: name both
                look = (f"log10 values (10**{v.max():.3g} = {10.0 ** min(v.max(), 300):.3g}) or compute in a "
                        f"larger unit such as PF-days (largest {v.max():.4g})")
                hint = ("If the column holds log10 values, pass log10=['flops']; if it is in PF-days, pass "
                        "scale={'flops': 8.64e19}")
            elif v.max() <= _LOG10_CEILING:
                look = f"log10 values (10**{v.max():.3g} = {10.0 ** v.max():.3g})"
                hint = f"If the column holds log10 values, pass log10=[{c!r}]"
            else:
                unit, word = (1e6, "millions") if c == "n_params" else (1e9, "billions")
                look = f"counts in {word} (largest {v.max():.4g})"
                hint = f"If the column counts {word}, pass scale={{{c!r}: {unit:g}}}"
            raise DataError(format_message(
                f"Column {c!r}", where, f"a count (at least {floor:g} somewhere; a language model run has more)",
                f"every value below it, which looks like {look}", hint + ". If these are true counts (not a "
                "language model), pass check_units=False."))
    loss = frame["loss"].to_numpy(dtype=np.float64)
    if opts.loss_unit != "perplexity" and len(loss):
        med = float(np.median(loss))
        if loss.min() > _PPL_ALL or med > _PPL_MEDIAN:
            warnings.warn(
                f"Column 'loss' {where} looks like a perplexity, not a loss in {opts.loss_unit}: read as "
                f"{opts.loss_unit}, its median is {med:.4g} nats/token and its smallest {loss.min():.4g} "
                f"(a cross-entropy above {_PPL_MEDIAN:g} nats/token is worse than "
                f"uniform guessing over 22,000 tokens). If it is a perplexity, pass loss_unit='perplexity' "
                "(it is then log'ed to nats); ignore this if it really is a loss that large.",
                UnitsWarning, stacklevel=4)
    if derived is None:
        expected = opts.k * frame["n_params"].to_numpy(dtype=np.float64) * frame["n_tokens"].to_numpy(dtype=np.float64)
        ratio = frame["flops"].to_numpy(dtype=np.float64) / expected
        off = (ratio > _FLOPS_RULE_FACTOR) | (ratio < 1.0 / _FLOPS_RULE_FACTOR)
        if off.any():
            idx = np.flatnonzero(off)
            warnings.warn(
                f"Column 'flops' {where} disagrees with flops = {opts.k:g}·n_params·n_tokens by more than "
                f"{_FLOPS_RULE_FACTOR:g}x in {len(idx)} of {len(frame)} rows ({V.rows_text(rows[idx])}; ratio "
                f"flops/({opts.k:g}·N·D) from {ratio[idx].min():.3g} to {ratio[idx].max():.3g}). Check its unit "
                "(e.g. PF-days = 8.64e19 FLOPs: scale={'flops': 8.64e19}) or the FLOPs rule "
                f"(flops_per_token={float(np.median(ratio)) * opts.k:.3g} fits the median row); "
                "table.check_flops() lists the rows.", FlopsRuleWarning, stacklevel=4)


def _table_meta(opts: _Options, source_text: str, name: str | None, derived: str | None,
                derivation: str | None, mapping: Mapping[str, str], ignored: Sequence[str],
                metadata_info: Mapping[str, Any] | None) -> dict[str, Any]:
    """The provenance mapping, with the caller's ``meta`` merged in (it may not contradict ours)."""
    table_meta: dict[str, Any] = {
        "source": source_text,
        "name": name,
        "flops_per_token": opts.k,
        "derived": derived,
        "derivation": derivation,
        "loss_unit": opts.loss_unit,
        "n_params_convention": opts.n_params_convention,
        "columns": {c: mapping[c] for c in V.CANONICAL if c in mapping},
        "scale": dict(opts.scale) or None,
        "duplicates": opts.duplicates,
        "on_invalid": opts.on_invalid,
        "id_columns": tuple(opts.id_cols),
        "ignored_columns": tuple(ignored),
        "operations": (),
        "best_of": None,
        "smoothing": None,
        "run_columns": tuple(opts.run_cols) if len(opts.run_cols) > 1 else None,
        "metric": opts.metric,
        "metadata": dict(metadata_info) if metadata_info else None,
        "log10": tuple(opts.log10),
        "final": None,
        "best_run": None,
    }
    for key, value in opts.meta.items():
        key = str(key)
        if key in _RESERVED_META and value != table_meta[key]:
            raise DataError(format_message(
                f"meta[{key!r}]", "", f"equal to what read_table records ({table_meta[key]!r})", repr(value),
                f"Pass it as the keyword argument {key}=... instead." if key in (
                    "name", "flops_per_token", "loss_unit", "n_params_convention", "duplicates", "on_invalid")
                else "This key is set by read_table; use another key."))
        table_meta[key] = copy.deepcopy(value)
    return table_meta


def _check_scale(scale: Mapping[str, float] | None) -> dict[str, float]:
    if scale is None:
        return {}
    if not isinstance(scale, Mapping):
        raise DataError(format_message("Option scale", "", "a mapping {column: factor}", repr(scale),
                                       "e.g. scale={'n_tokens': 1e9} for a column in billions of tokens."))
    out = {}
    numeric = [c for c in V.CANONICAL if c not in V.LABEL_COLUMNS]
    for col, factor in scale.items():
        if col not in numeric:
            raise DataError(format_message("Option scale", "", "keyed by numeric canonical column names ("
                                           + ", ".join(numeric) + ")", repr(col)))
        out[col] = V.check_positive_number(f"scale[{col!r}]", factor, "Pass a positive factor such as 1e9.")
    return out


_DEFAULTS: dict[str, Any] = {"columns": None, "loss_unit": "nats", "flops_per_token": FLOPS_PER_PARAM_TOKEN,
                             "n_params_convention": None, "name": None, "meta": None, "sep": None, "sheet": None,
                             "format": None, "scale": None, "duplicates": "raise", "id_columns": [],
                             "on_invalid": "raise", "run": None, "metric": None, "metadata": None, "log10": [],
                             "check_units": True}


def _is_default(value: Any, default: Any) -> bool:
    return value is default or (type(value) is type(default) and bool(value == default))


def _from_runtable(table: RunTable, given: Mapping[str, Any]) -> RunTable:
    if given:
        raise DataError(format_message("Options of read_table", "for a RunTable source", "left at their defaults",
                                       f"{sorted(given)}", "Read table.to_frame() with the options instead."))
    return table


def _resolve_columns(raw_cols: list[str], columns: Mapping[str, str | None] | None, where: str
                     ) -> tuple[dict[str, str], set[str]]:
    mapping: dict[str, str] = {}
    disabled: set[str] = set()
    used: set[str] = set()
    for canon, src in (columns or {}).items():
        if canon not in V.CANONICAL:
            raise DataError(format_message(
                "Option columns", "", "keyed by canonical names (" + ", ".join(V.CANONICAL) + ")", repr(canon),
                "Keys are canonical names and values your column names, e.g. columns={'n_params': 'Model Size'}."))
        if src is None:
            disabled.add(canon)
            continue
        src = str(src)
        if src not in raw_cols:
            raise DataError(format_message(
                f"Column {src!r} (given as columns[{canon!r}])", where, "present",
                f"columns {V.describe_columns(raw_cols)}", "Check the spelling (names must match exactly here)."))
        if src in used:
            other = next(c for c, s in mapping.items() if s == src)
            raise DataError(format_message(
                f"Column {src!r}", f"(option columns) {where}", "mapped to one canonical name",
                f"both {other!r} and {canon!r}", "Map each canonical name to its own column."))
        mapping[canon] = src
        used.add(src)
    candidates: dict[str, list[str]] = {}
    for c in raw_cols:
        if c in used:
            continue
        target = V.alias_target(c)
        if target is None or target in mapping or target in disabled:
            continue
        candidates.setdefault(target, []).append(c)
    for target, found in candidates.items():
        if len(found) > 1 and target in found:
            # the canonical name itself wins over its aliases (so a table's own to_frame() reads back
            # unchanged); the other columns are kept as extras
            found = [target]
        if len(found) > 1:
            names = " and ".join(repr(c) for c in found)
            raise DataError(format_message(
                f"Columns {names}", where, f"a single column for {target!r} (both match its accepted names)",
                names, f"Choose one with columns={{'{target}': {found[0]!r}}} (the other is then kept as an "
                f"extra column), or columns={{'{target}': None}} to use neither."))
        mapping[target] = found[0]
    return mapping, disabled


def _handle_duplicates(frame: pd.DataFrame, rows: NDArray[np.int64], policy: str, id_cols: Sequence[str],
                       where: str) -> tuple[pd.DataFrame, NDArray[np.int64], pd.DataFrame | None]:
    if policy == "keep":
        return frame, rows, None
    key = ["n_params", "n_tokens"] + [c for c in _DISTINGUISHING if c in frame.columns]
    key += [c for c in id_cols if c in frame.columns and c not in key]
    in_dup = frame.duplicated(subset=key, keep=False).to_numpy()
    if not in_dup.any():
        return frame, rows, None
    if policy != "raise":
        return C.combine(frame, rows, key, policy, f"duplicates={policy!r}", code="duplicate")
    exact = frame.duplicated(subset=key + ["loss"], keep="first").to_numpy()
    rest = frame[~exact]
    conflict = rest.duplicated(subset=key, keep=False).to_numpy()
    if conflict.any():
        sub = rest[conflict]
        sub_rows = rows[~exact][conflict]
        gid = sub.groupby(key, sort=False, dropna=False).ngroup().to_numpy()
        texts = []
        for g in range(min(3, int(gid.max()) + 1)):
            idx = np.flatnonzero(gid == g)
            first = sub.iloc[idx[0]]
            head = ", ".join(f"{c}={_fmt(first[c])}" for c in key)
            losses = " and ".join(f"{_fmt(sub['loss'].iloc[i])} in row {sub_rows[i]}" for i in idx[:4])
            texts.append(f"{head} with loss {losses}")
        more = int(gid.max()) + 1 - len(texts)
        value = "; ".join(texts) + (f"; and {more} more such groups" if more > 0 else "") + " (0-based rows)"
        tell = ", ".join(c for c in _DISTINGUISHING if c not in frame.columns)
        raise DataError(format_message(
            f"Rows with the same {', '.join(key)}", where,
            f"told apart by a column when their losses differ (none of {tell} is present)", value,
            "Add a 'seed' or 'run' column (map yours with columns={'run': 'your id column'}), name the columns "
            "that tell them apart with id_columns=[...], or combine them with duplicates='mean', 'median', "
            "'min' or 'first' (duplicates='keep' keeps them all)."))
    # exact duplicates: drop and report
    gid = frame.groupby(key + ["loss"], sort=False, dropna=False).ngroup().to_numpy()
    _, first_of_group = np.unique(gid, return_index=True)  # group ids are 0..G-1 in order of appearance
    reasons = np.array([f"exact duplicate of row {rows[first_of_group[g]]} (same {', '.join(key)} and loss)"
                        for g in gid[exact]], dtype=object)
    excl = excluded_frame(frame[exact], rows[exact], reasons, "duplicate")
    log.info("read_table: excluded %d exact duplicate rows %s", int(exact.sum()), where)
    return frame[~exact], rows[~exact], excl



def _fmt(v: Any) -> str:
    if isinstance(v, (float, np.floating)):
        return f"{float(v):.6g}"
    return repr(v)


