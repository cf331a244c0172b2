"""The command line's table options: every :func:`scaling.read_table` and curve option as a flag, and the
translation of the library's suggested fixes (Python keywords) into flags.

Used by :mod:`scaling.cli` for ``fit``, ``backtest``, ``plot`` (``--data``) and any command that reads a
table of runs; a command adds the flags with :func:`add_table_arguments` and reads the table with
:func:`read_table_kwargs` + :func:`apply_curve_options`. Library code never sees argparse.
"""

from __future__ import annotations

import argparse
import re
from typing import Any

from ._argtypes import fraction as _fraction
from ._argtypes import positive_float

__all__ = ["add_table_arguments", "read_table_kwargs", "apply_curve_options", "cli_message", "table_summary",
           "table_notes", "rarest_first"]

_DUPLICATES = ("raise", "mean", "median", "min", "first", "keep")


def _names(text: str) -> list[str]:
    names = [c.strip() for c in text.split(",") if c.strip()]
    if not names:
        raise argparse.ArgumentTypeError(f"expected comma-separated column names; got {text!r}")
    return names





def add_unit_arguments(p: Any) -> None:
    """--columns, --loss-unit and --flops-per-token: how a table's columns, loss unit and FLOPs rule are read
    (on a parser or an argument group)."""
    p.add_argument("--columns", action="append", metavar="CANON=COLUMN,...",
                   help='map your column names, e.g. --columns n_params="Model Size",flops="Training FLOP"')
    p.add_argument("--loss-unit", choices=("nats", "bits", "perplexity"), default="nats",
                   help="unit of the loss column (converted to nats; default nats)")
    p.add_argument("--flops-per-token", type=positive_float, default=6.0, metavar="K",
                   help="k in C = k·N·D, used to derive a missing column (default 6)")


def add_table_arguments(p: argparse.ArgumentParser, *, basic: bool = False) -> None:
    """Add the read_table and curve flags to ``p`` (``basic``: also those of :func:`add_unit_arguments`, for a
    parser that does not have them already)."""
    g = p.add_argument_group("reading the table (read_table options)")
    if basic:
        add_unit_arguments(g)
    g.add_argument("--format", dest="table_format", default=None,
                   choices=("csv", "tsv", "json", "jsonl", "parquet", "excel", "tensorboard", "wandb", "mlflow"),
                   help="file format (default: from the suffix; a folder is read as a training log)")
    g.add_argument("--run-id", type=_names, default=None, metavar="COL,...",
                   help="the columns that identify a run, e.g. --run-id model,total_steps,peak_lr")
    g.add_argument("--metric", default=None, metavar="COLUMN",
                   help="the loss column of a log with one column per evaluation, e.g. "
                        "--metric eval/c4_en-validation/CrossEntropyLoss (rows without it are excluded)")
    g.add_argument("--metadata", default=None, metavar="FILE",
                   help="a per-run table (N, planned tokens/steps, ...) joined on the run id")
    g.add_argument("--log10", type=_names, default=None, metavar="COL,...",
                   help="canonical columns stored as log10 values, e.g. --log10 n_tokens,flops")
    g.add_argument("--duplicates", choices=_DUPLICATES, default="raise",
                   help="rows with the same run and (N, D) but different losses: raise (default), combine "
                        "(mean, median, min, first) or keep")
    g.add_argument("--id-columns", type=_names, default=None, metavar="COL,...",
                   help="further columns that tell runs apart (e.g. dataset)")
    g.add_argument("--on-invalid", choices=("raise", "exclude"), default="raise",
                   help="rows with bad values: raise (default) or exclude them (they are listed)")
    g.add_argument("--no-check-units", dest="check_units", action="store_false",
                   help="skip the unit guards (for tables that are not language-model runs)")
    c = p.add_argument_group("training curves (applied in this order)")
    c.add_argument("--best-run", type=_names, default=None, metavar="COL,...",
                   help="keep the whole curve of the best run over these columns, e.g. --best-run lr")
    c.add_argument("--min-fraction", type=_fraction, default=None, metavar="F",
                   help="keep checkpoints with at least F of their run's final tokens")
    c.add_argument("--final", action="store_true",
                   help="keep the final checkpoint of each run (the last at or before its planned end)")
    c.add_argument("--mean-over", type=_names, default=None, metavar="COL,...",
                   help="average the loss over these columns per (N, D) and the rest, e.g. --mean-over seed")
    c.add_argument("--best-of", type=_names, default=None, metavar="COL,...",
                   help="keep the lowest loss over these columns per (N, D), e.g. --best-of lr")


def read_table_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """The read_table keyword arguments the flags in ``args`` ask for (defaults are left out)."""
    kw: dict[str, Any] = {}
    flags = (("table_format", "format"), ("run_id", "run"), ("metric", "metric"), ("metadata", "metadata"),
             ("log10", "log10"), ("id_columns", "id_columns"))
    for attr, key in flags:
        value = getattr(args, attr, None)
        if value is not None:
            kw[key] = value
    for attr, default in (("duplicates", "raise"), ("on_invalid", "raise"), ("check_units", True)):
        value = getattr(args, attr, default)
        if value != default:
            kw[attr] = value
    return kw


def apply_curve_options(table: Any, args: argparse.Namespace) -> Any:
    """--best-run, --min-fraction, --final, --mean-over, --best-of, in this order."""
    if getattr(args, "best_run", None):
        table = table.best_run(over=args.best_run)
    if getattr(args, "min_fraction", None) is not None:
        table = table.min_fraction(args.min_fraction)
    if getattr(args, "final", False):
        table = table.final()
    if getattr(args, "mean_over", None):
        table = table.best_of(over=args.mean_over, rule="mean")
    if getattr(args, "best_of", None):
        table = table.best_of(over=args.best_of)
    return table


