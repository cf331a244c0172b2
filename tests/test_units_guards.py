"""Unit guards of read_table (issue 11 §4 "Units"): each fires on its example and stays silent on Epoch's,
Gadre's and the demo data."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import scaling as sc
from scaling.errors import DataError, FlopsRuleWarning, UnitsWarning

ROOT = Path(__file__).resolve().parents[1]
N = np.array([7e7, 1.6e8, 4.1e8, 1.0e9, 2.8e9])
D = 20 * N
L = 1.8 + 400 * N ** -0.34 + 410 * D ** -0.28


def test_perplexity_read_as_nats_warns_and_names_the_option() -> None:
    df = pd.DataFrame({"n_params": N, "n_tokens": D, "loss": np.exp(L)})  # OPT-style perplexities (~14-40)
    with pytest.warns(UnitsWarning, match=r"looks like a perplexity.*loss_unit='perplexity'"):
        sc.read_table(df)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnitsWarning)
        t = sc.read_table(df, loss_unit="perplexity")
    np.testing.assert_allclose(t.loss, L)
    # the median rule: some values below 15, the median above 10 nats
    with pytest.warns(UnitsWarning, match=r"median is 11 nats/token"):
        sc.read_table(pd.DataFrame({"n_params": N[:3], "n_tokens": D[:3], "loss": [9.0, 11.0, 12.0]}))


@pytest.mark.parametrize(("column", "values", "fix"), [
    ("n_tokens", np.log10(D), r"log10=\['n_tokens'\]"),
    ("flops", np.log10(6 * N * D), r"log10=\['flops'\]"),
    ("n_params", np.log10(N), r"log10=\['n_params'\]"),
    ("n_params", N / 1e6, r"counts in millions.*scale=\{'n_params': 1e\+06\}"),
    ("n_tokens", D / 1e9, r"counts in billions.*scale=\{'n_tokens': 1e\+09\}"),
    ("flops", 6 * N * D / 8.64e19, r"PF-days.*scale=\{'flops': 8.64e19\}"),
])
def test_counts_that_look_like_log10_or_millions_are_errors(column: str, values: np.ndarray, fix: str) -> None:
    cols = {"n_params": N, "n_tokens": D, "loss": L}
    if column == "flops":
        cols = {"n_params": N, "flops": values, "loss": L}
    else:
        cols[column] = values
    with pytest.raises(DataError, match=rf"Column '{column}'.*must be a count.*{fix}"):
        sc.read_table(pd.DataFrame(cols))


def test_check_units_false_reads_small_true_counts() -> None:
    """A random-features model of 10-800 parameters (the double-descent simulation) is not an LM."""
    df = pd.DataFrame({"n_params": [10.0, 100.0, 800.0], "n_tokens": 200.0, "loss": [0.5, 0.9, 0.3]})
    with pytest.raises(DataError, match="check_units=False"):
        sc.read_table(df)
    assert sc.read_table(df, check_units=False).n_params.tolist() == [10.0, 100.0, 800.0]


def test_log10_and_scale_fix_them() -> None:
    """The fixes the errors name work: OPT's ColPret layout (log10 tokens and compute, perplexity)."""
    df = pd.DataFrame({"n_params": N, "n_tokens": np.log10(D), "flops": np.log10(6 * N * D), "loss": np.exp(L)})
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnitsWarning)
        t = sc.read_table(df, log10=["n_tokens", "flops"], loss_unit="perplexity")
    np.testing.assert_allclose(t.n_tokens, D)
    m = sc.read_table(pd.DataFrame({"n_params": N / 1e6, "n_tokens": D, "loss": L}), scale={"n_params": 1e6})
    np.testing.assert_allclose(m.n_params, N)


def test_flops_that_disagree_with_the_rule_warn_with_rows() -> None:
    C = 6 * N * D
    C[3] *= 3.0
    df = pd.DataFrame({"n_params": N, "n_tokens": D, "flops": C, "loss": L})
    with pytest.warns(FlopsRuleWarning, match=r"by more than 2x in 1 of 5 rows \(row 3 \(0-based\); ratio .* 3\b"):
        sc.read_table(df)
    # petaFLOPs: every row off by 1e15; the warning names the unit fix
    with pytest.warns(FlopsRuleWarning, match=r"5 of 5 rows.*Check its unit"):
        sc.read_table(df.assign(flops=6 * N * D / 1e15))
    # within 2x (e.g. k = 8 instead of 6) is not flagged; check_flops() lists such rows
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnitsWarning)
        t = sc.read_table(df.assign(flops=8 * N * D))
    assert len(t.check_flops()) == 5


def test_silent_on_epoch_gadre_and_demo() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnitsWarning)
        sc.load_dataset("epoch_chinchilla")
        sc.load_dataset("gadre_overtraining")
        sc.read_table(ROOT / "data" / "demo_runs.csv")
