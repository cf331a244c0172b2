"""Recovery: fits of data simulated from known parameters (with noise) recover them.

"A Kaplan eq. 1.5 fit and a BNSL fit recover known parameters from data simulated with noise"
(property tests), plus Muennighoff's step 2 and a user-defined law through the same fitter.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scaling import read_table
from scaling.estimation import fit

from scaling.laws import BNSL, KAPLAN_2020, MUENNIGHOFF_2023, CustomLaw, get_law

NOISE = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)


def _table(**cols: np.ndarray):
    return read_table(pd.DataFrame(cols))


def _fit(table, law, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # diagnostics are tested with the fitter
        return fit(table, law=law, **kw)


# ---------------------------------------------------------------------- Kaplan eq. 1.5
N_GRID, D_GRID = (a.ravel() for a in np.meshgrid(np.logspace(6, 9.5, 7), np.logspace(7.5, 10.5, 7)))


def test_kaplan_nd_recovers_table2_from_noisy_data() -> None:
    law = get_law("kaplan-nd")
    true = KAPLAN_2020["kaplan-nd"]
    noise = np.exp(np.random.default_rng(1).normal(0, 0.005, N_GRID.size))
    y = law.predict(true, n_params=N_GRID, n_tokens=D_GRID) * noise
    p = _fit(_table(n_params=N_GRID, n_tokens=D_GRID, loss=y), "kaplan-nd", loss="squared_log", rng=0).params
    assert abs(p["alpha_N"] - 0.076) < 0.005 and abs(p["alpha_D"] - 0.103) < 0.01
    assert abs(np.log10(p["N_c"] / 6.4e13)) < 0.25 and abs(np.log10(p["D_c"] / 1.8e13)) < 0.25


@pytest.mark.slow
@settings(NOISE, max_examples=4)
@given(seed=st.integers(0, 2**31 - 1), lnc=st.floats(13.3, 14.3), ldc=st.floats(12.8, 13.8),
       an=st.floats(0.06, 0.10), ad=st.floats(0.08, 0.13))
def test_kaplan_nd_recovers_parameters(seed: int, lnc: float, ldc: float, an: float, ad: float) -> None:
    law = get_law("kaplan-nd")
    true = {"N_c": 10 ** lnc, "D_c": 10 ** ldc, "alpha_N": an, "alpha_D": ad}
    rng = np.random.default_rng(seed)
    y = law.predict(true, n_params=N_GRID, n_tokens=D_GRID) * np.exp(rng.normal(0.0, 0.005, N_GRID.size))
    res = _fit(_table(n_params=N_GRID, n_tokens=D_GRID, loss=y), "kaplan-nd", loss="squared_log", rng=0)
    p = res.params
    assert list(p.index) == ["N_c", "D_c", "alpha_N", "alpha_D"]
    assert abs(p["alpha_N"] - an) < 0.005
    assert abs(p["alpha_D"] - ad) < 0.01
    assert abs(np.log10(p["N_c"]) - lnc) < 0.25
    assert abs(np.log10(p["D_c"]) - ldc) < 0.25


def test_kaplan_nd_exact_data_gives_table2_constants() -> None:
    law = get_law("kaplan-nd")
    true = KAPLAN_2020["kaplan-nd"]
    y = law.predict(true, n_params=N_GRID, n_tokens=D_GRID)
    p = _fit(_table(n_params=N_GRID, n_tokens=D_GRID, loss=y), "kaplan-nd", loss="squared_log", rng=0).params
    np.testing.assert_allclose(p[list(true)].to_numpy(), list(true.values()), rtol=1e-4)


# ---------------------------------------------------------------------- BNSL
X_BNSL = np.logspace(5, 11, 40)


def _bnsl_case(seed: int, true: dict[str, float], sigma: float = 0.003):
    law = BNSL(n_breaks=1)
    rng = np.random.default_rng(seed)
    y = law.predict(true, n_params=X_BNSL) * np.exp(rng.normal(0.0, sigma, X_BNSL.size))
    starts = pd.DataFrame(law.to_natural(law.data_grid({"n_params": X_BNSL}, y)), columns=law.param_names)
    table = _table(n_params=X_BNSL, n_tokens=20 * X_BNSL, loss=y)
    return _fit(table, law, loss="squared_log", starts=starts, rng=0).params


def _check_bnsl(p: pd.Series, true: dict[str, float]) -> None:
    assert list(p.index) == ["a", "b", "c0", "c1", "d1", "f1"]
    assert abs(p["a"] - true["a"]) < 0.05
    assert abs(p["b"] / true["b"] - 1) < 0.15
    assert abs(p["c0"] - true["c0"]) < 0.01
    assert abs(p["c1"] - true["c1"]) < 0.05
    assert 0.7 < p["d1"] / true["d1"] < 1.4
    assert abs(p["f1"] - true["f1"]) < 0.15


def test_bnsl_recovers_a_broken_power_law() -> None:
    true = {"a": 1.5, "b": 50.0, "c0": 0.1, "c1": 0.3, "d1": 1e8, "f1": 0.5}
    _check_bnsl(_bnsl_case(1, true), true)


@pytest.mark.slow
@settings(NOISE, max_examples=5)
@given(seed=st.integers(0, 2**31 - 1), a=st.floats(1.0, 2.0), lb=st.floats(2.0, 5.0), c0=st.floats(0.05, 0.2),
       c1=st.floats(0.3, 0.6), ld=st.floats(7.5, 8.5), f1=st.floats(0.3, 1.0))
def test_bnsl_recovers_parameters(seed: int, a: float, lb: float, c0: float, c1: float, ld: float, f1: float) -> None:
    true = {"a": a, "b": float(np.exp(lb)), "c0": c0, "c1": c1, "d1": 10 ** ld, "f1": f1}
    _check_bnsl(_bnsl_case(seed, true), true)


# ---------------------------------------------------------------------- Muennighoff step 2, custom law
def test_datablations_step_two_recovers_decay_constants() -> None:
    law = get_law("datablations", freeze_chinchilla=True)
    rng = np.random.default_rng(3)
    N = np.repeat([1e8, 4e8, 1.5e9, 4e9], 6)
    U = np.tile([1e9, 3e9, 1e10, 1e9, 3e9, 1e10], 4)
    D = U * np.tile([1.0, 4.0, 8.0, 30.0, 15.0, 3.0], 4)
    y = law.predict(MUENNIGHOFF_2023, n_params=N, n_tokens=D, n_unique_tokens=U) * np.exp(rng.normal(0, 0.002, N.size))
    res = _fit(_table(n_params=N, n_tokens=D, n_unique_tokens=U, loss=y), law, rng=0)
    p = res.params
    assert p["A"] == MUENNIGHOFF_2023["A"] and p["alpha"] == MUENNIGHOFF_2023["alpha"]  # held fixed
    assert abs(np.log(p["R_D_star"] / MUENNIGHOFF_2023["R_D_star"])) < 0.2
    assert abs(np.log(p["R_N_star"] / MUENNIGHOFF_2023["R_N_star"])) < 0.3


def test_custom_law_fits_through_the_fitter() -> None:
    import lmfit

    def saturating(n_params, E=2.0, A=100.0, alpha=0.2):
        return E + A * n_params ** -alpha

    params = lmfit.Parameters()
    params.add("E", value=2.0, min=0.0)
    params.add("A", value=100.0, min=0.0)
    params.add("alpha", value=0.2, min=0.0, max=2.0)
    law = CustomLaw(saturating, variables=("n_params",), params=params, name="saturating")
    x = np.logspace(6, 10, 15)
    true = {"E": 1.7, "A": 300.0, "alpha": 0.3}
    y = law.predict(true, n_params=x) * np.exp(np.random.default_rng(0).normal(0, 0.001, x.size))
    res = _fit(_table(n_params=x, n_tokens=20 * x, loss=y), law, rng=0)
    assert abs(res.params["E"] - 1.7) < 0.05
    assert abs(res.params["alpha"] - 0.3) < 0.03
