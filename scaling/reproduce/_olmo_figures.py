"""Figures of the OLMo-ladder reproduction (step 1, step 2, chained, prediction errors)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

SIZE_COLORS = {"190M": "#8c1c13", "370M": "#e07a1f", "760M": "#2a7f3b", "1B": "#167c80", "3B": "#3b4cc0"}
TARGET_COLORS = {"7B-4T": "#7b2cbf", "13B-5T": "#c2185b"}
N_OF_SIZE = {"190M": 190354176.0, "370M": 371262464.0, "760M": 758220288.0, "1B": 1279395840.0, "3B": 3169537280.0}


def _grid(n: int) -> tuple[Any, np.ndarray]:
    import matplotlib.pyplot as plt

    cols = 4
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(3.3 * cols, 2.9 * rows), squeeze=False, constrained_layout=True)
    return fig, axes.ravel()


def _size_of(n: float) -> str:
    return min(N_OF_SIZE, key=lambda s: abs(N_OF_SIZE[s] - n))


def _save(fig: Any, path: Path, formats: tuple[str, ...]) -> list[Path]:
    from .. import plot

    return plot.save_figure(fig, path, formats)


def _target_loss(frame: pd.DataFrame, run: str, column: str) -> float:
    sel = frame.loc[frame["run"] == run].sort_values("n_tokens", kind="stable")
    return float(sel[column].iloc[-5:].mean())


def step1_figure(laws: dict[str, Any], path: Path, formats: tuple[str, ...], frame: pd.DataFrame | None = None,
                 targets: dict[str, tuple[float, float, str]] | None = None) -> list[Path]:
    fig, axes = _grid(len(laws))
    for ax, (name, law) in zip(axes, laws.items()):
        pts = law.points1
        dmax = 6e12
        for n, g in pts.groupby("n_params"):
            size = _size_of(float(n))
            c = SIZE_COLORS[size]
            ax.scatter(g["n_tokens"], g["loss"], color=c, s=18, zorder=3, label=size)
            d = np.geomspace(g["n_tokens"].min() * 0.7, dmax, 60)
            ax.plot(d, law.predict_loss(np.full_like(d, n), d), color=c, lw=1, ls="--", alpha=0.8)
        for tname, (tn, td, run) in (targets or {}).items():
            c = TARGET_COLORS[tname]
            dd = np.geomspace(pts["n_tokens"].min() * 0.7, dmax, 60)
            ax.plot(dd, law.predict_loss(np.full_like(dd, tn), dd), color=c, lw=1, ls=":", alpha=0.9)
            ax.scatter([td], law.predict_loss(tn, td), marker="x", color=c, s=40, zorder=4,
                       label=f"{tname} predicted")
            if frame is not None:
                ax.scatter([td], [_target_loss(frame, run, law.settings["loss"])], marker="*", color=c, s=70,
                           zorder=4, label=f"{tname} actual")
        ax.set_xscale("log")
        ax.set_title(name, fontsize="medium")
        ax.set_xlabel("training tokens D")
        ax.set_ylabel("task loss (bits per byte)")
        ax.grid(alpha=0.3, which="both")
    for ax in axes[len(laws):]:
        ax.set_visible(False)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=min(len(labels), 9), fontsize="small")
    fig.suptitle("Step 1: task loss L(N, D) = E + A/N^α + B/D^β (Huber δ = 1e-3 on log residuals; "
                 "dashed: fit per model size, dotted: targets)", fontsize="medium")
    return _save(fig, path, formats)


def step2_figure(laws: dict[str, Any], path: Path, formats: tuple[str, ...], frame: pd.DataFrame | None = None,
                 targets: dict[str, tuple[float, float, str]] | None = None) -> list[Path]:
    fig, axes = _grid(len(laws))
    for ax, (name, law) in zip(axes, laws.items()):
        pts = law.points2
        n_of_run = law.points1.set_index("run")["n_params"]
        for run, g in pts.groupby("run", sort=False):
            size = _size_of(float(n_of_run[run]))
            ax.scatter(g["loss"], 100 * g["accuracy"], s=4, alpha=0.35, color=SIZE_COLORS[size], lw=0,
                       label=size)
        lo = min(pts["loss"].min(), *(law.predict_loss(n, d) for n, d, _ in (targets or {}).values())) * 0.9
        x = np.linspace(lo, pts["loss"].max() * 1.05, 200)
        ax.plot(x, 100 * law.step2.predict(x), color="black", lw=1.2, label="fitted sigmoid")
        for tname, (_, _, run) in (targets or {}).items():
            if frame is None:
                continue
            sel = frame.loc[frame["run"] == run].sort_values("n_tokens", kind="stable")
            ax.scatter([sel[law.settings["loss"]].iloc[-5:].mean()],
                       [100 * sel[law.settings["accuracy"]].iloc[-5:].mean()], marker="*", s=70,
                       color=TARGET_COLORS[tname], zorder=4, label=f"{tname} actual")
        ax.set_title(name, fontsize="medium")
        ax.set_xlabel("task loss (bits per byte)")
        ax.set_ylabel("accuracy (%)")
        ax.grid(alpha=0.3)
    for ax in axes[len(laws):]:
        ax.set_visible(False)
    from matplotlib.lines import Line2D

    handles, labels = axes[0].get_legend_handles_labels()
    uniq = dict(zip(labels, handles))
    sizes = [s for s in SIZE_COLORS if s in uniq]  # proxies: the scatter points are tiny and translucent
    proxies = [Line2D([], [], ls="", marker="o", color=SIZE_COLORS[s], label=s) for s in sizes]
    rest = [(k, h) for k, h in uniq.items() if k not in SIZE_COLORS]
    fig.legend(proxies + [h for _, h in rest], sizes + [k for k, _ in rest], loc="outside lower center",
               ncol=len(sizes) + len(rest), fontsize="small")
    fig.suptitle("Step 2: accuracy = a/(1 + exp(−k(L − L0))) + b on all checkpoints after the first 10 % "
                 "(5-point moving average)", fontsize="medium")
    return _save(fig, path, formats)


def chained_figure(laws: dict[str, Any], frame: pd.DataFrame, path: Path, formats: tuple[str, ...],
                   targets: dict[str, tuple[float, float, str]], tasks: dict[str, str]) -> list[Path]:
    fig, axes = _grid(len(laws))
    for ax, (name, law) in zip(axes, laws.items()):
        pts = law.points1
        for n, g in pts.groupby("n_params"):
            size = _size_of(float(n))
            c = SIZE_COLORS[size]
            ax.scatter(g["n_tokens"], 100 * g["accuracy"], color=c, s=18, zorder=3, label=size)
            d = np.geomspace(g["n_tokens"].min() * 0.7, 6e12, 60)
            ax.plot(d, 100 * law.step2.predict(law.predict_loss(np.full_like(d, n), d)), color=c, lw=1, ls="--",
                    alpha=0.8)
        for tname, (tn, td, run) in targets.items():
            c = TARGET_COLORS[tname]
            p = law.predict(tn, td, level=0.9)
            ax.errorbar([td], [100 * p.accuracy[0]], yerr=[[100 * (p.accuracy[0] - p.lower[0])],
                                                          [100 * (p.upper[0] - p.accuracy[0])]],
                        fmt="x", color=c, capsize=3, zorder=4, label=f"{tname} predicted (90 %)")
            sel = frame.loc[frame["run"] == run].sort_values("n_tokens", kind="stable")
            ax.scatter([td], [100 * sel[f"acc_{tasks[name]}"].iloc[-5:].mean()], marker="*", s=70, color=c, zorder=5,
                       label=f"{tname} actual")
        ax.set_xscale("log")
        ax.set_title(name, fontsize="medium")
        ax.set_xlabel("training tokens D")
        ax.set_ylabel("accuracy (%)")
        ax.grid(alpha=0.3, which="both")
    for ax in axes[len(laws):]:
        ax.set_visible(False)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=min(len(labels), 8), fontsize="small")
    fig.suptitle("Chained prediction: accuracy from (N, D) through the task loss (dashed: ladder sizes; "
                 "targets with 90 % bootstrap intervals)", fontsize="medium")
    return _save(fig, path, formats)


def errors_figure(pred: pd.DataFrame, pred3: pd.DataFrame, path: Path, formats: tuple[str, ...]) -> list[Path]:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), sharey=True, constrained_layout=True)
    for ax, target in zip(axes, ("7B-4T", "13B-5T")):
        tasks = list(pd.unique(pred["task"]))
        x = np.arange(len(tasks))
        for off, (p, label, c) in zip((-0.18, 0.18), ((pred, "16-run ladder (paper)", "#555555"),
                                                      (pred3, "with the 3B runs (20 runs)", "#3b4cc0"))):
            s = p[p["target"] == target].set_index("task").loc[tasks]
            err = s["predicted"] - s["actual"]
            yerr = np.vstack([s["predicted"] - s["lower"], s["upper"] - s["predicted"]])
            ax.bar(x + off, err, width=0.34, color=c, alpha=0.8,
                   label=f"{label}: MAE {err.abs().mean():.2f}")
            ax.errorbar(x + off, err, yerr=yerr, fmt="none", ecolor="black", lw=0.8, capsize=2)
        ax.axhline(0, color="black", lw=0.8)
        ax.set_xticks(x, tasks, rotation=35, ha="right")
        ax.set_title(f"{target}: predicted − actual accuracy", fontsize="medium")
        ax.set_ylabel("error (points); bars: 90 % interval")
        ax.grid(alpha=0.3, axis="y")
        ax.legend(fontsize="small", loc="lower left")
    return _save(fig, path, formats)
