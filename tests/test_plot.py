"""Smoke and content tests of scaling.plot (Agg backend): return types, labels with units, legends,
the numbers drawn (isoFLOP minima and allocations equal the planner's), and the errors."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402

from scaling import plot  # noqa: E402
from scaling.demo import DEMO_TRUTH, load_demo_table  # noqa: E402
from scaling.errors import DataError  # noqa: E402
from scaling.estimation import fit  # noqa: E402
from scaling.estimation.uncertainty import Bootstrap  # noqa: E402
from scaling.predict import compute_optimal  # noqa: E402


@pytest.fixture(scope="module")
def table():
    return load_demo_table()


@pytest.fixture(scope="module")
def res(table):
    # one start at the generating values keeps the fit fast; 40 resamples give bands
    return fit(table, "chinchilla", starts=DEMO_TRUTH, uncertainty=Bootstrap(n=40, jackknife=False), rng=0)


@pytest.fixture(scope="module")
def res_plain(table):
    return fit(table, "chinchilla", starts=DEMO_TRUTH)


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _legend_texts(ax: Axes) -> list[str]:
    leg = ax.get_legend()
    assert leg is not None, "the figure has no legend"
    return [t.get_text() for t in leg.get_texts()]


def test_fit_vs_data_parity(res):
    ax = plot.fit_vs_data(res)
    assert isinstance(ax, Axes)
    assert ax.get_xlabel() == "Predicted loss (nats/token)"
    assert ax.get_ylabel() == "Observed loss (nats/token)"
    texts = _legend_texts(ax)
    assert any("runs (72)" in t for t in texts) and any("perfect fit" in t for t in texts)
    assert any("interval" in t for t in texts)  # bootstrap samples -> prediction intervals


def test_fit_vs_data_by_variable(res, res_plain):
    ax = plot.fit_vs_data(res, kind="n_params")
    assert ax.get_xscale() == "log"
    assert ax.get_xlabel() == "Parameters N" and "nats/token" in ax.get_ylabel()
    texts = _legend_texts(ax)
    assert texts[0] == "runs (colour = D)" and sum(t.startswith("fit at D = ") for t in texts) == 4
    # bands only with samples
    assert any(isinstance(c, PolyCollection) for c in ax.collections)
    ax2 = plot.fit_vs_data(res_plain, kind="n_params")
    assert not any(isinstance(c, PolyCollection) for c in ax2.collections)


def test_fit_vs_data_errors(res):
    with pytest.raises(DataError, match="Option kind of fit_vs_data\\(\\) must be 'parity' or one of"):
        plot.fit_vs_data(res, kind="flops")
    with pytest.raises(DataError, match="Argument 'result' of fit_vs_data\\(\\) must be a FitResult"):
        plot.fit_vs_data("published:hoffmann2022")
    with pytest.raises(TypeError, match="scatter_kws must be a dict"):
        plot.fit_vs_data(res, scatter_kws=["red"])
    with pytest.raises(TypeError):
        plot.fit_vs_data(res, colour="red")  # no catch-all **kwargs


def test_residuals(res):
    ax = plot.residuals(res)
    assert isinstance(ax, Axes)
    assert ax.get_xlabel() == "Training compute C (FLOPs)" and ax.get_xscale() == "log"
    assert ax.get_ylabel().startswith("Residual log")
    assert any("Huber" in t for t in _legend_texts(ax))
    r = res.residuals().to_numpy()
    assert f"RMS {np.sqrt(np.mean(r ** 2)):.3g}" in ax.get_title()
    ax = plot.residuals(res, x="predicted")
    assert ax.get_xlabel() == "Predicted loss (nats/token)"
    with pytest.raises(DataError, match="Option x of residuals\\(\\) must be 'predicted' or one of"):
        plot.residuals(res, x="nope")


def test_isoflop_minima_equal_planner(res, table):
    budgets = [1e19, 1e20, 1e21]
    ax = plot.isoflop(res, budgets, data=table, level=0.8)
    assert isinstance(ax, Axes)
    assert ax.get_xscale() == "log" and ax.get_xlabel() == "Parameters N"
    assert ax.get_ylabel() == "Loss (nats/token)"
    stars = [ln for ln in ax.lines if ln.get_marker() == "*"]
    assert len(stars) == 3
    n_star = np.sort([float(ln.get_xdata()[0]) for ln in stars])
    expected = compute_optimal(res, budgets).n_params
    np.testing.assert_allclose(n_star, expected, rtol=2e-3)
    texts = _legend_texts(ax)
    assert any("minimum of each curve" in t for t in texts)
    assert any(t.startswith("runs within") for t in texts)
    assert any("80% interval" in t for t in texts)
    assert len(ax.figure.axes) == 2  # the budget colour bar
    assert ax.figure.axes[1].get_ylabel() == "Budget C (FLOPs)"


def test_isoflop_published_law():
    ax = plot.isoflop("published:hoffmann2022-unrounded", [5.76e23])
    star = [ln for ln in ax.lines if ln.get_marker() == "*"][0]
    assert float(star.get_xdata()[0]) == pytest.approx(4.04e10, rel=0.01)  # REFERENCE acceptance 4
    assert "5.76" in ax.get_title()


def test_isoflop_errors(res):
    with pytest.raises(DataError, match="Argument 'budgets' of isoflop\\(\\) must be non-empty, finite and > 0"):
        plot.isoflop(res, [1e20, -1])
    with pytest.raises(DataError, match="must be a law of \\(n_params, n_tokens\\)"):
        plot.isoflop("published:kaplan2020", [1e20])
    with pytest.raises(DataError, match="a loss law L\\(N, D\\)"):
        plot.isoflop("published:llama3-2024", [1e20])
    with pytest.raises(DataError, match="Argument 'data' of isoflop\\(\\) must be a table with the columns"):
        plot.isoflop(res, [1e20], data=pd.DataFrame({"x": [1.0]}))
    with pytest.raises(DataError, match="Argument 'model' of isoflop\\(\\) must be a FitResult"):
        plot.isoflop(3.0, [1e20])


def test_allocation_lines_and_bands(res):
    C = np.geomspace(1e19, 1e24, 20)
    ax = plot.allocation(res, C, level=0.8)
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert ax.get_xlabel() == "Training compute C (FLOPs)"
    lines = {ln.get_label().split(":")[0]: ln for ln in ax.lines}
    a = compute_optimal(res, C, level=0.8)
    np.testing.assert_allclose(lines["N_opt (parameters)"].get_ydata(), a.n_params, rtol=1e-12)
    np.testing.assert_allclose(lines["D_opt (tokens)"].get_ydata(), a.n_tokens, rtol=1e-12)
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(bands) == 2
    assert sum("80% interval" in t for t in _legend_texts(ax)) == 2
    ax = plot.allocation("published:llama3-2024-legend", [1e19, 1e26], quantity="n_tokens", level=None)
    assert ax.get_ylabel() == "Compute-optimal tokens D_opt"
    y = ax.lines[0].get_ydata()
    assert float(y[-1]) == pytest.approx(0.299 * 1e26 ** 0.537, rel=1e-9)
    with pytest.raises(DataError, match="Option quantity of allocation\\(\\) must be"):
        plot.allocation(res, C, quantity="loss")


def test_contours(res, table):
    ax = plot.contours(res, data=table, budgets=[1e20, 1e21])
    assert isinstance(ax, Axes)
    assert ax.get_xlabel() == "Training compute C (FLOPs)" and ax.get_ylabel() == "Parameters N"
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    texts = _legend_texts(ax)
    assert any(t.startswith("efficient frontier") for t in texts)
    assert "runs (72)" in texts and "isoFLOP slices" in texts
    assert ax.figure.axes[1].get_ylabel() == "Loss predicted by the law (nats/token)"
    # the frontier is the planner's N_opt(C)
    front = [ln for ln in ax.lines if ln.get_label().startswith("efficient frontier")][0]
    C, N = front.get_xdata(), front.get_ydata()
    np.testing.assert_allclose(N[::40], compute_optimal(res, C[::40]).n_params, rtol=2e-3)


def test_kaplan_figure1():
    axs = plot.kaplan_figure1()
    assert len(axs) == 3 and all(isinstance(a, Axes) for a in axs)
    assert [a.get_xlabel() for a in axs] == ["Compute C_min (PF-days, non-embedding)", "Dataset size D (tokens)",
                                             "Parameters N (non-embedding)"]
    assert axs[0].get_ylabel() == "Test loss (nats/token)"
    assert all(a.get_xscale() == "log" and a.get_yscale() == "log" for a in axs)
    # the parameter panel is L(N) = (8.8e13/N)^0.076: 2.3756 at N = 1e9 (REFERENCE acceptance 1)
    x = np.concatenate([ln.get_xdata() for ln in axs[2].lines])
    y = np.concatenate([ln.get_ydata() for ln in axs[2].lines])
    i = np.argmin(np.abs(np.log(x / 1e9)))
    assert y[i] * (x[i] / 1e9) ** 0.076 == pytest.approx(2.3756, abs=1e-4)
    assert any("extrapolated" in t for t in _legend_texts(axs[0]))
    with pytest.raises(DataError, match="Key of 'constants' of kaplan_figure1\\(\\)"):
        plot.kaplan_figure1(constants={"kaplan-x": {}})


def test_law_curves_kaplan_joint():
    ax = plot.law_curves("published:kaplan2020-joint", "n_tokens", {"n_params": [1e6, 1e8, 1e10]},
                         x_range=(1e7, 1e12))
    assert ax.get_xlabel() == "Training tokens D" and len(ax.lines) == 3
    assert _legend_texts(ax) == ["N = 1M", "N = 100M", "N = 10B"]
    with pytest.raises(DataError, match="Option values of law_curves\\(\\) must be values for"):
        plot.law_curves("published:kaplan2020-joint", "n_tokens", {})


def test_double_descent():
    from scaling.doubledescent import find_peak, simulate_min_norm

    sim = simulate_min_norm(40, [8, 20, 32, 48, 80, 160], n_reps=20, rng=0)
    df = sim.to_frame()
    peak = find_peak(df["gamma"].to_numpy(), df["excess_risk_mean"].to_numpy(), df["excess_risk_se"].to_numpy(),
                     rng=0)
    ax = plot.double_descent(sim, peak=peak)
    assert ax.get_xlabel() == "Parameters per sample p/n" and "risk" in ax.get_ylabel()
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    texts = _legend_texts(ax)
    assert any(t.startswith("simulated min-norm") for t in texts)
    assert any(t.startswith("exact expectation, n = 40") for t in texts)
    assert any(t.startswith("interpolation peak") for t in texts)
    with pytest.raises(DataError, match="Argument 'data' of double_descent\\(\\) must be a table with the columns"):
        plot.double_descent(pd.DataFrame({"gamma": [1.0]}))


def test_optimal_points_and_parameter_comparison():
    C = np.array([1e17, 1e18, 1e19])
    pts = pd.DataFrame({"flops": np.r_[C, C], "n_params": np.r_[1e7 * (C / 1e17) ** 0.8, 2e7 * (C / 1e17) ** 0.5],
                        "group": ["k"] * 3 + ["c"] * 3})
    ax = plot.optimal_points(pts, fits={"k": (0.8, 1e7 / 1e17 ** 0.8), "c": (0.5, 2e7 / 1e17 ** 0.5)},
                             labels={"k": "Kaplan-like", "c": "Chinchilla-like"})
    assert _legend_texts(ax) == ["Kaplan-like: a = 0.800", "Chinchilla-like: a = 0.500"]
    tab = pd.DataFrame({"paper": [1.0, 0.3], "ours": [1.1, 0.33], "ours lower": [1.0, 0.3], "ours upper": [1.2, 0.36]},
                       index=["E", "alpha"])
    ax = plot.parameter_comparison(tab, reference="paper")
    assert ax.get_xlabel() == "Estimate / paper estimate (log scale)"
    assert _legend_texts(ax) == ["paper", "ours"]
    with pytest.raises(DataError, match="Option reference of parameter_comparison\\(\\) must be one of"):
        plot.parameter_comparison(tab, reference="ours lower")


def test_overtraining_and_data_constrained(res, table):
    f = table.to_frame()
    fit_rows = f.iloc[:10]
    ax = plot.overtraining(res, fit_rows, targets=f.iloc[[70]], context=f.iloc[20:30])
    texts = _legend_texts(ax)
    assert "runs used for the fit (10)" in texts and "held-out runs, extrapolated (1)" in texts
    assert any("% error" in t.get_text() for t in ax.texts)
    runs = pd.DataFrame({"n_params": [1e9] * 4, "n_tokens": [2e10] * 4, "n_unique_tokens": [2e10, 1e10, 5e9, 2.5e9],
                         "loss": [2.6, 2.61, 2.63, 2.68]})
    ax = plot.data_constrained("published:muennighoff2023", runs, fixed="n_tokens")
    assert ax.get_xlabel() == "Epochs D/U (same total tokens D)"
    assert any(t.startswith("N = 1B, D = 20B") for t in _legend_texts(ax))
    with pytest.raises(DataError, match="must be a law of \\(n_params, n_tokens, n_unique_tokens\\)"):
        plot.data_constrained(res, runs)


def test_given_axes_is_used_and_saved(res, tmp_path):
    fig, ax = plt.subplots()
    assert plot.residuals(res, ax=ax) is ax
    paths = plot.save_figure(ax, tmp_path / "sub" / "resid.whatever", ("png", "svg"))
    assert [p.name for p in paths] == ["resid.png", "resid.svg"] and all(p.stat().st_size > 1000 for p in paths)
    with pytest.raises(TypeError, match="ax must be a matplotlib Axes"):
        plot.residuals(res, ax="not an axes")


def test_curve_fits_draws_each_fit_and_the_bump():
    import numpy as np
    import pandas as pd
    from matplotlib.axes import Axes

    from scaling import plot
    from scaling.doubledescent import find_peak
    from scaling.estimation import fit
    from scaling.laws import get_law
    from scaling import read_table

    D = np.geomspace(1e8, 1e11, 9)
    L = 2 + 50 * D ** -0.2
    L[5] *= 1.05
    t = read_table(pd.DataFrame({"n_params": 1e7, "n_tokens": D, "loss": L}))
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = fit(t, get_law("powerlaw", variable="n_tokens"))
    ax = plot.curve_fits({"power law": res}, "n_tokens", peak=find_peak(D, L), title="bump")
    assert isinstance(ax, Axes)
    labels = [h.get_label() for h in ax.get_legend().legend_handles]
    assert any(s.startswith("fit: power law") for s in labels) and any("bracket" in s for s in labels)
    assert ax.get_xscale() == "log" and "tokens" in ax.get_xlabel()
