"""Prediction and planning: compute-optimal allocation, planning queries with intervals, FLOP models,
and the library of published scaling laws.

>>> from scaling.predict import compute_optimal
>>> a = compute_optimal("published:hoffmann2022-unrounded", flops=5.76e23)   # doctest: +SKIP
>>> print(a)                                                                  # doctest: +SKIP

Every function takes, as its first argument, a fit result (anything with ``.law``, ``.params``,
``.samples``), a ``(law, params)`` pair, ``"published:NAME"``, a :class:`PublishedLaw` or an
:class:`AllocationLaw`, and returns an immutable :class:`Allocation` (JSON via ``to_dict()``).
"""

from __future__ import annotations

from .allocate import chinchilla_constants, compute_optimal, data_constrained_optimal
from .allocation_law import AllocationLaw, PowerLaw
from .flops import (SIX_ND, ArchitectureFlops, CustomFlops, FlopsModel, LinearFlops, NonEmbeddingFlops,
                    as_flops_model, deepseek_6n1, deepseek_6n2, deepseek_flops_per_token, hoffmann_flops_per_token,
                    hoffmann_forward_flops, hoffmann_params, kaplan_forward_flops_per_token,
                    kaplan_nonembedding_params, nonembedding_params, pearce_song_nonembedding, pearce_song_total,
                    total_params)
from .planning import (GOPHER_FLOPS, HOFFMANN_TABLE3_SIZES, allocation_table, compute_for_loss, inference_optimal,
                       optimal_for_params, optimal_for_tokens, predict_loss)
from .published import (Citation, PublishedConventions, PublishedLaw, deepseek_hyperparameters, get_published,
                        kaplan_alpha_c_min, kaplan_critical_batch_ratio, kaplan_overfit_law, kaplan_overfit_threshold,
                        list_published, list_published_tables, published_checks, published_table)
from .result import Allocation
from . import checks as _checks  # noqa: F401  (registers each published law's checks)

__all__ = [
    "compute_optimal", "data_constrained_optimal", "chinchilla_constants", "Allocation",
    "predict_loss", "optimal_for_params", "optimal_for_tokens", "compute_for_loss", "allocation_table",
    "inference_optimal", "HOFFMANN_TABLE3_SIZES", "GOPHER_FLOPS",
    "FlopsModel", "LinearFlops", "NonEmbeddingFlops", "ArchitectureFlops", "CustomFlops", "SIX_ND", "as_flops_model",
    "hoffmann_forward_flops", "hoffmann_flops_per_token", "hoffmann_params", "deepseek_flops_per_token",
    "deepseek_6n1", "deepseek_6n2", "kaplan_nonembedding_params", "kaplan_forward_flops_per_token",
    "nonembedding_params", "total_params", "pearce_song_total", "pearce_song_nonembedding",
    "AllocationLaw", "PowerLaw", "PublishedLaw", "Citation", "PublishedConventions", "get_published", "list_published",
    "published_checks", "published_table", "list_published_tables", "kaplan_alpha_c_min", "kaplan_overfit_law",
    "kaplan_overfit_threshold", "kaplan_critical_batch_ratio", "deepseek_hyperparameters",
]
