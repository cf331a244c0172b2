"""The law specification: a scaling law is a declared, pure function of parameters and data.

A :class:`Law` declares

* ``param_names`` — the paper's symbols (``E, A, B, alpha, beta`` for Chinchilla), the *natural*
  parameters reported to users;
* ``transforms`` — per parameter, ``"log"`` or ``"id"``: the optimiser works in *internal*
  coordinates ``z = log(theta)`` or ``z = theta`` element-wise (Hoffmann et al. 2022 optimise
  ``a = log A, b = log B, e = log E``, their eq. 11);
* ``variables`` — the table columns the law reads (``n_params``, ``n_tokens``, ...);
* ``bounds`` (natural units) and a default start ``grid`` (internal units);
* :meth:`evaluate` — predictions for a *batch* of parameter vectors at once, plus a
  vector–Jacobian product (the analytic gradient), which is what makes multi-start fitting and the
  bootstrap fast: thousands of starts or resamples are optimised as one array computation.

Laws know nothing about data tables, objectives or optimisers. Options such as fixing a parameter
or tying two exponents are expressed by :meth:`Law.constrain`, which returns a new law whose free
parameters map linearly onto the full internal vector.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from ..errors import DataError, format_message
from .optimum import DEFAULT_RATIO_BOUNDS, Optimum, isoflop_optimum

__all__ = ["Law", "ConstrainedLaw", "Evaluation", "as_param_array"]

FloatArray = NDArray[np.float64]
# evaluate() returns predictions f (S, n) and a function u (S, n) -> sum_n u * df/dz  (S, P)
Evaluation = tuple[FloatArray, Callable[[FloatArray], FloatArray] | None]


def as_param_array(law: Law, params: Any) -> FloatArray:
    """Natural parameter vector(s) from a Series, mapping, sequence or array (…, P)."""
    if isinstance(params, pd.DataFrame):
        missing = [p for p in law.param_names if p not in params.columns]
        if missing:
            raise DataError(format_message("Parameters", f"of law '{law.name}'", f"columns {list(law.param_names)}",
                                           f"columns {list(params.columns)}", f"Missing: {missing}."))
        return params[list(law.param_names)].to_numpy(dtype=float)
    if isinstance(params, (pd.Series, Mapping)):
        missing = [p for p in law.param_names if p not in params]
        if missing:
            raise DataError(format_message("Parameters", f"of law '{law.name}'", f"named {list(law.param_names)}",
                                           f"{sorted(params.keys())}", f"Missing: {missing}."))
        return np.array([float(params[p]) for p in law.param_names])
    arr = np.asarray(params, dtype=float)
    if arr.shape[-1] != len(law.param_names):
        raise DataError(format_message("Parameter vector", f"of law '{law.name}'",
                                       f"of length {len(law.param_names)} ({', '.join(law.param_names)})",
                                       f"shape {arr.shape}"))
    return arr


class Law:
    """Base class of every scaling law. Subclasses set the class attributes and implement
    :meth:`_evaluate` (and, for speed, an analytic vector–Jacobian product).

    Attributes
    ----------
    name : str
        Registry name (``"chinchilla"``).
    param_names : tuple of str
        Natural parameters in the paper's symbols.
    transforms : tuple of {"log", "id"}
        Internal coordinate of each parameter.
    variables : tuple of str
        Table columns the law reads.
    formula, reference : str
        Human-readable formula and citation (paper, equation).
    """

    name: ClassVar[str] = "law"
    param_names: tuple[str, ...] = ()
    transforms: tuple[str, ...] = ()
    variables: tuple[str, ...] = ("n_params", "n_tokens")
    formula: ClassVar[str] = ""
    reference: ClassVar[str] = ""
    #: default objective for this law ("huber" on log residuals, as Hoffmann) and its delta
    default_loss: ClassVar[str] = "huber"
    default_delta: ClassVar[float] = 1e-3

    # ------------------------------------------------------------------ specification
    @property
    def options(self) -> dict[str, Any]:
        """Constructor options, JSON-serialisable; ``get_law(name, **options)`` rebuilds the law."""
        return {}

    def spec(self) -> dict[str, Any]:
        """JSON description of the law (name + options), used to save fits."""
        return {"name": self.name, "options": self.options}

    @property
    def n_params(self) -> int:
        return len(self.param_names)

    @property
    def internal_names(self) -> tuple[str, ...]:
        return tuple(f"log_{p}" if t == "log" else p for p, t in zip(self.param_names, self.transforms))

    def bounds(self) -> tuple[FloatArray, FloatArray]:
        """Natural-unit bounds (lower, upper); ±inf where unbounded."""
        return np.full(self.n_params, -np.inf), np.full(self.n_params, np.inf)

    def internal_bounds(self) -> tuple[FloatArray, FloatArray]:
        lo, hi = self.bounds()
        lo = lo.astype(float).copy()
        hi = hi.astype(float).copy()
        for i, t in enumerate(self.transforms):
            if t == "log":
                with np.errstate(divide="ignore"):
                    lo[i] = np.log(lo[i]) if lo[i] > 0 else -np.inf
                    hi[i] = np.log(hi[i]) if hi[i] > 0 else -np.inf
        return lo, hi

    def grid(self) -> FloatArray:
        """Default start grid in *internal* coordinates, shape (k, P)."""
        raise NotImplementedError

    def to_internal(self, theta: ArrayLike) -> FloatArray:
        theta = np.asarray(theta, dtype=float)
        z = theta.copy()
        for i, t in enumerate(self.transforms):
            if t == "log":
                with np.errstate(divide="ignore", invalid="ignore"):
                    z[..., i] = np.log(theta[..., i])
        return z

    def to_natural(self, z: ArrayLike) -> FloatArray:
        z = np.asarray(z, dtype=float)
        theta = z.copy()
        for i, t in enumerate(self.transforms):
            if t == "log":
                with np.errstate(over="ignore"):
                    theta[..., i] = np.exp(z[..., i])
        return theta

    def dnatural_dinternal(self, z: ArrayLike) -> FloatArray:
        """Diagonal of the Jacobian d theta / d z (for the delta method)."""
        z = np.asarray(z, dtype=float)
        d = np.ones_like(z)
        for i, t in enumerate(self.transforms):
            if t == "log":
                d[..., i] = np.exp(z[..., i])
        return d

    # ------------------------------------------------------------------ evaluation
    def evaluate(self, z: FloatArray, X: Mapping[str, FloatArray], *, grad: bool = True) -> Evaluation:
        """Predictions for a batch of internal parameter vectors.

        Parameters
        ----------
        z : (S, P) array of internal parameters.
        X : mapping of variable name -> (n,) float arrays.
        grad : also return the vector–Jacobian product.

        Returns
        -------
        f : (S, n) predictions; vjp : callable (S, n) -> (S, P) with ``vjp(u)[s] = sum_i u[s,i] df[s,i]/dz[s]``.
        """
        z = np.atleast_2d(np.asarray(z))
        if z.dtype not in (np.float32, np.float64):
            z = z.astype(float)
        return self._evaluate(z, X, grad)

    def _evaluate(self, z: FloatArray, X: Mapping[str, FloatArray], grad: bool) -> Evaluation:
        raise NotImplementedError

    #: True for laws that can only fall (or only rise) along each variable; fitting one to data with a
    #: significant bump emits a NonMonotoneWarning (BNSL and user-defined laws set False)
    monotone: ClassVar[bool] = True

    #: True when the law implements :meth:`second_order` (analytic Hessian)
    has_second_order: ClassVar[bool] = False

    def second_order(self, z: FloatArray, X: Mapping[str, FloatArray]
                     ) -> tuple[FloatArray, FloatArray, Callable[[FloatArray], FloatArray]]:
        """Predictions f (S, n), Jacobian J = df/dz (S, n, P) and ``hvp2(u) = sum_i u_i d2f_i/dz2`` (S, P, P)."""
        raise NotImplementedError

    def reduce_hess(self, Hz: FloatArray) -> FloatArray:
        """Hessian in internal coordinates (…, P, P) -> free coordinates."""
        return Hz

    def objective_kernel(self, loss: str, delta: float, X: Mapping[str, FloatArray], y: FloatArray
                         ) -> Callable[[FloatArray, FloatArray | None], tuple[FloatArray, FloatArray]] | None:
        """Optional fused evaluation of a summed objective: ``kernel(z, W) -> (objective (S,), gradient in
        internal coordinates (S, P))``, for internal parameters ``z`` (S, P) and weights ``W`` (None, (n,) or
        (S, n)), in the dtype of ``X``/``y``. Must agree with the generic path (``evaluate`` + ``vjp`` in
        :class:`~scaling.estimation.objectives.Objective`), non-finite rows included (objective inf there;
        the caller zeroes their gradient). None (the default): the generic path is used."""
        return None

    def predict(self, params: Any, **variables: ArrayLike) -> FloatArray:
        """Evaluate the law at natural ``params`` (Series, mapping, or array (P,) / (S, P)).

        Variables are given by name (``n_params=..., n_tokens=...``) and broadcast together.
        Returns an array of the broadcast shape (with a leading S axis when params is 2-D).
        """
        theta = as_param_array(self, params)
        missing = [v for v in self.variables if v not in variables]
        extra = [v for v in variables if v not in self.variables]
        if missing or extra:
            raise TypeError(f"Law '{self.name}' takes the variables {list(self.variables)}; "
                            f"missing {missing}, unexpected {extra}.")
        arrays = np.broadcast_arrays(*[np.asarray(variables[v], dtype=float) for v in self.variables])
        shape = arrays[0].shape
        X = {v: a.ravel() for v, a in zip(self.variables, arrays)}
        z = self.to_internal(np.atleast_2d(theta))
        f, _ = self.evaluate(z, X, grad=False)
        if theta.ndim == 1:
            return f[0].reshape(shape)
        return f.reshape((theta.shape[0],) + shape)

    # ------------------------------------------------------------------ compute-optimal point
    def has_closed_form_optimum(self, flops_model: Any) -> bool:
        """Whether :meth:`optimum` has a closed form under ``flops_model`` (default: no)."""
        return False

    def optimum(self, theta: ArrayLike, flops: ArrayLike, flops_model: Any, *, method: str = "auto",
                extra: Mapping[str, FloatArray] | None = None,
                ratio_bounds: tuple[float, float] = DEFAULT_RATIO_BOUNDS) -> Optimum:
        """The compute-optimal ``(N, D)`` for natural parameter rows ``theta`` (S, P) at budgets (B,).

        Minimises the law along the isoFLOP curve ``flops_model.n_tokens(C, N)`` (Hoffmann et al. 2022,
        eq. 1). This default is the numeric minimisation shared by all laws
        (:func:`scaling.laws.optimum.isoflop_optimum`); laws with a closed form override it and fall
        back to this one for ``method="numeric"`` or a FLOPs rule the closed form does not cover.
        Requires a law of ``n_params`` and ``n_tokens`` (plus the variables in ``extra``).
        """
        if method == "closed-form":
            raise DataError(format_message("Argument method", f"of the optimum of law '{self.name}'",
                                           "'auto' or 'numeric' here", "'closed-form'",
                                           "A closed-form compute-optimal point needs a law that has one (Chinchilla, "
                                           "Hoffmann et al. 2022 eq. 4) and a linear FLOPs rule C = kND."))
        theta = np.atleast_2d(np.asarray(theta, dtype=float))
        return isoflop_optimum(self, theta, np.asarray(flops, dtype=float), flops_model, extra, ratio_bounds)

    # ------------------------------------------------------------------ free coordinates
    # The optimiser works on the *free* coordinates w; z = expand(w). For an unconstrained law w = z.
    @property
    def free_names(self) -> tuple[str, ...]:
        return self.internal_names

    def expand(self, w: FloatArray) -> FloatArray:
        return np.asarray(w)

    def affine_expand(self) -> tuple[FloatArray, FloatArray]:
        """(M, c) with ``expand(w) = w @ M.T + c``: the identity here (free = internal coordinates)."""
        k = len(self.internal_bounds()[0])
        return np.eye(k), np.zeros(k)

    def compiled_kernel(self) -> str | None:
        """Name of the compiled (numba) objective kernel of this law in
        :mod:`scaling.estimation._compiled`, used by the engine's compiled screen
        (:mod:`scaling.estimation.compiled`); None (the default): the law has none."""
        return None

    def reduce_grad(self, gz: FloatArray) -> FloatArray:
        return gz

    def contract(self, z: FloatArray) -> FloatArray:
        return np.asarray(z, dtype=float)

    def free_bounds(self) -> tuple[FloatArray, FloatArray]:
        return self.internal_bounds()

    def free_grid(self) -> FloatArray:
        return self.grid()

    #: (intercept, slope, variable) internal-index pairs entering as ``z[i] - z[j]*log(X[variable])``;
    #: the optimiser centres log(X) for these (a linear change of coordinates that removes the strong
    #: intercept/exponent correlation and speeds convergence, without changing the problem).
    log_linear_pairs: ClassVar[tuple[tuple[int, int, str], ...]] = ()

    def free_preconditioner(self, X: Mapping[str, FloatArray]) -> FloatArray:
        """Matrix T (free x free) with w = T v: the optimiser's centred coordinates v."""
        k = len(self.free_names)
        T = np.eye(k)
        for i, j, var in self.log_linear_pairs:
            if var in X and i < k and j < k:
                T[i, j] = float(np.mean(np.log(np.asarray(X[var], dtype=float))))
        return T

    # ------------------------------------------------------------------ constraints
    def constrain(self, fixed: Mapping[str, float] | None = None,
                  tied: Mapping[str, str] | None = None) -> Law:
        """A law with some parameters fixed (natural values) or tied (``{"beta": "alpha"}``)."""
        if not fixed and not tied:
            return self
        fixed, tied = _normalise_constraints(dict(fixed or {}), dict(tied or {}))
        return ConstrainedLaw(self, fixed=fixed, tied=tied)

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v!r}" for k, v in self.options.items())
        return f"<Law '{self.name}'{' (' + opts + ')' if opts else ''}: {self.formula}>"

    def describe(self) -> str:
        """Formula, parameters and citation, for ``scaling laws`` and summaries."""
        return f"{self.name}: {self.formula}\n  parameters: {', '.join(self.param_names)}\n  {self.reference}"


