"""Laws other than Chinchilla: Kaplan (eqs. 1.1-1.6), power law, Muennighoff's data-constrained law,
BNSL and user-defined laws. Gradients are checked against finite differences; published constants
against REFERENCE.md's acceptance checks."""

from __future__ import annotations

import lmfit
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from scaling.errors import DataError
from scaling.laws import (BNSL, BNSL_FIG1, KAPLAN_2020, MUENNIGHOFF_2023, CustomLaw, Datablations, KaplanND,
                          PowerLaw, from_pf_days, get_law, list_laws, s_min, to_pf_days)
from scaling.laws.bnsl import bnsl_names
from scaling.laws.datablations import effective_data, effective_params
from scaling.laws.kaplan import b_crit
from scaling.units import PF_DAY

HYP = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)

N_GRID = np.array([1e6, 3e7, 1e8, 7e8, 3e9, 2e10])
D_GRID = np.array([2e8, 1e9, 5e9, 3e10, 2e11, 1e12])
X_ALL = {
    "n_params": N_GRID,
    "n_tokens": D_GRID,
    "flops": 6 * N_GRID * D_GRID,
    "step": np.array([300.0, 1e3, 5e3, 2e4, 1e5, 2.5e5]),
    "n_unique_tokens": np.array([2e8, 1e8, 1e9, 3e9, 2e11, 1e11]),
    "x": np.array([1.0, 3.0, 10.0, 50.0, 200.0, 1000.0]),
}


def data_for(law) -> dict[str, np.ndarray]:
    return {v: X_ALL[v] for v in law.variables}


def fd_vjp(law, z: np.ndarray, X, u: np.ndarray, rel: float = 1e-6) -> np.ndarray:
    """sum_i u_i df_i/dz by central differences, for each row of z (float64)."""
    S, P = z.shape
    g = np.empty((S, P))
    for j in range(P):
        h = rel * np.maximum(1.0, np.abs(z[:, j]))
        zp, zm = z.copy(), z.copy()
        zp[:, j] += h
        zm[:, j] -= h
        fp, _ = law.evaluate(zp, X, grad=False)
        fm, _ = law.evaluate(zm, X, grad=False)
        g[:, j] = np.sum(u * (fp - fm), axis=1) / (2 * h)
    return g


def check_vjp(law, theta, X=None, rtol: float = 2e-5, rel: float = 1e-6) -> None:
    X = data_for(law) if X is None else X
    z = law.to_internal(np.atleast_2d(np.asarray(theta, dtype=float)))
    f, vjp = law.evaluate(z, X)
    assert f.shape == (z.shape[0], len(next(iter(X.values()))))
    assert np.all(np.isfinite(f))
    u = np.random.default_rng(0).normal(size=f.shape)
    g = vjp(u)
    ref = fd_vjp(law, z, X, u, rel=rel)
    scale = np.max(np.abs(ref), axis=1, keepdims=True) + 1e-12
    np.testing.assert_allclose(g / scale, ref / scale, rtol=0, atol=rtol)


def vec(law, d: dict[str, float]) -> np.ndarray:
    return np.array([d[p] for p in law.param_names])



# ---------------------------------------------------------------------- registry, spec, shapes
ALL_LAWS = [("kaplan-n", {}), ("kaplan-d", {}), ("kaplan-c", {}), ("kaplan-nd", {}), ("kaplan-ns", {}),
            ("powerlaw", {}), ("powerlaw", {"variable": "flops"}), ("datablations", {}),
            ("datablations", {"freeze_chinchilla": True, "tied": {"beta": "alpha"}}), ("bnsl", {}),
            ("bnsl", {"n_breaks": 2, "variable": "x"}), ("bnsl", {"n_breaks": 0})]


def test_registry_lists_every_law() -> None:
    assert {"kaplan-n", "kaplan-d", "kaplan-c", "kaplan-nd", "kaplan-ns", "powerlaw", "datablations",
            "bnsl"} <= set(list_laws())


