"""The demo job: load a small isoFLOP sweep, fit the Chinchilla law with intervals, plan compute, draw it.

``run_demo(out_dir)`` is what ``scaling demo`` runs. It uses the bundled **synthetic** sweep
``demo_runs.csv`` (72 runs, 8 budgets from 1e18 to 3e21 FLOPs, generated from Epoch AI's refit of the
Chinchilla law with 1 % log-normal noise; see ``scripts/make_demo_data.py``), so it needs no download
and its answer is known: the report compares the fitted parameters with the ones that generated the
data.

Steps: read the table (:func:`scaling.read_table`), fit ``L = E + A/N^alpha + B/D^beta`` with the
default objective and a bootstrap (:func:`scaling.fit`, :class:`scaling.estimation.uncertainty.Bootstrap`),
compute the compute-optimal allocation for a few budgets with intervals
(:func:`scaling.predict.compute_optimal`), and write a figure and the fit (JSON).
"""

from __future__ import annotations

import logging
import time
import warnings
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import DataError, format_message
from .laws.chinchilla import Chinchilla
from .predict.flops import SIX_ND

__all__ = ["run_demo", "DemoResult", "DEMO_TRUTH", "DEMO_BUDGETS", "load_demo_table", "generate_demo_runs"]

log = logging.getLogger("scaling")

#: The parameters that generated ``demo_runs.csv`` (Epoch AI's refit, Besiroglu et al. 2024).
DEMO_TRUTH: dict[str, float] = {"E": 1.8172, "A": 482.01, "B": 2085.43, "alpha": 0.3478, "beta": 0.3658}
#: Budgets (FLOPs) of the demo's compute-optimal plan.
#: budgets of the demo's plan: up to 10x the largest run (3e21 FLOPs), the extrapolation guard's limit
DEMO_BUDGETS: tuple[float, ...] = (1e20, 1e21, 1e22, 3e22)

_NOTE_SYNTHETIC = ("synthetic isoFLOP sweep generated from Epoch AI's refit of the Chinchilla law with 1 % "
                   "log-normal noise (scripts/make_demo_data.py)")


def generate_demo_runs(seed: int = 2024, noise: float = 0.01) -> pd.DataFrame:
    """The synthetic demo sweep: 8 budgets from 1e18 to 3e21 FLOPs (log-spaced), 9 model sizes per budget
    from 1/4x to 4x the budget's compute-optimal N, D = C/(6N), loss from :data:`DEMO_TRUTH` times
    log-normal noise of ``noise`` (1 %, about the seed-to-seed spread of real runs). Deterministic:
    ``scripts/make_demo_data.py`` writes it to ``data/demo_runs.csv``."""
    t = DEMO_TRUTH
    rng = np.random.default_rng(seed)
    law = Chinchilla()
    theta = np.array([[t[p] for p in law.param_names]])
    budgets = np.geomspace(1e18, 3e21, 8)
    n_opts = law.optimum(theta, budgets, SIX_ND).n_params[0]
    rows = []
    for k, (C, n_opt) in enumerate(zip(budgets, n_opts)):
        for j, N in enumerate(n_opt * np.geomspace(0.25, 4.0, 9)):
            N = float(f"{N:.3g}")
            D = C / (6 * N)
            L = float(law.predict(t, n_params=N, n_tokens=D)) * np.exp(rng.normal(0, noise))
            rows.append({"run": f"C{k}-N{j}", "budget": f"{C:.2g}", "n_params": N, "n_tokens": round(D),
                         "flops": C, "loss": round(float(L), 5)})
    return pd.DataFrame(rows)


def load_demo_table() -> Any:
    """The demo sweep as a :class:`~scaling.RunTable` (from the package; rebuilt if missing)."""
    from .data import read_table

    meta = {"note": _NOTE_SYNTHETIC}
    try:
        res = resources.files("scaling._published").joinpath("demo_runs.csv")
        if res.is_file():
            with resources.as_file(res) as path:
                return read_table(path, name="demo_runs (synthetic)", n_params_convention="total", meta=meta)
    except (ModuleNotFoundError, FileNotFoundError):  # pragma: no cover - broken installs only
        pass
    log.warning("demo: the packaged demo_runs.csv was not found; regenerating the same synthetic sweep in memory")
    return read_table(generate_demo_runs(), name="demo_runs (synthetic, regenerated)", n_params_convention="total",
                      meta=meta)


