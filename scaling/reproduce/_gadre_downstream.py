"""The downstream panel of the Gadre et al. 2024 reproduction: average top-1 error from the loss.

As the authors' ``fit_ds`` (scaling/shared.py of mlfoundations/scaling): on RedPajama, the C4-eval loss and
the average top-1 error of the five loss-fit runs plus the 1.4B model at M = 20 (six points) are fitted with
Err(L) = ε − k·exp(−γ·L) by least squares; the law then predicts the error of the 1.4B model at M = 640 and
of the 6.9B model at M = 20.

The authors' recipe (their Figure 1, right) is *chained*: the error law is evaluated at the loss that the
over-training law predicts for the target, on the 17-task split. Their relative errors for it, 3.6365 % (1.4B,
M = 640) and 0.0464 % (6.9B, M = 20), are the saved output of the "reproduce figure 1" cell of their notebook
``scaling_explorer.ipynb`` (github.com/mlfoundations/scaling, commit 79adc26, 2024-03-13, the day of arXiv
v1; unchanged at the mirrored a003c49): "relative error predicting (open_lm_1b, M=640.0) 17-task split top-1
error: 3.6365%" and "... (open_lm_7b, M=20.0) ...: 0.0464%". They are checked here to 1e-4 percentage points
(printed to 4 decimals, ±5e-5, plus 5e-5 for the optimiser: our fits and the authors' curve_fit agree to 1e-6
relative, which moves these percentages by < 1e-5). The paper's own text, figure annotation and appendix
tables could not be read from the sources available here (see docs/tasks.md); if they print rounded values
(e.g. 3.6 % / 0.05 %) these are the same numbers. Predicting from the target's *observed* loss, and the 46-task
split, are our labelled alternatives: the authors print no relative error for them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._report import Check

SPLITS = {"err_avg_subset": "17-task split (Figure 1)", "err_avg": "46-task split"}
CHAINED = "predicted loss (chained: the authors' recipe)"
OBSERVED = "observed loss (alternative)"
# The authors' relative errors (%) of the chained 17-task prediction (module docstring: source and tolerance).
PUBLISHED_REL_ERR = {("open_lm_1b", 640.0): 3.6365, ("open_lm_7b", 20.0): 0.0464}
PUBLISHED_TOL = 1e-4
PUBLISHED_SOURCE = ("Gadre et al. 2024, Figure 1 (right) as reproduced by the authors' scaling_explorer.ipynb, "
                    "cell 'reproduce figure 1', saved output (github.com/mlfoundations/scaling @ 79adc26)")


def downstream(f: pd.DataFrame, fit_mask: np.ndarray, loss_fit: Any, targets: tuple[tuple[str, float, float], ...],
               out: Path, formats: tuple[str, ...], rng: int = 0) -> tuple[list[Check], dict[str, pd.DataFrame],
                                                                          list[Path], tuple[str, ...]]:
    from ..tasks.downstream import fit_error_law

    M = f["token_multiplier"].to_numpy(float)
    cfg = f["model_config"].astype(str).to_numpy()
    rpj = f["group"].astype(str).to_numpy() == "rpj"
    sel = fit_mask | (rpj & (cfg == "open_lm_1b") & (M == 20))
    pts = f.loc[sel]
    checks: list[Check] = []
    rows, fits = [], {}
    chained: dict[tuple[str, str, float], tuple[float, float, float]] = {}  # (col, model, M) -> loss, error, rel %
    for col, label in SPLITS.items():
        law = fit_error_law(pts["loss"], pts[col], bootstrap=200, rng=rng)
        fits[col] = law
        from scipy.optimize import curve_fit

        (k_, g_, e_), _ = curve_fit(lambda t, a, b, e: e - a * np.exp(-b * t), pts["loss"].to_numpy(float),
                                    pts[col].to_numpy(float), maxfev=10000)  # the authors' call (fit_ds)
        for name, ref in (("eps", e_), ("k", k_), ("gamma", g_)):
            checks.append(Check(name=f"downstream law ({label}): {name}", published=float(ref),
                                ours=law.params[name], tolerance=1e-4,
                                source="the authors' scipy curve_fit on the same six runs (scaling/shared.py fit_ds)"))
        for name, mult, _ in targets:
            r = f.loc[rpj & (cfg == name) & (M == mult)].iloc[0]
            pred_loss = float(loss_fit.predict(r["n_params"], r["n_tokens"]))
            for how, x in ((CHAINED, pred_loss), (OBSERVED, float(r["loss"]))):
                pred = float(law.predict(x))
                lo, hi = law.interval(x)
                rel = 100 * abs(pred - r[col]) / r[col]
                if how == CHAINED:
                    chained[(col, name, mult)] = (x, pred, rel)
                published = PUBLISHED_REL_ERR.get((name, mult)) if (col, how) == ("err_avg_subset", CHAINED) else None
                rows.append({"split": label, "model": name, "M": mult, "from": how, "loss": x,
                             "actual error": r[col], "predicted error": pred, "90% interval":
                             f"[{lo[0]:.4f}, {hi[0]:.4f}]", "relative error %": rel,
                             "published relative error %": np.nan if published is None else published})
                if published is not None:
                    checks.append(Check(
                        name=f"downstream relative error, {r['n_params'] / 1e9:.2g}B at M = {mult:g}, "
                             "17-task split, chained (%)",
                        published=published, ours=rel, tolerance=PUBLISHED_TOL, kind="absolute",
                        source=PUBLISHED_SOURCE,
                        note="printed to 4 decimals (±5e-5) + 5e-5 optimiser slack"))
    params = pd.DataFrame({col: law.params for col, law in fits.items()}).T
    # Why the authors add the 1.4B, M = 20 run: the error law fitted on the five loss-fit runs alone misses.
    variants = []
    for fit_runs, law_v in (("6: the 5 loss-fit runs + 1.4B at M = 20 (the authors')", fits["err_avg_subset"]),
                            ("5: the loss-fit runs only",
                             fit_error_law(f.loc[fit_mask, "loss"], f.loc[fit_mask, "err_avg_subset"]))):
        row: dict[str, Any] = {"error-law fit runs": fit_runs}
        for name, mult, _ in targets:
            r = f.loc[rpj & (cfg == name) & (M == mult)].iloc[0]
            x_hat = chained[("err_avg_subset", name, mult)][0]
            row[f"{r['n_params'] / 1e9:.2g}B, M = {mult:g}: relative error %"] = float(
                100 * abs(law_v.predict(x_hat) - r["err_avg_subset"]) / r["err_avg_subset"])
        variants.append(row)
    figures = _figure(f, pts, fits, targets, chained, out, formats)
    pred = pd.DataFrame(rows)
    alt = " / ".join(f"{v:.2f} %" for v in pred.loc[(pred["split"] == SPLITS["err_avg_subset"])
                                                    & (pred["from"] == OBSERVED), "relative error %"])
    miss5 = " / ".join(f"{v:.1f} %" for k, v in variants[1].items() if k.endswith("%"))
    notes = ("Downstream: Err(L) = eps − k·exp(−gamma·L) fitted by least squares on 6 RedPajama runs (the 5 loss-fit "
             "runs + 1.4B at M = 20), as the authors' fit_ds; the fitted values equal their curve_fit's to 1e-6.",
             "Downstream, published: the authors' relative errors 3.6365 % (1.4B, M = 640) and 0.0464 % (6.9B, M = 20) "
             "are for the chained prediction on the 17-task split (the error law at the loss the over-training law "
             "predicts), printed by their notebook's Figure 1 cell (scaling_explorer.ipynb @ 79adc26). From the "
             f"targets' observed loss (our alternative) the same law gives {alt}: the 6.9B model's chained accuracy "
             "owes part of itself to the loss law's over-prediction of its loss, which cancels the error law's "
             "under-prediction at the observed loss. The authors print no 46-task relative errors.",
             f"Downstream, fit set: without the 1.4B, M = 20 run (the error law on the 5 loss-fit runs alone) the "
             f"chained predictions miss by {miss5} (table 'which runs fit the error law'): the paper's point that the "
             "error law needs more expensive runs than the loss law.",)
    return checks, {"Downstream law fits (Err = eps − k·exp(−gamma·L))": params,
                    "Downstream predictions (average top-1 error)": pred,
                    "Downstream: which runs fit the error law (17-task split, chained)": pd.DataFrame(variants)}, \
        figures, notes


def _figure(f: pd.DataFrame, pts: pd.DataFrame, fits: dict[str, Any], targets: Any,
            chained: dict[tuple[str, str, float], tuple[float, float, float]], out: Path,
            formats: tuple[str, ...]) -> list[Path]:
    import matplotlib.pyplot as plt

    from .. import plot

    rpj = f["group"].astype(str) == "rpj"
    fig, axes = plt.subplots(1, 2, figsize=(11, 6.6), constrained_layout=True)
    others = f.loc[rpj & ~f.index.isin(pts.index)]
    for ax, (col, label) in zip(axes, SPLITS.items()):
        zoom = ax.inset_axes((0.52, 0.06, 0.45, 0.42))  # the targets crowd at L = 2.4–2.5: an enlarged view
        x = np.linspace(min(f.loc[rpj, "loss"].min(), 2.3), f.loc[rpj, "loss"].max(), 200)
        for a in (ax, zoom):
            a.scatter(others["loss"], others[col], s=12, color="#bbbbbb", label="other RedPajama runs")
            a.scatter(pts["loss"], pts[col], s=30, color="#1f77b4", label="fitted (6 runs)", zorder=3)
            a.plot(x, fits[col].predict(x), color="black", lw=1.2, label="Err = ε − k·exp(−γL)")
        xs, ys = [], []
        for (name, mult, _), c in zip(targets, ("#d62728", "#9467bd")):
            r = f.loc[rpj & (f["model_config"] == name) & (f["token_multiplier"] == mult)].iloc[0]
            size = f"{r['n_params'] / 1e9:.2g}B, M = {mult:g}"
            x_hat, y_hat, rel = chained[(col, name, mult)]
            published = PUBLISHED_REL_ERR.get((name, mult)) if col == "err_avg_subset" else None
            authors = f" (authors: {published} %)" if published is not None else ""
            for a in (ax, zoom):
                a.scatter([r["loss"]], [r[col]], marker="*", s=120, color=c, zorder=4,
                          label=f"{size}: observed (held out)")
                a.scatter([x_hat], [y_hat], marker="o", s=60, facecolors="none", edgecolors=c, lw=1.5, zorder=5,
                          label=f"{size}: chained prediction, {rel:.4f} % off{authors}")
            xs += [float(r["loss"]), x_hat]
            ys += [float(r[col]), y_hat]
        pad_x, pad_y = 0.25 * (max(xs) - min(xs)) + 0.01, 0.35 * (max(ys) - min(ys)) + 0.004
        zoom.set_xlim(min(xs) - pad_x, max(xs) + pad_x)
        zoom.set_ylim(min(ys) - pad_y, max(ys) + pad_y)
        zoom.tick_params(labelsize="x-small")
        zoom.grid(alpha=0.3)
        ax.indicate_inset_zoom(zoom, edgecolor="0.4")
        ax.set_xlabel("C4 eval loss (nats/token)")
        ax.set_ylabel(f"average top-1 error, {label}")
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=1, frameon=False)
    fig.suptitle("Gadre et al. 2024: average top-1 error as a function of the loss (RedPajama)\n"
                 "chained prediction = the error law at the loss the over-training law predicts", fontsize="medium")
    return plot.save_figure(fig, out / "gadre_downstream", formats)
