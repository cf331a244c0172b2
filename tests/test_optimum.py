"""One route to the compute-optimal point: Law.optimum (closed form for Chinchilla, numeric otherwise),
used by compute_optimal, derived(), the CLI and the demo; the FLOPs rule of the table travels to them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize_scalar

import scaling as sc
from scaling.cli import main
from scaling.laws.chinchilla import Chinchilla, allocation_constants
from scaling.predict.flops import SIX_ND, as_flops_model

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo_runs.csv"
HOFFMANN = np.array([[1.69, 406.4, 410.7, 0.34, 0.28]])


def _argmin_N(law: sc.Law, theta: np.ndarray, C: float, k: float) -> float:
    """Brute-force reference: scipy's bounded scalar minimiser of L(N, C/(kN)) in log N."""
    def f(x: float) -> float:
        N = np.exp(x)
        return float(law.predict(theta[0], n_params=N, n_tokens=C / (k * N)))
    lo, hi = 0.5 * np.log(C / (k * 1e8)), 0.5 * np.log(C / (k * 1e-4))
    return float(np.exp(minimize_scalar(f, bounds=(lo, hi), method="bounded",
                                        options={"xatol": 1e-12, "maxiter": 500}).x))


@settings(max_examples=25, deadline=None)
@given(alpha=st.floats(0.2, 0.6), beta=st.floats(0.2, 0.6), logC=st.floats(19, 26), k=st.sampled_from([6.0, 8.0]))
def test_closed_form_equals_numeric_and_the_argmin(alpha: float, beta: float, logC: float, k: float) -> None:
    law = Chinchilla()
    theta = np.array([[1.7, 400.0, 2000.0, alpha, beta]])
    C = np.array([10.0 ** logC])
    fm = as_flops_model(k)
    closed = law.optimum(theta, C, fm)
    assume(1e-3 < closed.n_tokens[0, 0] / closed.n_params[0, 0] < 1e7)  # inside the numeric search range
    numeric = law.optimum(theta, C, fm, method="numeric")
    assert closed.method == "closed-form" and numeric.method == "numeric"
    assert numeric.n_params[0, 0] == pytest.approx(closed.n_params[0, 0], rel=1e-7)
    assert closed.n_tokens[0, 0] * closed.n_params[0, 0] * k == pytest.approx(C[0], rel=1e-12)
    assert closed.n_params[0, 0] == pytest.approx(_argmin_N(law, theta, C[0], k), rel=1e-5)


def test_a_law_without_closed_form_uses_the_shared_numeric_optimum() -> None:
    law = sc.get_law("kaplan-nd")
    from scaling.laws.kaplan import KAPLAN_2020

    theta = np.array([[KAPLAN_2020["kaplan-nd"][p] for p in law.param_names]])
    assert not law.has_closed_form_optimum(SIX_ND)
    opt = law.optimum(theta, np.array([1e21]), SIX_ND)
    assert opt.method == "numeric"
    assert opt.n_params[0, 0] == pytest.approx(_argmin_N(law, theta, 1e21, 6.0), rel=1e-5)
    with pytest.raises(sc.errors.DataError, match="closed-form"):
        law.optimum(theta, np.array([1e21]), SIX_ND, method="closed-form")


def test_hoffmann_eq4_is_written_once() -> None:
    """G = (alpha A / (beta B))^(1/(alpha+beta)) appears in the code of exactly one function."""
    pattern = re.compile(r"\(\s*\w+\s*\*\s*\w+\s*/\s*\(\s*\w+\s*\*\s*\w+\s*\)\s*\)\s*\*\*\s*\(\s*1")
    hits = []
    for path in (ROOT / "scaling").rglob("*.py"):
        for i, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("#", 1)[0]
            if pattern.search(code) and "``" not in code and not code.strip().startswith(("*", "r\"", "\"")):
                hits.append(f"{path.relative_to(ROOT)}:{i}")
    assert hits == ["scaling/laws/chinchilla.py:" + hits[0].rsplit(":", 1)[1]] if hits else False, hits
    c = allocation_constants(HOFFMANN)
    assert float(c["a"][0, 0]) == pytest.approx(0.28 / 0.62)


@pytest.fixture(scope="module")
def fit8() -> sc.FitResult:
    table = sc.read_table(DEMO, flops_per_token=8)
    return sc.fit(table, uncertainty=sc.Bootstrap(n=20), rng=0)


def test_a_table_recorded_with_8ND_is_planned_with_8ND(fit8: sc.FitResult) -> None:
    assert fit8.conventions.flops_per_token == 8.0
    alloc = sc.compute_optimal(fit8, [1e21, 1e23])
    assert "8" in alloc.flops_model
    np.testing.assert_allclose(8.0 * alloc.n_params * alloc.n_tokens, [1e21, 1e23], rtol=1e-12)
    # derived() takes the rule from the fit too, and agrees with the planner
    d = sc.derived(fit8, "n_opt", flops=[1e21, 1e23])
    np.testing.assert_allclose(d["estimate"].to_numpy(), alloc.n_params, rtol=1e-12)
    # a caller can still ask for another rule explicitly
    six = sc.compute_optimal(fit8, 1e21, flops_model=6.0)
    assert 6.0 * six.n_params * six.n_tokens == pytest.approx(1e21, rel=1e-12)


def test_the_cli_plans_with_the_tables_rule(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "fit.json"
    assert main(["fit", str(DEMO), "--flops-per-token", "8", "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "C = 8ND" in printed and "C = 6ND" not in printed
    assert main(["optimal", str(out), "--flops", "1e22", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["flops_model"] == "C = 8*N*D"
    assert 8.0 * d["values"]["n_params"] * d["values"]["n_tokens"] == pytest.approx(1e22, rel=1e-12)


def test_compute_optimal_accepts_approach_results() -> None:
    table = sc.read_table(DEMO)
    r2 = sc.approach2(table)
    alloc = sc.compute_optimal(r2, flops=[1e21, 1e22])
    np.testing.assert_allclose(alloc.n_params, r2.n_opt([1e21, 1e22]), rtol=1e-12)
    np.testing.assert_allclose(6.0 * alloc.n_params * alloc.n_tokens, [1e21, 1e22], rtol=1e-12)
    assert alloc.method.startswith("allocation law") and "Approach2" in alloc.source
