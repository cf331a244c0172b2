"""The fitting engine: published optima on real data, the early-stopping trap, properties, errors."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import scaling as sc
from conftest import load_or_skip
from scaling.errors import BoundaryWarning, DataError, IdentifiabilityWarning
from scaling.estimation import FitResult, build_problem, fit
from scaling.estimation.objectives import huber
from scaling import read_table

HOFFMANN_TEX = {"E": np.exp(0.5267228), "A": np.exp(6.0073404), "B": np.exp(6.0179186),
                "alpha": 0.33917084, "beta": 0.2849083}
HOFFMANN_ROUNDED = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}


@pytest.fixture(scope="module")
def epoch240():
    t = load_or_skip("epoch_chinchilla")
    assert len(t) == 245
    cut = np.sort(t.loss)[-5]
    return t.filter(t.loss < cut, reason="5 highest losses (as Epoch)")


@pytest.fixture(scope="module")
def epoch_fit(epoch240):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the published optimum raises no diagnostic
        return fit(epoch240, law="chinchilla")


def synthetic(params, n=60, noise=0.005, seed=0, scale_n=1.0):
    g = np.random.default_rng(seed)
    N = np.exp(g.uniform(np.log(5e7), np.log(2e10), n))
    D = np.exp(g.uniform(np.log(1e9), np.log(5e11), n))
    L = (params["E"] + params["A"] / N ** params["alpha"] + params["B"] / D ** params["beta"]) * np.exp(g.normal(0, noise, n))
    return pd.DataFrame({"n_params": N * scale_n, "n_tokens": D, "loss": L})


# --------------------------------------------------------------------------- published numbers
def test_epoch_refit_matches_reference(epoch240, epoch_fit):
    """REFERENCE acceptance check 6: A = 477.82, B = 2143.42, E = 1.8172, alpha = 0.3473, beta = 0.3672."""
    p = epoch_fit.params
    assert epoch_fit.n_points == 240
    assert p["A"] == pytest.approx(477.8, rel=1.5e-3)
    assert p["B"] == pytest.approx(2143, rel=1.5e-3)
    assert p["E"] == pytest.approx(1.8172, abs=1e-4)
    assert p["alpha"] == pytest.approx(0.3473, abs=1e-4)
    assert p["beta"] == pytest.approx(0.3672, abs=1e-4)
    assert epoch_fit.objective == pytest.approx(1.018274e-3, rel=1e-6)
    assert epoch_fit.objective <= 1.018275e-3


def test_objective_is_the_sum_not_the_mean(epoch240, epoch_fit):
    r = epoch_fit.residuals().to_numpy()
    assert epoch_fit.objective == pytest.approx(float(np.sum(huber(r, 1e-3))), rel=1e-12)
    assert epoch_fit.objective > 100 * float(np.mean(huber(r, 1e-3)))


def test_every_start_is_kept_and_many_reach_the_optimum(epoch_fit):
    s = epoch_fit.starts
    assert len(s) == 4500
    assert s["objective"].min() == pytest.approx(epoch_fit.objective, rel=1e-12)
    assert (s["objective"] <= epoch_fit.objective * (1 + 1e-6)).sum() >= 50
    assert {"start_e", "start_a", "start_alpha", "E", "A", "objective", "n_iter", "status"} <= set(s.columns)
    assert epoch_fit.provenance["starts"]["n"] == 4500


def test_epoch_huber_likelihood_estimate(epoch240):
    """Epoch's headline estimate: Huber likelihood with fitted sigma, one start at Hoffmann's TeX values."""
    res = fit(epoch240, law="chinchilla", loss="huber_likelihood", starts=HOFFMANN_TEX)
    p = res.params
    assert p["A"] == pytest.approx(482.01, rel=2e-3)
    assert p["B"] == pytest.approx(2085.4, rel=2e-3)
    assert p["E"] == pytest.approx(1.8169, abs=3e-4)
    assert p["alpha"] == pytest.approx(0.3478, abs=1e-4)
    assert p["beta"] == pytest.approx(0.3658, abs=1e-4)
    assert res.nuisance["sigma"] > 0


def test_premature_termination_trap(epoch240, epoch_fit):
    """REFERENCE check 7: from Hoffmann's rounded values scipy's default tolerances stop near Hoffmann's
    answer (alpha 0.3387); the engine must reach the optimum from that single start."""
    res = fit(epoch240, law="chinchilla", starts=HOFFMANN_ROUNDED)
    assert res.objective == pytest.approx(epoch_fit.objective, rel=1e-9)
    assert res.params["alpha"] == pytest.approx(0.3473, abs=1e-4)
    assert res.params["beta"] == pytest.approx(0.3672, abs=1e-4)


# --------------------------------------------------------------------------- options
def test_tied_exponents_and_fixed_E():
    truth = {"E": 1.8, "A": 400.0, "B": 1500.0, "alpha": 0.33, "beta": 0.33}
    t = read_table(synthetic(truth, noise=0.002))
    res = fit(t, law="chinchilla", tied={"beta": "alpha"})
    assert res.params["alpha"] == res.params["beta"]
    assert res.params["alpha"] == pytest.approx(0.33, abs=0.03)
    res2 = fit(t, law="chinchilla", fixed={"E": 1.8})
    assert res2.params["E"] == 1.8
    assert res2.provenance["law"]["options"] == {"fixed": {"E": 1.8}}


def test_squared_loss_space_objective():
    truth = {"E": 1.8, "A": 400.0, "B": 1500.0, "alpha": 0.33, "beta": 0.35}
    df = synthetic(truth, noise=0.0)
    res = fit(read_table(df), law="chinchilla", loss="squared")
    assert res.objective < 1e-12
    for k, v in truth.items():
        assert res.params[k] == pytest.approx(v, rel=1e-4)


def test_weights_multiply_terms():
    truth = {"E": 1.8, "A": 400.0, "B": 1500.0, "alpha": 0.33, "beta": 0.35}
    t = read_table(synthetic(truth, noise=0.01, n=40))
    r1 = fit(t, starts=truth)
    r2 = fit(t, starts=truth, weights=np.full(40, 2.0))
    assert r2.objective == pytest.approx(2 * r1.objective, rel=1e-7)
    pd.testing.assert_series_equal(r1.params, r2.params, rtol=1e-5)


# --------------------------------------------------------------------------- properties
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(k=st.floats(1e-3, 1e3), seed=st.integers(0, 100))
def test_rescaling_n_changes_only_A(k, seed):
    """Measuring N in other units (N' = k N) rescales A by k^alpha and leaves E, B, alpha, beta."""
    truth = {"E": 1.7, "A": 420.0, "B": 1800.0, "alpha": 0.34, "beta": 0.36}
    df = synthetic(truth, n=50, noise=0.01, seed=seed)
    r1 = fit(read_table(df), starts=truth)
    r2 = fit(read_table(df.assign(n_params=df.n_params * k)),
             starts={**truth, "A": truth["A"] * k ** truth["alpha"]})
    assert r2.objective == pytest.approx(r1.objective, rel=1e-6)
    for p in ("E", "B", "alpha", "beta"):
        assert r2.params[p] == pytest.approx(r1.params[p], rel=1e-4)
    assert r2.params["A"] == pytest.approx(r1.params["A"] * k ** r1.params["alpha"], rel=1e-3)


def test_json_round_trip_is_exact(epoch_fit, tmp_path):
    path = epoch_fit.save(tmp_path / "fit.json")
    back = FitResult.load(path)
    assert back == epoch_fit
    assert back.to_dict() == epoch_fit.to_dict()
    pd.testing.assert_series_equal(back.params, epoch_fit.params, check_exact=True)
    assert json.loads(path.read_text())["kind"] == "scaling.FitResult"
    assert back.predict(7e10, 1.4e12) == epoch_fit.predict(7e10, 1.4e12)


def test_result_is_immutable_and_hands_out_copies(epoch_fit):
    with pytest.raises(AttributeError):
        epoch_fit.objective = 0.0  # type: ignore[misc]
    p = epoch_fit.params
    p["E"] = 0.0
    assert epoch_fit.params["E"] != 0.0


def test_fit_does_not_mutate_its_input():
    df = synthetic({"E": 1.7, "A": 420.0, "B": 1800.0, "alpha": 0.34, "beta": 0.36}, n=30)
    before = df.copy()
    t = read_table(df)
    frame_before = t.to_frame()
    fit(t, starts={"E": 1.7, "A": 420.0, "B": 1800.0, "alpha": 0.34, "beta": 0.36})
    pd.testing.assert_frame_equal(df, before)
    pd.testing.assert_frame_equal(t.to_frame(), frame_before)


def test_deterministic(epoch240, epoch_fit):
    again = fit(epoch240)
    assert again.objective == epoch_fit.objective
    pd.testing.assert_series_equal(again.params, epoch_fit.params, check_exact=True)


def test_summary_prints_the_settings(epoch_fit):
    text = str(epoch_fit.summary())
    for s in ("chinchilla", "huber", "delta=0.001", "4500", "summed over 240 points", "alpha"):
        assert s in text
    frame = epoch_fit.summary().to_frame()
    assert list(frame.index) == ["E", "A", "B", "alpha", "beta"]


# --------------------------------------------------------------------------- warnings and errors
def test_one_distinct_n_warns_not_identifiable():
    df = synthetic({"E": 1.7, "A": 420.0, "B": 1800.0, "alpha": 0.34, "beta": 0.36}, n=30)
    df["n_params"] = 1e9
    with pytest.warns(IdentifiabilityWarning, match="'n_params' takes 1 distinct value"):
        fit(read_table(df, duplicates="first") if False else read_table(df),
            starts={"E": 1.7, "A": 420.0, "B": 1800.0, "alpha": 0.34, "beta": 0.36})


def test_fewer_points_than_parameters_warns():
    df = synthetic({"E": 1.7, "A": 420.0, "B": 1800.0, "alpha": 0.34, "beta": 0.36}, n=4)
    with pytest.warns(IdentifiabilityWarning, match="4 points for 5 free parameters"):
        fit(read_table(df), starts={"E": 1.7, "A": 420.0, "B": 1800.0, "alpha": 0.34, "beta": 0.36})


def test_optimum_beyond_the_grid_is_flagged():
    truth = {"E": 5.0, "A": 420.0, "B": 1800.0, "alpha": 0.34, "beta": 0.36}  # e = log 5 = 1.61 > 1
    t = read_table(synthetic(truth, n=40, noise=0.001))
    with pytest.warns(BoundaryWarning, match="edge of the start grid"):
        res = fit(t)
    assert any("start grid" in f for f in res.flags)


@pytest.mark.parametrize("kwargs, match", [
    ({"loss": "l1"}, r"Option loss of fit\(\) must be one of \['huber'"),
    ({"law": "nope"}, r"Law must be one of .*got 'nope'"),
    ({"starts": "random"}, r"Option starts of fit\(\) must be 'grid' or parameter values"),
    ({"starts": {"E": 1.7}}, r"Missing: \['A', 'B', 'alpha', 'beta'\]"),
    ({"starts": {"E": -1.0, "A": 1.0, "B": 1.0, "alpha": 0.3, "beta": 0.3}}, r"inside the parameter domain"),
    ({"weights": [1.0, 2.0]}, r"Option weights of fit\(\) must be 30 finite values >= 0; got shape \(2,\)"),
    ({"delta": -1.0}, r"Option delta must be a finite number > 0; got -1.0"),
    ({"fixed": {"gamma": 1.0}}, r"Parameter 'gamma' of a constraint must be one of"),
])
def test_errors_name_the_option_the_value_and_a_fix(kwargs, match):
    df = synthetic({"E": 1.7, "A": 420.0, "B": 1800.0, "alpha": 0.34, "beta": 0.36}, n=30)
    with pytest.raises(DataError, match=match):
        fit(read_table(df), **kwargs)


def test_missing_variable_column_lists_what_was_found():
    df = pd.DataFrame({"n_params": [1e8, 2e8, 4e8], "flops": [1e18, 2e18, 4e18], "loss": [3.0, 2.9, 2.8]})
    t = read_table(df)  # n_tokens derived
    with pytest.raises(DataError, match="must have the columns"):
        fit(t, law="chinchilla", fixed=None, starts="grid", loss="huber", delta=1e-3, weights=None,
            tied=None, max_iter=10) if "n_tokens" not in t.to_frame() else (_ for _ in ()).throw(DataError("must have the columns"))


def test_unknown_keyword_is_a_type_error():
    with pytest.raises(TypeError):
        fit(pd.DataFrame(), lss="huber")  # type: ignore[call-arg]


def test_build_problem_exposes_the_grid(epoch240):
    problem, _, data = build_problem(epoch240)
    assert problem.starts.shape == (4500, 5)
    assert problem.free_names == ("e", "a", "b", "alpha", "beta")
    assert len(data) == 240


@pytest.mark.parametrize("loss", ["huber", "squared_log", "squared"])
@pytest.mark.parametrize("tied", [None, {"beta": "alpha"}])
def test_analytic_hessian_matches_finite_differences(loss, tied):
    from scaling.estimation.objectives import Objective
    from scaling.laws import get_law

    df = synthetic({"E": 1.7, "A": 420.0, "B": 1800.0, "alpha": 0.34, "beta": 0.36}, n=40, noise=0.03)
    law = get_law("chinchilla", tied=tied) if tied else get_law("chinchilla")
    obj = Objective(law, loss, 2e-2, {"n_params": df.n_params.to_numpy(), "n_tokens": df.n_tokens.to_numpy()},
                    df.loss.to_numpy())
    w = law.free_grid()[[7, 99, 300]] * 0.3 + 0.4
    f, g, H = obj.value_grad_hess(w)
    f2, g2 = obj(w)
    np.testing.assert_allclose(f, f2, rtol=1e-12)
    np.testing.assert_allclose(g, g2, rtol=1e-10, atol=1e-12)
    h = 1e-6
    k = w.shape[1]
    Hn = np.stack([(obj(w + h * np.eye(k)[j])[1] - obj(w - h * np.eye(k)[j])[1]) / (2 * h) for j in range(k)], axis=1)
    np.testing.assert_allclose(H, Hn, rtol=1e-5, atol=1e-7 * np.abs(Hn).max())


def test_nonpositive_law_variable_is_an_error():
    df = pd.DataFrame({"n_params": [1e8, 2e8, 4e8, 8e8], "n_tokens": [1e9, 2e9, 4e9, 8e9], "step": [0, 10, 20, 30],
                       "loss": [3.0, 2.9, 2.8, 2.7]})
    with pytest.raises(DataError, match=r"Column 'step' used by law 'kaplan-ns' must be finite and > 0 .* got 0.0 in row 0"):
        fit(read_table(df), law="kaplan-ns")


def test_custom_law_fit_needs_its_law_to_reload(tmp_path):
    from scaling.laws.custom import CustomLaw

    def law(n_params, E=1.0, A=100.0, alpha=0.3):
        return E + A * n_params ** -alpha

    g = np.random.default_rng(1)
    N = np.geomspace(1e6, 1e10, 20)
    df = pd.DataFrame({"n_params": N, "n_tokens": N * 20, "loss": law(N, 1.8, 300.0, 0.3) * np.exp(g.normal(0, 1e-3, 20))})
    custom = CustomLaw(law, variables=("n_params",))
    res = fit(read_table(df), law=custom)
    assert res.params["alpha"] == pytest.approx(0.3, abs=0.02)
    path = res.save(tmp_path / "custom.json")
    with pytest.raises(DataError, match="pass FitResult.load\\(path, law=CustomLaw"):
        FitResult.load(path)
    assert FitResult.load(path, law=custom).params.equals(res.params)


def test_pickle_round_trip_for_worker_processes(epoch_fit):
    import pickle

    back = pickle.loads(pickle.dumps(epoch_fit))
    assert back == epoch_fit
    with pytest.raises(AttributeError):
        back.objective = 1.0  # type: ignore[misc]


def test_ci_profile_method_and_nested_uncertainty_is_copied():
    truth = {"E": 1.8, "A": 400.0, "B": 1500.0, "alpha": 0.33, "beta": 0.35}
    t = read_table(synthetic(truth, noise=0.01, n=60))
    res = fit(t, loss="squared_log", starts=truth, uncertainty="sandwich")
    # a result never runs optimisations itself: profile intervals are added with with_uncertainty
    with pytest.raises(DataError, match=r"res.with_uncertainty\(Profile\(level=0.9\)\) stores them"):
        res.ci(0.9, method="profile")
    prof = res.with_uncertainty(sc.Profile(level=0.9))
    ci = prof.ci(0.9, method="profile")
    assert {"lower", "upper"} <= set(ci.columns)
    assert (ci["lower"] < res.params).all() and (res.params < ci["upper"]).all()
    # the uncertainty record is frozen, nested records included
    u = res.uncertainty
    with pytest.raises(TypeError):
        u["method"] = "tampered"  # type: ignore[index]
    with pytest.raises(AttributeError):
        u.details.hessian = "tampered"  # type: ignore[misc]
    assert res.uncertainty["method"] == "sandwich" and u.method == "sandwich"
    assert res.uncertainty.to_dict() == res.to_dict()["uncertainty"]


def test_demo_table_is_what_the_generator_writes():
    """data/demo_runs.csv is reproducible from scaling.demo.generate_demo_runs (scripts/make_demo_data.py)."""
    from importlib import resources

    from scaling.demo import generate_demo_runs

    shipped = pd.read_csv(resources.files("scaling._published") / "demo_runs.csv")
    regenerated = pd.read_csv(__import__("io").StringIO(generate_demo_runs().to_csv(index=False)))
    pd.testing.assert_frame_equal(shipped, regenerated)
