"""Ruan, Maddison, Hashimoto 2024 (arXiv 2405.10938): observational scaling laws.

On the authors' table of public base models (``obsscaling``): the principal components of the eight
benchmark scores (centred PCA of the 124 complete rows: the first three explain 84.3 / 94.3 / 97.4 %,
REFERENCE.md §12; the authors impute missing scores with PCA, which moves these slightly), each family's
log-linear relation between the leading capability (PC1) and log10 training FLOPs, and sigmoid predictions
of a benchmark from the capability axis of the *other* seven, backtested by holding out the strongest 20 %.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..datasets import load_dataset
from . import Options
from ._report import Check, Report

TITLE = "Ruan et al. 2024: observational scaling laws"
PAPERS = ("Ruan, Maddison, Hashimoto 2024, Observational Scaling Laws and the Predictability of Language Model "
          "Performance, arXiv 2405.10938",)
CUMULATIVE = (0.843, 0.943, 0.974, 0.984)
CUMULATIVE_STANDARDIZED = (0.781, 0.920, 0.959)
BACKTESTS = {"GSM8K": 0.0, "MMLU": 0.25, "ARC-C": 0.25, "HumanEval": 0.0}
SRC = "REFERENCE.md §12 (independent recomputation on the released table)"


def run(out: Path, opts: Options) -> Report:
    from ..tasks.observational import capability_pca, family_compute_fits, sigmoid_backtest

    d = load_dataset("obsscaling")
    pca = capability_pca(d)
    pca_s = capability_pca(d, standardize=True)
    checks = [Check(name="models in the table", published=148, ours=len(d), tolerance=0, kind="absolute",
                    source="data README"),
              Check(name="model families", published=47, ours=d["family"].nunique(), tolerance=0, kind="absolute",
                    source="data README"),
              Check(name="complete rows (all 8 scores)", published=124, ours=len(pca.scores), tolerance=0,
                    kind="absolute", source=SRC)]
    for i, v in enumerate(CUMULATIVE):
        checks.append(Check(name=f"cumulative explained variance, PCs 1-{i + 1} (centred)", published=v,
                            ours=pca.cumulative[i], tolerance=5e-4, kind="absolute", source=SRC))
    for i, v in enumerate(CUMULATIVE_STANDARDIZED):
        checks.append(Check(name=f"cumulative explained variance, PCs 1-{i + 1} (standardised)", published=v,
                            ours=pca_s.cumulative[i], tolerance=5e-4, kind="absolute", source=SRC))
    fams = family_compute_fits(d, pca.scores["PC1"])
    rising = fams[fams["slope"] > 0]
    backtests = {t: sigmoid_backtest(d, t, chance=c) for t, c in BACKTESTS.items()}
    bt_rows = []
    for t, b in backtests.items():
        bt_rows.append({"benchmark": t, "chance": BACKTESTS[t], "models": len(b.table),
                        "held out (strongest 20 % by PC1)": int(b.table["held_out"].sum()),
                        "MAE fitted (points)": 100 * b.mae_train, "MAE held out (points)": 100 * b.mae_heldout,
                        "k": b.sigmoid.k, "x0": b.sigmoid.x0})
    figures = _figures(d, pca, fams, backtests, out, opts.formats)
    loadings = pca.loadings[["PC1", "PC2", "PC3"]].copy()
    explained = pd.DataFrame({"explained": pca.explained, "cumulative": pca.cumulative,
                              "standardised cumulative": pca_s.cumulative},
                             index=pd.Index([f"PC{i + 1}" for i in range(len(pca.explained))], name="component"))
    notes = ("PCA: centred (not standardised) unless stated, on the rows with all eight scores; the sign of PC1 is "
             "chosen so that higher means more capable. The authors impute missing scores with PCA; we exclude "
             f"the {len(pca.excluded)} incomplete rows instead.",
             "Family fits: PC1 = slope·log10(FLOPs) + intercept per family with at least 3 models with FLOPs; "
             "'flops_at_zero' (the compute at PC1 = 0) compares families' compute efficiency; "
             f"PC1 rises with compute in {len(rising)} of {len(fams)} families (median R² {fams['r2'].median():.3f}).",
             "Backtests: the benchmark is excluded from the PCA that defines the capability axis (no leakage); "
             "acc = chance + (1 − chance)·σ(k(PC1 − x0)).")
    return Report(name="observational", title=TITLE, papers=PAPERS, checks=tuple(checks),
                  tables={"Explained variance": explained, "Loadings (centred PCA)": loadings,
                          "Per-family capability vs log10 FLOPs": fams, "Sigmoid backtests": pd.DataFrame(bt_rows)},
                  figures=tuple(figures), notes=notes, settings={"holdout": 0.2, "standardize": False})


def _figures(d: pd.DataFrame, pca, fams: pd.DataFrame, backtests: dict, out: Path,  # type: ignore[no-untyped-def]
             formats: tuple[str, ...]) -> list[Path]:
    import matplotlib.pyplot as plt

    from .. import plot

    figs: list[Path] = []
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), constrained_layout=True)
    k = np.arange(1, len(pca.explained) + 1)
    axes[0].bar(k, 100 * np.array(pca.explained), color="#4c72b0", label="per component")
    axes[0].plot(k, 100 * np.array(pca.cumulative), "o-", color="black", label="cumulative")
    for i in range(3):
        axes[0].annotate(f"{100 * pca.cumulative[i]:.1f} %", (k[i], 100 * pca.cumulative[i]),
                         textcoords="offset points", xytext=(-6, 6), ha="right", fontsize="small")
    axes[0].set_xlabel("principal component")
    axes[0].set_ylabel("explained variance (%)")
    axes[0].set_title(f"Benchmark scores of {len(pca.scores)} models (centred PCA)", fontsize="medium")
    axes[0].legend(fontsize="small")
    axes[0].grid(alpha=0.3, axis="y")
    L = pca.loadings[["PC1", "PC2", "PC3"]]
    x = np.arange(len(L))
    for j, c in enumerate(L.columns):
        axes[1].bar(x + (j - 1) * 0.27, L[c], width=0.27, label=c)
    axes[1].set_xticks(x, L.index, rotation=35, ha="right")
    axes[1].axhline(0, color="black", lw=0.8)
    axes[1].set_ylabel("loading")
    axes[1].set_title("Loadings of the first three components", fontsize="medium")
    axes[1].legend(fontsize="small")
    figs += plot.save_figure(fig, out / "observational_pca", formats)

    fig, ax = plt.subplots(figsize=(7.5, 5), constrained_layout=True)
    cap = pca.scores["PC1"]
    df = d.loc[cap.index].assign(PC1=cap)
    cmap = plt.get_cmap("tab20")
    for i, r in enumerate(fams.sort_values("flops_at_zero").itertuples()):
        g = df[(df["family"] == r.family) & np.isfinite(df["flops"])]
        c = cmap(i % 20)
        ax.scatter(g["flops"], g["PC1"], color=c, s=18)
        xx = np.geomspace(g["flops"].min(), g["flops"].max(), 20)
        ax.plot(xx, r.slope * np.log10(xx) + r.intercept, color=c, lw=1, label=f"{r.family} ({r.slope:.2f}/dec)")
    ax.set_xscale("log")
    ax.set_xlabel("training FLOPs")
    ax.set_ylabel("PC1 (capability)")
    ax.set_title("Capability is log-linear in compute within a family (slope per decade)", fontsize="medium")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize="x-small", ncol=2, loc="upper left")
    figs += plot.save_figure(fig, out / "observational_families", formats)

    fig, axes = plt.subplots(1, len(backtests), figsize=(3.4 * len(backtests), 3.4), constrained_layout=True,
                             squeeze=False)
    for ax, (t, b) in zip(axes[0], backtests.items()):
        tab = b.table
        fit, held = tab[~tab["held_out"]], tab[tab["held_out"]]
        ax.scatter(fit["capability"], 100 * fit["actual"], s=10, color="#4c72b0", label="fitted")
        ax.scatter(held["capability"], 100 * held["actual"], s=14, color="#dd5500", label="held out (top 20 %)")
        xx = np.linspace(tab["capability"].min(), tab["capability"].max(), 200)
        ax.plot(xx, 100 * b.sigmoid.predict(xx), color="black", lw=1.2, label="sigmoid fit")
        ax.set_xlabel("PC1 of the other 7 benchmarks")
        ax.set_ylabel(f"{t} accuracy (%)")
        ax.set_title(f"{t}: held-out MAE {100 * b.mae_heldout:.1f} points", fontsize="medium")
        ax.grid(alpha=0.3)
        ax.legend(fontsize="x-small")
    figs += plot.save_figure(fig, out / "observational_backtest", formats)
    return figs
