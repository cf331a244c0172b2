"""The worked example of docs/adding-a-law.md: a law not in the package, declared in one class with no
gradient code, registered by declaration, fitted at its optimum and reloaded from JSON."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import least_squares

import scaling as sc
from scaling.errors import DataError
from scaling.laws import ExpressionLaw, register_law


@register_law("gadre-error")
class GadreError(ExpressionLaw):
    """Average top-1 error against loss, Gadre et al. 2024 (arXiv 2403.08540) eq. 4: err = eps - k exp(-gamma L)."""

    name = "gadre-error"
    expression = "eps - k * exp(-gamma * task_loss)"
    param_names = ("eps", "k", "gamma")
    transforms = ("id", "log", "log")
    variables = ("task_loss",)
    param_bounds = {"eps": (0.0, 1.0)}
    start_grid = {"eps": (0.5, 0.8, 1.0), "k": (0.1, 1.0, 10.0, 100.0), "gamma": (0.1, 0.5, 1.0, 2.0)}
    default_loss = "squared"
    reference = "Gadre et al. 2024, arXiv 2403.08540, eq. 4"


TRUTH = {"eps": 0.78, "k": 3.0, "gamma": 1.1}


def _table(noise: float = 0.004, seed: int = 0) -> sc.RunTable:
    rng = np.random.default_rng(seed)
    L = np.linspace(2.2, 4.5, 40)
    err = TRUTH["eps"] - TRUTH["k"] * np.exp(-TRUTH["gamma"] * L) + rng.normal(0, noise, L.size)
    n = np.geomspace(1e7, 1e9, L.size)
    return sc.read_table(pd.DataFrame({"n_params": n, "n_tokens": 20 * n, "loss": err, "task_loss": L}))


def test_the_new_law_fits_at_the_least_squares_optimum_and_reloads(tmp_path: Path) -> None:
    table = _table()
    res = sc.fit(table, law="gadre-error")
    assert res.law.name == "gadre-error" and res.loss == "squared"
    # the reference optimum: scipy's trust-region least squares from the truth, to tight tolerances
    L = table["task_loss"].to_numpy()
    y = table.loss

    def r(p: np.ndarray) -> np.ndarray:
        return p[0] - p[1] * np.exp(-p[2] * L) - y

    ref = least_squares(r, x0=[TRUTH[p] for p in GadreError.param_names], xtol=1e-15, ftol=1e-15, gtol=1e-15)
    for i, p in enumerate(GadreError.param_names):
        assert res.params[p] == pytest.approx(ref.x[i], rel=1e-6)
    assert res.objective == pytest.approx(float(np.sum(ref.fun ** 2)), rel=1e-9)
    assert res.params["gamma"] == pytest.approx(TRUTH["gamma"], rel=0.1)
    back = sc.FitResult.load(res.save(tmp_path / "gadre.json"))  # rebuilt by name from the registry
    assert back == res and isinstance(back.law, GadreError)
    assert float(back.predict(task_loss=3.0)) == pytest.approx(float(res.predict(task_loss=3.0)))


def test_the_derived_gradient_and_hessian_match_finite_differences() -> None:
    law = GadreError()
    z = law.to_internal(np.array([[0.7, 5.0, 0.9], [0.9, 20.0, 1.3]]))
    X = {"task_loss": np.linspace(2.0, 4.0, 7)}
    f, vjp = law.evaluate(z, X)
    u = np.random.default_rng(1).normal(size=f.shape)
    g = vjp(u)
    h = 1e-6
    for i in range(3):
        dz = np.zeros_like(z)
        dz[:, i] = h
        fp, _ = law.evaluate(z + dz, X, grad=False)
        fm, _ = law.evaluate(z - dz, X, grad=False)
        np.testing.assert_allclose(g[:, i], ((fp - fm) / (2 * h) * u).sum(axis=1), rtol=1e-6)
    f2, J, hvp2 = law.second_order(z, X)
    np.testing.assert_allclose(f2, f)
    H = hvp2(u)
    assert H.shape == (2, 3, 3) and np.allclose(H, np.swapaxes(H, 1, 2))


def test_a_bad_declaration_is_refused_with_the_reason() -> None:
    class Typo(ExpressionLaw):
        name = "typo"
        expression = "eps - k * exp(-gama * task_loss)"
        param_names = ("eps", "k", "gamma")
        transforms = ("id", "log", "log")
        variables = ("task_loss",)
        start_grid = {"eps": (0.5,), "k": (1.0,), "gamma": (1.0,)}

    with pytest.raises(DataError, match=r"also \['gama'\]"):
        Typo()

    class NoGrid(GadreError):
        start_grid = {"eps": (0.5,)}

    with pytest.raises(DataError, match="start values for every parameter"):
        NoGrid()
