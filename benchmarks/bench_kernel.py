"""Benchmark: one evaluation of the summed Huber objective and its gradient, per start, on Epoch's 240 points.

Times, in one run and on the same starts (Hoffmann's grid, float32 as in the engine's screen):
  (a) the generic path: ``law.evaluate`` + its vector-Jacobian product inside ``Objective``;
  (b) Chinchilla's fused kernel (``Chinchilla.objective_kernel``), which ``Objective`` uses by default;
each for chunks of 100 and 500 starts per call (the engine chunks calls to ``CHUNK_ELEMENTS`` = 24,000
row x point elements, i.e. 100 starts here), and, where numba is installed (pip install 'scaling[fast]'),
  (c) the compiled screen's kernel (``scaling.estimation._compiled.chinchilla_point``, one start at a time,
      all 4,500 in one call).
Prints the median microseconds per start over repeats and ratios.

    python benchmarks/bench_kernel.py [--repeats 7]
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
from threadpoolctl import threadpool_limits  # noqa: E402

import scaling  # noqa: E402
from scaling.estimation.objectives import Objective  # noqa: E402
from scaling.laws.chinchilla import HOFFMANN_GRID  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    t = scaling.load_dataset("epoch_chinchilla")
    t = t.filter(t.loss < np.sort(t.loss)[-5], reason="5 highest losses (as Epoch)")
    X = {"n_params": t.n_params, "n_tokens": t.n_tokens}
    fused = Objective(scaling.get_law("chinchilla"), "huber", 1e-3, X, t.loss).astype(np.float32)
    generic = Objective(scaling.get_law("chinchilla"), "huber", 1e-3, X, t.loss).astype(np.float32)
    object.__setattr__(generic, "_kernel", None)  # the generic path, as for a law without a kernel
    grid = HOFFMANN_GRID.astype(np.float32)
    f1, g1 = fused(grid[:500])
    f2, g2 = generic(grid[:500])
    ok = np.isfinite(f2)
    print(f"data: Epoch's {len(t.loss)} points; float32; BLAS threads 1; max relative difference of the objective "
          f"(a) vs (b): {np.max(np.abs(f1[ok] - f2[ok]) / np.abs(f2[ok])):.1e}")
    print(f"{'starts per call':<18}{'(a) generic us':>16}{'(b) fused us':>14}{'(a)/(b)':>10}")
    fused_us = {}
    with threadpool_limits(limits=1):
        for rows in (100, 500):
            meds = []
            for obj in (generic, fused):
                times = []
                for _ in range(args.repeats):
                    s = time.perf_counter()
                    for j in range(0, len(grid), rows):
                        obj(grid[j:j + rows])
                    times.append((time.perf_counter() - s) / len(grid) * 1e6)
                meds.append(statistics.median(times))
            print(f"{rows:<18}{meds[0]:>16.2f}{meds[1]:>14.2f}{meds[0] / meds[1]:>9.2f}x")
            fused_us[rows] = meds[1]
        compiled_line(t, grid, fused, fused_us[100], args.repeats)
    print("note: timings on a shared or loaded machine are noisy; compare the ratios of one run")


def compiled_line(t, grid, fused, fused_us, repeats) -> None:
    from scaling.estimation import compiled

    if not compiled.available():
        print("(c) compiled kernel: not run, numba is not installed (pip install 'scaling[fast]')")
        return
    C = compiled._module()
    f32 = np.float32
    y = np.asarray(t.loss, dtype=f32)
    l2n = np.log2(np.asarray(t.n_params, dtype=float)).astype(f32)
    l2d = np.log2(np.asarray(t.n_tokens, dtype=float)).astype(f32)
    args = (l2n, l2d, np.log(y), y, np.ones_like(y), f32(1e-3), 0)
    Z = np.asarray(grid, dtype=float)
    fc, _ = C.chinchilla_batch(Z, *args)
    fb, _ = fused(grid)
    ok = np.isfinite(fb)
    times = []
    for _ in range(repeats):
        s = time.perf_counter()
        C.chinchilla_batch(Z, *args)
        times.append((time.perf_counter() - s) / len(Z) * 1e6)
    med = statistics.median(times)
    print(f"(c) compiled kernel, one start at a time: {med:.2f} us per start; (b)/(c) {fused_us / med:.2f}x "
          f"(the engine's 100 starts per call); max relative difference of the objective (b) vs (c): "
          f"{np.max(np.abs(fc[ok] - fb[ok]) / np.abs(fb[ok])):.1e}")


if __name__ == "__main__":
    main()
