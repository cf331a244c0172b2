"""``Allocation``: the immutable answer of every planning query (compute-optimal, loss at (N, D), ...)."""

from __future__ import annotations

import dataclasses

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

__all__ = ["Allocation", "format_number"]

FloatArray = NDArray[np.float64]

_CORE = ("flops", "n_params", "n_tokens", "tokens_per_param", "loss")
_LABELS = {"flops": "C", "n_params": "N", "n_tokens": "D", "tokens_per_param": "D/N", "loss": "loss"}
_UNITS = {"flops": " FLOPs", "n_params": " params", "n_tokens": " tokens", "loss": " nats/token"}


def format_number(x: float, digits: int = 3) -> str:
    """``4.04e10`` style for large/small numbers, plain for moderate ones; ``nan`` for missing."""
    if x is None or not math.isfinite(x):
        return "nan" if x is None or math.isnan(x) else str(x)
    if x != 0 and (abs(x) >= 1e4 or abs(x) < 1e-3):
        mant, exp = f"{x:.{digits - 1}e}".split("e")
        return f"{mant}e{int(exp)}"
    return f"{x:.{digits + 1}g}"


def _readonly(a: Any) -> FloatArray:
    arr = np.array(a, dtype=float, copy=True).reshape(-1)
    arr.flags.writeable = False
    return arr


