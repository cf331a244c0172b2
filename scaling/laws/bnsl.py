r"""Broken neural scaling laws, Caballero et al. 2022 (arXiv 2210.14891), eq. 1."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import qmc

from ..errors import DataError, format_message
from .base import Evaluation, FloatArray, Law, check_variables, grid_product
from .registry import register_law
from .powerlaw import check_variable_option

__all__ = ["BNSL", "BNSL_FIG1", "bnsl_names"]

#: The shape parameters of the BNSL repository's Fig. 1 example (three breaks; a double-descent
#: bump between the second and third break). ``a`` and ``b`` are not part of the example.
BNSL_FIG1: dict[str, float] = {
    "c0": 0.05, "c1": 0.49, "c2": -0.811, "c3": 2.1,
    "d1": 3e6, "d2": 1e14, "d3": 2e20,
    "f1": 1.1, "f2": 1.425, "f3": 0.05,
}

_MAX_BREAKS = 10


def bnsl_names(n_breaks: int) -> tuple[str, ...]:
    """Parameter names of a BNSL with ``n_breaks`` breaks: ``a, b, c0, c1..ck, d1..dk, f1..fk``."""
    k = n_breaks
    return (("a", "b", "c0") + tuple(f"c{i}" for i in range(1, k + 1)) + tuple(f"d{i}" for i in range(1, k + 1))
            + tuple(f"f{i}" for i in range(1, k + 1)))


class BNSL(Law):
    r"""Broken neural scaling law, Caballero et al. 2022 (arXiv 2210.14891), eq. 1:

    .. math::

        y = a + b\,x^{-c_0} \prod_{i=1}^{k} \left(1 + \left(\frac{x}{d_i}\right)^{1/f_i}\right)^{-c_i f_i}

    A smoothly broken power law: ``k`` straight segments on log–log axes (of ``y - a``) joined at
    the breaks ``d_i``. Before the first break the slope is ``-c0``; after break ``i`` it is
    ``-(c0 + c1 + ... + ci)``; far beyond all breaks ``y - a ∝ x^(-(c0 + Σ c_i))``.

    Parameters
    ----------
    n_breaks : int, default 1
        Number of breaks ``k`` (0 ≤ k ≤ 10; 0 is a pure power law with offset).
    variable : str, default ``"n_params"``
        The table column ``x`` (``"n_params"``, ``"n_tokens"``, ``"flops"``, ``"step"``, ``"x"``, ...).
        ``options`` returns both, so ``get_law("bnsl", n_breaks=2, variable="flops")`` rebuilds it.

    Notes
    -----
    Law parameters (3 + 3k):

    * ``a`` — the limit of ``y`` as ``x -> inf`` (irreducible value), bounded ``a >= 0``;
    * ``b`` — scale of the first segment, ``y - a = b x^(-c0)`` for ``x << d_1`` (> 0; optimised as
      ``log_b``);
    * ``c0`` — slope of the first segment (free sign);
    * ``c_i`` — change of slope at break ``i`` (free sign: a negative ``c_i`` gives a rising
      segment, e.g. the rise of double descent);
    * ``d_i`` — location of break ``i`` in units of ``x`` (> 0; optimised as ``log_d_i``);
    * ``f_i`` — sharpness of break ``i``: smaller is sharper (> 0; optimised as ``log_f_i``).

    ``b x^(-c0) = exp(log_b - c0 log x)`` is log-linear, so the optimiser centres ``log x``.

    **Start grids.** :meth:`grid` is data-independent: for ``k = 0`` a 144-point product
    (``a`` in {0, 0.5, 1, 2}, ``log_b`` in {-2, 0, 3, 6, 10, 15}, ``c0`` in {0.05 … 1}); for ``k ≥ 1``
    a deterministic (unscrambled) Halton sample of 256 points with ``a`` in [0, 2], ``log_b`` in
    [-3, 15], ``c0`` in [-0.5, 1.5], ``c_i`` in [-1, 2], ``d_i`` log-uniform in [10, 1e22] (sorted)
    and ``f_i`` log-uniform in [0.05, 3]. :meth:`data_grid` builds a better grid from the data
    (breaks inside the observed range of ``x``, ``a`` below the smallest ``y``, ``b`` solved so the
    curve passes through the data); a fitter should prefer it when present.

    Caballero et al. fit by brute-force grid search on the squared error of ``log(y + 1)`` and then
    refine with ``curve_fit``; the default objective here is the squared log residual.
    """

    monotone = False  # a negative c_i is a rising segment (double descent)

    name = "bnsl"
    reference = ("Caballero et al. 2022, Broken Neural Scaling Laws, arXiv 2210.14891, eq. 1 "
                 "(repo ethancaballero/broken_neural_scaling_laws)")
    default_loss = "squared_log"

    def __init__(self, n_breaks: int = 1, variable: str = "n_params", c_max: float | None = None) -> None:
        is_int = isinstance(n_breaks, (int, np.integer)) and not isinstance(n_breaks, bool)
        if not is_int or not 0 <= n_breaks <= _MAX_BREAKS:
            raise DataError(format_message("Option n_breaks", "of law 'bnsl'", f"an integer in [0, {_MAX_BREAKS}]",
                                           repr(n_breaks), "One break per bend of the curve (1 or 2 is typical)."))
        self.n_breaks = int(n_breaks)
        self.variable = check_variable_option(variable, self.name)
        if c_max is not None and not (np.isfinite(c_max) and c_max > 0):
            raise DataError(format_message("Option c_max", "of law 'bnsl'", "a finite number > 0 or None",
                                           repr(c_max), "It bounds every slope change |c_i| (e.g. 5)."))
        self.c_max = None if c_max is None else float(c_max)
        k = self.n_breaks
        self.param_names = bnsl_names(k)
        self.transforms = ("id", "log", "id") + ("id",) * k + ("log",) * (2 * k)
        self.variables = (self.variable,)
        self.log_linear_pairs = ((1, 2, self.variable),)  # type: ignore[misc]
        x = self.variable
        self.formula = (f"y = a + b*{x}^(-c0)" + "".join(f" * (1 + ({x}/d{i})^(1/f{i}))^(-c{i}*f{i})"
                                                      for i in range(1, k + 1)))  # type: ignore[misc]

    @property
    def options(self) -> dict[str, Any]:
        opts: dict[str, Any] = {"n_breaks": self.n_breaks, "variable": self.variable}
        if self.c_max is not None:
            opts["c_max"] = self.c_max
        return opts

    def bounds(self) -> tuple[FloatArray, FloatArray]:
        """``a >= 0``; with ``c_max``, ``|c_i| <= c_max`` for every slope change. Unbounded slopes let a
        few points be threaded by a curve that spikes between them (a 2-break fit to the 16 datablations
        points reaches a loss of 10^4 between two runs); ``c_max`` keeps the fit physical."""
        lo = np.full(self.n_params, -np.inf)
        hi = np.full(self.n_params, np.inf)
        lo[0] = 0.0
        if self.c_max is not None:
            lo[2:3 + self.n_breaks] = -self.c_max
            hi[2:3 + self.n_breaks] = self.c_max
        return lo, hi

    # ------------------------------------------------------------------ start grids
    def grid(self) -> FloatArray:
        k = self.n_breaks
        if k == 0:
            return grid_product((0.0, 0.5, 1.0, 2.0), (-2.0, 0.0, 3.0, 6.0, 10.0, 15.0),
                                (0.05, 0.1, 0.2, 0.4, 0.7, 1.0))
        h = _halton(3 + 3 * k, 256)
        z = np.empty_like(h)
        z[:, 0] = 2.0 * h[:, 0]
        z[:, 1] = -3.0 + 18.0 * h[:, 1]
        z[:, 2] = -0.5 + 2.0 * h[:, 2]
        z[:, 3:3 + k] = -1.0 + 3.0 * h[:, 3:3 + k]
        z[:, 3 + k:3 + 2 * k] = np.sort(np.log(10.0) + np.log(1e21) * h[:, 3 + k:3 + 2 * k], axis=1)
        z[:, 3 + 2 * k:] = np.log(0.05) + np.log(60.0) * h[:, 3 + 2 * k:]
        return z

    def data_grid(self, X: Mapping[str, ArrayLike], y: ArrayLike) -> FloatArray:
        """A start grid (internal coordinates) adapted to the data ``X[variable]``, ``y``.

        Breaks are placed inside the observed range of ``log x``, ``a`` in [0, 0.95]·min(y), and
        ``log_b`` is solved for each start so that the curve matches the data on average in log
        space (given the other parameters). ``k = 0``: 3 x 9 product of ``a`` and ``c0``;
        ``k ≥ 1``: a deterministic Halton sample of ``min(128 (k + 1), 512)`` points over
        ``a``, ``c0`` in [-0.5, 1.5], ``c_i`` in [-1, 2], ``log d_i`` in [min, max] of ``log x``
        (sorted) and ``f_i`` log-uniform in [0.05, 2].

        Raises
        ------
        DataError
            If ``X`` lacks the variable, or ``x``/``y`` are not finite and > 0.
        """
        check_variables(self, X)  # type: ignore[arg-type]
        x = np.asarray(X[self.variable], dtype=float).ravel()
        yy = np.asarray(y, dtype=float).ravel()
        for what, v in ((f"Column '{self.variable}'", x), ("Column 'loss'", yy)):
            bad = ~(np.isfinite(v) & (v > 0))
            if v.size == 0 or bad.any():
                raise DataError(format_message(what, "passed to BNSL.data_grid()", "non-empty, finite and > 0",
                                               f"{int(bad.sum())} bad value(s) of {v.size}",
                                               "Remove rows with non-positive values."))
        if x.shape != yy.shape:
            raise DataError(format_message("Arguments X and y", "of BNSL.data_grid()", "of equal length",
                                           f"{x.size} and {yy.size}"))
        k = self.n_breaks
        lx = np.log(x)
        lo, hi = float(lx.min()), float(lx.max())
        if hi - lo < 1e-12:
            hi = lo + 1.0
        ymin = float(yy.min())
        if k == 0:
            z = grid_product((0.0, 0.5, 0.9), (0.0,), np.linspace(-0.5, 1.5, 9))
        else:
            m = min(128 * (k + 1), 512)
            h = _halton(3 + 3 * k, m)
            z = np.empty_like(h)
            z[:, 0] = 0.95 * h[:, 0]
            z[:, 1] = 0.0
            z[:, 2] = -0.5 + 2.0 * h[:, 2]
            z[:, 3:3 + k] = -1.0 + 3.0 * h[:, 3:3 + k]
            z[:, 3 + k:3 + 2 * k] = np.sort(lo + (hi - lo) * h[:, 3 + k:3 + 2 * k], axis=1)
            z[:, 3 + 2 * k:] = np.log(0.05) + np.log(40.0) * h[:, 3 + 2 * k:]
        z[:, 0] *= ymin  # a as a fraction of min(y)
        # solve log_b: mean over points of log(y - a) - log(shape) with log_b = 0
        z0 = z.copy()
        z0[:, 0] = 0.0  # the shape b x^(-c0) prod(...) with b = 1, a = 0 (no cancellation)
        f0, _ = self._evaluate(z0, {self.variable: x}, grad=False)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            lshape = np.log(f0)
            lb = np.mean(np.log(yy - z[:, 0:1]) - lshape, axis=1)
        z[:, 1] = lb
        keep = np.isfinite(z).all(axis=1)
        return z[keep]

    # ------------------------------------------------------------------ evaluation
    def _evaluate(self, z: FloatArray, X: Mapping[str, FloatArray], grad: bool) -> Evaluation:
        check_variables(self, X)
        k = self.n_breaks
        lx = np.log(np.asarray(X[self.variable])).astype(z.dtype, copy=False)
        a, lb, c0 = z[:, 0:1], z[:, 1:2], z[:, 2:3]
        C = z[:, 3:3 + k]
        LD = z[:, 3 + k:3 + 2 * k]
        F = np.exp(z[:, 3 + 2 * k:3 + 3 * k])
        qs, sps = [], []
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            g = lb - c0 * lx
            for i in range(k):
                q = (lx - LD[:, i:i + 1]) / F[:, i:i + 1]
                sp = np.logaddexp(0.0, q)  # log(1 + (x/d)^(1/f))
                g = g - (C[:, i:i + 1] * F[:, i:i + 1]) * sp
                qs.append(q)
                sps.append(sp)
            h = np.exp(g)
            f = a + h
        if not grad:
            return f, None

        def vjp(u: FloatArray) -> FloatArray:
            with np.errstate(over="ignore", invalid="ignore"):
                uh = u * h
                out = np.empty((u.shape[0], 3 + 3 * k), dtype=np.result_type(u, f))
                out[:, 0] = u.sum(axis=1)
                out[:, 1] = uh.sum(axis=1)
                out[:, 2] = -(uh @ lx)
                for i in range(k):
                    q, sp = qs[i], sps[i]
                    sig = np.exp(q - sp)  # sigmoid(q)
                    ci, fi = C[:, i], F[:, i]
                    out[:, 3 + i] = -(uh * sp).sum(axis=1) * fi
                    out[:, 3 + k + i] = (uh * sig).sum(axis=1) * ci
                    out[:, 3 + 2 * k + i] = -(uh * (sp - q * sig)).sum(axis=1) * (ci * fi)
            return out

        return f, vjp


def _halton(d: int, m: int) -> FloatArray:
    """First ``m`` points (after the origin) of the unscrambled Halton sequence in [0, 1)^d: deterministic."""
    return qmc.Halton(d=d, scramble=False).random(m + 1)[1:]


register_law("bnsl", BNSL)
