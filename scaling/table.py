"""The table of runs: :class:`RunTable` and :func:`read_table`.

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
"""

from __future__ import annotations

import bz2
import copy
import gzip
import hashlib
import importlib
import json
import logging
import lzma
import os
import types
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from . import _validate as V
from .errors import DataError, format_message
from .conventions import Conventions
from .units import FLOPS_PER_PARAM_TOKEN, to_nats

__all__ = ["RunTable", "read_table", "CANONICAL_COLUMNS", "OPTIONAL_COLUMNS", "COLUMN_ALIASES"]

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
FormatOption = Literal["csv", "tsv", "json", "jsonl", "parquet", "excel"]

_LOSS_UNITS = ("nats", "bits", "perplexity")
_DUPLICATES = ("raise", "mean", "median", "min", "first", "keep")
_ON_INVALID = ("raise", "exclude")
_CONVENTIONS = ("total", "non-embedding")
_FORMATS = ("csv", "tsv", "json", "jsonl", "parquet", "excel")
_SUFFIX_FORMAT = {".csv": "csv", ".txt": "csv", ".dat": "csv", ".tsv": "tsv", ".tab": "tsv",
                  ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet",
                  ".pq": "parquet", ".parq": "parquet", ".xlsx": "excel", ".xlsm": "excel", ".xls": "excel"}
_COMPRESSION = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}
_TRIPLE = ("n_params", "n_tokens", "flops")
_DISTINGUISHING = ("group", "run", "seed", "lr", "step", "n_unique_tokens")

#: meta keys set by read_table / RunTable operations (a user ``meta`` may not override them)
_RESERVED_META = ("name", "flops_per_token", "derived", "derivation", "loss_unit", "n_params_convention",
                  "columns", "scale", "duplicates", "on_invalid", "id_columns", "ignored_columns",
                  "operations", "best_of", "smoothing")

_INVALID_HINT = ("Fix or remove these rows, or pass on_invalid='exclude' to exclude them "
                 "(they are then listed in table.excluded).")


# ====================================================================================================
# RunTable


