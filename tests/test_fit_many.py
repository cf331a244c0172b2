"""fit_many: many independent problems in one batched computation, each equal to a one-at-a-time fit."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import scaling as sc
from conftest import load_or_skip
from scaling.errors import DataError

TRUE = {"E": 1.8, "A": 400.0, "B": 2000.0, "alpha": 0.34, "beta": 0.36}


def synthetic(n: int = 40, seed: int = 0, groups: int = 3) -> pd.DataFrame:
    g = np.random.default_rng(seed)
    N = np.exp(g.uniform(np.log(5e7), np.log(2e10), n * groups))
    D = np.exp(g.uniform(np.log(1e9), np.log(5e11), n * groups))
    grp = np.repeat([f"g{i}" for i in range(groups)], n)
    shift = np.repeat(np.linspace(0.0, 0.2, groups), n)
    L = (TRUE["E"] + shift + TRUE["A"] / N ** TRUE["alpha"] + TRUE["B"] / D ** TRUE["beta"])
    L1 = L * np.exp(g.normal(0, 0.005, n * groups))
    L2 = 1.1 * L * np.exp(g.normal(0, 0.005, n * groups))
    return pd.DataFrame({"n_params": N, "n_tokens": D, "loss": L1, "val_b": L2, "group": grp})


@pytest.fixture(scope="module")
def grid300():
    """Every 15th start of Hoffmann's grid (300 starts): the tests compare with sc.fit on the same grid."""
    law = sc.get_law("chinchilla")
    g = law.free_grid()[::15]
    return pd.DataFrame(law.to_natural(law.expand(g)), columns=list(law.param_names))


def quiet_fit(*args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sc.fit(*args, **kw)


@pytest.fixture(scope="module")
def epoch_resamples():
    t = load_or_skip("epoch_chinchilla")
    t = t.filter(t.loss < np.sort(t.loss)[-5], reason="5 highest losses (as Epoch)")
    fr = t.to_frame()[["n_params", "n_tokens", "flops", "loss"]]
    g = np.random.default_rng(7)
    return [sc.read_table(fr.iloc[g.integers(0, len(fr), len(fr))].reset_index(drop=True), duplicates="keep")
            for _ in range(12)]


def test_bootstrap_tables_each_equal_a_one_at_a_time_fit(epoch_resamples, grid300):
    coll = sc.fit_many(epoch_resamples, starts=grid300, pilots=2, verify=2, rng=3)
    assert len(coll) == 12 and list(coll.keys["table"]) == list(range(12))
    info = coll.info["families"]["loss"]
    assert info["strategy"] == "shared" and info["verified"] == 4 and info["missed"] == 0
    assert set(coll.status) == {"converged"}
    for i in np.random.default_rng(11).choice(12, 3, replace=False):
        ref = quiet_fit(epoch_resamples[i], starts=grid300)
        assert coll[i].objective == pytest.approx(ref.objective, rel=1e-10)
        assert np.allclose(coll[i].params.to_numpy(), ref.params.to_numpy(), rtol=1e-5)
    tidy = coll.to_frame()
    assert set(tidy["parameter"]) == {"E", "A", "B", "alpha", "beta"} and len(tidy) == 60
    wide = coll.to_frame(wide=True)
    assert np.allclose(wide["alpha"].to_numpy(), [r.params["alpha"] for r in coll])


def test_groups_and_metrics_match_single_fits_with_flags_and_excluded(grid300):
    df = synthetic()
    table = sc.read_table(df)
    coll = sc.fit_many(table, by="group", metrics=["loss", "val_b"], starts=grid300, rng=0)
    assert len(coll) == 6
    assert set(map(tuple, coll.keys[["group", "metric"]].to_numpy())) == {
        (f"g{i}", m) for i in range(3) for m in ("loss", "val_b")}
    assert coll.info["families"]["loss"]["strategy"] == "grid"
    r = coll.get(group="g1", metric="val_b")
    sub = df[df.group == "g1"].assign(loss=lambda d: d.val_b)
    ref = quiet_fit(sc.read_table(sub), starts=grid300)
    assert r.objective == pytest.approx(ref.objective, rel=1e-10)
    assert np.allclose(r.params.to_numpy(), ref.params.to_numpy(), rtol=1e-6)
    assert r.flags == ref.flags
    assert r.n_points == 40
    assert len(r.excluded) == 80 and r.excluded["reason"].str.contains("group").all()
    with pytest.raises(KeyError):
        coll.get(group="g1")


def test_same_answers_for_any_n_jobs(grid300):
    df = synthetic(n=20, groups=9, seed=2)
    kw = dict(by="group", starts=grid300.iloc[::3], strategy="shared", pilots=1, verify=1, rng=5)
    a = sc.fit_many(df, n_jobs=1, **kw)
    b = sc.fit_many(df, n_jobs=2, **kw)
    assert np.array_equal(a.objectives, b.objectives)
    assert all(np.array_equal(x.params.to_numpy(), y.params.to_numpy()) for x, y in zip(a, b))
    assert a.info["families"]["loss"]["verified_problems"] == b.info["families"]["loss"]["verified_problems"]


def test_bad_options_are_named():
    df = synthetic(n=10, groups=1)
    with pytest.raises(DataError, match="strategy"):
        sc.fit_many(df, strategy="fast")
    with pytest.raises(DataError, match="'nope'"):
        sc.fit_many(df, by="nope")
    with pytest.raises(DataError, match="at least one table"):
        sc.fit_many([])



def test_a_missed_verification_escalates_and_re_solves(monkeypatch, grid300):
    """The control flow of verification: if the shared solve leaves a problem above its full-grid optimum
    (simulated here by spoiling the first shared pass), verification catches it, the candidates grow
    and every problem is re-solved; the final answers equal the one-at-a-time fits."""
    from scaling.estimation import many

    real = many._shared_block
    calls = {"n": 0}

    def spoiled(objective, W, cand, max_iter):
        x, f, conv = real(objective, W, cand, max_iter)
        calls["n"] += 1
        if calls["n"] == 1:  # first pass: every answer moved off its optimum
            x = x + 0.05
            f = np.array([objective(x[i][None, :], W[i], grad=False)[0][0] for i in range(len(x))])
        return x, f, conv

    monkeypatch.setattr(many, "_shared_block", spoiled)
    df = synthetic(n=20, groups=4, seed=3)
    coll = sc.fit_many(df, by="group", starts=grid300.iloc[::6], strategy="shared", pilots=1, verify=2, rng=1)
    info = coll.info["families"]["loss"]
    assert info["missed"] == 2 and info["escalations"] == 1 and calls["n"] == 2
    for g in ("g0", "g3"):
        ref = quiet_fit(sc.read_table(df[df.group == g]), starts=grid300.iloc[::6])
        assert coll.get(group=g).objective == pytest.approx(ref.objective, rel=1e-9)
