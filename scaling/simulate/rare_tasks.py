r"""Rare tasks, the quantization model and gradient interference: multitask sparse parity.

Task (Michaud, Liu, Girit & Tegmark 2023, "The Quantization Model of Neural Scaling", arXiv
2303.13506, Sec. 3): ``n_tasks`` sparse-parity subtasks on ``n_bits`` random bits. Subtask ``k`` has its
own fixed subset ``S_k`` of ``k_bits`` bit positions and label ``sum(x[S_k]) mod 2``; the input is a
one-hot code of the subtask ("control bits") followed by the bits. Subtask ``k`` (rank ``k = 1, 2, ...``)
is drawn with Zipf probability :math:`p_k \propto k^{-(\alpha+1)}`.

The quantization model's prediction (Michaud et al. 2023, Sec. 2; REFERENCE §12): if the model learns
subtasks ("quanta") in order of frequency, the number it learns grows in proportion to its parameters
``N``, and an unlearned subtask costs a fixed loss (``ln 2`` here), then the mean loss is
:math:`L(N) - L_\infty \propto \sum_{k > n(N)} p_k \propto N^{-\alpha}` — the parameter-scaling exponent
equals the Zipf exponent minus one, :math:`\alpha_N = \alpha` (data scaling: :math:`\alpha/(\alpha+1)`).
We fit :math:`L = E + A N^{-\alpha_N}` (law ``"powerlaw"``) to the width sweep and compare. Two
departures of a laptop-sized run from the model's assumptions are *measured* and reported rather than
hidden: the number of learned subtasks ``n(N)`` grows like :math:`N^{\beta}` with :math:`\beta` below 1
at a fixed training budget (larger networks also learn faster), which predicts :math:`\alpha\beta`, and
the finite number of subtasks truncates the Zipf tail (steepening the largest widths).

Interference (after "Why Larger Models Learn More: Effects of Capacity, Interference, and Rare-Task
Retention", arXiv 2605.29548): at the end of training, per-subtask gradients ``g_k`` (mean loss over
fresh samples of subtask ``k``) give (i) the mean absolute cosine similarity between the gradients of
frequent subtasks (ranks 1-4) and of rarer ones, and (ii) the rise of the rare subtasks' loss after a
fixed budget of SGD steps on the frequent subtasks only (how much an update for frequent tasks
overwrites rare-task knowledge). Both fall with width.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._common import check, child_seeds, parallel_map, tidy_log_axes
from .engine import SGD, Adam, cross_entropy, init_mlp, per_example_cross_entropy, train

TITLE = "Rare tasks: multitask sparse parity, the quantization model and gradient interference"
PAPERS = ("Michaud, Liu, Girit, Tegmark 2023, The Quantization Model of Neural Scaling, arXiv 2303.13506",
          "Why Larger Models Learn More: Effects of Capacity, Interference, and Rare-Task Retention, arXiv 2605.29548")
LN2 = math.log(2.0)


@dataclass(frozen=True)
class Config:
    n_tasks: int = 64
    n_bits: int = 16
    k_bits: int = 2
    alpha: float = 1.0             # Zipf: p_k ~ k^-(alpha + 1)
    widths: tuple[int, ...] = (4, 6, 8, 11, 16, 23, 32, 45, 64, 90, 128)
    steps: int = 6000
    batch_size: int = 256
    lr: float = 3e-3
    data_width: int = 128
    data_sizes: tuple[int, ...] = (1000, 2000, 4000, 8000, 16000, 32000, 64000)
    test_per_task: int = 400
    learned_acc: float = 0.9       # a subtask counts as learned above this test accuracy
    n_frequent: int = 4            # ranks 1..n_frequent are "frequent" for the interference measures
    interference_steps: int = 50
    interference_lr: float = 0.1
    bootstrap: int = 200

    @classmethod
    def quick(cls) -> Config:
        return cls(n_tasks=20, widths=(4, 8, 16, 32, 64), steps=2000, data_width=32,
                   data_sizes=(1000, 8000), test_per_task=200, bootstrap=100)


class SparseParity:
    """Multitask sparse parity with Zipf subtask frequencies (subsets drawn from ``rng``)."""

    def __init__(self, cfg: Config, rng: int) -> None:
        gen = np.random.default_rng(rng)
        subsets: list[tuple[int, ...]] = []
        while len(subsets) < cfg.n_tasks:
            s = tuple(sorted(int(i) for i in gen.choice(cfg.n_bits, cfg.k_bits, replace=False)))
            if s not in subsets:
                subsets.append(s)
        self.cfg = cfg
        self.subsets = np.array(subsets)
        p = np.arange(1, cfg.n_tasks + 1, dtype=float) ** -(cfg.alpha + 1.0)
        self.p = p / p.sum()
        self.n_in = cfg.n_tasks + cfg.n_bits

    def sample(self, gen: np.random.Generator, m: int,
               tasks: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        cfg = self.cfg
        t = gen.choice(cfg.n_tasks, m, p=self.p) if tasks is None else np.asarray(tasks)
        bits = gen.integers(0, 2, (m, cfg.n_bits))
        y = bits[np.arange(m)[:, None], self.subsets[t]].sum(axis=1) % 2
        X = np.zeros((m, self.n_in), np.float32)
        X[np.arange(m), t] = 1.0
        X[:, cfg.n_tasks:] = bits
        return X, y

    def sample_from(self, gen: np.random.Generator, m: int, ranks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``m`` samples of the given subtasks (0-based ranks), with their relative Zipf frequencies."""
        q = self.p[ranks] / self.p[ranks].sum()
        return self.sample(gen, m, ranks[gen.choice(len(ranks), m, p=q)])


