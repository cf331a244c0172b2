r"""Kaplan et al. 2020, *Scaling Laws for Neural Language Models* (arXiv 2001.08361).

Five laws, each registered by name:

=============  =======================================================  ==========================
name           formula                                                  paper
=============  =======================================================  ==========================
``kaplan-n``   :math:`L(N) = (N_c/N)^{\alpha_N}`                        eq. 1.1 (Table 5)
``kaplan-d``   :math:`L(D) = (D_c/D)^{\alpha_D}`                        eq. 1.2 (Table 5)
``kaplan-c``   :math:`L(C_{min}) = (C_c/C_{min})^{\alpha_C}`            eq. 1.3 (Table 5)
``kaplan-nd``  :math:`L(N,D) = [(N_c/N)^{\alpha_N/\alpha_D} + D_c/D]^{\alpha_D}`  eq. 1.5 / 4.1 (Table 2)
``kaplan-ns``  :math:`L(N,S_{min}) = (N_c/N)^{\alpha_N} + (S_c/S_{min})^{\alpha_S}`  eq. 1.6 / 5.6 (Table 3)
=============  =======================================================  ==========================

Conventions (Kaplan §1.3, §2.1): ``N`` counts *non-embedding* parameters; ``D`` is training tokens;
``C`` is training compute. The paper quotes ``C_c`` in PF-days; these laws are fitted in **FLOPs**
(the ``flops`` column), so a fitted ``C_c`` is in FLOPs — convert with :func:`to_pf_days`
(1 PF-day = :data:`scaling.units.PF_DAY` = 8.64e19 FLOP).

Every scale constant (``N_c``, ``D_c``, ``C_c``, ``S_c``) is optimised as its logarithm; the
exponents are optimised as they are and bounded below by 0 (``alpha_D`` of ``kaplan-nd`` by 1e-3,
since it divides). The paper states no fitting objective [U]; the default here is the sum of
squared log residuals (``default_loss = "squared_log"``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..errors import DataError, format_message
from ..units import PF_DAY
from .base import Evaluation, FloatArray, Law, check_variables, grid_product
from .registry import register_law

__all__ = [
    "KaplanN", "KaplanD", "KaplanC", "KaplanND", "KaplanNS",
    "KAPLAN_2020", "to_pf_days", "from_pf_days", "s_min", "b_crit",
]

_REF = "Kaplan et al. 2020, Scaling Laws for Neural Language Models, arXiv 2001.08361"

#: Published constants (REFERENCE §1). ``C_c`` is given in FLOPs (the paper's PF-days x 8.64e19).
#: Each entry maps a registered law name (or a labelled variant) to natural parameter values.
KAPLAN_2020: dict[str, dict[str, float]] = {
    # Table 5 / eq. 1.1-1.3
    "kaplan-n": {"N_c": 8.8e13, "alpha_N": 0.076},
    "kaplan-d": {"D_c": 5.4e13, "alpha_D": 0.095},
    "kaplan-c": {"C_c": 3.1e8 * PF_DAY, "alpha_C": 0.050},
    # eq. 3.3, fixed batch size (C not C_min)
    "kaplan-c-fixed-batch": {"C_c": 1.6e7 * PF_DAY, "alpha_C": 0.057},
    # Table 2, the joint fit of eq. 1.5 (do not mix with Table 5)
    "kaplan-nd": {"N_c": 6.4e13, "D_c": 1.8e13, "alpha_N": 0.076, "alpha_D": 0.103},
    # Table 3, eq. 1.6 fitted on all steps after warmup
    "kaplan-ns": {"N_c": 6.5e13, "S_c": 2.1e3, "alpha_N": 0.077, "alpha_S": 0.76},
}

#: Critical-batch constants of eq. 1.4 / 5.3 (Table 5): B_* in tokens, alpha_B.
B_STAR: float = 2.1e8
ALPHA_B: float = 0.21

_LN10 = np.log(10.0)


def to_pf_days(flops: ArrayLike) -> NDArray[np.float64]:
    """FLOPs -> PF-days (1 PF-day = 1e15 FLOP/s x 86400 s = 8.64e19 FLOP; Kaplan et al. 2020 §1.3).

    >>> float(to_pf_days(8.64e19))
    1.0
    """
    return np.asarray(flops, dtype=float) / PF_DAY


def from_pf_days(pf_days: ArrayLike) -> NDArray[np.float64]:
    """PF-days -> FLOPs; e.g. Kaplan's ``C_c = 3.1e8`` PF-days is ``from_pf_days(3.1e8)`` = 2.68e28 FLOP."""
    return np.asarray(pf_days, dtype=float) * PF_DAY


