"""Time `simple-scaling-laws` on the benchmark's data, in its own interpreter, for bench_fit / bench_bootstrap.

simple-scaling-laws (github.com/mmcdermott/simple-scaling-laws) is not on PyPI and declares
``requires-python >= 3.12``, so it usually cannot be imported by the interpreter running this repository.
This helper therefore runs it in a **subprocess**: the interpreter named by the environment variable
``SCALING_BENCH_SSL_PYTHON`` (which must be able to ``import simple_scaling_laws``), or else the running
interpreter if it can import the package itself. Without either, every entry point returns a one-line skip
note and nothing is timed. If the variable is set but the interpreter cannot run the package, the failure is
reported (with the subprocess's last error line), never silently skipped.

What is timed, in the subprocess, with BLAS (and polars) pinned to one thread, after one warm-up call,
as the median over repeats:

* **single fit** -- ``simple_scaling_laws.fit(frame, n_draws=1)``: its public entry point, which always
  runs the two-pass weighted least-squares point fit (a variable-projection grid over the exponents, then
  ``scipy.optimize.least_squares`` polishing the best starts) and then its bootstrap; one draw is the
  smallest bootstrap it accepts, so this is its point fit plus one refit.
* **1,000-draw bootstrap** -- ``simple_scaling_laws.uncertainty.bootstrap(..., n_draws=1000)`` on the
  inputs its own ``fit`` used (a wild cluster bootstrap with Webb weights over the configurations, one
  warm-started refit per draw), excluding the point fit -- like for like with our bootstrap benchmark,
  which also starts from a finished fit; plus ``fit(frame)`` end to end at its default 1,000 draws. The
  draws of the direct call are checked to be identical to those ``fit`` itself returns.

Its objective is least squares on the raw loss, ``0.5 * sum((L_hat - L)**2)`` (the run-level weights are
all one here: one run per configuration, one evaluation per run). The caller's objective -- Hoffmann's
summed Huber loss, delta = 1e-3, on log residuals -- is evaluated at its parameters (restated in raw units)
in the calling process, so "how much higher on Huber" is measured, not quoted.

The data go to the subprocess as JSON (exact for float64); the package's code is never imported here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import numpy as np

ENV_VAR = "SCALING_BENCH_SSL_PYTHON"
DELTA = 1e-3
TARGET = "test_loss__loss"
_PINNED = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
           "NUMEXPR_NUM_THREADS", "POLARS_MAX_THREADS")


# ----------------------------------------------------------------------------------------------- caller side
def huber_log_objective(N: np.ndarray, D: np.ndarray, L: np.ndarray, p: dict[str, float]) -> float:
    """Hoffmann's objective: summed Huber (delta 1e-3) of log(E + A/N^alpha + B/D^beta) - log(L)."""
    pred = p["E"] + p["A"] / N ** p["alpha"] + p["B"] / D ** p["beta"]
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.log(pred) - np.log(L)
    psi = np.clip(r, -DELTA, DELTA)
    return float(np.sum(psi * (r - 0.5 * psi)))


def half_sse(N: np.ndarray, D: np.ndarray, L: np.ndarray, p: dict[str, float]) -> float:
    """simple-scaling-laws' objective here: half the sum of squared raw-loss residuals."""
    pred = p["E"] + p["A"] / N ** p["alpha"] + p["B"] / D ** p["beta"]
    return float(0.5 * np.sum((pred - L) ** 2))


def _interpreter() -> tuple[str | None, str]:
    """(python to run the worker with, how it was chosen); None when the package cannot be had."""
    explicit = os.environ.get(ENV_VAR)
    if explicit:
        return explicit, f"{ENV_VAR}={explicit}"
    import importlib.util

    if importlib.util.find_spec("simple_scaling_laws") is not None:
        return sys.executable, "the running interpreter"
    return None, ""


def skip_note() -> str:
    return (f"skipped: simple-scaling-laws is not importable by this Python ({sys.version.split()[0]}); it is "
            f"not on PyPI and declares Python >= 3.12. Set {ENV_VAR} to a Python >= 3.12 that can import it "
            "(see benchmarks/README.md)")


