"""Benchmark: the exact multi-power-law fit of one model size (Luo et al. 2025's three training curves).

Times, in one run and on the same data (SCALING_DATA_DIR or the download cache):
  (a) baseline — one evaluation of the training objective written as the authors' src/evaluation.py
      (a Python loop over logged steps, one numpy sum per step), without gradient;
  (b) one evaluation of the same objective *with* its analytic gradient (scaling.curves);
  (c) scaling.curves.fit_curves on the three training curves: grid screening, coarse multi-start,
      exact L-BFGS-B polish (the independent reference refit took 842 s for 8 starts).
BLAS is pinned to 1 thread (threadpoolctl); 2 cores are enough. Prints medians over repeats, the
ratio (a)/(b), each fit's objective and whether it is within 30 s.

    python benchmarks/bench_multipower.py [--repeats 3] [--sizes 25M,100M,400M]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from threadpoolctl import threadpool_limits

from scaling.curves import MULTIPOWER, fit_curves, huber_objective
from scaling.curves.fit import _Problem
from scaling.datasets.multipower import PUBLISHED_PARAMS, TRAIN
from scaling.reproduce.multipower import load_curves


def naive_objective(params, curves, delta=1e-3):
    L0, A, alpha, B, C, beta, gamma = params
    total = 0.0
    for c in curves:
        lrs = c.schedule.lr
        lr_sum = np.cumsum(lrs)
        gap = np.r_[0.0, np.diff(lrs)]
        pred = []
        for s in c.steps:
            ld = np.sum(gap[1:s + 1] * (1 - (1 + C * lrs[1:s + 1] ** (-gamma) * (lr_sum[s] - lr_sum[:s])) ** (-beta)))
            pred.append(L0 + A * lr_sum[s] ** (-alpha) + B * ld)
        r = np.log(c.loss) - np.log(np.array(pred))
        a = np.abs(r)
        total += float(np.where(a <= delta, 0.5 * r * r, delta * (a - 0.5 * delta)).sum())
    return total


def median_time(fn, repeats):
    ts = []
    out = None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--sizes", default="25M,100M,400M")
    args = ap.parse_args()
    with threadpool_limits(limits=1, user_api="blas"):
        for size in args.sizes.split(","):
            bench_size(size, args.repeats)


def bench_size(size: str, repeats: int) -> None:
    curves = load_curves(size)
    train = [curves[n] for n in TRAIN]
    p = np.array(PUBLISHED_PARAMS[size])
    t_naive, f_naive = median_time(lambda: naive_objective(p, train), repeats)
    prob = _Problem(MULTIPOWER, train, 1e-3, list(range(7)), p)
    z = prob.to_internal(p)
    prob.value_grad(z)  # warm the kernel cache, as a fit does after its first evaluation
    t_ours, (f_ours, _) = median_time(lambda: prob.value_grad(z), max(5, repeats))
    assert abs(f_ours - f_naive) <= 1e-12 * max(1.0, f_naive) + 1e-15
    t_fit, fit = median_time(lambda: fit_curves(train), repeats)
    print(f"{size}: objective (a) loop {t_naive * 1e3:8.1f} ms  (b) value+gradient {t_ours * 1e3:6.1f} ms  "
          f"ratio {t_naive / t_ours:5.1f}x")
    print(f"{size}: fit_curves median {t_fit:6.1f} s over {repeats} ({'<=' if t_fit <= 30 else '>'} 30 s); "
          f"objective {fit.objective:.5e} (published parameters {huber_objective(MULTIPOWER, p, train):.5e}); "
          "the independent reference refit took 842 s for 8 starts")

if __name__ == "__main__":
    main()
