r"""Deep double descent: MLPs of growing width on a small classification set with label noise.

Setting (after Nakkiran, Kaplun, Bansal, Yang, Barak & Sutskever 2019, "Deep Double Descent", arXiv
1912.02292, and Belkin, Hsu, Ma & Mandal 2019, arXiv 1812.11118): ``n_train`` Gaussian inputs in
``input_dim`` dimensions, ``n_classes`` classes given by a random linear teacher
(``y = argmax_c x^T w_c``); a fraction ``label_noise`` of the *training* labels is replaced by a
uniformly random class (the test labels are clean). One-hidden-layer ReLU MLPs of growing width are
trained full-batch with Adam on the squared loss against one-hot targets, without regularisation or
early stopping, for a fixed number of steps. The interpolation threshold — where the network has just
enough parameters to fit all ``n_train * n_classes`` targets — is at ``n_params ~ n_train * n_classes``
(Belkin et al. 2019); the test error peaks there, falls again for wider networks, and the peak grows
with label noise. Epoch-wise: at a fixed large width, test error against training steps.

The random-features theory of :mod:`scaling.doubledescent` (min-norm ReLU random features, and Hastie et
al.'s closed-form risk of ridgeless least squares against ``p/n``) is drawn alongside on the same
normalised axis (parameters per fitted constraint). The peak is located with
:func:`scaling.diagnostics.find_peak`, and the highest-noise curve is fitted by a two-break BNSL
(``get_law("bnsl", n_breaks=2, variable="n_params", c_max=5)``); fitting the monotone power law to it
raises ``NonMonotoneWarning``.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._common import check, child_seeds, parallel_map, tidy_log_axes
from .engine import Adam, accuracy, init_mlp, mse, one_hot, train

TITLE = "Deep double descent: MLP width, training time and label noise (Nakkiran et al. 2019)"
PAPERS = ("Nakkiran, Kaplun, Bansal, Yang, Barak, Sutskever 2019, Deep Double Descent: Where Bigger Models and More "
          "Data Hurt, arXiv 1912.02292",
          "Belkin, Hsu, Ma, Mandal 2019, Reconciling modern machine learning practice and the bias-variance trade-off, "
          "arXiv 1812.11118",
          "Hastie, Montanari, Rosset, Tibshirani 2019, Surprises in High-Dimensional Ridgeless Least Squares "
          "Interpolation, arXiv 1903.08560",
          "Caballero, Gupta, Rish, Krueger 2022, Broken Neural Scaling Laws, arXiv 2210.14891")


@dataclass(frozen=True)
class Config:
    n_train: int = 200
    n_test: int = 4000
    input_dim: int = 16
    n_classes: int = 4
    widths: tuple[int, ...] = (2, 4, 6, 8, 12, 16, 24, 32, 40, 48, 64, 96, 128, 256)
    label_noises: tuple[float, ...] = (0.0, 0.15, 0.3)
    n_seeds: int = 2
    steps: int = 4000
    lr: float = 3e-3
    epoch_width: int = 256
    epoch_steps: int = 12000
    rf_reps: int = 20
    n_jobs: int = 1

    @classmethod
    def quick(cls) -> Config:
        return cls(n_train=100, n_test=1000, input_dim=12, n_classes=3,
                   widths=(2, 4, 8, 12, 16, 24, 32, 64, 128), label_noises=(0.0, 0.3), n_seeds=1,
                   steps=2000, epoch_width=128, epoch_steps=1000, rf_reps=10)

    @property
    def threshold(self) -> float:
        """Interpolation threshold in parameters: samples x classes."""
        return float(self.n_train * self.n_classes)


def _task(cfg: Config, rng: int) -> tuple[np.ndarray, ...]:
    s_teacher, s_train, s_test = child_seeds(rng, 3)
    W = np.random.default_rng(s_teacher).standard_normal((cfg.input_dim, cfg.n_classes))

    def draw(seed: int, m: int) -> tuple[np.ndarray, np.ndarray]:
        X = np.random.default_rng(seed).standard_normal((m, cfg.input_dim)).astype(np.float32)
        return X, (X @ W).argmax(axis=1)

    X, y = draw(s_train, cfg.n_train)
    Xt, yt = draw(s_test, cfg.n_test)
    return X, y, Xt, yt


def _noisy(y: np.ndarray, noise: float, n_classes: int, seed: int) -> np.ndarray:
    gen = np.random.default_rng(seed)
    flip = gen.random(len(y)) < noise
    out = y.copy()
    out[flip] = gen.integers(0, n_classes, int(flip.sum()))
    return out


def run_one(cfg: Config, width: int, noise: float, seed: int, task_seed: int,
            eval_steps: tuple[int, ...] | None = None) -> dict[str, Any]:
    """Train one MLP; return its final metrics (and the test-error history at ``eval_steps``)."""
    X, y, Xt, yt = _task(cfg, task_seed)
    s_noise, s_init = child_seeds(seed, 2)
    yn = _noisy(y, noise, cfg.n_classes, s_noise)
    Y = one_hot(yn, cfg.n_classes)
    Yt = one_hot(yt, cfg.n_classes)
    model = init_mlp((cfg.input_dim, width, cfg.n_classes), s_init)
    opt = Adam(model.params, cfg.lr)

    def ev(step: int) -> dict[str, float]:
        out_t = model(Xt)
        out = model(X)
        return {"test_error": 1.0 - accuracy(out_t, yt), "test_mse": mse(out_t, Yt)[0],
                "train_error": 1.0 - accuracy(out, yn), "train_mse": mse(out, Y)[0]}

    steps = max(eval_steps) if eval_steps else cfg.steps
    hist = train(model, X, Y, loss=mse, optimizer=opt, steps=steps, eval_fn=ev,
                 eval_steps=eval_steps if eval_steps else (steps,))
    last = hist[-1]
    return {"width": width, "label_noise": noise, "seed": seed, "n_params": float(model.n_params),
            "n_tokens": float(steps * cfg.n_train), **{k: v for k, v in last.items() if k != "step"},
            "history": hist if eval_steps else None}


def simulate(cfg: Config, rng: int, progress: bool = False) -> dict[str, pd.DataFrame]:
    s_task, s_runs, s_epoch = child_seeds(rng, 3)
    seeds = child_seeds(s_runs, cfg.n_seeds)
    jobs: list[tuple[Any, ...]] = [(cfg, w, eta, s, s_task) for eta in cfg.label_noises for w in cfg.widths
                                   for s in seeds]
    eval_steps = tuple(sorted({int(v) for v in np.unique(np.geomspace(1, cfg.epoch_steps, 60).round())}))
    noise_epoch = max(cfg.label_noises)
    jobs.append((cfg, cfg.epoch_width, noise_epoch, s_epoch, s_task, eval_steps))
    if progress:
        from tqdm import tqdm

        jobs = list(tqdm(jobs, desc="double-descent runs", file=__import__("sys").stderr, leave=False))
    res = parallel_map(run_one, jobs, cfg.n_jobs)
    epoch = res.pop()
    runs = pd.DataFrame([{k: v for k, v in r.items() if k != "history"} for r in res])
    runs.insert(0, "group", [f"noise {v:g}" for v in runs["label_noise"]])
    runs["loss"] = runs["test_error"]  # the RunTable's loss: test error (clean labels)
    g = runs.groupby(["label_noise", "width"], sort=True)
    table = g.agg(n_params=("n_params", "first"), n_tokens=("n_tokens", "first"), loss=("test_error", "mean"),
                  test_mse=("test_mse", "mean"), train_error=("train_error", "mean"), train_mse=("train_mse", "mean"),
                  n_seeds=("seed", "size")).reset_index()
    se = g["test_error"].std(ddof=1).reset_index(drop=True) / np.sqrt(table["n_seeds"])
    # a single seed: binomial standard error of the test error over the test set
    binom = np.sqrt(table["loss"] * (1 - table["loss"]) / cfg.n_test)
    table["loss_se"] = np.where(table["n_seeds"] > 1, np.sqrt(se.fillna(0) ** 2 + binom ** 2), binom)
    table["params_per_constraint"] = table["n_params"] / cfg.threshold
    table["n_train"] = cfg.n_train
    table.insert(0, "group", [f"noise {v:g}" for v in table["label_noise"]])
    ep = pd.DataFrame(epoch["history"])
    ep = ep[ep["step"] >= 1].reset_index(drop=True)  # the evaluation before training has no place on a log axis
    ep.insert(0, "width", cfg.epoch_width)
    ep.insert(1, "label_noise", noise_epoch)
    ep["n_params"] = epoch["n_params"]
    ep["n_tokens"] = ep["step"] * cfg.n_train
    ep["loss"] = ep["test_error"]
    return {"model-wise": table, "epoch-wise": ep, "runs": runs}


def _theory(cfg: Config, rng: int) -> pd.DataFrame:
    from ..doubledescent import excess_risk_asymptotic, simulate_random_features

    gam = np.array([0.1, 0.2, 0.35, 0.5, 0.65, 0.8, 0.9, 1.1, 1.25, 1.5, 2.0, 3.0, 5.0, 8.0])
    n = cfg.n_train
    p = np.round(gam * n).astype(int)
    rf = simulate_random_features(n, p, input_dim=cfg.input_dim, r2=1.0, sigma2=0.25, n_reps=cfg.rf_reps,
                                  n_test=500, rng=rng).to_frame()
    gg = np.geomspace(0.05, 10, 400)
    return pd.concat([
        pd.DataFrame({"model": "random features (Monte Carlo)", "gamma": rf["gamma"], "risk": rf["excess_risk_mean"],
                      "risk_se": rf["excess_risk_se"]}),
        pd.DataFrame({"model": "ridgeless least squares (Hastie et al., asymptotic)", "gamma": gg,
                      "risk": np.asarray(excess_risk_asymptotic(gg, r2=1.0, sigma2=0.25), float), "risk_se": np.nan}),
    ], ignore_index=True)


def analyse(tables: dict[str, pd.DataFrame], cfg: Config, rng: int) -> tuple[dict[str, Any], list[dict[str, Any]],
                                                                              list[str], dict[str, Any]]:
    from .. import fit, get_law, read_table
    from ..diagnostics import find_peak
    from ..errors import NonMonotoneWarning, ScalingWarning

    mw = tables["model-wise"]

    def ratio(pk: Any) -> float:
        return float(pk.x_peak) / cfg.threshold if (pk.found and pk.x_peak is not None) else float("nan")

    peaks = {}
    for eta, g in mw.groupby("label_noise"):
        g = g.sort_values("n_params")
        pk = find_peak(g["n_params"].to_numpy(float), g["loss"].to_numpy(float), g["loss_se"].to_numpy(float),
                       y_scale="linear", min_z=2.0, rng=rng)
        peaks[float(eta)] = pk
    noisy = [e for e in peaks if e > 0]
    rows = []
    for e, pk in peaks.items():
        rows.append({"label_noise": e, "found": pk.found, "x_peak": pk.x_peak, "x_lower": pk.x_peak_lower,
                     "x_upper": pk.x_peak_upper, "peak_over_threshold": ratio(pk),
                     "height": pk.y_peak, "prominence": pk.prominence, "prominence_z": pk.prominence_z,
                     "y_second_min": pk.y_second_min, "y_first_min": pk.y_first_min})
    peak_table = pd.DataFrame(rows)
    # the highest-noise curve: monotone law (warns) and a 2-break BNSL
    emax = max(cfg.label_noises)
    g = mw[mw.label_noise == emax].sort_values("n_params")
    table = read_table(g[["n_params", "n_tokens", "loss"]], name=f"deep double descent, label noise {emax:g}",
                       check_units=False)  # tiny networks, not language-model runs
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ScalingWarning)
        mono = fit(table, get_law("powerlaw", variable="n_params"))
    mono_warned = any(issubclass(w.category, NonMonotoneWarning) for w in caught)
    with warnings.catch_warnings(record=True) as caught_b:
        warnings.simplefilter("always", ScalingWarning)
        bnsl = fit(table, get_law("bnsl", n_breaks=2, variable="n_params", c_max=5.0))
    xs = np.geomspace(g.n_params.min(), g.n_params.max(), 800)
    bpk = find_peak(xs, np.asarray(bnsl.predict(xs), float), y_scale="linear")
    ep = tables["epoch-wise"]
    late = ep[ep["step"] >= 10]  # skip the first steps' transient from the random initialisation
    e = late["test_error"].to_numpy(float)
    epk = find_peak(late["step"].to_numpy(float), e, np.sqrt(np.clip(e * (1 - e), 1e-6, None) / cfg.n_test),
                    y_scale="linear", min_z=2.0, rng=rng)  # binomial errors: a wiggle is not a peak
    i_min = int(ep["test_error"].to_numpy().argmin())

    in_factor = [e for e in noisy if 0.5 <= ratio(peaks[e]) <= 2.0]
    heights = [(e, peaks[e].y_peak if peaks[e].found else None) for e in sorted(peaks)]
    hv = [h for _, h in heights]
    grows = all(h is not None for h in hv[1:]) and all(
        (a is None or (b is not None and b > a)) for a, b in zip(hv[:-1], hv[1:]))
    checks = [
        check("a test-error peak near the interpolation threshold (within a factor 2 of samples x classes)",
              len(in_factor) == len(noisy) and len(noisy) > 0,
              "; ".join(f"noise {e:g}: peak at N = {ratio(peaks[e]) * cfg.threshold:,.0f} = {ratio(peaks[e]):.2f} x "
                        f"{cfg.threshold:,.0f}" if peaks[e].found else f"noise {e:g}: no significant peak"
                        for e in sorted(peaks))),
        check("the peak grows with label noise", grows,
              ", ".join(f"noise {e:g}: {h:.3f}" if h is not None else f"noise {e:g}: none" for e, h in heights)),
        check("NonMonotoneWarning when a monotone power law is fitted to the curve", mono_warned,
              f"law 'powerlaw' on the noise-{emax:g} curve: " + ("warned" if mono_warned else
              "no warning: the bump stands less than 3 noise units above its base by the detector's own noise "
              "estimate (scaling.estimation.fitting._non_monotone); find_peak with the seeds' standard errors finds "
              "it (see 'peaks')")),
        check("the 2-break BNSL places its peak within a factor 2 of the threshold",
              bool(0.5 <= ratio(bpk) <= 2.0),
              f"BNSL peak at N = {bpk.x_peak:,.0f}" if bpk.found else "the BNSL fit has no interior peak"),
    ]
    findings = {"threshold_params": cfg.threshold, "peaks": peak_table.to_dict(orient="records"),
                "bnsl_params": {k: float(v) for k, v in bnsl.params.items()}, "bnsl_peak_params": bpk.x_peak,
                "powerlaw_objective": float(mono.objective), "bnsl_objective": float(bnsl.objective),
                "epoch_wise_peak_step": epk.x_peak if epk.found else None,
                "epoch_wise_peak_error": epk.y_peak if epk.found else None,
                "epoch_wise_final_error": float(ep["test_error"].iloc[-1]),
                "epoch_wise_min_error": float(ep["test_error"].iloc[i_min]),
                "epoch_wise_min_step": float(ep["step"].iloc[i_min]),
                "bnsl_warnings": sorted({type(w.message).__name__ for w in caught_b})}
    notes = [
        f"{cfg.n_train} training samples, {cfg.input_dim}-dimensional Gaussian inputs, {cfg.n_classes} classes from a "
        f"random linear teacher; label noise on the training labels only; {cfg.n_test} clean test samples. "
        f"One-hidden-layer ReLU MLPs, full-batch Adam (lr {cfg.lr:g}) on the squared loss to one-hot targets, "
        f"{cfg.steps} steps, no regularisation; {cfg.n_seeds} seed(s) per point (label noise and initialisation).",
        f"Interpolation threshold: n_params = samples x classes = {cfg.threshold:,.0f}.",
        "Random-features theory: min-norm ReLU random features (Monte Carlo) and Hastie et al.'s asymptotic risk of "
        "ridgeless least squares (r2 = 1, sigma2 = 0.25), both against p/n; the MLP against n_params / (n x K).",
        f"Epoch-wise: width {cfg.epoch_width}, label noise {emax:g}: lowest test error "
        f"{findings['epoch_wise_min_error']:.3f} at step {findings['epoch_wise_min_step']:.0f} (where early stopping "
        f"would stop), final {findings['epoch_wise_final_error']:.3f}"
        + (f"; a significant peak (after step 10) at step {epk.x_peak:.0f}, error {epk.y_peak:.3f}." if epk.found
           else "; no significant interior peak after step 10 (the rise after the minimum is the fit of the noisy "
                "labels)."),
    ]
    return findings, checks, notes, {"peaks": peaks, "peak_table": peak_table, "mono": mono, "bnsl": bnsl,
                                     "mono_warned": mono_warned,
                                     "bnsl_peak": bpk, "epoch_peak": epk}


def plot(tables: dict[str, pd.DataFrame], theory: pd.DataFrame, extra: dict[str, Any], cfg: Config, out: Path,
         formats: tuple[str, ...]) -> list[Path]:
    import matplotlib.pyplot as plt

    from ..plot import save_figure

    mw, ep = tables["model-wise"], tables["epoch-wise"]
    fig, axes = plt.subplots(2, 2, figsize=(12, 9.5), constrained_layout=True)
    cmap = plt.get_cmap("magma")
    noises = sorted(mw.label_noise.unique())
    ax = axes[0, 0]
    for i, eta in enumerate(noises):
        g = mw[mw.label_noise == eta].sort_values("n_params")
        c = cmap(0.15 + 0.7 * i / max(1, len(noises) - 1))
        ax.errorbar(g.n_params, g.loss, yerr=g.loss_se, fmt="o-", ms=4, color=c, capsize=2,
                    label=f"label noise {eta:.0%}")
        pk = extra["peaks"][eta]
        if pk.found:
            ax.plot([pk.x_peak], [pk.y_peak], marker="v", ms=11, color=c, mec="k")
    ax.axvline(cfg.threshold, color="0.3", ls="--", lw=1.2)
    ax.axvspan(cfg.threshold / 2, cfg.threshold * 2, color="0.85", alpha=0.5, lw=0)
    ax.annotate(f"samples x classes = {cfg.threshold:,.0f}", (cfg.threshold, ax.get_ylim()[0]), xytext=(4, 6),
                textcoords="offset points", fontsize=8.5)
    ax.set_xscale("log")
    ax.set_xlabel("parameters N of the MLP")
    ax.set_ylabel("test error (clean labels)")
    ax.set_title("Model-wise double descent (triangles: find_peak; band: factor 2)", fontsize=10)
    ax.legend(fontsize=8.5)

    ax = axes[0, 1]
    emax = max(noises)
    g = mw[mw.label_noise == emax].sort_values("n_params")
    ax.errorbar(g.n_params, g.loss, yerr=g.loss_se, fmt="o", color="k", ms=4, capsize=2,
                label=f"MLP test error, noise {emax:.0%}")
    xs = np.geomspace(g.n_params.min(), g.n_params.max(), 400)
    ax.plot(xs, extra["bnsl"].predict(xs), "-", color="C0", lw=2, label="BNSL fit, 2 breaks")
    ax.plot(xs, extra["mono"].predict(xs), "--", color="C3", lw=1.5,
            label="power law with offset (monotone" + (": NonMonotoneWarning)" if extra["mono_warned"] else ")"))
    ax.axvline(cfg.threshold, color="0.3", ls="--", lw=1.2)
    ax.set_xscale("log")
    ax.set_xlabel("parameters N")
    ax.set_ylabel("test error")
    ax.set_title("The toolkit's fits: BNSL follows the bump, a monotone law cannot", fontsize=10)
    ax.legend(fontsize=8.5)

    ax = axes[1, 0]
    for i, eta in enumerate(noises):
        g = mw[mw.label_noise == eta].sort_values("n_params")
        c = cmap(0.15 + 0.7 * i / max(1, len(noises) - 1))
        ax.plot(g.params_per_constraint, g.test_mse, "o-", ms=3.5, color=c, label=f"MLP test MSE, noise {eta:.0%}")
    ax.set_xscale("log")
    ax.set_xlabel("N / (samples x classes) for the MLP;  p / n for the theory")
    ax.set_ylabel("MLP test MSE (one-hot targets)")
    ax2 = ax.twinx()
    rf = theory[theory.model.str.startswith("random")]
    hs = theory[theory.model.str.startswith("ridgeless")]
    ax2.errorbar(rf.gamma, rf.risk, yerr=rf.risk_se, fmt="s", mfc="none", color="C2", ms=5, capsize=2,
                 label="random features, min-norm (Monte Carlo)")
    ax2.plot(hs.gamma, hs.risk, "-", color="C2", lw=1.2, label="ridgeless least squares, Hastie et al. (theory)")
    ax2.set_yscale("log")
    ax2.set_ylim(top=min(100.0, float(np.nanmax(rf.risk)) * 3))
    ax2.set_ylabel("theory: excess risk (sigma2 = 0.25)", color="C2")
    ax2.tick_params(axis="y", colors="C2")
    ax.axvline(1.0, color="0.3", ls="--", lw=1.2)
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, fontsize=7.5, loc="lower left")
    ax.set_title("Same peak as the random-features theory, at one parameter per constraint", fontsize=10)

    ax = axes[1, 1]
    ax.plot(ep.step, ep.test_error, "-", color="C3", lw=2, label="test error")
    ax.plot(ep.step, ep.train_error, "-", color="C0", lw=1.5, label="train error (noisy labels)")
    epk = extra["epoch_peak"]
    if epk.found:
        ax.plot([epk.x_peak], [epk.y_peak], "v", ms=11, color="C3", mec="k")
    ax.set_xscale("log")
    ax.set_xlabel("training step (full batch: one epoch per step)")
    ax.set_ylabel("error")
    ax.set_title(f"Epoch-wise: width {cfg.epoch_width} (N = {int(ep.n_params.iloc[0]):,}), label noise "
                 f"{max(noises):.0%}", fontsize=10)
    ax.legend(fontsize=8.5)
    fig.suptitle(f"Deep double descent: {cfg.n_train} samples, {cfg.n_classes} classes, MLPs of growing width",
                 fontsize=12)
    tidy_log_axes(fig)
    return save_figure(fig, out / "deep_double_descent", formats)


def run(out: Path, *, quick: bool, rng: int, progress: bool, formats: tuple[str, ...], n_jobs: int = 1,
        config: Config | None = None) -> tuple[dict[str, pd.DataFrame], dict[str, Any], list[Path]]:
    cfg = config or (Config.quick() if quick else Config())
    cfg = replace(cfg, n_jobs=n_jobs)
    tables = simulate(cfg, rng, progress)
    theory = _theory(cfg, child_seeds(rng, 4)[3])
    findings, checks, notes, extra = analyse(tables, cfg, rng)
    figs = plot(tables, theory, extra, cfg, out, formats)
    settings = {k: v for k, v in asdict(cfg).items() if k != "n_jobs"}
    report = {"settings": settings, "findings": findings, "checks": checks, "notes": notes, "papers": list(PAPERS)}
    tables = dict(tables, peaks=extra["peak_table"], theory=theory)
    return tables, report, figs
