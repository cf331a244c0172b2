"""Backtest the forecast intervals on the public curves (the table of docs/forecast.md).

For every curve of colpret_curves (GPT-3, datablations) and multipowerlaw_schedules: forecast the final
loss from the first 30 % of the curve; print coverage of the nominal 95 % interval and the median
half-width per source and law. ``--kappa-scale`` multiplies the calibrated horizon terms (to see how
coverage moves).

    SCALING_DATA_DIR=... python scripts/calibrate_forecast.py [--kappa-scale 1.0]
"""

from __future__ import annotations

import argparse
import warnings

import pandas as pd

import scaling as sc
from scaling.forecast import KAPPA, forecast


def backtest(kappa_scale: float = 1.0, fraction: float = 0.3) -> pd.DataFrame:
    curves = []
    curves += [("gpt3", r, g, "n_tokens") for r, g in sc.load_dataset("colpret_curves").to_frame().groupby("run")]
    dbl = sc.load_dataset("colpret_curves", part="datablations").to_frame()
    curves += [("datablations", r, g, "n_tokens") for r, g in dbl.groupby("run")]
    mpl = sc.load_dataset("multipowerlaw_schedules").to_frame()
    curves += [("multipower", r, g, "step") for r, g in mpl.groupby("run")]
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for src, run, g, x in curves:
            g = g.sort_values(x, kind="stable")
            end = float(g[x].max())
            final = float(g.loc[g[x] >= 0.97 * end, "loss"].mean()) if src == "gpt3" else float(g["loss"].iloc[-1])
            obs = g[g[x] <= fraction * end]
            for law in (("multipower", "powerlaw") if src == "multipower" else ("powerlaw",)):
                data = obs if law == "multipower" else obs.drop(columns=["schedule_spec"], errors="ignore")
                fc = forecast(data, end, law=law, x=x, kappa=KAPPA[law] * kappa_scale)
                rows.append({"source": src, "run": run, "law": law, "final": final, "estimate": fc.estimate,
                             "covered": fc.lower <= final <= fc.upper,
                             "half_width": (fc.upper - fc.lower) / 2 / fc.estimate})
    return pd.DataFrame(rows)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--kappa-scale", type=float, default=1.0)
    args = ap.parse_args()
    df = backtest(args.kappa_scale)
    out = df.groupby(["source", "law"]).agg(n=("covered", "size"), coverage=("covered", "mean"),
                                            median_half_width=("half_width", "median"),
                                            mean_rel_bias=("estimate", "size"))
    out["mean_rel_bias"] = df.assign(e=(df["estimate"] / df["final"]).map(float)).groupby(
        ["source", "law"])["e"].mean() - 1
    print(out.round(4).to_string())
    print(f"all: coverage {df['covered'].mean():.3f}, median half-width {df['half_width'].median():.4f}")


if __name__ == "__main__":
    main()
