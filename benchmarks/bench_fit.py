"""Benchmark: Chinchilla Approach 3 on Epoch's 240 points from Hoffmann's 4,500-start grid.

Times, in one run and on the same data:
  (a) a plain scipy baseline — L-BFGS-B with an analytic gradient from each of the 4,500 grid starts in
      a Python loop (default tolerances, summed Huber, delta 1e-3);
  (b) the `chinchilla` package from PyPI (pip install 'scaling[bench]'), configured with the same grid
      and a Huber-on-log-residual loss (it averages and uses BFGS with numerical gradients; skipped if
      not installed);
  (c) scaling.fit(table, law="chinchilla"): its default engine, the compiled float32 screen where numba is
      installed (pip install 'scaling[fast]'), else numpy's; the row says which;
  (c') the same fit with engine="numpy" (the engine without numba), when (c) was compiled.
  (d) simple-scaling-laws (not on PyPI, Python >= 3.12): timed in its own interpreter when
      SCALING_BENCH_SSL_PYTHON names one that imports it (benchmarks/_simple_scaling_laws.py), else skipped.
Prints the median wall time over repeats, the ratio to (a) and the objective each reaches.

    python benchmarks/bench_fit.py [--repeats 5] [--baseline-repeats 3] [--with-chinchilla]
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_v] = "1"  # pin BLAS threads before numpy is imported

import argparse  # noqa: E402
import sys  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
from scipy.optimize import minimize  # noqa: E402

import scaling  # noqa: E402
from scaling.laws.chinchilla import HOFFMANN_GRID  # noqa: E402

DELTA = 1e-3


def epoch240():
    t = scaling.load_dataset("epoch_chinchilla")
    return t.filter(t.loss < np.sort(t.loss)[-5], reason="5 highest losses (as Epoch)")


def scipy_baseline(N, D, L):
    lnN, lnD, lnL = np.log(N), np.log(D), np.log(L)

    def fg(p):
        e, a, b, al, be = p
        with np.errstate(all="ignore"):
            t1 = np.exp(a - al * lnN)
            t2 = np.exp(b - be * lnD)
            t3 = np.exp(e)
            f = t1 + t2 + t3
            r = np.log(f) - lnL
            psi = np.clip(r, -DELTA, DELTA)
            obj = np.sum(psi * (r - 0.5 * psi))
            u = psi / f
            g = np.array([u.sum() * t3, (u * t1).sum(), (u * t2).sum(), -(u * t1) @ lnN, -(u * t2) @ lnD])
        if not np.isfinite(obj):
            return np.inf, np.zeros(5)
        return obj, g

    best = (np.inf, None)
    for x0 in HOFFMANN_GRID:
        r = minimize(fg, x0, jac=True, method="L-BFGS-B")
        if r.fun < best[0]:
            best = (float(r.fun), r.x)
    return best[0]


def objective_at(N, D, L, params):
    pred = params["E"] + params["A"] / N ** params["alpha"] + params["B"] / D ** params["beta"]
    r = np.log(pred) - np.log(L)
    psi = np.clip(r, -DELTA, DELTA)
    return float(np.sum(psi * (r - 0.5 * psi)))


def chinchilla_package(N, D, L):
    import pandas as pd
    from chinchilla import Chinchilla

    def huber_log(y_true, y_pred):
        r = np.log(y_pred) - np.log(y_true)
        psi = np.clip(r, -DELTA, DELTA)
        return psi * (r - 0.5 * psi)

    grid = {"e": np.arange(-1.0, 1.01, 0.5), "a": np.arange(0.0, 25.1, 5.0), "b": np.arange(0.0, 25.1, 5.0),
            "alpha": np.arange(0.0, 2.01, 0.5), "beta": np.arange(0.0, 2.01, 0.5)}
    with tempfile.TemporaryDirectory() as d:
        pd.DataFrame({"C": 6 * N * D, "N": N, "D": D, "loss": L}).to_csv(os.path.join(d, "df.csv"), index=False)
        cc = Chinchilla(d, param_grid=grid, loss_fn=huber_log, log_level=40)
        cc.fit(parallel=True)
        return {"E": cc.E, "A": cc.A, "B": cc.B, "alpha": cc.alpha, "beta": cc.beta}


def timed(fn, repeats):
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), times, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--baseline-repeats", type=int, default=3)
    ap.add_argument("--with-chinchilla", action="store_true", help="also time the chinchilla PyPI package")
    args = ap.parse_args()
    t = epoch240()
    N, D, L = t.n_params, t.n_tokens, t.loss
    print(f"data: Epoch's {len(L)} points; 4,500 grid starts; summed Huber delta={DELTA}; cores={os.cpu_count()}")
    warnings.simplefilter("ignore")
    fit_once = lambda: scaling.fit(t, law="chinchilla")  # noqa: E731
    fit_once()  # warm-up (imports, thread pool)
    med_c, times_c, res = timed(fit_once, args.repeats)
    med_a, times_a, obj_a = timed(lambda: scipy_baseline(N, D, L), args.baseline_repeats)
    print(f"{'method':<44}{'median s':>10}{'speed-up vs (a)':>17}{'objective':>16}")
    print(f"{'(a) scipy L-BFGS-B loop, analytic gradient':<44}{med_a:>10.3f}{1.0:>16.1f}x{obj_a:>16.10e}")
    if args.with_chinchilla:
        try:
            med_b, _, pb = timed(lambda: chinchilla_package(N, D, L), 1)
            print(f"{'(b) chinchilla package (PyPI), same grid':<44}{med_b:>10.3f}{med_a / med_b:>16.1f}x"
                  f"{objective_at(N, D, L, pb):>16.10e}")
        except ImportError:
            print("(b) chinchilla package: not installed (pip install 'scaling[bench]')")
    engine = res.provenance["engine"]
    label = f"(c) scaling.fit (engine: {engine})"
    print(f"{label:<44}{med_c:>10.3f}{med_a / med_c:>16.1f}x{res.objective:>16.10e}")
    if engine == "compiled":
        fit_np = lambda: scaling.fit(t, law="chinchilla", engine="numpy")  # noqa: E731
        fit_np()
        med_n, times_n, res_n = timed(fit_np, args.repeats)
        label_n = "(c') scaling.fit(engine=\"numpy\")"
        print(f"{label_n:<44}{med_n:>10.3f}{med_a / med_n:>16.1f}x{res_n.objective:>16.10e}")
    else:
        print("(c') not run: numba is not installed, so (c) is the numpy engine (pip install 'scaling[fast]')")
    print(f"repeats: (a) {[round(x, 2) for x in times_a]}  (c) {[round(x, 3) for x in times_c]}")
    print(f"objective (c) <= (a): {res.objective <= obj_a}  (difference {obj_a - res.objective:.3e})")
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from _simple_scaling_laws import fit_lines  # (d): in its own Python >= 3.12, see that module

    print("\n".join(fit_lines(N, D, L, ours_seconds=med_c, ours_objective=res.objective,
                              ours_params=dict(res.params), repeats=args.repeats)))
    print("note: timings on a shared or loaded machine are noisy; compare the ratios of one run")


if __name__ == "__main__":
    main()
