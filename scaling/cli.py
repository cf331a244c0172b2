"""The ``scaling`` command line: datasets, fits, compute-optimal plans, backtests, figures, reproductions.

Every subcommand mirrors the Python API; ``--json`` prints machine-readable JSON on stdout (and only
JSON: warnings and progress go to stderr). Exit codes: 0 success, 1 a data, fit or reproduction
error (a one-line message on stderr; ``--debug`` shows the traceback), 2 a usage error.

Examples
--------
::

    scaling datasets list
    scaling fit dataset:epoch_chinchilla --drop-highest-loss 5 --bootstrap 1000 -o fit.json
    scaling fit runs.csv --columns n_params="Model Size",flops="Training FLOP"
    scaling optimal fit.json --flops 1e21 1e22 1e23
    scaling optimal published:hoffmann2022-unrounded --flops 5.76e23 --json
    scaling plot fit.json --kind isoflop -o isoflop.png
    scaling reproduce chinchilla -o out/chinchilla
    scaling demo
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ._argtypes import count as _count
from ._argtypes import level as _level
from ._argtypes import positive_float as _positive_float
from ._serialize import plain_json as _jsonable
from ._version import __version__
from .cli_table import (add_table_arguments, add_unit_arguments, apply_curve_options, cli_message, rarest_first,
                        read_table_kwargs, table_notes, table_summary)
from .errors import DataError, ScalingError, format_message

__all__ = ["main", "build_parser"]

log = logging.getLogger("scaling")

PLOT_KINDS = ("isoflop", "allocation", "contours", "fit", "residuals")


class UsageError(Exception):
    """A command-line usage problem detected after parsing (exit code 2)."""


# ====================================================================================================
# output helpers


class _Out:
    """Where the command prints: stdout for results, stderr for messages (silenced by --quiet)."""

    def __init__(self, quiet: bool, as_json: bool) -> None:
        self.quiet = quiet
        self.as_json = as_json

    def print(self, text: str = "") -> None:
        print(text, file=sys.stdout)

    def json(self, obj: Any) -> None:
        print(json.dumps(_jsonable(obj), indent=1, allow_nan=False), file=sys.stdout)

    def info(self, text: str) -> None:
        if not self.quiet:
            print(text, file=sys.stderr)


def _one_line(msg: object) -> str:
    return " ".join(str(msg).split())


def _progress_enabled(args: argparse.Namespace) -> bool:
    return not args.quiet and not getattr(args, "json", False) and sys.stderr.isatty()


# ====================================================================================================
# argument parsing helpers


def _parse_pairs(items: Sequence[str] | None, what: str) -> dict[str, str]:
    """``["a=1,b=2", "c=x y"]`` -> ``{"a": "1", "b": "2", "c": "x y"}``."""
    out: dict[str, str] = {}
    for item in items or ():
        for part in item.split(","):
            if not part.strip():
                continue
            if "=" not in part:
                raise UsageError(f"{what} must be KEY=VALUE pairs separated by commas; got {part!r}")
            k, v = part.split("=", 1)
            k, v = k.strip(), v.strip().strip("'\"")
            if not k:
                raise UsageError(f"{what} must be KEY=VALUE pairs; got {part!r} (empty key)")
            out[k] = v
    return out


def _parse_fixed(items: Sequence[str] | None) -> dict[str, float] | None:
    pairs = _parse_pairs(items, "--fix")
    fixed: dict[str, float] = {}
    for k, v in pairs.items():
        try:
            fixed[k] = float(v)
        except ValueError:
            raise UsageError(f"--fix {k}={v!r}: the value must be a number, e.g. --fix E=1.69") from None
    return fixed or None


# ====================================================================================================
# sources


def _load_source(args: argparse.Namespace) -> Any:
    """A RunTable from ``SOURCE`` (a file or ``dataset:NAME``), with --drop-highest-loss applied."""
    import numpy as np

    src: str = args.source
    columns = _parse_pairs(args.columns, "--columns") or None
    if src.startswith("dataset:"):
        from .datasets import load_dataset

        name = src.split(":", 1)[1]
        if columns:
            raise UsageError("--columns applies to files, not to registered datasets")
        options = _parse_pairs(args.dataset_option, "--dataset-option")
        table = load_dataset(name, **options) if options else load_dataset(name)
    else:
        from .data import read_table

        path = Path(src)
        if not path.exists():
            raise DataError(format_message("SOURCE", "", "an existing file (CSV, TSV, JSON, JSONL, Parquet, Excel), "
                                           "a training-log folder or dataset:NAME", repr(src),
                                           "See `scaling datasets list`."))
        if args.dataset_option:
            raise UsageError("--dataset-option applies to dataset:NAME sources")
        mapped: dict[str, str | None] | None = None
        if columns:  # --columns flops= : no such column (derive it)
            mapped = {k: (v or None) for k, v in columns.items()}
        table = read_table(path, mapped, loss_unit=args.loss_unit, flops_per_token=args.flops_per_token,
                           **read_table_kwargs(args))
    k = int(args.drop_highest_loss or 0)
    if src == "dataset:epoch_chinchilla" and not k and not getattr(args, "quiet", False):
        print("note: Epoch AI drop the 5 highest-loss points of this dataset before fitting; "
              "add --drop-highest-loss 5 to do the same", file=sys.stderr)
    if k:
        if k >= len(table):
            raise DataError(format_message("Option --drop-highest-loss", "", f"smaller than the {len(table)} runs",
                                           str(k)))
        loss = np.asarray(table.loss)
        keep = np.ones(len(loss), dtype=bool)
        keep[np.argsort(-loss, kind="stable")[:k]] = False
        table = table.filter(keep, reason=f"one of the {k} highest losses (--drop-highest-loss {k})")
    return apply_curve_options(table, args)


def _option_value(text: str) -> Any:
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    for conv in (int, float):
        try:
            return conv(text)
        except ValueError:
            pass
    return text


def _build_law(args: argparse.Namespace) -> Any:
    """The law named by --law with its --law-option values (e.g. n_breaks=2 for bnsl)."""
    from .laws import get_law

    options = {k: _option_value(v) for k, v in _parse_pairs(getattr(args, "law_option", None), "--law-option").items()}
    try:
        return get_law(args.law, **options)
    except TypeError as e:
        raise UsageError(f"--law-option for law '{args.law}': {e}") from None


def _law_options(args: argparse.Namespace) -> dict[str, Any]:
    law = _build_law(args)
    fixed = _parse_fixed(args.fix)
    tied = None
    if args.tie_exponents:
        if not {"alpha", "beta"} <= set(law.param_names):
            raise UsageError(f"--tie-exponents needs a law with parameters alpha and beta; '{args.law}' has "
                             f"{list(law.param_names)}")
        tied = {"beta": "alpha"}
    if fixed:
        unknown = [k for k in fixed if k not in law.param_names]
        if unknown:
            raise UsageError(f"--fix {','.join(unknown)}: not parameters of law '{args.law}' "
                             f"(parameters: {', '.join(law.param_names)})")
    return {"law": law, "loss": args.loss, "delta": args.delta, "fixed": fixed, "tied": tied}


def _load_model(arg: str) -> Any:
    """``published:NAME`` -> its name (for compute_optimal); a path -> FitResult."""
    if arg.startswith("published:"):
        from .predict import get_published

        get_published(arg, warn=False)  # validates the name (DataError lists the choices); checks: `scaling laws`
        return arg
    from .estimation.result import FitResult

    path = Path(arg)
    if not path.exists():
        raise DataError(format_message("FIT", "", "a saved fit (JSON written by `scaling fit -o`) or "
                                       "published:NAME", repr(arg), "List published laws with `scaling laws`."))
    return FitResult.load(path)


# ====================================================================================================
# commands


def cmd_datasets(args: argparse.Namespace, out: _Out) -> int:
    from .datasets import get_dataset, list_datasets

    if args.action == "list":
        df = list_datasets()
        if args.json:
            out.json(df[["name", "license", "source", "paper", "arxiv", "rows", "description"]])
            return 0
        for r in df.itertuples():
            out.print(f"{r.name}")
            out.print(f"  {r.paper} (arXiv {r.arxiv})")
            out.print(f"  {r.rows} rows: {r.description}")
            out.print(f"  license: {r.license}")
            out.print(f"  source:  {r.source}")
            out.print()
        out.print("Load one with `scaling fit dataset:NAME` or scaling.load_dataset(NAME); files are verified by "
                  "sha256 and read from $SCALING_DATA_DIR, the cache, or downloaded.")
        return 0
    if not args.name:
        raise UsageError("`scaling datasets show` needs a dataset NAME (see `scaling datasets list`)")
    spec = get_dataset(args.name)
    info = {"name": spec.name, "paper": spec.paper, "arxiv": spec.arxiv, "license": spec.license,
            "source": spec.source, "files": [{"path": f.path, "sha256": f.sha256, "url": spec.url(f.path)}
                                             for f in spec.files],
            "rows": spec.rows, "description": spec.description, "units": spec.units,
            "n_params_convention": spec.n_params_convention, "n_params_note": spec.n_params_note,
            "backs": spec.backs,
            "options": {k: {"default": v[0], "description": v[1]} for k, v in spec.options.items()}}
    if args.json:
        out.json(info)
        return 0
    out.print(f"{spec.name}: {spec.paper} (arXiv {spec.arxiv})")
    for key in ("description", "rows", "units", "n_params_convention", "n_params_note", "backs", "license", "source"):
        out.print(f"  {key}: {info[key]}")
    out.print(f"  files ({len(spec.files)}):")
    for f in spec.files[:6]:
        out.print(f"    {f.path}  sha256 {f.sha256[:16]}…")
    if len(spec.files) > 6:
        out.print(f"    ... and {len(spec.files) - 6} more")
    if spec.options:
        out.print("  options (--dataset-option KEY=VALUE):")
        for k, (default, desc) in spec.options.items():
            out.print(f"    {k} (default {default!r}): {desc}")
    return 0


def _fit_json(res: Any, level: float) -> dict[str, Any]:
    d: dict[str, Any] = {
        "law": res.law.spec(), "formula": res.law.formula, "params": res.params.to_dict(),
        "objective": res.objective, "loss": res.loss, "delta": res.delta, "n_points": res.n_points,
        "n_excluded": len(res.excluded), "flags": list(res.flags),
    }
    se = res.se()
    if se is not None:
        ci = res.ci(level)
        d["se"] = se.to_dict()
        d["ci"] = {k: [float(ci.loc[k, "lower"]), float(ci.loc[k, "upper"])] for k in ci.index}
        d["level"] = level
        d["uncertainty"] = {k: v for k, v in (res.uncertainty or {}).items() if isinstance(v, (str, int, float))}
    prov = res.provenance
    keys = ("version", "rng", "data_name", "data_hash", "flops_per_token", "engine")
    d["provenance"] = {k: prov.get(k) for k in keys}
    return d


def _chinchilla_extras(res: Any, level: float) -> list[str]:
    """Derived numbers shown after a Chinchilla fit: the allocation exponent a and D/N at a few budgets."""
    if tuple(res.law.param_names) != ("E", "A", "B", "alpha", "beta"):
        return []
    from .predict import compute_optimal
    from .predict.result import format_number

    from .laws.chinchilla import allocation_constants

    a = float(allocation_constants(res.params[list(res.law.param_names)].to_numpy(dtype=float))["a"][0, 0])
    line = f"  a = beta/(alpha+beta) = {a:.4f}   (N_opt ∝ C^a; Hoffmann et al. 2022 eq. 4)"
    if res.samples is not None:
        from .estimation.uncertainty import derived

        da = derived(res, "a", level=level)
        line += f"  {level:.0%} interval [{da['lower'].iloc[0]:.4f}, {da['upper'].iloc[0]:.4f}]"
    lines = [f"Compute-optimal allocation implied by the fit ({res.conventions.flops_label}):", line]
    alloc = compute_optimal(res, _default_budgets(res)[::2], level=level)  # budgets spanning the runs
    f = alloc.to_frame()
    for _, r in f.iterrows():
        s = f"  C = {format_number(r['flops'])}: N_opt = {format_number(r['n_params'])}"
        if "n_params_lower" in f.columns:
            s += f" [{format_number(r['n_params_lower'])}, {format_number(r['n_params_upper'])}]"
        s += f", D_opt = {format_number(r['n_tokens'])}, D/N = {r['tokens_per_param']:.2g}"
        lines.append(s)
    return lines


def cmd_fit(args: argparse.Namespace, out: _Out) -> int:
    from .estimation import fit
    from .estimation.uncertainty import Bootstrap

    opts = _law_options(args)
    table = _load_source(args)
    unc = Bootstrap(n=args.bootstrap, by=args.by) if args.bootstrap else None
    if args.by and not args.bootstrap:
        raise UsageError("--by applies to the bootstrap: add --bootstrap N")
    law = opts.pop("law")
    res = fit(table, law, uncertainty=unc, rng=args.seed, progress=_progress_enabled(args), engine=args.engine,
              **opts)
    if args.output:
        path = res.save(args.output)
        out.info(f"saved the fit to {path}")
    if args.json:
        d = _fit_json(res, args.level)
        d["excluded"] = _excluded_list(table)
        d["table"] = table_summary(table)
        if args.output:
            d["saved_to"] = str(args.output)
        out.json(d)
        return 0
    out.print(str(res.summary(level=args.level)))
    exc = _excluded_list(table)
    if exc:
        out.print()
        out.print(f"Excluded before fitting ({len(exc)} rows; 0-based input rows):")
        for line in table_notes(table):
            out.print(f"  {line}")
        for e in rarest_first(exc)[:12]:
            lo = f" (loss {e['loss']:.4g})" if "loss" in e else ""
            out.print(f"  row {e['row']}{lo}: {e['reason']}")
        if len(exc) > 12:
            out.print(f"  ... and {len(exc) - 12} more")
    extras = _chinchilla_extras(res, args.level)
    if extras:
        out.print()
        for line in extras:
            out.print(line)
    return 0


def _excluded_list(table: Any) -> list[dict[str, Any]]:
    ex = table.excluded
    if ex is None or not len(ex):
        return []
    return [{"row": int(r["row"]), **({"code": str(r["code"])} if "code" in ex.columns else {}),
             "reason": str(r["reason"]), **({"loss": float(r["loss"])} if "loss" in ex.columns
                                            and r["loss"] == r["loss"] else {})}
            for _, r in ex.iterrows()]


def cmd_optimal(args: argparse.Namespace, out: _Out) -> int:
    from .predict import compute_optimal

    model = _load_model(args.model)
    flops: Any = args.flops[0] if len(args.flops) == 1 else list(args.flops)
    with warnings.catch_warnings():
        if args.model.startswith("published:"):
            from .errors import InconsistencyWarning

            warnings.simplefilter("ignore", InconsistencyWarning)  # listed by `scaling laws` instead
        alloc = compute_optimal(model, flops, level=args.level)
    if args.json:
        out.json(alloc.to_dict())
    elif alloc.scalar:
        out.print(str(alloc))
    else:
        for line in _allocation_lines(alloc):
            out.print(line)
    return 0


def _allocation_lines(alloc: Any) -> list[str]:
    """A compact table of a multi-budget allocation: C, N_opt [interval], D_opt [interval], D/N, loss."""
    from .predict.result import format_number

    f = alloc.to_frame()

    def cell(r: Any, c: str) -> str:
        s = format_number(r[c])
        if f"{c}_lower" in f.columns:
            s += f" [{format_number(r[c + '_lower'])}, {format_number(r[c + '_upper'])}]"
        return s

    lines = [f"{alloc.query} — {alloc.source}", f"  method: {alloc.method}", f"  compute: {alloc.flops_model}"]
    rows = [(format_number(r["flops"]), cell(r, "n_params"), cell(r, "n_tokens"), f"{r['tokens_per_param']:.2g}",
             f"{r['loss']:.3f}" if "loss" in f.columns else "—") for _, r in f.iterrows()]
    head = ("C (FLOPs)", "N_opt (params)", "D_opt (tokens)", "D/N", "loss")
    w = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
    lines.append("  " + "  ".join(h.rjust(w[i]) for i, h in enumerate(head)))
    lines += ["  " + "  ".join(v.rjust(w[i]) for i, v in enumerate(r)) for r in rows]
    if alloc.level is not None:
        lines.append(f"  [intervals: {100 * alloc.level:g}% percentile over {alloc.n_samples} parameter samples]")
    lines += [f"  note: {n}" for n in alloc.notes]
    return lines


def cmd_laws(args: argparse.Namespace, out: _Out) -> int:
    from .laws import get_law, list_laws
    from .predict import list_published

    rows = []
    for name in list_laws():
        try:
            law = get_law(name)
            rows.append({"name": name, "parameters": list(law.param_names), "variables": list(law.variables),
                         "formula": law.formula, "reference": law.reference})
        except (ScalingError, TypeError) as e:  # a law that needs options
            rows.append({"name": name, "parameters": None, "variables": None, "formula": None, "reference": str(e)})
    pub = list_published()
    if args.json:
        out.json({"laws": rows, "published": pub})
        return 0
    out.print("Registered laws (scaling fit SOURCE --law NAME):")
    for r in rows:
        out.print(f"  {r['name']}: {r['formula']}")
        out.print(f"      parameters {', '.join(r['parameters'] or [])}; variables {', '.join(r['variables'] or [])}")
        out.print(f"      {r['reference']}")
    out.print()
    out.print("Published laws (use as published:NAME, e.g. `scaling optimal published:hoffmann2022 --flops 1e24`):")
    for r in pub.itertuples():
        what = r.law if r.law else r.allocation
        flag = f"  [{r.n_inconsistent} printed number(s) not reproduced by the constants]" if r.n_inconsistent else ""
        out.print(f"  {r.name}: {r.kind} — {what}")
        out.print(f"      {r.paper}, arXiv {r.arxiv}, {r.where}; N = {r.n_params}{flag}")
    return 0


def cmd_backtest(args: argparse.Namespace, out: _Out) -> int:
    from .estimation.backtest import backtest
    from .estimation.uncertainty import Bootstrap

    opts = {k: v for k, v in _law_options(args).items() if v is not None}
    table = _load_source(args)
    law = opts.pop("law")
    chosen = [o for o in ("n_holdout", "fraction", "threshold") if getattr(args, o) is not None]
    if len(chosen) > 1:
        raise UsageError(f"give at most one of --n-holdout, --fraction, --threshold; got {len(chosen)}")
    kw: dict[str, Any] = {o: getattr(args, o) for o in chosen}
    unc = Bootstrap(n=args.bootstrap) if args.bootstrap else None
    res = backtest(table, law, holdout=args.holdout, level=args.level, fit_options=opts or None,
                   uncertainty=unc, rng=args.seed, **kw)
    if args.json:
        d = {k: v for k, v in res.to_dict().items() if k not in ("fit",)}
        d["fit"] = _fit_json(res.fit, args.level)
        out.json(d)
        return 0
    out.print(str(res.summary()))
    return 0


def _default_budgets(res: Any) -> list[float]:
    import numpy as np

    data = res.data
    k = res.conventions.flops_per_token
    if {"n_params", "n_tokens"} <= set(data.columns):
        c = k * data["n_params"].to_numpy(float) * data["n_tokens"].to_numpy(float)
        lo, hi = np.log10(c.min()), np.log10(c.max())
        vals = np.unique([float(f"{v:.1g}") for v in 10 ** np.linspace(lo, hi, 6)])
        return [float(v) for v in vals]
    return [1e19, 1e20, 1e21, 1e22]


def cmd_plot(args: argparse.Namespace, out: _Out) -> int:
    from . import plot

    model = _load_model(args.model)
    published = isinstance(model, str)
    if published and args.kind in ("fit", "residuals"):
        raise UsageError(f"--kind {args.kind} needs a saved fit (FIT.json), not a published law")
    data = None
    if args.data:
        ns = argparse.Namespace(**{**vars(args), "source": args.data, "dataset_option": None,
                                   "drop_highest_loss": 0})
        data = _load_source(ns)
    elif not published and not args.no_data:
        data = model.data
    if args.kind == "isoflop":
        budgets = args.budgets or (_default_budgets(model) if not published else [1e19, 1e20, 1e21, 1e22, 1e23])
        ax = plot.isoflop(model, budgets, data=data, level=args.level if not published else None)
    elif args.kind == "allocation":
        flops = args.flops or [1e18, 1e25]
        ax = plot.allocation(model, flops, level=None if published else args.level)
    elif args.kind == "contours":
        ax = plot.contours(model, data=data, budgets=args.budgets)
    elif args.kind == "fit":
        ax = plot.fit_vs_data(model, level=args.level)
    else:
        ax = plot.residuals(model)
    output = Path(args.output)
    fmt = output.suffix.lstrip(".").lower() or "png"
    if fmt not in ("png", "pdf", "svg"):
        raise UsageError(f"-o {args.output}: the figure format must be .png, .pdf or .svg")
    paths = plot.save_figure(ax, output, (fmt,), dpi=args.dpi)
    if args.json:
        out.json({"figure": str(paths[0]), "kind": args.kind})
    else:
        out.print(f"wrote {paths[0]}")
    return 0


def cmd_reproduce(args: argparse.Namespace, out: _Out) -> int:
    from .reproduce import REPRODUCTIONS, list_reproductions, reproduce

    if args.list or not args.name:
        if not args.list:
            raise UsageError("`scaling reproduce` needs a NAME (one of " + ", ".join(REPRODUCTIONS)
                             + ", all) or --list")
        df = list_reproductions()
        if args.json:
            out.json(df)
        else:
            for r in df.itertuples():
                out.print(f"  {r.name:<15} {r.title}")
        return 0
    names = list(REPRODUCTIONS) if args.name == "all" else [args.name]
    base = Path(args.output) if args.output else Path("scaling-reproduce")
    reports = []
    for name in names:
        target = base / name if (args.name == "all" or not args.output) else base
        out.info(f"reproducing {name} -> {target}")
        rep = reproduce(name, target, bootstrap=args.bootstrap, n_reps=args.reps, rng=args.seed,
                        formats=tuple(args.format), progress=_progress_enabled(args))
        reports.append(rep)
        if not args.json:
            out.print(f"{rep.title}")
            for line in rep.summary_lines():
                out.print("  " + line)
            out.print(f"  -> {'PASSED' if rep.passed else 'FAILED'}; report: {rep.files[0]}; "
                      f"figures: {', '.join(p.name for p in rep.figures if p.suffix == '.png')}")
            out.print()
    if args.json:
        d = [dict(r.to_dict(), files=[str(p) for p in r.files], figure_paths=[str(p) for p in r.figures])
             for r in reports]
        out.json(d[0] if len(d) == 1 else d)
    failed = [r for r in reports if not r.passed]
    if failed:
        raise _ChecksFailed(f"{sum(r.n_failed for r in failed)} check(s) outside tolerance in "
                            f"{', '.join(r.name for r in failed)}; see the report(s)")
    return 0


class _ChecksFailed(ScalingError):
    """A reproduction ran but some of its checks are outside tolerance (exit code 1)."""


def cmd_demo(args: argparse.Namespace, out: _Out) -> int:
    from .demo import run_demo

    res = run_demo(args.output, bootstrap=args.bootstrap, rng=args.seed, progress=_progress_enabled(args))
    if args.json:
        out.json(res.to_dict())
    else:
        for line in res.report():
            out.print(line)
    return 0


# ====================================================================================================
# parser


def _common(p: argparse.ArgumentParser, json_flag: bool = True) -> None:
    g = p.add_argument_group("output")
    if json_flag:
        g.add_argument("--json", action="store_true", help="print machine-readable JSON on stdout (only JSON)")
    g.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS,
                   help="no progress bar, no warnings or notes on stderr")
    g.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                   help="show tracebacks and debug logging")


def _source_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("source", metavar="SOURCE",
                   help="a table of runs (CSV, TSV, JSON, JSONL, Parquet, Excel), a training log (a TensorBoard or "
                        "MLflow folder, a W&B export, a folder of per-run CSVs) or dataset:NAME "
                        "(see `scaling datasets list`)")
    add_unit_arguments(p)
    p.add_argument("--dataset-option", action="append", metavar="KEY=VALUE",
                   help="option of a registered dataset (see `scaling datasets show NAME`)")
    p.add_argument("--drop-highest-loss", type=_count, default=0, metavar="K",
                   help="exclude the K highest losses before fitting (Epoch drop 5 of Hoffmann's 245 points); "
                        "the excluded rows are listed")
    add_table_arguments(p)


def _law_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--law", default="chinchilla", help="registered law (see `scaling laws`; default chinchilla)")
    p.add_argument("--law-option", action="append", metavar="KEY=VALUE",
                   help="option of the law, e.g. --law bnsl --law-option n_breaks=2 (repeat or comma-separate)")
    p.add_argument("--loss", choices=("huber", "squared_log", "squared", "huber_likelihood"), default=None,
                   help="objective, summed over points (default: the law's; Huber on log losses for chinchilla)")
    p.add_argument("--delta", type=_positive_float, default=None, help="Huber delta (default 1e-3, Hoffmann et al.)")
    p.add_argument("--tie-exponents", action="store_true", help="force beta = alpha")
    p.add_argument("--fix", action="append", metavar="PARAM=VALUE",
                   help="hold parameters fixed, e.g. --fix E=1.69 (repeat or comma-separate)")
    p.add_argument("--bootstrap", type=_count, default=0, metavar="N",
                   help="bootstrap resamples for intervals (e.g. 1000; default none)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--level", type=_level, default=0.95, help="interval level (default 0.95)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``scaling`` command (exposed for documentation and tests)."""
    parser = argparse.ArgumentParser(
        prog="scaling",
        description="Neural scaling laws: load runs, fit Kaplan/Chinchilla-style laws with honest uncertainty, "
                    "plan compute, reproduce the published results.",
        epilog="Exit codes: 0 success, 1 data/fit/reproduction error, 2 usage error. "
               "`scaling COMMAND --help` shows each command's options.")
    parser.add_argument("--version", action="version", version=f"scaling {__version__}")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar, no warnings or notes on stderr")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("datasets", help="list or describe the registered published datasets",
                       description="The registered published datasets (license, source, what they back).")
    p.add_argument("action", choices=("list", "show"))
    p.add_argument("name", nargs="?", metavar="NAME", help="dataset for `show`")
    _common(p)
    p.set_defaults(func=cmd_datasets)

    p = sub.add_parser("fit", help="fit a scaling law to a table of runs",
                       description="Fit a law (default Chinchilla, Hoffmann et al. 2022 eq. 2) to SOURCE and print a "
                                   "summary (with intervals given --bootstrap).")
    _source_args(p)
    _law_args(p)
    p.add_argument("--by", default=None, metavar="COLUMN", help="bootstrap whole clusters (e.g. run, group)")
    p.add_argument("-o", "--output", default=None, metavar="FIT.json", help="save the fit as JSON")
    p.add_argument("--engine", choices=("auto", "numpy"), default="auto",
                   help="what screens the starts: auto (default) uses the compiled screen where numba is installed "
                        "(pip install 'scaling[fast]') and the law has a kernel (chinchilla), else numpy; numpy "
                        "never uses numba")
    _common(p)
    p.set_defaults(func=cmd_fit)

    p = sub.add_parser("optimal", help="compute-optimal model size and tokens for given budgets",
                       description="Compute-optimal N and D (Hoffmann et al. 2022 eq. 1/4) from a saved fit or a "
                                   "published law.")
    p.add_argument("model", metavar="FIT.json|published:NAME")
    p.add_argument("--flops", type=_positive_float, nargs="+", required=True, metavar="C",
                   help="training budget(s) in FLOPs")
    p.add_argument("--level", type=_level, default=0.95, help="interval level (fits with bootstrap samples)")
    _common(p)
    p.set_defaults(func=cmd_optimal)

    p = sub.add_parser("laws", help="list the registered laws and the published laws",
                       description="Registered laws (formula, parameters, citation) and published laws.")
    _common(p)
    p.set_defaults(func=cmd_laws)

    p = sub.add_parser("backtest", help="fit on the smaller runs, score the extrapolation to the larger ones",
                       description="Extrapolation backtest: absolute relative error on held-out large runs.")
    _source_args(p)
    _law_args(p)
    p.add_argument("--holdout", choices=("flops", "n_params", "n_tokens"), default="flops",
                   help="column that orders runs from small to large (default flops)")
    p.add_argument("--n-holdout", type=int, default=None, metavar="K", help="hold out the K largest distinct values")
    p.add_argument("--fraction", type=_level, default=None, help="hold out this fraction of the largest rows")
    p.add_argument("--threshold", type=_positive_float, default=None, help="hold out rows with value >= T")
    _common(p)
    p.set_defaults(func=cmd_backtest)

    p = sub.add_parser("plot", help="draw a figure from a saved fit or a published law",
                       description="isoflop: loss against N along iso-compute curves; allocation: N_opt(C), D_opt(C); "
                                   "contours: loss over (C, N) with the frontier; fit: observed vs predicted; "
                                   "residuals.")
    p.add_argument("model", metavar="FIT.json|published:NAME")
    p.add_argument("--kind", choices=PLOT_KINDS, required=True)
    p.add_argument("-o", "--output", required=True, metavar="FIG.png", help="output file (.png, .pdf or .svg)")
    p.add_argument("--budgets", type=_positive_float, nargs="+", default=None, metavar="C",
                   help="isoFLOP budgets (isoflop) or slice markers (contours)")
    p.add_argument("--flops", type=_positive_float, nargs="+", default=None, metavar="C",
                   help="compute range of the allocation plot (two values) or budgets")
    p.add_argument("--data", default=None, metavar="SOURCE", help="runs to overlay (default: the fitted points)")
    add_table_arguments(p, basic=True)
    p.add_argument("--no-data", action="store_true", help="do not overlay the fitted points")
    p.add_argument("--level", type=_level, default=0.8, help="interval level of the bands (default 0.8)")
    p.add_argument("--dpi", type=int, default=150)
    _common(p)
    p.set_defaults(func=cmd_plot)

    from .reproduce import REPRODUCTIONS

    p = sub.add_parser("reproduce", help="reproduce a paper's figures and numbers (report with pass/fail)",
                       description="Write figures and a report (report.md, report.json) with the published numbers "
                                   f"next to ours. NAME: {', '.join(REPRODUCTIONS)}, or all.")

    p.add_argument("name", nargs="?", metavar="NAME", choices=(*REPRODUCTIONS, "all"))
    p.add_argument("-o", "--output", default=None, metavar="DIR",
                   help="output folder (default ./scaling-reproduce/NAME)")
    p.add_argument("--list", action="store_true", help="list the reproductions")
    p.add_argument("--bootstrap", type=int, default=None, metavar="N",
                   help="bootstrap resamples for chinchilla (default 1000; ~10 s)")
    p.add_argument("--reps", type=int, default=None, metavar="N",
                   help="Monte-Carlo repetitions for double-descent (default 200)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--format", nargs="+", default=["png", "pdf"], choices=("png", "pdf", "svg"),
                   help="figure formats (default png pdf)")
    _common(p)
    p.set_defaults(func=cmd_reproduce)

    p = sub.add_parser("demo", help="run the whole job on a bundled synthetic sweep (no download, < 1 min)",
                       description="Load the bundled synthetic isoFLOP sweep, fit the Chinchilla law with a "
                                   "bootstrap, plan compute for a few budgets, write a figure.")
    p.add_argument("-o", "--output", default="scaling-demo", metavar="DIR",
                   help="output folder (default ./scaling-demo)")
    p.add_argument("--bootstrap", type=int, default=200, metavar="N", help="bootstrap resamples (default 200)")
    p.add_argument("--seed", type=int, default=0)
    _common(p)
    p.set_defaults(func=cmd_demo)

    from .estimation.planning_runs import add_parser as _add_plan_runs

    _add_plan_runs(sub, _common)

    from .tasks.cli import add_parser as _add_predict_task

    _add_predict_task(sub, sys.modules[__name__])

    from .forecast_cli import add_forecast_parser
    add_forecast_parser(sub, _source_args, _common, _load_source)

    from .simulate.cli import add_simulate_parser  # `scaling simulate` (tiny networks; scaling/simulate/cli.py)

    add_simulate_parser(sub, _common)
    return parser