class RunTable:
    """An immutable, validated table of training runs (or checkpoints of training curves).

    Build one with :func:`read_table`; every operation returns a **new** table and the rows it removes
    are added to :attr:`excluded` with a reason.

    Columns
    -------
    Always, in this order: ``n_params`` (N, parameters), ``n_tokens`` (D, training tokens),
    ``flops`` (C, training FLOPs, ``C = k·N·D`` when derived) and ``loss`` (nats per token), all
    float64, finite and > 0. Then whichever optional canonical columns the source had:
    ``run``, ``step``, ``group`` (family / dataset / configuration), ``n_params_nonembedding``,
    ``n_unique_tokens``, ``seed``, ``lr``. Then the source's other columns, as given.

    Attributes
    ----------
    n_params, n_tokens, flops, loss : numpy.ndarray
        Read-only float64 arrays.
    columns : tuple of str
    meta : Mapping[str, Any]
        Read-only provenance: ``source``, ``name``, ``flops_per_token``, ``derived`` (``None`` or the
        derived column), ``derivation`` (the rule, e.g. ``'n_tokens = flops/(6·n_params)'``),
        ``loss_unit`` (the unit the loss was converted *from*; ``'nats'`` when not converted),
        ``n_params_convention`` (``'total'``, ``'non-embedding'`` or ``None`` = unknown), ``columns``
        (canonical name -> source column), ``scale``, ``duplicates``, ``on_invalid``, ``id_columns``,
        ``ignored_columns``, ``operations`` (the operations applied after reading, in order),
        ``best_of`` and ``smoothing`` (``None`` unless applied), plus the caller's extra ``meta``.
    excluded : pandas.DataFrame
        One row per removed input row: ``row`` (0-based input row), ``reason``, then its values.

    Examples
    --------
    >>> import pandas as pd
    >>> from scaling.table import read_table
    >>> t = read_table(pd.DataFrame({"params": ["70M", "1.4B"], "compute": [4.2e18, 1.68e20],
    ...                              "val_loss": [3.1, 2.6]}), name="demo")
    >>> t
    <RunTable 'demo': 2 runs, 2 distinct N, n_tokens derived as flops/(6·n_params), loss in nats>
    >>> t.n_tokens
    array([1.e+10, 2.e+10])
    """

    __slots__ = ("_frame", "_rows", "_meta", "_excluded", "_arrays")

    _frame: pd.DataFrame
    _rows: NDArray[np.int64]
    _meta: dict[str, Any]
    _excluded: pd.DataFrame
    _arrays: dict[str, NDArray[np.float64]]

    def __init__(self) -> None:
        raise TypeError("RunTable is not built directly: use scaling.read_table(source, ...) "
                        "(a path, a pandas DataFrame, a dict of columns or a list of records).")

    @classmethod
    def _create(cls, frame: pd.DataFrame, rows: NDArray[np.int64], meta: Mapping[str, Any],
                excluded: pd.DataFrame) -> RunTable:
        self = object.__new__(cls)
        frame = frame.reset_index(drop=True)
        frame = frame[_ordered_columns(frame.columns)]
        for c in V.CORE:
            frame[c] = frame[c].astype(np.float64)
        arrays = {}
        for c in V.CORE:
            a = np.array(frame[c].to_numpy(dtype=np.float64), dtype=np.float64, copy=True)
            a.flags.writeable = False
            arrays[c] = a
        r = np.array(rows, dtype=np.int64, copy=True)
        r.flags.writeable = False
        object.__setattr__(self, "_frame", frame)
        object.__setattr__(self, "_rows", r)
        object.__setattr__(self, "_meta", copy.deepcopy(dict(meta)))
        object.__setattr__(self, "_excluded", excluded.reset_index(drop=True))
        object.__setattr__(self, "_arrays", arrays)
        return self

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"RunTable is immutable: cannot set {name!r}. Operations return a new table.")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"RunTable is immutable: cannot delete {name!r}.")

    def __reduce__(self) -> tuple[Any, ...]:
        return (_restore, (self._frame, np.array(self._rows), self._meta, self._excluded))

    def __copy__(self) -> RunTable:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> RunTable:
        return self

    # ------------------------------------------------------------------------------------------------
    # accessors

    @property
    def n_params(self) -> NDArray[np.float64]:
        """N, parameters per run (read-only float64)."""
        return self._arrays["n_params"].view()

    @property
    def n_tokens(self) -> NDArray[np.float64]:
        """D, training tokens per run (read-only float64)."""
        return self._arrays["n_tokens"].view()

    @property
    def flops(self) -> NDArray[np.float64]:
        """C, training FLOPs per run (read-only float64)."""
        return self._arrays["flops"].view()

    @property
    def loss(self) -> NDArray[np.float64]:
        """Loss in nats per token (read-only float64)."""
        return self._arrays["loss"].view()

    @property
    def columns(self) -> tuple[str, ...]:
        """Column names: the canonical ones first, then optional canonical ones, then the source's others."""
        return tuple(str(c) for c in self._frame.columns)

    @property
    def meta(self) -> Mapping[str, Any]:
        """Read-only provenance mapping (see the class docstring for its keys); nested values are copies."""
        return types.MappingProxyType(copy.deepcopy(self._meta))

    @property
    def conventions(self) -> Conventions:
        """How N, D, C and L were counted (typed; :func:`scaling.fit` copies it onto the result)."""
        return Conventions(flops_per_token=float(self._meta.get("flops_per_token", 6.0)),
                           n_params=self._meta.get("n_params_convention"),
                           loss_unit=str(self._meta.get("loss_unit", "nats")))

    @property
    def name(self) -> str | None:
        """``meta['name']``."""
        name = self._meta.get("name")
        return None if name is None else str(name)

    @property
    def excluded(self) -> pd.DataFrame:
        """Removed rows: ``row`` (0-based input row), ``reason``, then the row's values (a copy)."""
        return self._excluded.copy(deep=True)

    @property
    def source_rows(self) -> NDArray[np.int64]:
        """The 0-based input row of each row of the table (read-only int64)."""
        return self._rows.view()

    def __len__(self) -> int:
        return len(self._frame)

    def __contains__(self, column: object) -> bool:
        return column in self._frame.columns

    def __iter__(self) -> Iterator[str]:
        """Iterate over column names (as a DataFrame does)."""
        return iter(self.columns)

    def __getitem__(self, column: str) -> pd.Series:
        """A copy of one column as a :class:`pandas.Series`."""
        if not isinstance(column, str) or column not in self._frame.columns:
            raise KeyError(f"{column!r} is not a column of this table; columns: {list(self.columns)}")
        return self._frame[column].copy(deep=True)

    def to_frame(self) -> pd.DataFrame:
        """A copy of the table as a DataFrame: canonical columns first (float64), then the others."""
        return self._frame.copy(deep=True)

    def data_hash(self) -> str:
        """sha256 (hex) of the canonical numeric columns, for fit provenance.

        Hashes the column names and the little-endian float64 bytes of ``n_params``, ``n_tokens``,
        ``flops`` and ``loss`` in row order, so it is the same on every machine and run, changes when any
        value or the row order changes, and ignores the other columns and the metadata.
        """
        h = hashlib.sha256(b"scaling.RunTable/v1\n")
        h.update(str(len(self)).encode() + b"\n")
        for c in V.CORE:
            h.update(c.encode() + b"\n")
            h.update(np.ascontiguousarray(self._arrays[c], dtype="<f8").tobytes())
        return h.hexdigest()

    def check_flops(self, rtol: float = 0.05) -> pd.DataFrame:
        """Rows whose ``flops`` differ from ``k·n_params·n_tokens`` by more than ``rtol`` (relative).

        ``k = meta['flops_per_token']``. When one of the three columns was derived, the rule holds by
        construction and the result is empty. Nothing is changed: read_table keeps given values as given.

        Returns
        -------
        pandas.DataFrame
            Columns ``row`` (0-based input row), ``n_params``, ``n_tokens``, ``flops``,
            ``expected_flops`` (= k·N·D) and ``ratio`` (= flops / expected_flops).
        """
        rtol = V.check_positive_number("rtol", rtol, "Pass a relative tolerance such as rtol=0.05.")
        k = float(self._meta["flops_per_token"])
        expected = k * self._arrays["n_params"] * self._arrays["n_tokens"]
        ratio = self._arrays["flops"] / expected
        bad = np.abs(ratio - 1.0) > rtol
        return pd.DataFrame({"row": self._rows[bad], "n_params": self._arrays["n_params"][bad],
                             "n_tokens": self._arrays["n_tokens"][bad], "flops": self._arrays["flops"][bad],
                             "expected_flops": expected[bad], "ratio": ratio[bad]})

    def __repr__(self) -> str:
        n = len(self)
        head = f"<RunTable {self.name!r}" if self.name is not None else "<RunTable"
        parts = []
        if "run" in self._frame.columns:
            n_runs = int(self._frame["run"].nunique(dropna=False))
            parts.append(f"{n} rows ({n_runs} runs)")
        else:
            parts.append(f"{n} runs" if n != 1 else "1 run")
        parts.append(f"{len(np.unique(self._arrays['n_params']))} distinct N")
        derived = self._meta.get("derived")
        if derived is not None:
            rule = str(self._meta.get("derivation", "")).split("=", 1)[-1].strip()
            parts.append(f"{derived} derived as {rule}")
        unit = self._meta.get("loss_unit", "nats")
        parts.append("loss in nats" if unit == "nats" else f"loss in nats (converted from {unit})")
        ops = self._meta.get("operations", ())
        if ops:
            parts.append("after " + ", ".join(str(op["op"]) for op in ops))
        if len(self._excluded):
            parts.append(f"{len(self._excluded)} excluded")
        return f"{head}: " + ", ".join(parts) + ">"

    # ------------------------------------------------------------------------------------------------
    # selections

    def filter(self, mask: ArrayLike | Callable[[pd.DataFrame], ArrayLike], *, reason: str) -> RunTable:
        """A new table with the rows where ``mask`` is True; the others go to :attr:`excluded`.

        Parameters
        ----------
        mask : array-like of bool, length ``len(self)``, or callable
            Rows to **keep**. A callable receives a copy of :meth:`to_frame` and returns the mask.
        reason : str
            Why the other rows are removed (stored in ``excluded['reason']``).

        Raises
        ------
        DataError
            The mask is not boolean, has the wrong length, or would remove every row.
        """
        if not isinstance(reason, str) or not reason.strip():
            raise DataError(format_message("Option reason", "of filter()", "a non-empty string", repr(reason),
                                           "Say why rows are removed, e.g. reason='loss > 5 (diverged)'."))
        keep = self._mask(mask, "filter()")
        return self._select(keep, reason, {"op": "filter", "reason": reason})

    def subset(self, where: ArrayLike | Callable[[pd.DataFrame], ArrayLike] | Mapping[str, Any], *,
               reason: str | None = None) -> RunTable:
        """A new table with the rows matching ``where``; the others go to :attr:`excluded`.

        Parameters
        ----------
        where : mapping, array-like of bool, or callable
            A mapping ``{column: value}`` keeps rows whose column equals the value (a list, tuple or set
            of values keeps rows equal to any of them), e.g. ``{"group": "c4"}``; several entries must
            all hold. A boolean mask or a callable works as in :meth:`filter`.
        reason : str, optional
            Stored in ``excluded['reason']``; by default it describes ``where``.
        """
        if isinstance(where, Mapping):
            if not where:
                raise DataError(format_message("Option where", "of subset()", "a non-empty mapping {column: value}",
                                               "{}", "Pass e.g. where={'group': 'c4'}."))
            keep = np.ones(len(self), dtype=bool)
            desc = []
            for col, value in where.items():
                self._require_column(col, "subset()")
                s = self._frame[col]
                if isinstance(value, (list, tuple, set, frozenset, np.ndarray, pd.Series, pd.Index)):
                    values = list(value)
                    keep &= s.isin(values).to_numpy(dtype=bool)
                    desc.append(f"{col} in {values!r}")
                else:
                    keep &= (s == value).fillna(False).to_numpy(dtype=bool)
                    desc.append(f"{col} == {value!r}")
            text = " and ".join(desc)
            if reason is None:
                reason = f"not in subset {text}"
        else:
            keep = self._mask(where, "subset()")
            text = "mask"
            if reason is None:
                reason = "not in subset (mask)"
        if not isinstance(reason, str) or not reason.strip():
            raise DataError(format_message("Option reason", "of subset()", "a non-empty string or None",
                                           repr(reason)))
        return self._select(keep, reason, {"op": "subset", "where": text, "reason": reason})

    def min_tokens(self, x: float) -> RunTable:
        """Keep rows (checkpoints) with ``n_tokens >= x``; the others go to :attr:`excluded`."""
        x = V.check_positive_number("x", x, "Pass a number of tokens such as min_tokens(1e9).")
        keep = self._arrays["n_tokens"] >= x
        return self._select(keep, f"n_tokens < {x:g} (min_tokens({x:g}))", {"op": "min_tokens", "x": x})

    def min_fraction(self, f: float, *, by: str | Sequence[str] = "run") -> RunTable:
        """Keep checkpoints with at least fraction ``f`` of their run's final ``n_tokens``.

        Parameters
        ----------
        f : float in (0, 1]
            ``f = 1`` keeps only each run's final checkpoint(s).
        by : str or sequence of str
            The column(s) identifying a run (default ``'run'``).
        """
        f = V.check_positive_number("f", f, "Pass a fraction in (0, 1], e.g. min_fraction(0.25).", upper=1.0)
        by_cols = self._by(by, "min_fraction()")
        final = self._frame.groupby(by_cols, sort=False, dropna=False)["n_tokens"].transform("max").to_numpy()
        keep = self._arrays["n_tokens"] >= f * final
        reasons = np.array([f"n_tokens < {f:g} × its run's final n_tokens ({fin:.4g}) (min_fraction({f:g}))"
                            for fin in final[~keep]], dtype=object)
        return self._select(keep, reasons, {"op": "min_fraction", "f": f, "by": list(by_cols)})

    def final(self, by: str | Sequence[str] = "run") -> RunTable:
        """The final checkpoint of each run: its row with the largest ``n_tokens`` (ties: largest ``step``).

        Parameters
        ----------
        by : str or sequence of str
            The column(s) identifying a run (default ``'run'``; e.g. ``by=("n_params", "lr")`` for a
            log without run ids).
        """
        by_cols = self._by(by, "final()")
        n = len(self)
        gid = self._frame.groupby(by_cols, sort=False, dropna=False).ngroup().to_numpy()
        step = (self._frame["step"].to_numpy(dtype=np.float64, na_value=-np.inf) if "step" in self._frame
                else np.zeros(n))
        pos = np.arange(n)
        order = np.lexsort((pos, step, self._arrays["n_tokens"], gid))
        g_sorted = gid[order]
        last = np.r_[g_sorted[1:] != g_sorted[:-1], True]
        keep_pos = order[last]
        keep = np.zeros(n, dtype=bool)
        keep[keep_pos] = True
        kept_of_group = np.empty(int(gid.max()) + 1, dtype=np.int64)
        kept_of_group[gid[keep_pos]] = keep_pos
        reasons = np.array([f"not the final checkpoint of its run (final(by={list(by_cols)}) kept row "
                            f"{self._rows[kept_of_group[g]]})" for g in gid[~keep]], dtype=object)
        return self._select(keep, reasons, {"op": "final", "by": list(by_cols)})

    def best_of(self, over: str | Sequence[str] | None = None, *,
                rule: Literal["min", "mean", "median"] = "min") -> RunTable:
        """Combine rows that share (N, D) and differ only in ``over`` (learning rates, seeds, ...).

        Rows are grouped by ``n_params``, ``n_tokens`` and whichever of ``group``, ``n_unique_tokens``,
        ``lr``, ``seed`` and ``meta['id_columns']`` exist and are not in ``over`` (so
        ``best_of(over="seed", rule="mean")`` averages seeds per learning rate, and a following
        ``best_of(over="lr")`` keeps the best learning rate). ``run`` is never part of the key.

        Parameters
        ----------
        over : str or sequence of str, optional
            The columns that vary within a group (default: those of ``lr``, ``seed``, ``run`` present).
        rule : {'min', 'mean', 'median'}
            ``'min'`` keeps the row with the lowest loss (the best learning rate); ``'mean'`` and
            ``'median'`` keep the group's first row with the mean / median loss (seeds), and set its
            other columns that vary within the group (e.g. ``seed``, ``run``) to missing. Every other row goes to :attr:`excluded` with a reason naming
            the rule; the rule is recorded in ``meta['best_of']``.
        """
        V.check_choice("rule", rule, ("min", "mean", "median"),
                       "Use rule='min' for the best learning rate, 'mean' or 'median' over seeds.")
        if over is None:
            over_cols = [c for c in ("lr", "seed", "run") if c in self._frame.columns]
            if not over_cols:
                raise DataError(format_message(
                    "Option over", "of best_of()", "a column of the table that varies within (N, D)", "None",
                    f"This table has no lr, seed or run column; pass over='...' naming one of "
                    f"{list(self.columns)}."))
        else:
            over_cols = [over] if isinstance(over, str) else list(over)
            if not over_cols:
                raise DataError(format_message("Option over", "of best_of()", "one or more column names", "[]"))
            for c in over_cols:
                self._require_column(c, "best_of()")
                if c in V.CORE:
                    raise DataError(format_message(
                        "Option over", "of best_of()", "a column other than n_params, n_tokens, flops, loss",
                        repr(c), "Name the columns that vary between repeats, e.g. over=('lr', 'seed')."))
        key = ["n_params", "n_tokens"] + [c for c in ("group", "n_unique_tokens", "lr", "seed")
                                          if c in self._frame.columns]
        key += [c for c in self._meta.get("id_columns", ()) if c in self._frame.columns and c not in key]
        key = [c for c in key if c not in over_cols]
        label = f"best_of(over={over_cols}, rule={rule!r})"
        frame, rows, excl = _combine(self._frame, self._rows, key, rule, label)
        info = {"over": over_cols, "rule": rule, "key": key}
        return self._derive(frame, rows, excl, {"op": "best_of", **info}, {"best_of": info})

    def smooth(self, method: Literal["gaussian", "ema"] = "gaussian", *, window: int | None = None,
               std: float | None = None, alpha: float | None = None,
               by: str | Sequence[str] = "run") -> RunTable:
        """Smooth the loss of each run along its checkpoints (sorted by ``n_tokens``, then ``step``).

        The unsmoothed values are kept in a ``loss_raw`` column (unless it already exists); nothing is
        removed. The method and its parameters are recorded in ``meta['smoothing']``.

        Parameters
        ----------
        method : {'gaussian', 'ema'}
            ``'gaussian'``: a centred Gaussian kernel over neighbouring checkpoints,
            :math:`\\tilde L_i = \\sum_j w_{ij} L_j / \\sum_j w_{ij}`,
            :math:`w_{ij} = \\exp(-(i-j)^2 / (2\\,\\mathrm{std}^2))` for :math:`|i-j| \\le \\lfloor
            \\mathrm{window}/2 \\rfloor`, renormalised at the ends of a run (Hoffmann et al. 2022, §3.1,
            smooth with a 10-step Gaussian window). ``'ema'``: the bias-corrected exponential moving
            average :math:`\\tilde L_t = \\sum_{i \\le t} (1-\\alpha)^{t-i} L_i / \\sum_{i \\le t}
            (1-\\alpha)^{t-i}` (pandas' ``ewm(alpha=alpha, adjust=True)``); it lags behind a falling curve.
        window : int, optional
            Gaussian only: kernel width in checkpoints (default 10; ``2·(window//2)+1`` taps).
        std : float, optional
            Gaussian only: kernel standard deviation in checkpoints (default ``window/4``).
        alpha : float in (0, 1]
            EMA only (required): the weight of the newest checkpoint; smaller is smoother.
        by : str or sequence of str
            The column(s) identifying a run (default ``'run'``).
        """
        V.check_choice("method", method, ("gaussian", "ema"), "Use method='gaussian' or method='ema'.")
        by_cols = self._by(by, "smooth()")
        info: dict[str, Any]
        if method == "gaussian":
            if alpha is not None:
                raise DataError(format_message("Option alpha", "of smooth(method='gaussian')", "None (alpha is "
                                               "for method='ema')", repr(alpha), "Pass window=... and std=..."))
            if window is None:
                window = 10
            if isinstance(window, (bool, np.bool_)) or not isinstance(window, (int, np.integer)) or window < 1:
                raise DataError(format_message("Option window", "of smooth()", "an integer >= 1", repr(window),
                                               "Pass a number of checkpoints, e.g. window=10."))
            window = int(window)
            std_f = (V.check_positive_number("std", std, "Pass a width in checkpoints, e.g. std=2.5.")
                     if std is not None else window / 4.0)
            half = window // 2
            offsets = np.arange(-half, half + 1, dtype=np.float64)
            kernel = np.exp(-0.5 * (offsets / std_f) ** 2)
            info = {"method": "gaussian", "window": window, "std": std_f, "by": list(by_cols)}

            def smooth_one(x: NDArray[np.float64]) -> NDArray[np.float64]:
                num = np.convolve(x, kernel, mode="full")[half:half + len(x)]
                den = np.convolve(np.ones_like(x), kernel, mode="full")[half:half + len(x)]
                return np.asarray(num / den, dtype=np.float64)
        else:
            if window is not None or std is not None:
                raise DataError(format_message("Options window and std", "of smooth(method='ema')",
                                               "None (they are for method='gaussian')",
                                               f"window={window!r}, std={std!r}", "Pass alpha=... only."))
            if alpha is None:
                raise DataError(format_message("Option alpha", "of smooth(method='ema')", "a number in (0, 1]",
                                               "None", "Pass e.g. alpha=0.1 (smaller is smoother)."))
            a = V.check_positive_number("alpha", alpha, "Pass e.g. alpha=0.1 (smaller is smoother).", upper=1.0)
            info = {"method": "ema", "alpha": a, "by": list(by_cols)}

            def smooth_one(x: NDArray[np.float64]) -> NDArray[np.float64]:
                return pd.Series(x).ewm(alpha=a, adjust=True).mean().to_numpy(dtype=np.float64)

        n = len(self)
        gid = self._frame.groupby(by_cols, sort=False, dropna=False).ngroup().to_numpy()
        step = (self._frame["step"].to_numpy(dtype=np.float64, na_value=-np.inf) if "step" in self._frame
                else np.zeros(n))
        order = np.lexsort((np.arange(n), step, self._arrays["n_tokens"], gid))
        g_sorted = gid[order]
        bounds = np.flatnonzero(np.r_[True, g_sorted[1:] != g_sorted[:-1], True])
        loss = self._arrays["loss"]
        new = np.empty(n, dtype=np.float64)
        for s, e in zip(bounds[:-1], bounds[1:]):
            idx = order[s:e]
            new[idx] = smooth_one(loss[idx])
        frame = self._frame.copy()
        if "loss_raw" not in frame.columns:
            frame["loss_raw"] = loss.copy()
        frame["loss"] = new
        return self._derive(frame, self._rows, None, {"op": "smooth", **info}, {"smoothing": info})

    def with_columns(self, values: Mapping[str, Any]) -> RunTable:
        """A new table with columns added or replaced (``{name: array-like of len(table) or scalar}``).

        Optional canonical columns (``step``, ``lr``, ``n_params_nonembedding``, ``n_unique_tokens``)
        are parsed and validated as in :func:`read_table`. The core columns ``n_params``, ``n_tokens``,
        ``flops`` and ``loss`` cannot be replaced (read a new table instead).
        """
        if not isinstance(values, Mapping) or not values:
            raise DataError(format_message("Argument values", "of with_columns()",
                                           "a non-empty mapping {column: values}", repr(values)))
        frame = self._frame.copy()
        for name, col in values.items():
            if not isinstance(name, str) or not name:
                raise DataError(format_message("Column name", "in with_columns()", "a non-empty string",
                                               repr(name)))
            if name in V.CORE:
                raise DataError(format_message(
                    f"Column {name!r}", "in with_columns()", "one of the non-core columns", repr(name),
                    "n_params, n_tokens, flops and loss are validated at read time: build a new table with "
                    "read_table(table.to_frame().assign(...))."))
            arr = col.to_numpy() if isinstance(col, (pd.Series, pd.Index)) else col
            if np.ndim(arr) == 0:
                series = pd.Series([arr] * len(self), dtype=object if isinstance(arr, str) else None)
            else:
                series = pd.Series(list(arr) if not isinstance(arr, np.ndarray) else arr)
                if len(series) != len(self):
                    raise DataError(format_message(f"Column {name!r}", "in with_columns()",
                                                   f"of length {len(self)} (one value per row)",
                                                   f"length {len(series)}"))
            if name in V.NUMERIC_OPTIONAL:
                vals, bad = V.parse_numbers(series)
                lower, strict = (0.0, False) if name == "step" else (0.0, True)
                issues = V.check_values(name, None, vals, bad, series, required=False, lower=lower,
                                        strict=strict, constraint_text=">= 0" if name == "step" else "> 0")
                if issues:
                    raise DataError(issues[0].message("in with_columns()", self._rows,
                                                      "Pass valid values (missing values are allowed)."))
                frame[name] = vals
            else:
                frame[name] = series.to_numpy()
        return self._derive(frame, self._rows, None, {"op": "with_columns", "columns": list(values)}, {})

    # ------------------------------------------------------------------------------------------------
    # internals

    def _require_column(self, col: object, where: str) -> None:
        if not isinstance(col, str) or col not in self._frame.columns:
            raise DataError(format_message(f"Column {col!r}", f"in {where}", "a column of the table",
                                           f"columns {list(self.columns)}", "Check the spelling."))

    def _by(self, by: str | Sequence[str], where: str) -> list[str]:
        cols = [by] if isinstance(by, str) else list(by)
        if not cols:
            raise DataError(format_message("Option by", f"of {where}", "one or more column names", "[]"))
        for c in cols:
            if not isinstance(c, str) or c not in self._frame.columns:
                hint = ("A run is identified by its 'run' column, which this table does not have: map one at "
                        "read time (columns={'run': 'your run id column'}) or pass by=('n_params', 'lr') "
                        "naming the columns that identify a run." if c == "run" else "Check the spelling.")
                raise DataError(format_message(f"Column {c!r}", f"(option by of {where})",
                                               "a column of the table", f"columns {list(self.columns)}", hint))
        return cols

    def _mask(self, mask: Any, where: str) -> NDArray[np.bool_]:
        if callable(mask):
            mask = mask(self.to_frame())
        if isinstance(mask, (pd.Series, pd.Index)):
            if mask.isna().any():
                raise DataError(format_message("The mask", f"of {where}", "boolean without missing values",
                                               "missing values", "Fill them, e.g. mask.fillna(False)."))
            mask = mask.to_numpy()
        arr = np.asarray(mask)
        if arr.dtype != np.bool_:
            raise DataError(format_message(
                "The mask", f"of {where}", f"a boolean array of length {len(self)} (True = keep)",
                f"dtype {arr.dtype}", "Build it by comparison, e.g. table.loss < 5."))
        if arr.shape != (len(self),):
            raise DataError(format_message("The mask", f"of {where}", f"a boolean array of shape ({len(self)},)",
                                           f"shape {arr.shape}"))
        return arr

    def _select(self, keep: NDArray[np.bool_], reason: str | NDArray[Any], op: dict[str, Any]) -> RunTable:
        keep = np.asarray(keep, dtype=bool)
        n_out = int((~keep).sum())
        if n_out == len(self):
            raise DataError(format_message(
                f"The result of {op['op']}()", "", "a non-empty table", f"0 of {len(self)} rows left",
                "Check the selection: every row would be excluded."))
        op = {**op, "n_excluded": n_out}
        if n_out == 0:
            return self._derive(self._frame, self._rows, None, op, {})
        reasons = np.full(n_out, reason, dtype=object) if isinstance(reason, str) else np.asarray(reason)
        excl = _excluded_frame(self._frame[~keep], self._rows[~keep], reasons)
        frame = self._frame[keep]
        log.info("%s: excluded %d of %d rows (%s)", op["op"], n_out, len(self),
                 reason if isinstance(reason, str) else "see table.excluded")
        return self._derive(frame, self._rows[keep], excl, op, {})

    def _derive(self, frame: pd.DataFrame, rows: NDArray[np.int64], excl: pd.DataFrame | None,
                op: dict[str, Any], meta_update: Mapping[str, Any]) -> RunTable:
        meta = copy.deepcopy(self._meta)
        meta.update(meta_update)
        meta["operations"] = tuple(meta.get("operations", ())) + (op,)
        excluded = _concat_excluded(self._excluded, excl)
        return RunTable._create(frame, rows, meta, excluded)


