"""Chinchilla Approach 3 on Epoch's data (Hoffmann et al. 2022; Besiroglu et al. 2024).

Epoch AI digitised the 245 runs of Hoffmann et al.'s Figure 4 and refitted Approach 3. This
reproduction loads their data through the registry (``load_dataset("epoch_chinchilla")``, dropping
the 5 highest losses as Epoch did), fits ``L = E + A/N^alpha + B/D^beta`` with Hoffmann's objective
(Huber, delta = 1e-3, on log losses, summed) from Hoffmann's 4,500-point start grid, bootstraps it, and
compares:

* the parameters with Epoch's refit (REFERENCE acceptance 6) and their bootstrap standard errors
  (acceptance 8), with Hoffmann's published (rounded and unrounded) values and Epoch's paper values;
* the compute-optimal allocation (eq. 4) with Hoffmann's and Epoch's (acceptances 4 and 9);
* the projections of Hoffmann's Table 3;
* Figures 3 (isoFLOP curves, N_opt(C), D_opt(C) with interval bands) and 4 (loss contours with the
  efficient frontier; isoFLOP slices).
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from .. import plot
from ..datasets import load_dataset
from ..errors import DisagreementWarning, InconsistencyWarning, ScalingWarning
from ..estimation import fit
from ..estimation.approaches import approach2
from ..estimation.compare import Estimate, compare
from ..estimation.uncertainty import Bootstrap, derived
from ..predict import allocation_table, compute_optimal, get_published, published_table
from . import Options
from ._report import Check, Report

TITLE = "Chinchilla Approach 3 on Epoch's data (Hoffmann et al. 2022; Besiroglu et al. 2024)"
PAPERS = ("Hoffmann et al. 2022, Training Compute-Optimal Large Language Models, arXiv 2203.15556",
          "Besiroglu, Erdil, Barnett, You 2024, Chinchilla Scaling: A replication attempt, arXiv 2404.10102")

#: Hoffmann et al.'s nine isoFLOP budgets (§3.2)
BUDGETS = (6e18, 1e19, 3e19, 6e19, 1e20, 3e20, 6e20, 1e21, 3e21)
#: REFERENCE acceptance 6: Approach 3 on Epoch's 240 points (4,500 starts, summed Huber, delta 1e-3)
REFIT = {"A": 477.82, "B": 2143.42, "E": 1.8172, "alpha": 0.3473, "beta": 0.3672}
#: REFERENCE acceptance 8: bootstrap (1,000 resamples) standard errors and 95% intervals
BOOT_SE = {"alpha": 0.0146, "beta": 0.0208, "E": 0.026, "A": 116.0, "B": 1426.0}
BOOT_CI = {"alpha": (0.317, 0.371), "beta": (0.332, 0.415), "E": (1.768, 1.872)}
CHINCHILLA_N, CHINCHILLA_D = 70e9, 1.4e12
GOPHER_FLOPS = 5.76e23


def _budget_table(table, tol: float = 0.06):  # type: ignore[no-untyped-def]
    """Runs within ``tol`` decades of one of Hoffmann's budgets, with a ``budget`` column."""
    B = np.asarray(BUDGETS)
    d = np.abs(np.log10(table.flops)[:, None] - np.log10(B)[None, :])
    j = d.argmin(axis=1)
    ok = d[np.arange(len(j)), j] <= tol
    sub = table.filter(ok, reason=f"not within {tol} decades of one of Hoffmann et al.'s nine isoFLOP budgets")
    return sub.with_columns({"budget": B[j[ok]]})


