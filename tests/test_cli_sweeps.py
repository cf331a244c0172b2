"""The open_lm-style workflow from the command line alone: a sweep of models x learning rates x run lengths
with intermediate checkpoints, one run continued past its planned end, one conflicting duplicate."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import scaling as sc
from scaling.cli import main
from scaling.cli_table import rarest_first, table_notes

MODELS = {"m20": 2.0e7, "m80": 8.0e7, "m300": 3.0e8, "m1b": 1.2e9}
LRS = {1e-3: 0.04, 3e-3: 0.0, 1e-2: 0.06}  # loss penalty of each peak learning rate: 3e-3 is the best
MULTS = (10, 20, 40)  # tokens per parameter of the planned run lengths
CKPTS = 10
TRUE = {"E": 1.8, "A": 400.0, "alpha": 0.34, "B": 410.0, "beta": 0.28}


def loss(n: float, d: float) -> float:
    return TRUE["E"] + TRUE["A"] * n ** -TRUE["alpha"] + TRUE["B"] * d ** -TRUE["beta"]


def build_sweep() -> pd.DataFrame:
    """36 runs (4 models x 3 peak lrs x 3 lengths), 10 checkpoints each (total_steps 1000·mult/10).

    The (m80, 20x, 3e-3) run was continued 2 checkpoints past its planned end at a worse loss (rewarmed),
    and one checkpoint of (m300, 10x, 1e-2) was logged twice with different losses (a restart).
    """
    rng = np.random.default_rng(0)
    rows = []
    for model, n in MODELS.items():
        for lr, penalty in LRS.items():
            for mult in MULTS:
                total_steps = 100 * mult
                tokens_per_step = mult * n / total_steps
                extra = 2 if (model, mult, lr) == ("m80", 20, 3e-3) else 0
                for k in range(1, CKPTS + 1 + extra):
                    step = k * total_steps // CKPTS
                    d = step * tokens_per_step
                    past = 0.15 if k > CKPTS else 0.0
                    rows.append({"model": model, "params": n, "peak_lr": lr, "total_steps": total_steps,
                                 "step": step, "tokens": d,
                                 "val_loss": loss(n, d) + penalty + past + rng.normal(0.0, 0.002)})
    df = pd.DataFrame(rows)
    dup = df[(df["model"] == "m300") & (df["total_steps"] == 1000) & (df["peak_lr"] == 1e-2) & (df["step"] == 500)]
    df = pd.concat([df, dup.assign(val_loss=dup["val_loss"] + 0.01)], ignore_index=True)
    return df.sample(frac=1.0, random_state=3).reset_index(drop=True)


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sweep") / "sweep.csv"
    build_sweep().to_csv(path, index=False)
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    cap = capsys.readouterr()
    return code, cap.out, cap.err


RUN_ID = ("--run-id", "model,total_steps,peak_lr")


def test_conflicting_duplicate_error_suggests_flags(sweep: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "fit", str(sweep), *RUN_ID, "--final", "--best-of", "lr")
    assert code == 1
    assert "Rows with the same n_params, n_tokens" in err and "step=500" in err
    assert "--duplicates mean" in err and "--id-columns" in err
    assert "duplicates=" not in err and "id_columns=" not in err and "columns={" not in err


def test_final_best_of_fit_from_the_cli(sweep: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "fit", str(sweep), *RUN_ID, "--duplicates", "first", "--final", "--best-of", "lr",
                         "--json")
    assert code == 0, err
    d = json.loads(out)
    assert d["n_points"] == len(MODELS) * len(MULTS)  # one row per (N, D)
    codes = d["table"]["excluded_by_code"]
    assert codes == {"duplicate": 1, "past_planned_end": 2, "not_final": 36 * (CKPTS - 1),
                     "not_best": len(MODELS) * len(MULTS) * (len(LRS) - 1)}
    assert d["table"]["final_rule"] == "the last checkpoint of each run with step <= planned_steps"
    assert d["table"]["run_columns"] == ["model", "total_steps", "peak_lr"]
    past = [e for e in d["excluded"] if e["code"] == "past_planned_end"]
    assert all("step" in e["reason"] and "> planned_steps 2000" in e["reason"] for e in past)
    # the kept learning rate is the best one everywhere, and the fit finds the exponents
    assert abs(d["params"]["alpha"] - TRUE["alpha"]) < 0.03 and abs(d["params"]["beta"] - TRUE["beta"]) < 0.03

    # the same through the API: the rows the CLI fitted
    t = sc.read_table(sweep, run=["model", "total_steps", "peak_lr"], duplicates="first").final().best_of(over="lr")
    assert set(t["lr"]) == {3e-3} and len(t) == d["n_points"]

    # what the text output prints about these rows (without a second fit)
    assert table_notes(t) == ["by code: duplicate 1, not_best 24, not_final 324, past_planned_end 2",
                              "final checkpoint of each run: the last checkpoint of each run with step <= "
                              "planned_steps"]
    shown = rarest_first(d["excluded"])
    assert [e["code"] for e in shown[:3]] == ["duplicate", "past_planned_end", "past_planned_end"]


def test_best_run_curves_backtest_and_plot(sweep: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    flags = (*RUN_ID, "--duplicates", "mean", "--best-run", "lr", "--min-fraction", "0.3")
    code, out, err = run(capsys, "fit", str(sweep), *flags, "--json", "-o", str(tmp_path / "fit.json"))
    assert code == 0, err
    d = json.loads(out)
    # 12 best runs (4 models x 3 lengths), checkpoints 3..10 of each
    assert d["n_points"] == len(MODELS) * len(MULTS) * (CKPTS - 2)
    assert d["table"]["best_run"] == {"over": ["lr"], "runs": 12}
    assert d["table"]["excluded_by_code"]["past_planned_end"] == 2

    code, out, err = run(capsys, "backtest", str(sweep), *flags, "--holdout", "n_params", "--n-holdout", "1")
    assert code == 0, err
    code, out, err = run(capsys, "plot", str(tmp_path / "fit.json"), "--kind", "isoflop", "--data", str(sweep),
                         *RUN_ID, "--duplicates", "first", "--final", "--best-of", "lr", "-o", str(tmp_path / "i.png"))
    assert code == 0, err
    assert (tmp_path / "i.png").stat().st_size > 10_000


def test_best_of_error_names_the_extra_key_as_flags(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    df = build_sweep().drop_duplicates(subset=["model", "total_steps", "peak_lr", "step"])
    df = pd.concat([df.assign(seed=0), df.assign(seed=1, val_loss=df["val_loss"] + 0.003)], ignore_index=True)
    path = tmp_path / "seeds.csv"
    df.to_csv(path, index=False)
    code, _, err = run(capsys, "fit", str(path), "--run-id", "model,total_steps,peak_lr,seed", "--final",
                       "--best-of", "lr")
    assert code == 1
    assert "seed also vary" in err and "--best-of lr,seed" in err and "--mean-over seed" in err
    code, out, err = run(capsys, "fit", str(path), "--run-id", "model,total_steps,peak_lr,seed", "--final",
                         "--mean-over", "seed", "--best-of", "lr", "--json")
    assert code == 0, err
    assert json.loads(out)["n_points"] == len(MODELS) * len(MULTS)


def test_invalid_rows_and_units_from_the_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A log with a missing loss, tokens stored as log10 and perplexities: each error names its flag, one by one."""
    df = build_sweep().drop_duplicates(subset=["model", "total_steps", "peak_lr", "step"]).reset_index(drop=True)
    bad = df.assign(tokens=np.log10(df["tokens"]), val_loss=np.exp(df["val_loss"]))
    bad.loc[3, "val_loss"] = np.nan
    path = tmp_path / "bad.csv"
    bad.to_csv(path, index=False)
    code, _, err = run(capsys, "fit", str(path), *RUN_ID, "--final")
    assert code == 1 and "--on-invalid exclude" in err and "on_invalid=" not in err
    code, _, err = run(capsys, "fit", str(path), *RUN_ID, "--on-invalid", "exclude", "--final")
    assert code == 1 and "looks like log10 values" in err and "--log10 n_tokens" in err and "log10=" not in err
    code, out, err = run(capsys, "fit", str(path), *RUN_ID, "--on-invalid", "exclude", "--log10", "n_tokens", "--final",
                         "--best-of", "lr", "--json")
    assert code == 0, err
    assert "UnitsWarning" in err and "--loss-unit perplexity" in err and "loss_unit=" not in err
    d = json.loads(out)
    assert d["table"]["excluded_by_code"]["invalid"] == 1 and d["n_points"] == len(MODELS) * len(MULTS)


def test_a_warning_before_an_error_is_still_printed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    df = build_sweep().drop_duplicates(subset=["model", "total_steps", "peak_lr", "step"])
    df.assign(val_loss=np.exp(df["val_loss"])).to_csv(tmp_path / "ppl.csv", index=False)
    code, _, err = run(capsys, "fit", str(tmp_path / "ppl.csv"), *RUN_ID, "--final", "--best-of", "sede")
    assert code == 1
    assert err.index("warning: UnitsWarning") < err.index("scaling: error: Column 'sede' in best_of()")
    assert "--loss-unit perplexity" in err