def _restore(frame: pd.DataFrame, rows: NDArray[np.int64], meta: dict[str, Any],
             excluded: pd.DataFrame) -> RunTable:
    return RunTable._create(frame, rows, meta, excluded)


def _ordered_columns(columns: Sequence[Any] | pd.Index) -> list[str]:
    cols = [str(c) for c in columns]
    present = set(cols)
    return ([c for c in V.CANONICAL if c in present]
            + [c for c in cols if c not in V.CANONICAL])


def _excluded_frame(frame: pd.DataFrame, rows: NDArray[np.int64], reasons: NDArray[Any]) -> pd.DataFrame:
    out = frame.copy().reset_index(drop=True)
    out.insert(0, "reason", np.asarray(reasons, dtype=object).astype(str))
    out.insert(0, "row", np.asarray(rows, dtype=np.int64))
    return out


def _empty_excluded(columns: Sequence[str]) -> pd.DataFrame:
    out = pd.DataFrame({"row": pd.Series([], dtype=np.int64), "reason": pd.Series([], dtype=object)})
    for c in columns:
        out[c] = pd.Series([], dtype=np.float64 if c in V.CORE else object)
    return out


def _concat_excluded(old: pd.DataFrame, new: pd.DataFrame | None) -> pd.DataFrame:
    if new is None or len(new) == 0:
        return old
    if len(old) == 0:
        cols = list(new.columns) + [c for c in old.columns if c not in new.columns]
        return new.reindex(columns=cols)
    cols = list(old.columns) + [c for c in new.columns if c not in old.columns]
    out = pd.concat([old.reindex(columns=cols), new.reindex(columns=cols)], ignore_index=True)
    return out.sort_values("row", kind="stable").reset_index(drop=True)


