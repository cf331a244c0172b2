"""benchmarks/_simple_scaling_laws.py: the simple-scaling-laws comparison helper of the benchmarks.

The package itself needs its own Python >= 3.12 and is not installed here, so these tests cover what runs in
this interpreter: the objective the benchmark prints next to ours must be exactly the engine's (on Epoch's
240 points, at our fitted parameters), and the skip / failure paths must say what happened.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import load_or_skip

_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "_simple_scaling_laws.py"
_spec = importlib.util.spec_from_file_location("_simple_scaling_laws", _PATH)
assert _spec is not None and _spec.loader is not None
ssl = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ssl)

_N = np.array([1e8, 1e9, 1e10])
_D = 20 * _N
_L = np.array([3.0, 2.5, 2.2])


def test_huber_objective_is_the_engines_at_our_fit() -> None:
    import scaling as sc

    t = load_or_skip("epoch_chinchilla", drop_highest_loss=5)
    res = sc.fit(t, law="chinchilla")
    got = ssl.huber_log_objective(t.n_params, t.n_tokens, t.loss, dict(res.params))
    assert got == pytest.approx(res.objective, rel=1e-12)
    # and half the raw-loss SSE is what its name says
    p = dict(res.params)
    pred = p["E"] + p["A"] / t.n_params ** p["alpha"] + p["B"] / t.n_tokens ** p["beta"]
    assert ssl.half_sse(t.n_params, t.n_tokens, t.loss, p) == pytest.approx(0.5 * np.sum((pred - t.loss) ** 2))


def test_skip_note_without_an_interpreter(monkeypatch: pytest.MonkeyPatch) -> None:
    if importlib.util.find_spec("simple_scaling_laws") is not None:
        pytest.skip("simple_scaling_laws is importable here, so the helper would run it")
    monkeypatch.delenv(ssl.ENV_VAR, raising=False)
    (line,) = ssl.fit_lines(_N, _D, _L, ours_seconds=1.0, ours_objective=1.0, ours_params={}, repeats=1)
    assert line.startswith("(d) simple-scaling-laws: skipped:") and ssl.ENV_VAR in line and "3.12" in line


def test_failure_is_reported_not_skipped(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(ssl.ENV_VAR, str(tmp_path / "no-such-python"))
    (line,) = ssl.bootstrap_lines(_N, _D, _L, ours_seconds=1.0, repeats=1, n_draws=10)
    assert "FAILED" in line and "no-such-python" in line
    if importlib.util.find_spec("simple_scaling_laws") is None:
        # an interpreter that runs but cannot import the package: its error line is passed on
        monkeypatch.setenv(ssl.ENV_VAR, sys.executable)
        (line,) = ssl.bootstrap_lines(_N, _D, _L, ours_seconds=1.0, repeats=1, n_draws=10)
        assert "FAILED" in line and "(exit 1)" in line and "ModuleNotFoundError" in line
