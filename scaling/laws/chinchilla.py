"""The Chinchilla parametric loss (Hoffmann et al. 2022, eq. 2)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from numpy.typing import ArrayLike

from ..errors import DataError, format_message
from .base import Evaluation, FloatArray, Law, check_variables, grid_product
from .registry import register_law
from .optimum import DEFAULT_RATIO_BOUNDS, Optimum

__all__ = ["Chinchilla", "HOFFMANN_GRID", "allocation_constants"]


def allocation_constants(theta: ArrayLike) -> dict[str, FloatArray]:
    """Hoffmann et al. 2022, eq. 4: ``G = (alpha A / (beta B))^(1/(alpha+beta))``, ``a = beta/(alpha+beta)``,
    ``b = alpha/(alpha+beta)`` — with ``E, A, B, alpha, beta`` — as columns ``(S, 1)`` of natural rows ``theta``.

    Under ``C = k N D`` the compute-optimal point is ``N_opt = G (C/k)^a``, ``D_opt = G^-1 (C/k)^b``
    (:meth:`Chinchilla.optimum`). This is the only implementation of eq. 4 in the package.
    """
    t = np.atleast_2d(np.asarray(theta, dtype=float))
    E, A, B, al, be = (t[:, i:i + 1] for i in range(5))
    with np.errstate(all="ignore"):
        G = (al * A / (be * B)) ** (1.0 / (al + be))
    return {"E": E, "A": A, "B": B, "alpha": al, "beta": be, "G": G, "a": be / (al + be), "b": al / (al + be)}


def _hoffmann_grid() -> FloatArray:
    # Hoffmann et al. 2022, App. D.2: alpha, beta in {0, 0.5, ..., 2}; e in {-1, -.5, ..., 1};
    # a, b in {0, 5, ..., 25}: 5*5*5*6*6 = 4500 starts. Internal order: (e, a, b, alpha, beta).
    return grid_product(np.arange(-1.0, 1.01, 0.5), np.arange(0.0, 25.1, 5.0), np.arange(0.0, 25.1, 5.0),
                        np.arange(0.0, 2.01, 0.5), np.arange(0.0, 2.01, 0.5))


HOFFMANN_GRID = _hoffmann_grid()


class Chinchilla(Law):
    r"""Chinchilla parametric loss, Hoffmann et al. 2022 (arXiv 2203.15556), eq. 2:

    .. math:: L(N, D) = E + \frac{A}{N^\alpha} + \frac{B}{D^\beta}

    * ``E`` — irreducible loss (nats/token): the entropy of text under this tokenizer;
    * ``A``, ``alpha`` — how loss falls with parameters N (a finite model's shortfall);
    * ``B``, ``beta`` — how loss falls with training tokens D (a finite run's shortfall).

    Fitted, as in the paper's eq. 11, in internal coordinates ``(e, a, b, alpha, beta)`` with
    ``E = exp(e)``, ``A = exp(a)``, ``B = exp(b)`` (a log-sum-exp), from Hoffmann's 4,500-point
    start grid. N counts all parameters including embeddings (App. F).

    Constraints, as for every law: ``get_law("chinchilla", tied={"beta": "alpha"})`` (Muennighoff et al.
    2023; Gadre et al. 2024), ``get_law("chinchilla", fixed={"E": 1.69})``.
    """

    name = "chinchilla"
    param_names = ("E", "A", "B", "alpha", "beta")
    transforms = ("log", "log", "log", "id", "id")
    variables = ("n_params", "n_tokens")
    formula = "L = E + A/N^alpha + B/D^beta"
    reference = ("Hoffmann et al. 2022, Training Compute-Optimal Large Language Models, arXiv 2203.15556, eq. 2 "
                 "(fit: eq. 11, App. D.2)")
    default_loss = "huber"
    default_delta = 1e-3

    log_linear_pairs = ((1, 3, "n_params"), (2, 4, "n_tokens"))

    def __init__(self, negative_exponents: bool = False) -> None:
        if not isinstance(negative_exponents, bool):
            raise DataError(format_message("Option negative_exponents", "of law 'chinchilla'", "True or False",
                                           repr(negative_exponents)))
        self.negative_exponents = negative_exponents

    @property
    def options(self) -> dict[str, Any]:
        return {"negative_exponents": True} if self.negative_exponents else {}

    def bounds(self) -> tuple[FloatArray, FloatArray]:
        """``alpha, beta >= 0``: a falling loss (a negative exponent is not a scaling law; allow it with
        ``get_law("chinchilla", negative_exponents=True)``). E, A, B > 0 through their log coordinates."""
        lo = np.array([0.0, 0.0, 0.0, 0.0, 0.0]) if not self.negative_exponents else np.array(
            [0.0, 0.0, 0.0, -np.inf, -np.inf])
        return lo, np.full(5, np.inf)

    @property
    def internal_names(self) -> tuple[str, ...]:
        return ("e", "a", "b", "alpha", "beta")

    def grid(self) -> FloatArray:
        return HOFFMANN_GRID.copy()

    def _evaluate(self, z: FloatArray, X: Mapping[str, FloatArray], grad: bool) -> Evaluation:
        check_variables(self, X)
        lnN = np.log(X["n_params"]).astype(z.dtype, copy=False)
        lnD = np.log(X["n_tokens"]).astype(z.dtype, copy=False)
        e, a, b, al, be = (z[:, i:i + 1] for i in range(5))
        with np.errstate(over="ignore", invalid="ignore"):
            t1 = al * lnN
            np.subtract(a, t1, out=t1)
            np.exp(t1, out=t1)
            t2 = be * lnD
            np.subtract(b, t2, out=t2)
            np.exp(t2, out=t2)
            t3 = np.exp(e)
            f = t1 + t2
            f += t3
        if not grad:
            return f, None

        def vjp(u: FloatArray) -> FloatArray:
            ut1 = u * t1
            ut2 = u * t2
            g = np.empty((u.shape[0], 5))
            g[:, 0] = u.sum(axis=1) * t3[:, 0]
            g[:, 1] = ut1.sum(axis=1)
            g[:, 2] = ut2.sum(axis=1)
            g[:, 3] = -(ut1 @ lnN)
            g[:, 4] = -(ut2 @ lnD)
            return g

        return f, vjp

    def objective_kernel(self, loss: str, delta: float, X: Mapping[str, FloatArray], y: FloatArray
                         ) -> Callable[[FloatArray, FloatArray | None], tuple[FloatArray, FloatArray]] | None:
        """The summed ``huber`` / ``squared_log`` / ``squared`` objective and its gradient in one fused pass
        (the multi-start engine's inner loop: 2-3x faster than evaluate + vjp on Epoch's data, fewer
        temporaries and numpy calls). Both exponent arguments come from one small matrix product
        [a, b, alpha, beta] @ M, both terms from one exp, and the four gradient sums from one product with
        the transposed design."""
        if loss not in ("huber", "squared_log", "squared"):
            return None
        check_variables(self, X)
        dt = np.asarray(y).dtype
        lnN = np.log(np.asarray(X["n_params"], dtype=float)).astype(dt)
        lnD = np.log(np.asarray(X["n_tokens"], dtype=float)).astype(dt)
        n = lnN.size
        M = np.zeros((4, 2 * n), dtype=dt)  # rows: a, b, alpha, beta -> [a - alpha lnN | b - beta lnD]
        M[0, :n], M[1, n:], M[2, :n], M[3, n:] = 1, 1, -lnN, -lnD
        G = np.ascontiguousarray(M.T)  # (2n, 4): d/d[a, b, alpha, beta] of the terms, times the terms
        yv = np.asarray(y, dtype=dt)
        logy = np.log(yv)
        d = dt.type(delta)
        log_space = loss != "squared"

        def kernel(z: FloatArray, W: FloatArray | None) -> tuple[FloatArray, FloatArray]:
            z = np.asarray(z, dtype=dt)
            k = z.shape[0]
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                t = z[:, 1:] @ M
                np.exp(t, out=t)
                f = np.add(t[:, :n], t[:, n:])
                E = np.exp(z[:, 0:1])
                f += E
                if log_space:
                    r = np.log(f)
                    r -= logy
                else:
                    r = f - yv
                if loss == "huber":
                    psi = np.clip(r, -d, d)
                    pw = psi if W is None else W * psi
                    obj = np.einsum("ij,ij->i", pw, r)  # sum w psi (r - psi/2) = Huber, no branches
                    obj -= 0.5 * np.einsum("ij,ij->i", pw, psi)
                else:
                    pw = r if W is None else W * r
                    obj = np.einsum("ij,ij->i", pw, r)
                    pw = 2.0 * pw
                u = pw / f if log_space else pw
                t3 = t.reshape(k, 2, n)
                t3 *= u[:, None, :]
                g = np.empty((k, 5), dtype=dt)
                g[:, 1:] = t @ G
                g[:, 0] = u.sum(axis=1) * E[:, 0]
            return obj, g

        return kernel

    def compiled_kernel(self) -> str | None:
        return "chinchilla"

    has_second_order = True

    def second_order(self, z: FloatArray, X: Mapping[str, FloatArray]) -> Any:
        lnN = np.log(X["n_params"]).astype(z.dtype, copy=False)
        lnD = np.log(X["n_tokens"]).astype(z.dtype, copy=False)
        e, a, b, al, be = (z[:, i:i + 1] for i in range(5))
        with np.errstate(over="ignore", invalid="ignore"):
            t1 = np.exp(a - al * lnN)
            t2 = np.exp(b - be * lnD)
            t3 = np.exp(e)
        f = t1 + t2 + t3
        J = np.empty(f.shape + (5,), dtype=f.dtype)
        J[..., 0] = t3
        J[..., 1] = t1
        J[..., 2] = t2
        J[..., 3] = -lnN * t1
        J[..., 4] = -lnD * t2
        lnN2, lnD2 = lnN * lnN, lnD * lnD

        def hvp2(u: FloatArray) -> FloatArray:
            H = np.zeros((u.shape[0], 5, 5), dtype=u.dtype)
            ut1, ut2 = u * t1, u * t2
            H[:, 0, 0] = u.sum(axis=1) * t3[:, 0]
            H[:, 1, 1] = ut1.sum(axis=1)
            H[:, 1, 3] = H[:, 3, 1] = -(ut1 @ lnN)
            H[:, 3, 3] = ut1 @ lnN2
            H[:, 2, 2] = ut2.sum(axis=1)
            H[:, 2, 4] = H[:, 4, 2] = -(ut2 @ lnD)
            H[:, 4, 4] = ut2 @ lnD2
            return H

        return f, J, hvp2

    # ------------------------------------------------------------------ compute-optimal point (eq. 4)
    def has_closed_form_optimum(self, flops_model: Any) -> bool:
        return getattr(flops_model, "coefficient", None) is not None

    def optimum(self, theta: ArrayLike, flops: ArrayLike, flops_model: Any, *, method: str = "auto",
                extra: Mapping[str, FloatArray] | None = None,
                ratio_bounds: tuple[float, float] = DEFAULT_RATIO_BOUNDS) -> Optimum:
        """Hoffmann et al. 2022 eq. 4 under a linear FLOPs rule ``C = kND`` (``D = C/(kN)`` exactly);
        the numeric isoFLOP minimisation for ``method="numeric"`` or any other rule."""
        if method == "numeric" or extra or not self.has_closed_form_optimum(flops_model):
            if method == "closed-form":
                model = getattr(flops_model, "name", flops_model)
                raise DataError(format_message("Argument method", "of the Chinchilla optimum", "'auto' or 'numeric' "
                                               "here", "'closed-form'", "Hoffmann eq. 4 needs a linear FLOPs rule "
                                               f"C = kND, but the FLOP model ({model}) is not linear."))
            return super().optimum(theta, flops, flops_model, method="numeric", extra=extra, ratio_bounds=ratio_bounds)
        k = float(flops_model.coefficient)
        C = np.asarray(flops, dtype=float).reshape(1, -1)
        c = allocation_constants(theta)
        with np.errstate(all="ignore"):
            N = c["G"] * (C / k) ** c["a"]
            D = C / (k * N)
        return Optimum(n_params=N, n_tokens=D, edge=np.zeros(N.shape, dtype=bool), method="closed-form")


def _options(law: Any) -> dict[str, Any]:
    return dict(law.options)


register_law("chinchilla", Chinchilla)
