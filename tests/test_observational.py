"""Observational scaling (Ruan et al. 2024) on the authors' table: PCA, family fits, sigmoid backtests."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from conftest import load_or_skip
from scaling.errors import DataError
from scaling.tasks.observational import (BENCHMARKS, capability_pca, family_compute_fits, fit_capability_sigmoid,
                                         sigmoid_backtest)


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return load_or_skip("obsscaling")


def test_dataset(table: pd.DataFrame) -> None:
    assert table.shape == (148, 13) and table["family"].nunique() == 47
    assert table.attrs["dataset"] == "obsscaling"
    row = table[table["model"] == "meta-llama/Llama-2-7b-hf"].iloc[0]
    assert (row["n_params"], row["n_tokens"], row["flops"]) == (7e9, 2e12, 8.4e22)
    assert int(table["flops"].isna().sum()) == 25


def test_pca_explains_97_percent_in_three_components(table: pd.DataFrame) -> None:
    p = capability_pca(table)
    assert len(p.scores) == 124 and len(p.excluded) == 24
    assert p.cumulative[:4] == pytest.approx((0.843, 0.943, 0.974, 0.984), abs=5e-4)
    assert capability_pca(table, standardize=True).cumulative[:3] == pytest.approx((0.781, 0.920, 0.959), abs=5e-4)
    # PC1 is oriented towards capability, and equals numpy's own projection on the centred data
    assert (p.loadings["PC1"] > 0).all()
    X = table.loc[p.scores.index, list(BENCHMARKS)].to_numpy()
    np.testing.assert_allclose(p.scores.to_numpy(), (X - X.mean(0)) @ p.loadings.to_numpy(), atol=1e-12)
    np.testing.assert_allclose(p.transform(table.loc[p.scores.index]), p.scores, atol=1e-12)
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.standardize = True  # type: ignore[misc]
    with pytest.raises(DataError, match="present"):
        capability_pca(table, ["MMLU", "nope"])
    with pytest.raises(DataError, match="complete rows"):
        capability_pca(table.head(3))


def test_family_fits_and_backtest(table: pd.DataFrame) -> None:
    p = capability_pca(table)
    fams = family_compute_fits(table, p.scores["PC1"])
    assert len(fams) == 20 and (fams["n_models"] >= 3).all()
    llama2 = fams.set_index("family").loc["Llama-2"]
    assert llama2["slope"] > 0 and llama2["r2"] > 0.99
    b = sigmoid_backtest(table, "GSM8K", holdout=0.2)
    assert int(b.table["held_out"].sum()) == round(0.2 * len(b.table))
    assert "GSM8K" not in b.pca.benchmarks  # the target is not on its own capability axis
    held = b.table[b.table["held_out"]]
    assert held["capability"].min() >= b.table[~b.table["held_out"]]["capability"].max()
    assert b.mae_heldout < 0.08  # GSM8K of the strongest models within 8 points on average
    with pytest.raises(DataError, match="holdout"):
        sigmoid_backtest(table, "GSM8K", holdout=1.5)
    with pytest.raises(DataError, match="a column"):
        sigmoid_backtest(table, "NoSuchBench")


def test_capability_sigmoid_recovers_a_known_curve() -> None:
    x = np.linspace(-1, 1, 80)
    y = 0.25 + 0.75 / (1 + np.exp(-4.0 * (x - 0.2)))
    s = fit_capability_sigmoid(x, y, chance=0.25)
    assert (s.k, s.x0) == pytest.approx((4.0, 0.2), rel=1e-6)
    with pytest.raises(DataError, match="chance"):
        fit_capability_sigmoid(x, y, chance=1.0)
    with pytest.raises(DataError, match="at least 3"):
        fit_capability_sigmoid(x[:2], y[:2])