@pytest.mark.parametrize("name,opts", ALL_LAWS)
def test_spec_round_trip_and_grid(name: str, opts: dict) -> None:
    law = get_law(name, **opts)
    spec = law.spec()
    again = get_law(spec["name"], **spec["options"])
    assert again.param_names == law.param_names and again.variables == law.variables
    assert again.options == law.options
    g = law.grid()
    assert g.ndim == 2 and g.shape[1] == law.n_params and 1 <= len(g) <= 600
    assert np.all(np.isfinite(g))
    lo, hi = law.internal_bounds()
    assert np.all(g >= lo) and np.all(g <= hi)
    assert len(law.transforms) == law.n_params and set(law.transforms) <= {"log", "id"}
    assert law.formula and law.reference
    # the grid evaluates to finite predictions on typical data
    f, _ = law.evaluate(g, data_for(law), grad=False)
    assert np.isfinite(f).mean() > 0.9


@pytest.mark.parametrize("name,opts", ALL_LAWS)
def test_float32_evaluation_keeps_dtype(name: str, opts: dict) -> None:
    law = get_law(name, **opts)
    g = law.grid()[:50]
    X = data_for(law)
    f64, vjp64 = law.evaluate(g, X)
    X32 = {k: v.astype(np.float32) for k, v in X.items()}
    f32, vjp32 = law.evaluate(g.astype(np.float32), X32)
    assert f32.dtype == np.float32
    ok = np.isfinite(f64) & (np.abs(f64) < 1e30)
    np.testing.assert_allclose(f32[ok], f64[ok], rtol=2e-3)
    u = np.ones_like(f32)
    g32 = vjp32(u)
    rows = ok.all(axis=1)
    assert g32.shape == g.shape and np.all(np.isfinite(g32[rows]))


def test_predict_shapes_and_broadcasting() -> None:
    law = get_law("kaplan-nd")
    p = KAPLAN_2020["kaplan-nd"]
    assert law.predict(p, n_params=1e9, n_tokens=1e10).shape == ()
    out = law.predict(p, n_params=np.array([[1e8], [1e9], [1e10]]), n_tokens=np.array([1e9, 1e10, 1e11, 1e12]))
    assert out.shape == (3, 4)
    assert np.all(np.diff(out, axis=0) < 0) and np.all(np.diff(out, axis=1) < 0)  # decreasing in N and D
    theta = np.array([vec(law, p), vec(law, p) * [1, 1, 1.1, 1]])
    assert law.predict(theta, n_params=[1e8, 1e9], n_tokens=1e10).shape == (2, 2)
    pl = get_law("powerlaw", variable="step")
    assert pl.predict({"E": 1.0, "A": 2.0, "alpha": 0.5}, step=np.ones((2, 3))).shape == (2, 3)
    with pytest.raises(TypeError, match="takes the variables"):
        pl.predict({"E": 1.0, "A": 2.0, "alpha": 0.5}, n_params=1.0)


# ---------------------------------------------------------------------- Kaplan
def test_kaplan_published_single_variable_values() -> None:
    # REFERENCE check 1: L(N = 1e9) = (8.8e13/1e9)^0.076 = 2.3756, L(1e8) = 2.8300
    law = get_law("kaplan-n")
    L = law.predict(KAPLAN_2020["kaplan-n"], n_params=[1e9, 1e8])
    np.testing.assert_allclose(L, [2.3756, 2.8300], atol=5e-5)
    d = get_law("kaplan-d").predict(KAPLAN_2020["kaplan-d"], n_tokens=5.4e13)
    assert d == pytest.approx(1.0)


def test_kaplan_c_units_are_flops() -> None:
    # 1 PF-day = 8.64e19 FLOP (REFERENCE check 2); C_c = 3.1e8 PF-days = 2.6784e28 FLOP
    assert PF_DAY == 8.64e19
    assert float(to_pf_days(8.64e19)) == pytest.approx(1.0)
    assert float(from_pf_days(3.1e8)) == pytest.approx(2.6784e28)
    p = KAPLAN_2020["kaplan-c"]
    assert float(to_pf_days(p["C_c"])) == pytest.approx(3.1e8)
    law = get_law("kaplan-c")
    assert law.variables == ("flops",)
    # C_min = 1 PF-day: L = (3.1e8)^0.05
    assert law.predict(p, flops=PF_DAY) == pytest.approx(3.1e8 ** 0.05)


