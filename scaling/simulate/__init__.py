"""Why bigger models win, on a laptop: tiny neural networks trained on a CPU in minutes.

``run_simulation(name, out_dir)`` trains a sweep of small numpy MLPs (:mod:`scaling.simulate.engine`),
writes its figure (PNG and PDF), ``report.json`` (settings, findings, the qualitative checks) and its
tables as CSV, and returns an immutable :class:`SimulationResult`. The main table of each experiment is
RunTable-compatible (``n_params``, ``n_tokens`` = samples seen, ``loss``, plus per-task or per-run
columns), so ``result.run_table()`` (``sc.read_table(result.table(), check_units=False)``: tiny networks,
not language-model runs) and every fitter of the toolkit apply.

=======================  ======================================================================
name                     what
=======================  ======================================================================
``rare-tasks``           multitask sparse parity with Zipf task frequencies (Michaud et al. 2023):
                         subtasks emerge with width, the mean loss against parameters is a power
                         law whose exponent is compared with the quantization model's, and
                         gradient interference between frequent and rare subtasks falls with width
``grokking``             modular addition with an MLP and AdamW (Power et al. 2022; Liu et al.
                         2022): train accuracy saturates long before test accuracy jumps; the delay
                         against weight decay and training fraction
``deep-double-descent``  MLPs of growing width on a noisy classification set (Nakkiran et al.
                         2019): the test-error peak at the interpolation threshold (parameters ~
                         samples x classes), epoch-wise, and its growth with label noise
=======================  ======================================================================

Each default finishes in about two minutes on two cores; ``quick=True`` is a reduced size for tests.
"""

from __future__ import annotations

import importlib
import time
from pathlib import Path
from typing import Any

from ..errors import DataError, format_message
from ._common import SimulationResult, jsonable

__all__ = ["run_simulation", "SimulationResult", "SIMULATIONS"]

#: name -> (module, title)
SIMULATIONS: dict[str, tuple[str, str]] = {
    "rare-tasks": ("rare_tasks", "Rare tasks: multitask sparse parity, the quantization model, interference"),
    "grokking": ("grokking", "Grokking: modular addition with weight decay"),
    "deep-double-descent": ("deep_double_descent", "Deep double descent: MLP width, epochs and label noise"),
}


def run_simulation(name: str, out_dir: str | Path, quick: bool = False, rng: int = 0, *, progress: bool = False,
                   n_jobs: int = 1, formats: tuple[str, ...] = ("png", "pdf"), config: Any = None) -> SimulationResult:
    """Run one experiment, write its figure, ``report.json`` and CSV tables into ``out_dir``.

    Parameters
    ----------
    name : {"rare-tasks", "grokking", "deep-double-descent"}
    out_dir : path
        Output folder (created).
    quick : bool, default False
        Reduced size (seconds; used by the tests). The default size takes about two minutes on two cores.
    rng : int, default 0
        Seed: the one source of randomness (data, initialisation, minibatches); same seed, same result.
    progress : bool, default False
        tqdm progress bars on stderr.
    n_jobs : int, default 1
        Worker processes for independent training runs (joblib); the results do not depend on it.
    formats : tuple of str
        Figure formats.
    config : optional
        The experiment's settings, replacing the default/quick ones: an instance of its module's
        ``Config`` dataclass, e.g. ``scaling.simulate.grokking.Config(p=113, max_steps=10000)`` (larger
        sizes) or ``dataclasses.replace(Config.quick(), ...)``.
    """
    if name not in SIMULATIONS:
        raise DataError(format_message("Simulation", "", "one of " + ", ".join(SIMULATIONS), repr(name),
                                       "Run `scaling simulate --list` to see them."))
    if isinstance(rng, bool) or not isinstance(rng, int) or rng < 0:
        raise DataError(format_message("Argument 'rng'", f"of run_simulation('{name}')", "a non-negative integer seed",
                                       repr(rng), "Pass e.g. rng=0 (CLI: --seed 0)."))
    module = importlib.import_module(f".{SIMULATIONS[name][0]}", __name__)
    if config is not None and not isinstance(config, module.Config):
        raise DataError(format_message("Argument 'config'", f"of run_simulation('{name}')",
                                       f"an instance of scaling.simulate.{SIMULATIONS[name][0]}.Config",
                                       type(config).__name__, f"Build it with scaling.simulate.{SIMULATIONS[name][0]}"
                                       ".Config(...) or dataclasses.replace(Config.quick(), ...)."))
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs < 1:
        raise DataError(format_message("Argument 'n_jobs'", f"of run_simulation('{name}')", "an integer >= 1",
                                       repr(n_jobs), "Pass n_jobs=1 (CLI: --jobs 1) or the number of cores."))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    tables, report, figures = module.run(out, quick=quick, rng=rng, progress=progress, formats=tuple(formats),
                                          n_jobs=int(n_jobs), config=config)
    report = dict(report, name=name, title=module.TITLE, quick=quick, seed=rng,
                  seconds=round(time.perf_counter() - t0, 2))
    files = list(figures)
    for key, df in tables.items():
        p = out / (key.replace(" ", "_").replace("-", "_") + ".csv")
        df.to_csv(p, index=False)
        files.append(p)
    report["tables"] = {key: (key.replace(" ", "_").replace("-", "_") + ".csv") for key in tables}
    import json

    rp = out / "report.json"
    rp.write_text(json.dumps(jsonable(report), indent=1, allow_nan=False) + "\n")
    files.append(rp)
    return SimulationResult(name=name, title=module.TITLE, _tables=tables, report=report,
                            figures=tuple(figures), files=tuple(files))
