"""Readers of training logs (TensorBoard, W&B, MLflow, folders of per-run CSVs) and read_table's log options
(metric=, metadata=, run=, log10=): real files written with the formats' own tools, read back exactly."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tensorboard.summary as tb_summary  # the 'logs' extra, listed in the 'test' extra

import scaling as sc
from scaling.data import read_csv_runs, read_mlflow, read_tensorboard, read_wandb
from scaling.errors import DataError


DATA = Path(os.environ.get("SCALING_DATA_DIR", "")) / "olmo_ladder" / "src" / "scripts" / "paper"


def _curve(n: float, steps: range) -> list[tuple[int, float, float]]:
    """(step, tokens, loss) of a Chinchilla-like curve with 1e6 tokens per step."""
    return [(s, s * 1e6, 1.8 + 400 * n ** -0.34 + 410 * (s * 1e6) ** -0.28) for s in steps]


# ----------------------------------------------------------------------------------------------------
# TensorBoard


def _write_tb_v2(folder: Path, n: float, steps: range) -> list[tuple[int, float, float]]:
    """TensorBoard 2's own writer (scalars as tensors)."""
    w = tb_summary.Writer(str(folder))
    rows = _curve(n, steps)
    for s, d, loss in rows:
        w.add_scalar("eval/loss", loss, s)
        w.add_scalar("train/tokens", d, s)
        w.add_scalar("train/lr", 1e-3, s)
    w.close()
    return rows


def _write_tb_legacy(folder: Path, n: float, steps: range) -> list[tuple[int, float, float]]:
    """Legacy simple_value scalars, as PyTorch's and tensorboardX's writers store them, through
    TensorBoard's event-file writer and protos."""
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    w = EventFileWriter(str(folder))
    rows = _curve(n, steps)
    for s, d, loss in rows:
        summ = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag="eval/loss", simple_value=loss),
                                          summary_pb2.Summary.Value(tag="train/tokens", simple_value=d)])
        w.add_event(event_pb2.Event(step=s, wall_time=1.7e9 + s, summary=summ))
    w.close()
    return rows


def test_read_tensorboard_both_encodings_and_runs_by_folder(tmp_path: Path) -> None:
    a = _write_tb_v2(tmp_path / "sweep" / "m100M", 1e8, range(100, 1100, 100))
    b = _write_tb_legacy(tmp_path / "sweep" / "m400M", 4e8, range(200, 2200, 200))
    df = read_tensorboard(tmp_path / "sweep")
    assert list(df.columns) == ["run", "step", "eval/loss", "train/lr", "train/tokens"]
    assert sorted(df["run"].unique()) == ["m100M", "m400M"]
    for run, rows in (("m100M", a), ("m400M", b)):
        got = df[df["run"] == run].sort_values("step")
        assert got["step"].tolist() == [r[0] for r in rows]
        # float32 in the event files: exact to float32 precision
        np.testing.assert_allclose(got["eval/loss"], [r[2] for r in rows], rtol=1e-6)
        np.testing.assert_allclose(got["train/tokens"], [r[1] for r in rows], rtol=1e-6)
    assert df.loc[df["run"] == "m400M", "train/lr"].isna().all()  # never logged there

    only = read_tensorboard(tmp_path / "sweep", tags=["eval/loss"])
    assert list(only.columns) == ["run", "step", "eval/loss"] and len(only) == 20
    with pytest.raises(DataError, match=r"Tags \['eval/los'\].*must be logged.*'eval/loss'"):
        read_tensorboard(tmp_path / "sweep", tags="eval/los")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="TensorBoard event files"):
        read_tensorboard(tmp_path / "empty")


def test_read_table_on_an_event_folder_with_metadata(tmp_path: Path) -> None:
    _write_tb_v2(tmp_path / "logs" / "small", 1e8, range(100, 1100, 100))
    _write_tb_legacy(tmp_path / "logs" / "large", 4e8, range(100, 1100, 100))
    meta = pd.DataFrame({"run": ["small", "large"], "params": [1e8, 4e8], "total_steps": [1000, 1000]})
    t = sc.read_table(tmp_path / "logs", metric="eval/loss", metadata=meta,
                      columns={"n_tokens": "train/tokens"})
    assert len(t) == 20 and t.meta["metric"] == "eval/loss"
    assert t.meta["metadata"] == {"source": "DataFrame", "on": ["run"], "columns": ["params", "total_steps"]}
    assert set(t["planned_steps"]) == {1000.0}
    f = t.final()
    assert len(f) == 2 and f["step"].tolist() == [1000, 1000]
    np.testing.assert_allclose(np.sort(f.n_params), [1e8, 4e8])


# ----------------------------------------------------------------------------------------------------
# W&B


