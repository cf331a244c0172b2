r"""The compute-optimal point of a law: minimise ``L(N, D)`` along the isoFLOP curve ``f(N)·D = C``.

.. math:: N_{opt}(C), D_{opt}(C) = \operatorname{argmin}_{N, D:\ f(N) D = C} L(N, D)
   \qquad\text{(Hoffmann et al. 2022, eq. 1)}

:meth:`Law.optimum <scaling.laws.base.Law.optimum>` is the one route to this point for every law:
laws with a closed form override it (Chinchilla: Hoffmann's eq. 4, in
:mod:`scaling.laws.chinchilla`), all others use :func:`isoflop_optimum` below — the loss along
``D = C / f(N)`` minimised in ``log N``, vectorised over parameter rows × budgets (a grid bracket,
then Newton on the central-difference derivative; :func:`scaling.numeric.minimize`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from ..numeric import minimize, pointwise

if TYPE_CHECKING:
    from .base import Law

__all__ = ["Optimum", "isoflop_optimum", "DEFAULT_RATIO_BOUNDS", "evaluate_rows"]

FloatArray = NDArray[np.float64]

#: Default search range of the numeric path, as tokens per parameter D/N.
DEFAULT_RATIO_BOUNDS: tuple[float, float] = (1e-4, 1e8)


@dataclass(frozen=True)
class Optimum:
    """Compute-optimal ``n_params`` and ``n_tokens``, shape ``(S, B)`` (parameter rows × budgets).

    ``edge`` marks budgets whose minimum lies on the edge of the search range (no interior optimum);
    ``method`` is ``"closed-form"`` or ``"numeric"``.
    """

    n_params: FloatArray
    n_tokens: FloatArray
    edge: NDArray[np.bool_]
    method: str


def evaluate_rows(law: Law, theta: FloatArray, variables: Mapping[str, Any]) -> FloatArray:
    """``law`` at row ``s`` of ``theta`` and ``variables[v][s, ...]`` (leading axis S or 1)."""
    S = theta.shape[0]
    arrays = {v: np.atleast_1d(np.asarray(variables[v], dtype=float)) for v in law.variables}
    rest = np.broadcast_shapes(*(a.shape[1:] for a in arrays.values()))
    flat = {v: np.broadcast_to(a, (a.shape[0],) + rest).reshape(a.shape[0], -1) for v, a in arrays.items()}
    return pointwise(law, theta, flat).reshape((S,) + rest)


def isoflop_optimum(law: Law, theta: FloatArray, flops: FloatArray, flops_model: Any,
                    extra: Mapping[str, FloatArray] | None = None,
                    ratio_bounds: tuple[float, float] = DEFAULT_RATIO_BOUNDS) -> Optimum:
    """The numeric minimum of ``law`` along ``D = C / f(N)`` for rows ``theta`` (S, P) and budgets (B,).

    ``flops_model`` provides ``n_tokens(C, N)`` (:class:`scaling.predict.flops.FlopsModel`); ``extra``
    holds further variables of the law per budget (``n_unique_tokens``); ``ratio_bounds`` is the
    search range as D/N.
    """
    C = np.asarray(flops, dtype=float).reshape(-1)
    theta = np.atleast_2d(np.asarray(theta, dtype=float))
    S, B = theta.shape[0], C.size
    x_lo = 0.5 * np.log(C / (6.0 * ratio_bounds[1]))
    x_hi = 0.5 * np.log(C / (6.0 * ratio_bounds[0]))
    Cb = C[None, :, None]
    ext = {k: np.asarray(v, dtype=float).reshape(1, B, 1) for k, v in (extra or {}).items()}

    def fun(x: FloatArray) -> FloatArray:
        N = np.exp(x)
        return evaluate_rows(law, theta, {"n_params": N, "n_tokens": flops_model.n_tokens(Cb, N), **ext})

    x, edge = minimize(fun, np.broadcast_to(x_lo, (S, B)), np.broadcast_to(x_hi, (S, B)))
    N = np.exp(x)
    return Optimum(n_params=N, n_tokens=flops_model.n_tokens(C[None, :], N), edge=np.asarray(edge, dtype=bool),
                   method="numeric")
