"""Luo et al. 2025 (arXiv 2503.12811): the multi-power law across learning-rate schedules.

Per model size (25M, 100M, 400M), the law is fitted on the repo's three training schedules
(cosine_24000, constant_24000, wsdcon_9) and predicts the six test schedules (constant_72000,
cosine_72000, WSD with exponential and linear decay, two-stage wsdcon_3 and wsdcon_18). Reported:

* with the **published parameters** (``src/config.py``): the training objective (Huber 1e-3 on log
  loss, summed over the training curves) and PredE/WorstE per test schedule, next to the authors'
  printed metrics (``logs/*.log``) and REFERENCE.md §12 — the check that the law and the schedules
  are implemented exactly;
* our **exact refit** (:func:`scaling.curves.fit_curves`): a lower training objective at every size
  (the published parameters are not at the optimum of the authors' objective: their AdamW loop
  stores the step after its best one) and its test PredE beside the published one.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import numpy as np
import pandas as pd

from .. import plot
from ..curves import MULTIPOWER, Curve, curve_metrics, fit_curves, huber_objective
from ..datasets import fetch_file, load_dataset
from ..datasets.multipower import PUBLISHED_PARAMS, SIZES, TEST, TRAIN, schedule_for
from . import Options
from ._report import Check, Report

TITLE = "Luo et al. 2025: the multi-power law across learning-rate schedules"
PAPERS = ("Luo et al. 2025, A Multi-Power Law for Loss Curve Prediction Across Learning Rate Schedules, "
          "arXiv 2503.12811 (repo thu-yao-01-luo/MultiPowerLaw @ 8da9f19)",)

#: REFERENCE.md §12 [R]: recomputed from the repo's files with the published parameters
REF_OBJECTIVE = {"25M": 2.9122e-4, "100M": 2.8096e-4, "400M": 5.7699e-4}
REF_TEST_PREDE = {"25M": 1.102e-3, "100M": 1.425e-3, "400M": 1.680e-3}
REF_400M_PREDE = {"constant_72000": 1.454e-3, "cosine_72000": 2.020e-3, "wsd_20000_24000": 1.651e-3,
                  "wsdld_20000_24000": 1.340e-3, "wsdcon_3": 2.777e-3, "wsdcon_18": 8.38e-4}
#: an independent multi-start refit (8 starts agreeing to 1e-6), REFERENCE.md §12
REF_REFIT_OBJECTIVE = {"25M": 1.3843e-4, "100M": 2.1331e-5, "400M": 7.8834e-5}
REF_REFIT_PREDE = {"25M": 1.371e-3, "100M": 1.647e-3, "400M": 2.159e-3}
SRC = "REFERENCE.md §12 / acceptance 16 [R: recomputed from the repo's files]"


def load_curves(size: str) -> dict[str, Curve]:
    """The 9 curves of one size, with their schedules (``schedule_for``)."""
    table = load_dataset("multipowerlaw_schedules")
    assert not isinstance(table, pd.DataFrame)
    full = table.to_frame()
    f = full.loc[full["group"].to_numpy() == size]
    out = {}
    for name, g in f.groupby("schedule", sort=False):
        out[str(name)] = Curve.make(schedule_for(str(name)), np.asarray(g["step"], dtype=float),
                                    np.asarray(g["loss"], dtype=float), name=f"{size}/{name!s}")
    return out


def parse_log(size: str) -> pd.DataFrame:
    """The authors' printed metrics per curve from ``logs/<size>.log``: huber_loss, prede, worste."""
    path = fetch_file("multipowerlaw_schedules", f"logs/{size.rstrip('M')}.log")
    rows: dict[str, dict[str, float]] = {}
    current = None
    for line in path.read_text().splitlines():
        m = re.match(r"INFO:src\.evaluation:([\w]+)\.csv\s*$", line)
        if m:
            current = m.group(1)
            rows[current] = {}
            continue
        m = re.match(r"INFO:src\.evaluation:(huber_loss|prede|worste): ([0-9.eE+-]+)", line)
        if m and current is not None:
            rows[current][m.group(1)] = float(m.group(2))
    return pd.DataFrame.from_dict(rows, orient="index")


