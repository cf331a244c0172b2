"""Schedule-aware laws of the loss along a training run.

* :mod:`.laws` — the multi-power law (Luo et al. 2025) and the annealing law (Tissue et al. 2024),
  evaluated exactly on a :class:`Curve` (a :class:`~scaling.schedules.Schedule` + logged steps);
* :mod:`.fit` — :func:`fit_curves`: one curve or several jointly, Huber(1e-3) on log loss, exact;
* :mod:`.plan` — :func:`optimal_schedule`: the non-increasing schedule that minimises a fitted law's
  predicted final loss, and its gain over cosine and WSD.

>>> from scaling.schedules import Schedule
>>> from scaling.curves import Curve, MULTIPOWER
>>> c = Curve.make(Schedule.cosine(24_000, 3e-4, 3e-5, warmup=2160), [23_920])
>>> round(float(MULTIPOWER.predict([2.37474466, 0.65421216, 0.42878731, 523.42464371, 2.02462735,
...                                 0.59350493, 0.63472457], c)[0]), 6)
2.7572
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import DataError, format_message
from ..schedules import Schedule, as_schedule
from .fit import CurveFit, curve_metrics, fit_curves, huber_objective
from .laws import ANNEALING, CURVE_LAWS, MULTIPOWER, AnnealingLaw, Curve, CurveLaw, MultiPowerLaw, get_curve_law

__all__ = ["Curve", "CurveLaw", "MultiPowerLaw", "AnnealingLaw", "MULTIPOWER", "ANNEALING", "CURVE_LAWS",
           "get_curve_law", "CurveFit", "fit_curves", "huber_objective", "curve_metrics", "curves_from_table"]


def curves_from_table(table: Any, schedules: Mapping[str, Any] | Schedule | None = None, *,
                      x: str = "step") -> list[Curve]:
    """One :class:`Curve` per run of a RunTable (column ``run``), with its schedule.

    The schedule of a run comes from ``schedules`` (a mapping run -> Schedule/spec, or one Schedule
    for every run), else from a ``schedule_spec`` column (e.g. ``multipowerlaw_schedules``), else from
    a per-step ``lr`` column that holds every step ``0 .. T-1`` of the run.
    """
    frame = table.to_frame()
    if "run" not in frame.columns:
        frame = frame.assign(run="run")
    if x not in frame.columns:
        raise DataError(format_message("Column", repr(x), "in the table (the steps of the curves)",
                                       f"columns {list(frame.columns)}", "Pass x='step' or x='n_tokens'."))
    out = []
    for run, g in frame.groupby("run", sort=False):
        g = g.sort_values(x, kind="stable")
        if isinstance(schedules, Schedule):
            sch = schedules
        elif schedules is not None and run in schedules:
            sch = as_schedule(schedules[run])
        elif "schedule_spec" in g.columns and g["schedule_spec"].nunique() == 1:
            sch = Schedule.from_spec(str(g["schedule_spec"].iloc[0]))
        elif "lr" in g.columns and g["lr"].notna().all():
            sch = Schedule.from_steps(g[x].to_numpy(), g["lr"].to_numpy())
        else:
            raise DataError(format_message(
                "The schedule", f"of run {run!r}", "known (schedules= mapping, a schedule_spec column, or an lr "
                "column at every step)", "none of these",
                "Pass schedules={run: Schedule.cosine(total, peak, final, warmup=...)}."))
        out.append(Curve.make(sch, np.asarray(g[x], dtype=float), g["loss"].to_numpy(float), name=str(run)))
    return out
