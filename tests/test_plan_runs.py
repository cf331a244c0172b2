"""plan_runs(): the planned runs narrow the interval of N_opt more than an equal-compute isoFLOP
extension — predicted by the Fisher information and realised in simulation with a known true law."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

import scaling as sc
from scaling.cli import main
from scaling.errors import DataError
from scaling.estimation.planning_runs import expected_interval, plan_runs

TRUE = {"E": 1.8, "A": 400.0, "B": 2000.0, "alpha": 0.34, "beta": 0.36}
NOISE = 0.01


def law_loss(N, D):
    return TRUE["E"] + TRUE["A"] / N ** TRUE["alpha"] + TRUE["B"] / D ** TRUE["beta"]


def base_design() -> pd.DataFrame:
    rows = [(N, C / (6 * N)) for C in (1e18, 3e18, 1e19) for N in np.geomspace(3e7, 1e9, 7)]
    return pd.DataFrame(rows, columns=["n_params", "n_tokens"])


def observe(design: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    d = design[["n_params", "n_tokens"]].copy()
    d["loss"] = law_loss(d["n_params"], d["n_tokens"]) * np.exp(rng.normal(0, NOISE, len(d)))
    return d


@pytest.fixture(scope="module")
def grid():
    law = sc.get_law("chinchilla")
    g = law.free_grid()[::30]
    return pd.DataFrame(law.to_natural(law.expand(g)), columns=list(law.param_names))


def quiet_fit(df, grid):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sc.fit(sc.read_table(df), starts=grid)


@pytest.fixture(scope="module")
def plan(grid):
    first = quiet_fit(observe(base_design(), np.random.default_rng(0)), grid)
    return first, plan_runs(first, target_flops=1e23, budget_flops=6e19)


def test_plan_respects_budget_and_beats_isoflop_in_expectation(plan):
    fit, p = plan
    assert 1 <= len(p.runs) <= 8
    assert p.runs["flops"].sum() <= 6e19 * (1 + 1e-12)
    assert np.allclose(p.runs["flops"], 6 * p.runs["n_params"] * p.runs["n_tokens"])
    assert p.after["factor"] < p.before["factor"]
    assert p.after["factor"] < p.isoflop["factor"]
    # the isoFLOP extension has the same compute as the plan
    assert p.isoflop_runs["flops"].sum() == pytest.approx(p.runs["flops"].sum(), rel=1e-9)
    # the reported "after" is the Fisher interval of the fit's runs plus the planned ones
    again = expected_interval(fit, "n_opt", 1e23, extra_runs=p.runs, sigma=p.sigma)
    assert again["factor"] == pytest.approx(p.after["factor"], rel=1e-6)
    assert "planned runs" in str(p)


@pytest.mark.slow
def test_plan_narrows_the_realised_spread_more_than_the_isoflop_extension(plan, grid):
    """Simulation with the known true law: 12 noise realisations of (base + new runs), refitted."""
    _, p = plan
    est = {"plan": [], "isoflop": []}
    for seed in range(12):
        g = np.random.default_rng(100 + seed)
        base = observe(base_design(), g)
        for name, runs in (("plan", p.runs), ("isoflop", p.isoflop_runs)):
            new = observe(runs, np.random.default_rng([100 + seed, 1 if name == "plan" else 2]))
            res = quiet_fit(pd.concat([base, new], ignore_index=True), grid)
            est[name].append(float(sc.compute_optimal(res, 1e23).n_params))
    sd = {k: float(np.std(np.log(v), ddof=1)) for k, v in est.items()}
    assert sd["plan"] < sd["isoflop"], sd
    # and the Fisher prediction of the plan's spread is of the right size (within a factor 2)
    assert 0.5 < sd["plan"] / p.after["sd_log"] < 2.0, (sd, p.after["sd_log"])


def test_errors_name_the_option(plan):
    fit, _ = plan
    with pytest.raises(DataError, match="quantity"):
        plan_runs(fit, target_flops=1e23, budget_flops=1e19, quantity="alpha")
    with pytest.raises(DataError, match="budget_flops"):
        plan_runs(fit, target_flops=1e23, budget_flops=-1.0)
    with pytest.raises(DataError, match="within budget_flops"):
        plan_runs(fit, target_flops=1e23, budget_flops=1e10)


def test_cli_plan_runs(plan, tmp_path, capsys):
    fit, p = plan
    path = tmp_path / "fit.json"
    fit.save(path)
    code = main(["plan-runs", str(path), "--target-flops", "1e23", "--budget-flops", "6e19", "--json"])
    out = capsys.readouterr().out
    assert code == 0
    d = json.loads(out)
    assert d["after"]["factor"] == pytest.approx(p.after["factor"], rel=1e-6)
    assert len(d["runs"]) == len(p.runs)
    code = main(["plan-runs", str(path), "--target-flops", "1e23", "--budget-flops", "6e19"])
    assert code == 0 and "isoFLOP" in capsys.readouterr().out
