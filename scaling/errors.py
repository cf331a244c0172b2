"""Exceptions and warnings of the ``scaling`` package.

One hierarchy, so users can catch or filter everything in one place:

* :class:`ScalingError` — base of every exception raised on purpose by this package.
* :class:`DataError` (also a :class:`ValueError`) — bad input: a missing column, a non-numeric,
  non-finite or non-positive value, conflicting duplicates, an empty table, an unknown option value.
* :class:`DatasetError` (a :class:`DataError`) — a dataset file could not be found, downloaded or
  verified (checksum mismatch: the message says "sha256").
* :class:`FitError` (also a :class:`RuntimeError`) — an optimisation failed; carries ``.starts``
  with the best attempt so the caller can still inspect it.

Warnings all derive from :class:`ScalingWarning` (a :class:`UserWarning`); each category is
documented in ``docs/warnings.md`` with its cause and fix.

Messages follow one template (see :func:`format_message`)::

    {what} {where} must be {constraint}; got {value}. {hint}
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = [
    "ScalingError",
    "DataError",
    "DatasetError",
    "FitError",
    "ScalingWarning",
    "ConvergenceWarning",
    "IdentifiabilityWarning",
    "BoundaryWarning",
    "ExtrapolationWarning",
    "NonMonotoneWarning",
    "InconsistencyWarning",
    "UnitsWarning",
    "FlopsRuleWarning",
    "UncertaintyWarning",
    "DisagreementWarning",
    "SensitivityWarning",
    "EngineWarning",
    "ForecastHorizonWarning",
    "ScheduleAssumptionWarning",
    "format_message",
    "format_rows",
]


class ScalingError(Exception):
    """Base class of every exception raised on purpose by ``scaling``."""


class DataError(ScalingError, ValueError):
    """Input data or an option value is invalid. The message names what, where, the value and a fix."""


class DatasetError(DataError):
    """A registered dataset file is unavailable or failed verification (sha256)."""


class FitError(ScalingError, RuntimeError):
    """An optimisation failed. ``starts`` holds every start's end point (a DataFrame) when known."""

    def __init__(self, message: str, *, starts: Any = None) -> None:
        super().__init__(message)
        self.starts = starts


class ScalingWarning(UserWarning):
    """Base class of every warning emitted by ``scaling``."""


class ConvergenceWarning(ScalingWarning):
    """The optimiser stopped before its convergence criteria held, or starts disagree."""


class IdentifiabilityWarning(ScalingWarning):
    """The data cannot pin down some parameters (too few distinct N or D, singular Hessian, ...)."""


class BoundaryWarning(ScalingWarning):
    """The optimum lies on a parameter bound or on the edge of the start grid."""


class ExtrapolationWarning(ScalingWarning):
    """A prediction is requested far outside the range of the fitted data."""


class NonMonotoneWarning(ScalingWarning):
    """A monotone law was fitted to a curve that is clearly not monotone (double descent?)."""


class InconsistencyWarning(ScalingWarning):
    """Published constants are internally inconsistent (e.g. rounded values that do not agree)."""


class UnitsWarning(ScalingWarning):
    """A column looks like it is in another unit than the one read (a perplexity read as nats, ...)."""


class FlopsRuleWarning(UnitsWarning):
    """Given FLOPs disagree with ``k·N·D`` by more than 2× (another FLOPs rule, or a unit such as PF-days)."""


class UncertaintyWarning(ScalingWarning):
    """An interval may mislead: a cluster bootstrap with few clusters, an interval of zero width."""


class DisagreementWarning(ScalingWarning):
    """Two estimates of the same quantity (e.g. by different methods) disagree beyond their intervals."""
class SensitivityWarning(ScalingWarning):
    """A conclusion moves more across reasonable fitting choices (form, objective, subset) than its
    bootstrap interval: the interval understates the uncertainty (``scaling.sensitivity``)."""


class EngineWarning(ScalingWarning):
    """The compiled engine could not be used (numba installed but not importable, or its compilation
    failed): the fit ran on the numpy engine instead, to the same optimum, slower."""


class ForecastHorizonWarning(ExtrapolationWarning):
    """A forecast is requested more than 5x beyond the observed span of the curve."""


class ScheduleAssumptionWarning(ScalingWarning):
    """A forecast was made without the run's learning-rate schedule: it assumes no decay ahead."""


def format_rows(rows: Sequence[int], limit: int = 8) -> str:
    """Render row numbers for a message: ``'rows 4, 9, 17'`` or ``'rows 1, 2, ... (12 rows)'``."""
    rows = [int(r) for r in rows]
    if len(rows) == 1:
        return f"row {rows[0]}"
    shown = ", ".join(str(r) for r in rows[:limit])
    if len(rows) > limit:
        return f"rows {shown}, ... ({len(rows)} rows)"
    return f"rows {shown}"


def format_message(what: str, where: str, constraint: str, value: Any, hint: str = "") -> str:
    """The package's error template: ``"{what} {where} must be {constraint}; got {value}. {hint}"``.

    >>> format_message("Column 'n_tokens'", "of runs.csv", "> 0", "0 in rows 4, 9", "Drop them.")
    "Column 'n_tokens' of runs.csv must be > 0; got 0 in rows 4, 9. Drop them."
    """
    where = f" {where}" if where else ""
    msg = f"{what}{where} must be {constraint}; got {value}."
    return f"{msg} {hint}".strip() if hint else msg