def test_kaplan_nd_limits_and_overfitting_threshold() -> None:
    law = get_law("kaplan-nd")
    p = KAPLAN_2020["kaplan-nd"]
    N = np.array([1e6, 1e8, 1e10])
    inf_data = law.predict(p, n_params=N, n_tokens=1e300)
    np.testing.assert_allclose(inf_data, (p["N_c"] / N) ** p["alpha_N"], rtol=1e-12)
    inf_model = law.predict(p, n_params=1e300, n_tokens=1e10)
    assert inf_model == pytest.approx((p["D_c"] / 1e10) ** p["alpha_D"], rel=1e-12)
    # REFERENCE check 1: delta L = 0.02 needs D >= 5.52e3 N^0.7379 (Table 2 constants, eq. 4.2-4.4)
    D = 5.52e3 * N ** 0.7379
    dL = law.predict(p, n_params=N, n_tokens=D) / inf_data - 1
    np.testing.assert_allclose(dL, 0.02, atol=5e-5)


def test_kaplan_ns_and_s_min() -> None:
    # REFERENCE check 2: B_crit doubles per 13% loss decrease: 0.87^(-1/0.21) = 1.94
    assert float(b_crit(0.87 * 3.0) / b_crit(3.0)) == pytest.approx(1.94, abs=5e-3)
    assert float(b_crit(1.0)) == pytest.approx(2.1e8)
    # S_min = S / (1 + B_crit/B): at B = B_crit, half the steps
    L = 2.0
    B = float(b_crit(L))
    assert float(s_min(1e4, B, L)) == pytest.approx(5e3)
    assert float(s_min(1e4, 1e15, L)) == pytest.approx(1e4, rel=1e-5)
    law = get_law("kaplan-ns")
    p = KAPLAN_2020["kaplan-ns"]
    v = law.predict(p, n_params=1e9, step=2.1e3)
    assert v == pytest.approx((6.5e13 / 1e9) ** 0.077 + 1.0)


@pytest.mark.parametrize("fn,args,match", [
    (s_min, (0.0, 1e6, 2.0), "steps"),
    (s_min, (1e3, -1.0, 2.0), "batch_tokens"),
    (s_min, (1e3, 1e6, np.nan), "loss"),
    (b_crit, (-1.0,), "loss"),
])
def test_kaplan_helpers_reject_bad_input(fn, args, match) -> None:
    with pytest.raises(DataError, match=f"{match}.* must be finite and > 0"):
        fn(*args)


@HYP
@given(lc=st.floats(8.0, 18.0), al=st.floats(0.01, 0.8), which=st.sampled_from(["kaplan-n", "kaplan-d", "kaplan-c"]))
def test_kaplan_single_vjp(lc: float, al: float, which: str) -> None:
    law = get_law(which)
    shift = 10.0 if which == "kaplan-c" else 0.0
    check_vjp(law, [10 ** (lc + shift), al])


@HYP
@given(lnc=st.floats(9.0, 16.0), ldc=st.floats(9.0, 16.0), an=st.floats(0.02, 0.5), ad=st.floats(0.03, 0.6))
def test_kaplan_nd_vjp(lnc: float, ldc: float, an: float, ad: float) -> None:
    check_vjp(KaplanND(), [10 ** lnc, 10 ** ldc, an, ad])


@HYP
@given(lnc=st.floats(9.0, 16.0), lsc=st.floats(1.0, 5.0), an=st.floats(0.02, 0.5), as_=st.floats(0.1, 1.5))
def test_kaplan_ns_vjp(lnc: float, lsc: float, an: float, as_: float) -> None:
    check_vjp(get_law("kaplan-ns"), [10 ** lnc, 10 ** lsc, an, as_])


# ---------------------------------------------------------------------- power law
@HYP
@given(E=st.floats(0.1, 5.0), la=st.floats(-2.0, 12.0), al=st.floats(-0.3, 1.2),
       var=st.sampled_from(["n_params", "n_tokens", "flops", "step", "x"]))
