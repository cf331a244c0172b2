"""scaling — neural scaling laws: load runs, fit laws at the true optimum with honest uncertainty, plan compute."""

import importlib as _importlib
from typing import Any as _Any

from . import errors, units
from ._version import __version__
from .datasets import list_datasets, load_dataset
from .estimation import FitResult, fit
from .estimation.approaches import approach1, approach2, fit_power_law
from .estimation.backtest import backtest
from .estimation.compare import compare
from .estimation.posthoc import bootstrap
from .estimation.uncertainty import MCMC, Bootstrap, Profile, derived
from .estimation.many import FitCollection, fit_many
from .estimation.planning_runs import RunPlan, plan_runs
from .estimation.sensitivity import Sensitivity, sensitivity
from .laws import Law, get_law, list_laws, register_law
from .predict import (Allocation, allocation_table, compute_optimal, data_constrained_optimal, get_published,
                      inference_optimal, list_published, predict_loss)
from .data import RunTable, read_csv_runs, read_mlflow, read_table, read_tensorboard, read_wandb
from .tasks import fit_sigmoid, predict_accuracy, task_law
from .schedules import Schedule
from .forecast import Forecast, forecast  # noqa: E402  (the function shadows the submodule, as sc.fit does)

#: submodules reached as attributes on first use (``sc.plot`` imports matplotlib only then)
_LAZY = ("plot", "reproduce", "doubledescent", "demo", "cli")

__all__ = ["__version__", "errors", "units", "RunTable", "read_table", "read_tensorboard", "read_wandb",
           "read_mlflow", "read_csv_runs", "list_datasets", "load_dataset", "Law",
           "get_law", "list_laws", "register_law", "FitResult", "fit", "approach1", "approach2", "fit_power_law",
           "backtest", "compare", "Bootstrap", "bootstrap", "MCMC", "Profile", "derived", "Allocation",
           "compute_optimal", "data_constrained_optimal",
           "allocation_table", "inference_optimal", "predict_loss", "get_published", "list_published",
           "task_law", "predict_accuracy", "fit_sigmoid", *_LAZY]
__all__ += ["fit_many", "FitCollection", "sensitivity", "Sensitivity", "plan_runs", "RunPlan"]
__all__ += ["Schedule", "forecast", "Forecast"]


def __getattr__(name: str) -> _Any:
    if name in _LAZY:
        return _importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'scaling' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
