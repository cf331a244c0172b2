r"""Allocation laws: published compute-optimal rules given directly as power laws of compute.

Kaplan et al. 2020 (Table 6), DeepSeek LLM (eq. 4), Llama 3 (§3.2.1) and Porian et al. 2024 report
the compute-optimal allocation itself, ``y_opt(C) = c (C / unit)^e``, not a loss surface. An
:class:`AllocationLaw` holds one such power law for one quantity —

* ``"n_params"`` (Kaplan: ``N_opt = 1.3e9 C_min^0.73``, C in PF-days),
* ``"n_tokens"`` (Llama 3: ``D*(C) = 0.29 C^0.53``; their "N*" counts tokens),
* ``"tokens_per_param"`` (Porian: ``D/N = 11.9 C^0.006``),
* ``"flops_per_token"`` (DeepSeek: ``M_opt = 0.1715 C^0.5243``, with ``C = M D``)

— and derives the other quantity from the compute rule, so every allocation satisfies ``C = f(N) D``
exactly. Printed companion laws (Kaplan's ``D_opt = 2e10 C^0.27``, DeepSeek's
``D_opt = 5.8316 C^0.4757``) are kept for the consistency checks of :mod:`scaling.predict.published`.
A loss is available only when the paper gives one as a function of compute (Kaplan eq. 1.3); the
others report ``loss = None``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..errors import DataError, format_message
from .flops import SIX_ND, FlopsModel

__all__ = ["PowerLaw", "AllocationLaw", "QUANTITIES"]

FloatArray = NDArray[np.float64]

QUANTITIES = ("n_params", "n_tokens", "tokens_per_param", "flops_per_token")


@dataclass(frozen=True)
class PowerLaw:
    """``y = coefficient * (C / flops_unit) ** exponent`` (``flops_unit = 8.64e19`` for PF-days)."""

    coefficient: float
    exponent: float
    flops_unit: float = 1.0

    def __post_init__(self) -> None:
        for nm in ("coefficient", "exponent", "flops_unit"):
            v = getattr(self, nm)
            if not (isinstance(v, (int, float)) and math.isfinite(v)) or (nm != "exponent" and v <= 0):
                bound = " > 0" if nm != "exponent" else ""
                raise DataError(format_message(f"Power-law {nm}", "", "a finite number" + bound, repr(v)))

    def __call__(self, flops: ArrayLike) -> FloatArray:
        return self.coefficient * (np.asarray(flops, dtype=float) / self.flops_unit) ** self.exponent

    def inverse(self, y: ArrayLike) -> FloatArray:
        """The compute ``C`` at which the law equals ``y``."""
        return self.flops_unit * (np.asarray(y, dtype=float) / self.coefficient) ** (1.0 / self.exponent)

    def describe(self) -> str:
        unit = "" if self.flops_unit == 1.0 else f"/{self.flops_unit:.4g}"
        return f"{self.coefficient:.6g} * (C{unit})^{self.exponent:.6g}"

    def to_dict(self) -> dict[str, float]:
        return {"coefficient": float(self.coefficient), "exponent": float(self.exponent),
                "flops_unit": float(self.flops_unit)}


@dataclass(frozen=True, kw_only=True)
class AllocationLaw:
    """A compute-optimal allocation given as a power law of compute (see the module docstring).

    Parameters
    ----------
    name : str
        Label (``"kaplan2020 Table 6"``).
    quantity : {"n_params", "n_tokens", "tokens_per_param", "flops_per_token"}
        What the power law gives.
    law : PowerLaw
        The allocation ``y_opt(C)``.
    loss : PowerLaw, optional
        The loss along the compute-optimal frontier as a function of ``C``, if published.
    flops_model : FlopsModel
        The compute rule the allocation assumes (``C = 6ND``; DeepSeek's ``C = M D`` is ``6ND`` with
        ``N = M/6``).
    companions : mapping
        Other printed power laws of the same paper (``{"n_tokens": PowerLaw(...)}``), for checks.
    notes : tuple of str
        Caveats shown with every allocation.
    """

    name: str
    quantity: Literal["n_params", "n_tokens", "tokens_per_param", "flops_per_token"]
    law: PowerLaw
    loss: PowerLaw | None = None
    flops_model: FlopsModel = SIX_ND
    companions: Mapping[str, PowerLaw] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.quantity not in QUANTITIES:
            raise DataError(format_message("Quantity", f"of allocation law '{self.name}'", f"one of {list(QUANTITIES)}",
                                           repr(self.quantity)))

    def allocate(self, flops: ArrayLike, flops_model: FlopsModel | None = None) -> tuple[FloatArray, FloatArray]:
        """``(N_opt, D_opt)`` at compute ``C``; the derived quantity satisfies ``C = f(N) D`` exactly."""
        fm = self.flops_model if flops_model is None else flops_model
        C = np.asarray(flops, dtype=float)
        y = self.law(C)
        if self.quantity == "n_params":
            N = y
            D = fm.n_tokens(C, N)
        elif self.quantity == "n_tokens":
            D = y
            N = fm.n_params(C, D)
        elif self.quantity == "tokens_per_param":
            N = fm.n_params_for_ratio(C, y)
            D = fm.n_tokens(C, N)
        else:  # flops_per_token: C = M D
            D = C / y
            N = fm.n_params(C, D)
        return N, D

    def predict_loss(self, flops: ArrayLike) -> FloatArray | None:
        """Loss along the compute-optimal frontier, or ``None`` when the paper gives no such law."""
        return None if self.loss is None else self.loss(flops)

    def describe(self) -> str:
        what = {"n_params": "N_opt", "n_tokens": "D_opt", "tokens_per_param": "(D/N)_opt",
                "flops_per_token": "M_opt (FLOPs/token)"}[self.quantity]
        return f"{what} = {self.law.describe()}"

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "quantity": self.quantity, "law": self.law.to_dict(),
                "loss": None if self.loss is None else self.loss.to_dict(),
                "flops_model": self.flops_model.to_dict(),
                "companions": {k: v.to_dict() for k, v in self.companions.items()}, "notes": list(self.notes)}
