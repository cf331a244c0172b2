r"""User-defined laws from a plain Python function (or an :class:`lmfit.Model`).

>>> import numpy as np, lmfit
>>> def law(n_params, n_tokens, E=1.7, A=400.0, B=400.0, alpha=0.3, beta=0.3):
...     return E + A / n_params**alpha + B / n_tokens**beta
>>> params = lmfit.Parameters()
>>> _ = params.add("E", value=1.7, min=0.0)
>>> _ = params.add("A", value=400.0, min=0.0)
>>> _ = params.add("B", value=400.0, min=0.0)
>>> _ = params.add("alpha", value=0.3, min=0.0, max=2.0)
>>> _ = params.add("beta", expr="alpha")           # tied: beta = alpha
>>> custom = CustomLaw(law, variables=("n_params", "n_tokens"), params=params, name="my-law")
>>> custom.param_names, custom.free_names
(('E', 'A', 'B', 'alpha', 'beta'), ('E', 'A', 'B', 'alpha'))
>>> theta = {"E": 1.7, "A": 400, "B": 400, "alpha": 0.3, "beta": 0.3}
>>> float(custom.predict(theta, n_params=1e9, n_tokens=2e10))  # doctest: +ELLIPSIS
2.823...

Pass the instance to the fitter: ``fit(table, law=custom)``. A saved fit of a custom law records
``spec() == {"name": ..., "custom": True, "function": "module.qualname", ...}``; it cannot be
rebuilt by name (``get_law``) — reloading it needs the function again.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError, format_message
from .base import ConstrainedLaw, Evaluation, FloatArray, Law, check_variables


__all__ = ["CustomLaw"]

#: relative step of the central differences, ~ eps^(1/3) for float64
_FD_STEP = float(np.finfo(float).eps ** (1.0 / 3.0))


def _lmfit() -> Any:
    import lmfit  # a base dependency, imported when first needed (import time)

    return lmfit


class _CustomBase(Law):
    """The unconstrained custom law: every parameter free, transform ``"id"``."""

    default_loss = "squared_log"

    def __init__(self, model: Any, arg_to_column: dict[str, str], names: tuple[str, ...], lo: FloatArray,
                 hi: FloatArray, start: FloatArray, user_grid: FloatArray | None, name: str, func_label: str) -> None:
        self.model = model
        self.arg_to_column = dict(arg_to_column)
        self.param_names = names
        self.transforms = ("id",) * len(names)
        self.variables = tuple(arg_to_column.values())
        self.name = name  # type: ignore[misc]
        self.func_label = func_label
        self.formula = f"L = {func_label}({', '.join(arg_to_column)}; {', '.join(names)})"  # type: ignore[misc]
        self.reference = "user-defined law (scaling.laws.CustomLaw)"  # type: ignore[misc]
        self._lo, self._hi = lo.copy(), hi.copy()
        self._start = start.copy()
        self._user_grid = None if user_grid is None else user_grid.copy()
        self._vectorised: bool | None = None
        self.fd_columns = np.arange(len(names))

    @property
    def options(self) -> dict[str, Any]:
        return {"variables": dict(self.arg_to_column)}

    def bounds(self) -> tuple[FloatArray, FloatArray]:
        return self._lo.copy(), self._hi.copy()

    def grid(self) -> FloatArray:
        g = self._start[None, :]
        if self._user_grid is not None:
            g = np.concatenate([g, self._user_grid])
        return g.copy()

    # ------------------------------------------------------------------ calling the function
    def _call(self, theta: FloatArray, X: Mapping[str, FloatArray]) -> FloatArray:
        """Function values (S, n) in float64 at natural parameters ``theta`` (S, P)."""
        S = theta.shape[0]
        cols = {arg: np.asarray(X[col], dtype=float) for arg, col in self.arg_to_column.items()}
        n = len(next(iter(cols.values())))
        try:
            with np.errstate(all="ignore"):
                if self._vectorised is None:
                    self._vectorised = self._probe(theta, cols, n)
                if self._vectorised:
                    kw: dict[str, Any] = {a: v[None, :] for a, v in cols.items()}
                    kw.update({p: theta[:, j:j + 1] for j, p in enumerate(self.param_names)})
                    out = np.broadcast_to(np.asarray(self.model.eval(**kw), dtype=float), (S, n))
                    return np.array(out)
                out = np.empty((S, n))
                for s in range(S):
                    out[s] = self._call_row(theta[s], cols, n)
                return out
        except DataError:
            raise
        except Exception as exc:
            raise DataError(format_message("The function", f"of custom law '{self.name}' ({self.func_label})",
                                           "callable with numpy arrays of the variables and float parameters",
                                           f"{type(exc).__name__}: {exc}",
                                           "Check the function on one row of the table.")) from exc

    def _call_row(self, theta_row: FloatArray, cols: Mapping[str, FloatArray], n: int) -> FloatArray:
        kw: dict[str, Any] = dict(cols)
        kw.update({p: float(theta_row[j]) for j, p in enumerate(self.param_names)})
        r = np.asarray(self.model.eval(**kw), dtype=float)
        if r.size == 1:
            return np.full(n, float(r.reshape(-1)[0]))
        if r.shape != (n,):
            raise DataError(format_message("The function", f"of custom law '{self.name}' ({self.func_label})",
                                           f"to return one value per row ({n})", f"shape {r.shape}",
                                           "Return an array shaped like the variables."))
        return r

    def _probe(self, theta: FloatArray, cols: Mapping[str, FloatArray], n: int) -> bool:
        """Does the function broadcast a (S, 1) parameter column against (1, n) variables?

        Decided once per law, by comparing the broadcast call with row-by-row calls."""
        probe = theta[[0, -1]] if theta.shape[0] > 1 else np.vstack([theta[0], theta[0] * (1 + 1e-3) + 1e-3])
        try:
            kw: dict[str, Any] = {a: v[None, :] for a, v in cols.items()}
            kw.update({p: probe[:, j:j + 1] for j, p in enumerate(self.param_names)})
            r = np.broadcast_to(np.asarray(self.model.eval(**kw), dtype=float), (2, n))
        except Exception:
            return False
        rows = np.vstack([self._call_row(probe[i], cols, n) for i in range(2)])
        return bool(np.allclose(r, rows, rtol=1e-12, atol=0.0, equal_nan=True))

    def _evaluate(self, z: FloatArray, X: Mapping[str, FloatArray], grad: bool) -> Evaluation:
        check_variables(self, X)
        theta = np.asarray(z, dtype=float)
        f64 = self._call(theta, X)
        f = f64.astype(z.dtype, copy=False)
        if not grad:
            return f, None

        def vjp(u: FloatArray) -> FloatArray:
            # central differences (one-sided at a bound), all parameters and starts in one call
            S, P = theta.shape
            cols = self.fd_columns
            h = _FD_STEP * np.maximum(1.0, np.abs(theta[:, cols]))  # (S, m)
            hp = np.where(theta[:, cols] + h <= self._hi[cols], h, 0.0)
            hm = np.where(theta[:, cols] - h >= self._lo[cols], h, 0.0)
            m = len(cols)
            plus = np.repeat(theta[None, :, :], m, axis=0)  # (m, S, P)
            minus = plus.copy()
            for k, j in enumerate(cols):
                plus[k, :, j] += hp[:, k]
                minus[k, :, j] -= hm[:, k]
            both = np.concatenate([plus.reshape(m * S, P), minus.reshape(m * S, P)])
            fb = self._call(both, X)
            fp = fb[: m * S].reshape(m, S, -1)
            fm = fb[m * S:].reshape(m, S, -1)
            width = (hp + hm).T[:, :, None]  # (m, S, 1)
            with np.errstate(divide="ignore", invalid="ignore"):
                J = np.where(width > 0, (fp - fm) / np.where(width > 0, width, 1.0), 0.0)
            g = np.zeros((S, P))
            g[:, cols] = np.einsum("msn,sn->sm", J, np.asarray(u, dtype=float))
            return g

        return f, vjp


class CustomLaw(ConstrainedLaw):
    r"""A scaling law from any Python function, with lmfit-style parameters.

    Parameters
    ----------
    func : callable or lmfit.Model
        ``func(var1, var2, ..., p1, p2, ...)`` returning the predicted loss, one value per row.
        Parameter names are taken from the signature by ``lmfit.Model(func,
        independent_vars=...)`` (the arguments that are not variables). An :class:`lmfit.Model`
        (including a composite one) is used as given; its ``independent_vars`` are the variables
        unless ``variables`` says otherwise.
    variables : sequence of str or mapping, optional
        The table columns the function reads. A sequence names arguments that are *also* table
        columns (``("n_params", "n_tokens")``, the default for a function); a mapping renames:
        ``{"N": "n_params", "D": "n_tokens"}`` for ``def f(N, D, ...)``.
    params : lmfit.Parameters, optional
        Starting values, bounds (``min``/``max``), fixed parameters (``vary=False``) and ties
        (``expr="alpha"``: this parameter equals ``alpha``). Parameters not given take the
        function's defaults (``model.make_params()``). Only *plain* ties to another parameter
        are supported; any other ``expr`` raises :class:`~scaling.errors.DataError`.
    name : str, default ``"custom"``
        Name shown in summaries and saved specs.
    grid : DataFrame, mapping or array (k, P), optional
        Extra start points (natural units, all parameters) added to the single start given by
        the parameters' values.

    Notes
    -----
    * All parameters are optimised as they are (transform ``"id"``); bounds come from
      ``min``/``max``. Give scale constants a positive ``min``.
    * The gradient is by central finite differences (relative step ``eps^(1/3)``, one-sided next
      to a bound), computed for all starts in one batched call.
    * The function is called with parameters as ``(S, 1)`` columns and variables as ``(1, n)``
      rows, i.e. once for a whole batch of starts, if it broadcasts element-wise (checked once
      against row-by-row calls); otherwise it is called once per batch row with ``(n,)`` arrays
      and float parameters (slower, but any numpy function works).
    * :meth:`spec` marks the law as custom: a saved fit of it records the function's qualified
      name but cannot be reloaded by name — rebuild the ``CustomLaw`` and pass it again.
    * Default objective: squared log residuals (predictions must be > 0); pass ``loss="squared"``
      to the fitter for loss-space least squares.

    Raises
    ------
    DataError
        A variable that is not an argument of the function, a parameter without a finite
        starting value, a start outside its bounds, an unknown parameter in ``params``, or an
        ``expr`` that is not a plain tie.
    """

    monotone = False  # unknown: not checked

    def __init__(self, func: Callable[..., Any] | Any, variables: Sequence[str] | Mapping[str, str] | None = None,
                 params: Any = None, name: str = "custom", grid: Any = None) -> None:
        lmfit = _lmfit()
        if not isinstance(name, str) or not name.strip():
            raise DataError(format_message("Option name", "of CustomLaw", "a non-empty string", repr(name)))
        if isinstance(func, lmfit.Model):
            if variables is not None:
                arg_to_column = _variables_mapping(variables, name)
                missing = [a for a in arg_to_column if a not in func.independent_vars]
                if missing:
                    raise DataError(format_message("Variables", f"of custom law '{name}'",
                                                   f"independent variables of the model {func.independent_vars}",
                                                   repr(missing), "Build the lmfit.Model with independent_vars=..."))
            else:
                arg_to_column = {v: v for v in func.independent_vars}
            model = func
            label = getattr(model, "name", type(model).__name__)
        elif callable(func):
            arg_to_column = _variables_mapping(("n_params", "n_tokens") if variables is None else variables, name)
            label = _qualname(func)
            try:
                sig_args = list(inspect.signature(func).parameters)
            except (TypeError, ValueError):
                sig_args = []
            absent = [a for a in arg_to_column if sig_args and a not in sig_args]
            if absent:
                raise DataError(format_message("Variable", f"{absent} of custom law '{name}'",
                                               f"an argument of {label}{tuple(sig_args)}", repr(absent),
                                               "Name the function's arguments after the table columns, or pass "
                                               "variables={'N': 'n_params', ...}."))
            try:
                model = lmfit.Model(func, independent_vars=list(arg_to_column))
            except Exception as exc:
                raise DataError(format_message("The function", f"of custom law '{name}'",
                                               "usable by lmfit.Model", f"{type(exc).__name__}: {exc}")) from exc
        else:
            raise DataError(format_message("Argument func", f"of CustomLaw '{name}'", "a callable or an lmfit.Model",
                                           type(func).__name__))
        names = tuple(model.param_names)
        if not names:
            raise DataError(format_message("The function", f"of custom law '{name}' ({label})",
                                           "to have at least one parameter argument", "none",
                                           "Parameters are the arguments that are not variables."))
        defaults = model.make_params()
        spec_params = {p: defaults[p] for p in names}
        if params is not None:
            if not isinstance(params, lmfit.Parameters):
                raise DataError(format_message("Option params", f"of custom law '{name}'", "an lmfit.Parameters",
                                               type(params).__name__, "Build it with lmfit.Parameters().add(...)."))
            unknown = [p for p in params if p not in names]
            if unknown:
                raise DataError(format_message("Parameter", f"{unknown} of custom law '{name}'",
                                               f"one of {list(names)}", repr(unknown),
                                               "Parameters are the function's non-variable arguments."))
            spec_params.update({p: params[p] for p in params})
        fixed, tied, lo, hi, start = _read_parameters(spec_params, names, name)
        ug = None if grid is None else _user_grid(grid, names, name)
        base = _CustomBase(model, arg_to_column, names, lo, hi, start, ug, name, label)
        self._setup(base, fixed, tied)

    def _setup(self, base: _CustomBase, fixed: Mapping[str, float], tied: Mapping[str, str]) -> None:
        ConstrainedLaw.__init__(self, base, fixed=dict(fixed), tied=dict(tied))
        names = base.param_names
        base_fd = np.array([i for i, p in enumerate(names) if p not in self.fixed])
        base.fd_columns = base_fd

    @property
    def function(self) -> Any:
        """The lmfit.Model wrapping the user's function."""
        return self.base.model  # type: ignore[attr-defined]

    def spec(self) -> dict[str, Any]:
        """JSON description; ``"custom": True`` — cannot be rebuilt by :func:`~scaling.laws.get_law`."""
        lo, hi = self.base.bounds()
        return {"name": self.name, "custom": True, "function": self.base.func_label,  # type: ignore[attr-defined]
                "options": self.options,
                "bounds": {p: [_json_float(lo[i]), _json_float(hi[i])] for i, p in enumerate(self.param_names)},
                "note": "custom law: reloading a saved fit needs the function (rebuild the CustomLaw)"}

    def constrain(self, fixed: Mapping[str, float] | None = None, tied: Mapping[str, str] | None = None) -> Law:
        if not fixed and not tied:
            return self
        new = object.__new__(CustomLaw)
        f = {**self.fixed, **{k: float(v) for k, v in dict(fixed or {}).items()}}
        t = {**self.tied, **dict(tied or {})}
        for p in f:
            t.pop(p, None)
        new._setup(self.base, f, t)  # type: ignore[arg-type]
        return new

    def __repr__(self) -> str:
        label = self.base.func_label  # type: ignore[attr-defined]
        return f"<CustomLaw '{self.name}': {label}, parameters {list(self.param_names)}>"