def run_worker(N: np.ndarray, D: np.ndarray, L: np.ndarray, *, fit_repeats: int, boot_repeats: int,
               n_draws: int = 1000, timeout: float = 1800.0) -> dict[str, Any]:
    """Run the timing worker; returns its JSON, or {"status": "skipped"|"failed", "note": ...}."""
    python, how = _interpreter()
    if python is None:
        return {"status": "skipped", "note": skip_note()}
    payload = json.dumps({"N": np.asarray(N, float).tolist(), "D": np.asarray(D, float).tolist(),
                          "L": np.asarray(L, float).tolist(), "fit_repeats": int(fit_repeats),
                          "boot_repeats": int(boot_repeats), "n_draws": int(n_draws)})
    env = {**os.environ, **dict.fromkeys(_PINNED, "1")}
    try:
        proc = subprocess.run([python, os.path.abspath(__file__), "--worker"], input=payload, text=True,
                              capture_output=True, env=env, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return {"status": "failed", "note": f"FAILED with {how}: {exc}"}
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["(no error output)"])[-1]
        return {"status": "failed", "note": f"FAILED with {how} (exit {proc.returncode}): {last}"}
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["how"] = how
    return out


def _ratio(theirs: float, ours: float) -> str:
    r = theirs / ours
    return f"theirs/ours {r:.3g} (ours {r:.1f}x faster)" if r >= 1 else \
        f"theirs/ours {r:.3g} (ours {1 / r:.1f}x slower)"


def _header(w: dict[str, Any]) -> str:
    v = w["versions"]
    return (f"(d) simple-scaling-laws {v['simple_scaling_laws']} on Python {v['python']} (numpy {v['numpy']}, "
            f"scipy {v['scipy']}, polars {v['polars']}; {w['how']}; BLAS+polars threads pinned to 1)")


def fit_lines(N: np.ndarray, D: np.ndarray, L: np.ndarray, *, ours_seconds: float, ours_objective: float,
              ours_params: dict[str, float], repeats: int) -> list[str]:
    """Lines for bench_fit.py: its single-fit time and objective against ours."""
    w = run_worker(N, D, L, fit_repeats=repeats, boot_repeats=0)
    if w.get("status") != "ok":
        return [f"(d) simple-scaling-laws: {w['note']}"]
    p = w["fit"]["params_raw"]
    hub = huber_log_objective(N, D, L, p)
    return [
        _header(w),
        f"    fit(frame, n_draws=1) [point fit + 1 refit]: median {w['fit']['median']:.3f} s "
        f"(runs: {', '.join(f'{x:.3f}' for x in w['fit']['times'])}); ours {ours_seconds:.3f} s; "
        f"{_ratio(w['fit']['median'], ours_seconds)}",
        "    its params: " + ", ".join(f"{k}={p[k]:.6g}" for k in ("E", "A", "B", "alpha", "beta"))
        + f"; optimizer success {w['fit']['success']}; notes: {', '.join(w['fit']['notes']) or 'none'}",
        f"    summed Huber (delta {DELTA}, log residuals) at its params {hub:.10e} vs ours {ours_objective:.10e}: "
        f"{100 * (hub / ours_objective - 1):+.1f} %",
        f"    its own objective 0.5*sum((L_hat-L)^2) at its params {half_sse(N, D, L, p):.6e} (its optimizer "
        f"reports {w['fit']['cost']:.6e}) vs at ours {half_sse(N, D, L, ours_params):.6e}",
    ]


def bootstrap_lines(N: np.ndarray, D: np.ndarray, L: np.ndarray, *, ours_seconds: float, repeats: int,
                    n_draws: int) -> list[str]:
    """Lines for bench_bootstrap.py: its 1,000-draw bootstrap time against ours, timed in the same run."""
    w = run_worker(N, D, L, fit_repeats=0, boot_repeats=repeats, n_draws=n_draws)
    if w.get("status") != "ok":
        return [f"(d) simple-scaling-laws: {w['note']}"]
    b, e = w["bootstrap"], w["end_to_end"]
    se = b["se_raw"]
    return [
        _header(w),
        f"    uncertainty.bootstrap, {n_draws} draws (wild cluster, Webb weights, {b['n_clusters']} clusters; "
        f"point fit excluded): median {b['median']:.3f} s (runs: {', '.join(f'{x:.3f}' for x in b['times'])}); "
        f"ours (default) {ours_seconds:.3f} s; {_ratio(b['median'], ours_seconds)}",
        f"    fit(frame) end to end ({n_draws} draws): median {e['median']:.3f} s "
        f"(runs: {', '.join(f'{x:.3f}' for x in e['times'])}); direct call's draws identical to fit()'s: "
        f"{b['matches_fit']}; refits not converged: {b['n_failed']}",
        "    its bootstrap SEs (raw units): " + "  ".join(f"{k} {se[k]:.4g}" for k in ("E", "A", "B", "alpha", "beta")),
    ]


