"""Benchmark: 1,000 independent full-grid Chinchilla fits with ``scaling.fit_many``.

The problems are 1,000 bootstrap resample *tables* of Epoch's 240 points (rows drawn with replacement,
seed 0), given to ``fit_many`` as separate tables, each fitted from Hoffmann's 4,500-start grid.
Times, in one run:
  (a) one ``scaling.fit`` of a resample table (median over ``--single-repeats``), times 1,000: the
      one-at-a-time cost;
  (b) ``scaling.fit_many(tables, n_jobs=...)`` on all of them.
Then verifies ``--check`` random problems against a one-at-a-time ``scaling.fit`` (objective and
parameters) and prints the largest differences.

    python benchmarks/bench_fit_many.py [--n 1000] [--n-jobs 2] [--check 10]

The machine this was written on was shared and loaded: rerun on a quiet machine before quoting numbers.
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_v] = "1"  # pin BLAS threads before numpy is imported

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402

import scaling  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--n-jobs", type=int, default=2)
    ap.add_argument("--check", type=int, default=10)
    ap.add_argument("--single-repeats", type=int, default=3)
    args = ap.parse_args()
    t = scaling.load_dataset("epoch_chinchilla")
    t = t.filter(t.loss < np.sort(t.loss)[-5], reason="5 highest losses (as Epoch)")
    fr = t.to_frame()[["n_params", "n_tokens", "flops", "loss"]]
    g = np.random.default_rng(0)
    tables = [scaling.read_table(fr.iloc[g.integers(0, len(fr), len(fr))].reset_index(drop=True), duplicates="keep")
              for _ in range(args.n)]
    singles = []
    for i in range(args.single_repeats):
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            scaling.fit(tables[i])
        singles.append(time.perf_counter() - t0)
    single = statistics.median(singles)
    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        coll = scaling.fit_many(tables, n_jobs=args.n_jobs, rng=0)
    t_many = time.perf_counter() - t0
    info = coll.info["families"]["loss"]
    print(f"data: {args.n} bootstrap resample tables of Epoch's 240 points; 4,500-start grid; n_jobs={args.n_jobs}; "
          f"cpus={os.cpu_count()}")
    print(f"(a) one-at-a-time scaling.fit: median {single:.3f} s per fit (runs {[round(s, 3) for s in singles]}) "
          f"-> {single * args.n:.1f} s for {args.n}")
    print(f"(b) scaling.fit_many:           {t_many:.1f} s  (solve {coll.info['seconds_solve']:.1f} s)  "
          f"speed-up {single * args.n / t_many:.1f}x")
    print(f"    strategy {info['strategy']}: pilots {info.get('pilots')}, verified {info['verified']} problems "
          f"against full-grid fits, missed {info['missed']}, escalations {info['escalations']}, "
          f"candidates {info.get('n_candidates')}; statuses {dict(zip(*np.unique(coll.status, return_counts=True)))}")
    print(f"    warnings: {len(rec)} ({sorted({w.category.__name__ for w in rec})})")
    pick = np.random.default_rng(1).choice(args.n, size=min(args.check, args.n), replace=False)
    d_obj, d_par = [], []
    for i in pick:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = scaling.fit(tables[i])
        d_obj.append((coll[i].objective - ref.objective) / ref.objective)
        d_par.append(float(np.max(np.abs(coll[i].params.to_numpy() / ref.params.to_numpy() - 1))))
    print(f"check against one-at-a-time scaling.fit on {len(pick)} random problems: max relative objective "
          f"difference (many - single) {max(d_obj):.2e} (min {min(d_obj):.2e}); max relative parameter "
          f"difference {max(d_par):.2e}")
    print(f"target: <= 60 s on 2 cores: {'met' if t_many <= 60 else 'NOT met'}")


if __name__ == "__main__":
    main()
