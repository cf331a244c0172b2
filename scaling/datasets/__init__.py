"""Published scaling-law datasets: a checksum-verified registry with parsers.

>>> from scaling.datasets import list_datasets, load_dataset
>>> list_datasets()["name"].tolist()  # doctest: +NORMALIZE_WHITESPACE
['epoch_chinchilla', 'gadre_overtraining', 'porian_resolving', 'muennighoff_datablations', 'colpret_curves',
 'multipowerlaw_schedules']

``load_dataset(name, download=True, ...)`` returns a :class:`~scaling.RunTable`. Files are
read from the offline mirror ``$SCALING_DATA_DIR``, the user cache, or downloaded from the pinned
upstream commit; every file is verified against its sha256 (see :mod:`scaling.datasets.registry`).
The project never bundles the data, only the registry (URLs, commits, checksums, parsers).
"""

from __future__ import annotations

from .registry import (
    REGISTRY,
    DatasetSpec,
    RemoteFile,
    cache_dir,
    clear_verification_cache,
    data_dir,
    download_dataset,
    fetch_file,
    get_dataset,
    list_datasets,
    load_dataset,
)

__all__ = [
    "REGISTRY",
    "DatasetSpec",
    "RemoteFile",
    "cache_dir",
    "clear_verification_cache",
    "data_dir",
    "download_dataset",
    "fetch_file",
    "get_dataset",
    "list_datasets",
    "load_dataset",
]