# ---------------------------------------------------------------------- helpers
def _qualname(func: Any) -> str:
    mod = getattr(func, "__module__", None) or ""
    qn = getattr(func, "__qualname__", None) or getattr(func, "__name__", None) or type(func).__name__
    return f"{mod}.{qn}" if mod else str(qn)


def _json_float(v: float) -> float | str:
    return float(v) if np.isfinite(v) else ("inf" if v > 0 else "-inf")


def _variables_mapping(variables: Any, name: str) -> dict[str, str]:
    if isinstance(variables, str):
        variables = (variables,)
    if isinstance(variables, Mapping):
        out = {str(k): str(v) for k, v in variables.items()}
    elif isinstance(variables, Sequence):
        out = {str(v): str(v) for v in variables}
    else:
        out = {}
    if not out or any(not k or not v for k, v in out.items()):
        raise DataError(format_message("Option variables", f"of custom law '{name}'",
                                       "a non-empty sequence of column names or a mapping argument -> column",
                                       repr(variables), "E.g. variables=('n_params', 'n_tokens')."))
    return out


def _read_parameters(params: Any, names: tuple[str, ...], law: str
                     ) -> tuple[dict[str, float], dict[str, str], FloatArray, FloatArray, FloatArray]:
    P = len(names)
    lo = np.empty(P)
    hi = np.empty(P)
    start = np.empty(P)
    fixed: dict[str, float] = {}
    ties: dict[str, str] = {}
    for i, p in enumerate(names):
        par = params[p]
        lo[i] = -np.inf if par.min is None else float(par.min)
        hi[i] = np.inf if par.max is None else float(par.max)
        expr = par.expr
        if expr is not None and str(expr).strip():
            e = str(expr).strip()
            if e not in names:
                raise DataError(format_message("Expression", f"expr={expr!r} of parameter '{p}' of custom law '{law}'",
                                               f"a plain tie to another parameter (one of {list(names)})", repr(expr),
                                               "Only plain ties such as expr='alpha' are supported; write other "
                                               "relations into the function itself."))
            if e == p:
                raise DataError(format_message("Expression", f"of parameter '{p}' of custom law '{law}'",
                                               "a tie to another parameter", repr(expr)))
            ties[p] = e
            start[i] = np.nan
            continue
        v = par.value
        if v is None or not np.isfinite(v):
            raise DataError(format_message("Starting value", f"of parameter '{p}' of custom law '{law}'",
                                           "a finite number", repr(v),
                                           "Give the function a default for it or set params[...].value."))
        if not lo[i] <= hi[i]:
            raise DataError(format_message("Bounds", f"of parameter '{p}' of custom law '{law}'", "min <= max",
                                           f"min={lo[i]:g}, max={hi[i]:g}"))
        if not lo[i] <= v <= hi[i]:
            raise DataError(format_message("Starting value", f"of parameter '{p}' of custom law '{law}'",
                                           f"within its bounds [{lo[i]:g}, {hi[i]:g}]", f"{v:g}",
                                           "Move the value or the bound."))
        start[i] = float(v)
        if not par.vary:
            fixed[p] = float(v)
    # resolve chains of ties (a -> b -> c) and ties to fixed parameters
    tied: dict[str, str] = {}
    for p in ties:
        seen = [p]
        q = ties[p]
        while q in ties:
            if q in seen:
                raise DataError(format_message("Ties", f"of custom law '{law}'", "free of cycles",
                                               " -> ".join(seen + [q])))
            seen.append(q)
            q = ties[q]
        if q in fixed:
            fixed[p] = fixed[q]
        else:
            tied[p] = q
        start[names.index(p)] = start[names.index(q)]
    return fixed, tied, lo, hi, start


def _user_grid(grid: Any, names: tuple[str, ...], law: str) -> FloatArray:
    if isinstance(grid, Mapping) and not isinstance(grid, pd.Series):
        grid = pd.DataFrame(grid)
    if isinstance(grid, pd.DataFrame):
        missing = [p for p in names if p not in grid.columns]
        if missing:
            raise DataError(format_message("Option grid", f"of custom law '{law}'", f"columns {list(names)}",
                                           f"columns {list(grid.columns)}", f"Missing: {missing}."))
        g = grid[list(names)].to_numpy(dtype=float)
    else:
        g = np.atleast_2d(np.asarray(grid, dtype=float))
    if g.ndim != 2 or g.shape[1] != len(names) or not np.all(np.isfinite(g)):
        raise DataError(format_message("Option grid", f"of custom law '{law}'",
                                       f"finite values, shape (k, {len(names)}) in the order {list(names)}",
                                       f"shape {g.shape}"))
    return g