def run(out: Path, opts: Options) -> Report:
    n_boot = opts.bootstrap or 1000
    table = load_dataset("epoch_chinchilla", drop_highest_loss=5)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = fit(table, "chinchilla", uncertainty=Bootstrap(n=n_boot), rng=opts.rng, progress=opts.progress)
    fit_warnings = sorted({f"{w.category.__name__}: {str(w.message)[:160]}" for w in caught})
    p = res.params
    se = res.se()
    ci95 = res.ci(0.95)
    fit_path = res.save(out / "fit.json")

    checks: list[Check] = []
    src6 = "Epoch refit, REFERENCE acceptance 6 (Epoch notebook: 477.82 / 2142.52 / 1.8172 / 0.34731 / 0.36715)"
    for name, tol, kind in (("E", 5e-4, "absolute"), ("A", 0.002, "relative"), ("B", 0.002, "relative"),
                            ("alpha", 5e-4, "absolute"), ("beta", 5e-4, "absolute")):
        checks.append(Check(name=f"{name} (Approach 3 refit, 240 points)", published=REFIT[name], ours=p[name],
                            tolerance=tol, kind=kind, source=src6))
    checks.append(Check(name="objective (summed Huber) at the optimum", published=0.0010183, ours=res.objective,
                        tolerance=1e-7, kind="absolute", source="REFERENCE acceptance 6"))
    # REFERENCE's ±15% is for 1,000 resamples; with fewer, the SE estimate's own sampling error (relative sd
    # about 1/sqrt(2B) for a normal-like distribution) is added at 3 sd beyond the reference's
    tol_se = 0.15 if n_boot >= 1000 else round(0.15 + 3 * (1 / math.sqrt(2 * n_boot) - 1 / math.sqrt(2000)), 3)
    for name, v in BOOT_SE.items():
        checks.append(Check(name=f"bootstrap SE of {name} ({n_boot} resamples)", published=v, ours=se[name],
                            tolerance=tol_se, source="REFERENCE acceptance 8 (1,000 resamples; ±15%)",
                            note="" if n_boot >= 1000 else f"fewer resamples than the reference: ±15% plus 3 sampling "
                            f"sd of an SE from {n_boot} resamples = ±{100 * tol_se:.3g}%"))
    for name, (lo, hi) in BOOT_CI.items():
        w = 0.1 * (hi - lo) * (1.0 if n_boot >= 1000 else 1.6)
        checks.append(Check(name=f"95% CI of {name}: lower", published=lo, ours=ci95.loc[name, "lower"], tolerance=w,
                            kind="absolute", source="REFERENCE acceptance 8"))
        checks.append(Check(name=f"95% CI of {name}: upper", published=hi, ours=ci95.loc[name, "upper"], tolerance=w,
                            kind="absolute", source="REFERENCE acceptance 8"))
    a = derived(res, "a", level=0.8)
    a_est, a_se = float(a["estimate"].iloc[0]), float(a["se"].iloc[0])
    a_w80 = float(a["upper"].iloc[0] - a["lower"].iloc[0])
    n_needed = res.n_points * (a_w80 / 0.001) ** 2
    checks += [
        Check(name="a = beta/(alpha+beta)", published=0.513, ours=a_est, tolerance=0.005, kind="absolute",
              source="Epoch 2024 (0.513, SE 0.020); REFERENCE acceptance 8: 0.514"),
        Check(name="SE of a", published=0.019, ours=a_se, tolerance=tol_se, source="REFERENCE acceptance 8"),
        Check(name="a vs Hoffmann's Approach 3 (0.46)", published=0.46, ours=a_est, tolerance=0.005, kind="absolute",
              source="Hoffmann 2022 Table 2", expected_to_match=False, expected_difference=0.514 - 0.46,
              note="Epoch's finding: Hoffmann's Approach 3 estimate is not what their own data give: the refit's "
                   "a = 0.514 (REFERENCE acceptance 8) is 0.054 above it, asserted to ±0.005 like the check of a"),
        Check(name="runs needed for Hoffmann's 80% CI width of 0.001 on a", published=5.5e5, ours=n_needed,
              tolerance=0.32, source="REFERENCE acceptance 8: ~5.5e5 (Epoch 2024: 634,773, 'over 600,000')",
              note=f"n x (our 80% width {a_w80:.4f} / 0.001)^2: the square of a width known to ±15% (REFERENCE) "
                   "is known to ±32%"),
    ]

    # compute-optimal allocation
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InconsistencyWarning)
        pubs = {k: get_published(k) for k in ("hoffmann2022", "hoffmann2022-unrounded", "epoch2024")}
    tex = compute_optimal(pubs["hoffmann2022-unrounded"], GOPHER_FLOPS)
    rnd = compute_optimal(pubs["hoffmann2022"], GOPHER_FLOPS)
    c70 = 6 * CHINCHILLA_N * CHINCHILLA_D
    ours70 = compute_optimal(res, c70, level=0.8)
    checks += [
        Check(name="N_opt at 5.76e23, Hoffmann's unrounded (TeX) constants", published=4.04e10,
              ours=float(tex.n_params),
              tolerance=0.01, source="REFERENCE acceptance 4 (matches Fig. 4's '40B')"),
        Check(name="N_opt at 5.76e23, Hoffmann's rounded constants", published=3.22e10, ours=float(rnd.n_params),
              tolerance=0.01, source="REFERENCE acceptance 4"),
        Check(name="D/N at C = 5.88e23 (Chinchilla's budget), refit", published=18.4,
              ours=float(ours70.tokens_per_param), tolerance=0.05,
              source="Epoch point estimate (REFERENCE acceptance 9); Chinchilla was trained at 20"),
        Check(name="N_opt at C = 5.88e23, refit (parameters)", published=7.3e10, ours=float(ours70.n_params),
              tolerance=0.05, source="REFERENCE acceptance 9"),
        Check(name="D/N at C = 5.88e23 with Hoffmann's TeX constants", published=59.0,
              ours=float(compute_optimal(pubs["hoffmann2022-unrounded"], c70).tokens_per_param), tolerance=0.02,
              source="REFERENCE acceptance 9"),
        Check(name="D/N at C = 5.88e23 with Hoffmann's rounded constants", published=93.0,
              ours=float(compute_optimal(pubs["hoffmann2022"], c70).tokens_per_param), tolerance=0.02,
              source="REFERENCE acceptance 9"),
    ]

    # Table 3 (Approach 1 projections) against the refit
    t3 = published_table("hoffmann2022_table3")
    ours_t3 = allocation_table(res, t3["n_params"].to_numpy(float), level=0.8)
    t3_cmp = pd.DataFrame({
        "parameters": t3["n_params"], "Table 3 FLOPs": t3["flops"], "refit FLOPs": ours_t3["flops"],
        "refit FLOPs 80% lower": ours_t3.get("flops_lower"), "refit FLOPs 80% upper": ours_t3.get("flops_upper"),
        "Table 3 tokens": t3["n_tokens"], "refit tokens": ours_t3["n_tokens"],
        "Table 3 D/N": t3["n_tokens"] / t3["n_params"], "refit D/N": ours_t3["tokens_per_param"],
        "refit loss": ours_t3["loss"],
    })
    inside = t3["flops"].to_numpy(float) <= 1.5e22
    ratio_in = (t3_cmp.loc[inside, "refit tokens"] / t3_cmp.loc[inside, "Table 3 tokens"]).to_numpy(float)
    lo_in = ours_t3["n_tokens_lower"].to_numpy(float)[inside] if "n_tokens_lower" in ours_t3 else None
    hi_in = ours_t3["n_tokens_upper"].to_numpy(float)[inside] if "n_tokens_upper" in ours_t3 else None
    tok_in = t3["n_tokens"].to_numpy(float)[inside]
    outside = ([] if lo_in is None or hi_in is None else
               [f"{n / 1e9:g}B" for n, lo, hi, d in zip(t3["n_params"].to_numpy(float)[inside], lo_in, hi_in, tok_in)
                if not lo <= d <= hi])
    # not a check: Table 3 is Approach 1 on Hoffmann's runs, the refit Approach 3 on Epoch's digitised points;
    # REFERENCE states no tolerance for their agreement, so the comparison is reported, not asserted
    t3_note = ("Table 3 (Approach 1 projections on Hoffmann's runs) vs the refit (Approach 3 on Epoch's points), "
               "tokens within the data's compute range (400M-10B): refit/Table 3 = "
               + ", ".join(f"{r:.2f}" for r in ratio_in)
               + ("; Table 3 lies outside the refit's 80% interval at " + ", ".join(outside) if outside else
                  "; Table 3 lies inside the refit's 80% interval at every such row")
               + ". Not asserted: different methods on different data, and REFERENCE gives no tolerance.")

    # Approach 2 on the digitised isoFLOP points (for the figure and the table of exponents)
    bt = _budget_table(table)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ScalingWarning)  # budgets left out are listed in the report
        a2 = approach2(bt, budget_col="budget", window=None, n_boot=200, rng=opts.rng)
    minima = a2.to_frame()
    minima = minima[minima["used"]]

    exps = pd.DataFrame([
        {"source": "Hoffmann Approach 1 (Table 2)", "a": 0.50, "interval": "(0.488, 0.502)"},
        {"source": "Hoffmann Approach 2 (Table 2)", "a": 0.49, "interval": "(0.462, 0.534)"},
        {"source": "Hoffmann Approach 3 (Table 2)", "a": 0.46, "interval": "(0.454, 0.455)"},
        {"source": "Epoch 2024 refit", "a": 0.513, "interval": "SE 0.020"},
        {"source": f"ours: Approach 3 refit, {n_boot} bootstrap resamples", "a": a_est,
         "interval": f"80% ({a['lower'].iloc[0]:.3f}, {a['upper'].iloc[0]:.3f})"},
        {"source": "ours: Approach 2 on the digitised points (parabolas through all sizes per budget)", "a": a2.a,
         "interval": "" if a2.ci_a is None else f"95% ({a2.ci_a[0]:.3f}, {a2.ci_a[1]:.3f}), "
                                                 f"{len(minima)} of {len(BUDGETS)} budgets"},
    ])

    # two methods on the same runs estimate the same exponent: side by side, warn when they disagree
    a95 = derived(res, "a", level=0.95)
    with warnings.catch_warnings(record=True) as caught_cmp:
        warnings.simplefilter("always", DisagreementWarning)
        cmp_a = compare(Estimate("Approach 3 refit (bootstrap)", a_est, float(a95["lower"].iloc[0]),
                                 float(a95["upper"].iloc[0]), 0.95),
                        Estimate("Approach 2 on the digitised points", float(a2.a),
                                 None if a2.ci_a is None else float(a2.ci_a[0]),
                                 None if a2.ci_a is None else float(a2.ci_a[1]), 0.95),
                        quantity="a (N_opt ∝ C^a) on Epoch's runs")
    cmp_note = ("Approach 2 and Approach 3 on the same runs (sc.compare, 95% intervals): "
                + ("agree." if cmp_a.agree else
                   "DisagreementWarning: " + "; ".join(str(w.message) for w in caught_cmp)))

    params = pd.DataFrame({
        "Hoffmann, rounded (eq. 10)": pubs["hoffmann2022"].params,
        "Hoffmann, unrounded (TeX)": pubs["hoffmann2022-unrounded"].params,
        "Epoch 2024 (paper)": pubs["epoch2024"].params,
        "Epoch refit (notebook, Huber)": pd.Series(REFIT),
        "ours": p,
        "ours 95% lower": ci95["lower"], "ours 95% upper": ci95["upper"],
        "ours SE": se,
    })
    params.index.name = "parameter"

    # ------------------------------------------------------------------------------------- figures
    figures: list[Path] = []
    C_line = np.geomspace(1e18, 1e26, 120)
    fig, axs = plot.subplots(1, 3, figsize=(17, 4.9))
    plot.isoflop(res, BUDGETS, data=table, ax=axs[0])
    axs[0].set_title("Fig. 3 left: isoFLOP curves of the refit and Epoch's runs", fontsize="medium")
    for ax, q, name in ((axs[1], "n_params", "N_opt"), (axs[2], "n_tokens", "D_opt")):
        plot.allocation(res, C_line, ax=ax, quantity=q, level=0.8, data=minima,
                        scatter_kws={"label": "isoFLOP minima of the runs (Approach 2)"})
        ax.plot([c70], [CHINCHILLA_N if q == "n_params" else CHINCHILLA_D], marker="*", ms=14, color="gold",
                mec="k", ls="none", label="Chinchilla (70B, 1.4T tokens)")
        ax.axvspan(float(table.flops.min()), float(table.flops.max()), color="0.92", lw=0, zorder=0,
                   label="compute range of the runs")
        ax.legend(fontsize="small", frameon=False, loc="upper left")
        ax.set_title(f"Fig. 3 {'middle' if q == 'n_params' else 'right'}: {name}(C), 80% bootstrap band",
                     fontsize="medium")
    figures += plot.save_figure(fig, out / "hoffmann_figure3", opts.formats)

    fig, axs = plot.subplots(1, 2, figsize=(14, 5.2))
    plot.contours(res, data=table, ax=axs[0], flops_range=(1e18, 1e26), budgets=(1e19, 1e21, GOPHER_FLOPS))
    axs[0].plot([GOPHER_FLOPS], [float(compute_optimal(res, GOPHER_FLOPS).n_params)], marker="*", ms=14,
                color="gold", mec="k", ls="none", label="refit optimum at the Gopher budget 5.76e23")
    axs[0].legend(fontsize="small", loc="upper left", frameon=True, framealpha=0.9, facecolor="0.85")
    axs[0].set_title("Fig. 4 left: loss contours, efficient frontier, runs", fontsize="medium")
    plot.isoflop(res, (1e19, 1e21, GOPHER_FLOPS), ax=axs[1], level=0.8, n_range=(1e8, 1e12))
    axs[1].set_title("Fig. 4 right: isoFLOP slices (80% bootstrap bands)", fontsize="medium")
    figures += plot.save_figure(fig, out / "hoffmann_figure4", opts.formats)

    fig, ax = plot.subplots(figsize=(7.6, 5.2))
    styles = {"hoffmann2022": ("#D55E00", "--", "Hoffmann 2022, rounded constants (eq. 10)"),
              "hoffmann2022-unrounded": ("#E69F00", "-", "Hoffmann 2022, unrounded (TeX) constants"),
              "epoch2024": ("#009E73", ":", "Epoch 2024, paper's estimates (under ours)")}
    C_wide = np.geomspace(1e18, 3e28, 150)
    plot.allocation(res, C_wide, ax=ax, quantity="n_params", level=0.8,
                    line_kws={"color": "#0072B2", "label": "ours: refit of Epoch's data"})
    for k, (color, ls, lab) in styles.items():
        plot.allocation(pubs[k], C_wide, ax=ax, quantity="n_params", level=None,
                        line_kws={"color": color, "ls": ls, "lw": 2.2, "label": lab})
    ax.scatter(t3["flops"], t3["n_params"], marker="s", s=30, color="k", zorder=5,
               label="Hoffmann Table 3 (Approach 1 projections)")
    ax.plot([c70], [CHINCHILLA_N], marker="*", ms=15, color="gold", mec="k", ls="none",
            label="Chinchilla (70B, 1.4T tokens)")
    ax.legend(fontsize="small", frameon=False, loc="upper left")
    ax.set_title("Compute-optimal model size: Hoffmann vs Epoch vs this refit", fontsize="medium")
    figures += plot.save_figure(fig, out / "allocation_comparison", opts.formats)

    comp = params[["Hoffmann, unrounded (TeX)", "Hoffmann, rounded (eq. 10)", "Epoch 2024 (paper)", "ours",
                   "ours 95% lower", "ours 95% upper"]].rename(columns={"ours 95% lower": "ours lower",
                                                                         "ours 95% upper": "ours upper"})
    ax = plot.parameter_comparison(comp, reference="ours")
    ax.set_title("Parameter estimates relative to this refit (bars: 95% bootstrap intervals)", fontsize="medium")
    figures += plot.save_figure(ax, out / "parameters", opts.formats)

    fig, axs = plot.subplots(1, 2, figsize=(12.5, 5))
    plot.fit_vs_data(res, ax=axs[0])
    plot.residuals(res, ax=axs[1])
    figures += plot.save_figure(fig, out / "fit_diagnostics", opts.formats)

    notes = [
        f"Data: {table.name}, {len(table)} runs after dropping the 5 highest losses (as Epoch did); D = C/(6N). "
        "N counts all parameters (Chinchilla convention).",
        f"Fit: {res.loss} objective (delta = {res.delta:g}) summed over points, {res.provenance['starts']['n']} "
        f"starts; bootstrap: {n_boot} resamples with replacement (seed {opts.rng}); Epoch used 4,000, Hoffmann "
        "100 subsamples of 80%.",
        "Epoch's paper values (482.01, 2085.43, 1.8172, 0.3478, 0.3658) come from a Huber *likelihood* with a fitted "
        "scale; the plain summed Huber refit (acceptance 6) is what is checked here.",
        f"The saved fit (with its bootstrap samples) is {fit_path.name}: `scaling plot {fit_path.name} --kind ...`.",
        cmp_note,
        t3_note,
    ] + [f"fit warning: {w}" for w in fit_warnings]
    return Report(name="chinchilla", title=TITLE, papers=PAPERS, checks=tuple(checks),
                  tables={"Parameters": params, "Exponent a of N_opt ∝ C^a": exps,
                          "Hoffmann Table 3 against the refit (80% intervals)": t3_cmp,
                          "Exponent a: Approach 2 vs Approach 3 on the same runs (sc.compare)": cmp_a.to_frame()},
                  figures=tuple(figures), notes=tuple(notes),
                  settings={"bootstrap": n_boot, "rng": opts.rng, "drop_highest_loss": 5, "loss": res.loss,
                            "delta": res.delta})