def test_read_wandb_chart_export_and_history(tmp_path: Path) -> None:
    steps = np.arange(100, 600, 100)
    chart = pd.DataFrame({"Step": steps})
    for run, base in (("lr-1e-3", 3.0), ("lr-3e-3", 2.9)):
        chart[f"{run} - eval/loss"] = base - 0.1 * np.arange(5)
        chart[f"{run} - eval/loss__MIN"] = base - 0.1 * np.arange(5) - 0.01
        chart[f"{run} - eval/loss__MAX"] = base - 0.1 * np.arange(5) + 0.01
    chart.loc[4, "lr-3e-3 - eval/loss"] = np.nan  # a run that logged one value fewer
    chart.to_csv(tmp_path / "chart.csv", index=False)
    df = read_wandb(tmp_path / "chart.csv")
    assert list(df.columns) == ["run", "step", "eval/loss"]
    assert len(df) == 9
    np.testing.assert_allclose(df.loc[df["run"] == "lr-1e-3", "eval/loss"], 3.0 - 0.1 * np.arange(5))

    hist = pd.DataFrame({"_step": steps, "_runtime": steps * 2.0, "eval/loss": 3.0 - 0.1 * np.arange(5),
                         "tokens": steps * 1e6})
    hist.to_csv(tmp_path / "run-abc.csv", index=False)
    h = read_wandb(tmp_path / "run-abc.csv")
    assert h["run"].unique().tolist() == ["run-abc"] and h["step"].tolist() == steps.tolist()
    t = sc.read_table(tmp_path / "run-abc.csv", format="wandb", metric="eval/loss",
                      metadata={"run": ["run-abc"], "n_params": [1e8]})
    np.testing.assert_allclose(t.loss, hist["eval/loss"])
    np.testing.assert_allclose(t.n_tokens, hist["tokens"])


# ----------------------------------------------------------------------------------------------------
# MLflow


def _write_mlflow_run(root: Path, exp: str, run_id: str, name: str, params: dict[str, str],
                      metrics: dict[str, list[tuple[int, float, int]]]) -> None:
    """MLflow's file-store layout: <exp>/<run>/{meta.yaml, params/<k>, tags/mlflow.runName, metrics/<name>}."""
    d = root / exp / run_id
    (d / "params").mkdir(parents=True)
    (d / "tags").mkdir()
    (d / "meta.yaml").write_text(f"run_id: {run_id}\nexperiment_id: '{exp}'\n")
    (d / "tags" / "mlflow.runName").write_text(name)
    for k, v in params.items():
        (d / "params" / k).write_text(v)
    for metric, lines in metrics.items():
        f = d / "metrics" / metric
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text("".join(f"{ts} {v!r} {s}\n" for ts, v, s in lines))


def test_read_mlflow_metrics_params_and_restarts(tmp_path: Path) -> None:
    root = tmp_path / "mlruns"
    _write_mlflow_run(root, "1", "a1b2", "small", {"n_params": "70M", "peak_lr": "0.001"},
                      {"eval/loss": [(1000, 3.5, 100), (2000, 3.2, 200), (3000, 3.0, 300)],
                       "tokens": [(1000, 1e8, 100), (2000, 2e8, 200), (3000, 3e8, 300)]})
    # a restarted run logs step 200 again: the later value is kept, as MLflow shows it
    _write_mlflow_run(root, "1", "c3d4", "large", {"n_params": "1.4B", "peak_lr": "0.0003"},
                      {"eval/loss": [(1000, 3.1, 100), (2000, 9.9, 200), (4000, 2.8, 200)],
                       "tokens": [(1000, 1e8, 100), (2000, 2e8, 200), (4000, 2e8, 200)]})
    df = read_mlflow(root)
    assert list(df.columns) == ["run", "step", "eval/loss", "tokens", "n_params", "peak_lr"]
    large = df[df["run"] == "large"]
    assert large["step"].tolist() == [100, 200] and large["eval/loss"].tolist() == [3.1, 2.8]
    t = sc.read_table(root, metric="eval/loss")  # a folder: detected as an MLflow store
    assert sorted(set(t.n_params)) == [7e7, 1.4e9] and sorted(set(t["lr"])) == [3e-4, 1e-3]
    assert len(t) == 5
    with pytest.raises(DataError, match="'timestamp value step'"):
        (root / "1" / "a1b2" / "metrics" / "tokens").write_text("oops\n")
        read_mlflow(root)


# ----------------------------------------------------------------------------------------------------
# folders of per-run CSVs (the OLMo ladder): real upstream files


