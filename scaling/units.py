"""Units and conventions: FLOPs per parameter-token, loss units, count strings.

Conventions used everywhere in ``scaling``:

* ``n_params`` (N): parameters; whether embeddings are counted is recorded per table/dataset.
* ``n_tokens`` (D): training tokens seen.
* ``flops`` (C): training FLOPs, ``C = k·N·D`` with ``k = FLOPS_PER_PARAM_TOKEN = 6`` by default
  (2 forward + 4 backward FLOPs per parameter and token; Kaplan et al. 2020 §2.1).
* ``loss``: cross-entropy in **nats per token**. Bits and perplexity are converted only when the
  caller says so (``loss_unit=...``); units are never guessed.
"""

from __future__ import annotations

import math
import re
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .errors import DataError, format_message

__all__ = [
    "FLOPS_PER_PARAM_TOKEN",
    "PF_DAY",
    "LossUnit",
    "parse_count",
    "format_count",
    "to_nats",
    "from_nats",
    "flops",
]

FLOPS_PER_PARAM_TOKEN: float = 6.0
"""Training FLOPs per parameter per token (C = 6·N·D)."""

PF_DAY: float = 1e15 * 86400.0
"""One petaFLOP/s-day in FLOPs (8.64e19), Kaplan et al. 2020's compute unit."""

LossUnit = Literal["nats", "bits", "perplexity"]

_SUFFIX = {"": 1.0, "k": 1e3, "K": 1e3, "m": 1e6, "M": 1e6, "b": 1e9, "B": 1e9, "g": 1e9, "G": 1e9,
           "t": 1e12, "T": 1e12, "p": 1e15, "P": 1e15}
_COUNT_RE = re.compile(r"^\s*([-+]?(?:\d+(?:[.,_]\d+)*\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([kKmMbBgGtTpP]?)\s*$")


def parse_count(value: object) -> float:
    """Parse a count such as ``70M``, ``1.4B``, ``2T``, ``1.2e9``, ``12,000`` or a number into a float.

    Integers of any size are accepted (Python ints above 2**63 are converted to float, never
    wrapped). Raises :class:`~scaling.errors.DataError` for anything else.

    >>> parse_count("70M"), parse_count("1.4B"), parse_count("2T"), parse_count("1.2e9")
    (70000000.0, 1400000000.0, 2000000000000.0, 1200000000.0)
    """
    if isinstance(value, bool):
        raise DataError(format_message("A count", "", "a number such as 70M, 1.4B or 1.2e9", repr(value)))
    if isinstance(value, (int, np.integer)):
        return float(int(value))
    if isinstance(value, (float, np.floating)):
        return float(value)
    if isinstance(value, str):
        m = _COUNT_RE.match(value)
        if m:
            number, suffix = m.groups()
            if "," in number or "_" in number:
                # thousands separators only: "12,000" / "1_000_000"
                if not re.fullmatch(r"[-+]?\d{1,3}([,_]\d{3})+(\.\d*)?", number):
                    m = None
                number = number.replace(",", "").replace("_", "")
            if m:
                return float(number) * _SUFFIX[suffix]
    raise DataError(
        format_message("A count", "", "a number such as 70M, 1.4B, 2T or 1.2e9", repr(value),
                       "Write counts as plain numbers or with a k/M/B/T suffix.")
    )


def format_count(x: float, digits: int = 3) -> str:
    """Format a count with a suffix: ``format_count(7.02e9) == '7.02B'``."""
    if not math.isfinite(x):
        return str(x)
    for suffix, scale in (("P", 1e15), ("T", 1e12), ("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(x) >= scale:
            return f"{x / scale:.{digits}g}{suffix}"
    return f"{x:.{digits}g}"


def to_nats(loss: ArrayLike, unit: LossUnit) -> NDArray[np.float64]:
    """Convert a loss given in ``unit`` to nats per token.

    ``bits`` → multiply by ln 2; ``perplexity`` → natural log; ``nats`` unchanged.
    """
    arr = np.asarray(loss, dtype=float)
    if unit == "nats":
        return arr.copy()
    if unit == "bits":
        return arr * math.log(2.0)
    if unit == "perplexity":
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(arr)
    raise DataError(format_message("Option loss_unit", "", "one of 'nats', 'bits', 'perplexity'", repr(unit),
                                   "Say which unit the loss column is in."))


def from_nats(loss: ArrayLike, unit: LossUnit) -> NDArray[np.float64]:
    """Inverse of :func:`to_nats`."""
    arr = np.asarray(loss, dtype=float)
    if unit == "nats":
        return arr.copy()
    if unit == "bits":
        return arr / math.log(2.0)
    if unit == "perplexity":
        return np.exp(arr)
    raise DataError(format_message("Option loss_unit", "", "one of 'nats', 'bits', 'perplexity'", repr(unit)))


def flops(n_params: ArrayLike, n_tokens: ArrayLike, flops_per_param_token: float = FLOPS_PER_PARAM_TOKEN
          ) -> NDArray[np.float64]:
    """Training compute ``C = k·N·D`` in float64 (never integer arithmetic, which overflows)."""
    return flops_per_param_token * np.asarray(n_params, dtype=float) * np.asarray(n_tokens, dtype=float)
