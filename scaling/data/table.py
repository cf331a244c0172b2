"""The table of runs, :class:`RunTable`: immutable, validated, and it remembers what was removed.

Downstream code (laws, fitting, planning, plots) can assume every row has positive, finite ``n_params``
(N, parameters), ``n_tokens`` (D, training tokens), ``flops`` (C, training FLOPs) and ``loss``
(cross-entropy in nats per token). Tables are built by :func:`scaling.read_table`
(:mod:`scaling.data.io`); the curve operations' computations live in :mod:`scaling.data.curves`.
"""

from __future__ import annotations

import copy
import hashlib
import logging
import types
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from ..conventions import Conventions
from ..errors import DataError, format_message
from . import curves as C
from . import validate as V
from .excluded import concat_excluded, excluded_frame, ordered_columns

__all__ = ["RunTable"]

log = logging.getLogger("scaling")


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
        ``best_of``, ``best_run``, ``final`` (the rule it used) and ``smoothing`` (``None`` unless applied),
        ``run_columns`` (the columns of the run identity, ``read_table(run=[...])``), ``metric``,
        ``metadata`` (source, join key, columns), ``log10``, plus the caller's extra ``meta``.
        ``flops_per_token``, ``n_params_convention`` and ``loss_unit`` are written from :attr:`conventions`.
    excluded : pandas.DataFrame
        One row per removed input row: ``row`` (0-based input row), ``code`` (short and groupable, see
        :data:`scaling.data.EXCLUSION_CODES`), ``reason`` (the detail), then its values.

    Examples
    --------
    >>> import pandas as pd
    >>> from scaling import read_table
    >>> t = read_table(pd.DataFrame({"params": ["70M", "1.4B"], "compute": [4.2e18, 1.68e20],
    ...                              "val_loss": [3.1, 2.6]}), name="demo")
    >>> t
    <RunTable 'demo': 2 runs, 2 distinct N, n_tokens derived as flops/(6·n_params), loss in nats>
    >>> t.n_tokens
    array([1.e+10, 2.e+10])
    """

    __slots__ = ("_frame", "_rows", "_meta", "_excluded", "_arrays", "_conventions")

    _frame: pd.DataFrame
    _rows: NDArray[np.int64]
    _meta: dict[str, Any]
    _excluded: pd.DataFrame
    _arrays: dict[str, NDArray[np.float64]]
    _conventions: Conventions

    def __init__(self) -> None:
        raise TypeError("RunTable is not built directly: use scaling.read_table(source, ...) "
                        "(a path, a pandas DataFrame, a dict of columns or a list of records).")

    @classmethod
    def _create(cls, frame: pd.DataFrame, rows: NDArray[np.int64], meta: Mapping[str, Any],
                excluded: pd.DataFrame) -> RunTable:
        self = object.__new__(cls)
        frame = frame.reset_index(drop=True)
        frame = frame[ordered_columns(frame.columns)]
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
        meta_d: dict[str, Any] = copy.deepcopy(dict(meta))
        # the conventions are the one record of k, the N convention and the loss unit: validated here, and
        # the meta keys of the same name are written from them, so the two cannot disagree
        conventions = Conventions(flops_per_token=meta_d.get("flops_per_token", 6.0),
                                  n_params=meta_d.get("n_params_convention"),
                                  loss_unit=str(meta_d.get("loss_unit", "nats")))
        meta_d.update(_conventions_meta(conventions))
        object.__setattr__(self, "_meta", meta_d)
        object.__setattr__(self, "_conventions", conventions)
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
        return self._conventions

    @property
    def name(self) -> str | None:
        """``meta['name']``."""
        name = self._meta.get("name")
        return None if name is None else str(name)

    @property
    def excluded(self) -> pd.DataFrame:
        """Removed rows: ``row`` (0-based input row), ``code``, ``reason``, then the row's values (a copy)."""
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
        """Keep checkpoints with at least fraction ``f`` of the ``n_tokens`` of their run's final checkpoint
        (as :meth:`final` picks it: at or before the planned end when the table has a plan).

        Parameters
        ----------
        f : float in (0, 1]
            ``f = 1`` keeps only each run's final checkpoint(s) (and any past its planned end, which
            :meth:`final` and :meth:`best_run` exclude).
        by : str or sequence of str
            The column(s) identifying a run (default ``'run'``).
        """
        f = V.check_positive_number("f", f, "Pass a fraction in (0, 1], e.g. min_fraction(0.25).", upper=1.0)
        by_cols = self._by(by, "min_fraction()")
        keep, reasons = C.min_fraction_rows(self._frame, self._rows, f, by_cols)
        return self._select(keep, reasons, {"op": "min_fraction", "f": f, "by": list(by_cols)})

    def final(self, by: str | Sequence[str] = "run") -> RunTable:
        """The final checkpoint of each run.

        With a plan (``planned_steps`` and ``step``, or ``planned_tokens``): the last checkpoint at or before
        the run's planned end; later checkpoints (a run continued past its schedule, usually at a worse or
        unrepresentative loss) go to :attr:`excluded` with code ``past_planned_end``. Without a plan: the
        row with the largest ``n_tokens`` (ties: largest ``step``). The rule used is recorded in
        ``meta['final']`` (``rule``, ``plan``, ``n_past_planned_end``).

        Parameters
        ----------
        by : str or sequence of str
            The column(s) identifying a run (default ``'run'``, the run identity of ``read_table(run=...)``;
            e.g. ``by=("n_params", "lr")`` for a log without run ids).
        """
        by_cols = self._by(by, "final()")
        sel = C.final_rows(self._frame, self._rows, by_cols)
        info = {"by": list(by_cols), "rule": sel.rule, "plan": sel.plan,
                "n_past_planned_end": sel.n_past_planned_end, "runs_dropped": sel.runs_without_plan_end}
        log.info("final(): %s", sel.rule)
        return self._select(sel.keep, sel.reasons, {"op": "final", "by": list(by_cols)}, code=sel.codes,
                            meta_update={"final": info})

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
            other columns that vary within the group (e.g. ``seed``, ``run``) to missing. Every other row
            goes to :attr:`excluded` with a reason naming the rule; the rule is recorded in ``meta['best_of']``.
            With ``'min'`` the result has one row per (N, D) (and ``group``, ``n_unique_tokens``,
            ``id_columns``), whatever else the run identity holds; N and D equal within 0.1 % count as
            the same. A column such as ``seed`` that also varies within an (N, D) is an error naming it.
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
            over_cols = self._over(over, "best_of()")
        id_columns = tuple(self._meta.get("id_columns", ()))
        key = C.best_of_key(self.columns, over_cols, id_columns)
        label = f"best_of(over={over_cols}, rule={rule!r})"
        if rule == "min":  # the best of each (N, D): nothing else may split it (mean/median keep e.g. each lr)
            self._check_no_split(key, over_cols, "best_of", label)
        frame, rows, excl = C.combine(self._frame, self._rows, key, rule, label, tolerant=True)
        info = {"over": over_cols, "rule": rule, "key": key}
        return self._derive(frame, rows, excl, {"op": "best_of", **info}, {"best_of": info})

    def best_run(self, over: str | Sequence[str] = "lr", *, by: str | Sequence[str] = "run") -> RunTable:
        """Keep the whole curve of the best run among runs that differ only in ``over`` (e.g. learning rates).

        Runs are grouped by their final checkpoint's ``n_params``, ``n_tokens`` (equal within 0.1 %) and
        whichever of ``group``, ``n_unique_tokens``, ``lr``, ``seed`` and ``meta['id_columns']`` exist and are
        not in ``over``; in each group the run with the lowest final loss (see :meth:`final`) is kept with all
        its checkpoints up to its planned end — what Approach 1 and curve fits need. Every other row goes to
        :attr:`excluded` (code ``not_best_run``, or ``past_planned_end``). Recorded in ``meta['best_run']``.

        Raises
        ------
        DataError
            Another column (e.g. ``seed``) takes several values among runs of one (N, D): the error names it.
        """
        by_cols = self._by(by, "best_run()")
        over_cols = self._over(over, "best_run()")
        key = C.best_of_key(self.columns, over_cols, tuple(self._meta.get("id_columns", ())))
        label = f"best_run(over={over_cols})"
        sel = C.final_rows(self._frame, self._rows, by_cols)
        finals = self._frame.iloc[np.flatnonzero(sel.keep)]
        self._check_no_split(key, over_cols, "best_run", label, frame=finals)
        keep, reasons, codes, _ = C.best_run_rows(self._frame, self._rows, by_cols, key, label)
        n_runs = int(self._frame[keep].groupby(by_cols, sort=False, dropna=False).ngroups)
        info = {"over": over_cols, "key": key, "by": list(by_cols), "runs": n_runs, "final_rule": sel.rule}
        return self._select(keep, reasons, {"op": "best_run", "over": over_cols, "by": list(by_cols)}, code=codes,
                            meta_update={"best_run": info})

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
            info = {"method": "gaussian", "window": window, "std": std_f, "by": list(by_cols)}
            smoother = C.gaussian_smoother(window, std_f)
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
            smoother = C.ema_smoother(a)

        new = C.smooth_loss(self._frame, by_cols, smoother)
        frame = self._frame.copy()
        if "loss_raw" not in frame.columns:
            frame["loss_raw"] = self._arrays["loss"].copy()
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

    def _over(self, over: str | Sequence[str], where: str) -> list[str]:
        over_cols = [over] if isinstance(over, str) else list(over)
        if not over_cols:
            raise DataError(format_message("Option over", f"of {where}", "one or more column names", "[]"))
        for c in over_cols:
            self._require_column(c, where)
            if c in V.CORE:
                raise DataError(format_message(
                    "Option over", f"of {where}", "a column other than n_params, n_tokens, flops, loss",
                    repr(c), "Name the columns that vary between repeats, e.g. over=('lr', 'seed')."))
        return over_cols

    def _check_no_split(self, key: Sequence[str], over: Sequence[str], op: str, label: str,
                        frame: pd.DataFrame | None = None) -> None:
        """Raise when a key column other than group / n_unique_tokens / id_columns splits an (N, D)."""
        allowed = ("group", "n_unique_tokens", *self._meta.get("id_columns", ()))
        frame = self._frame if frame is None else frame
        split = C.splitting_columns(frame, key, allowed)
        if split:
            n_nd = int(C.grouping_frame(frame, ["n_params", "n_tokens"]).drop_duplicates().shape[0])
            n_out = int(C.grouping_frame(frame, key).drop_duplicates().shape[0])
            first = split[0]
            raise DataError(format_message(
                f"Option over of {op}()", "", f"every column that varies within one (N, D) (it would leave {n_out} "
                f"rows for {n_nd} distinct (N, D))", f"over={list(over)}, while {', '.join(split)} also vary",
                f"Add them: over={[*over, *split]!r}, or combine them first, e.g. "
                f"best_of(over={first!r}, rule='mean') for seeds. ({label})"))

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

    def _select(self, keep: NDArray[np.bool_], reason: str | NDArray[Any], op: dict[str, Any], *,
                code: str | NDArray[Any] | None = None, meta_update: Mapping[str, Any] | None = None) -> RunTable:
        keep = np.asarray(keep, dtype=bool)
        n_out = int((~keep).sum())
        if n_out == len(self):
            raise DataError(format_message(
                f"The result of {op['op']}()", "", "a non-empty table", f"0 of {len(self)} rows left",
                "Check the selection: every row would be excluded."))
        op = {**op, "n_excluded": n_out}
        if n_out == 0:
            return self._derive(self._frame, self._rows, None, op, meta_update or {})
        reasons = np.full(n_out, reason, dtype=object) if isinstance(reason, str) else np.asarray(reason)
        excl = excluded_frame(self._frame[~keep], self._rows[~keep], reasons, op["op"] if code is None else code)
        frame = self._frame[keep]
        log.info("%s: excluded %d of %d rows (%s)", op["op"], n_out, len(self),
                 reason if isinstance(reason, str) else "see table.excluded")
        return self._derive(frame, self._rows[keep], excl, op, meta_update or {})

    def _derive(self, frame: pd.DataFrame, rows: NDArray[np.int64], excl: pd.DataFrame | None,
                op: dict[str, Any], meta_update: Mapping[str, Any]) -> RunTable:
        meta = copy.deepcopy(self._meta)
        meta.update(meta_update)
        meta["operations"] = tuple(meta.get("operations", ())) + (op,)
        excluded = concat_excluded(self._excluded, excl)
        return RunTable._create(frame, rows, meta, excluded)


def _conventions_meta(conventions: Conventions) -> dict[str, Any]:
    """The meta keys that mirror the conventions (``flops_per_token``, ``n_params_convention``, ``loss_unit``)."""
    return {"flops_per_token": conventions.flops_per_token, "n_params_convention": conventions.n_params,
            "loss_unit": conventions.loss_unit}


def _restore(frame: pd.DataFrame, rows: NDArray[np.int64], meta: dict[str, Any],
             excluded: pd.DataFrame) -> RunTable:
    return RunTable._create(frame, rows, meta, excluded)
