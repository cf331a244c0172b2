"""The conventions a table of runs was recorded in, as a typed value that travels with the data.

A :class:`~scaling.RunTable` carries its :class:`Conventions`; :func:`scaling.fit` copies them onto the
:class:`~scaling.FitResult`; the planner (:func:`scaling.compute_optimal`) and the CLI take the FLOPs rule
from there. So a table recorded with ``C = 8·N·D`` is planned with ``8·N·D``: the rule cannot be lost
between loading and planning, because nothing downstream has a default of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

from .errors import DataError, format_message

__all__ = ["Conventions", "DEFAULT_CONVENTIONS"]

NParamsConvention = Literal["total", "non-embedding"]
_NP = ("total", "non-embedding")
_UNITS = ("nats", "bits", "perplexity")


@dataclass(frozen=True)
class Conventions:
    """How N, D, C and L were counted.

    Attributes
    ----------
    flops_per_token : float
        ``k`` of the FLOPs rule ``C = k·N·D`` (6 = 2 forward + 4 backward FLOPs per parameter and token,
        Kaplan et al. 2020 §2.1). Used to derive a missing column on load and by the planner.
    n_params : {'total', 'non-embedding'} or None
        Whether N counts embedding parameters (Hoffmann: total; Kaplan: non-embedding); ``None`` = unknown.
    loss_unit : {'nats', 'bits', 'perplexity'}
        The unit the loss was recorded in. Losses inside the toolkit are always nats per token; this
        says what they were converted from.
    """

    flops_per_token: float = 6.0
    n_params: NParamsConvention | None = None
    loss_unit: str = "nats"

    def __post_init__(self) -> None:
        k = self.flops_per_token
        if isinstance(k, bool) or not isinstance(k, (int, float)) or not (k > 0) or k != k or k == float("inf"):
            raise DataError(format_message("Convention flops_per_token", "", "a finite number > 0", repr(k),
                                           "Pass flops_per_token=6 for C = 6·N·D."))
        object.__setattr__(self, "flops_per_token", float(k))
        if self.n_params is not None and self.n_params not in _NP:
            raise DataError(format_message("Convention n_params", "", f"one of {list(_NP)} or None",
                                           repr(self.n_params)))
        if self.loss_unit not in _UNITS:
            raise DataError(format_message("Convention loss_unit", "", f"one of {list(_UNITS)}", repr(self.loss_unit)))

    def flops(self, n_params: Any, n_tokens: Any) -> Any:
        """Training compute ``k·N·D`` under these conventions (broadcasts)."""
        return self.flops_per_token * n_params * n_tokens

    @property
    def flops_label(self) -> str:
        """The rule as printed: ``"C = 6ND"`` (``"C = 7.5ND"`` for k = 7.5)."""
        return f"C = {self.flops_per_token:g}ND"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None) -> Conventions:
        """Inverse of :meth:`to_dict` (``None`` -> the defaults)."""
        if d is None:
            return DEFAULT_CONVENTIONS
        unknown = sorted(set(d) - {"flops_per_token", "n_params", "loss_unit"})
        if unknown:
            raise DataError(format_message("Conventions", "", "keys flops_per_token, n_params, loss_unit",
                                           f"unknown keys {unknown}"))
        return cls(**dict(d))


DEFAULT_CONVENTIONS = Conventions()
