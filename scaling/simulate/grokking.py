r"""Grokking: modular addition learned by an MLP with weight decay, long after it is memorised.

Task (Power, Burda, Edwards, Babuschkin & Misra 2022, "Grokking: Generalization Beyond Overfitting on
Small Algorithmic Datasets", arXiv 2201.02177): all pairs ``(a, b)`` of residues mod a prime ``p``
with label ``(a + b) mod p``; a random fraction of the ``p^2`` pairs is the training set, the rest the
test set. Model: one-hidden-layer ReLU MLP on the concatenated one-hot codes of ``a`` and ``b`` (its
first layer is a pair of embedding tables, summed), trained on cross-entropy with AdamW (decoupled
weight decay). As in Liu, Michaud & Tegmark 2022 ("Omnigrok: Grokking Beyond Algorithmic Data",
arXiv 2210.01117) the initialisation is enlarged (``init_scale``): the network first memorises the
training pairs, and weight decay then slowly shrinks the weights towards the norm at which the
generalising solution lies (the weight norm is recorded; in this small, fast run with lr 1e-2 it grows
rather than shrinks, so the figure does not claim that mechanism) — test accuracy jumps long after
training accuracy has saturated. More weight decay or a larger training fraction shortens the delay.

Measured: ``t_train`` = first step with training accuracy >= 99 %, ``t_test`` = first step with test
accuracy >= 90 % (``inf`` if not reached within ``max_steps``), and the ratio ``t_test / t_train``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._common import check, child_seeds, parallel_map, tidy_log_axes
from .engine import Adam, accuracy, cross_entropy, init_mlp, train

TITLE = "Grokking: modular addition with weight decay (Power et al. 2022; Liu et al. 2022)"
PAPERS = ("Power, Burda, Edwards, Babuschkin, Misra 2022, Grokking: Generalization Beyond Overfitting on Small "
          "Algorithmic Datasets, arXiv 2201.02177",
          "Liu, Michaud, Tegmark 2022, Omnigrok: Grokking Beyond Algorithmic Data, arXiv 2210.01117")


@dataclass(frozen=True)
class Config:
    p: int = 97
    width: int = 256
    init_scale: float = 2.0
    lr: float = 1e-2
    batch_size: int = 512
    weight_decay: float = 1.0
    train_fraction: float = 0.4
    max_steps: int = 5000
    eval_every: int = 100
    weight_decays: tuple[float, ...] = (0.3, 1.0)
    train_fractions: tuple[float, ...] = (0.3, 0.4, 0.5)
    train_threshold: float = 0.99
    test_threshold: float = 0.9
    n_jobs: int = 1

    @classmethod
    def quick(cls) -> Config:
        return cls(p=47, width=128, init_scale=1.5, max_steps=2500, eval_every=50, weight_decays=(1.0,),
                   train_fractions=(0.6,), train_fraction=0.6)


def _data(p: int) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.meshgrid(np.arange(p), np.arange(p), indexing="ij")
    X = np.stack([a.ravel(), p + b.ravel()], axis=1)  # positions of the ones of [onehot(a), onehot(b)]
    return X, (a.ravel() + b.ravel()) % p


def run_one(cfg: Config, weight_decay: float, fraction: float, seed: int, full: bool) -> list[dict[str, float]]:
    """Train one model; return its evaluation history (it stops once test accuracy has been >= 99 % for
    5 evaluations, 20 for the ``full`` main run)."""
    s_split, s_init, s_train = child_seeds(seed, 3)
    X, y = _data(cfg.p)
    perm = np.random.default_rng(s_split).permutation(len(y))
    n_train = int(round(fraction * len(y)))
    tr, te = perm[:n_train], perm[n_train:]
    model = init_mlp((2 * cfg.p, cfg.width, cfg.p), s_init, init_scale=cfg.init_scale)
    opt = Adam(model.params, cfg.lr, betas=(0.9, 0.98), weight_decay=weight_decay)
    done = {"n": 0}

    def ev(step: int) -> dict[str, float]:
        out_tr, out_te = model(X[tr]), model(X[te])
        return {"train_loss": cross_entropy(out_tr, y[tr])[0], "loss": cross_entropy(out_te, y[te])[0],
                "train_accuracy": accuracy(out_tr, y[tr]), "test_accuracy": accuracy(out_te, y[te]),
                "weight_norm": float(np.sqrt(sum(float(np.sum(w.astype(float) ** 2)) for w in model.params[::2])))}

    def stop(last: dict[str, float]) -> bool:
        if last["test_accuracy"] >= 0.99:
            done["n"] += 1
        return done["n"] >= (20 if full else 5)

    hist = train(model, X[tr], y[tr], loss=cross_entropy, optimizer=opt, steps=cfg.max_steps,
                 batch_size=cfg.batch_size, rng=s_train, eval_fn=ev, eval_every=cfg.eval_every, stop=stop)
    for h in hist:
        h.update(weight_decay=weight_decay, train_fraction=fraction, n_params=float(model.n_params),
                 n_tokens=float(h["step"] * cfg.batch_size), n_train=float(n_train))
    return hist


def _times(h: pd.DataFrame, cfg: Config) -> tuple[float, float]:
    tr = h.loc[h["train_accuracy"] >= cfg.train_threshold, "step"]
    te = h.loc[h["test_accuracy"] >= cfg.test_threshold, "step"]
    return (float(tr.iloc[0]) if len(tr) else np.inf), (float(te.iloc[0]) if len(te) else np.inf)


def simulate(cfg: Config, rng: int, progress: bool = False) -> pd.DataFrame:
    settings = [(cfg.weight_decay, cfg.train_fraction)]
    settings += [(wd, cfg.train_fraction) for wd in cfg.weight_decays if wd != cfg.weight_decay]
    settings += [(cfg.weight_decay, f) for f in cfg.train_fractions if f != cfg.train_fraction]
    seed = child_seeds(rng, 1)[0]  # one split and initialisation for all settings: only wd/fraction differ
    jobs = [(cfg, wd, f, seed, i == 0) for i, (wd, f) in enumerate(settings)]
    if progress:
        from tqdm import tqdm

        jobs_iter = list(tqdm(jobs, desc="grokking runs", file=__import__("sys").stderr, leave=False))
    else:
        jobs_iter = jobs
    hists = parallel_map(run_one, jobs_iter, cfg.n_jobs)
    rows = []
    for i, h in enumerate(hists):
        for r in h:
            rows.append({"run": i, "main": i == 0, **r})
    return pd.DataFrame(rows)


def analyse(df: pd.DataFrame, cfg: Config) -> tuple[pd.DataFrame, dict[str, Any], list[dict[str, Any]], list[str]]:
    delays = []
    for run, h in df.groupby("run"):
        t_tr, t_te = _times(h, cfg)
        delays.append({"run": int(run), "weight_decay": float(h.weight_decay.iloc[0]),
                       "train_fraction": float(h.train_fraction.iloc[0]), "t_train": t_tr, "t_test": t_te,
                       "delay": t_te - t_tr, "ratio": t_te / t_tr if np.isfinite(t_tr) else np.nan,
                       "final_test_accuracy": float(h.test_accuracy.iloc[-1])})
    dl = pd.DataFrame(delays)
    main = dl.iloc[0]
    by_wd = dl[dl.train_fraction == cfg.train_fraction].sort_values("weight_decay")
    by_f = dl[dl.weight_decay == cfg.weight_decay].sort_values("train_fraction")

    def falling(d: pd.DataFrame) -> bool:
        v = d["t_test"].to_numpy(float)
        return bool(len(v) >= 2 and np.all(np.diff(v) <= 0) and v[-1] < v[0])

    checks = [
        check("training accuracy saturates", np.isfinite(main.t_train),
              f"train accuracy >= {cfg.train_threshold:.0%} at step {main.t_train:g}"),
        check("test accuracy jumps several (>= 3) times later than training accuracy saturates",
              bool(np.isfinite(main.t_test) and main.ratio >= 3.0),
              f"test accuracy >= {cfg.test_threshold:.0%} at step {main.t_test:g}: {main.ratio:.1f} x later"),
    ]
    if len(by_wd) >= 2:
        checks.append(check("more weight decay shortens the delay", falling(by_wd),
                            ", ".join(f"wd {r.weight_decay:g}: t_test {r.t_test:g}" for r in by_wd.itertuples())))
    if len(by_f) >= 2:
        checks.append(check("a larger training fraction shortens the delay", falling(by_f),
                            ", ".join(f"fraction {r.train_fraction:g}: t_test {r.t_test:g}"
                                      for r in by_f.itertuples())))
    findings = {"t_train": main.t_train, "t_test": main.t_test, "ratio": main.ratio,
                "delays": dl.to_dict(orient="records")}
    notes = [
        f"Modular addition mod {cfg.p}; {cfg.train_fraction:.0%} of the {cfg.p ** 2} pairs train the model (main run). "
        f"One-hidden-layer ReLU MLP, width {cfg.width}, embeddings of a and b summed in the first layer, init scale "
        f"{cfg.init_scale:g}; AdamW lr {cfg.lr:g}, betas (0.9, 0.98), weight decay {cfg.weight_decay:g}, minibatches "
        f"of {cfg.batch_size}; at most {cfg.max_steps} steps; the same split and initialisation for every setting.",
        f"t_train: first evaluation (every {cfg.eval_every} steps) with train accuracy >= {cfg.train_threshold:.0%}; "
        f"t_test: with test accuracy >= {cfg.test_threshold:.0%} (inf = not within {cfg.max_steps} steps). "
        "Runs stop once test accuracy has been >= 99% for 5 evaluations (20 for the main run).",
    ]
    return dl, findings, checks, notes


def plot(df: pd.DataFrame, dl: pd.DataFrame, cfg: Config, out: Path, formats: tuple[str, ...]) -> list[Path]:
    import matplotlib.pyplot as plt

    from ..plot import save_figure

    fig, axes = plt.subplots(2, 2, figsize=(12, 9), constrained_layout=True)
    df = df[df["step"] > 0]  # log step axes
    h = df[df["run"] == 0]
    main = dl.iloc[0]
    ax = axes[0, 0]
    ax.plot(h.step, h.train_accuracy, color="C0", lw=2, label="train accuracy")
    ax.plot(h.step, h.test_accuracy, color="C3", lw=2, label="test accuracy")
    for t, c, lab, yy, dx, ha in ((main.t_train, "C0", "train >= 99%", 0.62, -4, "right"),
                                  (main.t_test, "C3", "test >= 90%", 0.38, 4, "left")):
        if np.isfinite(t):
            ax.axvline(t, color=c, ls=":", lw=1.2)
            ax.annotate(f"{lab}\nstep {t:g}", (t, yy), xytext=(dx, 0), textcoords="offset points", color=c,
                        fontsize=9, ha=ha)
    ax.set_xscale("log")
    ax.set_xlabel("optimisation step")
    ax.set_ylabel("accuracy")
    ax.set_ylim(-0.02, 1.02)
    ax.set_title(f"(a+b) mod {cfg.p}: memorised at step {main.t_train:g}, generalises at {main.t_test:g} "
                 f"({main.ratio:.1f}x later)", fontsize=10)
    ax.legend(loc="upper left")

    ax = axes[0, 1]
    ax.plot(h.step, h.train_loss, color="C0", label="train loss")
    ax.plot(h.step, h.loss, color="C3", label="test loss")
    ax.set_yscale("log")
    ax.set_xscale("log")
    ax.set_xlabel("optimisation step")
    ax.set_ylabel("cross-entropy (nats)")
    ax2 = ax.twinx()
    ax2.plot(h.step, h.weight_norm, color="0.4", ls="--", label="weight norm")
    ax2.set_ylabel("weight norm ||W|| (weight matrices)", color="0.4")
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, loc="lower left")
    ax.set_title("The train loss falls first, the test loss only after memorisation", fontsize=10)

    for ax, key, label in ((axes[1, 0], "weight_decay", "weight decay"),
                           (axes[1, 1], "train_fraction", "training fraction")):
        other = "train_fraction" if key == "weight_decay" else "weight_decay"
        fixed = cfg.train_fraction if key == "weight_decay" else cfg.weight_decay
        sub = dl[dl[other] == fixed].sort_values(key)
        cmap = plt.get_cmap("plasma")
        for i, r in enumerate(sub.itertuples()):
            hh = df[df["run"] == r.run]
            ax.plot(hh.step, hh.test_accuracy, color=cmap(i / max(1, len(sub))), lw=1.8,
                    label=f"{label} {getattr(r, key):g}: test >= {cfg.test_threshold:.0%} at "
                          + (f"{r.t_test:g}" if np.isfinite(r.t_test) else f"> {cfg.max_steps}"))
            ax.plot(hh.step, hh.train_accuracy, color=cmap(i / max(1, len(sub))), lw=0.8, ls=":")
        ax.set_xscale("log")
        ax.set_xlabel("optimisation step")
        ax.set_ylabel("test accuracy (solid), train accuracy (dotted)")
        ax.set_ylim(-0.02, 1.02)
        ax.set_title(f"Delay against {label} ({other.replace('_', ' ')} {fixed:g})", fontsize=10)
        ax.legend(loc="upper left", fontsize=8.5)
    fig.suptitle("Grokking: training accuracy saturates long before test accuracy jumps", fontsize=12)
    tidy_log_axes(fig)
    return save_figure(fig, out / "grokking", formats)


def run(out: Path, *, quick: bool, rng: int, progress: bool, formats: tuple[str, ...], n_jobs: int = 1,
        config: Config | None = None) -> tuple[dict[str, pd.DataFrame], dict[str, Any], list[Path]]:
    cfg = config or (Config.quick() if quick else Config())
    if n_jobs != cfg.n_jobs:
        from dataclasses import replace

        cfg = replace(cfg, n_jobs=n_jobs)
    df = simulate(cfg, rng, progress)
    dl, findings, checks, notes = analyse(df, cfg)
    figs = plot(df, dl, cfg, out, formats)
    cols = ["run", "main", "weight_decay", "train_fraction", "step", "n_params", "n_tokens", "loss", "train_loss",
            "train_accuracy", "test_accuracy", "weight_norm", "n_train"]
    settings = {k: v for k, v in asdict(cfg).items() if k != "n_jobs"}
    report = {"settings": settings, "findings": findings, "checks": checks, "notes": notes, "papers": list(PAPERS)}
    # the evaluation before the first step (0 samples seen) is in the figure, not in the RunTable-compatible table
    curves = df.loc[df["step"] > 0, cols].reset_index(drop=True)
    return {"training curves": curves, "delays": dl}, report, figs