def test_powerlaw_vjp(E: float, la: float, al: float, var: str) -> None:
    law = get_law("powerlaw", variable=var)
    assert law.variables == (var,) and law.options == {"variable": var}
    check_vjp(law, [E, np.exp(la), al])


def test_powerlaw_values_and_bad_variable() -> None:
    law = PowerLaw("flops")
    assert law.predict({"E": 1.5, "A": 100.0, "alpha": 0.5}, flops=1e4) == pytest.approx(2.5)
    assert law.log_linear_pairs == ((1, 2, "flops"),)
    with pytest.raises(DataError, match="Option variable of law 'powerlaw' must be a column name"):
        PowerLaw(variable="")
    with pytest.raises(DataError, match="must be a column name"):
        get_law("powerlaw", variable=3)


# ---------------------------------------------------------------------- Muennighoff et al. 2023
def test_muennighoff_constants() -> None:
    assert MUENNIGHOFF_2023["A"] == pytest.approx(520.82, abs=0.01)
    assert MUENNIGHOFF_2023["B"] == pytest.approx(1487.72, abs=0.01)
    assert MUENNIGHOFF_2023["E"] == pytest.approx(1.8691, abs=1e-4)
    assert MUENNIGHOFF_2023["A"] == np.exp(6.255414)


def test_muennighoff_readme_losses() -> None:
    # REFERENCE check 10 (both match the README): 2.2256440890 and 2.2269634075
    law = get_law("datablations")
    L = law.predict(MUENNIGHOFF_2023, n_params=[6.34e9, 8.67e9], n_tokens=[242e9, 178e9], n_unique_tokens=25e9)
    np.testing.assert_allclose(L, [2.2256440890, 2.2269634075], rtol=0, atol=1e-9)


def test_muennighoff_effective_data() -> None:
    U = 25e9
    epochs = np.array([4.0, 16.0, 40.0])
    ratio = effective_data(epochs * U, U) / (epochs * U)
    np.testing.assert_allclose(ratio, [0.931, 0.661, 0.379], atol=5e-4)
    assert float(effective_data(1e6 * U, U) / U) == pytest.approx(16.39, abs=5e-3)
    assert float(effective_data(U, U)) == U  # one epoch: no decay
    assert float(effective_data(1e9, 5e9)) == 1e9  # fewer tokens than the pool: U_D = D


def test_muennighoff_reduces_to_chinchilla_without_repetition() -> None:
    chin = get_law("chinchilla")
    law = Datablations()
    p = MUENNIGHOFF_2023
    pc = {k: p[k] for k in chin.param_names}
    # U >= D (single epoch) and N below N_opt(U_D): N' = N, D' = D
    N, D = np.array([1e8, 3e8]), np.array([2e10, 5e10])
    assert np.all(effective_params(N, D, D) == N)
    np.testing.assert_allclose(law.predict(p, n_params=N, n_tokens=D, n_unique_tokens=1e12),
                               chin.predict(pc, n_params=N, n_tokens=D), rtol=1e-13)
    # excess parameters are worth less: N' < N when N > N_opt(U_D)
    assert float(effective_params(6.34e9, 242e9, 25e9)) < 6.34e9


def test_muennighoff_step_two_freezes_chinchilla_part() -> None:
    law = get_law("datablations", freeze_chinchilla=True)
    assert law.free_names == ("log_R_D_star", "log_R_N_star")
    assert law.options["fixed"]["alpha"] == MUENNIGHOFF_2023["alpha"]
    assert len(law.free_grid()) == 9
    tied = get_law("datablations", tied={"beta": "alpha"})
    assert "beta" not in tied.free_names and tied.options["tied"] == {"beta": "alpha"}
    both = get_law("datablations", tied={"beta": "alpha"}, fixed={"alpha": 0.3})
    assert both.options["fixed"] == {"alpha": 0.3, "beta": 0.3}
    with pytest.raises(DataError, match="True or False"):
        get_law("datablations", freeze_chinchilla="yes")
    with pytest.raises(DataError, match="tied=\\{'beta': 'alpha'\\} instead of tie_exponents=True"):
        get_law("datablations", tie_exponents=True)


