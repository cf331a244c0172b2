"""Benchmark: 1,000 bootstrap resamples of Epoch's 240 Chinchilla points, each at its optimum.

Compares, in the same run and on the same resamples (integer weights),

* **ours**: ``scaling.estimation.uncertainty`` — every resample optimised by the batched L-BFGS in float64
  to a relative objective change of 1e-14 from the full-data optimum, other local optima of the start
  grid screened per resample (``Bootstrap(n=1000, jackknife=False)``), with its default verification
  (a random resample re-fitted from the full 4,500-start grid; escalation if it missed); also timed
  without verification (``verify=0``) and with the jackknife needed by BCa intervals;
* **Epoch's shortcut** (Besiroglu et al. 2024): a Python loop of ``scipy.optimize.minimize(method=
  "BFGS")`` with an analytic gradient, one start per resample at the full-data optimum, default
  tolerances, on the same summed Huber objective (delta = 1e-3, log-sum-exp form, Hoffmann eq. 11).
* **simple-scaling-laws** (optional): its own 1,000-draw wild cluster bootstrap on the same points, in its
  own Python >= 3.12 named by ``SCALING_BENCH_SSL_PYTHON`` (``benchmarks/_simple_scaling_laws.py``).

Reports medians over repeats (BLAS pinned to one thread), the speed ratio, the objective each
reaches per resample (ours must be <= the shortcut's for every resample), how many resamples the
shortcut left above the optimum and by how much, and the standard errors each gives.

Run::

    python benchmarks/bench_bootstrap.py [--repeats 3] [--n 1000] [--verify 0]
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
           "NUMEXPR_NUM_THREADS"):
    os.environ[_v] = "1"

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from scipy.optimize import minimize  # noqa: E402

_MIRROR = Path(__file__).resolve().parents[2] / "shared" / "data"
if "SCALING_DATA_DIR" not in os.environ and _MIRROR.is_dir():
    os.environ["SCALING_DATA_DIR"] = str(_MIRROR)

from scaling.datasets import load_dataset  # noqa: E402
from scaling.estimation import build_problem, fit  # noqa: E402
from scaling.estimation.uncertainty import Bootstrap, bootstrap_weights, estimate_uncertainty  # noqa: E402

DELTA = 1e-3


def epoch_shortcut(x0: np.ndarray, lnN: np.ndarray, lnD: np.ndarray, logy: np.ndarray, W: np.ndarray) -> np.ndarray:
    """One BFGS start per resample at the full-data optimum (Epoch's bootstrap), x = (e, a, b, alpha, beta)."""

    def f_and_g(x: np.ndarray, w: np.ndarray) -> tuple[float, np.ndarray]:
        e, a, b, al, be = x
        t1 = np.exp(a - al * lnN)
        t2 = np.exp(b - be * lnD)
        t3 = np.exp(e)
        s = t1 + t2 + t3
        r = np.log(s) - logy
        psi = np.clip(r, -DELTA, DELTA)
        rho = psi * (r - 0.5 * psi)
        u = w * psi / s
        g = np.array([u.sum() * t3, (u * t1).sum(), (u * t2).sum(), -(u * t1) @ lnN, -(u * t2) @ lnD])
        return float(w @ rho), g

    out = np.empty((len(W), len(x0)))
    for i, w in enumerate(W):
        out[i] = minimize(f_and_g, x0, args=(w,), jac=True, method="BFGS").x
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--verify", type=int, default=0)
    args = ap.parse_args()
    warnings.simplefilter("ignore")

    t = load_dataset("epoch_chinchilla", download=False)
    loss = t.to_frame()["loss"].to_numpy()
    t240 = t.filter(~(loss >= np.sort(loss)[-5]), reason="5 highest losses, as Epoch")
    t0 = time.perf_counter()
    res = fit(t240, "chinchilla")
    t_fit = time.perf_counter() - t0
    problem, _, _ = build_problem(t240, "chinchilla")
    obj = problem.objective
    x_hat = problem.to_free(res.params.to_numpy())
    W = bootstrap_weights(problem, args.n, rng=0)
    lnN, lnD = np.log(obj.X["n_params"]), np.log(obj.X["n_tokens"])
    logy = np.log(obj.y)
    print(f"data: {problem.n_points} points; full fit (4,500-start grid): {t_fit:.2f} s, "
          f"objective {res.objective:.10g}")
    print(f"resamples: {args.n}; repeats: {args.repeats}; BLAS threads pinned to 1; cpus: {os.cpu_count()}")

    times: dict[str, list[float]] = {"ours": [], "ours verify=0": [], "ours+jackknife": [], "shortcut": []}
    ours = shortcut = None
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        rb = estimate_uncertainty(problem, res, Bootstrap(n=args.n, jackknife=False), rng=0)
        times["ours"].append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        estimate_uncertainty(problem, res, Bootstrap(n=args.n, jackknife=False, verify=0), rng=0)
        times["ours verify=0"].append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        estimate_uncertainty(problem, res, Bootstrap(n=args.n, jackknife=True), rng=0)
        times["ours+jackknife"].append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        xs = epoch_shortcut(x_hat, lnN, lnD, logy, W)
        times["shortcut"].append(time.perf_counter() - t0)
        ours, shortcut = rb, xs
    assert ours is not None and shortcut is not None
    med = {k: statistics.median(v) for k, v in times.items()}
    for k, v in times.items():
        print(f"{k:>15}: median {med[k]:.3f} s  (runs: {', '.join(f'{x:.3f}' for x in v)})")
    print(f"speed-up vs shortcut: {med['shortcut'] / med['ours']:.1f}x (ours, default incl. verification), "
          f"{med['shortcut'] / med['ours verify=0']:.1f}x (verify=0), "
          f"{med['shortcut'] / med['ours+jackknife']:.1f}x (ours + jackknife for BCa)")
    u0 = ours.uncertainty if ours is not None else {}
    print(f"default verification: {u0['verified']} resample(s) re-fitted from the full grid, {u0['verify_misses']} "
          f"missed, {u0['escalations']} escalation(s), max relative difference {u0['verify_max_rel_diff']:.3g}; "
          f"miss rate <= {u0['miss_rate_upper']:.2g} (95 %)")

    names = list(problem.law.param_names)
    X_ours = problem.to_free(ours.samples[names].to_numpy())
    f_ours = obj(X_ours, W, grad=False)[0]
    f_short = obj(shortcut, W, grad=False)[0]
    rel = (f_short - f_ours) / f_ours
    print(f"objective (mean over resamples): ours {f_ours.mean():.12g}, shortcut {f_short.mean():.12g}")
    worse = int(np.sum(f_ours > f_short * (1 + 1e-12)))
    print(f"resamples where ours is above the shortcut (> 1e-12 rel): {worse} (max rel {(-rel).max():.3g})")
    above = rel > 1e-9
    print(f"resamples the shortcut left above the optimum (> 1e-9 rel): {int(above.sum())} of {args.n}; "
          f"median excess {np.median(rel[above]) if above.any() else 0:.3g}, max {rel.max():.3g} (relative)")
    th_short = problem.natural(shortcut)[0]
    se_o = ours.samples[names].std(ddof=1)
    se_s = np.std(th_short, axis=0, ddof=1)
    a_o = ours.samples["beta"] / (ours.samples["alpha"] + ours.samples["beta"])
    a_s = th_short[:, 4] / (th_short[:, 3] + th_short[:, 4])
    print("standard errors      " + "  ".join(f"{p:>9}" for p in names) + f"  {'a':>9}")
    print("  ours               " + "  ".join(f"{se_o[p]:9.4g}" for p in names) + f"  {a_o.std(ddof=1):9.4g}")
    print("  shortcut           " + "  ".join(f"{v:9.4g}" for v in se_s) + f"  {np.std(a_s, ddof=1):9.4g}")
    print("  REFERENCE check 8  " + "  ".join(f"{v:>9}" for v in ("0.026", "116", "1426", "0.0146", "0.0208")) +
          f"  {'0.019':>9}")
    if args.verify:
        t0 = time.perf_counter()
        rv = estimate_uncertainty(problem, res, Bootstrap(n=args.n, jackknife=False, verify=args.verify), rng=0)
        u = rv.uncertainty
        print(f"verification: {u['verified']} resamples re-fitted from the full grid in "
              f"{time.perf_counter() - t0:.1f} s "
              f"(incl. bootstrap); max relative objective difference (ours - grid) {u['verify_max_rel_diff']:.3g}; "
              f"replaced {u['replaced']}")

    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _simple_scaling_laws import bootstrap_lines  # (d): in its own Python >= 3.12, see that module

    print("\n".join(bootstrap_lines(obj.X["n_params"], obj.X["n_tokens"], obj.y, ours_seconds=med["ours"],
                                    repeats=args.repeats, n_draws=args.n)))


if __name__ == "__main__":
    main()