def _per_task(model: Any, Xt: np.ndarray, yt: np.ndarray, n_tasks: int) -> tuple[np.ndarray, np.ndarray]:
    out = model(Xt)
    loss = per_example_cross_entropy(out, yt).reshape(n_tasks, -1).mean(axis=1)
    acc = (out.argmax(axis=1) == yt).reshape(n_tasks, -1).mean(axis=1)
    return loss.astype(float), acc.astype(float)


def _interference(model: Any, task: SparseParity, gen: np.random.Generator, cfg: Config) -> dict[str, float]:
    T = cfg.n_tasks
    freq = np.arange(cfg.n_frequent)
    rare = np.arange(cfg.n_frequent, T)
    grads = []
    for k in range(T):
        X, y = task.sample(gen, 512, np.full(512, k))
        out, cache = model.forward(X)
        _, d = cross_entropy(out, y)
        grads.append(model.flat_grad(model.backward(cache, d)))
    G = np.stack(grads).astype(float)
    G /= np.linalg.norm(G, axis=1, keepdims=True) + 1e-30
    C = G @ G.T
    cos_fr = float(np.mean(np.abs(C[np.ix_(freq, rare)])))
    iu = np.triu_indices(T, 1)
    cos_all = float(np.mean(np.abs(C[iu])))
    # forgetting: SGD on frequent subtasks only; loss change of the rare ones
    Xt, yt = task.sample(gen, T * 200, np.repeat(np.arange(T), 200))
    l0, a0 = _per_task(model, Xt, yt, T)
    m2 = model.copy()
    opt = SGD(m2.params, cfg.interference_lr)
    train(m2, None, None, loss=cross_entropy, optimizer=opt, steps=cfg.interference_steps,
          sampler=lambda g: task.sample_from(g, cfg.batch_size, freq), rng=gen)
    l1, a1 = _per_task(m2, Xt, yt, T)
    known = rare[a0[rare] >= cfg.learned_acc]
    return {"cos_frequent_rare": cos_fr, "cos_all_pairs": cos_all,
            "rare_loss_increase": float(np.mean(l1[rare] - l0[rare])),
            "frequent_loss_change": float(np.mean(l1[freq] - l0[freq])),
            "rare_accuracy_drop": float(np.mean(a0[known] - a1[known])) if len(known) else float("nan"),
            "n_rare_known": float(len(known))}


