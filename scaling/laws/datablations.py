r"""The data-constrained scaling law of Muennighoff et al. 2023 (arXiv 2305.16264).

(Formula as implemented in the authors' notebook; the paper's equation number is not verified here.)

Repeated data is worth less than fresh data, and parameters beyond what the unique data can use
are worth less than useful ones. Both are modelled by an *effective* count that saturates:

.. math::

    L = E + \frac{A}{N'^{\alpha}} + \frac{B}{D'^{\beta}},\qquad
    D' = U_D + U_D R_D^{*}\,(1 - e^{-R_D/R_D^{*}}),\qquad
    N' = U_N + U_N R_N^{*}\,(1 - e^{-R_N/R_N^{*}})

with

* ``U_D = min(n_unique_tokens, n_tokens)`` the unique tokens seen, ``R_D = D/U_D - 1 >= 0`` the
  repetitions (epochs - 1);
* ``U_N = min(N_opt(U_D), N)``, ``R_N = N/U_N - 1 >= 0`` the "excess" parameters, where
  ``N_opt(U_D) = G (G U_D)^(beta/alpha)``, ``G = (alpha A / (beta B))^(1/(alpha+beta))`` is the
  compute-optimal size of the Chinchilla part for a budget whose optimal data is ``U_D``
  (``N_opt(C) = G (C/6)^(beta/(alpha+beta))`` evaluated at ``C = 6 (G U_D)^((alpha+beta)/alpha)``).

This follows the official notebook ``utils/parametric_fit.ipynb`` of ``huggingface/datablations``
exactly (``scaling_law``: ``rd = max(D/U - 1, 0)``, ``UN = min(N, optimal_N(D_to_C(U)))``,
``rn = max(N/UN - 1, 0)``); note that ``U_N`` depends on ``A, B, alpha, beta``. The only addition is
``U_D = min(U, D)`` (the notebook's plots pass ``min(D, U)``): a run that saw fewer tokens than the
unique pool is a single-epoch run on ``D`` tokens.

As the number of epochs grows, ``D' -> (1 + R_D*) U_D`` (16.39 U_D with the published
``R_D* = 15.39``); ``D'/D`` is 0.931 after 4 epochs, 0.661 after 16, 0.379 after 40.
"""

from __future__ import annotations

from collections.abc import Mapping
import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..errors import DataError, format_message
from .base import Evaluation, FloatArray, Law, check_variables, grid_product
from .registry import register_law

__all__ = ["Datablations", "datablations", "MUENNIGHOFF_2023", "MUENNIGHOFF_2023_INTERNAL", "effective_data",
           "effective_params"]

#: The notebook's fitted constants in the LSE coordinates of Hoffmann eq. 11 (C4 Chinchilla part,
#: alpha = beta tied) and the decay constants of step 2.
MUENNIGHOFF_2023_INTERNAL: dict[str, float] = {
    "a": 6.255414, "b": 7.3049974, "e": 0.6254804, "alpha": 0.3526596, "beta": 0.3526596,
    "R_D_star": 15.387756, "R_N_star": 5.309743,
}

#: Published constants (README / notebook of huggingface/datablations; REFERENCE §4), natural units:
#: A = 520.82, B = 1487.72, E = 1.8691 (exp of a, b, e at full precision).
MUENNIGHOFF_2023: dict[str, float] = {
    "E": float(np.exp(MUENNIGHOFF_2023_INTERNAL["e"])),
    "A": float(np.exp(MUENNIGHOFF_2023_INTERNAL["a"])),
    "B": float(np.exp(MUENNIGHOFF_2023_INTERNAL["b"])),
    "alpha": MUENNIGHOFF_2023_INTERNAL["alpha"],
    "beta": MUENNIGHOFF_2023_INTERNAL["beta"],
    "R_D_star": MUENNIGHOFF_2023_INTERNAL["R_D_star"],
    "R_N_star": MUENNIGHOFF_2023_INTERNAL["R_N_star"],
}

_CHINCHILLA_PART = ("E", "A", "B", "alpha", "beta")


def _decay(R: FloatArray, R_star: FloatArray) -> FloatArray:
    """``R* (1 - exp(-R/R*))``; equals ``R`` for ``R* -> inf`` and 0 for ``R = 0``."""
    return -R_star * np.expm1(-R / R_star)


def effective_data(n_tokens: ArrayLike, n_unique_tokens: ArrayLike,
                   R_D_star: float = MUENNIGHOFF_2023["R_D_star"]) -> NDArray[np.float64]:
    """Effective data ``D' = U_D + U_D R_D* (1 - exp(-R_D/R_D*))`` (Muennighoff et al. 2023).

    ``U_D = min(n_unique_tokens, n_tokens)``, ``R_D = D/U_D - 1``.
    """
    D = np.asarray(n_tokens, dtype=float)
    U = np.minimum(np.asarray(n_unique_tokens, dtype=float), D)
    return U * (1.0 + _decay(D / U - 1.0, R_D_star))