def b_crit(loss: ArrayLike, B_star: float = B_STAR, alpha_B: float = ALPHA_B) -> NDArray[np.float64]:
    """Critical batch size in tokens, ``B_crit(L) = B_* / L^(1/alpha_B)`` (Kaplan eq. 1.4 / 5.3).

    ``loss`` in nats/token; defaults are Table 5's ``B_* = 2.1e8`` tokens, ``alpha_B = 0.21``.
    """
    L = np.asarray(loss, dtype=float)
    if not np.all(np.isfinite(L) & (L > 0)):
        raise DataError(format_message("Argument loss", "of b_crit()", "finite and > 0",
                                       np.array2string(L[~(np.isfinite(L) & (L > 0))][:5]),
                                       "Pass losses in nats per token."))
    return B_star / L ** (1.0 / alpha_B)


def s_min(steps: ArrayLike, batch_tokens: ArrayLike, loss: ArrayLike, B_star: float = B_STAR,
          alpha_B: float = ALPHA_B) -> NDArray[np.float64]:
    """Minimum number of steps ``S_min = S / (1 + B_crit(L)/B)`` (Kaplan eq. 5.4).

    Converts the steps ``S`` actually taken at batch size ``B`` (tokens) to the steps a run at
    ``B >> B_crit`` would need to reach the same loss ``L``. Use it to build the ``step`` column
    that :class:`KaplanNS` reads (``kaplan-ns`` expects S_min there, not raw steps).

    Parameters
    ----------
    steps : array_like
        Optimiser steps taken (> 0).
    batch_tokens : array_like
        Batch size in tokens (> 0).
    loss : array_like
        Loss reached after ``steps`` (nats/token), which sets ``B_crit``.
    B_star, alpha_B : float
        Critical-batch constants (Table 5: 2.1e8 tokens, 0.21).
    """
    S = np.asarray(steps, dtype=float)
    B = np.asarray(batch_tokens, dtype=float)
    for name, v in (("steps", S), ("batch_tokens", B)):
        bad = ~(np.isfinite(v) & (v > 0))
        if np.any(bad):
            raise DataError(format_message(f"Argument {name}", "of s_min()", "finite and > 0",
                                           np.array2string(np.atleast_1d(v)[np.atleast_1d(bad)][:5])))
    return S / (1.0 + b_crit(loss, B_star, alpha_B) / B)


def _logx(X: Mapping[str, FloatArray], name: str, dtype: Any) -> FloatArray:
    return np.log(np.asarray(X[name])).astype(dtype, copy=False)


class _KaplanSingle(Law):
    r"""One-variable Kaplan law ``L(x) = (x_c / x)^alpha`` (internal ``(log x_c, alpha)``)."""

    default_loss = "squared_log"
    _x: str = "n_params"
    _c_axis: tuple[float, ...] = ()  # log10 of the scale constant
    _a_axis: tuple[float, ...] = ()

    def bounds(self) -> tuple[FloatArray, FloatArray]:
        return np.array([0.0, 0.0]), np.array([np.inf, np.inf])

    def grid(self) -> FloatArray:
        return grid_product(np.asarray(self._c_axis) * _LN10, self._a_axis)

    def _evaluate(self, z: FloatArray, X: Mapping[str, FloatArray], grad: bool) -> Evaluation:
        check_variables(self, X)
        lx = _logx(X, self._x, z.dtype)
        lc, al = z[:, 0:1], z[:, 1:2]
        with np.errstate(over="ignore", invalid="ignore"):
            d = lc - lx  # log(x_c / x)
            f = np.exp(al * d)
        if not grad:
            return f, None

        def vjp(u: FloatArray) -> FloatArray:
            uf = u * f
            g = np.empty((u.shape[0], 2), dtype=np.result_type(u, f))
            g[:, 0] = uf.sum(axis=1) * al[:, 0]
            g[:, 1] = (uf * d).sum(axis=1)
            return g

        return f, vjp


