"""The `scaling` command line: help, every subcommand, JSON equal to the API, exit codes and messages."""

from __future__ import annotations

import json
import re

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from conftest import load_or_skip  # noqa: E402
from scaling.cli import build_parser, main  # noqa: E402
from scaling.demo import DEMO_TRUTH, load_demo_table  # noqa: E402
from scaling.errors import DataError  # noqa: E402
from scaling.estimation import FitResult, fit  # noqa: E402
from scaling.estimation.uncertainty import Bootstrap  # noqa: E402
from scaling.predict import compute_optimal  # noqa: E402
from scaling import read_table  # noqa: E402

SUBCOMMANDS = ("datasets", "fit", "optimal", "laws", "backtest", "plot", "reproduce", "demo", "plan-runs", "predict-task",
               "forecast")


@pytest.fixture(scope="module")
def runs_csv(tmp_path_factory):
    """The demo sweep written with other column names (as a user's training log summary might be)."""
    f = load_demo_table().to_frame()
    df = pd.DataFrame({"Model Size": f["n_params"], "Training FLOP": f["flops"], "final loss": f["loss"],
                       "run": f["run"]})
    path = tmp_path_factory.mktemp("cli") / "runs.csv"
    df.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def fit_json(tmp_path_factory):
    res = fit(load_demo_table(), "chinchilla", starts=DEMO_TRUTH, uncertainty=Bootstrap(n=30, jackknife=False), rng=0)
    return res.save(tmp_path_factory.mktemp("cli") / "fit.json")