def _train_one(task: SparseParity, cfg: Config, width: int, seed: int, *, data: tuple[np.ndarray, np.ndarray] | None,
               progress: bool, desc: str) -> Any:
    s_init, s_train = child_seeds(seed, 2)
    model = init_mlp((task.n_in, width, 2), s_init)
    opt = Adam(model.params, cfg.lr)
    if data is None:
        train(model, None, None, loss=cross_entropy, optimizer=opt, steps=cfg.steps,
              sampler=lambda g: task.sample(g, cfg.batch_size), rng=s_train, progress=progress, desc=desc)
    else:
        train(model, data[0], data[1], loss=cross_entropy, optimizer=opt, steps=cfg.steps, batch_size=cfg.batch_size,
              rng=s_train, progress=progress, desc=desc)
    return model


def _width_job(task: SparseParity, cfg: Config, w: int, seed: int, s_int: int, test: tuple[np.ndarray, np.ndarray],
               progress: bool) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    T = cfg.n_tasks
    model = _train_one(task, cfg, w, seed, data=None, progress=progress, desc=f"rare-tasks width {w}")
    loss, acc = _per_task(model, test[0], test[1], T)
    learned = acc >= cfg.learned_acc
    row = {"sweep": "width", "width": w, "n_params": float(model.n_params),
           "n_tokens": float(cfg.steps * cfg.batch_size), "n_unique_tokens": float(cfg.steps * cfg.batch_size),
           "loss": float(task.p @ loss), "accuracy": float(task.p @ acc), "n_learned": int(learned.sum()),
           "loss_quantization_model": float(LN2 * task.p[~learned].sum()),
           **_interference(model, task, np.random.default_rng(s_int), cfg)}
    per_task = [{"group": f"subtask rank {k + 1}", "width": w, "n_params": float(model.n_params),
                 "n_tokens": float(cfg.steps * cfg.batch_size), "rank": k + 1, "frequency": task.p[k],
                 "loss": loss[k], "accuracy": acc[k]} for k in range(T)]
    return row, per_task


def _data_job(task: SparseParity, cfg: Config, D: int, seed: int, test: tuple[np.ndarray, np.ndarray],
              progress: bool) -> dict[str, Any]:
    s_set, s_model = child_seeds(seed, 2)
    data = task.sample(np.random.default_rng(s_set), D)
    model = _train_one(task, cfg, cfg.data_width, s_model, data=data, progress=progress, desc=f"rare-tasks data {D}")
    loss, acc = _per_task(model, test[0], test[1], cfg.n_tasks)
    return {"sweep": "data", "width": cfg.data_width, "n_params": float(model.n_params),
            "n_tokens": float(cfg.steps * cfg.batch_size), "n_unique_tokens": float(D),
            "loss": float(task.p @ loss), "accuracy": float(task.p @ acc),
            "n_learned": int((acc >= cfg.learned_acc).sum())}