def run(out: Path, opts: Options) -> Report:
    checks: list[Check] = []
    per_schedule = []
    summary = []
    fits = {}
    curves_all = {}
    seconds = {}
    for size in SIZES:
        curves = load_curves(size)
        curves_all[size] = curves
        train = [curves[n] for n in TRAIN]
        pub = np.array(PUBLISHED_PARAMS[size])
        logm = parse_log(size)
        obj_pub = huber_objective(MULTIPOWER, pub, train)
        t0 = time.perf_counter()
        fit = fit_curves(train)
        seconds[size] = time.perf_counter() - t0
        fits[size] = fit
        pub_m = {n: curve_metrics(MULTIPOWER.predict(pub, curves[n]), curves[n].loss) for n in TEST}  # type: ignore[arg-type]
        fit_m = {n: fit.evaluate(curves[n]) for n in TEST}
        mean_pub = float(np.mean([pub_m[n]["PredE"] for n in TEST]))
        mean_fit = float(np.mean([fit_m[n]["PredE"] for n in TEST]))
        log_obj = float(logm.loc[list(TRAIN), "huber_loss"].sum())
        log_mean = float(logm.loc[list(TEST), "prede"].mean())
        checks += [
            Check(name=f"{size}: training objective with the published parameters", published=REF_OBJECTIVE[size],
                  ours=obj_pub, tolerance=1e-3, source=SRC),
            Check(name=f"{size}: training objective, the authors' log (sum of huber_loss)", published=log_obj,
                  ours=obj_pub, tolerance=1e-4, source=f"logs/{size.rstrip('M')}.log"),
            Check(name=f"{size}: mean test PredE with the published parameters", published=REF_TEST_PREDE[size],
                  ours=mean_pub, tolerance=1e-3, source=SRC + "; README 0.00110 / 0.00142 / 0.00168"),
            Check(name=f"{size}: mean test PredE, the authors' log", published=log_mean, ours=mean_pub,
                  tolerance=1e-4, source=f"logs/{size.rstrip('M')}.log"),
            Check(name=f"{size}: training objective of our exact refit (independent refit)",
                  published=REF_REFIT_OBJECTIVE[size], ours=fit.objective, tolerance=1e-3, source=SRC,
                  note=f"{100 * (1 - fit.objective / obj_pub):.0f} % below the published parameters' objective"),
            Check.holds(f"{size}: our refit's training objective is below the published parameters'",
                        bool(fit.objective < obj_pub), source="REFERENCE acceptance 16",
                        note=f"refit / published objective = {fit.objective / obj_pub:.3g}"),
            Check(name=f"{size}: mean test PredE of our exact refit (independent refit)",
                  published=REF_REFIT_PREDE[size], ours=mean_fit, tolerance=2e-3, source=SRC,
                  note="worse than the published parameters: 7 parameters on 3 curves overfit" if mean_fit > mean_pub
                  else ""),
        ]
        if size == "400M":
            checks += [Check(name=f"400M: test PredE {n} (published parameters)", published=REF_400M_PREDE[n],
                             ours=pub_m[n]["PredE"], tolerance=1e-3, source=SRC) for n in TEST]
        for n in TEST:
            per_schedule.append({
                "size": size, "schedule": n,
                "PredE published params": pub_m[n]["PredE"], "PredE authors' log": float(logm["prede"][n]),
                "PredE our refit": fit_m[n]["PredE"],
                "WorstE published params": pub_m[n]["WorstE"], "WorstE authors' log": float(logm["worste"][n]),
                "WorstE our refit": fit_m[n]["WorstE"]})
        summary.append({"size": size, "objective published params": obj_pub, "objective our refit": fit.objective,
                        "mean test PredE published": mean_pub, "mean test PredE our refit": mean_fit,
                        "mean test WorstE published": float(np.mean([pub_m[n]["WorstE"] for n in TEST])),
                        "mean test WorstE our refit": float(np.mean([fit_m[n]["WorstE"] for n in TEST])),
                        "refit seconds": seconds[size],
                        "refit starts agreeing (exact)": int((fit.starts["stage"] == "exact").sum()),
                        **{f"refit {k}": v for k, v in fit.params.items()}})
    figures = _figure(out, curves_all, fits, opts)
    notes = (
        "Objective: Huber (delta = 1e-3) of log L_obs - log L_hat, summed over every logged point of the three "
        "training curves; PredE = mean |L_hat - L| / L over a test curve's logged points, WorstE = its maximum.",
        "The law is evaluated exactly as the authors' src/models.py (S1 includes the warmup; the loss-drop sum runs "
        "over every step from 1, warmup included); pointwise values match REFERENCE.md to 1e-8.",
        "Our refit minimises the authors' own objective exactly (analytic gradients, multi-start, tight L-BFGS-B "
        "polish) and reaches a much lower training objective at every size — yet predicts the test schedules worse "
        "on average (better in WorstE): seven parameters fitted on three curves overfit, and the authors' early-"
        "stopped AdamW acts as a regulariser. The refit's error is largest on the 72,000-step curves: the exact "
        "optimum extrapolates worse in time. Measured remedies (docs/schedules.md): sharing exponents across sizes "
        "or adding short schedules does not beat the published parameters at every size; choose among fits by "
        "held-out schedules that resemble the runs to predict (length above all) and fix exponents you trust "
        "(fit_curves(..., fixed={...})).",
    )
    return Report(name="multipower", title=TITLE, papers=PAPERS, checks=tuple(checks),
                  tables={"Per size": pd.DataFrame(summary), "Per test schedule": pd.DataFrame(per_schedule)},
                  figures=tuple(figures), notes=notes, settings={"delta": 1e-3, "train": list(TRAIN),
                                                                 "test": list(TEST)})


