"""The ``scaling simulate`` subcommand (parser builder and handler; registered by :mod:`scaling.cli`)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .._argtypes import jobs as _jobs
from .._argtypes import seed as _seed
from ..errors import ScalingError

__all__ = ["add_simulate_parser", "cmd_simulate"]


class SimulationChecksMissed(ScalingError):
    """``--strict`` and a qualitative check of the simulation did not hold (exit code 1)."""


def add_simulate_parser(sub: Any, common: Callable[[argparse.ArgumentParser], None]) -> argparse.ArgumentParser:
    """Add ``simulate`` to the subparsers ``sub``; ``common`` adds the shared output options."""
    from . import SIMULATIONS

    p = sub.add_parser("simulate",
                       help="why bigger models win: train tiny networks (rare tasks, grokking, double descent)",
                       description="Train sweeps of small numpy MLPs on a CPU and write a figure (PNG, PDF), "
                                   "report.json and the tables as CSV. NAME: " + ", ".join(SIMULATIONS) + ". "
                                   "Each default takes about 2 minutes on 2 cores; --quick takes seconds.")
    p.add_argument("name", nargs="?", metavar="NAME", choices=tuple(SIMULATIONS))
    p.add_argument("-o", "--output", default=None, metavar="DIR",
                   help="output folder (default ./scaling-simulate/NAME)")
    p.add_argument("--quick", action="store_true", help="reduced size (seconds; what the tests run)")
    p.add_argument("--seed", type=_seed, default=0, help="random seed (default 0); same seed, same result")
    p.add_argument("-j", "--jobs", type=_jobs, default=2, metavar="N",
                   help="worker processes for independent training runs (default 2; results do not depend on it)")
    p.add_argument("--strict", action="store_true", help="exit with status 1 when a qualitative check does not hold")
    p.add_argument("--list", action="store_true", help="list the experiments")
    p.add_argument("--format", nargs="+", default=["png", "pdf"], choices=("png", "pdf", "svg"),
                   help="figure formats (default png pdf)")
    common(p)
    p.set_defaults(func=cmd_simulate)
    return p


def cmd_simulate(args: argparse.Namespace, out: Any) -> int:
    from . import SIMULATIONS, run_simulation
    from ._common import jsonable

    if args.list or not args.name:
        if not args.list:  # a usage error (exit 2); scaling.cli's UsageError is not imported: no import cycle
            sys.stderr.write("scaling simulate: error: `scaling simulate` needs a NAME (one of "
                             + ", ".join(SIMULATIONS) + ") or --list\n")
            return 2
        if args.json:
            out.json([{"name": k, "title": v[1]} for k, v in SIMULATIONS.items()])
        else:
            for k, v in SIMULATIONS.items():
                out.print(f"  {k:<20} {v[1]}")
        return 0
    target = Path(args.output) if args.output else Path("scaling-simulate") / args.name
    out.info(f"simulating {args.name}{' (quick)' if args.quick else ''} -> {target}")
    progress = not args.quiet and not args.json and sys.stderr.isatty()
    res = run_simulation(args.name, target, quick=args.quick, rng=args.seed, progress=progress, n_jobs=args.jobs,
                         formats=tuple(args.format))
    if args.json:
        out.json(dict(jsonable(dict(res.report)), files=[str(p) for p in res.files]))
    else:
        out.print(res.title)
        for line in res.summary_lines():
            out.print("  " + line)
        out.print(f"  -> {sum(res.checks.values())} of {len(res.checks)} checks hold; "
                  f"{res.report['seconds']:.0f} s; report: {target / 'report.json'}; figures: "
                  + ", ".join(p.name for p in res.figures if p.suffix == ".png"))
    if args.strict and not res.passed:
        missed = [k for k, v in res.checks.items() if not v]
        raise SimulationChecksMissed(f"{len(missed)} check(s) of {args.name} did not hold: " + "; ".join(missed))
    return 0