# ----------------------------------------------------------------------------------------------- worker side
def _worker() -> None:  # runs in the simple-scaling-laws interpreter; imports nothing from this repo
    import statistics
    import time

    try:
        from threadpoolctl import threadpool_limits
        threadpool_limits(1)
    except ImportError:  # the environment variables set by the caller still pin BLAS
        pass
    import polars as pl
    import scipy

    import simple_scaling_laws as ssl
    from simple_scaling_laws.artifact import package_version
    from simple_scaling_laws.data import build_dataset
    from simple_scaling_laws.fitting import compute_weights, parameter_bounds
    from simple_scaling_laws.model import raw_scale_params
    from simple_scaling_laws.uncertainty import bootstrap

    job = json.loads(sys.stdin.read())
    N, D, L = (np.asarray(job[k], dtype=float) for k in ("N", "D", "L"))
    frame = pl.DataFrame({"training_run_id": [f"r{i:03d}" for i in range(len(L))],
                          "model_size__n": N, "dataset_size__d": D, TARGET: L})
    n_draws = job["n_draws"]

    def timed(fn, repeats):
        fn()  # warm-up
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            out = fn()
            times.append(time.perf_counter() - t0)
        return out, {"median": statistics.median(times), "times": times}

    version = package_version()
    out: dict[str, Any] = {"status": "ok", "versions": {
        "python": sys.version.split()[0], "numpy": np.__version__, "scipy": scipy.__version__,
        "polars": pl.__version__,
        "simple_scaling_laws": "(source checkout, version unknown)" if version == "unknown" else version}}

    def raw(model, params) -> dict[str, float]:
        ref = np.array([model.manifest["predictors"][c]["reference"] for c in model.law.predictors])
        r = raw_scale_params(model.law, np.asarray(params, dtype=float), ref)
        return {"E": r["E"], "A": r["A"], "B": r["B"], "alpha": r["alpha"], "beta": r["beta"]}

    if job["fit_repeats"] > 0:
        model, t = timed(lambda: ssl.fit(frame, n_draws=1), job["fit_repeats"])
        tf = model.fits[TARGET]
        out["fit"] = {**t, "params_raw": raw(model, tf.params), "cost": tf.optimizer["cost"],
                      "success": bool(tf.optimizer["success"]),
                      "notes": sorted({n.code for n in model.warnings})}

    if job["boot_repeats"] > 0:
        model, te = timed(lambda: ssl.fit(frame, n_draws=n_draws), job["boot_repeats"])
        tf = model.fits[TARGET]
        # The inputs fit() handed to its bootstrap, rebuilt from its public results.
        dataset = build_dataset(frame)
        obs = dataset.observations[TARGET]
        log_x = dataset.log_x[:, dataset.column_indices(model.law.predictors)][obs.config_index]
        per_run_var = obs.eval_var_independent / np.maximum(obs.n_eval, 1)
        weights = compute_weights(tf.variance_components["run_var"], per_run_var)
        bounds = parameter_bounds(model.law, obs.mean, signed_amplitude=tf.signed_amplitude)
        seed = tf.pairing["seed"]

        def boot():
            return bootstrap(model.law, log_x, obs.mean, weights, bounds, tf.params, obs.config_index,
                             per_run_var, tf.run_sd, n_draws=n_draws, seed=seed, target=TARGET)

        u, tb = timed(boot, job["boot_repeats"])
        draws = np.array([list(raw(model, row).values()) for row in u.params])
        out["bootstrap"] = {**tb, "matches_fit": bool(np.array_equal(u.params, model.draws[TARGET].params)),
                            "n_failed": int(u.n_failed), "n_clusters": int(np.unique(obs.config_index).size),
                            "se_raw": dict(zip(("E", "A", "B", "alpha", "beta"),
                                               np.std(draws, axis=0, ddof=1).tolist()))}
        out["end_to_end"] = te
    print(json.dumps(out))


if __name__ == "__main__" and sys.argv[1:] == ["--worker"]:
    _worker()
