"""scaling — neural scaling laws: load runs, fit laws at the true optimum with honest uncertainty, plan compute."""

from __future__ import annotations

__version__ = "0.1.0"

from . import errors, units  # noqa: E402
from .table import RunTable, read_table  # noqa: E402
from .datasets import list_datasets, load_dataset  # noqa: E402
from .laws import Law, get_law, list_laws, register_law  # noqa: E402
from .fit import FitResult, fit  # noqa: E402

__all__ = ["__version__", "errors", "units", "RunTable", "read_table", "list_datasets", "load_dataset", "Law",
           "get_law", "list_laws", "register_law", "FitResult", "fit"]
