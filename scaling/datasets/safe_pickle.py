"""A restricted unpickler for the pandas pickles published with some scaling-law papers.

Unpickling runs code: a pickle names callables (``module.name`` "globals") and the standard
:class:`pickle.Unpickler` imports and calls whatever it is told, e.g. ``os.system``. The pickles of
Porian et al. 2024 (``formll/resolving-scaling-law-discrepancies``, ``data/summary_df*.pickle.xz``)
are pandas DataFrames with nested DataFrames and Series; rebuilding them needs only the few
pandas/numpy reconstruction callables listed in :data:`ALLOWED_GLOBALS` (found empirically by
recording every global those four files request). :class:`RestrictedUnpickler` resolves those and
refuses every other global with :class:`UnsafePickleError` *before* importing or calling anything.

The files were written by pandas 1.x / numpy 1.x, which name ``numpy.core.*``; numpy 2 moved these
to ``numpy._core.*``. The old names are mapped to the new ones (see :data:`_ALIASES`), and only to
allowed targets, so the same files load on numpy 1.26 and 2.x without deprecation warnings.

Only persistent IDs and out-of-band buffers are not supported (they are not used by these files,
and the standard unpickler refuses them without explicit hooks anyway).
"""

from __future__ import annotations

import bz2
import gzip
import importlib
import io
import lzma
import pickle
from pathlib import Path
from typing import Any, Literal

from ..errors import DatasetError

__all__ = ["ALLOWED_GLOBALS", "UnsafePickleError", "RestrictedUnpickler", "safe_loads", "safe_load"]

#: Every ``(module, name)`` global a restricted load may resolve: exactly the reconstruction
#: callables the Porian et al. pickles need (pandas DataFrame/Series/Index/RangeIndex, their block
#: managers, numpy arrays, dtypes and scalars, and ``slice`` for block placements).
ALLOWED_GLOBALS: frozenset[tuple[str, str]] = frozenset({
    ("pandas.core.frame", "DataFrame"),
    ("pandas.core.series", "Series"),
    ("pandas.core.internals.managers", "BlockManager"),
    ("pandas.core.internals.managers", "SingleBlockManager"),
    ("pandas._libs.internals", "_unpickle_block"),
    ("pandas.core.indexes.base", "_new_Index"),
    ("pandas.core.indexes.base", "Index"),
    ("pandas.core.indexes.range", "RangeIndex"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy._core.numeric", "_frombuffer"),
    ("builtins", "slice"),
})

#: Old module paths written by numpy 1.x, mapped to their numpy 2 home (targets must be allowed).
_ALIASES: dict[tuple[str, str], tuple[str, str]] = {
    ("numpy.core.multiarray", "_reconstruct"): ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"): ("numpy._core.multiarray", "scalar"),
    ("numpy.core.numeric", "_frombuffer"): ("numpy._core.numeric", "_frombuffer"),
}

# numpy 1.x has no ``numpy._core``: fall back to the old path there.
_FALLBACK: dict[str, str] = {"numpy._core.multiarray": "numpy.core.multiarray",
                             "numpy._core.numeric": "numpy.core.numeric"}


class UnsafePickleError(DatasetError, pickle.UnpicklingError):
    """A pickle asked for a global outside :data:`ALLOWED_GLOBALS` (or could not be read).

    It is both a :class:`~scaling.errors.DatasetError` (hence a ``DataError``/``ValueError``) and a
    :class:`pickle.UnpicklingError`, so either kind of handler catches it.
    """


class RestrictedUnpickler(pickle.Unpickler):
    """:class:`pickle.Unpickler` whose ``find_class`` resolves only :data:`ALLOWED_GLOBALS`.

    Parameters
    ----------
    file
        A binary file object positioned at the start of the pickle.
    source
        Name of the file, used in error messages.
    """

    def __init__(self, file: io.BufferedIOBase | io.BytesIO, *, source: str = "<bytes>") -> None:
        super().__init__(file)
        self._source = source

    def find_class(self, module: str, name: str) -> Any:  # noqa: D102 - documented in the class
        key = _ALIASES.get((module, name), (module, name))
        if key not in ALLOWED_GLOBALS:
            raise UnsafePickleError(
                f"Global {module}.{name} in pickle {self._source} must be one of the allowed "
                f"pandas/numpy reconstruction callables; got a refused global '{module}.{name}'. "
                "Nothing was executed. Only load pickles from the registry's verified files; "
                "scaling.datasets.safe_pickle.ALLOWED_GLOBALS lists what is accepted."
            )
        mod_name, attr = key
        try:
            module_obj = importlib.import_module(mod_name)
        except ImportError:
            module_obj = importlib.import_module(_FALLBACK[mod_name])
        return getattr(module_obj, attr)

    def persistent_load(self, pid: Any) -> Any:  # noqa: D102
        raise UnsafePickleError(
            f"Persistent id in pickle {self._source} must be absent; got {pid!r}. "
            "The registry's pickles never use persistent ids."
        )


def safe_loads(data: bytes, *, source: str = "<bytes>") -> Any:
    """Unpickle ``data`` with :class:`RestrictedUnpickler`.

    Raises
    ------
    UnsafePickleError
        If the pickle requests a refused global (nothing is executed), or is not a valid pickle.
    """
    try:
        return RestrictedUnpickler(io.BytesIO(data), source=source).load()
    except UnsafePickleError:
        raise
    except Exception as exc:  # corrupted/truncated input: re-raise in our own terms
        raise UnsafePickleError(
            f"Pickle {source} must be a valid pickle of pandas/numpy objects; got "
            f"{type(exc).__name__}: {exc}. Re-download the file (its sha256 is checked)."
        ) from exc


def safe_load(path: str | Path, *, compression: Literal["infer", "xz", "gzip", "bz2", None] = "infer") -> Any:
    """Read a (possibly compressed) pickle file with :class:`RestrictedUnpickler`.

    Parameters
    ----------
    path
        File to read.
    compression
        ``"infer"`` (from the suffix ``.xz``, ``.gz``, ``.bz2``), ``"xz"``, ``"gzip"``, ``"bz2"``
        or ``None``.
    """
    path = Path(path)
    raw = path.read_bytes()
    if compression == "infer":
        compression = {".xz": "xz", ".gz": "gzip", ".bz2": "bz2"}.get(path.suffix)  # type: ignore[assignment]
    try:
        if compression == "xz":
            raw = lzma.decompress(raw)
        elif compression == "gzip":
            raw = gzip.decompress(raw)
        elif compression == "bz2":
            raw = bz2.decompress(raw)
        elif compression is not None:
            raise DatasetError(f"Option compression must be one of 'infer', 'xz', 'gzip', 'bz2', None; "
                               f"got {compression!r}.")
    except (lzma.LZMAError, OSError, EOFError) as exc:
        raise UnsafePickleError(
            f"Compressed pickle {path} must decompress as {compression}; got {type(exc).__name__}: {exc}. "
            "Re-download the file (its sha256 is checked)."
        ) from exc
    return safe_loads(raw, source=str(path))