def _log_n_opt(lU: FloatArray, la: FloatArray, lb: FloatArray, al: FloatArray, be: FloatArray
               ) -> tuple[FloatArray, FloatArray]:
    """log N_opt(U_D) and log G (see module docstring)."""
    lG = (np.log(al) + la - np.log(be) - lb) / (al + be)
    return lG + (be / al) * (lG + lU), lG


def effective_params(n_params: ArrayLike, n_tokens: ArrayLike, n_unique_tokens: ArrayLike,
                     params: Mapping[str, float] = MUENNIGHOFF_2023) -> NDArray[np.float64]:
    """Effective parameters ``N'`` (Muennighoff et al. 2023), with ``U_N = min(N_opt(U_D), N)``.

    ``params`` needs ``A, B, alpha, beta, R_N_star`` (natural units; defaults: the published values).
    """
    N = np.asarray(n_params, dtype=float)
    U = np.minimum(np.asarray(n_unique_tokens, dtype=float), np.asarray(n_tokens, dtype=float))
    lno, _ = _log_n_opt(np.log(U), np.log(params["A"]), np.log(params["B"]), params["alpha"], params["beta"])
    UN = np.minimum(np.exp(lno), N)
    return UN * (1.0 + _decay(N / UN - 1.0, params["R_N_star"]))