def _combine(frame: pd.DataFrame, rows: NDArray[np.int64], key: list[str], rule: str, label: str
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
    excl = _excluded_frame(frame[~keep], rows[~keep], reasons)
    return out[keep], rows[keep], excl


# ====================================================================================================
# read_table


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
    format : {'csv', 'tsv', 'json', 'jsonl', 'parquet', 'excel'}, optional
        Overrides the suffix.
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
    # ---- options --------------------------------------------------------------------------------
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
    if format is not None:
        V.check_choice("format", format, _FORMATS)
    if name is not None and not isinstance(name, str):
        raise DataError(format_message("Option name", "", "a string or None", repr(name)))
    if meta is not None and not isinstance(meta, Mapping):
        raise DataError(format_message("Option meta", "", "a mapping or None", repr(meta)))
    if columns is not None and not isinstance(columns, Mapping):
        raise DataError(format_message("Option columns", "", "a mapping {canonical name: your column name}",
                                       repr(columns), "e.g. columns={'n_params': 'Model Size'}."))
    if isinstance(id_columns, str):
        id_columns = (id_columns,)
    id_cols = [str(c) for c in id_columns]
    scale_map = _check_scale(scale)

    if isinstance(source, RunTable):
        return _from_runtable(source, columns, loss_unit, k, n_params_convention, name, meta, sep, sheet,
                              format, scale, duplicates, id_cols, on_invalid)

    raw, label, source_text, default_name = _load(source, format, sep, sheet)
    if name is None:
        name = default_name
    where = f"of {name!r}" if name and label.startswith("the ") else f"of {label}"

    # ---- columns --------------------------------------------------------------------------------
    mapping, disabled = _resolve_columns(list(raw.columns), columns, where)
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
            f"flops = {k:g}·n_params·n_tokens)", f"{got} among columns {V.describe_columns(raw.columns)}",
            f"Accepted names (case/space/underscore-insensitive) - {accepted}. Or map yours with "
            f"columns={{'{missing[0]}': 'your column'}}."))
    if len(raw) == 0:
        raise DataError(format_message("The table", where, "non-empty (at least one run)", "0 rows",
                                       "Check the file or DataFrame."))
    for c in id_cols:
        if c in V.CORE or (c not in raw.columns and c not in mapping):
            raise DataError(format_message(
                f"Column {c!r}", f"(option id_columns) {where}", "a non-core column of the table",
                f"columns {V.describe_columns(raw.columns)}", "Name columns that tell runs apart."))

    # ---- parse and check values -----------------------------------------------------------------
    n = len(raw)
    values: dict[str, NDArray[np.float64]] = {}
    shown: dict[str, pd.Series | None] = {}
    issues: list[V.Issue] = []
    for canon in V.CANONICAL:
        if canon not in mapping or canon in V.LABEL_COLUMNS:
            continue
        src = mapping[canon]
        s = raw[src]
        vals, bad = V.parse_numbers(s)
        required = canon in V.CORE
        if canon == "loss" and loss_unit == "perplexity":
            lower, strict, text = 1.0, True, "> 1 (a perplexity)"
        elif canon == "step":
            lower, strict, text = 0.0, False, ">= 0"
        else:
            lower, strict, text = 0.0, True, "> 0"
        issues += V.check_values(canon, src, vals, bad, s, required=required, lower=lower, strict=strict,
                                 constraint_text=text)
        if canon in scale_map:
            vals = vals * scale_map[canon]
        values[canon] = vals
        shown[canon] = s
    invalid_reasons: dict[int, list[str]] = {}
    if issues:
        if on_invalid == "raise":
            raise DataError(issues[0].message(where, np.arange(n), _INVALID_HINT))
        invalid_reasons = V.exclusion_reasons(issues, n, shown)
    valid = np.ones(n, dtype=bool)
    if invalid_reasons:
        valid[list(invalid_reasons)] = False

    # ---- derive the missing one of N, D, C --------------------------------------------------------
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
        bad_derived = valid & ~(np.isfinite(dv) & (dv > 0))
        if bad_derived.any():
            rows = np.flatnonzero(bad_derived)
            issue = V.Issue(derived, None, f"finite and > 0 after derivation ({derivation})", "derived value "
                            "not finite or not > 0", rows, tuple(dv[rows[:50]]))
            if on_invalid == "raise":
                raise DataError(issue.message(where, np.arange(n), "Check the units of the given columns "
                                              "(overflow or underflow) or " + _INVALID_HINT[0].lower()
                                              + _INVALID_HINT[1:]))
            for i in rows:
                invalid_reasons.setdefault(int(i), []).append(issue.reason(dv[i]))
            valid[rows] = False

    values["loss"] = to_nats(values["loss"], loss_unit)

    # ---- assemble ----------------------------------------------------------------------------------
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
    extras = [c for c in raw.columns if c not in used and c not in V.CANONICAL]
    for c in extras:
        data[c] = raw[c]
    full = pd.DataFrame(data, index=pd.RangeIndex(n))
    rows_all = np.arange(n, dtype=np.int64)

    excluded = _empty_excluded(_ordered_columns(full.columns))
    if invalid_reasons:
        bad_rows = np.flatnonzero(~valid)
        shown_frame = full.iloc[bad_rows].copy()
        for canon, src in mapping.items():  # show what the source said, not the NaN it parsed to
            if canon in values:
                shown_frame[canon] = raw[src].iloc[bad_rows].to_numpy(copy=True)
        reasons = np.array(["; ".join(invalid_reasons[int(i)]) for i in bad_rows], dtype=object)
        excluded = _concat_excluded(excluded, _excluded_frame(shown_frame, rows_all[bad_rows], reasons))
        log.info("read_table: excluded %d invalid rows of %d (on_invalid='exclude')", len(bad_rows), n)
    frame = full[valid].reset_index(drop=True)
    rows = rows_all[valid]
    if len(frame) == 0:
        raise DataError(format_message("The table", where, "non-empty after excluding invalid rows",
                                       f"0 of {n} rows left", "Every row has an invalid value: see the "
                                       "reasons with on_invalid='raise'."))

    # ---- duplicates -------------------------------------------------------------------------------
    frame, rows, dup_excl = _handle_duplicates(frame, rows, duplicates, id_cols, where)
    excluded = _concat_excluded(excluded, dup_excl)

    # ---- meta --------------------------------------------------------------------------------------
    table_meta: dict[str, Any] = {
        "source": source_text,
        "name": name,
        "flops_per_token": k,
        "derived": derived,
        "derivation": derivation,
        "loss_unit": loss_unit,
        "n_params_convention": n_params_convention,
        "columns": {c: mapping[c] for c in V.CANONICAL if c in mapping},
        "scale": dict(scale_map) or None,
        "duplicates": duplicates,
        "on_invalid": on_invalid,
        "id_columns": tuple(id_cols),
        "ignored_columns": tuple(ignored),
        "operations": (),
        "best_of": None,
        "smoothing": None,
    }
    for key, value in (meta or {}).items():
        key = str(key)
        if key in _RESERVED_META and value != table_meta[key]:
            raise DataError(format_message(
                f"meta[{key!r}]", "", f"equal to what read_table records ({table_meta[key]!r})", repr(value),
                f"Pass it as the keyword argument {key}=... instead." if key in (
                    "name", "flops_per_token", "loss_unit", "n_params_convention", "duplicates", "on_invalid")
                else "This key is set by read_table; use another key."))
        table_meta[key] = copy.deepcopy(value)
    table = RunTable._create(frame, rows, table_meta, excluded)
    log.debug("read_table: %r", table)
    return table


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


