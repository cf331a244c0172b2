"""Readers of training logs: TensorBoard event files, W&B CSV exports, MLflow metric files, and folders of
per-run CSVs (one column per evaluation, e.g. the OLMo ladder).

Each reader returns a plain :class:`pandas.DataFrame` of checkpoints, one row per ``(run, step)``, with
a ``run`` column, a ``step`` column and one column per metric (named as the log names it, e.g.
``eval/c4_en-validation/CrossEntropyLoss``), plus per-run columns where the format has them (MLflow
params). Pass it to :func:`scaling.read_table` with ``metric=`` (the loss column) and ``metadata=`` (a
per-run table with N, planned tokens, ...); ``read_table(path, format="tensorboard" | "wandb" | "mlflow")``
and ``read_table(folder_of_csvs)`` call these readers for you.

A step logged twice for one run and metric (a restarted run) keeps its last value, as TensorBoard and
MLflow show it; the readers say how many they superseded through the ``scaling`` logger.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError, format_message
from . import validate as V

__all__ = ["read_tensorboard", "read_wandb", "read_mlflow", "read_csv_runs", "LOG_FORMATS", "detect_log_format"]

log = logging.getLogger("scaling")

LOG_FORMATS = ("tensorboard", "wandb", "mlflow")
"""The ``format=`` values of :func:`scaling.read_table` that read a training log with these readers."""

_TB_PATTERN = "events.out.tfevents"


# ----------------------------------------------------------------------------------------------------
# shared


def _long_to_wide(long: pd.DataFrame, what: str, sort_key: str | None = None) -> pd.DataFrame:
    """(run, step, metric, value[, order]) records -> one row per (run, step), one column per metric."""
    if long.empty:
        return pd.DataFrame({"run": pd.Series([], dtype=object), "step": pd.Series([], dtype=np.int64)})
    if sort_key is not None:
        long = long.sort_values(sort_key, kind="stable")
    dup = long.duplicated(subset=["run", "step", "metric"], keep="last")
    if dup.any():
        log.info("%s: %d values logged again at a step already logged (restarted runs?): kept the last of each",
                 what, int(dup.sum()))
        long = long[~dup]
    wide = long.pivot(index=["run", "step"], columns="metric", values="value")
    wide.columns = pd.Index([str(c) for c in wide.columns], dtype=object)
    wide = wide.reset_index()
    wide["step"] = wide["step"].astype(np.int64)
    return wide.sort_values(["run", "step"], kind="stable").reset_index(drop=True)


def _select_tags(wide: pd.DataFrame, tags: Sequence[str] | None, what: str, label: str) -> pd.DataFrame:
    if tags is None:
        return wide
    tags = [tags] if isinstance(tags, str) else list(tags)
    have = [c for c in wide.columns if c not in ("run", "step")]
    missing = [t for t in tags if t not in have]
    if missing:
        raise DataError(format_message(f"{what} {missing}", f"of {label}", "logged", "not in the log",
                                       f"The log has {V.describe_columns(have)}."))
    out = wide[["run", "step", *tags]]
    return out[out[tags].notna().any(axis=1)].reset_index(drop=True)


def _run_name(root: Path, folder: Path) -> str:
    rel = folder.relative_to(root)
    return root.name if str(rel) == "." else rel.as_posix()


# ----------------------------------------------------------------------------------------------------
# TensorBoard


def _tensorboard() -> Any:
    try:
        from tensorboard.backend.event_processing import event_file_loader
        from tensorboard.util import tensor_util
    except ImportError as e:
        raise DataError(format_message("The optional dependency 'tensorboard'", "(needed to read event files)",
                                       "installed", "not installed",
                                       "pip install tensorboard (or pip install 'scaling[logs]').")) from e
    return event_file_loader, tensor_util


def read_tensorboard(path: str | os.PathLike[str], tags: str | Sequence[str] | None = None) -> pd.DataFrame:
    """Scalars of TensorBoard event files as a frame of checkpoints (needs ``tensorboard``: ``scaling[logs]``).

    Parameters
    ----------
    path : path
        An event file, a run folder, or a folder of run folders: every ``events.out.tfevents.*`` file below
        it is read, and its folder relative to ``path`` names the run (``path``'s own name for files
        directly in it).
    tags : str or sequence of str, optional
        The scalar tags to keep (default all), e.g. ``tags=["eval/loss"]``; rows without any of them go.

    Returns
    -------
    pandas.DataFrame
        ``run``, ``step`` (int) and one float column per tag. Both summary encodings are read: legacy
        ``simple_value`` scalars (PyTorch's and tensorboardX's writers) and scalar tensors (TensorBoard 2).
    """
    event_file_loader, tensor_util = _tensorboard()
    root = Path(path)
    if not root.exists():
        raise FileNotFoundError(f"read_tensorboard: no such file or folder: {str(root)!r}")
    if root.is_file():
        files, base = [root], root.parent
        base_name = root.parent.name
    else:
        files = sorted(p for p in root.rglob(f"{_TB_PATTERN}*") if p.is_file())
        base, base_name = root, None
    if not files:
        raise DataError(format_message("The folder", repr(str(root)), f"one with TensorBoard event files "
                                       f"({_TB_PATTERN}.*)", "none found", "Point to the log folder of a run "
                                       "or of a sweep."))
    records: list[tuple[str, int, str, float, float]] = []
    for f in files:
        run = base_name if base_name is not None else _run_name(base, f.parent)
        try:
            for event in event_file_loader.EventFileLoader(str(f)).Load():
                if not event.HasField("summary"):
                    continue
                for value in event.summary.value:
                    kind = value.WhichOneof("value")
                    if kind == "simple_value":
                        x = float(value.simple_value)
                    elif kind == "tensor":
                        arr = tensor_util.make_ndarray(value.tensor)
                        if arr.size != 1 or arr.dtype.kind not in "fiu":
                            continue  # images, histograms, text: not scalars
                        x = float(arr.reshape(()))
                    else:
                        continue
                    records.append((run, int(event.step), value.tag, x, float(event.wall_time)))
        except Exception as e:  # a truncated or foreign file: say which
            if isinstance(e, DataError):
                raise
            raise DataError(format_message("The event file", repr(str(f)), "readable by tensorboard",
                                           f"{type(e).__name__}: {e}")) from e
    long = pd.DataFrame.from_records(records, columns=["run", "step", "metric", "value", "wall_time"])
    wide = _long_to_wide(long, "read_tensorboard", sort_key="wall_time")
    return _select_tags(wide, tags, "Tags", str(root))


# ----------------------------------------------------------------------------------------------------
# Weights & Biases


_WANDB_CHART = re.compile(r"^(?P<run>.+) - (?P<metric>.+?)(?P<agg>__MIN|__MAX)?$")
_WANDB_STEP = ("_step", "Step", "step", "global_step", "trainer/global_step")


def read_wandb(path: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
               metrics: str | Sequence[str] | None = None) -> pd.DataFrame:
    """W&B CSV exports as a frame of checkpoints.

    Two layouts are read: a chart export (``Step, <run> - <metric>, <run> - <metric>__MIN, ...``: one
    column per run; the ``__MIN``/``__MAX`` columns of W&B's sampling are dropped), and a run-history
    export (``_step`` and one column per metric; the run is the ``name``/``run`` column when there is one,
    else the file's stem). ``path`` may be a file, a list of files, or a folder of ``*.csv`` files.
    """
    files = _csv_files(path, "read_wandb")
    frames = []
    for f in files:
        raw = pd.read_csv(f, low_memory=False)
        step_col = next((c for c in _WANDB_STEP if c in raw.columns), None)
        if step_col is None:
            raise DataError(format_message("The W&B export", repr(str(f)), f"one with a step column "
                                           f"({', '.join(_WANDB_STEP)})", f"columns {V.describe_columns(raw.columns)}",
                                           "Export the run history or a chart with its x-axis 'Step'."))
        chart = [c for c in raw.columns if c != step_col and _WANDB_CHART.match(str(c))]
        if chart and len(chart) == raw.shape[1] - 1:
            recs = []
            for c in chart:
                m = _WANDB_CHART.match(str(c))
                assert m is not None
                if m.group("agg"):
                    continue
                part = pd.DataFrame({"run": m.group("run"), "step": raw[step_col], "metric": m.group("metric"),
                                     "value": pd.to_numeric(raw[c], errors="coerce")})
                recs.append(part.dropna(subset=["value", "step"]))
            long = pd.concat(recs, ignore_index=True)
            frames.append(_long_to_wide(long, "read_wandb"))
        else:
            run_col = next((c for c in ("run", "name", "run_name", "run_id") if c in raw.columns), None)
            out = raw.rename(columns={step_col: "step"})
            if run_col is None:
                out.insert(0, "run", f.stem)
            elif run_col != "run":
                out = out.rename(columns={run_col: "run"})
            out = out[out["step"].notna()].copy()
            out["step"] = out["step"].astype(np.int64)
            frames.append(out[["run", "step", *[c for c in out.columns if c not in ("run", "step")]]])
    wide = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    return _select_tags(wide, metrics, "Metrics", str(path))


def _csv_files(path: Any, what: str) -> list[Path]:
    paths: Iterable[Any] = [path] if isinstance(path, (str, os.PathLike)) else path
    out: list[Path] = []
    for p in paths:
        p = Path(p)
        if not p.exists():
            raise FileNotFoundError(f"{what}: no such file or folder: {str(p)!r}")
        out += sorted(p.glob("*.csv")) if p.is_dir() else [p]
    if not out:
        raise DataError(format_message("The folder", repr(str(path)), "one with CSV files", "none found"))
    return out


def read_csv_runs(path: str | os.PathLike[str] | Sequence[str | os.PathLike[str]]) -> pd.DataFrame:
    """A folder (or list) of CSV files, one per run, as one frame with a ``run`` column (each file's stem).

    The OLMo ladder's format: ``_step`` and one column per evaluation (``eval/<set>/CrossEntropyLoss``,
    ...). The files' own columns are kept as they are (``_step`` is an alias of ``step``).
    """
    files = _csv_files(path, "read_csv_runs")
    frames = []
    for f in files:
        raw = pd.read_csv(f, low_memory=False)
        if "run" in raw.columns:
            raise DataError(format_message("The file", repr(str(f)), "without a 'run' column (the file's name "
                                           "names its run)", "a 'run' column",
                                           "Read it with read_table on its own."))
        raw.insert(0, "run", f.stem)
        frames.append(raw)
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


# ----------------------------------------------------------------------------------------------------
# MLflow


def read_mlflow(path: str | os.PathLike[str], metrics: str | Sequence[str] | None = None) -> pd.DataFrame:
    """MLflow's file store (``mlruns/<experiment>/<run>/metrics/<name>``) as a frame of checkpoints.

    ``path`` is an ``mlruns`` folder, an experiment folder or a run folder. Each metric file has one
    ``timestamp value step`` line per logged value (nested metric names such as ``eval/loss`` are
    sub-folders). A run is named by its ``tags/mlflow.runName`` (else its folder), and its ``params/*``
    become columns of its rows (as text; read_table parses numbers and counts).
    """
    root = Path(path)
    if not root.exists():
        raise FileNotFoundError(f"read_mlflow: no such folder: {str(root)!r}")
    run_dirs = sorted({p.parent for p in root.rglob("metrics") if p.is_dir()} |
                      ({root} if (root / "metrics").is_dir() else set()))
    if not run_dirs:
        raise DataError(format_message("The folder", repr(str(root)), "an MLflow store with runs "
                                       "(<run>/metrics/<name> files)", "no metrics folder found",
                                       "Point to mlruns/, an experiment folder or a run folder."))
    records: list[tuple[str, int, str, float, int]] = []
    params: dict[str, dict[str, str]] = {}
    for d in run_dirs:
        name_file = d / "tags" / "mlflow.runName"
        run = name_file.read_text(encoding="utf-8").strip() if name_file.is_file() else d.name
        if run in params:
            run = f"{run} ({d.name})"  # two runs with one name: tell them apart by their id
        params[run] = {p.relative_to(d / "params").as_posix(): p.read_text(encoding="utf-8").strip()
                       for p in sorted((d / "params").rglob("*")) if p.is_file()} if (d / "params").is_dir() else {}
        for mf in sorted(p for p in (d / "metrics").rglob("*") if p.is_file()):
            metric = mf.relative_to(d / "metrics").as_posix()
            for lineno, line in enumerate(mf.read_text(encoding="utf-8").splitlines(), start=1):
                if not line.strip():
                    continue
                parts = line.split()
                try:
                    ts, value = int(parts[0]), float(parts[1])
                    step = int(parts[2]) if len(parts) > 2 else 0
                except (ValueError, IndexError):
                    raise DataError(format_message("Line", f"{lineno} of {str(mf)!r}", "'timestamp value step'",
                                                   repr(line[:60]), "Is this an MLflow metric file?")) from None
                records.append((run, step, metric, value, ts))
    long = pd.DataFrame.from_records(records, columns=["run", "step", "metric", "value", "timestamp"])
    wide = _long_to_wide(long, "read_mlflow", sort_key="timestamp")
    wide = _select_tags(wide, metrics, "Metrics", str(root))
    keys = sorted({k for p in params.values() for k in p})
    clash = [k for k in keys if k in wide.columns]
    if clash:
        raise DataError(format_message(f"Params {clash}", f"of {str(root)!r}", "named unlike the metrics",
                                       "the same names", "Rename them in MLflow or read the metrics only."))
    for k in keys:
        wide[k] = wide["run"].map(lambda r, k=k: params.get(r, {}).get(k)).astype(object)
    return wide


# ----------------------------------------------------------------------------------------------------
# detection (read_table on a folder)


def detect_log_format(folder: Path) -> str:
    """``'tensorboard'``, ``'mlflow'`` or ``'csv_runs'`` for a folder given to read_table without ``format``."""
    if next(folder.rglob(f"{_TB_PATTERN}*"), None) is not None:
        return "tensorboard"
    if (folder / "metrics").is_dir() or any(p.is_dir() for p in folder.rglob("metrics")):
        return "mlflow"
    if next(folder.glob("*.csv"), None) is not None:
        return "csv_runs"
    raise DataError(format_message("The folder", repr(str(folder)), "a training log (TensorBoard event files, "
                                   "an MLflow store, or CSV files with one run each)", "none of these",
                                   "Pass a file, or format='tensorboard' / 'mlflow' / 'wandb'."))
