"""The ``scaling forecast`` command: parser builder and handler (registered in :mod:`scaling.cli`)."""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["add_forecast_parser", "cmd_forecast"]


def add_forecast_parser(sub: Any, source_args: Any, common: Any, load_source: Any) -> None:
    """Add ``forecast`` to ``sub``; ``source_args``/``common`` add the shared flags and ``load_source(args)``
    reads SOURCE with them (passed in by :mod:`scaling.cli`, so that this module does not import it)."""
    p = sub.add_parser(
        "forecast", help="forecast the loss of a run in progress at a later step/token count, with an interval",
        description="Fit a law to the observed part of a curve (one run, or several jointly) and forecast the loss "
                    "at AT. With --schedule (or a schedule_spec column) the multi-power law (Luo et al. 2025) is "
                    "used; without, a schedule-blind power law, and the output says what it assumed. Intervals "
                    "use an AR(1) residual model plus a horizon term calibrated on public curves (docs/forecast.md).")
    source_args(p)
    p.add_argument("--at", required=True, type=float, metavar="AT", help="where to forecast (steps or tokens)")
    p.add_argument("--schedule", default=None, metavar="SPEC",
                   help="the run's learning-rate schedule, e.g. cosine:total=24000,peak=3e-4,final=3e-5,warmup=2160 "
                        "(kinds: constant, cosine, linear, wsd (decay_start, shape), two_stage (first, second, "
                        "switch))")
    p.add_argument("--forecast-law", choices=("multipower", "powerlaw"), default=None, dest="forecast_law",
                   help="default: multipower with a schedule, powerlaw without")
    p.add_argument("--x", choices=("step", "n_tokens"), default=None, help="the curve's axis (default: step with a "
                   "schedule, else n_tokens)")
    p.add_argument("--run", action="append", default=None, metavar="RUN",
                   help="forecast only these runs (repeatable; default: every run in SOURCE, fitted jointly)")
    p.add_argument("--until", type=float, default=None, metavar="X",
                   help="use only the points at or before X (backtest a finished curve)")
    p.add_argument("--level", type=float, default=0.95, help="nominal coverage of the interval (default 0.95)")
    common(p)
    p.set_defaults(func=cmd_forecast, load_source=load_source)


def cmd_forecast(args: argparse.Namespace, out: Any) -> int:
    from .errors import DataError, format_message
    from .forecast import forecast

    table = args.load_source(args)
    frame = table.to_frame()
    if args.run:
        if "run" not in frame.columns:
            raise DataError(format_message("--run", "", "used with a table that has a run column",
                                           f"columns {list(frame.columns)}"))
        missing = [r for r in args.run if r not in set(frame["run"].astype(str))]
        if missing:
            raise DataError(format_message("--run", "", "runs of SOURCE", missing,
                                           f"Runs: {sorted(set(frame['run'].astype(str)))[:12]}"))
        frame = frame[frame["run"].astype(str).isin(args.run)]
    if args.until is not None:
        xcol = args.x or ("step" if (args.schedule or "schedule_spec" in frame.columns) else "n_tokens")
        frame = frame[frame[xcol] <= args.until]
    fc = forecast(frame, args.at, law=args.forecast_law, level=args.level, schedule=args.schedule, x=args.x)
    if args.json:
        out.json(fc.to_dict())
        return 0
    out.print(f"Forecast at {fc.at:g} {fc.x} ({fc.law}; {100 * fc.level:g} % interval):")
    for r in fc.frame.itertuples():
        out.print(f"  {r.run}: {r.estimate:.4f}  [{r.lower:.4f}, {r.upper:.4f}]  (observed to {r.x_last:g}, "
                  f"{r.n_points} points)")
    out.print(f"Assumed: {fc.assumed}")
    out.print(f"Method: {fc.method}")
    return 0
