"""The OLMo ladder (Bhagia et al. 2024): the dataset, the 16 chained predictions of the paper within
0.15 points, and the recipe slips that must break them (plain least squares in step 1, no warm-up skip,
no smoothing, the rerun files)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from conftest import load_or_skip
from scaling.datasets import fetch_file, get_dataset
from scaling.reproduce import olmo_ladder as R
from scaling.tasks import task_law


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return load_or_skip("olmo_ladder").to_frame()


@pytest.fixture(scope="module")
def base(frame: pd.DataFrame) -> pd.DataFrame:
    """The paper's recipe on the 16 training runs (point estimates)."""
    return R.predictions(R.fit_tasks(R.ladder_curves(frame)), frame)


def test_dataset(frame: pd.DataFrame) -> None:
    spec = get_dataset("olmo_ladder")
    assert len(frame) == spec.rows == 4196
    assert frame["run"].nunique() == 41
    assert frame.groupby("role")["run"].nunique().to_dict() == {"ladder": 25, "rerun": 5, "target": 2,
                                                                "target-curve": 9}
    runs = R.ladder_curves(frame)
    assert runs["run"].nunique() == 16 and not runs["run"].str.endswith("rerun").any()
    n = runs.groupby("size")["n_params"].first().to_dict()
    assert n == {"190M": 190354176.0, "370M": 371262464.0, "760M": 758220288.0, "1B": 1279395840.0}
    # D of a run = its total tokens at the last checkpoint
    assert frame.loc[frame["run"] == "190M-1xC", "n_tokens"].max() == pytest.approx(3.812622e9, rel=1e-6)
    assert frame.loc[frame["run"] == "peteish7_eval_anneal", "n_tokens"].iloc[0] == 3945065873408.0
    # MMLU = the weighted mean of its four test subsets
    row = frame.iloc[100]
    w = {"stem": 0.215, "humanities": 0.335, "social_sciences": 0.219, "other": 0.231}  # REFERENCE.md §12
    assert row["acc_mmlu_test"] == pytest.approx(sum(row[f"acc_mmlu_{k}_test"] * v for k, v in w.items())
                                                 / sum(w.values()))
    raw = pd.read_csv(fetch_file("olmo_ladder", "src/scripts/paper/data/ladder-runs/190M-1xC.csv", download=False))
    assert frame.loc[frame["run"] == "190M-1xC", "bpb_hellaswag_val"].tolist() == \
        raw["eval/downstream_bpb/hellaswag_val_rc_5shot_bpb"].tolist()
    table = load_or_skip("olmo_ladder")
    assert len(table.excluded) == 2 and (table.excluded["reason"].str.contains("step 0")).all()


def test_the_papers_sixteen_predictions(base: pd.DataFrame) -> None:
    checks = R.prediction_checks(base)
    assert len(checks) == 16
    bad = [(c.name, c.published, round(c.ours, 3)) for c in checks if not c.within]
    assert not bad, bad
    for target, mae in R.PUBLISHED_MAE.items():
        assert base.loc[base["target"] == target, "error"].abs().mean() == pytest.approx(mae, abs=0.02)
    chained = pd.read_csv(fetch_file("olmo_ladder", R.CHAINED_MAIN, download=False)).set_index("Task")
    ours = base[base["target"] == "13B-5T"].set_index("task")["predicted"]
    for name, key in R._CHAINED_KEYS.items():
        assert ours[name] == pytest.approx(100 * chained.loc[key, "Pred"], abs=1e-4)
        assert base.set_index(["task", "target"]).loc[(name, "13B-5T"), "actual"] == \
            pytest.approx(100 * chained.loc[key, "Actual"], abs=1e-9)


def _slipped(frame: pd.DataFrame, task: str, *, reruns: bool = False, **kw) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    key = R.TASKS[task]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        law = task_law(R.ladder_curves(frame, reruns=reruns), f"bpb_{key}", f"acc_{key}", task=task, **kw)
    return R.predictions({task: law}, frame, tasks=R.TASKS)


