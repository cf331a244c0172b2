"""Tables of training runs: reading them (:func:`read_table`), the :class:`RunTable` itself, and the
operations on training curves.

* :mod:`scaling.data.table` — :class:`RunTable`, immutable and validated, with its ``excluded`` rows;
* :mod:`scaling.data.io` — :func:`read_table`: columns, parsing, validation, derivation, duplicates;
* :mod:`scaling.data.formats` — the file formats and in-memory sources read_table accepts;
* :mod:`scaling.data.logs` — training logs: TensorBoard, W&B and MLflow exports, folders of per-run CSVs;
* :mod:`scaling.data.curves` — final checkpoints, fractions of a run, best-of, smoothing;
* :mod:`scaling.data.validate` — column names, aliases, parsing of counts and value checks.
"""

from .excluded import EXCLUSION_CODES
from .io import CANONICAL_COLUMNS, COLUMN_ALIASES, OPTIONAL_COLUMNS, read_table
from .logs import read_csv_runs, read_mlflow, read_tensorboard, read_wandb
from .table import RunTable

__all__ = ["RunTable", "read_table", "read_tensorboard", "read_wandb", "read_mlflow", "read_csv_runs",
           "CANONICAL_COLUMNS", "OPTIONAL_COLUMNS", "COLUMN_ALIASES", "EXCLUSION_CODES"]
