"""FitSpec: a fit remembers what was fitted, and its conventions travel from the table to the planner."""

from __future__ import annotations

import dataclasses
import pickle
from pathlib import Path

import numpy as np
import pytest

import scaling as sc
from scaling.conventions import Conventions
from scaling.errors import DataError
from scaling.estimation.fitting import problem_from_result
from scaling.estimation.spec import FitSpec

DEMO = Path(__file__).resolve().parents[1] / "data" / "demo_runs.csv"
SMALL_GRID = {"E": [1.5, 2.0], "A": [100.0, 1000.0], "B": [100.0, 5000.0], "alpha": [0.3], "beta": [0.3]}


def _starts() -> np.ndarray:
    g = np.stack(np.meshgrid(*SMALL_GRID.values(), indexing="ij"), -1).reshape(-1, 5)
    return g


@pytest.fixture(scope="module")
def table8() -> sc.RunTable:
    return sc.read_table(DEMO, flops_per_token=8, n_params_convention="total")


@pytest.fixture(scope="module")
def fit8(table8: sc.RunTable) -> sc.FitResult:
    return sc.fit(table8, starts=_starts(), fixed={"E": 1.86}, rng=0)


def test_spec_records_what_was_fitted(fit8: sc.FitResult) -> None:
    spec = fit8.spec
    assert spec.law == {"name": "chinchilla", "options": {"fixed": {"E": 1.86}}}
    assert spec.fixed == {"E": 1.86} and spec.tied == {}
    assert (spec.loss, spec.delta, spec.max_iter) == ("huber", 1e-3, 1000)
    assert len(spec.starts) == len(_starts()) and spec.starts[0][0] == pytest.approx(1.86)
    assert spec.data_hash == fit8.provenance["data_hash"] and len(spec.data_hash) == 64
    assert spec.conventions == Conventions(flops_per_token=8.0, n_params="total")
    assert fit8.conventions.flops_label == "C = 8ND"
    with pytest.raises(TypeError, match="immutable"):
        spec.law["name"] = "kaplan-n"  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.loss = "squared"  # type: ignore[misc]


def test_spec_round_trips_json_and_pickle(fit8: sc.FitResult, tmp_path: Path) -> None:
    back = sc.FitResult.load(fit8.save(tmp_path / "f.json"))
    assert back.spec == fit8.spec and back == fit8
    assert FitSpec.from_dict(fit8.spec.to_dict()) == fit8.spec
    assert pickle.loads(pickle.dumps(fit8)).spec == fit8.spec


def test_problem_rebuilt_from_a_reloaded_fit_reaches_the_same_optimum(fit8: sc.FitResult, table8: sc.RunTable,
                                                                       tmp_path: Path) -> None:
    back = sc.FitResult.load(fit8.save(tmp_path / "f.json"))
    for table in (None, table8):
        problem, _, fitted = problem_from_result(back, table)
        assert len(fitted) == fit8.n_points
        ms = problem.solve()
        assert ms.f == pytest.approx(fit8.objective, rel=1e-10)


def test_problem_from_result_refuses_another_table(fit8: sc.FitResult, table8: sc.RunTable) -> None:
    other = table8.filter(table8.loss < np.max(table8.loss), reason="drop the worst run")
    with pytest.raises(DataError, match="Pass the table the fit was made on"):
        problem_from_result(fit8, other)


def test_conventions_validate() -> None:
    with pytest.raises(DataError, match="flops_per_token"):
        Conventions(flops_per_token=0)
    with pytest.raises(DataError, match="n_params"):
        Conventions(n_params="embedding")  # type: ignore[arg-type]
    with pytest.raises(DataError, match="unknown keys"):
        Conventions.from_dict({"k": 6})
    assert Conventions(flops_per_token=7.5).flops(2.0, 3.0) == 45.0