@pytest.mark.parametrize("task, slip", [
    ("MMLU", {"objective": "squared"}),               # plain least squares in step 1
    ("MMLU", {"warmup": 0.0}),                        # no warm-up skip in step 2
    ("ARC-Challenge", {"last": 1, "window": 1}),      # no smoothing (last checkpoint; raw curves)
    ("ARC-Challenge", {"reruns": True}),              # the -1xC-rerun files instead of the originals
])
def test_each_recipe_slip_breaks_the_reproduction(frame: pd.DataFrame, base: pd.DataFrame, task: str,
                                                  slip: dict) -> None:  # type: ignore[type-arg]
    slipped = _slipped(frame, task, **slip)
    ref = base[base["task"] == task].set_index("target")["predicted"]
    moved = (slipped.set_index("target")["predicted"] - ref).abs()
    assert moved.max() > 0.15, moved
    checks = R.prediction_checks(slipped)
    assert not all(c.within for c in checks), [(c.name, c.ours) for c in checks]


def test_variance_analysis_matches_the_repos_table(frame: pd.DataFrame) -> None:
    from scaling.tasks import variance_analysis

    tasks = {name: (f"bpb_{k}", f"acc_{k}") for name, k in {**R.TASKS, **R.VARIANCE_EXTRA}.items()}
    v = variance_analysis(frame, tasks, run="1B-10xC", last=10).set_index("task")
    pub = pd.read_csv(fetch_file("olmo_ladder", R.VARIANCE_CSV, download=False)).set_index("Task")
    for name in tasks:
        p = pub.loc[R._VARIANCE_NAMES[name]]
        assert v.loc[name, "loss_sd"] == pytest.approx(p["Loss SD"], rel=1e-9)
        assert v.loc[name, "accuracy_cv"] == pytest.approx(p["Accuracy Rel SD (CV)"], rel=1e-9)
    assert set(v.index[~v["predictable"]]) == {"OpenBookQA", "Winogrande", "BoolQ"}


@pytest.mark.slow
def test_reproduction_end_to_end(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from scaling.reproduce import reproduce

    load_or_skip("olmo_ladder")
    rep = reproduce("olmo-ladder", tmp_path, bootstrap=10, formats=("png",))
    assert rep.passed, rep.summary_lines()
    names = {p.name for p in rep.figures}
    assert {"olmo_step1.png", "olmo_step2.png", "olmo_chained.png", "olmo_errors.png"} <= names
    t = rep.table("Predicted vs actual accuracy (points), 16-run ladder")
    assert len(t) == 8 and t["7B 90% interval"].str.startswith("[").all()
    assert np.isfinite(rep.check("mean absolute error with the 3B runs, 7B-4T").ours)


def test_cli_predict_task(capsys) -> None:  # type: ignore[no-untyped-def]
    import json

    from scaling.cli import main

    load_or_skip("olmo_ladder")
    args = ["predict-task", "dataset:olmo_ladder", "--where", "role=ladder", "--where", "size=190M,370M,760M,1B",
            "--where", "multiplier=1,2,5,10", "--loss-column", "bpb_piqa_val", "--accuracy-column", "acc_piqa_val",
            "--n-params", "6887575552", "--n-tokens", "3945065873408", "--bootstrap", "10"]
    assert main(args + ["--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["runs"] == 16
    assert 100 * out["prediction"][0]["accuracy"] == pytest.approx(R.PUBLISHED["PIQA"][0], abs=0.15)
    assert out["prediction"][0]["lower"] < out["prediction"][0]["accuracy"] < out["prediction"][0]["upper"]
    assert main(args[:4] + ["--where", "nosuch=1"] + args[4:]) == 2
    assert "no column 'nosuch'" in capsys.readouterr().err
    assert main(args[:4] + ["--where", "role"] + args[4:]) == 2
    assert "COLUMN=V1,V2" in capsys.readouterr().err
    assert main(args + ["--n-tokens", "1e12", "2e12"]) == 2  # two D for one N
    assert "--n-tokens takes one value or one per --n-params" in capsys.readouterr().err
