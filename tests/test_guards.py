"""Guards where users go wrong: identifiability and extrapolation (issue 'trust by default', §4).
Each guard fires on its example and stays silent on Epoch's, Gadre's and the demo data."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import scaling as sc
from scaling.cli import main
from scaling.errors import BoundaryWarning, ExtrapolationWarning, IdentifiabilityWarning, ScalingWarning

DEMO = Path(__file__).resolve().parents[1] / "data" / "demo_runs.csv"


def _runs(N: np.ndarray, D: np.ndarray, alpha: float = 0.34, beta: float = 0.28) -> sc.RunTable:
    L = 1.8 + 400 * N ** -alpha + 2000 * D ** -beta
    return sc.read_table(pd.DataFrame({"n_params": N, "n_tokens": D, "loss": L}))


def _caught(fn: object) -> list[warnings.WarningMessage]:
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        fn()  # type: ignore[operator]
    return [x for x in w if issubclass(x.category, ScalingWarning)]


def test_runs_on_one_tokens_per_parameter_line_warn_and_name_the_fix() -> None:
    N = np.geomspace(1e8, 1e10, 5)
    with pytest.warns(IdentifiabilityWarning, match=r"same tokens per parameter \(D/N = 20\).*tied=\{'beta': "
                                                     r"'alpha'\}.*fixed=\{'E'"):
        res = sc.fit(_runs(N, 20 * N))
    assert res.params["alpha"] >= 0 and res.params["beta"] >= 0  # no negative exponent (v1: alpha = -1.12)


def test_nearly_collinear_log_n_and_log_d_warn() -> None:
    N = np.geomspace(1e8, 1e10, 12)
    D = 20 * N ** 1.05 * np.exp(np.random.default_rng(0).normal(0, 0.2, N.size))  # corr 0.9959
    with pytest.warns(IdentifiabilityWarning, match=r"almost collinear \(correlation 0\.9959\)"):
        sc.fit(_runs(N, D))


def test_as_many_points_as_free_parameters_warns() -> None:
    N = np.array([1e8, 3e8, 1e9, 3e9, 1e10])
    D = np.array([5e9, 2e11, 1e10, 4e11, 2e10])
    msgs = [str(w.message) for w in _caught(lambda: sc.fit(_runs(N, D)))]
    assert any("5 points for 5 free parameters: the law can pass through every point" in m for m in msgs)


def test_chinchilla_exponents_are_non_negative_unless_asked() -> None:
    rng = np.random.default_rng(3)
    N = np.exp(rng.uniform(np.log(1e8), np.log(1e10), 30))
    D = np.exp(rng.uniform(np.log(1e9), np.log(1e12), 30))
    L = 2.0 + 1e-4 * N ** 0.2 + 2000 * D ** -0.3  # loss rising with N: no scaling law in N
    t = sc.read_table(pd.DataFrame({"n_params": N, "n_tokens": D, "loss": L}))
    with pytest.warns(BoundaryWarning, match="alpha = 0 is on its lower bound"):
        res = sc.fit(t)
    assert res.params["alpha"] == 0.0
    free = sc.fit(t, law=sc.get_law("chinchilla", negative_exponents=True))
    assert free.params["alpha"] < 0 and free.objective < res.objective
    assert sc.FitResult.from_dict(free.to_dict()).law.options == {"negative_exponents": True}


@pytest.fixture(scope="module")
def demo_fit() -> sc.FitResult:
    return sc.fit(sc.read_table(DEMO), rng=0)


def test_planning_far_beyond_the_runs_warns_by_how_much(demo_fit: sc.FitResult) -> None:
    with pytest.warns(ExtrapolationWarning, match=r"compute up to 1e\+24 FLOPs is 333x the largest fitted run "
                                                  r"\(3e\+21 FLOPs; the guard is 10x\)"):
        alloc = sc.compute_optimal(demo_fit, [1e21, 1e24])
    assert any(n.startswith("extrapolation:") for n in alloc.notes)


def test_predicting_outside_the_observed_tokens_per_parameter_warns(demo_fit: sc.FitResult) -> None:
    r = demo_fit.data["n_tokens"] / demo_fit.data["n_params"]
    with pytest.warns(ExtrapolationWarning, match=r"D/N up to .* is .*x the largest fitted D/N"):
        demo_fit.predict(1e8, 1e8 * 10 * r.max())
    with pytest.warns(ExtrapolationWarning, match=r"D/N down to .* below the smallest fitted D/N"):
        demo_fit.predict(1e9, 1e9 * r.min() / 10)


def test_the_cli_prints_the_extrapolation_warning(demo_fit: sc.FitResult, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    path = demo_fit.save(tmp_path / "fit.json")
    assert main(["optimal", str(path), "--flops", "1e24"]) == 0
    err = capsys.readouterr().err
    assert "warning: ExtrapolationWarning: compute_optimal() at 1 budget lies beyond the data" in err


def test_guards_stay_silent_on_epoch_gadre_and_the_demo(demo_fit: sc.FitResult) -> None:
    epoch = sc.load_dataset("epoch_chinchilla")
    epoch = epoch.filter(epoch.loss < sorted(epoch.loss)[-5], reason="5 highest losses, as Epoch")
    gadre = sc.load_dataset("gadre_overtraining")
    demo = sc.read_table(DEMO)
    for table in (epoch, gadre, demo):
        assert _caught(lambda t=table: sc.compute_optimal(sc.fit(t), [float(np.max(t.flops))])) == []
    inside = demo_fit.data.iloc[len(demo_fit.data) // 2]
    assert _caught(lambda: demo_fit.predict(inside["n_params"], inside["n_tokens"])) == []
    assert _caught(lambda: sc.compute_optimal("published:hoffmann2022-unrounded", 1e26)) == []