@HYP
@given(E=st.floats(1.0, 3.0), la=st.floats(4.0, 8.0), lb=st.floats(5.0, 9.0), al=st.floats(0.2, 0.6),
       be=st.floats(0.2, 0.6), rd=st.floats(0.5, 40.0), rn=st.floats(0.5, 40.0))
def test_datablations_vjp(E, la, lb, al, be, rd, rn) -> None:
    law = Datablations()
    theta = np.array([E, np.exp(la), np.exp(lb), al, be, rd, rn])
    X = {"n_params": np.array([1e7, 3e8, 2e9, 8e9, 5e10]), "n_tokens": np.array([1e9, 5e10, 3e11, 1e10, 2e12]),
         "n_unique_tokens": np.array([1e8, 5e10, 2e10, 3e10, 1e11])}
    # stay away from the kink N = N_opt(U_D), where the law is not differentiable
    lG = (np.log(al) + la - np.log(be) - lb) / (al + be)
    lU = np.log(np.minimum(X["n_unique_tokens"], X["n_tokens"]))
    lno = lG + (be / al) * (lG + lU)
    assume(np.min(np.abs(np.log(X["n_params"]) - lno)) > 1e-3)
    check_vjp(law, theta, X)


def test_datablations_vjp_published_point_both_regimes() -> None:
    law = Datablations()
    X = {"n_params": np.array([1e8, 6.34e9, 8.67e9]), "n_tokens": np.array([1e9, 242e9, 178e9]),
         "n_unique_tokens": np.array([1e10, 25e9, 25e9])}
    check_vjp(law, vec(law, MUENNIGHOFF_2023), X)


# ---------------------------------------------------------------------- BNSL
def test_bnsl_fig1_slopes_and_double_descent() -> None:
    # REFERENCE check 15: far-field slope -1.829 = -(c0 + sum c_i); rises between ~2.7e14 and ~1.8e20
    law = BNSL(n_breaks=3)
    p = dict(BNSL_FIG1, a=0.0, b=10.0)
    x = np.logspace(0, 30, 30001)
    y = law.predict(p, n_params=x)
    slope = np.gradient(np.log(y), np.log(x))
    assert slope[-1] == pytest.approx(-1.829, abs=1e-6)
    assert slope[0] == pytest.approx(-0.05, abs=1e-4)
    rising = x[1:][np.diff(y) > 0]
    assert rising.min() == pytest.approx(2.7e14, rel=0.02)
    assert rising.max() == pytest.approx(1.8e20, rel=0.02)
    # an offset a shifts y but not where it rises
    y2 = law.predict(dict(p, a=0.5), n_params=x)
    np.testing.assert_allclose(y2 - 0.5, y, rtol=1e-9, atol=1e-12)


def test_bnsl_names_options_and_errors() -> None:
    assert bnsl_names(2) == ("a", "b", "c0", "c1", "c2", "d1", "d2", "f1", "f2")
    law = get_law("bnsl", n_breaks=2, variable="flops")
    assert law.options == {"n_breaks": 2, "variable": "flops"}
    assert law.transforms == ("id", "log", "id", "id", "id", "log", "log", "log", "log")
    assert law.bounds()[0][0] == 0.0  # a >= 0
    with pytest.raises(DataError, match="Option n_breaks of law 'bnsl' must be an integer in"):
        BNSL(n_breaks=-1)
    with pytest.raises(DataError, match="n_breaks"):
        BNSL(n_breaks=1.5)  # type: ignore[arg-type]


@HYP
@given(k=st.integers(0, 3), a=st.floats(0.0, 2.0), lb=st.floats(-1.0, 5.0),
       c=st.lists(st.floats(-0.8, 1.5), min_size=4, max_size=4),
       ld=st.lists(st.floats(0.5, 6.5), min_size=3, max_size=3),
       f=st.lists(st.floats(0.1, 3.0), min_size=3, max_size=3))