def _from_runtable(table: RunTable, *options: Any) -> RunTable:
    defaults = (None, "nats", FLOPS_PER_PARAM_TOKEN, None, None, None, None, None, None, None, "raise", [], "raise")
    if any(not (o is d or o == d) for o, d in zip(options, defaults)):
        raise DataError(format_message("Options of read_table", "for a RunTable source", "left at their defaults",
                                       "non-default options", "Read table.to_frame() with the options instead."))
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
        return _combine(frame, rows, key, policy, f"duplicates={policy!r}")
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
    excl = _excluded_frame(frame[exact], rows[exact], reasons)
    log.info("read_table: excluded %d exact duplicate rows %s", int(exact.sum()), where)
    return frame[~exact], rows[~exact], excl


def _fmt(v: Any) -> str:
    if isinstance(v, (float, np.floating)):
        return f"{float(v):.6g}"
    return repr(v)


# ----------------------------------------------------------------------------------------------------
# sources


def _load(source: Any, fmt: str | None, sep: str | None, sheet: str | int | None
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
                repr(f) for f in _FORMATS), "None", "A file object has no suffix: pass format='csv' (or ...)."))
        label = str(getattr(source, "name", "the input file"))
        return _read_format(source, fmt, sep, sheet, label), label, label, None
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.exists():
            raise FileNotFoundError(f"read_table: no such file: {str(path)!r}")
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


