"""Shared pieces of the simulations: the immutable result, seeds, BLAS threads, progress."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from .._serialize import plain_json

__all__ = ["SimulationResult", "child_seeds", "single_thread", "jsonable"]


jsonable = plain_json  # plain JSON types (NaN/inf become None) for the JSON report


@dataclass(frozen=True)
class SimulationResult:
    """What :func:`scaling.simulate.run_simulation` returns (immutable; tables are handed out as copies).

    Attributes
    ----------
    name, title : str
        Experiment name (``"rare-tasks"``, ...) and a one-line title.
    report : Mapping
        JSON-ready findings: settings, measured numbers, the qualitative checks and notes
        (the content of ``report.json``).
    figures, files : tuple of Path
        Figures written (PNG and PDF) and every file written (figures, ``report.json``, CSVs).
    """

    name: str
    title: str
    _tables: Mapping[str, pd.DataFrame] = field(repr=False)
    report: Mapping[str, Any] = field(repr=False)
    figures: tuple[Path, ...] = ()
    files: tuple[Path, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "_tables", MappingProxyType({k: v.copy() for k, v in self._tables.items()}))
        object.__setattr__(self, "report", MappingProxyType(dict(self.report)))

    @property
    def table_names(self) -> tuple[str, ...]:
        return tuple(self._tables)

    def table(self, name: str | None = None) -> pd.DataFrame:
        """A copy of one result table (default: the first, the main RunTable-compatible sweep)."""
        key = next(iter(self._tables)) if name is None else name
        if key not in self._tables:
            raise KeyError(f"no table {key!r}; tables: {', '.join(self._tables)}")
        return self._tables[key].copy()

    def run_table(self, name: str | None = None) -> Any:
        """The table as a :class:`scaling.RunTable` (``n_params``, ``n_tokens``, ``loss`` + extra columns).

        Read with ``check_units=False``: these networks have hundreds to thousands of parameters, which the
        unit guards for language-model runs would take for counts in millions.
        """
        from .. import read_table

        key = name or next(iter(self._tables))
        return read_table(self.table(key), name=f"simulate {self.name}: {key}", check_units=False)

    @property
    def checks(self) -> dict[str, bool]:
        """The qualitative facts checked by the experiment (name -> holds)."""
        return {c["name"]: bool(c["passed"]) for c in self.report.get("checks", [])}

    @property
    def passed(self) -> bool:
        return all(self.checks.values())

    def summary_lines(self) -> list[str]:
        lines = [f"{'ok  ' if c['passed'] else 'MISS'} {c['name']}: {c['detail']}"
                 for c in self.report.get("checks", [])]
        return lines + [f"note: {n}" for n in self.report.get("notes", [])]

    def to_json(self) -> str:
        return json.dumps(jsonable(dict(self.report)), indent=1, allow_nan=False)


def child_seeds(rng: int | np.random.Generator | None, n: int) -> list[int]:
    """``n`` independent integer seeds drawn from the one ``rng`` (stable for an integer seed)."""
    gen = np.random.default_rng(rng)
    return [int(s) for s in gen.integers(0, 2**31 - 1, size=n)]


@contextmanager
def single_thread() -> Iterator[None]:
    """Pin BLAS to one thread: these matrices are small, and threads only add overhead and noise."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        yield


def parallel_map(func: Any, jobs: list[tuple[Any, ...]], n_jobs: int = 1) -> list[Any]:
    """``[func(*args) for args in jobs]``, in ``n_jobs`` processes (joblib) when ``n_jobs > 1``.

    Every job carries its own seed, so the results do not depend on ``n_jobs``.
    """
    if n_jobs <= 1 or len(jobs) <= 1:
        with single_thread():
            return [func(*a) for a in jobs]
    from joblib import Parallel, delayed

    return list(Parallel(n_jobs=min(n_jobs, len(jobs)))(delayed(_single_threaded)(func, a) for a in jobs))


def _single_threaded(func: Any, args: tuple[Any, ...]) -> Any:
    with single_thread():
        return func(*args)


def check(name: str, passed: bool, detail: str) -> dict[str, Any]:
    return {"name": name, "passed": bool(passed), "detail": detail}


def tidy_log_axes(fig: Any) -> None:
    """No labels on the minor ticks of log axes spanning two decades or more (they crowd out the decades);
    narrower log axes keep them (they would have no labels at all otherwise)."""
    from matplotlib.ticker import FuncFormatter, NullFormatter

    def short(v: float, _pos: Any = None) -> str:  # 1, 2 and 5 times a power of ten, as plain numbers
        if v <= 0:
            return ""
        lead = v / 10 ** math.floor(math.log10(v) + 1e-9)
        return f"{v:g}" if any(abs(lead - d) < 1e-6 for d in (1, 2, 5)) else ""

    for ax in fig.axes:
        for axis, scale, lim in ((ax.xaxis, ax.get_xscale(), ax.get_xlim()),
                                 (ax.yaxis, ax.get_yscale(), ax.get_ylim())):
            lo, hi = sorted(lim)
            if scale != "log" or lo <= 0:
                continue
            if hi / lo >= 100:
                axis.set_minor_formatter(NullFormatter())
            else:
                axis.set_major_formatter(FuncFormatter(short))
                axis.set_minor_formatter(FuncFormatter(short))
