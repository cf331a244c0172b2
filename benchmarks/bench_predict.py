"""Benchmark: compute-optimal allocation, scaling.predict against the strongest fair numpy baselines.

Cases, each timed in the same run against a baseline on the same inputs (no scaling from subsets):
  1. closed form, 1,000,000 budgets, point estimate (Epoch's constants)
     baseline: Hoffmann's eq. 4 written directly in vectorised numpy (N = G (C/6)^a, D = C/(6N), loss);
  2. closed-form intervals, 4,000 parameter samples x 100 budgets
     baseline: the same vectorised eq. 4 over the (samples, budgets) grid + np.quantile of N, D, loss, D/N;
  3. numeric path, Kaplan's joint law (eq. 1.5, Table 2), 1,000 budgets
     baseline: a vectorised numpy golden-section search in log N over all budgets at once (80 steps);
  4. numeric path with intervals, 1,000 samples x 10 budgets (Chinchilla law forced numeric)
     baseline: the same vectorised golden-section search over every (sample, budget) + np.quantile.
Every method (ours and baseline) is run ``--repeats`` times (>= 5); the script prints median wall
times, the ratio baseline/ours, and the largest relative difference in N_opt between the two.

    python benchmarks/bench_predict.py [--repeats 5]
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_v] = "1"  # pin BLAS threads before numpy is imported

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from scaling.laws import get_law  # noqa: E402
from scaling.predict import compute_optimal  # noqa: E402

EPOCH = {"E": 1.8172, "A": 482.01, "B": 2085.43, "alpha": 0.3478, "beta": 0.3658}
KAPLAN = {"N_c": 6.4e13, "D_c": 1.8e13, "alpha_N": 0.076, "alpha_D": 0.103}


@dataclass(frozen=True)
class Fit:
    law: Any
    params: pd.Series
    samples: pd.DataFrame | None


def eq4(E: np.ndarray, A: np.ndarray, B: np.ndarray, al: np.ndarray, be: np.ndarray, C: np.ndarray,
        full: bool = True) -> Any:
    """Hoffmann et al. 2022 eq. 4 in plain numpy: N_opt = G (C/6)^a, G = (alpha A / (beta B))^(1/(alpha+beta));
    with ``full`` also D_opt = C/(6 N_opt) and the loss there (what compute_optimal returns)."""
    G = (al * A / (be * B)) ** (1.0 / (al + be))
    N = G * (C / 6.0) ** (be / (al + be))
    if not full:
        return N
    D = C / (6.0 * N)
    return N, D, E + A / N ** al + B / D ** be


def chinchilla_loss_v(p: dict[str, np.ndarray], N: np.ndarray, D: np.ndarray) -> np.ndarray:
    return p["E"] + p["A"] / N ** p["alpha"] + p["B"] / D ** p["beta"]


def kaplan_loss_v(p: dict[str, np.ndarray], N: np.ndarray, D: np.ndarray) -> np.ndarray:
    return ((p["N_c"] / N) ** (p["alpha_N"] / p["alpha_D"]) + p["D_c"] / D) ** p["alpha_D"]


def golden_argmin(loss: Callable[..., np.ndarray], p: dict[str, Any], C: np.ndarray, steps: int = 80) -> np.ndarray:
    """Vectorised golden-section search for argmin_N loss(N, C/(6N)) in log N, every budget at once
    (bracket: 9 e-folds either side of D/N = 20; 80 steps shrink it to ~1e-16 of its width)."""
    centre = 0.5 * np.log(C / (6 * 20))
    lo, hi = centre - 9.0, centre + 9.0
    r = (np.sqrt(5.0) - 1.0) / 2.0
    x1, x2 = hi - r * (hi - lo), lo + r * (hi - lo)

    def f(x: np.ndarray) -> np.ndarray:
        N = np.exp(x)
        return loss(p, N, C / (6.0 * N))

    f1, f2 = f(x1), f(x2)
    for _ in range(steps):
        left = f1 < f2
        hi = np.where(left, x2, hi)
        lo = np.where(left, lo, x1)
        x1n = np.where(left, hi - r * (hi - lo), x2)
        x2n = np.where(left, x1, lo + r * (hi - lo))
        f1n = np.where(left, f(np.where(left, x1n, x1)), f2)
        f2n = np.where(left, f1, f(np.where(left, x2, x2n)))
        x1, x2, f1, f2 = x1n, x2n, f1n, f2n
    return np.exp(0.5 * (lo + hi))


def median_time(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def samples(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"E": rng.normal(1.8172, 0.026, n), "A": np.exp(rng.normal(np.log(482.01), 0.25, n)),
                         "B": np.exp(rng.normal(np.log(2085.43), 0.5, n)), "alpha": rng.normal(0.3478, 0.015, n),
                         "beta": rng.normal(0.3658, 0.021, n)})


def report(name: str, ours: float, base: float, diff: float) -> None:
    print(f"{name:<52} ours {ours * 1e3:10.2f} ms | baseline {base * 1e3:10.2f} ms | "
          f"ratio {base / ours:8.2f}x | max rel diff N_opt {diff:.1e}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    reps = max(5, args.repeats)
    warnings.simplefilter("ignore")
    chin = get_law("chinchilla")
    P = pd.Series(EPOCH)

    print(f"repeats: {reps} per method (medians); BLAS threads pinned to 1; cpus: {os.cpu_count()}")
    # 1. closed form, 1e6 budgets
    C = np.logspace(18, 28, 1_000_000)
    compute_optimal((chin, P), C[:10])
    t_ours, res = median_time(lambda: compute_optimal((chin, P), C), reps)
    t_base, base = median_time(lambda: eq4(*(np.float64(EPOCH[k]) for k in ("E", "A", "B", "alpha", "beta")), C),
                               reps)
    report("1. closed form, 1e6 budgets (N, D, loss)", t_ours, t_base,
           float(np.max(np.abs(base[0] / res.n_params - 1))))

    # 2. closed-form intervals: 4000 samples x 100 budgets
    S = samples(4000)
    fit = Fit(chin, P, S)
    C2 = np.logspace(20, 26, 100)
    compute_optimal(fit, C2[:2])
    t_ours, res = median_time(lambda: compute_optimal(fit, C2), reps)
    cols = [S[k].to_numpy()[:, None] for k in ("E", "A", "B", "alpha", "beta")]

    def base2() -> tuple[np.ndarray, np.ndarray]:
        # the same outputs as ours: N, D, loss and D/N at every (sample, budget), and their 95% intervals
        n, d, loss = eq4(*cols, C2[None, :])
        q = [np.quantile(v, (0.025, 0.975), axis=0) for v in (n, d, loss, d / n)]
        return q[0][0], q[0][1]

    t_base, (blo, bhi) = median_time(base2, reps)
    lo2, hi2 = res.interval("n_params")
    diff2 = float(max(np.max(np.abs(blo / lo2 - 1)), np.max(np.abs(bhi / hi2 - 1))))
    print(f"{'':<52} (intervals: N_opt 95% at C=1e26: [{lo2[-1]:.3g}, {hi2[-1]:.3g}])")
    report("2. closed-form intervals, 4000 samples x 100 budgets", t_ours, t_base, diff2)

    # 3. numeric path, Kaplan joint law, 1000 budgets
    src = (get_law("kaplan-nd"), pd.Series(KAPLAN))
    C3 = np.logspace(18, 26, 1000)
    compute_optimal(src, C3[:2])
    t_ours, res = median_time(lambda: compute_optimal(src, C3), reps)
    t_base, base = median_time(lambda: golden_argmin(kaplan_loss_v, KAPLAN, C3), reps)
    report("3. numeric (Kaplan eq. 1.5), 1000 budgets", t_ours, t_base, float(np.max(np.abs(base / res.n_params - 1))))

    # 4. numeric with intervals: 1000 samples x 10 budgets
    S4 = samples(1000, seed=1)
    fit4 = Fit(chin, P, S4)
    C4 = np.logspace(20, 25, 10)
    compute_optimal(fit4, C4[:1], method="numeric")
    t_ours, res = median_time(lambda: compute_optimal(fit4, C4, method="numeric"), reps)
    p4 = {k: S4[k].to_numpy()[:, None] for k in EPOCH}

    def base4() -> tuple[np.ndarray, np.ndarray]:
        n = golden_argmin(chinchilla_loss_v, p4, C4[None, :])
        return np.quantile(n, 0.025, axis=0), np.quantile(n, 0.975, axis=0)

    t_base, (blo, bhi) = median_time(base4, reps)
    lo4, hi4 = res.interval("n_params")
    diff4 = float(max(np.nanmax(np.abs(blo / lo4 - 1)), np.nanmax(np.abs(bhi / hi4 - 1))))
    report("4. numeric intervals, 1000 samples x 10 budgets", t_ours, t_base, diff4)
    print("max rel diff: cases 2 and 4 compare the 95% interval bounds; cases 1 and 3 the point N_opt")


if __name__ == "__main__":
    main()