class KaplanN(_KaplanSingle):
    r"""Loss versus model size, Kaplan et al. 2020 (arXiv 2001.08361), eq. 1.1:

    .. math:: L(N) = \left(\frac{N_c}{N}\right)^{\alpha_N}

    Valid for models trained to convergence on enough data (early-stopped).

    **Law parameters**

    N_c : float
        Scale constant in non-embedding parameters: the size at which the law predicts 1 nat/token
        (Table 5: 8.8e13). Optimised as ``log_N_c``.
    alpha_N : float
        Exponent: each doubling of N divides the loss by ``2**alpha_N`` (Table 5: 0.076).

    Variables: ``n_params`` (non-embedding parameters). Start grid: N_c in 1e6…1e20 (15 decades),
    alpha_N in 0.02…1.0 (10 values), 150 starts.
    """

    name = "kaplan-n"
    param_names = ("N_c", "alpha_N")
    transforms = ("log", "id")
    variables = ("n_params",)
    formula = "L = (N_c/N)^alpha_N"
    reference = f"{_REF}, eq. 1.1 (constants: Table 5)"
    _x = "n_params"
    _c_axis = tuple(float(v) for v in range(6, 21))
    _a_axis = (0.02, 0.04, 0.06, 0.076, 0.1, 0.15, 0.2, 0.3, 0.5, 1.0)


class KaplanD(_KaplanSingle):
    r"""Loss versus dataset size, Kaplan et al. 2020 (arXiv 2001.08361), eq. 1.2:

    .. math:: L(D) = \left(\frac{D_c}{D}\right)^{\alpha_D}

    For large models trained on ``D`` tokens with early stopping.

    **Law parameters**

    D_c : float
        Scale constant in tokens (Table 5: 5.4e13). Optimised as ``log_D_c``.
    alpha_D : float
        Exponent (Table 5: 0.095).

    Variables: ``n_tokens``. Start grid: D_c in 1e6…1e20, alpha_D in 0.02…1.0, 150 starts.
    """

    name = "kaplan-d"
    param_names = ("D_c", "alpha_D")
    transforms = ("log", "id")
    variables = ("n_tokens",)
    formula = "L = (D_c/D)^alpha_D"
    reference = f"{_REF}, eq. 1.2 (constants: Table 5)"
    _x = "n_tokens"
    _c_axis = tuple(float(v) for v in range(6, 21))
    _a_axis = (0.02, 0.04, 0.06, 0.095, 0.13, 0.17, 0.22, 0.3, 0.5, 1.0)


class KaplanC(_KaplanSingle):
    r"""Loss versus compute, Kaplan et al. 2020 (arXiv 2001.08361), eq. 1.3:

    .. math:: L(C_{min}) = \left(\frac{C_c}{C_{min}}\right)^{\alpha_C}

    **Units.** The paper gives ``C_c`` in PF-days (Table 5: ``C_c^min = 3.1e8`` PF-days,
    ``alpha_C^min = 0.050``; eq. 3.3 at fixed batch: 1.6e7 PF-days, 0.057). This law reads the
    ``flops`` column in **FLOPs**, so ``C_c`` is fitted in FLOPs; convert with
    :func:`to_pf_days` (``C_c[PF-days] = C_c[FLOP] / 8.64e19``). :data:`KAPLAN_2020` holds the
    published values already converted to FLOPs (3.1e8 PF-days = 2.68e28 FLOP).

    **Law parameters**

    C_c : float
        Scale constant in FLOPs. Optimised as ``log_C_c``.
    alpha_C : float
        Exponent.

    Variables: ``flops`` (C_min for eq. 1.3, or C at fixed batch for eq. 3.3). Start grid: C_c in
    1e15…1e35 FLOP (21 decades), alpha_C in 0.02…1.0 (10 values), 210 starts.
    """

    name = "kaplan-c"
    param_names = ("C_c", "alpha_C")
    transforms = ("log", "id")
    variables = ("flops",)
    formula = "L = (C_c/C)^alpha_C   [C, C_c in FLOPs; 1 PF-day = 8.64e19 FLOP]"
    reference = f"{_REF}, eq. 1.3 (constants: Table 5, in PF-days; eq. 3.3 for fixed batch)"
    _x = "flops"
    _c_axis = tuple(float(v) for v in range(15, 36))
    _a_axis = (0.02, 0.035, 0.05, 0.057, 0.08, 0.12, 0.2, 0.3, 0.5, 1.0)