def simulate(cfg: Config, rng: int, progress: bool = False, n_jobs: int = 1) -> dict[str, pd.DataFrame]:
    """Train the width sweep (online data) and the data sweep (fixed width, finite training sets)."""
    s_task, s_test, s_width, s_data, s_int = child_seeds(rng, 5)
    task = SparseParity(cfg, s_task)
    T = cfg.n_tasks
    test = task.sample(np.random.default_rng(s_test), T * cfg.test_per_task, np.repeat(np.arange(T), cfg.test_per_task))
    show = progress and n_jobs <= 1
    jobs: list[tuple[Any, ...]] = [(task, cfg, w, s, si, test, show) for w, s, si in
                                   zip(cfg.widths, child_seeds(s_width, len(cfg.widths)),
                                       child_seeds(s_int, len(cfg.widths)))]
    # the largest runs first, so that two workers finish together
    order = np.argsort([-j[2] for j in jobs])
    data_jobs = [(task, cfg, D, s, test, show)
                 for D, s in zip(cfg.data_sizes, child_seeds(s_data, len(cfg.data_sizes)))]
    results = parallel_map(_dispatch, [("w", jobs[i]) for i in order] + [("d", j) for j in data_jobs], n_jobs)
    width_res = [None] * len(jobs)
    for i, r in zip(order, results[:len(jobs)]):
        width_res[i] = r
    rows = [r[0] for r in width_res]  # type: ignore[index]
    task_rows = [t for r in width_res for t in r[1]]  # type: ignore[index]
    return {"width sweep": pd.DataFrame(rows), "data sweep": pd.DataFrame(results[len(jobs):]),
            "per-task accuracy": pd.DataFrame(task_rows)}


def _dispatch(kind: str, args: tuple[Any, ...]) -> Any:
    return _width_job(*args) if kind == "w" else _data_job(*args)


def _powerlaw_starts(x: np.ndarray, y: np.ndarray) -> pd.DataFrame:
    rows = []
    for e_frac in (1e-3, 0.05, 0.3, 0.7):
        for al in (0.2, 0.4, 0.7, 1.0, 1.5):
            E = e_frac * float(y.min())
            A = float(np.exp(np.median(np.log(np.maximum(y - E, 1e-12)) + al * np.log(x))))
            rows.append({"E": E, "A": A, "alpha": al})
    return pd.DataFrame(rows)


def fit_exponent(df: pd.DataFrame, variable: str, cfg: Config, rng: int) -> dict[str, Any]:
    """Fit ``L = E + A x^-alpha`` (law "powerlaw") with a bootstrap interval for the exponent."""
    import warnings

    from .. import Bootstrap, fit, get_law, read_table
    from ..errors import ScalingWarning

    x = df[variable].to_numpy(float)
    y = df["loss"].to_numpy(float)
    table = read_table(df[["n_params", "n_tokens", "n_unique_tokens", "loss"]], name=f"rare-tasks {variable} sweep",
                       check_units=False)  # tiny networks, not language-model runs
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ScalingWarning)
        res = fit(table, get_law("powerlaw", variable=variable), starts=_powerlaw_starts(x, y),
                  uncertainty=Bootstrap(n=cfg.bootstrap), rng=rng)
    ci = res.ci(0.95)
    return {"fit": res, "alpha": float(res.params["alpha"]), "alpha_lower": float(ci.loc["alpha", "lower"]),
            "alpha_upper": float(ci.loc["alpha", "upper"]), "E": float(res.params["E"]), "A": float(res.params["A"]),
            "warnings": sorted({f"{type(w.message).__name__}: {str(w.message)[:160]}" for w in caught})}


