"""The compiled (numba) float32 screen: its math functions, its kernel, its fits against the numpy engine,
and the engine option. numba is in the test extras, so it is imported directly: a broken install fails here."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import scaling as sc
from scaling.errors import BoundaryWarning, DataError
from scaling.estimation import compiled
from scaling.estimation.objectives import Objective
from scaling.estimation.optimize import batched_lbfgs, next_step

C = compiled._module()  # compiled (or loaded from numba's cache) once

# a 6 x 6 grid of model sizes and token counts, the loss of a known law with 1 % deterministic noise
N = np.repeat(np.geomspace(7e7, 1.6e10, 6), 6)
D = np.tile(np.geomspace(5e9, 5e11, 6), 6)
LOSS = (1.7 + 400 * N**-0.34 + 410 * D**-0.28) * np.exp(np.sin(np.arange(36)) * 0.01)
F32 = np.float32


@pytest.fixture(scope="module")
def epoch():
    t = sc.load_dataset("epoch_chinchilla")
    return t.filter(t.loss < np.sort(t.loss)[-5], reason="5 highest losses (as Epoch)")


# ------------------------------------------------------------------ float32 exp / exp2 / log

def test_exp_exp2_log_accuracy_over_the_float32_range():
    x = np.linspace(-86.9, 87.9, 200_001, dtype=F32)
    ref = np.exp(x.astype(float))
    assert np.max(np.abs(C.exp32_array(x) / ref - 1)) <= 2e-7
    x2 = np.linspace(-125.9, 126.9, 200_001, dtype=F32)
    assert np.max(np.abs(C.exp2_32_array(x2) / np.exp2(x2.astype(float)) - 1)) <= 2e-7
    y = np.geomspace(1.2e-38, 3e38, 200_001).astype(F32)
    ly = np.log(y.astype(float))
    # relative to max(|log y|, 1): float32 log itself is good to ~6e-8 of that
    assert np.max(np.abs(C.log32_array(y) - ly) / np.maximum(np.abs(ly), 1.0)) <= 2e-7


@settings(max_examples=200, deadline=None)
@given(x=st.floats(-86.0, 87.0, width=32))
def test_exp32_matches_numpy_float32(x):
    a = np.array([x], dtype=F32)
    assert abs(float(C.exp32_array(a)[0]) / float(np.exp(a.astype(float))[0]) - 1) <= 2e-7


def test_overflow_underflow_and_nan_as_numpy():
    e = C.exp32_array(np.array([88.5, 1e6, -87.5, -1e6, np.nan, np.inf, -np.inf], dtype=F32))
    assert e[0] == np.inf and e[1] == np.inf and e[2] == 0.0 and e[3] == 0.0 and np.isnan(e[4])
    assert e[5] == np.inf and e[6] == 0.0
    lg = C.log32_array(np.array([0.0, np.inf, -1.0, np.nan, 1.0], dtype=F32))
    assert lg[0] == -np.inf and lg[1] == np.inf and np.isnan(lg[2]) and np.isnan(lg[3]) and lg[4] == 0.0


# ------------------------------------------------------------------ the kernel

params = st.tuples(st.floats(-1.0, 1.5), st.floats(0.0, 12.0), st.floats(0.0, 12.0), st.floats(0.0, 1.2),
                   st.floats(0.0, 1.2))


@settings(max_examples=60, deadline=None)
@given(z=st.lists(params, min_size=1, max_size=6), loss=st.sampled_from(["huber", "squared_log", "squared"]),
       weighted=st.booleans(), seed=st.integers(0, 2**16))
def test_kernel_matches_the_float64_objective(z, loss, weighted, seed):
    rng = np.random.default_rng(seed)
    x = np.array(z)
    w = rng.integers(0, 3, N.size).astype(float) if weighted else np.ones(N.size)
    obj = Objective(sc.get_law("chinchilla"), loss, 1e-3, {"n_params": N, "n_tokens": D}, LOSS)
    f64, g64 = obj(x, w if weighted else None)
    y = LOSS.astype(F32)
    f32, g32 = C.chinchilla_batch(x, np.log2(N).astype(F32), np.log2(D).astype(F32), np.log(y), y, w.astype(F32),
                                  F32(1e-3), compiled._MODES[loss])
    ok = np.isfinite(f64)
    assert np.array_equal(np.isfinite(f32), ok)
    # float32 arithmetic on 36 points: ~1e-6 of the largest term; a sum can cancel, so compare to the
    # summed magnitudes (the objective is a sum of non-negative terms: itself)
    np.testing.assert_allclose(f32[ok], f64[ok], rtol=2e-5, atol=1e-12)
    scale = np.abs(g64[ok]).max(axis=1, keepdims=True) + 1e-30
    np.testing.assert_allclose(g32[ok] / scale, g64[ok] / scale, rtol=0, atol=5e-4)


# ------------------------------------------------------------------ fits: compiled against numpy

def test_epoch_fit_compiled_equals_numpy(epoch):
    a = sc.fit(epoch, law="chinchilla", engine="compiled")
    b = sc.fit(epoch, law="chinchilla", engine="numpy")
    assert a.provenance["engine"] == "compiled" and b.provenance["engine"] == "numpy"
    assert "numba" in a.provenance["optimizer"] and "numba" not in b.provenance["optimizer"]
    # the float64 polish lands both at the same optimum: Epoch's objective (REFERENCE: 1.018274e-3 summed Huber)
    assert a.objective == pytest.approx(b.objective, rel=1e-12)
    assert a.objective == pytest.approx(1.0182740178e-3, rel=1e-9)
    np.testing.assert_allclose(a.params.to_numpy(), b.params.to_numpy(), rtol=1e-6)
    st_a = a.starts
    assert st_a["stage"].str.startswith("float32 screen (compiled)").all()
    assert not b.starts["stage"].str.contains("compiled").any()
    assert set(st_a["status"]) <= {"screened", "converged", "not converged", "max iterations (screen)",
                                   "non-finite start"}
    assert bool(a.provenance["starts"]["status_counts"].get("converged", 0) >= 1)
    # every start that reached the optimum did so in both engines in comparable numbers
    near = lambda r: int((r.starts["objective"] <= r.objective * (1 + 1e-6)).sum())  # noqa: E731
    assert near(a) >= 100 and near(b) >= 100


def test_auto_is_compiled_for_chinchilla_and_numpy_elsewhere(epoch):
    assert sc.fit(epoch, law="chinchilla").provenance["engine"] == "compiled"
    frame = pd.DataFrame({"n_params": N, "n_tokens": D, "loss": LOSS})
    with pytest.warns(BoundaryWarning, match="log_sigma"):  # sigma ~ 0.3 % is below the default sigma grid
        r = sc.fit(frame, law="chinchilla", loss="huber_likelihood", delta=1.0)
    assert r.provenance["engine"] == "numpy"  # the sigma coordinate: no compiled kernel
    r2 = sc.fit(frame.assign(loss=2.0 + 300 * N**-0.3), law="kaplan-n")
    assert r2.provenance["engine"] == "numpy"


@pytest.mark.parametrize("opts", [{"tied": {"beta": "alpha"}}, {"fixed": {"E": 1.69}}, {"loss": "squared_log"},
                                  {"loss": "squared"}, {"weights": "w"}])
def test_constrained_weighted_and_other_losses_agree(opts):
    table = pd.DataFrame({"n_params": N, "n_tokens": D, "loss": LOSS, "w": 1.0 + (np.arange(N.size) % 3)})
    a = sc.fit(table, **opts, engine="compiled")
    b = sc.fit(table, **opts, engine="numpy")
    assert a.provenance["engine"] == "compiled"
    assert a.objective == pytest.approx(b.objective, rel=1e-9, abs=1e-15)
    np.testing.assert_allclose(a.params.to_numpy(), b.params.to_numpy(), rtol=1e-4)


def test_non_finite_start_is_reported_as_such():
    table = pd.DataFrame({"n_params": N, "n_tokens": D, "loss": LOSS})
    starts = np.array([[1.7, 400.0, 410.0, 0.34, 0.28], [np.exp(200.0), 400.0, 410.0, 0.34, 0.28]])
    for engine in ("compiled", "numpy"):
        r = sc.fit(table, starts=starts, engine=engine)
        assert list(r.starts["status"])[1] == "non-finite start", engine
        assert r.objective < 1e-4


# ------------------------------------------------------------------ the engine option

def test_engine_option_errors(epoch, monkeypatch):
    with pytest.raises(DataError, match=r"engine.*one of \['auto', 'compiled', 'numpy'\].*'gpu'"):
        sc.fit(epoch, engine="gpu")
    with pytest.raises(DataError, match=r"loss 'huber_likelihood' has no compiled kernel.*engine='numpy'"):
        sc.fit(epoch, loss="huber_likelihood", engine="compiled")
    monkeypatch.setattr(compiled, "available", lambda: False)
    with pytest.raises(DataError, match=r"numba is not installed \(pip install 'scaling\[fast\]'\)"):
        sc.fit(epoch, engine="compiled")
    r = sc.fit(epoch)  # auto without numba: numpy, same optimum
    assert r.provenance["engine"] == "numpy"
    assert r.objective == pytest.approx(1.0182740178e-3, rel=1e-9)


# ------------------------------------------------------------------ the line search both engines share

def test_next_step_is_the_quadratic_minimiser_within_its_bracket():
    # f(t) = (t - 0.3)^2: f0 = 0.09, slope -0.6, f(1) = 0.49 -> the minimiser 0.3 exactly
    assert next_step(np.array([1.0]), np.array([0.09]), np.array([0.49]), np.array([-0.6]))[0] == pytest.approx(0.3)
    # a minimiser beyond t/2 is clipped to t/2, one below t/10 to t/10, a non-finite trial gives t/10
    t = next_step(np.array([1.0, 1.0, 1.0]), np.array([1.0, 1.0, 1.0]), np.array([0.9, 1e6, np.inf]),
                  np.array([-1.0, -1.0, -1.0]))
    np.testing.assert_allclose(t, [0.5, 0.1, 0.1])
    for f0, ft, gd in [(0.09, 0.49, -0.6), (1.0, 3.0, -0.5), (2.0, np.nan, -1.0)]:
        assert C._next_step(1.0, f0, ft, gd) == pytest.approx(float(next_step(np.array([1.0]), np.array([f0]),
                                                                               np.array([ft]), np.array([gd]))[0]))


def test_stall_rule_stops_a_start_whose_predicted_decrease_is_below_resolution():
    # f = 1 + x^2 from x = 1e-4: the first trial (x = -1e-4) fails Armijo; the next one (t = 1/2) predicts a
    # decrease of 2e-8 = 2e-8 |f|, below stall_tol = 1e-7: the start stalls there, after two evaluations
    from scaling.estimation.optimize import STALLED

    def fun(x, idx):
        return 1.0 + x[:, 0] ** 2, 2.0 * x

    x0, lo, hi = np.array([[1e-4]]), np.array([-np.inf]), np.array([np.inf])
    r = batched_lbfgs(fun, x0, lo, hi, ftol=0.0, max_iter=5, stall_tol=1e-7)
    assert r.status[0] == STALLED and r.n_evals == 2 and r.x[0, 0] == 1e-4
    r0 = batched_lbfgs(fun, x0, lo, hi, ftol=0.0, max_iter=1, stall_tol=0.0)
    assert r0.x[0, 0] == 0.0 and r0.n_evals == 3  # without the rule the half step is taken


def test_fast_extra_and_test_extras_carry_numba_and_the_compiled_functions_are_cached_on_disk():
    import tomllib
    from pathlib import Path

    extras = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]
    assert any(d.startswith("numba") for d in extras["fast"])
    assert any(d.startswith("numba") for d in extras["test"])
    for fn in (C.screen_chinchilla, C.chinchilla_point, C.chinchilla_batch):
        assert type(fn._cache).__name__ == "FunctionCache"  # numba's on-disk cache (not NullCache)


def test_cli_fit_engine_flag_and_summary(capsys, tmp_path):
    import json

    from scaling.cli import main

    frame = pd.DataFrame({"n_params": N, "n_tokens": D, "loss": LOSS})
    src = tmp_path / "runs.csv"
    frame.to_csv(src, index=False)
    assert main(["fit", str(src)]) == 0
    assert "(grid, compiled screen)" in capsys.readouterr().out
    assert main(["fit", str(src), "--engine", "numpy", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["provenance"]["engine"] == "numpy"
    assert main(["fit", str(src), "--engine", "gpu"]) == 2
    assert "invalid choice: 'gpu' (choose from 'auto', 'numpy')" in capsys.readouterr().err


@pytest.mark.parametrize("name,group", [("gadre_overtraining", None), ("muennighoff_datablations", None),
                                        ("porian_resolving", "owt2/base/long/kaplan/kaplan/train"),
                                        ("porian_resolving", "rw/tuned/short/const/attention/train")])
def test_published_sweeps_reach_the_same_optimum_in_both_engines(name, group):
    import warnings

    table = sc.load_dataset(name)
    if group is not None:
        frame = table.to_frame()
        table = frame[frame["group"] == group]
        assert len(table) > 100
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # these sweeps' own diagnostics (identifiability, boundaries) are not tested here
        a = sc.fit(table, engine="compiled")
        b = sc.fit(table, engine="numpy")
    assert a.provenance["engine"] == "compiled"
    assert a.objective == pytest.approx(b.objective, rel=1e-12)


def test_a_broken_numba_falls_back_to_numpy_with_a_warning(monkeypatch):
    from scaling.errors import EngineWarning

    table = pd.DataFrame({"n_params": N, "n_tokens": D, "loss": LOSS})
    good = sc.fit(table, engine="numpy")
    # what an old numba says beside a newer numpy; _module keeps the first failure and raises it again
    monkeypatch.setattr(compiled, "_FAILED", ImportError("Numba needs NumPy 2.3 or less. Got NumPy 2.5."))
    with pytest.warns(EngineWarning, match=r"numba is installed but the compiled engine failed to load: ImportError: "
                                           r"Numba needs NumPy 2.3 or less.*pip install -U numba.*--engine numpy"):
        r = sc.fit(table)
    assert r.provenance["engine"] == "numpy" and r.objective == good.objective
    with pytest.raises(DataError, match=r"cannot be used here: numba is installed but the compiled engine failed"):
        sc.fit(table, engine="compiled")