def table_summary(table: Any) -> dict[str, Any]:
    """What the curve options did, for --json: the final() rule, best_run, and excluded rows per code."""
    meta = table.meta
    ex = table.excluded
    by_code = ({str(k): int(v) for k, v in ex.groupby("code").size().items()} if "code" in ex.columns and len(ex)
               else {})
    final = meta.get("final")
    best_run = meta.get("best_run")
    return {"rows": len(table), "run_columns": list(meta.get("run_columns") or []) or None,
            "final_rule": final["rule"] if final else (best_run["final_rule"] if best_run else None),
            "best_run": {k: best_run[k] for k in ("over", "runs")} if best_run else None,
            "best_of": meta.get("best_of"), "excluded_by_code": by_code}


def rarest_first(excluded: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Excluded rows with the rarest codes first (a checkpoint past its plan before 300 earlier checkpoints)."""
    counts: dict[str, int] = {}
    for e in excluded:
        counts[e.get("code", "")] = counts.get(e.get("code", ""), 0) + 1
    return sorted(excluded, key=lambda e: counts[e.get("code", "")])


def table_notes(table: Any) -> list[str]:
    """One line per thing the reader should know about how the fitted rows were chosen."""
    s = table_summary(table)
    lines = []
    if s["excluded_by_code"]:
        lines.append("by code: " + ", ".join(f"{k} {v}" for k, v in sorted(s["excluded_by_code"].items())))
    if s["final_rule"]:
        lines.append(f"final checkpoint of each run: {cli_message(s['final_rule'])}")
    if s["best_run"]:
        lines.append(f"best run over {','.join(s['best_run']['over'])}: {s['best_run']['runs']} runs kept whole")
    return lines


# ----------------------------------------------------------------------------------------------------
# messages: Python keywords -> flags

_KW_FLAGS = {"on_invalid": "--on-invalid", "duplicates": "--duplicates", "id_columns": "--id-columns",
             "loss_unit": "--loss-unit", "log10": "--log10", "run": "--run-id", "metric": "--metric",
             "flops_per_token": "--flops-per-token", "format": "--format", "metadata": "--metadata",
             "by": "--run-id", "over": "--best-of", "fixed": "--fix"}
_VALUE = r"(\{[^{}]*\}|\[[^\[\]]*\]|\([^()]*\)|'[^']*'|\"[^\"]*\"|[\w.+-]+)"
_KW_RE = re.compile(r"(?<![\w.])(" + "|".join(_KW_FLAGS) + r")=" + _VALUE)


def _flag_value(text: str) -> str:
    """``"['a', 'b']"`` -> ``a,b``; ``"'x'"`` -> ``x``; ``"{'a': 'b'}"`` -> ``a=b``; ``[...]`` stays ``...``."""
    t = text.strip()
    if t[:1] in "[(" and t[-1:] in "])":
        inner = t[1:-1].strip()
        if inner in ("...", ""):
            return "COL,..."
        return ",".join(p.strip().strip("'\"") for p in inner.split(",") if p.strip())
    if t[:1] == "{" and t[-1:] == "}":
        pairs = []
        for part in t[1:-1].split(","):
            if ":" in part:
                k, v = part.split(":", 1)
                v = v.strip().strip("'\"")
                pairs.append(f"{k.strip().strip(chr(39) + chr(34))}={'' if v == 'None' else v}")
            elif part.strip():
                pairs.append(part.strip())
        return ",".join(pairs)
    return t.strip("'\"")


def cli_message(message: str) -> str:
    """A library message with its suggested Python keywords written as the command line's flags.

    >>> cli_message("pass on_invalid='exclude' to exclude them")
    'pass --on-invalid exclude to exclude them'
    >>> cli_message("map yours with columns={'run': 'your id'}")
    "map yours with --columns 'run=your id'"
    """

    def columns_sub(m: re.Match[str]) -> str:
        value = _flag_value(m.group(1))
        return f"--columns {value!r}" if " " in value else f"--columns {value}"

    out = message
    out = re.sub(r"(?<![\w.])best_of\(over=([^,)]*), rule='(?:mean|median)'\)",
                 lambda m: f"--mean-over {_flag_value(m.group(1))}", out)
    out = re.sub(r"(?<![\w.])best_of\(over=([^,)]*)(?:, rule='min')?\)",
                 lambda m: f"--best-of {_flag_value(m.group(1))}", out)
    out = re.sub(r"(?<![\w.])best_run\(over=([^)]*)\)", lambda m: f"--best-run {_flag_value(m.group(1))}", out)
    out = re.sub(r"(?<![\w.])min_fraction\(([\d.e+-]+)\)", r"--min-fraction \1", out)
    out = re.sub(r"(?<![\w.])final\(\)", "--final", out)
    out = re.sub(r"uncertainty=Bootstrap\(\.\.\.\)", "--bootstrap N", out)
    out = re.sub(r"(?<![\w.])check_units=False", "--no-check-units", out)

    def kw_sub(m: re.Match[str]) -> str:
        key, value = m.group(1), _flag_value(m.group(2))
        flag = _KW_FLAGS[key]
        if key == "over" and "best_run" in message:
            flag = "--best-run"
        if key == "fixed":
            return f"--fix {value}"
        return f"{flag} {value}"

    out = _KW_RE.sub(kw_sub, out)
    return re.sub(r"(?<![\w.-])columns=(\{[^{}]*\})", columns_sub, out)