def analyse(tables: dict[str, pd.DataFrame], cfg: Config, rng: int) -> tuple[dict[str, Any], dict[str, Any]]:
    wd = tables["width sweep"]
    dd = tables["data sweep"]
    pt = tables["per-task accuracy"]
    fw = fit_exponent(wd, "n_params", cfg, rng)
    fd = fit_exponent(dd, "n_unique_tokens", cfg, rng) if len(dd) >= 3 else None
    # emergence: smallest width at which each subtask is learned (and stays learned at all larger widths)
    emerge = {}
    for k, g in pt.groupby("rank"):
        g = g.sort_values("width")
        ok = (g["accuracy"] >= cfg.learned_acc).to_numpy()
        tail = np.flatnonzero(~ok)
        first = 0 if len(tail) == 0 else tail[-1] + 1
        emerge[int(k)] = float(g["width"].iloc[first]) if first < len(g) else float("nan")
    # n_learned(N) ~ N^beta
    m = wd["n_learned"].to_numpy(float) > 0
    beta = (float(np.polyfit(np.log(wd["n_params"][m]), np.log(wd["n_learned"][m]), 1)[0]) if m.sum() >= 3
            else float("nan"))
    a = cfg.alpha
    alpha_data_pred = a / (a + 1.0)
    inside = fw["alpha_lower"] <= a <= fw["alpha_upper"]
    miss = 0.0 if inside else min(abs(a - fw["alpha_lower"]), abs(a - fw["alpha_upper"]))
    refined = a * beta
    inside_refined = fw["alpha_lower"] <= refined <= fw["alpha_upper"]
    wmin, wmax = wd.iloc[0], wd.iloc[-1]
    rare = pt[pt["rank"] > cfg.n_frequent]
    n_rare = rare.assign(ok=rare.accuracy >= cfg.learned_acc).groupby("width")["ok"].sum()
    rare_emerge = {k: v for k, v in emerge.items() if k > cfg.n_frequent and np.isfinite(v)}
    rho_cos = float(pd.Series(wd["width"]).corr(wd["cos_frequent_rare"], method="spearman"))
    checks = [
        check("frequent subtasks are learned first", pt[(pt["rank"] == 1)]["accuracy"].iloc[-1] >= cfg.learned_acc,
              f"rank-1 subtask learned from width {emerge.get(1)}"),
        check("rare subtasks are learned only above a width",
              bool(n_rare[wmin.width] == 0 and n_rare[wmax.width] >= 2
                   and all(v > wmin.width for v in rare_emerge.values())),
              f"subtasks of rank > {cfg.n_frequent} learned: {int(n_rare[wmin.width])} at width {int(wmin.width)}, "
              f"{int(n_rare[wmax.width])} at width {int(wmax.width)}; they emerge (and stay learned) at widths "
              + ", ".join(f"rank {k}: {v:g}" for k, v in sorted(rare_emerge.items())[:8])
              + (" ..." if len(rare_emerge) > 8 else "")),
        check("parameter-scaling exponent vs the quantization model (alpha_N = alpha)", inside,
              f"fitted alpha_N = {fw['alpha']:.3f}, 95% bootstrap interval [{fw['alpha_lower']:.3f}, "
              f"{fw['alpha_upper']:.3f}]; predicted {a:g}"
              + ("" if inside else f"; misses the interval by {miss:.3f}")),
        check("exponent vs the quantization model with the measured n(N) ~ N^beta (alpha*beta)", inside_refined,
              f"n_learned ~ N^{beta:.3f}, so the model predicts alpha*beta = {refined:.3f}; fitted interval "
              f"[{fw['alpha_lower']:.3f}, {fw['alpha_upper']:.3f}]"),
        check("gradient interference (|cos| frequent vs rare subtasks) falls with width", rho_cos < -0.5,
              f"{wmin.cos_frequent_rare:.3f} at width {int(wmin.width)} -> {wmax.cos_frequent_rare:.3f} at width "
              f"{int(wmax.width)} (Spearman rho {rho_cos:+.2f})"),
    ]
    findings = {
        "predicted_alpha_N": a, "fitted_alpha_N": fw["alpha"],
        "alpha_N_interval_95": [fw["alpha_lower"], fw["alpha_upper"]],
        "fit_E": fw["E"], "fit_A": fw["A"], "fit_warnings": fw["warnings"],
        "beta_n_learned_vs_params": beta, "predicted_alpha_N_with_measured_beta": refined,
        "predicted_alpha_D": alpha_data_pred,
        "fitted_alpha_D": fd["alpha"] if fd else None,
        "alpha_D_interval_95": [fd["alpha_lower"], fd["alpha_upper"]] if fd else None,
        "emergence_width_by_rank": emerge,
    }
    notes = [
        f"Zipf frequencies p_k ~ k^-(alpha+1) with alpha = {a:g} over {cfg.n_tasks} subtasks "
        f"({cfg.k_bits}-bit parities "
        f"of {cfg.n_bits} bits); one-hidden-layer ReLU MLPs, Adam lr {cfg.lr:g}, {cfg.steps} steps of {cfg.batch_size} "
        f"fresh samples (the width sweep sees the same {cfg.steps * cfg.batch_size:,} samples at every width).",
        "Quantization model (Michaud et al. 2023): learning the n most frequent quanta leaves "
        "L - L_inf ~ sum_{k>n} p_k "
        "~ n^-alpha; with n proportional to N this gives alpha_N = alpha, and for data alpha_D = alpha/(alpha+1).",
        f"Measured n_learned ~ N^{beta:.2f}: at a fixed training budget the number of learned subtasks grows "
        "sub-linearly in N, so the model predicts alpha*beta; the finite number of subtasks truncates the Zipf tail "
        "(sum to n_tasks, not infinity), which steepens the curve at the largest widths.",
        "Interference: |cos| between per-subtask gradients at the end of training (ranks 1-"
        f"{cfg.n_frequent} vs the rest); forgetting: {cfg.interference_steps} SGD steps (lr {cfg.interference_lr:g}) "
        "on the frequent subtasks only, then the mean loss change of the rare ones (a small, noisy effect at these "
        "sizes, reported but not checked; the cosine is the robust measure).",
    ]
    return findings, {"checks": checks, "notes": notes, "fits": {"width": fw["fit"], "data": fd["fit"] if fd else None}}