def test_olmo_ladder_wide_csvs_with_metadata() -> None:
    if not (DATA / "configs" / "final.json").exists():
        if os.environ.get("SCALING_REQUIRE_DATA"):
            pytest.fail(f"OLMo ladder files missing under {DATA}")
        pytest.skip("OLMo ladder files not available (set SCALING_DATA_DIR)")
    cfg = json.loads((DATA / "configs" / "final.json").read_text())
    paths = [DATA.parents[2] / p for c in cfg.values() if c.get("mode") == "train" for p in c["paths"]]
    meta = pd.DataFrame([{"run": Path(p).stem, "n_params": c["n"]} for c in cfg.values() if c.get("mode") == "train"
                         for p in c["paths"]])
    frame = read_csv_runs(paths)
    metric = "eval/c4_en-validation/CrossEntropyLoss"
    t = sc.read_table(frame, metric=metric, metadata=meta, columns={"n_tokens": "throughput/total_tokens"},
                      n_params_convention="non-embedding")
    assert t.conventions.n_params == "non-embedding"
    assert t["run"].nunique() == len(paths) == 16
    f = t.final()
    one = pd.read_csv(DATA / "data" / "ladder-runs" / "190M-1xC.csv")
    last = one.iloc[one["_step"].idxmax()]
    row = f.to_frame().set_index("run").loc["190M-1xC"]
    assert row["step"] == last["_step"] and row["loss"] == last[metric]
    assert row["n_tokens"] == last["throughput/total_tokens"] and row["n_params"] == cfg["190M"]["n"]
    # rows where the chosen metric was not evaluated are excluded with their own code
    assert set(t.excluded["code"]) <= {"no_metric"}
    with pytest.raises(DataError, match=r"no metadata for '190M-5xC'"):
        sc.read_table(frame, metric=metric, metadata=meta[meta["run"] != "190M-5xC"],
                      columns={"n_tokens": "throughput/total_tokens"})


# ----------------------------------------------------------------------------------------------------
# read_table's log options


def test_metadata_errors() -> None:
    log = pd.DataFrame({"run": ["a", "a", "b"], "step": [1, 2, 1], "tokens": [1e9, 2e9, 1e9], "loss": [3.0, 2.9, 3.1]})
    with pytest.raises(DataError, match=r"repeated in rows 0, 1"):
        sc.read_table(log, metadata={"run": ["a", "a", "b"], "n_params": [1e8, 1e8, 2e8]})
    with pytest.raises(DataError, match=r"Column\(s\) \['loss'\] of the metadata.*present in both"):
        sc.read_table(log, metadata={"run": ["a", "b"], "n_params": [1e8, 2e8], "loss": [1.0, 1.0]})
    with pytest.raises(DataError, match=r"one run-id column"):
        sc.read_table(log, metadata={"name": ["a", "b"], "n_params": [1e8, 2e8]})
    t = sc.read_table(log, metadata={"run": ["b", "a"], "n_params": [2e8, 1e8]})
    assert t.n_params.tolist() == [1e8, 1e8, 2e8]


def test_metric_rows_without_a_value_are_excluded_with_a_code() -> None:
    log = pd.DataFrame({"run": ["a"] * 4, "N": [1e8] * 4, "tokens": [1e9, 2e9, 3e9, 4e9],
                        "eval/c4": [3.0, np.nan, 2.8, np.nan], "eval/pile": [np.nan, 3.1, np.nan, 2.9]})
    t = sc.read_table(log, metric="eval/c4")
    assert t.loss.tolist() == [3.0, 2.8]
    assert t.excluded["code"].tolist() == ["no_metric", "no_metric"] and t.excluded["row"].tolist() == [1, 3]
    with pytest.raises(DataError, match=r"Options metric and columns\['loss'\]"):
        sc.read_table(log, metric="eval/c4", columns={"loss": "eval/pile"})
    with pytest.raises(DataError, match=r"Column\(s\) \['eval/c5'\]"):
        sc.read_table(log, metric="eval/c5")


def test_log10_columns() -> None:
    """OPT's ColPret file stores tokens and compute as log10: log10= reads them."""
    df = pd.DataFrame({"params": [1.25e8, 1.3e9], "log_tokens": [np.log10(3e11)] * 2,
                       "log_flops": [np.log10(6 * 1.25e8 * 3e11), np.log10(6 * 1.3e9 * 3e11)], "loss": [2.9, 2.4]})
    t = sc.read_table(df, columns={"n_tokens": "log_tokens", "flops": "log_flops"}, log10=["n_tokens", "flops"])
    np.testing.assert_allclose(t.n_tokens, [3e11, 3e11])
    np.testing.assert_allclose(t.flops, 6 * t.n_params * t.n_tokens)
    assert t.meta["log10"] == ("n_tokens", "flops")
    with pytest.raises(DataError, match=r"Option log10.*'tokens'"):
        sc.read_table(df, log10=["tokens"])
