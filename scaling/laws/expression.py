r"""Laws declared by their formula: the gradient and Hessian are derived, never hand-written.

A new law is one class in one file::

    import scaling as sc
    from scaling.laws import ExpressionLaw, register_law

    @register_law("gadre-error")
    class GadreError(ExpressionLaw):
        '''Average top-1 error against loss (Gadre et al. 2024, eq. 4): err = eps - k exp(-gamma L).'''
        name = "gadre-error"
        expression = "eps - k * exp(-gamma * task_loss)"
        param_names = ("eps", "k", "gamma")
        transforms = ("id", "log", "log")          # k, gamma > 0: optimised as log k, log gamma
        variables = ("task_loss",)
        param_bounds = {"eps": (0.0, 1.0)}
        start_grid = {"eps": (0.5, 0.8, 1.0), "k": (0.1, 1.0, 10.0), "gamma": (0.1, 0.5, 1.0, 2.0)}
        default_loss = "squared"

    res = sc.fit(table, law="gadre-error")          # table: the error in column "loss", L in "task_loss"

:class:`ExpressionLaw` parses ``expression`` with sympy (parameter and variable names are symbols, so
``E``, ``beta`` or ``gamma`` mean the parameters, not Euler's number or special functions), rewrites
it in the optimiser's internal coordinates (``theta = exp(z)`` for ``"log"`` parameters), takes the
first and second derivatives symbolically, eliminates common subexpressions and compiles one numpy
function for the value and gradient. Evaluation stays batched — ``(starts, 1)`` parameter columns
broadcast against ``(points,)`` data — so the multi-start engine and the bootstrap treat the law
exactly like the hand-written ones. The compiled functions are cached per class (and options).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from ..errors import DataError, format_message
from .base import Evaluation, FloatArray, Law, check_variables, grid_product

__all__ = ["ExpressionLaw"]

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _sympy() -> Any:
    import sympy  # a base dependency, imported when first needed (import time)

    return sympy


@functools.lru_cache(maxsize=64)
def _compile(expression: str, param_names: tuple[str, ...], transforms: tuple[str, ...],
             variables: tuple[str, ...]) -> tuple[Callable[..., Any], Callable[..., Any], Callable[..., Any]]:
    """Value, value+gradient and value+gradient+Hessian functions of (z_0..z_P-1, x_0..x_V-1)."""
    sp = _sympy()
    from sympy.parsing.sympy_parser import parse_expr, standard_transformations

    zs = sp.symbols([f"_z{i}" for i in range(len(param_names))], real=True)
    xs = sp.symbols([f"_x{i}" for i in range(len(variables))], positive=True)
    local: dict[str, Any] = {}
    for name, t, z in zip(param_names, transforms, zs):
        local[name] = sp.exp(z) if t == "log" else z
    for name, x in zip(variables, xs):
        local[name] = x
    try:
        expr = parse_expr(expression, local_dict=local, transformations=standard_transformations, evaluate=True)
    except Exception as exc:  # sympy raises many types for bad input
        raise DataError(format_message("Expression", repr(expression), "a formula in the parameters "
                                       f"{list(param_names)} and variables {list(variables)}",
                                       f"{type(exc).__name__}: {exc}", "Write it as Python arithmetic, e.g. "
                                       "'E + A / n_params**alpha'.")) from exc
    unknown = sorted(str(s) for s in expr.free_symbols if s not in set(zs) | set(xs))
    if unknown:
        raise DataError(format_message("Expression", repr(expression), "using only the parameters "
                                       f"{list(param_names)} and variables {list(variables)}", f"also {unknown}",
                                       "Declare them in param_names or variables."))
    grads = [sp.diff(expr, z) for z in zs]
    hess = [[sp.diff(g, z) for z in zs] for g in grads]
    args = list(zs) + list(xs)
    f0 = sp.lambdify(args, expr, modules="numpy", cse=True)
    f1 = sp.lambdify(args, [expr] + grads, modules="numpy", cse=True)
    f2 = sp.lambdify(args, [expr] + grads + [h for row in hess for h in row], modules="numpy", cse=True)
    return f0, f1, f2


class ExpressionLaw(Law):
    """Base class of laws declared by a formula (see the module docstring for a complete example).

    Class attributes to set
    -----------------------
    name : str
        Registry name (use ``@register_law(name)`` on the class to make ``fit(law=name)`` and
        ``FitResult.load`` find it).
    expression : str
        The formula, in the parameter and variable names (numpy-style: ``exp``, ``log``, ``**``).
    param_names, transforms, variables : tuples
        As for every :class:`~scaling.laws.base.Law`; ``"log"`` parameters are > 0.
    param_bounds : mapping, optional
        Natural-unit ``(lower, upper)`` per parameter (default unbounded; ``(0, inf)`` for log ones).
    start_grid : mapping
        Natural start values per parameter; the start grid is their Cartesian product.
    formula, reference, default_loss, default_delta, monotone : optional
        Shown in summaries; ``formula`` defaults to ``"L = " + expression``.
    """

    expression: ClassVar[str] = ""
    param_bounds: ClassVar[Mapping[str, tuple[float, float]]] = {}
    start_grid: ClassVar[Mapping[str, Sequence[float]]] = {}
    has_second_order: ClassVar[bool] = True

    def __init__(self) -> None:
        names = tuple(self.param_names)
        if not self.expression or not names or len(self.transforms) != len(names):
            raise DataError(format_message("Law class", type(self).__name__, "expression, param_names and one "
                                           "transform per parameter declared", f"expression={self.expression!r}, "
                                           f"param_names={names}, transforms={tuple(self.transforms)}"))
        bad = [n for n in names + tuple(self.variables) if not _IDENT.match(n)]
        if bad or len(set(names + tuple(self.variables))) != len(names) + len(self.variables):
            raise DataError(format_message("Names", f"of law class {type(self).__name__}", "distinct identifiers",
                                           f"{list(names)} and {list(self.variables)}"))
        if any(t not in ("log", "id") for t in self.transforms):
            raise DataError(format_message("Transforms", f"of law class {type(self).__name__}", "'log' or 'id'",
                                           str(tuple(self.transforms))))
        missing = [p for p in names if p not in self.start_grid]
        if missing:
            raise DataError(format_message("start_grid", f"of law class {type(self).__name__}",
                                           "start values for every parameter", f"none for {missing}"))
        if not type(self).__dict__.get("formula"):
            self.formula = f"L = {self.expression}"  # type: ignore[misc]
        self._fns = _compile(self.expression, names, tuple(self.transforms), tuple(self.variables))

    def bounds(self) -> tuple[FloatArray, FloatArray]:
        lo = np.array([0.0 if t == "log" else -np.inf for t in self.transforms])
        hi = np.full(self.n_params, np.inf)
        for i, p in enumerate(self.param_names):
            if p in self.param_bounds:
                lo[i], hi[i] = (float(b) for b in self.param_bounds[p])
        return lo, hi

    def grid(self) -> FloatArray:
        natural = grid_product(*[self.start_grid[p] for p in self.param_names])
        return self.to_internal(natural)

    def _args(self, z: FloatArray, X: Mapping[str, FloatArray]) -> list[Any]:
        check_variables(self, X)
        cols = [z[:, i:i + 1] for i in range(z.shape[1])]
        xs = [np.asarray(X[v]).astype(z.dtype, copy=False) for v in self.variables]
        return cols + xs

    def _evaluate(self, z: FloatArray, X: Mapping[str, FloatArray], grad: bool) -> Evaluation:
        args = self._args(z, X)
        n = len(args[len(self.param_names)]) if self.variables else 1
        shape = (z.shape[0], n)
        with np.errstate(all="ignore"):
            if not grad:
                return np.broadcast_to(np.asarray(self._fns[0](*args), dtype=z.dtype), shape).copy(), None
            out = self._fns[1](*args)
        f = np.broadcast_to(np.asarray(out[0], dtype=z.dtype), shape).copy()
        gs = out[1:]

        def vjp(u: FloatArray) -> FloatArray:
            g = np.empty((u.shape[0], len(gs)), dtype=np.result_type(u, f))
            for i, gi in enumerate(gs):
                gi = np.asarray(gi)
                g[:, i] = (u * gi).sum(axis=1) if gi.ndim == 2 and gi.shape[1] == u.shape[1] else \
                    (u * np.broadcast_to(gi, u.shape)).sum(axis=1)
            return g

        return f, vjp

    def second_order(self, z: FloatArray, X: Mapping[str, FloatArray]
                     ) -> tuple[FloatArray, FloatArray, Callable[[FloatArray], FloatArray]]:
        z = np.atleast_2d(np.asarray(z, dtype=float))
        args = self._args(z, X)
        P = len(self.param_names)
        n = len(args[P]) if self.variables else 1
        shape = (z.shape[0], n)
        with np.errstate(all="ignore"):
            out = [np.broadcast_to(np.asarray(v, dtype=float), shape) for v in self._fns[2](*args)]
        f = out[0].copy()
        J = np.stack(out[1:1 + P], axis=-1)
        H = np.stack(out[1 + P:], axis=-1).reshape(shape + (P, P))

        def hvp2(u: FloatArray) -> FloatArray:
            return np.einsum("sn,snij->sij", u, H)

        return f, J, hvp2
