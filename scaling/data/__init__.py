"""Tables of training runs: reading them (:func:`read_table`), the :class:`RunTable` itself, and the
operations on training curves.

* :mod:`scaling.data.table` — :class:`RunTable`, immutable and validated, with its ``excluded`` rows;
* :mod:`scaling.data.io` — :func:`read_table`: columns, parsing, validation, derivation, duplicates;
* :mod:`scaling.data.formats` — the file formats and in-memory sources read_table accepts;
* :mod:`scaling.data.curves` — final checkpoints, fractions of a run, best-of, smoothing;
* :mod:`scaling.data.validate` — column names, aliases, parsing of counts and value checks.
"""

from .io import COLUMN_ALIASES, CANONICAL_COLUMNS, OPTIONAL_COLUMNS, read_table
from .table import RunTable

__all__ = ["RunTable", "read_table", "CANONICAL_COLUMNS", "OPTIONAL_COLUMNS", "COLUMN_ALIASES"]
