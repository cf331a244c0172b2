"""scaling — neural scaling laws: load runs, fit laws at the true optimum with honest uncertainty, plan compute."""

from __future__ import annotations

__version__ = "0.1.0"

from . import errors, units  # noqa: E402
from .table import RunTable, read_table  # noqa: E402
from .datasets import list_datasets, load_dataset  # noqa: E402
from .laws import Law, get_law, list_laws, register_law  # noqa: E402
from .fit import FitResult, fit  # noqa: E402
from .fit.approaches import approach1, approach2, fit_power_law  # noqa: E402
from .fit.backtest import backtest  # noqa: E402
from .fit.uncertainty import MCMC, Bootstrap, derived  # noqa: E402
from .predict import (Allocation, allocation_table, compute_optimal, data_constrained_optimal,  # noqa: E402
                      get_published, inference_optimal, list_published, predict_loss)

__all__ = ["__version__", "errors", "units", "RunTable", "read_table", "list_datasets", "load_dataset", "Law",
           "get_law", "list_laws", "register_law", "FitResult", "fit", "approach1", "approach2", "fit_power_law",
           "backtest", "Bootstrap", "MCMC", "derived", "Allocation", "compute_optimal", "data_constrained_optimal", "allocation_table",
           "inference_optimal", "predict_loss", "get_published", "list_published"]