def _no_file_options(sep: str | None, sheet: str | int | None, fmt: str | None, what: str) -> None:
    for opt, value in (("sep", sep), ("sheet", sheet), ("format", fmt)):
        if value is not None:
            raise DataError(format_message(f"Option {opt}", f"for {what}", "None (it applies to files)",
                                           repr(value)))


def _from_dataframe(df: pd.DataFrame) -> pd.DataFrame:
    if isinstance(df.columns, pd.MultiIndex):
        raise DataError(format_message("The DataFrame's columns", "", "a flat index (one level)",
                                       "a MultiIndex", "Flatten it, e.g. df.columns = ['_'.join(c) for c in df.columns]."))
    out = df.copy(deep=True)
    named_index = any(n is not None for n in out.index.names)
    out = out.reset_index(drop=not named_index)
    return _clean_columns(out, "the input DataFrame")


def _clean_columns(raw: pd.DataFrame, label: str) -> pd.DataFrame:
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
            _require("pyarrow", "Reading Parquet files needs pyarrow: pip install pyarrow "
                     "(or pip install 'scaling[parquet]').", label)
            raw = pd.read_parquet(path)
            raw = raw.reset_index(drop=not any(n is not None for n in raw.index.names))
        else:  # excel
            _require("openpyxl", "Reading Excel files needs openpyxl: pip install openpyxl "
                     "(or pip install 'scaling[excel]').", label)
            raw = pd.read_excel(path, sheet_name=sheet if sheet is not None else 0)
    except DataError:
        raise
    except (ValueError, OSError, UnicodeDecodeError, pd.errors.ParserError) as e:
        raise DataError(format_message("The file", label, f"readable as {fmt}", f"{type(e).__name__}: {e}",
                                       "Check the file or pass format=... / sep=...")) from e
    return _clean_columns(raw, label)


def _require(module: str, hint: str, label: str) -> None:
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
    opener: Callable[..., Any] = _COMPRESSION.get(compression or "", open)
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
    return _clean_columns(raw, label)


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