class Datablations(Law):
    r"""Data-constrained scaling law, Muennighoff et al. 2023 (arXiv 2305.16264)
    (the official notebook ``utils/parametric_fit.ipynb`` of ``huggingface/datablations``):

    .. math:: L(N, D, U_D) = E + \frac{A}{N'^{\alpha}} + \frac{B}{D'^{\beta}}

    with the effective data ``D'`` and effective parameters ``N'`` of the module docstring.

    Notes
    -----
    Law parameters:

    * ``E, A, B, alpha, beta`` — the Chinchilla part (Hoffmann et al. 2022, eq. 2): loss of a model
      trained once on fresh data (``E, A, B`` optimised as logs);
    * ``R_D_star`` — the "half-life" of repeated data in epochs: the value of the ``R_D``-th
      repetition decays as ``exp(-R_D/R_D*)``, and at most ``R_D*`` epochs' worth of extra data is
      ever gained (published 15.39; > 0, optimised as ``log_R_D_star``);
    * ``R_N_star`` — the same for parameters in excess of ``N_opt(U_D)`` (published 5.31; > 0,
      optimised as ``log_R_N_star``).

    Variables: ``n_params`` (N), ``n_tokens`` (D, total training tokens) and ``n_unique_tokens``
    (U, the unique-token pool). Bounds: ``alpha, beta`` in [1e-3, 3] (``N_opt`` takes their logs).

    The authors fit in two steps (REFERENCE §4): first ``E, A, B, alpha = beta`` on Chinchilla data,
    then ``R_D*, R_N*`` with the rest frozen, from a 4 x 4 grid; reproduce step 2 with
    ``datablations(freeze_chinchilla=True)`` or ``law.constrain(fixed={...})``. Default objective:
    Huber (delta = 1e-3) on log residuals, as theirs. The start grid (internal coordinates, 288
    points): ``log_E`` in {0.3, 0.8}, ``log_A`` in {5, 7}, ``log_B`` in {5.5, 8}, ``alpha, beta`` in
    {0.25, 0.45}, and ``R_D*, R_N*`` each in {1.5, 6, 24}; with the Chinchilla part fixed it reduces to
    the 9 decay-constant pairs. The gradient is analytic (including the dependence of ``U_N`` on
    ``A, B, alpha, beta`` where ``N > N_opt(U_D)``).
    """

    name = "datablations"
    param_names = ("E", "A", "B", "alpha", "beta", "R_D_star", "R_N_star")
    transforms = ("log", "log", "log", "id", "id", "log", "log")
    variables = ("n_params", "n_tokens", "n_unique_tokens")
    formula = ("L = E + A/N'^alpha + B/D'^beta; D' = U_D(1 + R_D*(1 - exp(-R_D/R_D*))), R_D = D/U_D - 1; "
               "N' = U_N(1 + R_N*(1 - exp(-R_N/R_N*))), U_N = min(N_opt(U_D), N), R_N = N/U_N - 1")
    reference = ("Muennighoff et al. 2023, Scaling Data-Constrained Language Models, arXiv 2305.16264 "
                 "(as implemented in the official notebook utils/parametric_fit.ipynb of huggingface/datablations)")
    default_loss = "huber"
    default_delta = 1e-3

    def bounds(self) -> tuple[FloatArray, FloatArray]:
        lo = np.array([0.0, 0.0, 0.0, 1e-3, 1e-3, 0.0, 0.0])
        hi = np.array([np.inf, np.inf, np.inf, 3.0, 3.0, np.inf, np.inf])
        return lo, hi

    def grid(self) -> FloatArray:
        r = np.log([1.5, 6.0, 24.0])
        return grid_product((0.3, 0.8), (5.0, 7.0), (5.5, 8.0), (0.25, 0.45), (0.25, 0.45), r, r)

    def _evaluate(self, z: FloatArray, X: Mapping[str, FloatArray], grad: bool) -> Evaluation:
        check_variables(self, X)
        dt = z.dtype
        N = np.asarray(X["n_params"], dtype=float)
        D = np.asarray(X["n_tokens"], dtype=float)
        U = np.minimum(np.asarray(X["n_unique_tokens"], dtype=float), D)
        lN = np.log(N).astype(dt)
        lU = np.log(U).astype(dt)
        RD = (D / U - 1.0).astype(dt)  # computed in float64 before the cast
        le, la, lb, al, be, lrd, lrn = (z[:, i:i + 1] for i in range(7))
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            rd = np.exp(lrd)
            rn = np.exp(lrn)
            # data side: D' = U (1 + rd (1 - exp(-RD/rd)))
            xd = RD / rd
            ed = np.exp(-xd)
            hd = 1.0 + rd * (-np.expm1(-xd))
            lDp = lU + np.log(hd)
            t2 = np.exp(lb - be * lDp)
            # parameter side: U_N = min(N_opt, N)
            lno, lG = _log_n_opt(lU, la, lb, al, be)
            excess = lN > lno  # N > N_opt: U_N = N_opt, R_N = N/N_opt - 1
            lUN = np.where(excess, lno, lN)
            ratio = np.exp(lN - lUN)  # N / U_N >= 1
            RN = ratio - 1.0
            xn = RN / rn
            en = np.exp(-xn)
            hn = 1.0 + rn * (-np.expm1(-xn))
            lNp = lUN + np.log(hn)
            t1 = np.exp(la - al * lNp)
            eE = np.exp(le)
            f = t1 + t2 + eE
        if not grad:
            return f, None

        def vjp(u: FloatArray) -> FloatArray:
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                ut1 = u * t1
                ut2 = u * t2
                # d log N' / d log U_N (only where excess): U_N/N' * dN'/dU_N,
                # dN'/dU_N = hn - ratio * exp(-RN/rn)
                dlNp_dlUN = np.where(excess, (hn - ratio * en) / hn, 0.0)
                # d log N_opt / d (la, lb, al, be)
                s = lG + lU
                dla = 1.0 / al
                dal = 1.0 / (al * al) - lG / al - (be / (al * al)) * s
                dbe = -1.0 / (al * be) - lG / al + s / al
                # common factor: d t1 / d log U_N = -al * t1 * dlNp_dlUN
                c = -(ut1 * dlNp_dlUN) * al
                cs = c.sum(axis=1)
                g = np.empty((u.shape[0], 7), dtype=np.result_type(u, f))
                g[:, 0] = u.sum(axis=1) * eE[:, 0]
                g[:, 1] = ut1.sum(axis=1) + cs * dla[:, 0]
                g[:, 2] = ut2.sum(axis=1) - cs * dla[:, 0]
                g[:, 3] = -(ut1 * lNp).sum(axis=1) + (c * dal).sum(axis=1)
                g[:, 4] = -(ut2 * lDp).sum(axis=1) + (c * dbe).sum(axis=1)
                # d log D' / d log rd = rd * (1 - e - x e) / hd
                g[:, 5] = -(ut2 * (rd * (-np.expm1(-xd) - xd * ed) / hd)).sum(axis=1) * be[:, 0]
                g[:, 6] = -(ut1 * (rn * (-np.expm1(-xn) - xn * en) / hn)).sum(axis=1) * al[:, 0]
            return g

        return f, vjp


def datablations(freeze_chinchilla: bool = False) -> Law:
    """Build the Muennighoff et al. 2023 law with options (see :class:`Datablations`).

    Parameters
    ----------
    freeze_chinchilla : bool
        Hold ``E, A, B, alpha, beta`` at the published C4 values (:data:`MUENNIGHOFF_2023`) and fit
        only ``R_D_star, R_N_star`` — the authors' step 2.

    Further constraints as for every law: ``get_law("datablations", tied={"beta": "alpha"})`` (the
    published fit), ``fixed={...}`` (these override ``freeze_chinchilla``'s).
    """
    if not isinstance(freeze_chinchilla, bool):
        raise DataError(format_message("Option freeze_chinchilla", "of law 'datablations'", "True or False",
                                       repr(freeze_chinchilla)))
    if not freeze_chinchilla:
        return Datablations()
    return Datablations().constrain(fixed={p: MUENNIGHOFF_2023[p] for p in _CHINCHILLA_PART})


register_law("datablations", datablations)