def _json_value(a: FloatArray, scalar: bool) -> Any:
    vals = [None if not math.isfinite(v) else float(v) for v in a.tolist()]
    return vals[0] if scalar else vals


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class Allocation:
    """Result of a planning query: compute ``C``, parameters ``N``, tokens ``D``, ``D/N`` and the
    predicted loss, each with a percentile interval when the source has parameter samples.

    Attributes
    ----------
    query : str
        What was asked (``"compute-optimal"``, ``"loss at given (N, D)"``, ...).
    source : str
        Where the law came from (``"published:hoffmann2022"``, ``"fit: chinchilla"``, ...).
    method : str
        How it was computed (closed form with its equation, numeric minimisation, allocation law).
    flops_model : str
        The compute rule (``"C = 6*N*D"`` by default).
    level : float or None
        Interval level (``None`` when there are no samples, hence no intervals).
    n_samples : int or None
        Number of parameter samples behind the intervals.
    notes : tuple of str
        Caveats (e.g. "loss not available for an allocation law", samples without an optimum).
    scalar : bool
        The query was for one budget/size: the properties return floats, else 1-D arrays.

    Values are read with the properties :attr:`flops`, :attr:`n_params`, :attr:`n_tokens`,
    :attr:`tokens_per_param`, :attr:`loss` (``None`` if the source has no loss model), any extra
    column with :meth:`get` (``"epochs"``, ``"savings_fraction"``, ...), intervals with
    :meth:`interval`; :meth:`to_frame` and :meth:`to_dict` export everything.
    """

    query: str
    source: str
    method: str
    flops_model: str
    level: float | None
    n_samples: int | None
    notes: tuple[str, ...] = ()
    scalar: bool = True
    _data: Mapping[str, FloatArray] = field(default_factory=dict)
    _order: tuple[str, ...] = ()

    # ------------------------------------------------------------------ construction
    @classmethod
    def build(cls, *, query: str, source: str, method: str, flops_model: str, scalar: bool,
              values: Mapping[str, Any], intervals: Mapping[str, tuple[Any, Any]] | None = None,
              level: float | None = None, n_samples: int | None = None,
              notes: Sequence[str] = ()) -> Allocation:
        """Assemble an allocation from value arrays and ``{name: (lower, upper)}`` intervals."""
        data: dict[str, FloatArray] = {}
        order: list[str] = []
        names = [c for c in _CORE if c in values] + [c for c in values if c not in _CORE]
        for name in names:
            v = values[name]
            if v is None:
                continue
            data[name] = _readonly(v)
            order.append(name)
            if intervals and name in intervals and intervals[name] is not None:
                lo, hi = intervals[name]
                data[f"{name}_lower"] = _readonly(lo)
                data[f"{name}_upper"] = _readonly(hi)
        return cls(query=query, source=source, method=method, flops_model=flops_model,
                   level=None if not intervals else level, n_samples=n_samples,
                   notes=tuple(dict.fromkeys(notes)), scalar=bool(scalar), _data=data, _order=tuple(order))

    def with_note(self, note: str) -> Allocation:
        """The same allocation with one more note (a new object; allocations are immutable)."""
        return dataclasses.replace(self, notes=tuple(dict.fromkeys(self.notes + (note,))))

    # ------------------------------------------------------------------ access
    def _out(self, a: FloatArray) -> Any:
        return float(a[0]) if self.scalar else a.copy()

    @property
    def columns(self) -> tuple[str, ...]:
        """Names of the value columns (without the ``_lower``/``_upper`` interval columns)."""
        return self._order

    def get(self, name: str) -> Any:
        """A value column by name (float for a scalar query, else an array copy); ``None`` if absent."""
        a = self._data.get(name)
        return None if a is None else self._out(a)

    def interval(self, name: str) -> tuple[Any, Any] | None:
        """``(lower, upper)`` percentile interval of a column, or ``None`` without samples."""
        lo = self._data.get(f"{name}_lower")
        if lo is None:
            return None
        return self._out(lo), self._out(self._data[f"{name}_upper"])

    @property
    def flops(self) -> Any:
        """Training compute ``C`` (FLOPs)."""
        return self.get("flops")

    @property
    def n_params(self) -> Any:
        """Parameters ``N``."""
        return self.get("n_params")

    @property
    def n_tokens(self) -> Any:
        """Training tokens ``D``."""
        return self.get("n_tokens")

    @property
    def tokens_per_param(self) -> Any:
        """``D / N``."""
        return self.get("tokens_per_param")

    @property
    def loss(self) -> Any:
        """Predicted loss (nats/token), or ``None`` when the source has no loss model."""
        return self.get("loss")

    def __len__(self) -> int:
        return 1 if not self._order else len(self._data[self._order[0]])

    # ------------------------------------------------------------------ export
    def to_frame(self) -> pd.DataFrame:
        """One row per query point; columns ``flops, n_params, ..., <name>_lower, <name>_upper``."""
        cols: dict[str, FloatArray] = {}
        for name in self._order:
            cols[name] = self._data[name].copy()
            if f"{name}_lower" in self._data:
                cols[f"{name}_lower"] = self._data[f"{name}_lower"].copy()
                cols[f"{name}_upper"] = self._data[f"{name}_upper"].copy()
        return pd.DataFrame(cols)

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON description (NaN -> ``None``); ``json.dumps(a.to_dict())`` always works."""
        values = {k: _json_value(self._data[k], self.scalar) for k in self._order}
        intervals = {k: {"lower": _json_value(self._data[f"{k}_lower"], self.scalar),
                         "upper": _json_value(self._data[f"{k}_upper"], self.scalar)}
                     for k in self._order if f"{k}_lower" in self._data}
        return {"query": self.query, "source": self.source, "method": self.method,
                "flops_model": self.flops_model, "scalar": self.scalar, "level": self.level,
                "n_samples": self.n_samples, "values": values, "intervals": intervals or None,
                "notes": list(self.notes)}

    # ------------------------------------------------------------------ printing
    def _label(self, name: str) -> str:
        lab = _LABELS.get(name, name)
        if self.query.startswith("compute-optimal") and name in ("n_params", "n_tokens"):
            lab += "_opt"
        return lab

    def __str__(self) -> str:
        head = [f"{self.query} — {self.source}", f"  method: {self.method}", f"  compute: {self.flops_model}"]
        body: list[str] = []
        if self.scalar:
            w = max(len(self._label(n)) for n in self._order) if self._order else 1
            for name in self._order:
                v = float(self._data[name][0])
                line = f"  {self._label(name):<{w}} = {format_number(v)}"
                if f"{name}_lower" in self._data:
                    lo = float(self._data[f"{name}_lower"][0])
                    hi = float(self._data[f"{name}_upper"][0])
                    line += f" [{format_number(lo)}, {format_number(hi)}]"
                line += _UNITS.get(name, "")
                body.append(line)
            if "loss" not in self._order:
                body.append("  loss  = not available (this source has no loss model)")
        else:
            frame = self.to_frame()
            fmt = frame.apply(lambda col: col.map(format_number))
            body.append(fmt.to_string(max_rows=20))
        tail: list[str] = []
        if self.level is not None:
            tail.append(f"  [intervals: {100 * self.level:g}% percentile over {self.n_samples} parameter samples]")
        tail += [f"  note: {n}" for n in self.notes]
        return "\n".join(head + body + tail)

    def __repr__(self) -> str:
        if self.scalar:
            parts = []
            for name in self._order:
                s = f"{self._label(name)}={format_number(float(self._data[name][0]))}"
                if f"{name}_lower" in self._data:
                    s += (f" [{format_number(float(self._data[f'{name}_lower'][0]))}, "
                          f"{format_number(float(self._data[f'{name}_upper'][0]))}]")
                parts.append(s)
            return f"<Allocation {self.query} ({self.source}): {', '.join(parts)}>"
        return f"<Allocation {self.query} ({self.source}): {len(self)} points, columns {list(self._order)}>"