def plot(tables: dict[str, pd.DataFrame], findings: dict[str, Any], fits: dict[str, Any], cfg: Config, out: Path,
         formats: tuple[str, ...]) -> list[Path]:
    import matplotlib.pyplot as plt

    from ..plot import save_figure

    wd, dd, pt = tables["width sweep"], tables["data sweep"], tables["per-task accuracy"]
    fig, axes = plt.subplots(2, 2, figsize=(12, 9.5), constrained_layout=True)
    ax = axes[0, 0]
    widths = sorted(pt["width"].unique())
    grid = pt.pivot(index="width", columns="rank", values="accuracy").loc[widths]
    im = ax.imshow(grid.to_numpy(), aspect="auto", origin="lower", cmap="viridis", vmin=0.5, vmax=1.0,
                   extent=(0.5, cfg.n_tasks + 0.5, -0.5, len(widths) - 0.5), interpolation="nearest")
    ax.set_yticks(range(len(widths)))
    ax.set_yticklabels([f"{w} ({int(n):,})" for w, n in zip(widths, wd.set_index("width").loc[widths, "n_params"])],
                       fontsize=8)
    # emergence: the smallest width from which each subtask stays learned
    em = findings["emergence_width_by_rank"]
    ks = [k for k in sorted(em) if np.isfinite(em[k])]
    ax.step(ks, [widths.index(em[k]) - 0.5 for k in ks], where="mid", color="w", lw=1.5, ls="--",
            label=f"emergence: learned (accuracy >= {cfg.learned_acc:.0%}) from this width on")
    ax.set_xlabel(f"subtask frequency rank k (p_k ~ k^-{cfg.alpha + 1:g}; rank 1 the most frequent)")
    ax.set_ylabel("width (parameters N)")
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title("Each subtask emerges at a width; the rarer, the wider", fontsize=11)
    fig.colorbar(im, ax=ax, label="test accuracy on subtask k (0.5 = chance)", shrink=0.9)
    ax.legend(loc="lower right", fontsize=7.5, framealpha=0.8)

    ax = axes[0, 1]
    x = wd["n_params"].to_numpy(float)
    ax.plot(x, wd["loss"], "o", color="C0", label="measured mean test loss")
    ax.plot(x, wd["loss_quantization_model"], "s", mfc="none", color="C2",
            label="quantization model: ln2 x (frequency of unlearned subtasks)")
    xs = np.geomspace(x.min(), x.max(), 200)
    fw = fits["width"]
    ax.plot(xs, fw.predict(xs), "-", color="C0",
            label=f"fit E + A N^-a: a = {findings['fitted_alpha_N']:.2f} "
                  f"[{findings['alpha_N_interval_95'][0]:.2f}, {findings['alpha_N_interval_95'][1]:.2f}]")
    ref = fw.predict(np.array([x[0]]))[0] * (xs / x[0]) ** -cfg.alpha
    ax.plot(xs, ref, "--", color="C3", label=f"slope of the prediction a = alpha = {cfg.alpha:g}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("parameters N")
    ax.set_ylabel("mean test loss (nats, Zipf-weighted)")
    ax.set_title("Mean loss: a smooth power law in parameters")
    ax.legend(fontsize=7.5)

    ax = axes[1, 0]
    ax.plot(wd["width"], wd["cos_frequent_rare"], "o-", color="C1", label="|cos(g_frequent, g_rare)|")
    ax.plot(wd["width"], wd["cos_all_pairs"], "^-", color="C4", label="|cos| over all subtask pairs")
    ax.set_xscale("log")
    ax.set_ylim(0, None)
    ax.set_xlabel("width (hidden units)")
    ax.set_ylabel("mean |cosine| of per-subtask gradients")
    ax.set_title("Gradient interference falls with width")
    ax2 = ax.twinx()
    ax2.plot(wd["width"], wd["rare_loss_increase"], "s--", color="C3",
             label=f"rare-subtask loss rise after {cfg.interference_steps} SGD steps on frequent ones")
    ax2.set_ylabel("rare-subtask loss increase (nats)", color="C3")
    ax2.tick_params(axis="y", colors="C3")
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, fontsize=7.5, loc="upper right")

    ax = axes[1, 1]
    if len(dd):
        xd = dd["n_unique_tokens"].to_numpy(float)
        ax.plot(xd, dd["loss"], "o", color="C0", label=f"measured (width {cfg.data_width})")
        fd = fits["data"]
        if fd is not None:
            xs = np.geomspace(xd.min(), xd.max(), 200)
            ax.plot(xs, fd.predict(xs), "-", color="C0",
                    label=f"fit E + A D^-a: a = {findings['fitted_alpha_D']:.2f} "
                          f"[{findings['alpha_D_interval_95'][0]:.2f}, {findings['alpha_D_interval_95'][1]:.2f}]")
            ref = fd.predict(np.array([xd[0]]))[0] * (xs / xd[0]) ** -findings["predicted_alpha_D"]
            ax.plot(xs, ref, "--", color="C3", label=f"slope alpha/(alpha+1) = {findings['predicted_alpha_D']:.2f}")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.legend(fontsize=7.5)
    ax.set_xlabel("training samples D (multi-epoch)")
    ax.set_ylabel("mean test loss (nats)")
    ax.set_title("Data sweep at fixed width")
    fig.suptitle(f"Multitask sparse parity ({cfg.n_tasks} subtasks, Zipf exponent {cfg.alpha + 1:g}): "
                 "bigger models learn the rare subtasks", fontsize=12)
    tidy_log_axes(fig)
    return save_figure(fig, out / "rare_tasks", formats)


def run(out: Path, *, quick: bool, rng: int, progress: bool, formats: tuple[str, ...], n_jobs: int = 1,
        config: Config | None = None) -> tuple[dict[str, pd.DataFrame], dict[str, Any], list[Path]]:
    cfg = config or (Config.quick() if quick else Config())
    tables = simulate(cfg, rng, progress, n_jobs)
    findings, extra = analyse(tables, cfg, rng)
    figs = plot(tables, findings, extra["fits"], cfg, out, formats)
    from dataclasses import asdict

    report = {"settings": asdict(cfg), "findings": findings, "checks": extra["checks"], "notes": extra["notes"],
              "papers": list(PAPERS)}
    return tables, report, figs