def check_variables(law: Law, X: Mapping[str, FloatArray]) -> None:
    missing = [v for v in law.variables if v not in X]
    if missing:
        raise DataError(format_message("The data", f"for law '{law.name}'", f"to provide {list(law.variables)}",
                                       f"no {missing}", "Add the column to the table (or derive it)."))


def grid_product(*axes: Sequence[float]) -> FloatArray:
    """Cartesian product of 1-D axes, shape (prod(len), len(axes))."""
    mesh = np.meshgrid(*[np.asarray(a, dtype=float) for a in axes], indexing="ij")
    return np.stack([m.ravel() for m in mesh], axis=1)


# ---------------------------------------------------------------------- fixed and tied parameters
def _normalise_constraints(fixed: dict[str, float], tied: dict[str, str]) -> tuple[dict[str, float], dict[str, str]]:
    """A parameter tied to a fixed one is fixed at the same value; a tie between two fixed parameters
    holds only if their values agree (then it is redundant and dropped)."""
    for p, q in list(tied.items()):
        if q in fixed and p not in fixed:
            fixed[p] = float(fixed[q])
            del tied[p]
        elif q in fixed and p in fixed:
            if float(fixed[p]) != float(fixed[q]):
                raise DataError(format_message("Tie", f"'{p}' -> '{q}'", "consistent with the fixed values",
                                               f"{p} = {fixed[p]!r} but {q} = {fixed[q]!r}", "Fix one of them only."))
            del tied[p]
    return fixed, tied


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

    def has_closed_form_optimum(self, flops_model: Any) -> bool:
        return self.base.has_closed_form_optimum(flops_model)

    def optimum(self, theta: Any, flops: Any, flops_model: Any, **options: Any) -> Any:
        """The base law's compute-optimal point (``theta`` holds every natural parameter, fixed ones included)."""
        return self.base.optimum(theta, flops, flops_model, **options)

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

    def affine_expand(self) -> tuple[FloatArray, FloatArray]:
        return self._M.copy(), self._c.copy()

    def compiled_kernel(self) -> str | None:
        return self.base.compiled_kernel()  # in internal coordinates: affine_expand maps to them

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
                mean_log = float(np.mean(np.log(np.asarray(X[var], dtype=float))))
                T[self._free.index(i), self._free.index(lead)] += mean_log
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

    def objective_kernel(self, loss: str, delta: float, X: Any, y: FloatArray) -> Any:
        return self.base.objective_kernel(loss, delta, X, y)  # in internal coordinates: expand/reduce apply

    def reduce_hess(self, Hz: FloatArray) -> FloatArray:
        M = self._M.astype(Hz.dtype)
        return M.T @ Hz @ M

    def constrain(self, fixed: Mapping[str, float] | None = None, tied: Mapping[str, str] | None = None) -> Law:
        return self.base.constrain(fixed={**self.fixed, **dict(fixed or {})}, tied={**self.tied, **dict(tied or {})})