def test_bnsl_vjp(k, a, lb, c, ld, f) -> None:
    law = BNSL(n_breaks=k, variable="x")
    theta = [a, np.exp(lb), c[0]] + c[1:k + 1] + [np.exp(v) for v in sorted(ld)[:k]] + f[:k]
    check_vjp(law, theta, X={"x": X_ALL["x"]}, rtol=5e-5)


def test_bnsl_data_grid_brackets_the_data() -> None:
    law = BNSL(n_breaks=2)
    x = np.logspace(6, 10, 30)
    y = 1.5 + 30 * x ** -0.2
    g = law.data_grid({"n_params": x}, y)
    assert g.shape[1] == law.n_params and len(g) > 200 and np.all(np.isfinite(g))
    assert np.all(g[:, 0] >= 0) and np.all(g[:, 0] < y.min())
    assert np.all(g[:, 5:7] >= np.log(x.min()) - 1e-9) and np.all(g[:, 5:7] <= np.log(x.max()) + 1e-9)
    assert np.all(np.diff(g[:, 5:7], axis=1) >= 0)  # breaks in order
    # b is solved so that every start passes through the data on average (log space)
    f, _ = law.evaluate(g, {"n_params": x}, grad=False)
    np.testing.assert_allclose(np.mean(np.log(f - g[:, :1]) - np.log(y - g[:, :1]), axis=1), 0, atol=1e-8)
    g0 = BNSL(n_breaks=0).data_grid({"n_params": x}, y)
    assert g0.shape == (27, 3)
    with pytest.raises(DataError, match="Column 'loss' passed to BNSL.data_grid\\(\\) must be non-empty, finite"):
        law.data_grid({"n_params": x}, -y)
    with pytest.raises(DataError, match="to provide"):
        law.data_grid({"flops": x}, y)


# ---------------------------------------------------------------------- custom laws
def chin_fn(n_params, n_tokens, E=1.7, A=400.0, B=400.0, alpha=0.34, beta=0.28):
    return E + A / n_params ** alpha + B / n_tokens ** beta


def test_custom_law_matches_builtin_and_gradient() -> None:
    law = CustomLaw(chin_fn, variables=("n_params", "n_tokens"))
    chin = get_law("chinchilla")
    p = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}
    N, D = N_GRID, D_GRID
    np.testing.assert_allclose(law.predict(p, n_params=N, n_tokens=D), chin.predict(p, n_params=N, n_tokens=D),
                               rtol=1e-13)
    assert law.free_names == law.param_names == ("E", "A", "B", "alpha", "beta")
    assert law.grid().shape == (1, 5)
    np.testing.assert_allclose(law.grid()[0], [1.7, 400.0, 400.0, 0.34, 0.28])
    theta = np.array([vec(law, p), vec(law, p) * 1.1])
    check_vjp(law, theta, rtol=1e-4, rel=1e-4)
    assert law.base._vectorised is True


def test_custom_law_bounds_fixed_and_tied() -> None:
    params = lmfit.Parameters()
    params.add("E", value=1.5, min=0.0, max=10.0)
    params.add("A", value=300.0, vary=False)
    params.add("B", value=500.0, min=0.0)
    params.add("alpha", value=0.3, min=0.05, max=1.0)
    params.add("beta", expr="alpha")
    law = CustomLaw(chin_fn, params=params, name="my-chinchilla")
    assert law.fixed == {"A": 300.0} and law.tied == {"beta": "alpha"}
    assert law.free_names == ("E", "B", "alpha")
    lo, hi = law.bounds()
    np.testing.assert_array_equal(lo, [0.0, -np.inf, 0.0, 0.05, -np.inf])
    np.testing.assert_array_equal(hi, [10.0, np.inf, np.inf, 1.0, np.inf])
    flo, fhi = law.free_bounds()  # beta's bounds (none) intersected with alpha's
    np.testing.assert_array_equal(flo, [0.0, 0.0, 0.05])
    np.testing.assert_allclose(law.free_grid(), [[1.5, 500.0, 0.3]])
    w = np.array([[2.0, 600.0, 0.4]])
    z = law.expand(w)
    np.testing.assert_allclose(z, [[2.0, 300.0, 600.0, 0.4, 0.4]])
    f, vjp = law.evaluate(z, data_for(law))
    g = law.reduce_grad(vjp(np.ones_like(f)))
    # reference: d/dw of sum f by differences through expand
    ref = np.empty(3)
    for j in range(3):
        h = 1e-6 * max(1.0, abs(w[0, j]))
        wp, wm = w.copy(), w.copy()
        wp[0, j] += h
        wm[0, j] -= h
        ref[j] = (law.evaluate(law.expand(wp), data_for(law), grad=False)[0].sum()
                  - law.evaluate(law.expand(wm), data_for(law), grad=False)[0].sum()) / (2 * h)
    np.testing.assert_allclose(g[0], ref, rtol=1e-5)
    spec = law.spec()
    assert spec["custom"] is True and spec["name"] == "my-chinchilla"
    assert spec["function"].endswith("chin_fn") and spec["options"]["fixed"] == {"A": 300.0}
    more = law.constrain(fixed={"E": 1.0})
    assert isinstance(more, CustomLaw) and more.free_names == ("B", "alpha") and more.spec()["custom"]


