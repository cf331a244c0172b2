"""Fixed and tied parameters: a law whose free coordinates map linearly onto the full internal vector."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import DataError, format_message
from .base import Evaluation, FloatArray, Law


class ConstrainedLaw(Law):
    """``base`` with ``fixed`` parameters (natural values) and ``tied`` ones (``{"beta": "alpha"}``:
    beta takes alpha's value). Reports every parameter of ``base``; optimises only the free ones.

    Ties are made in internal coordinates, so both parameters must share a transform.
    """

    def __init__(self, base: Law, fixed: Mapping[str, float], tied: Mapping[str, str]) -> None:
        names = base.param_names
        for p in list(fixed) + list(tied) + list(tied.values()):
            if p not in names:
                raise DataError(format_message("Parameter", f"'{p}' of a constraint", f"one of {list(names)}",
                                               repr(p), f"Law '{base.name}' has {', '.join(names)}."))
        for p, q in tied.items():
            if q in tied or q in fixed:
                raise DataError(format_message("Tie", f"'{p}' -> '{q}'", "to a free parameter", repr(q),
                                               "Tie to a parameter that is neither fixed nor tied itself."))
            if base.transforms[names.index(p)] != base.transforms[names.index(q)]:
                raise DataError(format_message("Tie", f"'{p}' -> '{q}'", "between parameters of the same kind",
                                               "a log-scale and a linear parameter"))
        self.base = base
        self.fixed = {k: float(v) for k, v in fixed.items()}
        self.tied = dict(tied)
        self.param_names = base.param_names
        self.transforms = base.transforms
        self.variables = base.variables
        self.name = base.name  # type: ignore[misc]
        self.formula = base.formula  # type: ignore[misc]
        self.reference = base.reference  # type: ignore[misc]
        self.default_loss = base.default_loss  # type: ignore[misc]
        self.default_delta = base.default_delta  # type: ignore[misc]
        P = len(names)
        self._free = [i for i, p in enumerate(names) if p not in fixed and p not in tied]
        M = np.zeros((P, len(self._free)))
        c = np.zeros(P)
        for j, i in enumerate(self._free):
            M[i, j] = 1.0
        for p, q in tied.items():
            M[names.index(p), self._free.index(names.index(q))] = 1.0
        theta_fixed = np.array([self.fixed.get(p, 1.0) for p in names])
        z_fixed = base.to_internal(theta_fixed)
        for p in fixed:
            c[names.index(p)] = z_fixed[names.index(p)]
        if not np.all(np.isfinite(c)):
            raise DataError(format_message("Fixed values", str(self.fixed), "inside the parameter domain",
                                           str(self.fixed), "Log-scale parameters must be > 0."))
        self._M, self._c = M, c

    @property
    def options(self) -> dict[str, Any]:
        opts = dict(self.base.options)
        if self.fixed:
            opts["fixed"] = dict(self.fixed)
        if self.tied:
            opts["tied"] = dict(self.tied)
        return opts

    def spec(self) -> dict[str, Any]:
        return {"name": self.base.name, "options": self.options}

    def bounds(self) -> tuple[FloatArray, FloatArray]:
        return self.base.bounds()

    def grid(self) -> FloatArray:
        return self.base.grid()

    @property
    def free_names(self) -> tuple[str, ...]:
        return tuple(self.base.internal_names[i] for i in self._free)

    def expand(self, w: FloatArray) -> FloatArray:
        w = np.asarray(w)
        return w @ self._M.T.astype(w.dtype) + self._c.astype(w.dtype)

    def reduce_grad(self, gz: FloatArray) -> FloatArray:
        return gz @ self._M

    def contract(self, z: FloatArray) -> FloatArray:
        return np.asarray(z, dtype=float)[..., self._free]

    def free_bounds(self) -> tuple[FloatArray, FloatArray]:
        lo, hi = self.base.internal_bounds()
        lo, hi = lo[self._free].copy(), hi[self._free].copy()
        # a tied parameter's bounds also bind its leader
        blo, bhi = self.base.internal_bounds()
        names = self.base.param_names
        for p, q in self.tied.items():
            j = self._free.index(names.index(q))
            lo[j] = max(lo[j], blo[names.index(p)])
            hi[j] = min(hi[j], bhi[names.index(p)])
        return lo, hi

    def free_grid(self) -> FloatArray:
        g = self.contract(self.base.grid())
        return np.unique(g, axis=0)

    def free_preconditioner(self, X: Any) -> FloatArray:
        k = len(self._free)
        T = np.eye(k)
        names = self.base.param_names
        for i, j, var in self.base.log_linear_pairs:
            if var not in X or i not in self._free:
                continue
            lead = names.index(self.tied[names[j]]) if names[j] in self.tied else j
            if lead in self._free:
                T[self._free.index(i), self._free.index(lead)] += float(np.mean(np.log(np.asarray(X[var], dtype=float))))
        return T

    def _evaluate(self, z: FloatArray, X: Any, grad: bool) -> Evaluation:
        return self.base._evaluate(z, X, grad)

    @property
    def monotone(self) -> bool:  # type: ignore[override]
        return self.base.monotone

    @property
    def has_second_order(self) -> bool:  # type: ignore[override]
        return self.base.has_second_order

    def second_order(self, z: FloatArray, X: Any) -> Any:
        return self.base.second_order(z, X)

    def reduce_hess(self, Hz: FloatArray) -> FloatArray:
        M = self._M.astype(Hz.dtype)
        return M.T @ Hz @ M

    def constrain(self, fixed: Mapping[str, float] | None = None, tied: Mapping[str, str] | None = None) -> Law:
        return ConstrainedLaw(self.base, fixed={**self.fixed, **dict(fixed or {})}, tied={**self.tied, **dict(tied or {})})
