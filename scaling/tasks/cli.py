"""``scaling predict-task``: a two-step task law from ladder curves, and the predicted accuracy of a target."""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(sub: Any, C: Any) -> None:
    """Register ``predict-task`` on the subparsers of :func:`scaling.cli.build_parser`; ``C`` is the
    :mod:`scaling.cli` module (passed in, so that this module never imports it: no import cycle)."""
    p = sub.add_parser(
        "predict-task", help="predict a benchmark accuracy from ladder curves (two-step task law)",
        description="Fit step 1 (task loss from N, D; Chinchilla form, Huber on log residuals) on each run's final "
                    "checkpoints and step 2 (accuracy from task loss; a sigmoid) on the smoothed curves "
                    "(Bhagia et al. 2024), then predict the accuracy of target models with intervals. "
                    "Example: scaling predict-task dataset:olmo_ladder --where role=ladder --where "
                    "size=190M,370M,760M,1B --where multiplier=1,2,5,10 --loss-column bpb_hellaswag_val "
                    "--accuracy-column acc_hellaswag_val --n-params 6.9e9 --n-tokens 3.9e12 --bootstrap 200")
    C._source_args(p)
    p.add_argument("--where", action="append", metavar="COLUMN=V1,V2",
                   help="keep rows whose COLUMN is one of the values (repeat for several columns)")
    p.add_argument("--loss-column", required=True, metavar="COLUMN", help="task loss column (e.g. bpb_<task>)")
    p.add_argument("--accuracy-column", required=True, metavar="COLUMN", help="accuracy column (a fraction)")
    p.add_argument("--n-params", type=C._positive_float, nargs="+", required=True, metavar="N",
                   help="target parameter count(s)")
    p.add_argument("--n-tokens", type=C._positive_float, nargs="+", required=True, metavar="D",
                   help="target token count(s) (one per --n-params, or one for all)")
    p.add_argument("--by", default="run", metavar="COLUMN", help="column naming the runs (default run)")
    p.add_argument("--last", type=int, default=5, help="step 1: mean of each run's last K checkpoints (default 5)")
    p.add_argument("--warmup", type=float, default=0.1, help="step 2: skip this fraction of each run (default 0.1)")
    p.add_argument("--window", type=int, default=5, help="step 2: moving-average window (default 5)")
    p.add_argument("--objective", choices=("huber", "squared_log", "squared"), default="huber",
                   help="step-1 objective (default huber on log residuals)")
    p.add_argument("--chance", type=float, default=None,
                   help="keep the sigmoid between chance and 1 (default: the paper's bounds)")
    p.add_argument("--bootstrap", type=C._count, default=200, metavar="N",
                   help="bootstrap resamples of both steps for the intervals (default 200; 0 for none)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--level", type=C._level, default=0.9, help="interval level (default 0.9)")
    C._common(p)
    p.set_defaults(func=lambda args, out: cmd_predict_task(args, out, C))


def _select(table: Any, where: list[str] | None, C: Any) -> Any:
    import numpy as np

    for item in where or ():
        if "=" not in item:
            raise C.UsageError(f"--where must be COLUMN=V1,V2; got {item!r}")
        col, vals = item.split("=", 1)
        frame = table.to_frame()
        if col not in frame.columns:
            raise C.UsageError(f"--where: no column {col!r} (columns: {', '.join(map(str, frame.columns[:12]))} ...)")
        wanted = [v.strip() for v in vals.split(",") if v.strip()]
        column = frame[col]
        keep = np.zeros(len(frame), dtype=bool)
        for v in wanted:
            try:
                keep |= np.isclose(column.to_numpy(dtype=float), float(v))
            except (TypeError, ValueError):
                keep |= column.astype(str).to_numpy() == v
        table = table.filter(keep, reason=f"--where {item}")
    return table


def cmd_predict_task(args: argparse.Namespace, out: Any, C: Any) -> int:
    import numpy as np

    from .chain import task_law

    if len(args.n_tokens) not in (1, len(args.n_params)):
        raise C.UsageError("--n-tokens takes one value or one per --n-params")
    table = _select(C._load_source(args), args.where, C)
    law = task_law(table, args.loss_column, args.accuracy_column, last=args.last, warmup=args.warmup,
                   window=args.window, objective=args.objective, chance=args.chance, bootstrap=args.bootstrap,
                   by=args.by, rng=args.seed)
    n_tokens = args.n_tokens * len(args.n_params) if len(args.n_tokens) == 1 else args.n_tokens
    pred = law.predict(np.array(args.n_params), np.array(n_tokens), level=args.level)
    frame = pred.to_frame()
    if args.json:
        out.json({"prediction": frame, "step1": law.step1.params.to_dict(), "step2": dict(law.step2.params),
                  "runs": int(len(law.points1)), "settings": dict(law.settings)})
        return 0
    from ..predict.result import format_number

    out.print(f"task law for {args.accuracy_column} from {len(law.points1)} runs "
              f"({len(law.points2)} step-2 points); step 1: "
              + ", ".join(f"{k} = {format_number(v)}" for k, v in law.step1.params.items())
              + "; step 2: " + ", ".join(f"{k} = {v:.4g}" for k, v in law.step2.params.items()))
    pct = int(round(100 * args.level))
    out.print(f"{'N':>10} {'D':>10} {'task loss':>10} {'accuracy':>9}  {pct}% interval")
    for r in frame.itertuples():
        iv = "—" if np.isnan(r.lower) else f"[{100 * r.lower:.1f}, {100 * r.upper:.1f}]"
        out.print(f"{format_number(r.n_params):>10} {format_number(r.n_tokens):>10} {r.task_loss:>10.4f} "
                  f"{100 * r.accuracy:>8.2f}%  {iv}")
    return 0