class KaplanND(Law):
    r"""Joint loss in model and data size, Kaplan et al. 2020 (arXiv 2001.08361), eq. 1.5 / 4.1:

    .. math:: L(N, D) = \left[\left(\frac{N_c}{N}\right)^{\alpha_N/\alpha_D} + \frac{D_c}{D}\right]^{\alpha_D}

    Reduces to eq. 1.1 as ``D -> inf`` and to eq. 1.2 as ``N -> inf``. The joint fit has its own
    constants (Table 2: ``N_c = 6.4e13``, ``D_c = 1.8e13``, ``alpha_N = 0.076``,
    ``alpha_D = 0.103``), not Table 5's.

    **Law parameters**

    N_c : float
        Parameter scale constant (non-embedding parameters). Optimised as ``log_N_c``.
    D_c : float
        Token scale constant. Optimised as ``log_D_c``.
    alpha_N : float
        Exponent of N in the infinite-data limit (>= 0).
    alpha_D : float
        Exponent of D in the infinite-model limit (>= 1e-3; it divides alpha_N).

    Variables: ``n_params``, ``n_tokens``. Start grid: N_c, D_c in {1e10, 1e12, 6.3e13, 1e16},
    alpha_N in {0.04, 0.076, 0.15, 0.3}, alpha_D in {0.05, 0.103, 0.2, 0.4}: 256 starts.
    """

    name = "kaplan-nd"
    param_names = ("N_c", "D_c", "alpha_N", "alpha_D")
    transforms = ("log", "log", "id", "id")
    variables = ("n_params", "n_tokens")
    formula = "L = [(N_c/N)^(alpha_N/alpha_D) + D_c/D]^alpha_D"
    reference = f"{_REF}, eq. 1.5 / 4.1 (constants: Table 2)"
    default_loss = "squared_log"

    def bounds(self) -> tuple[FloatArray, FloatArray]:
        return np.array([0.0, 0.0, 0.0, 1e-3]), np.full(4, np.inf)

    def grid(self) -> FloatArray:
        c = np.array([10.0, 12.0, 13.8, 16.0]) * _LN10
        return grid_product(c, c, (0.04, 0.076, 0.15, 0.3), (0.05, 0.103, 0.2, 0.4))

    def _evaluate(self, z: FloatArray, X: Mapping[str, FloatArray], grad: bool) -> Evaluation:
        check_variables(self, X)
        lN = _logx(X, "n_params", z.dtype)
        lD = _logx(X, "n_tokens", z.dtype)
        lNc, lDc, aN, aD = (z[:, i:i + 1] for i in range(4))
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            r = aN / aD
            dN = lNc - lN  # log(N_c/N)
            l1 = r * dN  # log of the N term
            l2 = lDc - lD  # log of the D term
            ls = np.logaddexp(l1, l2)  # log s
            f = np.exp(aD * ls)
        if not grad:
            return f, None

        def vjp(u: FloatArray) -> FloatArray:
            with np.errstate(over="ignore", invalid="ignore"):
                w1 = np.exp(l1 - ls)  # t1 / s
                w2 = np.exp(l2 - ls)  # t2 / s
                uf = u * f
                g = np.empty((u.shape[0], 4), dtype=np.result_type(u, f))
                g[:, 0] = (uf * w1).sum(axis=1) * aN[:, 0]
                g[:, 1] = (uf * w2).sum(axis=1) * aD[:, 0]
                uw1d = (uf * w1 * dN).sum(axis=1)
                g[:, 2] = uw1d
                g[:, 3] = (uf * ls).sum(axis=1) - r[:, 0] * uw1d
            return g

        return f, vjp


