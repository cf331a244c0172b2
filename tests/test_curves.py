"""Loss curves in a RunTable: final points, checkpoint selection, best-of over lr/seeds, smoothing."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scaling.errors import DataError
from scaling import RunTable, read_table

SIZES = (1e8, 4e8)
LRS = (1e-3, 3e-3)
SEEDS = (0, 1, 2)
STEPS = 20
TOKENS_PER_STEP = 1e8
LR_PENALTY = {1e-3: 0.0, 3e-3: 0.05}  # lr 3e-3 is worse by 0.05 nats everywhere


def chinchilla(n: float, d: float) -> float:
    return 1.69 + 406.4 / n**0.34 + 410.7 / d**0.28


@pytest.fixture(scope="module")
def log() -> pd.DataFrame:
    """A synthetic training log: 2 sizes x 2 learning rates x 3 seeds, 20 checkpoints per run."""
    rng = np.random.default_rng(0)
    rows = []
    for n in SIZES:
        for lr in LRS:
            for seed in SEEDS:
                for step in range(1, STEPS + 1):
                    d = step * TOKENS_PER_STEP
                    rows.append({"run": f"N{n:g}-lr{lr:g}-s{seed}", "params": n, "tokens_seen": d,
                                 "step": step, "learning_rate": lr, "seed": seed,
                                 "loss": chinchilla(n, d) + LR_PENALTY[lr] + rng.normal(0.0, 0.01)})
    return pd.DataFrame(rows).sample(frac=1.0, random_state=1).reset_index(drop=True)  # shuffled rows


@pytest.fixture(scope="module")
def table(log: pd.DataFrame) -> RunTable:
    return read_table(log, name="log")


def test_log_reads_all_checkpoints(table: RunTable) -> None:
    assert len(table) == 2 * 2 * 3 * STEPS
    assert table.columns[:8] == ("n_params", "n_tokens", "flops", "loss", "run", "step", "seed", "lr")
    assert table.meta["derived"] == "flops"
    assert repr(table) == ("<RunTable 'log': 240 rows (12 runs), 2 distinct N, flops derived as "
                           "6·n_params·n_tokens, loss in nats>")


def test_final_keeps_last_checkpoint_per_run(table: RunTable, log: pd.DataFrame) -> None:
    f = table.final()
    assert len(f) == 12
    assert np.all(f.n_tokens == STEPS * TOKENS_PER_STEP)
    assert np.all(f["step"] == STEPS)
    assert sorted(f["run"]) == sorted(log["run"].unique())
    # the kept rows are the input's final rows, and every other row is reported
    expected = sorted(log.index[log["step"] == STEPS])
    assert sorted(f.source_rows) == expected
    assert len(f.excluded) == 240 - 12
    assert f.excluded["reason"].str.startswith("not the final checkpoint of its run").all()
    np.testing.assert_allclose(np.sort(f.loss), np.sort(log.loc[expected, "loss"]))
    assert f.meta["operations"][-1] == {"op": "final", "by": ["run"], "n_excluded": 228}


def test_final_by_other_columns_and_missing_run(table: RunTable) -> None:
    f = table.final(by=("n_params", "lr", "seed"))
    assert len(f) == 12
    no_run = read_table(table.to_frame().drop(columns=["run"]))
    with pytest.raises(DataError, match=r"Column 'run' \(option by of final\(\)\).*columns=\{'run'"):
        no_run.final()


def test_min_tokens_and_min_fraction(table: RunTable) -> None:
    t = table.min_tokens(1.5e9)  # steps 15..20
    assert len(t) == 12 * 6
    assert np.all(t.n_tokens >= 1.5e9)
    assert len(t.excluded) == 12 * 14
    assert set(t.excluded["reason"]) == {"n_tokens < 1.5e+09 (min_tokens(1.5e+09))"}
    m = table.min_fraction(0.5)  # steps 10..20 of 20
    assert len(m) == 12 * 11
    assert m.excluded["reason"].str.contains(r"× its run's final n_tokens \(2e\+09\) \(min_fraction\(0.5\)\)").all()
    assert len(table.min_fraction(1.0)) == 12
    with pytest.raises(DataError, match=r"Option f must be a finite number > 0 and <= 1; got 1.5"):
        table.min_fraction(1.5)
    with pytest.raises(DataError, match=r"Option x must be a finite number > 0; got -1"):
        table.min_tokens(-1)


def test_best_of_min_keeps_best_learning_rate(table: RunTable, log: pd.DataFrame) -> None:
    f = table.final()
    best = f.best_of(over=("lr", "seed"), rule="min")
    assert len(best) == 2
    for n in SIZES:
        i = list(best.n_params).index(n)
        finals = log[(log["params"] == n) & (log["step"] == STEPS)]
        assert best.loss[i] == finals["loss"].min()
        assert best["lr"].iloc[i] == 1e-3  # the better learning rate wins
    assert best.meta["best_of"] == {"over": ["lr", "seed"], "rule": "min", "key": ["n_params", "n_tokens"]}
    new = best.excluded[best.excluded["reason"].str.contains("best_of")]
    assert len(new) == 10
    assert new["reason"].str.contains(r"best_of\(over=\['lr', 'seed'\], rule='min'\)").all()
    assert "after final, best_of" in repr(best)


def test_best_of_mean_over_seeds_then_min_over_lr(table: RunTable, log: pd.DataFrame) -> None:
    f = table.final()
    mean = f.best_of(over="seed", rule="mean")
    assert len(mean) == 4  # per (N, lr)
    finals = log[log["step"] == STEPS]
    for n in SIZES:
        for lr in LRS:
            i = np.flatnonzero((mean.n_params == n) & (mean["lr"].to_numpy() == lr))
            assert len(i) == 1
            expected = finals[(finals["params"] == n) & (finals["learning_rate"] == lr)]["loss"].mean()
            assert mean.loss[i[0]] == pytest.approx(expected, rel=1e-15)
            # the seed-averaged row belongs to no single seed or run
            assert pd.isna(mean["seed"].iloc[i[0]]) and pd.isna(mean["run"].iloc[i[0]])
    combined = mean.excluded[mean.excluded["reason"].str.contains("combined into row")]
    assert len(combined) == 8
    assert combined["reason"].str.contains(r"by best_of\(over=\['seed'\], rule='mean'\)").all()
    median = f.best_of(over="seed", rule="median")
    assert len(median) == 4 and median.meta["best_of"]["rule"] == "median"
    best = mean.best_of(over="lr")
    assert len(best) == 2 and np.all(best["lr"].to_numpy() == 1e-3)
    assert [op["op"] for op in best.meta["operations"]] == ["final", "best_of", "best_of"]


def test_best_of_errors(table: RunTable) -> None:
    with pytest.raises(DataError, match=r"Option rule must be one of 'min', 'mean', 'median'; got 'max'"):
        table.best_of(over="seed", rule="max")  # type: ignore[arg-type]
    with pytest.raises(DataError, match=r"Column 'sede' in best_of\(\)"):
        table.best_of(over="sede")
    with pytest.raises(DataError, match=r"Option over of best_of\(\).*'loss'"):
        table.best_of(over="loss")
    plain = read_table(pd.DataFrame({"N": [1e8, 2e8], "D": [1e9, 1e9], "loss": [3.0, 2.9]}))
    with pytest.raises(DataError, match=r"no lr, seed or run column"):
        plain.best_of()


def test_smooth_gaussian_recorded_and_exact(table: RunTable) -> None:
    s = table.smooth(window=10)
    assert s.meta["smoothing"] == {"method": "gaussian", "window": 10, "std": 2.5, "by": ["run"]}
    assert len(s) == len(table) and s.excluded.empty
    np.testing.assert_array_equal(s["loss_raw"], table.loss)  # raw values kept
    # check one run against a direct computation
    frame = s.to_frame()
    run = frame[frame["run"] == "N1e+08-lr0.001-s0"].sort_values("n_tokens")
    raw = run["loss_raw"].to_numpy()
    offsets = np.arange(-5, 6)
    w = np.exp(-0.5 * (offsets / 2.5) ** 2)
    i = 7
    expected = np.sum(w * raw[i - 5:i + 6]) / w.sum()
    assert run["loss"].iloc[i] == pytest.approx(expected, rel=1e-14)
    edge = np.sum(w[5:] * raw[:6]) / w[5:].sum()  # renormalised at the start of a run
    assert run["loss"].iloc[0] == pytest.approx(edge, rel=1e-14)
    # on a straight noisy line (no curvature bias) smoothing reduces the noise about 3-fold
    rng = np.random.default_rng(1)
    line = 3.0 - np.linspace(0, 0.5, 400)
    noisy = read_table(pd.DataFrame({"run": "r", "N": 1e8, "D": np.arange(1, 401) * 1e8,
                                     "loss": line + rng.normal(0, 0.02, 400)}))
    resid_raw = noisy.loss[10:-10] - line[10:-10]
    resid = noisy.smooth(window=10).loss[10:-10] - line[10:-10]
    assert np.std(resid) < 0.5 * np.std(resid_raw)


def test_smooth_ema(table: RunTable) -> None:
    s = table.smooth("ema", alpha=0.3)
    frame = s.to_frame()
    run = frame[frame["run"] == "N4e+08-lr0.003-s2"].sort_values("step")
    raw = run["loss_raw"].to_numpy()
    t = 4
    w = 0.7 ** np.arange(t, -1, -1)
    assert run["loss"].iloc[t] == pytest.approx(np.sum(w * raw[: t + 1]) / w.sum(), rel=1e-14)
    assert run["loss"].iloc[0] == raw[0]
    assert s.meta["smoothing"] == {"method": "ema", "alpha": 0.3, "by": ["run"]}
    twice = s.smooth("ema", alpha=0.3)
    np.testing.assert_array_equal(twice["loss_raw"], table.loss)  # still the original raw values


@settings(max_examples=30, deadline=None)
@given(values=st.lists(st.floats(min_value=1.0, max_value=5.0), min_size=1, max_size=30),
       window=st.integers(1, 15))
def test_smoothing_a_constant_curve_is_exact_and_bounded(values: list[float], window: int) -> None:
    n = len(values)
    df = pd.DataFrame({"run": "r", "N": 1e8, "D": np.arange(1, n + 1) * 1e8, "loss": values})
    t = read_table(df)
    for s in (t.smooth(window=window), t.smooth("ema", alpha=0.5)):
        assert np.all(s.loss >= min(values) - 1e-12) and np.all(s.loss <= max(values) + 1e-12)
    flat = read_table(df.assign(loss=2.5))
    np.testing.assert_allclose(flat.smooth(window=window).loss, 2.5, rtol=1e-15)


def test_smooth_errors(table: RunTable) -> None:
    with pytest.raises(DataError, match=r"Option alpha of smooth\(method='ema'\) must be a number in \(0, 1\]"):
        table.smooth("ema")
    with pytest.raises(DataError, match=r"Option alpha must be a finite number > 0 and <= 1; got 1.5"):
        table.smooth("ema", alpha=1.5)
    with pytest.raises(DataError, match=r"Options window and std of smooth\(method='ema'\)"):
        table.smooth("ema", alpha=0.1, window=5)
    with pytest.raises(DataError, match=r"Option window of smooth\(\) must be an integer >= 1; got 0"):
        table.smooth(window=0)
    with pytest.raises(DataError, match=r"Option method must be one of 'gaussian', 'ema'; got 'box'"):
        table.smooth("box")  # type: ignore[arg-type]


def test_checkpoints_without_tell_apart_columns_are_an_error(log: pd.DataFrame) -> None:
    """Seeds logged without a seed or run column share (N, D) with different losses."""
    anonymous = log.drop(columns=["run", "seed", "step"])
    with pytest.raises(DataError) as info:
        read_table(anonymous)
    msg = str(info.value)
    assert "Rows with the same n_params, n_tokens, lr" in msg
    assert "(0-based rows)" in msg and "duplicates='mean'" in msg and "'seed' or 'run' column" in msg
    averaged = read_table(anonymous, duplicates="mean")
    assert len(averaged) == 2 * 2 * STEPS
    assert len(averaged.excluded) == 2 * 2 * STEPS * 2
    assert averaged.meta["duplicates"] == "mean"


def test_gpt3_style_curves_real_file() -> None:
    """The digitised GPT-3 curves (colpret_curves): tokens in billions in a column named 'step'."""
    path = Path(os.environ.get("SCALING_DATA_DIR", "/nonexistent")) / "colpret_curves/raw_data/gpt3/extracted.csv"
    if not path.is_file():
        from conftest import REQUIRE_DATA

        if REQUIRE_DATA:
            pytest.fail(f"dataset not available: {path} [SCALING_REQUIRE_DATA=1]")
        pytest.skip(f"dataset not available: {path}")
    sizes = {"small": 125e6, "medium": 350e6, "large": 760e6, "xl": 1.3e9, "2.7b": 2.7e9, "6.7b": 6.7e9,
             "13b": 13e9, "175b": 175e9}
    raw = pd.read_csv(path)
    df = raw.assign(n_params=raw["model"].map(sizes))
    t = read_table(df, columns={"run": "model", "n_tokens": "step", "loss": "train_loss", "step": None},
                   scale={"n_tokens": 1e9}, duplicates="mean", on_invalid="exclude", name="gpt3")
    assert t["run"].nunique() == 8
    assert len(t) + len(t.excluded) == len(raw)
    missing = raw["train_loss"].isna()
    invalid = t.excluded[t.excluded["reason"].str.startswith("invalid loss")]
    assert sorted(invalid["row"]) == list(np.flatnonzero(missing))
    assert (invalid["reason"] == "invalid loss: missing or NaN (NaN)").all()
    # digitised points sharing a step are averaged, and reported
    combined = t.excluded[t.excluded["reason"].str.contains("duplicates='mean'")]
    n_groups = raw[~missing].groupby(["model", "step"]).ngroups
    assert len(t) == n_groups and len(combined) == (~missing).sum() - n_groups
    final = t.final()
    assert len(final) == 8
    assert final.n_tokens.max() == pytest.approx(raw["step"].max() * 1e9)
    assert math.isfinite(final.smooth(window=5).loss.sum())


# ----------------------------------------------------------------------------------------------------
# sweeps: run identity from several columns, planned ends, best run, exclusion codes, round trip


def sweep_log() -> pd.DataFrame:
    """2 models x 2 peak lrs x 2 lengths; 5 checkpoints each; run (m1, 1000, 3e-3) continued 2 checkpoints past
    its planned end at a worse loss; no run-id column (the run is model + total_steps + peak_lr)."""
    rows = []
    for model, n in (("m1", 1e8), ("m2", 4e8)):
        for lr, pen in ((1e-3, 0.03), (3e-3, 0.0)):
            for total in (1000, 2000):
                extra = 2 if (model, total, lr) == ("m1", 1000, 3e-3) else 0
                for k in range(1, 6 + extra):
                    step = k * total // 5
                    d = step * 2e5 * n / 1e8
                    rows.append({"model": model, "N": n, "total_steps": total, "peak_lr": lr, "step": step,
                                 "tokens": d, "loss": chinchilla(n, d) + pen + (0.2 if k > 5 else 0.0)})
    return pd.DataFrame(rows)


def test_run_identity_from_several_columns() -> None:
    t = read_table(sweep_log(), run=["model", "total_steps", "peak_lr"])
    assert t.meta["run_columns"] == ("model", "total_steps", "peak_lr")
    assert t["run"].nunique() == 8
    assert t["run"].iloc[0] == "model=m1, total_steps=1000, peak_lr=0.001"
    assert t.meta["columns"]["planned_steps"] == "total_steps" and t.meta["columns"]["lr"] == "peak_lr"
    with pytest.raises(DataError, match=r"Column\(s\) \['modle'\] \(options run / metric\)"):
        read_table(sweep_log(), run=["modle", "peak_lr"])
    with pytest.raises(DataError, match=r"Options run and columns\['run'\]"):
        read_table(sweep_log(), run="model", columns={"run": "peak_lr"})


def test_final_stops_at_the_planned_end_and_says_which_rule() -> None:
    t = read_table(sweep_log(), run=["model", "total_steps", "peak_lr"])
    f = t.final()
    assert len(f) == 8 and (f["step"] == f["planned_steps"]).all()
    past = f.excluded[f.excluded["code"] == "past_planned_end"]
    assert past["step"].tolist() == [1200, 1400]
    assert past["reason"].str.startswith("checkpoint past its run's planned end (step 1200 > planned_steps 1000").any()
    assert f.meta["final"]["plan"] == "planned_steps" and f.meta["final"]["n_past_planned_end"] == 2
    assert f.meta["final"]["rule"] == "the last checkpoint of each run with step <= planned_steps"
    # without a plan: the largest n_tokens, and the rule says a plan is missing
    nf = read_table(sweep_log().drop(columns=["total_steps"]), run=["model", "peak_lr"], duplicates="keep").final()
    assert nf.meta["final"]["plan"] is None and "no planned_steps or planned_tokens column" in nf.meta["final"]["rule"]
    assert set(nf.excluded["code"]) == {"not_final"}


def test_final_with_planned_tokens() -> None:
    log = sweep_log()
    log["train_tokens_planned"] = log["total_steps"] * 2e5 * log["N"] / 1e8
    t = read_table(log.drop(columns=["total_steps"]).assign(rid=log["model"] + log["total_steps"].astype(str)),
                   run=["rid", "peak_lr"])
    f = t.final()
    assert f.meta["final"]["plan"] == "planned_tokens" and f.meta["final"]["n_past_planned_end"] == 2
    np.testing.assert_allclose(f.n_tokens, f["planned_tokens"])


def test_best_of_one_row_per_nd_and_best_run_keeps_the_curve() -> None:
    t = read_table(sweep_log(), run=["model", "total_steps", "peak_lr"])
    b = t.final().best_of(over="lr")
    assert len(b) == 4 and set(b["lr"]) == {3e-3}
    assert (b.excluded.groupby("code").size().to_dict()
            == {"not_best": 4, "not_final": 8 * 4, "past_planned_end": 2})
    r = t.best_run(over="lr")
    assert r["run"].nunique() == 4 and set(r["lr"]) == {3e-3}
    assert len(r) == 4 * 5  # whole curves up to the planned end
    codes = r.excluded.groupby("code").size().to_dict()
    assert codes == {"not_best_run": 4 * 5, "past_planned_end": 2}
    reason = r.excluded.loc[r.excluded["code"] == "not_best_run", "reason"].iloc[0]
    assert "is not the lowest among runs with the same (n_params, n_tokens)" in reason and "kept run 'model=" in reason
    assert r.meta["best_run"]["runs"] == 4
    # final checkpoints logged a step apart (D within 0.1 %) still count as one (N, D)
    jitter = sweep_log()
    jitter.loc[jitter["peak_lr"] == 1e-3, "tokens"] *= 1.0004
    assert len(read_table(jitter, run=["model", "total_steps", "peak_lr"]).final().best_of(over="lr")) == 4


def test_best_of_names_a_column_that_splits_an_nd() -> None:
    log = sweep_log()
    two = pd.concat([log.assign(seed=0), log.assign(seed=1, loss=log["loss"] + 0.001)], ignore_index=True)
    f = read_table(two, run=["model", "total_steps", "peak_lr", "seed"]).final()
    with pytest.raises(DataError, match=r"it would leave 8 rows for 4 distinct \(N, D\).*seed also vary.*"
                                        r"over=\['lr', 'seed'\].*best_of\(over='seed', rule='mean'\)"):
        f.best_of(over="lr")
    with pytest.raises(DataError, match=r"best_run\(\).*seed also vary"):
        read_table(two, run=["model", "total_steps", "peak_lr", "seed"]).best_run(over="lr")
    assert len(f.best_of(over=["lr", "seed"])) == 4
    assert len(f.best_of(over="seed", rule="mean").best_of(over="lr")) == 4


def test_to_frame_csv_reads_back_unchanged(tmp_path: Path) -> None:
    log = sweep_log().assign(train_tokens=lambda d: d["tokens"])  # an alias of n_tokens kept as an extra column
    t = read_table(log, run=["model", "total_steps", "peak_lr"], columns={"n_tokens": "tokens"}).final()
    path = tmp_path / "t.csv"
    t.to_frame().to_csv(path, index=False)
    back = read_table(path)
    pd.testing.assert_frame_equal(back.to_frame(), t.to_frame(), check_dtype=False)
    assert back.data_hash() == t.data_hash()


def test_bootstrap_by_run_uses_the_run_identity() -> None:
    import scaling as sc

    t = read_table(sweep_log(), run=["model", "total_steps", "peak_lr"]).best_run(over="lr").min_fraction(0.3)
    res = sc.fit(t, "chinchilla", fixed={"E": 1.69}, uncertainty=sc.Bootstrap(n=10, by="run"), rng=0)
    assert res.uncertainty is not None and res.uncertainty["by"] == "run"
    assert t["run"].nunique() == 4  # the clusters: one per run identity (model, total_steps, peak_lr)


@settings(max_examples=30, deadline=None)
@given(plans=st.lists(st.tuples(st.integers(2, 12), st.integers(0, 3), st.integers(0, 2)), min_size=1, max_size=6))
def test_final_property_one_row_per_run_at_or_before_its_plan(plans: list[tuple[int, int, int]]) -> None:
    """For any runs (planned checkpoints, checkpoints logged past the plan, checkpoints missing at the end):
    final() keeps one row per run with a checkpoint inside its plan — the last such — and every other row
    is excluded with the right code."""
    plans = [(planned, past, min(missing, planned - 1)) for planned, past, missing in plans]
    rows = []
    for r, (planned, past, missing) in enumerate(plans):
        for k in range(1, planned + past + 1):
            if planned - missing < k <= planned:
                continue  # the run's last checkpoints before the planned end were never logged
            rows.append({"run": f"r{r}", "N": 1e8 * (r + 1), "step": 10 * k, "planned_steps": 10 * planned,
                         "tokens": 1e7 * k, "loss": 3.0 - 0.01 * k})
    t = read_table(pd.DataFrame(rows))
    f = t.final()
    frame = f.to_frame().set_index("run")
    for r, (planned, _past, missing) in enumerate(plans):
        assert frame.loc[f"r{r}", "step"] == 10 * (planned - missing)  # the last checkpoint inside the plan
    ex = f.excluded
    assert (ex.loc[ex["code"] == "past_planned_end", "step"] > ex.loc[ex["code"] == "past_planned_end",
                                                                    "planned_steps"]).all()
    assert (ex["code"] == "past_planned_end").sum() == sum(p for _, p, _ in plans)
    assert len(f) + len(ex) == len(t)