def run(capsys, *argv):
    code = main(list(argv))
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def test_help_lists_every_subcommand(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0
    for name in SUBCOMMANDS:
        assert f"    {name} " in out or f"    {name}\n" in out, name
    assert "Exit codes: 0 success, 1" in out
    for name in SUBCOMMANDS:
        code, out, _ = run(capsys, name, "--help")
        assert code == 0 and out.startswith(f"usage: scaling {name}")
    assert set(build_parser()._subparsers._group_actions[0].choices) == set(SUBCOMMANDS)  # type: ignore[union-attr]


def test_version(capsys):
    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.startswith("scaling ")


def test_datasets_list_and_show(capsys):
    code, out, err = run(capsys, "datasets", "list")
    assert code == 0 and err == ""
    for name in ("epoch_chinchilla", "gadre_overtraining", "porian_resolving", "muennighoff_datablations",
                 "colpret_curves"):
        assert f"\n{name}\n" in "\n" + out
    from scaling.datasets import REGISTRY
    assert out.count("  license: ") == len(REGISTRY) and out.count("  source:  ") == len(REGISTRY)
    code, out, _ = run(capsys, "datasets", "list", "--json")
    rows = json.loads(out)
    assert [r["name"] for r in rows][:2] == ["epoch_chinchilla", "gadre_overtraining"] and "license" in rows[0]
    code, out, _ = run(capsys, "datasets", "show", "epoch_chinchilla", "--json")
    d = json.loads(out)
    assert d["rows"] == 245 and d["files"][0]["sha256"].startswith("193478df")
    assert "drop_highest_loss" in d["options"]
    code, out, _ = run(capsys, "datasets", "show", "epoch_chinchilla")
    assert code == 0 and "sha256 193478df4e90f040" in out


def test_optimal_published_json_matches_api(capsys):
    code, out, err = run(capsys, "optimal", "published:hoffmann2022-unrounded", "--flops", "5.76e23", "--json")
    assert code == 0 and err == ""
    d = json.loads(out)
    assert float(f"{d['values']['n_params']:.3g}") == 4.04e10  # REFERENCE acceptance 4
    api = compute_optimal("published:hoffmann2022-unrounded", 5.76e23).to_dict()
    assert d == json.loads(json.dumps(api))


def test_optimal_from_fit_file(capsys, fit_json):
    code, out, _ = run(capsys, "optimal", str(fit_json), "--flops", "1e21", "1e22", "--level", "0.8")
    assert code == 0
    assert "C (FLOPs)" in out and "N_opt (params)" in out and "1.00e22" in out and "80% percentile" in out
    code, out, _ = run(capsys, "optimal", str(fit_json), "--flops", "1e21", "1e22", "--json")
    d = json.loads(out)
    api = compute_optimal(FitResult.load(fit_json), [1e21, 1e22]).to_dict()
    np.testing.assert_allclose(d["values"]["n_params"], api["values"]["n_params"], rtol=1e-12)
    np.testing.assert_allclose(d["intervals"]["n_params"]["lower"], api["intervals"]["n_params"]["lower"], rtol=1e-12)


def test_fit_file_with_column_mapping(capsys, runs_csv, tmp_path):
    out_json = tmp_path / "fit.json"
    code, out, err = run(capsys, "fit", str(runs_csv), "--columns", "n_params=Model Size,flops=Training FLOP",
                         "--columns", "loss=final loss", "-o", str(out_json), "--json")
    assert code == 0, err
    d = json.loads(out)  # stdout is JSON only
    table = read_table(runs_csv, {"n_params": "Model Size", "flops": "Training FLOP", "loss": "final loss"})
    api = fit(table, "chinchilla")
    for k, v in api.params.items():
        assert d["params"][k] == pytest.approx(v, rel=1e-9)
    assert d["n_points"] == 72 and d["saved_to"] == str(out_json)
    assert FitResult.load(out_json).params.equals(api.params)
    # readable summary with the implied allocation
    code, out, _ = run(capsys, "fit", str(runs_csv), "--columns", 'n_params="Model Size",flops="Training FLOP"',
                       "--columns", "loss=final loss", "--fix", "E=1.8", "--tie-exponents")
    assert code == 0
    assert re.search(r"^law\s+: chinchilla: L = E \+ A/N\^alpha \+ B/D\^beta", out, re.M)
    assert "{'fixed': {'E': 1.8}" in out
    assert "a = beta/(alpha+beta) = 0.5000" in out  # tied exponents


def test_fit_dataset_with_exclusions_and_bootstrap(capsys):
    load_or_skip("epoch_chinchilla")
    code, out, err = run(capsys, "fit", "dataset:epoch_chinchilla", "--drop-highest-loss", "5", "--bootstrap", "200",
                         "--seed", "1")
    assert code == 0, err
    assert "summed over 240 points" in out
    assert "Excluded before fitting (5 rows; 0-based input rows):" in out
    assert "row 0 (loss 5.006): one of the 5 highest losses (--drop-highest-loss 5)" in out
    assert "95% lower" in out and "95% upper" in out  # intervals from the bootstrap
    assert "alpha   0.34731" in out or "alpha   0.3473" in out  # REFERENCE acceptance 6
    assert "95% interval [" in out  # interval of a


def test_laws(capsys):
    code, out, _ = run(capsys, "laws")
    assert code == 0
    assert "  chinchilla: L = E + A/N^alpha + B/D^beta" in out and "arXiv 2203.15556" in out
    assert "  hoffmann2022-unrounded:" in out and "published:NAME" in out
    code, out, _ = run(capsys, "laws", "--json")
    d = json.loads(out)
    assert "chinchilla" in [r["name"] for r in d["laws"]]
    assert {"hoffmann2022", "epoch2024", "llama3-2024"} <= {r["name"] for r in d["published"]}


def test_backtest(capsys, runs_csv):
    code, out, err = run(capsys, "backtest", str(runs_csv), "--columns", "n_params=Model Size,flops=Training FLOP",
                         "--columns", "loss=final loss", "--holdout", "flops", "--n-holdout", "1", "--json")
    assert code == 0, err
    d = json.loads(out)
    assert d["n_holdout"] == 9 and d["n_train"] == 63  # the largest budget's 9 runs
    assert 0 < d["mean_are"] < 0.05
    code, _, err = run(capsys, "backtest", str(runs_csv), "--n-holdout", "1", "--fraction", "0.1")
    assert code == 2 and "at most one of --n-holdout, --fraction, --threshold" in err


@pytest.mark.parametrize("kind", ["isoflop", "allocation", "contours", "fit", "residuals"])
def test_plot_kinds(capsys, fit_json, tmp_path, kind):
    target = tmp_path / f"{kind}.png"
    code, out, err = run(capsys, "plot", str(fit_json), "--kind", kind, "-o", str(target))
    assert code == 0, err
    assert out.strip() == f"wrote {target}" and target.stat().st_size > 10_000


def test_plot_published_and_errors(capsys, tmp_path):
    code, out, _ = run(capsys, "plot", "published:hoffmann2022", "--kind", "allocation", "-o", str(tmp_path / "a.svg"),
                       "--json")
    assert code == 0 and json.loads(out)["figure"].endswith("a.svg")
    code, _, err = run(capsys, "plot", "published:hoffmann2022", "--kind", "fit", "-o", str(tmp_path / "b.png"))
    assert code == 2 and "--kind fit needs a saved fit" in err
    code, _, err = run(capsys, "plot", "published:hoffmann2022", "--kind", "isoflop", "-o", str(tmp_path / "c.jpg"))
    assert code == 2 and "must be .png, .pdf or .svg" in err


def test_reproduce_cli(capsys, tmp_path):
    code, out, _ = run(capsys, "reproduce", "--list")
    assert code == 0 and "double-descent" in out and "chinchilla" in out
    code, out, err = run(capsys, "reproduce", "kaplan", "-o", str(tmp_path / "k"), "--format", "png", "--json")
    assert code == 0, err
    d = json.loads(out)
    assert d["passed"] is True and d["name"] == "kaplan"
    assert (tmp_path / "k" / "report.md").exists() and (tmp_path / "k" / "kaplan_figure1.png").exists()
    code, out, _ = run(capsys, "reproduce", "llama3", "-o", str(tmp_path / "l"), "--format", "png")
    assert code == 0 and "PASSED" in out and "known mismatch" in out
    code, _, err = run(capsys, "reproduce")
    assert code == 2 and "needs a NAME" in err
    code, _, err = run(capsys, "reproduce", "nope", "-o", str(tmp_path / "n"))
    assert code == 2 and "invalid choice: 'nope'" in err


def test_reproduce_failed_checks_exit_1(capsys, tmp_path, monkeypatch):
    from scaling.reproduce import Check, Report, kaplan

    def fake_run(out, opts):
        return Report(name="kaplan", title="fake", checks=(Check(name="x", published=1.0, ours=2.0, tolerance=0.1),))

    monkeypatch.setattr(kaplan, "run", fake_run)
    code, out, err = run(capsys, "reproduce", "kaplan", "-o", str(tmp_path))
    assert code == 1 and "FAILED" in out
    assert err.strip().splitlines()[-1] == ("scaling: error: 1 check(s) outside tolerance in kaplan; see the report(s)")


@pytest.mark.slow
def test_demo(capsys, tmp_path):
    code, out, err = run(capsys, "demo", "-o", str(tmp_path), "--bootstrap", "30", "-q")
    assert code == 0 and err == ""
    assert "1. Fit:" in out and "2. Compute-optimal allocation" in out
    assert (tmp_path / "demo.png").exists() and (tmp_path / "demo_fit.json").exists()
    code, out, _ = run(capsys, "demo", "-o", str(tmp_path), "--bootstrap", "30", "--json", "-q")
    d = json.loads(out)
    assert d["n_runs"] == 72 and set(d["parameters"]) == {"E", "A", "B", "alpha", "beta"}


def test_data_errors_exit_1_one_line(capsys, tmp_path):
    code, out, err = run(capsys, "fit", str(tmp_path / "missing.csv"))
    assert code == 1 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("scaling: error: SOURCE must be an existing file")
    assert "Traceback" not in err
    code, _, err = run(capsys, "fit", "dataset:nope")
    assert code == 1 and err.strip().startswith("scaling: error: Dataset name must be one of")
    bad = tmp_path / "bad.csv"
    pd.DataFrame({"n_params": [1e8, 2e8, -1], "n_tokens": [1e9, 2e9, 3e9], "loss": [3.0, 2.9, 2.8]}).to_csv(bad,
                                                                                                        index=False)
    code, _, err = run(capsys, "fit", str(bad))
    assert code == 1 and len(err.strip().splitlines()) == 1 and "n_params" in err and "> 0" in err
    code, _, err = run(capsys, "optimal", "published:nope", "--flops", "1e20")
    assert code == 1 and err.startswith("scaling: error: Published law must be one of")
    code, _, err = run(capsys, "fit", "dataset:epoch_chinchilla", "--law", "nope")
    assert code == 1 and "Law must be one of" in err


def test_debug_shows_the_exception(capsys, tmp_path):
    with pytest.raises(DataError, match="SOURCE must be an existing file"):
        main(["fit", str(tmp_path / "missing.csv"), "--debug"])


def test_usage_errors_exit_2(capsys, runs_csv):
    for argv, msg in (
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (["optimal", "published:hoffmann2022"], "the following arguments are required: --flops"),
        (["optimal", "published:hoffmann2022", "--flops", "-3"], "must be a positive number"),
        (["fit", str(runs_csv), "--fix", "E1.69"], "--fix must be KEY=VALUE pairs"),
        (["fit", str(runs_csv), "--fix", "E=abc"], "the value must be a number"),
        (["fit", str(runs_csv), "--fix", "Q=1"], "not parameters of law 'chinchilla'"),
        (["fit", str(runs_csv), "--law", "powerlaw", "--tie-exponents"], "--tie-exponents needs a law"),
        (["fit", "dataset:epoch_chinchilla", "--columns", "n_params=x"], "--columns applies to files"),
        (["datasets", "show"], "needs a dataset NAME"),
    ):
        code, out, err = run(capsys, *argv)
        assert code == 2, argv
        assert msg in err, (argv, err)


def test_quiet_silences_stderr(capsys, fit_json, tmp_path):
    code, _, err = run(capsys, "plot", str(fit_json), "--kind", "isoflop", "-o", str(tmp_path / "x.png"), "-q")
    assert code == 0 and err == ""
    code, _, err = run(capsys, "-q", "optimal", "published:hoffmann2022", "--flops", "1e22")
    assert code == 0 and err == ""
