"""Sensitivity of scaling-law conclusions to fitting choices (Li et al. 2025, "(Mis)Fitting"), on
Epoch's points (Hoffmann et al. 2022 / Besiroglu et al. 2024) and Gadre et al.'s RedPajama runs.

Choices: Chinchilla with free exponents, tied exponents (beta = alpha), E fixed at Hoffmann's 1.69;
Huber on log residuals with delta 1e-3 (Hoffmann) or 1e-1, least squares in loss space; all runs or
the largest-compute half. Quantities: N_opt and D/N at Chinchilla's budget 5.76e23 FLOPs (Epoch), the
loss of the 6.9B model at M = 20 (Gadre's open_lm_7b target).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from .. import plot
from ..datasets import load_dataset
from ..errors import SensitivityWarning
from ..estimation.sensitivity import sensitivity
from ..estimation.uncertainty import Bootstrap
from . import Options
from ._report import Check, Report

TITLE = "Sensitivity to fitting choices (Li et al. 2025) on Epoch's and Gadre's data"
PAPERS = ("Li et al. 2025, (Mis)Fitting: A Survey of Scaling Laws, arXiv 2502.18969",
          "Besiroglu et al. 2024, Chinchilla Scaling: A replication attempt, arXiv 2404.10102",
          "Gadre et al. 2024, Language models scale reliably with over-training and on downstream tasks, "
          "arXiv 2403.08540")

LAWS = {"free exponents": {}, "tied exponents": {"tied": {"beta": "alpha"}}, "E fixed = 1.69": {"fixed": {"E": 1.69}}}
LOSSES = ["huber", "squared"]
DELTAS = [1e-3, 1e-1]
SUBSETS = {"all runs": None, "largest-compute half": "top_half_flops"}
C_CHINCHILLA = 5.76e23


def run(out: Path, opts: Options) -> Report:
    n_boot = opts.bootstrap or 200
    epoch = load_dataset("epoch_chinchilla")
    epoch = epoch.filter(epoch.loss < np.sort(epoch.loss)[-5], reason="5 highest losses (as Epoch)")
    gadre = load_dataset("gadre_overtraining", split="c4_val")
    gadre = gadre.filter(gadre.to_frame()["group"].astype(str).to_numpy() == "rpj", reason="not RedPajama")
    gf = gadre.to_frame()
    target = gf[(gf["model_config"].astype(str) == "open_lm_7b") & (gf["token_multiplier"] == 20.0)].iloc[0]
    gadre_fit = gadre.filter(gf["n_params"].to_numpy() < 0.5 * target["n_params"], reason="held-out target size")
    runs = []
    notes = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        kw = dict(laws=LAWS, losses=LOSSES, deltas=DELTAS, subsets=SUBSETS, uncertainty=Bootstrap(n=n_boot),
                  rng=opts.rng)
        s_n = sensitivity(epoch, quantity="n_opt", flops=C_CHINCHILLA, **kw)
        s_r = sensitivity(epoch, quantity="tokens_per_param", flops=C_CHINCHILLA, **kw)
        s_g = sensitivity(gadre_fit, quantity="loss", n_params=float(target["n_params"]),
                          n_tokens=float(target["n_tokens"]), **kw)
    for name, s in (("epoch_n_opt", s_n), ("epoch_tokens_per_param", s_r), ("gadre_loss_7b", s_g)):
        ax = s.plot(reference=(float(target["loss"]), "observed loss of open_lm_7b") if s is s_g else None)
        runs.extend(plot.save_figure(ax, out / f"sensitivity_{name}", opts.formats))
    warned = [w for w in caught if issubclass(w.category, SensitivityWarning)]
    notes.append(f"SensitivityWarning raised {len(warned)} time(s): "
                 + " | ".join(str(w.message)[:160] for w in warned))
    notes.append(f"Gadre: fitted on the {len(gadre_fit)} RedPajama runs below half the 6.9B model's size; observed "
                 f"loss of open_lm_7b at M = 20: {float(target['loss']):.4f}.")
    checks = [
        # the default choice recomputed here must be the package's headline Epoch fit (REFERENCE check 6)
        Check(name="default choice = Epoch refit: alpha", published=0.3473,
              ours=float(s_n.results[0].params["alpha"]), tolerance=1e-4, kind="absolute",
              source="REFERENCE acceptance check 6 (Besiroglu et al. 2024 refit)"),
    ]
    notes.append(f"Epoch N_opt at 5.76e23: largest / smallest across the {len(s_n.table)} choices = "
                 f"{s_n.ratio_range:.3g}; D/N: {s_r.ratio_range:.3g} (Li et al. report D/N from about 0.05 to 28 "
                 "across choices on another sweep).")
    notes.append(f"Gadre 6.9B loss: spread across choices {s_g.spread:.4f} nats/token vs default 95 % interval "
                 f"width {s_g.default_interval[1] - s_g.default_interval[0]:.4f}.")
    tables = {"Epoch: N_opt at 5.76e23 FLOPs": s_n.to_frame().drop(columns=["warnings"]),
              "Epoch: D/N at 5.76e23 FLOPs": s_r.to_frame().drop(columns=["warnings"]),
              "Gadre: loss of open_lm_7b (M = 20)": s_g.to_frame().drop(columns=["warnings"])}
    return Report(name="sensitivity", title=TITLE, papers=PAPERS, checks=tuple(checks), tables=tables,
                  figures=tuple(runs), notes=tuple(notes), settings={"bootstrap": n_boot, "rng": opts.rng})