def _figure(out: Path, curves_all: dict[str, dict[str, Curve]], fits: dict, opts: Options) -> list[Path]:
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    fig, axes = plt.subplots(2, 3, figsize=(15, 8.5), sharex="col", gridspec_kw={"height_ratios": [3, 2]})
    colors = plt.get_cmap("tab10")
    names = TRAIN + TEST
    for j, size in enumerate(SIZES):
        ax, axr = axes[0, j], axes[1, j]
        pub = np.array(PUBLISHED_PARAMS[size])
        fp = fits[size].params_array()
        for i, n in enumerate(names):
            c = curves_all[size][n]
            col = colors(i)
            lw = 2.2 if n in TRAIN else 1.2
            assert c.loss is not None
            ax.plot(c.steps, c.loss, color=col, lw=lw, alpha=0.55,
                    label=f"{n} ({'train' if n in TRAIN else 'test'})")
            pp = MULTIPOWER.predict(pub, c)
            pf = MULTIPOWER.predict(fp, c)
            ax.plot(c.steps, pp, color=col, lw=0.9, ls="--")
            axr.plot(c.steps, 100 * (pp - c.loss) / c.loss, color=col, lw=0.9, ls="--")
            axr.plot(c.steps, 100 * (pf - c.loss) / c.loss, color=col, lw=0.9, ls=":")
        axr.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v / 1000:g}k"))
        ax.set_title(f"{size}: observed (solid), published-parameter prediction (dashed)", fontsize="medium")
        ax.set_ylabel("training loss (nats/token)")
        ax.grid(alpha=0.3, which="both")
        axr.axhline(0, color="k", lw=0.6)
        axr.set_ylabel("relative error of prediction (%)")
        axr.set_xlabel("optimizer step")
        axr.set_ylim(-2.5, 2.5)
        axr.grid(alpha=0.3, which="both")
        axr.set_title("dashed: published parameters; dotted: our exact refit", fontsize="small")
    axes[0, 0].legend(fontsize="x-small", ncol=1, loc="upper right")
    fig.suptitle("Multi-power law (Luo et al. 2025): fitted on 3 schedules (thick), predicting 6 (thin)")
    fig.tight_layout()
    return plot.save_figure(fig, out / "multipower_curves", opts.formats)
