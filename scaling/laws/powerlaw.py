r"""A one-variable power law with an irreducible offset, ``L(x) = E + A x^(-alpha)``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import DataError, format_message
from .base import Evaluation, FloatArray, Law, check_variables, grid_product
from .registry import register_law

__all__ = ["PowerLaw", "KNOWN_VARIABLES"]

#: Table columns a one-variable law is usually fitted against (any column name is accepted).
KNOWN_VARIABLES: tuple[str, ...] = ("n_params", "n_tokens", "flops", "n_unique_tokens", "step", "x")


def check_variable_option(variable: Any, law: str) -> str:
    """Validate a ``variable=`` option (a non-empty column name)."""
    if not isinstance(variable, str) or not variable.strip():
        raise DataError(format_message("Option variable", f"of law '{law}'", "a column name such as "
                                       + ", ".join(repr(v) for v in KNOWN_VARIABLES), repr(variable),
                                       "Name the table column the law is a function of."))
    return variable


class PowerLaw(Law):
    r"""Saturating power law in one variable (the form of Hestness et al. 2017 and of each term of
    Hoffmann et al. 2022, eq. 2):

    .. math:: L(x) = E + A\,x^{-\alpha}

    Parameters
    ----------
    variable : str, default ``"n_params"``
        The table column ``x`` the law is a function of: ``"n_params"``, ``"n_tokens"``,
        ``"flops"``, ``"step"``, ``"x"``, ... The law's :attr:`variables` is ``(variable,)`` and
        :attr:`options` is ``{"variable": variable}``, so
        ``get_law("powerlaw", variable="flops")`` rebuilds it.

    Notes
    -----
    Law parameters:

    * ``E`` — the irreducible value as ``x -> inf`` (> 0; optimised as ``log_E``);
    * ``A`` — the scale of the reducible part, in units of the target times ``x^alpha``
      (> 0; optimised as ``log_A``);
    * ``alpha`` — the decay exponent (unbounded; a negative value gives a rising curve).

    ``A x^(-alpha) = exp(log_A - alpha log x)`` is log-linear, so the optimiser centres
    ``log x`` (``log_linear_pairs``). The start grid (336 points, internal coordinates) is
    ``log_E`` in {-2, -1, 0, 0.5, 1, 1.5}, ``log_A`` in {-3, 0, 3, 6, 10, 15, 20, 25} and
    ``alpha`` in {0.05, 0.1, 0.2, 0.35, 0.5, 0.8, 1.2}: it covers losses of order 0.1–5 nats and
    ``x`` from 1 to ~1e25. Default objective: squared log residuals.
    """

    name = "powerlaw"
    param_names = ("E", "A", "alpha")
    transforms = ("log", "log", "id")
    formula = "L = E + A*x^(-alpha)"
    reference = ("Hestness et al. 2017, Deep Learning Scaling is Predictable, Empirically, arXiv 1712.00409 "
                 "(power law plus irreducible error); one term of Hoffmann et al. 2022, eq. 2")
    default_loss = "squared_log"

    def __init__(self, variable: str = "n_params") -> None:
        self.variable = check_variable_option(variable, self.name)
        self.variables = (self.variable,)
        self.log_linear_pairs = ((1, 2, self.variable),)  # type: ignore[misc]
        self.formula = f"L = E + A*{self.variable}^(-alpha)"  # type: ignore[misc]

    @property
    def options(self) -> dict[str, Any]:
        return {"variable": self.variable}

    def grid(self) -> FloatArray:
        return grid_product((-2.0, -1.0, 0.0, 0.5, 1.0, 1.5), (-3.0, 0.0, 3.0, 6.0, 10.0, 15.0, 20.0, 25.0),
                            (0.05, 0.1, 0.2, 0.35, 0.5, 0.8, 1.2))

    def _evaluate(self, z: FloatArray, X: Mapping[str, FloatArray], grad: bool) -> Evaluation:
        check_variables(self, X)
        lx = np.log(np.asarray(X[self.variable])).astype(z.dtype, copy=False)
        le, la, al = z[:, 0:1], z[:, 1:2], z[:, 2:3]
        with np.errstate(over="ignore", invalid="ignore"):
            t = np.exp(la - al * lx)
            eE = np.exp(le)
            f = t + eE
        if not grad:
            return f, None

        def vjp(u: FloatArray) -> FloatArray:
            ut = u * t
            g = np.empty((u.shape[0], 3), dtype=np.result_type(u, f))
            g[:, 0] = u.sum(axis=1) * eE[:, 0]
            g[:, 1] = ut.sum(axis=1)
            g[:, 2] = -(ut @ lx)
            return g

        return f, vjp


register_law("powerlaw", PowerLaw)
