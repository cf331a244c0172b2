"""sensitivity(): refits across fitting choices, the default's interval, the warning, the figure."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import scaling as sc
from scaling.errors import DataError, SensitivityWarning
from scaling.estimation.sensitivity import sensitivity, top_half_flops

TRUE = {"E": 1.8, "A": 400.0, "B": 2000.0, "alpha": 0.34, "beta": 0.36}


def synthetic(n: int = 60, noise: float = 0.004, seed: int = 0) -> sc.RunTable:
    g = np.random.default_rng(seed)
    N = np.exp(g.uniform(np.log(5e7), np.log(5e9), n))
    D = np.exp(g.uniform(np.log(1e9), np.log(2e11), n))
    L = (TRUE["E"] + TRUE["A"] / N ** TRUE["alpha"] + TRUE["B"] / D ** TRUE["beta"]) * np.exp(g.normal(0, noise, n))
    return sc.read_table(pd.DataFrame({"n_params": N, "n_tokens": D, "loss": L}))


@pytest.fixture(scope="module")
def table():
    return synthetic()


@pytest.fixture(scope="module")
def grid():
    law = sc.get_law("chinchilla")
    g = law.free_grid()[::30]
    return pd.DataFrame(law.to_natural(law.expand(g)), columns=list(law.param_names))


def test_wrong_fixed_E_moves_n_opt_beyond_the_interval_and_warns(table, grid):
    laws = {"free": {"starts": grid}, "E fixed (wrong)": {"fixed": {"E": 1.2}, "starts": grid}}
    with pytest.warns(SensitivityWarning, match="understates the uncertainty"):
        s = sensitivity(table, laws=laws, subsets={"all": None, "top half": "top_half_flops"}, quantity="n_opt",
                        flops=1e22, uncertainty=sc.Bootstrap(n=30), rng=0)
    t = s.to_frame()
    assert len(t) == 4 and t["default"].tolist() == [True, False, False, False]
    assert t["n_points"].tolist() == [60, int(top_half_flops(table.to_frame()).sum())] * 2
    # each row is the fit it names
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = sc.fit(table.filter(top_half_flops(table.to_frame()), reason="top"), fixed={"E": 1.2}, starts=grid)
    n_opt = float(sc.compute_optimal(ref, 1e22).n_params)
    assert t["estimate"].iloc[3] == pytest.approx(n_opt, rel=1e-8)
    lo, hi = s.default_interval
    assert lo < t["estimate"].iloc[0] < hi and s.dominates and s.spread > hi - lo
    ax = s.plot()
    assert len(ax.get_yticklabels()) == 4 and "N_opt" in ax.get_xlabel()


def test_agreeing_choices_do_not_warn(table, grid):
    with warnings.catch_warnings():
        warnings.simplefilter("error", SensitivityWarning)
        s = sensitivity(table, laws={"free": {"starts": grid}}, deltas=[1e-3, 2e-3], quantity="alpha",
                        uncertainty=sc.Bootstrap(n=30), rng=0)
    assert not s.dominates and len(s.table) == 2
    assert s.table["estimate"].iloc[0] == pytest.approx(s.results[0].params["alpha"])


def test_bad_options_are_named(table):
    with pytest.raises(DataError, match="quantity"):
        sensitivity(table, quantity="nonsense")
    with pytest.raises(DataError, match="flops"):
        sensitivity(table, quantity="n_opt")
    with pytest.raises(DataError, match="n_params"):
        sensitivity(table, quantity="loss")
    with pytest.raises(DataError, match="boolean mask"):
        sensitivity(table, quantity="a", subsets={"bad": np.ones(3, dtype=bool)})
    with pytest.raises(DataError, match="top_half_flops"):
        sensitivity(table, quantity="a", subsets={"bad": "largest"})