class KaplanNS(Law):
    r"""Loss during training versus model size and minimum steps, Kaplan et al. 2020
    (arXiv 2001.08361), eq. 1.6 / 5.6:

    .. math:: L(N, S_{min}) = \left(\frac{N_c}{N}\right)^{\alpha_N} + \left(\frac{S_c}{S_{min}}\right)^{\alpha_S}

    **How S_min is provided.** The law reads the table column ``step`` and takes it to *be*
    ``S_min``, the number of steps a run at a batch far above the critical batch would need
    (eq. 5.4: ``S_min = S / (1 + B_crit(L)/B)``, ``B_crit(L) = B_*/L^(1/alpha_B)``). Convert raw
    steps first with :func:`s_min` (``table`` column ``step`` = ``s_min(steps, batch_tokens,
    loss)``); with the batch far above ``B_crit`` the raw steps are already ``S_min``. Steps must be
    > 0 (warmup excluded, as in the paper's Table 3 fit).

    **Law parameters**

    N_c : float
        Parameter scale constant (Table 3: 6.5e13). Optimised as ``log_N_c``.
    S_c : float
        Step scale constant (Table 3: 2.1e3). Optimised as ``log_S_c``.
    alpha_N : float
        Exponent of N (Table 3: 0.077), >= 0.
    alpha_S : float
        Exponent of S_min (Table 3: 0.76), >= 0.

    Variables: ``n_params``, ``step`` (holding S_min). Start grid: N_c in {1e10, 1e12, 6.3e13, 1e16},
    S_c in {10, 100, 2e3, 3e4}, alpha_N in {0.04, 0.077, 0.15, 0.3}, alpha_S in {0.2, 0.4, 0.76, 1.5}:
    256 starts.
    """

    name = "kaplan-ns"
    param_names = ("N_c", "S_c", "alpha_N", "alpha_S")
    transforms = ("log", "log", "id", "id")
    variables = ("n_params", "step")
    formula = "L = (N_c/N)^alpha_N + (S_c/S_min)^alpha_S   [S_min = step column; see s_min()]"
    reference = f"{_REF}, eq. 1.6 / 5.6 (S_min: eq. 5.4; constants: Table 3)"
    default_loss = "squared_log"

    def bounds(self) -> tuple[FloatArray, FloatArray]:
        return np.zeros(4), np.full(4, np.inf)

    def grid(self) -> FloatArray:
        return grid_product(np.array([10.0, 12.0, 13.8, 16.0]) * _LN10, np.log([10.0, 100.0, 2e3, 3e4]),
                            (0.04, 0.077, 0.15, 0.3), (0.2, 0.4, 0.76, 1.5))

    def _evaluate(self, z: FloatArray, X: Mapping[str, FloatArray], grad: bool) -> Evaluation:
        check_variables(self, X)
        lN = _logx(X, "n_params", z.dtype)
        lS = _logx(X, "step", z.dtype)
        lNc, lSc, aN, aS = (z[:, i:i + 1] for i in range(4))
        with np.errstate(over="ignore", invalid="ignore"):
            dN = lNc - lN
            dS = lSc - lS
            t1 = np.exp(aN * dN)
            t2 = np.exp(aS * dS)
            f = t1 + t2
        if not grad:
            return f, None

        def vjp(u: FloatArray) -> FloatArray:
            ut1 = u * t1
            ut2 = u * t2
            g = np.empty((u.shape[0], 4), dtype=np.result_type(u, f))
            g[:, 0] = ut1.sum(axis=1) * aN[:, 0]
            g[:, 1] = ut2.sum(axis=1) * aS[:, 0]
            g[:, 2] = (ut1 * dN).sum(axis=1)
            g[:, 3] = (ut2 * dS).sum(axis=1)
            return g

        return f, vjp


register_law("kaplan-n", KaplanN)
register_law("kaplan-d", KaplanD)
register_law("kaplan-c", KaplanC)
register_law("kaplan-nd", KaplanND)
register_law("kaplan-ns", KaplanNS)