def test_custom_law_tie_to_fixed_and_renamed_variables() -> None:
    def f(N, D, E, A, B, alpha, beta):
        return E + A / N ** alpha + B / D ** beta

    params = lmfit.Parameters()
    for name, v in dict(E=1.6, A=400.0, B=400.0, alpha=0.3).items():
        params.add(name, value=v)
    params["alpha"].vary = False
    params.add("beta", expr="alpha")
    law = CustomLaw(f, variables={"N": "n_params", "D": "n_tokens"}, params=params)
    assert law.variables == ("n_params", "n_tokens")
    assert law.fixed == {"alpha": 0.3, "beta": 0.3} and law.tied == {}
    assert law.predict({"E": 1.6, "A": 400, "B": 400, "alpha": 0.3, "beta": 0.3}, n_params=1e9,
                       n_tokens=1e10) == pytest.approx(1.6 + 400 / 1e9 ** 0.3 + 400 / 1e10 ** 0.3)


def test_custom_law_non_broadcasting_function_and_user_grid() -> None:
    import math

    def scalar_only(x, E=1.0, A=2.0, alpha=0.5):
        return np.array([E + A * math.pow(v, -alpha) for v in x])

    law = CustomLaw(scalar_only, variables=("x",), grid=pd.DataFrame({"E": [0.5, 2.0], "A": [1.0, 3.0],
                                                                       "alpha": [0.2, 0.9]}))
    assert law.grid().shape == (3, 3)
    check_vjp(law, [[1.0, 2.0, 0.5], [0.7, 3.0, 0.3]], X={"x": X_ALL["x"]}, rtol=1e-4, rel=1e-4)
    assert law.base._vectorised is False
    f32, _ = law.evaluate(np.array([[1.0, 2.0, 0.5]], dtype=np.float32), {"x": X_ALL["x"].astype(np.float32)})
    assert f32.dtype == np.float32


def test_custom_law_one_sided_difference_at_a_bound() -> None:
    def g(x, E=1.0, A=2.0, alpha=0.5):
        return E + A * np.sqrt(alpha) * x ** -alpha  # undefined below alpha = 0

    params = lmfit.Parameters()
    params.add("E", value=1.0)
    params.add("A", value=2.0)
    params.add("alpha", value=0.0, min=0.0)
    law = CustomLaw(g, variables="x", params=params)
    f, vjp = law.evaluate(np.array([[1.0, 2.0, 0.0]]), {"x": X_ALL["x"]})
    assert np.all(np.isfinite(vjp(np.ones_like(f))))