# ====================================================================================================
# entry point


def _report_warnings(caught: list[warnings.WarningMessage], out: _Out) -> None:
    seen = set()
    for w in caught:
        msg = f"warning: {w.category.__name__}: {_one_line(cli_message(str(w.message)))}"
        if msg not in seen:
            seen.add(msg)
            out.info(msg)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``scaling`` command; returns the exit code (0 ok, 1 data/fit error, 2 usage error)."""
    parser = build_parser()
    try:
        args = parser.parse_args(list(argv) if argv is not None else None)
    except SystemExit as e:  # --help, --version (0) and usage errors (2)
        return int(e.code) if isinstance(e.code, int) else (0 if e.code is None else 2)
    args.quiet = bool(getattr(args, "quiet", False))
    args.debug = bool(getattr(args, "debug", False))
    if not hasattr(args, "json"):
        args.json = False
    out = _Out(args.quiet, args.json)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.DEBUG if args.debug else (logging.ERROR if args.quiet else logging.WARNING))
    func: Callable[[argparse.Namespace, _Out], int] = args.func
    caught: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            warnings.filterwarnings("ignore", category=DeprecationWarning)
            warnings.filterwarnings("ignore", category=RuntimeWarning)
            try:
                code = func(args, out)
            finally:
                if "matplotlib.pyplot" in sys.modules:  # close figures a command may have left open
                    sys.modules["matplotlib.pyplot"].close("all")
        _report_warnings(caught, out)
        return code
    except UsageError as e:
        print(f"{parser.prog} {args.command}: error: {_one_line(e)}", file=sys.stderr)
        return 2
    except (ScalingError, FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError) as e:
        if args.debug:
            raise
        _report_warnings(caught, out)  # what was doubtful before the error (e.g. a UnitsWarning) still shows
        print(f"scaling: error: {_one_line(cli_message(str(e)))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # pragma: no cover
        print("scaling: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # pragma: no cover - e.g. `scaling datasets list | head`
        try:
            import os

            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError, AttributeError):
            pass
        return 0
    finally:
        log.removeHandler(handler)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
