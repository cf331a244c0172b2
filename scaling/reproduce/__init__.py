"""Reproduce the published figures and numbers of the scaling-law papers.

``reproduce(name, out_dir)`` runs one reproduction: it writes its figures (PNG and PDF) and a report
(``report.md`` and ``report.json``) with each published number next to ours, the difference and a
pass/fail status against a stated tolerance, and returns the :class:`Report`.

=================  ============================================================================
name               what
=================  ============================================================================
``chinchilla``     Hoffmann et al. 2022 Approach 3 refitted on Epoch's data (Besiroglu et al.
                   2024) with a bootstrap: Figs. 3 and 4, parameter table, Table 3 allocations
``kaplan``         Kaplan et al. 2020 Figure 1 and L(N, D) (eq. 1.5) from the published constants
``porian``         Porian et al. 2024 Figure 1: the exponent chain 0.834 → 0.497 from their data
``gadre``          Gadre et al. 2024: the over-training fit and its two extrapolation errors
``datablations``   Muennighoff et al. 2023: the data-constrained law against epochs, with the runs
``llama3``         Llama 3 (2024) §3.2.1: the compute-optimal allocation from the published constants
``double-descent`` Hastie et al. 2019 / Caballero et al. 2022: test risk against p/n, theory,
                   simulation, a broken-power-law fit and the peak
``multipower``     Luo et al. 2025: the multi-power law fitted on 3 learning-rate schedules per
                   size, predicting 6 (published parameters and an exact refit)
=================  ============================================================================

The published datasets are read through :mod:`scaling.datasets` (offline with ``SCALING_DATA_DIR``).
"""

from __future__ import annotations

import importlib
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError, format_message
from ._report import Check, Report

__all__ = ["reproduce", "list_reproductions", "Report", "Check", "Options", "REPRODUCTIONS"]

log = logging.getLogger("scaling")

#: name -> (module, title)
REPRODUCTIONS: dict[str, tuple[str, str]] = {
    "chinchilla": ("chinchilla", "Chinchilla Approach 3 on Epoch's data (Hoffmann et al. 2022; Besiroglu et al. 2024)"),
    "kaplan": ("kaplan", "Kaplan et al. 2020: Figure 1 and L(N, D)"),
    "porian": ("porian", "Porian et al. 2024: from Kaplan's to Chinchilla's exponent"),
    "gadre": ("gadre", "Gadre et al. 2024: over-training and extrapolation"),
    "datablations": ("datablations", "Muennighoff et al. 2023: data-constrained scaling"),
    "llama3": ("llama3", "Llama 3 (Dubey et al. 2024): compute-optimal allocation"),
    "double-descent": ("double_descent", "Double descent of ridgeless least squares (Hastie et al. 2019)"),
    "sensitivity": ("sensitivity", "Sensitivity to fitting choices on Epoch's and Gadre's data (Li et al. 2025)"),
    "olmo-ladder": ("olmo_ladder", "Bhagia et al. 2024: task scaling laws on the OLMo ladder"),
    "observational": ("observational", "Ruan et al. 2024: observational scaling laws"),
    "multipower": ("multipower", "Luo et al. 2025: the multi-power law across learning-rate schedules"),
}


@dataclass(frozen=True, kw_only=True)
class Options:
    """Settings shared by the reproductions (each uses the ones it needs).

    Attributes
    ----------
    bootstrap : int or None
        Bootstrap resamples (``chinchilla``; default 200 there, Epoch used 4000).
    n_reps : int or None
        Monte-Carlo repetitions per grid point (``double-descent``; default 200).
    rng : int
        Seed of every random step.
    formats : tuple of str
        Figure formats (the first should be ``"png"``).
    progress : bool
        Show a progress bar for long steps (the bootstrap).
    """

    bootstrap: int | None = None
    n_reps: int | None = None
    rng: int = 0
    formats: tuple[str, ...] = ("png", "pdf")
    progress: bool = False


def list_reproductions() -> pd.DataFrame:
    """The available reproductions: ``name``, ``title``."""
    return pd.DataFrame([{"name": k, "title": v[1]} for k, v in REPRODUCTIONS.items()])


def _check_int(name: str, value: Any, minimum: int) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise DataError(format_message(f"Option {name}", "of reproduce()", f"an integer >= {minimum} or None",
                                       repr(value)))
    return int(value)


def reproduce(name: str, out_dir: str | Path, *, bootstrap: int | None = None, n_reps: int | None = None,
              rng: int = 0, formats: tuple[str, ...] = ("png", "pdf"), progress: bool = False) -> Report:
    """Run the reproduction ``name`` and write its figures and report into ``out_dir``.

    Parameters
    ----------
    name : str
        One of :data:`REPRODUCTIONS` (see :func:`list_reproductions`).
    out_dir : str or Path
        Output folder (created).
    bootstrap : int, optional
        Bootstrap resamples for ``chinchilla`` (default 200; more is slower and steadier).
    n_reps : int, optional
        Repetitions per grid point for ``double-descent`` (default 200).
    rng : int, default 0
        Seed.
    formats : tuple of str, default ("png", "pdf")
        Figure formats ("png", "pdf", "svg").
    progress : bool, default False
        Progress bar for the bootstrap.

    Returns
    -------
    Report
        With ``files`` = (report.md, report.json) and ``figures`` the figure files.

    Raises
    ------
    DataError
        Unknown name or option; a dataset that is not available (:class:`~scaling.errors.DatasetError`).
    """
    if name not in REPRODUCTIONS:
        raise DataError(format_message("Reproduction", "", f"one of {list(REPRODUCTIONS)}", repr(name),
                                       "List them with `scaling reproduce --list`."))
    if isinstance(rng, bool) or not isinstance(rng, (int, np.integer)):
        raise DataError(format_message("Option rng", "of reproduce()", "an integer seed", repr(rng)))
    fmts = tuple(str(f).lower().lstrip(".") for f in formats)
    bad = [f for f in fmts if f not in ("png", "pdf", "svg")]
    if bad or not fmts:
        raise DataError(format_message("Option formats", "of reproduce()", "a non-empty subset of png, pdf, svg",
                                       repr(formats)))
    opts = Options(bootstrap=_check_int("bootstrap", bootstrap, 10), n_reps=_check_int("n_reps", n_reps, 2),
                   rng=int(rng), formats=fmts, progress=bool(progress))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    module = importlib.import_module(f"{__name__}.{REPRODUCTIONS[name][0]}")
    t0 = time.perf_counter()
    log.info("reproduce %s -> %s", name, out)
    report: Report = module.run(out, opts)
    report = Report(name=name, title=report.title, papers=report.papers, checks=report.checks,
                    tables=report.tables, figures=report.figures, notes=report.notes,
                    settings=dict(report.settings), seconds=time.perf_counter() - t0)
    return report.write(out)