@dataclass(frozen=True, kw_only=True, eq=False)
class DemoResult:
    """What :func:`run_demo` produced.

    Attributes
    ----------
    table : RunTable
        The demo runs.
    fit : FitResult
        Chinchilla fit with bootstrap samples.
    allocation : Allocation
        Compute-optimal N, D, loss for :data:`DEMO_BUDGETS` with intervals.
    truth : dict
        The parameters that generated the data.
    files : tuple of Path
        Files written (figure PNG, fit JSON).
    warnings : tuple of str
        Warnings raised by the fit (also shown by the CLI).
    seconds : float
    """

    table: Any
    fit: Any
    allocation: Any
    truth: dict[str, float] = field(default_factory=dict)
    files: tuple[Path, ...] = ()
    warnings: tuple[str, ...] = ()
    seconds: float = 0.0

    def parameters(self, level: float = 0.95) -> pd.DataFrame:
        """Fitted parameters with intervals next to the true (generating) values."""
        ci = self.fit.ci(level)
        df = pd.DataFrame({"true": pd.Series(self.truth), "estimate": self.fit.params, "lower": ci["lower"],
                           "upper": ci["upper"]})
        df["covered"] = (df["lower"] <= df["true"]) & (df["true"] <= df["upper"])
        return df

    def report(self) -> list[str]:
        """A short printable report."""
        from .predict.result import format_number

        lines = [f"scaling demo: {self.table!r}", f"  ({_NOTE_SYNTHETIC})", ""]
        u = self.fit.uncertainty or {}
        lines.append(f"1. Fit: {self.fit.law.formula}, {self.fit.loss} objective (delta = {self.fit.delta:g}), "
                     f"{u.get('n', 0)} bootstrap resamples")
        par = self.parameters()
        lines.append(f"   {'param':<6} {'true':>9} {'fitted':>9}   95% interval")
        for name, r in par.iterrows():
            mark = "" if r["covered"] else "   (true value outside)"
            lines.append(f"   {name:<6} {r['true']:>9.4g} {r['estimate']:>9.4g}   [{r['lower']:.4g}, {r['upper']:.4g}]"
                         f"{mark}")
        lines.append("")
        al = self.allocation
        lines.append(f"2. Compute-optimal allocation (eq. 4 of Hoffmann et al. 2022; "
                     f"{100 * (al.level or 0):g}% intervals over the bootstrap):")
        f = al.to_frame()
        lines.append(f"   {'C (FLOPs)':>10}  {'N_opt (params)':>30}  {'D_opt (tokens)':>30}  {'D/N':>6}  loss")
        for _, r in f.iterrows():
            def iv(c: str, r: pd.Series = r) -> str:
                if f"{c}_lower" in f.columns:
                    return f"{format_number(r[c])} [{format_number(r[c + '_lower'])}, {format_number(r[c + '_upper'])}]"
                return format_number(r[c])
            lines.append(f"   {format_number(r['flops']):>10}  {iv('n_params'):>30}  {iv('n_tokens'):>30}  "
                         f"{r['tokens_per_param']:>6.2g}  {r['loss']:.3f}")
        lines.append("")
        lines.append("3. Files:")
        lines += [f"   {p}" for p in self.files]
        if self.warnings:
            lines += ["", "Warnings:"] + [f"   {w}" for w in self.warnings]
        lines += ["", f"Done in {self.seconds:.1f} s. Next: `scaling fit your_runs.csv --bootstrap 1000`, "
                      "`scaling reproduce chinchilla -o out/`."]
        return lines

    def to_dict(self) -> dict[str, Any]:
        par = self.parameters()
        return {
            "kind": "scaling.DemoResult",
            "n_runs": len(self.table),
            "law": self.fit.law.name,
            "parameters": {k: {"true": float(r["true"]), "estimate": float(r["estimate"]), "lower": float(r["lower"]),
                               "upper": float(r["upper"]), "covered": bool(r["covered"])} for k, r in par.iterrows()},
            "allocation": self.allocation.to_dict(),
            "files": [str(p) for p in self.files],
            "warnings": list(self.warnings),
            "seconds": round(self.seconds, 3),
        }


def run_demo(out_dir: str | Path = "scaling-demo", *, bootstrap: int = 200, rng: int = 0,
             budgets: tuple[float, ...] = DEMO_BUDGETS, progress: bool = False) -> DemoResult:
    """Run the demo job and write its files into ``out_dir``.

    Parameters
    ----------
    out_dir : str or Path, default ``"scaling-demo"``
        Folder for ``demo.png`` (isoFLOP curves, allocation with bands, fit diagnostics) and
        ``demo_fit.json`` (the fit, reloadable with ``FitResult.load`` or ``scaling plot``).
    bootstrap : int, default 200
        Bootstrap resamples (a few seconds).
    rng : int, default 0
        Seed of the bootstrap.
    budgets : tuple of float
        Budgets (FLOPs) of the compute-optimal plan.
    progress : bool
        Progress bar for the bootstrap.

    Returns
    -------
    DemoResult
    """
    if isinstance(bootstrap, bool) or not isinstance(bootstrap, (int, np.integer)) or bootstrap < 10:
        raise DataError(format_message("Option bootstrap", "of run_demo()", "an integer >= 10", repr(bootstrap)))
    from . import plot
    from .estimation import fit
    from .estimation.uncertainty import Bootstrap
    from .predict import compute_optimal

    t0 = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    table = load_demo_table()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = fit(table, "chinchilla", uncertainty=Bootstrap(n=int(bootstrap)), rng=rng, progress=progress)
        alloc = compute_optimal(res, np.asarray(budgets, dtype=float), level=0.8)
    fit_path = res.save(out / "demo_fit.json")

    fig, axs = plot.subplots(2, 2, figsize=(13, 9.5))
    budgets_data = np.unique(table.flops)
    plot.isoflop(res, budgets_data, data=table, ax=axs[0, 0], tolerance=0.01)
    axs[0, 0].set_title("isoFLOP curves of the fit, with the runs", fontsize="medium")
    plot.allocation(res, (1e18, 1e25), ax=axs[0, 1], level=0.8)
    axs[0, 1].scatter(alloc.flops, alloc.n_params, marker="D", s=40, color="k", zorder=6,
                      label="planned budgets (N_opt)")
    axs[0, 1].legend(fontsize="small", frameon=False, loc="upper left")
    axs[0, 1].set_title("Compute-optimal N and D, 80% bootstrap bands", fontsize="medium")
    plot.fit_vs_data(res, ax=axs[1, 0])
    plot.residuals(res, ax=axs[1, 1])
    fig.suptitle("scaling demo: Chinchilla fit to a synthetic isoFLOP sweep (72 runs)", fontsize="large")
    fig_paths = plot.save_figure(fig, out / "demo", ("png",))
    msgs = tuple(dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught))
    return DemoResult(table=table, fit=res, allocation=alloc, truth=dict(DEMO_TRUTH),
                      files=tuple(fig_paths) + (fit_path,), warnings=msgs, seconds=time.perf_counter() - t0)