def test_custom_law_from_lmfit_model() -> None:
    model = lmfit.Model(lambda x, E=1.0, A=2.0, alpha=0.5: E + A * x ** -alpha, independent_vars=["x"])
    law = CustomLaw(model)
    assert law.variables == ("x",) and law.param_names == ("E", "A", "alpha")
    assert law.predict({"E": 1.0, "A": 2.0, "alpha": 0.5}, x=4.0) == pytest.approx(2.0)
    check_vjp(law, [1.0, 2.0, 0.5], X={"x": X_ALL["x"]}, rtol=1e-4, rel=1e-4)
    # composite models work through lmfit's prefixes
    comp = (lmfit.Model(lambda x, c=1.0: c + 0 * x, independent_vars=["x"], prefix="k_")
            + lmfit.Model(lambda x, A=2.0, alpha=0.5: A * x ** -alpha, independent_vars=["x"], prefix="p_"))
    with pytest.raises(DataError, match="Starting value of parameter 'p_A'"):
        CustomLaw(comp)  # lmfit 1.3 loses this default in composite models: a clear error, not a -inf start
    cp = lmfit.Parameters()
    cp.add("p_A", value=2.0, min=0.0)
    claw = CustomLaw(comp, params=cp)
    assert set(claw.param_names) == {"k_c", "p_A", "p_alpha"}
    theta = {"k_c": 1.0, "p_A": 2.0, "p_alpha": 0.5}
    assert claw.predict(theta, x=4.0) == pytest.approx(2.0)


def _f_no_default(n_params, E, A, alpha=0.3):
    return E + A * n_params ** -alpha


@pytest.mark.parametrize("build,match", [
    (lambda: CustomLaw(chin_fn, variables=("N",)), r"Variable \['N'\] of custom law 'custom' must be an argument"),
    (lambda: CustomLaw(_f_no_default, variables=("n_params",)),
     "Starting value of parameter 'E' of custom law 'custom' must be a finite number"),
    (lambda: CustomLaw(chin_fn, params=_params(beta={"expr": "2*alpha"})),
     "must be a plain tie to another parameter.*Only plain ties"),
    (lambda: CustomLaw(chin_fn, params=_params(alpha={"value": 5.0, "max": 2.0, "skip_clip": True})),
     "Starting value of parameter 'alpha'.* must be within its bounds"),
    (lambda: CustomLaw(chin_fn, params=_extra_param()), r"Parameter \['gamma'\] of custom law 'custom' must be one of"),
    (lambda: CustomLaw(chin_fn, params={"E": 1.0}), "Option params of custom law 'custom' must be an lmfit.Parameters"),
    (lambda: CustomLaw(42), "Argument func of CustomLaw 'custom' must be a callable or an lmfit.Model"),
    (lambda: CustomLaw(chin_fn, variables=()), "Option variables of custom law 'custom' must be a non-empty"),
    (lambda: CustomLaw(chin_fn, name=""), "Option name of CustomLaw must be a non-empty string"),
    (lambda: CustomLaw(chin_fn, grid=np.ones((2, 3))),
     r"Option grid of custom law 'custom' must be finite values, shape"),
    (lambda: CustomLaw(chin_fn, params=_params(alpha={"expr": "beta"}, beta={"expr": "alpha"})), "free of cycles"),
])
def test_custom_law_errors(build, match) -> None:
    with pytest.raises(DataError, match=match):
        build()


def _params(**over) -> lmfit.Parameters:
    p = lmfit.Parameters()
    for name in ("E", "A", "B", "alpha", "beta"):
        p.add(name, value={"E": 1.7, "A": 400.0, "B": 400.0, "alpha": 0.34, "beta": 0.28}[name])
    for name, kw in over.items():
        kw = dict(kw)
        if kw.pop("skip_clip", False):
            p[name].max = kw.pop("max")
            p[name]._val = kw.pop("value")  # lmfit clips values set through the API
        if "expr" in kw:
            p[name].set(expr=kw.pop("expr"))
        p[name].set(**kw)
    return p


def _extra_param() -> lmfit.Parameters:
    p = _params()
    p.add("gamma", value=1.0)
    return p


def test_custom_law_function_failure_is_wrapped() -> None:
    def broken(n_params, E=1.0):
        raise ZeroDivisionError("boom")

    law = CustomLaw(broken, variables=("n_params",))
    with pytest.raises(DataError, match="ZeroDivisionError: boom"):
        law.predict({"E": 1.0}, n_params=1e9)
