"""The README's claims, each backed by a test (issue 11, "Trust by default").

The README's code is the test where it can be: its Python blocks are extracted from README.md at test
time and executed as written (one namespace, in order, like a session), and every ``scaling ...`` line
of its shell blocks is run through ``scaling.cli.main``. The other claims (numbers, behaviours, names,
links, benchmark commands) have a test each here or in the module named by docs/claims.md, which maps
every claim to its test; ``test_claims_map_names_existing_tests`` keeps that map from rotting.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import inspect
import json
import re
import shlex
import subprocess
import sys
import tomllib
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import scaling as sc
from conftest import load_or_skip
from scaling.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"^```{lang}\n(.*?)^```", README, re.S | re.M)


def _section(title: str) -> str:
    """The README text under the heading ``title``, up to the next heading of the same or a higher level
    (a ``#`` comment inside a code block is not a heading)."""
    masked = re.sub(r"```.*?```", lambda m: re.sub(r"[^\n]", " ", m.group(0)), README, flags=re.S)
    m = re.search(rf"^(#+) {re.escape(title)}\s*$", masked, re.M)
    assert m, title
    end = re.search(rf"^#{{1,{len(m.group(1))}}} ", masked[m.end():], re.M)
    return README[m.end(): m.end() + end.start()] if end else README[m.end():]


def _shell_commands() -> list[list[str]]:
    """Every ``scaling ...`` line of the README's bash blocks, comments removed, as argv lists."""
    out = []
    for block in _blocks("bash"):
        for line in block.splitlines():
            line = line.split("  #")[0].strip()
            if line.startswith("scaling "):
                out.append(shlex.split(line)[1:])
    return out


def _claim(text: str) -> None:
    """The README still says ``text`` (whitespace-insensitive): the test that follows checks that statement."""
    assert " ".join(text.split()) in " ".join(README.split()), f"README no longer says {text!r}: update the test"


def _quiet_exec(code: str, ns: dict[str, Any], expected: tuple[type[Warning], ...] = ()) -> list[type[Warning]]:
    """Run README code in ``ns``; a diagnostic (ScalingWarning) other than the ``expected`` ones fails."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        exec(compile(code, "README.md", "exec"), ns)  # noqa: S102  (the README's own code)
    unexpected = [f"{w.category.__name__}: {w.message}" for w in caught
                  if issubclass(w.category, sc.errors.ScalingWarning) and not issubclass(w.category, expected)]
    assert unexpected == []
    return [w.category for w in caught]


# ====================================================================================================
# the README's code blocks, as written


def test_readme_has_the_code_blocks_these_tests_run() -> None:
    """A new or removed README code block must be run here too: update this file when this fails."""
    assert len(_blocks("python")) == 4
    assert len(_shell_commands()) == 14


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The Quick start's Python block, executed as written (Bootstrap(n=1000) included) in a fresh folder."""
    load_or_skip("epoch_chinchilla")
    folder = tmp_path_factory.mktemp("readme")
    ns: dict[str, Any] = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(folder)
        # res.predict(7e10, 1.4e12) and compute_optimal up to 1e24 lie beyond Epoch's runs: the README's
        # example warns there (ExtrapolationWarning, by design); nothing else may warn
        _quiet_exec(_blocks("python")[0], ns, expected=(sc.errors.ExtrapolationWarning,))
    ns["_folder"] = folder
    return ns


def test_readme_epoch_has_245_runs_with_d_derived_as_c_over_6n(session: dict[str, Any]) -> None:
    _claim("# RunTable: 245 runs; D derived as C/(6N)")
    raw = sc.load_dataset("epoch_chinchilla")
    assert isinstance(raw, sc.RunTable) and len(raw) == 245
    np.testing.assert_allclose(raw.n_tokens, raw.flops / (6 * raw.n_params), rtol=1e-12)
    assert raw.meta["derived"] == "n_tokens"


def test_readme_filter_drops_the_5_highest_losses_with_the_reason(session: dict[str, Any]) -> None:
    runs = session["runs"]
    raw = sc.load_dataset("epoch_chinchilla")
    assert len(runs) == 240 and len(runs.excluded) == 5
    assert set(runs.excluded["reason"]) == {"5 highest losses, as Epoch"}
    np.testing.assert_array_equal(np.sort(runs.excluded["loss"]), np.sort(raw.loss)[-5:])


def test_readme_fit_uses_hoffmanns_objective_and_grid(session: dict[str, Any]) -> None:
    _claim("# Hoffmann's objective & grid")
    _claim("`huber` on log residuals (δ = 1e-3, Hoffmann)")
    res = session["res"]
    assert res.spec.loss == "huber" and res.spec.delta == 1e-3 and res.spec.starts == "grid"
    assert len(res.starts) == 4500  # Hoffmann's grid
    assert res.objective == pytest.approx(1.018274e-3, rel=1e-6)  # REFERENCE acceptance 6
    assert res.uncertainty.method == "bootstrap" and res.uncertainty.n == 1000


def test_readme_summary_shows_estimates_se_intervals_objective_starts_and_data_hash(session: dict[str, Any]) -> None:
    res = session["res"]
    s = str(res.summary())
    for word in ("estimate", "se", "95% lower", "95% upper", "objective", "starts", res.spec.data_hash[:12]):
        assert word in s, word
    for p in ("E", "A", "B", "alpha", "beta"):
        assert re.search(rf"^{p}\s+\S+\s+\S+\s+\S+\s+\S+$", s, re.M), p
    # Uncertainty: "summary() reports what was verified and a 95 % upper bound on the miss rate"
    assert re.search(r"1 of 1000 resamples verified against full-grid refits, 0 missed; miss rate <= 0\.95 "
                     r"\(95 % upper bound\)", s)


def test_readme_ci_and_predict_give_intervals_at_the_asked_level(session: dict[str, Any]) -> None:
    res = session["res"]
    ci90, ci95 = res.ci(0.9), res.ci()
    assert list(ci90.columns) == ["lower", "upper"] and list(ci90.index) == ["E", "A", "B", "alpha", "beta"]
    assert ((ci90["lower"] > ci95["lower"]) & (ci90["upper"] < ci95["upper"])).all()  # 90 % inside 95 %
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p = res.predict(7e10, 1.4e12, level=0.95)
    assert p["lower"].iloc[0] < p["loss"].iloc[0] < p["upper"].iloc[0]


def test_readme_compute_optimal_gives_n_d_and_loss_with_intervals(session: dict[str, Any]) -> None:
    opt = session["opt"]
    frame = opt.to_frame()
    assert len(frame) == 3
    for q in ("n_params", "n_tokens", "loss"):
        lo, hi = opt.interval(q)
        assert np.all(lo < opt.get(q)) and np.all(opt.get(q) < hi), q
    np.testing.assert_allclose(6 * opt.n_params * opt.n_tokens, [1e22, 1e23, 1e24], rtol=1e-9)


def test_readme_hoffmann_unrounded_n_opt_at_5_76e23_is_4_04e10() -> None:
    _claim('sc.compute_optimal("published:hoffmann2022-unrounded", flops=5.76e23).n_params   # 4.04e10')
    n = sc.compute_optimal("published:hoffmann2022-unrounded", flops=5.76e23).n_params
    assert float(f"{n:.3g}") == 4.04e10


def test_readme_save_is_json_never_pickle_and_round_trips_exactly(session: dict[str, Any]) -> None:
    _claim("# JSON, never pickles; exact round trip")
    res = session["res"]
    path = session["_folder"] / "fit.json"
    raw = path.read_bytes()
    assert not raw.startswith(b"\x80")  # a pickle starts with its protocol opcode
    d = json.loads(raw)  # plain JSON
    assert d["params"] and d["samples"]
    back = sc.FitResult.load(path)
    assert back.to_dict() == res.to_dict()
    pd.testing.assert_series_equal(back.params, res.params, check_exact=True)
    pd.testing.assert_frame_equal(back.samples, res.samples, check_exact=True)
    again = back.save(session["_folder"] / "again.json")
    assert Path(again).read_bytes() == raw


def test_readme_own_runs_comment_reads_a_csv_with_mapped_columns(session: dict[str, Any], tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    line = next(ln for ln in _blocks("python")[0].splitlines() if "# or your own:" in ln)
    call = line.split("# or your own:")[1].strip()
    f = session["runs"].to_frame()
    pd.DataFrame({"Model Size": f["n_params"], "Training FLOP": f["flops"], "loss": f["loss"]}).to_csv(
        tmp_path / "runs.csv", index=False)
    monkeypatch.chdir(tmp_path)
    own = eval(call, {"sc": sc})  # noqa: S307  (the README's own expression)
    assert len(own) == 240
    np.testing.assert_allclose(own.n_tokens, f["n_tokens"], rtol=1e-12)


def test_readme_training_logs_block_runs_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Per-run CSVs in logs/ plus runs.csv metadata; planned_steps from total_steps; peak_lr is the lr."""
    (tmp_path / "logs").mkdir()
    meta = []
    for model, n in (("m50", 5e7), ("m200", 2e8), ("m800", 8e8)):
        for lr, penalty in ((1e-3, 0.03), (3e-3, 0.0)):
            for total in (1000, 2000):
                run = f"{model}-{total}-{lr:g}"
                steps = np.arange(100, total + 201, 100)  # two checkpoints past the planned end
                tokens = steps * n * 20 / 1000
                loss = 1.8 + 400 * n ** -0.34 + 410 * tokens ** -0.28 + penalty + 0.1 * (steps > total)
                pd.DataFrame({"_step": steps, "tokens": tokens, "eval/c4_en-validation/CrossEntropyLoss": loss,
                              "eval/other": loss + 1}).to_csv(tmp_path / "logs" / f"{run}.csv", index=False)
                meta.append({"run": run, "model": model, "total_steps": total, "peak_lr": lr, "n_params": n})
    pd.DataFrame(meta).to_csv(tmp_path / "runs.csv", index=False)
    ns: dict[str, Any] = {"sc": sc}
    monkeypatch.chdir(tmp_path)
    _quiet_exec(_blocks("python")[1], ns)
    finals = ns["finals"]
    assert len(finals) == 6  # 3 sizes x 2 lengths; the better learning rate of each
    f = finals.to_frame()
    assert (f["lr"] == 3e-3).all() and (f["step"] == f["planned_steps"]).all()
    codes = finals.excluded.groupby("code").size().to_dict()
    assert codes == {"not_best": 6, "not_final": 168, "past_planned_end": 24}  # nothing dropped silently
    assert ns["log"].meta["run_columns"] == ("model", "total_steps", "peak_lr")


def _grouped_table() -> sc.RunTable:
    from scaling.demo import load_demo_table
    f = load_demo_table().to_frame()
    rng = np.random.default_rng(0)
    parts = []
    for group, offset in (("c4", 0.0), ("pile", 0.1)):
        p = f[["n_params", "n_tokens", "loss"]].copy()
        p["loss"] += offset
        p["group"] = group
        p["val_c4"] = p["loss"] + 0.05 + rng.normal(0, 0.005, len(p))
        parts.append(p)
    return sc.read_table(pd.concat(parts, ignore_index=True))


def test_readme_many_fits_block_runs_as_written(session: dict[str, Any]) -> None:
    """`table`: a grouped table with two metrics; `runs` and `res` come from the Quick start block."""
    ns = dict(session, table=_grouped_table())
    with pytest.warns(sc.errors.SensitivityWarning):  # README: it warns when choices move the answer
        exec(compile(_blocks("python")[2], "README.md", "exec"), ns)  # noqa: S102
    coll, s, plan = ns["coll"], ns["s"], ns["plan"]
    tidy = coll.to_frame()
    assert set(tidy["group"]) == {"c4", "pile"} and set(tidy["metric"]) == {"loss", "val_c4"}
    assert isinstance(coll.get(group="c4", metric="loss"), sc.FitResult)
    assert len(s.to_frame()) == 8  # 2 laws x 2 deltas x 2 subsets
    # fit_many's docstring: strategy "auto" is the full grid for up to 8 problems per loss column
    assert {f["strategy"] for f in coll.info["families"].values()} == {"grid"}
    assert s.results[0].uncertainty.n == 200  # sensitivity's docstring: the default choice's Bootstrap(n=200)
    assert plan.runs is not None and len(plan.runs) > 0


@pytest.mark.slow
def test_readme_task_law_block_runs_on_the_16_olmo_ladder_runs() -> None:
    from scaling.reproduce.olmo_ladder import LADDER_SIZES, MULTIPLIERS

    runs = load_or_skip("olmo_ladder")
    f = runs.to_frame()
    mask = (f["role"].astype(str) == "ladder") & f["size"].isin(list(LADDER_SIZES)) & \
        f["multiplier"].isin(list(MULTIPLIERS))
    assert f.loc[mask, "run"].nunique() == 16  # "the 16 ladder runs"
    code = _blocks("python")[3]
    assert code.count("runs.filter(...)") == 1
    code = code.replace("runs.filter(...)", "runs.filter(mask.to_numpy(), reason='not a ladder run')")
    ns: dict[str, Any] = {"sc": sc, "runs": runs, "mask": mask}
    # 6.9e9 x 3.9e12 is the 7B target, beyond the ladder (ExtrapolationWarning); E of the hellaswag step 1
    # sits on its bound in some resamples (BoundaryWarning, as the paper's recipe leaves it free)
    raised = _quiet_exec(code, ns, expected=(sc.errors.ExtrapolationWarning, sc.errors.BoundaryWarning))
    assert sc.errors.ExtrapolationWarning in raised  # predict_accuracy's docstring: a ladder's targets always do
    p = ns["p"]
    assert p.lower[0] < p.accuracy[0] < p.upper[0] and p.level == 0.9
    assert p.uncertainty == "step 1 x step 2" and p.n_samples == 200 * 200
    assert 0.0 <= float(np.asarray(p.probability_at_least(0.8))[0]) <= 1.0


def _epoch_runs_csv(folder: Path) -> None:
    f = sc.load_dataset("epoch_chinchilla").to_frame()
    pd.DataFrame({"Model Size": f["n_params"], "Training FLOP": f["flops"], "loss": f["loss"]}).to_csv(
        folder / "runs.csv", index=False)


@pytest.mark.slow
def test_readme_shell_commands_run_as_written(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Every `scaling ...` line of the README's bash blocks exits 0, in order, in one folder.

    runs.csv is Epoch's table under the README's column names. `scaling simulate` runs with --quick (the
    README: "about 2 minutes each ..., --quick in seconds"; the full sweeps: notebook 06). `scaling reproduce
    chinchilla` is the one line not rerun here: tests/test_reproduce.py::test_chinchilla runs that
    reproduction with the CLI's defaults (1,000 resamples, seed 0) and asserts its checks, and
    tests/test_cli.py::test_reproduce_cli the CLI's path to a reproduction (10 s saved).
    """
    load_or_skip("epoch_chinchilla")
    load_or_skip("multipowerlaw_schedules")
    monkeypatch.chdir(tmp_path)
    _epoch_runs_csv(tmp_path)
    rerun_elsewhere = [["reproduce", "chinchilla", "-o", "out/chinchilla"]]
    assert all(c in _shell_commands() for c in rerun_elsewhere)
    for argv in _shell_commands():
        if argv in rerun_elsewhere:
            continue
        if argv[0] == "simulate":
            argv = [*argv, "--quick", "--jobs", "1"]
        code = main(argv)
        cap = capsys.readouterr()
        assert code == 0, (argv, cap.err[-2000:])
        if "--json" in argv:
            json.loads(cap.out)  # --json prints only JSON
    assert (tmp_path / "fit.json").exists() and (tmp_path / "isoflop.png").stat().st_size > 10_000
    rep = json.loads((tmp_path / "out" / "multipower" / "report.json").read_text())
    assert rep["passed"] is True  # the reproduction the README shows passes its checks
    assert (tmp_path / "out" / "rare-tasks" / "report.json").exists()


@pytest.mark.slow
def test_readme_quick_start_demo_runs_without_a_download(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """`scaling demo` (defaults): fit, bootstrap intervals, compute-optimal allocation, a figure; no data."""
    import scaling.datasets.registry as registry

    def no_network(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("scaling demo tried to download")

    monkeypatch.setenv("SCALING_DATA_DIR", str(tmp_path / "no-mirror"))
    monkeypatch.setenv("SCALING_CACHE_DIR", str(tmp_path / "no-cache"))
    monkeypatch.setattr(registry, "_urlopen", no_network)  # the registry's one door to the network
    monkeypatch.chdir(tmp_path)
    code = main(["demo", "-q"])
    out = capsys.readouterr().out
    assert code == 0
    assert "1. Fit:" in out and "2. Compute-optimal allocation" in out and "95%" in out
    assert list(tmp_path.rglob("demo.png"))


def _fit_help() -> str:
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), pytest.raises(SystemExit):
        build_parser().parse_args(["fit", "--help"])
    return buf.getvalue()


def test_readme_fit_flags_for_logs_exist_and_parse() -> None:
    """Usage > Your own training logs: every flag it lists is a flag of `scaling fit` taking that value."""
    text = _section("Your own training logs")
    flags = set(re.findall(r"(--[a-z][a-z0-9-]+)", text))
    assert {"--run-id", "--final", "--best-of", "--best-run", "--min-fraction", "--metric", "--metadata", "--log10",
            "--duplicates", "--on-invalid", "--loss-unit"} <= flags
    help_text = _fit_help()
    for flag in flags:
        assert re.search(rf"{flag}\b", help_text), flag
    examples = re.findall(r"`scaling fit ([^`]+)`", text) + re.findall(r"`(--[^` ]+ [^`]+)`", text)
    assert len(examples) >= 5
    for example in examples:
        argv = shlex.split(example)
        argv = argv if argv[0] == "sweep.csv" else ["sweep.csv", *argv]
        build_parser().parse_args(["fit", *[a for a in argv if a != "..."]])


def test_readme_fit_sweep_command_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """`scaling fit sweep.csv --run-id model,total_steps,peak_lr --final --best-of lr` on a sweep file."""
    rows = []
    for model, n in (("m50", 5e7), ("m200", 2e8), ("m800", 8e8), ("m3b", 3e9)):
        for lr, penalty in ((1e-3, 0.03), (3e-3, 0.0)):
            for total in (1000, 2000, 4000):
                for step in range(total // 10, total + 1, total // 10):
                    tokens = step * n * 20 / 1000
                    rows.append({"model": model, "params": n, "peak_lr": lr, "total_steps": total, "step": step,
                                 "tokens": tokens, "val_loss": 1.8 + 400 * n ** -0.34 + 410 * tokens ** -0.28 + penalty})
    pd.DataFrame(rows).to_csv(tmp_path / "sweep.csv", index=False)
    monkeypatch.chdir(tmp_path)
    cmd = re.search(r"`scaling fit (sweep\.csv [^`]+)`", README)
    assert cmd
    code = main(["fit", *shlex.split(cmd.group(1)), "--json"])
    cap = capsys.readouterr()
    assert code == 0, cap.err
    d = json.loads(cap.out)
    assert d["n_points"] == 12  # 4 sizes x 3 lengths, one learning rate each
    assert d["params"]["alpha"] == pytest.approx(0.34, abs=0.01)


def test_readme_inline_commands_name_subcommands_and_parse() -> None:
    """Every `scaling ...` the README's prose shows parses (placeholders NAME / DIR filled in)."""
    inline = re.findall(r"(?<!`)`scaling ([^`]+)`", re.sub(r"```.*?```", "", README, flags=re.S))
    assert len(inline) >= 7
    for text in inline:
        words = shlex.split(text)
        fill = {"NAME": "grokking" if words[0] == "simulate" else "epoch_chinchilla", "DIR": "out"}
        argv = [fill.get(a, a) for a in words]
        if argv == ["optimal"] or argv == ["predict-task"]:  # named, not invoked: the subcommand exists
            assert argv[0] in build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
            continue
        build_parser().parse_args(argv)


def test_readme_bnsl_cli_option_and_find_peak_exist() -> None:
    args = build_parser().parse_args(["fit", "x.csv", "--law", "bnsl", "--law-option", "n_breaks=2"])
    assert args.law == "bnsl"
    law = sc.get_law("bnsl", n_breaks=2, variable="n_tokens", c_max=5)
    assert law.name == "bnsl"
    from scaling.diagnostics import find_peak
    assert callable(find_peak)


def test_readme_logs_extra_installs_tensorboard() -> None:
    extras = PYPROJECT["project"]["optional-dependencies"]
    assert any(r.startswith("tensorboard") for r in extras["logs"])
    assert any(r.startswith("emcee") for r in extras["mcmc"])  # "MCMC (sc.MCMC, needs emcee)"


# ====================================================================================================
# names the README lists


def test_readme_laws_are_the_registered_laws() -> None:
    text = _section("Python")
    m = re.search(r"Laws \(`sc\.list_laws\(\)`\): (.*?)\. Every law", text, re.S)
    assert m
    named = set(re.findall(r"`([a-z][a-z0-9-]*)`", m.group(1))) - {"negative_exponents"}
    # the package's own laws (other tests register laws of their own in the same process)
    builtin = {n for n in sc.list_laws() if type(sc.get_law(n)).__module__.startswith("scaling.")}
    assert named == builtin


def test_readme_kaplan_nd_and_ns_are_equations_1_5_and_1_6() -> None:
    assert "1.5" in sc.get_law("kaplan-nd").reference and "1.6" in sc.get_law("kaplan-ns").reference


def test_readme_every_law_takes_fixed_and_tied() -> None:
    """Every law takes `fixed=` and `tied=` (the one spelling of constraints), also through sc.fit."""
    from scaling.demo import load_demo_table
    for name in sc.list_laws():
        law = sc.get_law(name)
        names = list(law.param_names)
        natural = law.to_natural(law.grid()[0])
        fixed = law.constrain(fixed={names[0]: float(natural[0])})
        assert len(fixed.free_names) == len(law.free_names) - 1, name
        linear = [p for p, t in zip(names, law.transforms) if t == "id"]
        if len(linear) >= 2:
            tied = law.constrain(tied={linear[1]: linear[0]})
            assert len(tied.free_names) == len(law.free_names) - 1, name
    res = sc.fit(load_demo_table(), "chinchilla", fixed={"E": 1.69}, tied={"beta": "alpha"})
    assert res.params["E"] == 1.69 and res.params["beta"] == res.params["alpha"]


def test_readme_objectives_are_accepted_and_huber_is_delta_1e3() -> None:
    from scaling.demo import load_demo_table
    table = load_demo_table()
    text = _section("Python")
    m = re.search(r"Objectives, always summed:(.*?)\n\n", text, re.S)
    assert m
    named = re.findall(r"`([a-z_]+)`", m.group(1))
    assert named == ["huber", "squared_log", "squared", "huber_likelihood"]
    start = {"E": 1.8, "A": 480.0, "B": 2100.0, "alpha": 0.35, "beta": 0.37}
    for loss in named:
        with warnings.catch_warnings():
            # huber_likelihood on the demo's 1 % noise: sigma small against its spread, a kink (the
            # warning says so); Epoch's headline estimate: tests/test_fit.py::test_epoch_huber_likelihood_estimate
            warnings.simplefilter("ignore", sc.errors.ConvergenceWarning)
            res = sc.fit(table, loss=loss, starts=start)
        assert res.spec.loss == loss and np.isfinite(res.objective)
    assert sc.fit(table, starts=start).spec.delta == 1e-3


def test_readme_published_laws_are_registered_with_citation_conventions_and_checks() -> None:
    text = _section("Python")
    m = re.search(r"Published laws usable anywhere a fit is: (.*?) — each", text, re.S)
    assert m
    named = re.findall(r"`(?:published:)?([a-z0-9.-]+)`", m.group(1))
    published = sc.list_published()
    assert set(named) == set(published["name"])
    for name in named:
        law = sc.get_published(name, warn=False)
        assert law.citation and law.conventions is not None
        assert isinstance(law.checks(), pd.DataFrame) and len(law.checks()) > 0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if name == "muennighoff2023":  # a law of (N, D, U): planned with the unique-token budget
                a = sc.data_constrained_optimal(f"published:{name}", flops=1e22, unique_tokens=25e9)
            else:  # usable anywhere a fit is
                a = sc.compute_optimal(f"published:{name}", flops=1e22)
        assert 1e8 < a.n_params < 1e12, name


def test_readme_planning_functions_and_flop_models_exist() -> None:
    import scaling.predict as P
    for name in ("compute_optimal", "allocation_table", "optimal_for_params", "optimal_for_tokens",
                 "compute_for_loss", "predict_loss", "inference_optimal", "data_constrained_optimal"):
        assert callable(getattr(P, name)), name
    # FLOP models: 6ND, Kaplan's non-embedding count, Hoffmann's App. F count, DeepSeek's M, your own function
    assert float(P.as_flops_model("6ND").flops(1e9, 1e10)) == pytest.approx(6e19)
    for name in ("kaplan", "hoffmann", "deepseek"):
        model = P.as_flops_model(name)
        assert 1e19 < float(model.flops(1e9, 1e10)) < 1e21, name
    own = P.as_flops_model(lambda n: 8.0 * n)
    assert float(own.flops(1e9, 1e10)) == pytest.approx(8e19)


def test_readme_approach2_result_plans() -> None:
    """`compute_optimal(sc.approach2(isoflop_runs), flops=1e22)` on the demo's isoFLOP sweep."""
    from scaling.demo import load_demo_table
    code = re.search(r"`(compute_optimal\(sc\.approach2\(\w+\), flops=1e22\))`", README)
    assert code
    ns = {"sc": sc, "compute_optimal": sc.compute_optimal, "isoflop_runs": load_demo_table()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = eval(code.group(1), ns)  # noqa: S307  (the README's own expression)
    assert 1e9 < a.n_params < 1e11 and "approach" in a.source.lower()


def test_readme_also_modules_exist() -> None:
    import scaling.doubledescent as dd
    import scaling.tasks.downstream as down
    import scaling.tasks.observational as obs
    from scaling.curves import fit_curves

    for f in (sc.approach1, sc.approach2, sc.backtest, sc.forecast, fit_curves, down.fit_error_law):
        assert callable(f)
    assert obs.__doc__ and dd.__doc__
    for kind in ("constant", "cosine", "wsd", "two_stage", "linear"):
        assert callable(getattr(sc.Schedule, kind)), kind


def test_readme_reproductions_and_simulations_named_are_registered() -> None:
    from scaling.reproduce import REPRODUCTIONS
    from scaling.simulate import SIMULATIONS

    named = set(re.findall(r"`?scaling reproduce ([a-z0-9-]+)", README))
    m = re.search(r"scaling reproduce chinchilla .*# also: ([a-z0-9, -]+)", README)
    assert m
    named |= {n.strip() for n in m.group(1).split(",")}
    named |= set(re.findall(r"`scaling reproduce olmo-ladder` / `([a-z-]+)`", README))
    assert named <= set(REPRODUCTIONS), named - set(REPRODUCTIONS)
    assert {"olmo-ladder", "observational", "multipower", "double-descent"} <= named
    sims = set(re.findall(r"`([a-z-]+)` \(", _section("Why bigger models win, on a laptop")))
    assert sims == set(SIMULATIONS) == {"rare-tasks", "grokking", "deep-double-descent"}
    sig = inspect.signature(__import__("scaling.simulate", fromlist=["run_simulation"]).run_simulation)
    assert list(sig.parameters)[:4] == ["name", "out_dir", "quick", "rng"]
    assert sig.parameters["quick"].default is False and sig.parameters["rng"].default == 0
    args = build_parser().parse_args(["simulate", "rare-tasks", "-o", "x", "--quick", "--seed", "3"])
    assert args.quick and args.seed == 3


def test_readme_exit_codes_and_json_flag_are_documented_by_the_cli() -> None:
    text = _section("Command line")
    assert "0 success; 1 a data or fit error" in text and "2 a usage" in text
    code = main(["optimal", "published:nope", "--flops", "1e22"])
    assert code == 1
    assert main(["optimal", "published:hoffmann2022"]) == 2


def test_readme_sandwich_uncertainty_and_the_fit_docstrings_covariance_spelling() -> None:
    """README: `"sandwich"` covariance; sc.fit's docstring: `"covariance"` (sandwich). Both give one."""
    from scaling.demo import DEMO_TRUTH, load_demo_table
    table = load_demo_table()
    for spelling in ("sandwich", "covariance"):
        res = sc.fit(table, starts=DEMO_TRUTH, uncertainty=spelling)
        assert res.uncertainty.method == "sandwich" and res.cov is not None, spelling
        assert (res.ci(method="wald")["upper"] > res.params).all()


def test_compute_optimal_docstring_every_allocation_spends_exactly_c() -> None:
    """compute_optimal's docstring: every allocation satisfies f(N) D == C to rounding (closed form,
    numeric path, another FLOPs rule) and its example gives (4.04e10, 2.38e12)."""
    from scaling.demo import load_demo_table
    budgets = np.geomspace(1e19, 1e24, 6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        closed = sc.compute_optimal("published:hoffmann2022-unrounded", budgets)
        numeric = sc.compute_optimal(sc.fit(load_demo_table(), "kaplan-nd"), budgets)
        eight = sc.compute_optimal("published:epoch2024", budgets, flops_model=8.0)
    np.testing.assert_allclose(6 * closed.n_params * closed.n_tokens, budgets, rtol=1e-12)
    assert "numeric" in numeric.method
    np.testing.assert_allclose(6 * numeric.n_params * numeric.n_tokens, budgets, rtol=1e-12)
    np.testing.assert_allclose(8 * eight.n_params * eight.n_tokens, budgets, rtol=1e-12)
    ex = sc.compute_optimal("published:hoffmann2022-unrounded", flops=5.76e23)
    assert (round(ex.n_params / 1e10, 2), round(ex.n_tokens / 1e12, 2)) == (4.04, 2.38)


def test_task_law_docstring_defaults_are_the_papers_recipe() -> None:
    """task_law's docstring states Bhagia et al.'s recipe as its defaults."""
    p = inspect.signature(sc.task_law).parameters
    assert (p["last"].default, p["warmup"].default, p["window"].default) == (5, 0.1, 5)
    assert (p["objective"].default, p["delta"].default, p["anchor"].default, p["bootstrap"].default) == \
        ("huber", 1e-3, (0.0, 1.0), 0)


# ====================================================================================================
# the pitfalls of the introduction


def test_readme_hoffmann_intervals_are_about_50x_too_narrow(session: dict[str, Any]) -> None:
    """Hoffmann's 80 % interval on a has width 0.001 (REFERENCE); the 1,000-resample bootstrap gives ~0.048."""
    _claim("their intervals were ~50× too narrow")
    d = sc.derived(session["res"], "a", level=0.8)
    width = float(d["upper"].iloc[0] - d["lower"].iloc[0])
    assert width == pytest.approx(0.048, rel=0.15)  # REFERENCE check 8 (+-15 %)
    assert 35 <= width / 0.001 <= 65  # "~50x too narrow"


def test_readme_rounded_constants_move_n_opt_by_25_percent() -> None:
    _claim("their rounded constants move the optimal model size by 25 %")
    tex = sc.compute_optimal("published:hoffmann2022-unrounded", flops=5.76e23).n_params
    with pytest.warns(sc.errors.InconsistencyWarning):  # the printed constants fail the paper's own checks
        rounded = sc.compute_optimal("published:hoffmann2022", flops=5.76e23).n_params
    assert tex / rounded == pytest.approx(1.25, abs=0.01)  # 4.04e10 vs 3.22e10 (REFERENCE check 4)


def _hoffmann_objective(x: np.ndarray, lN: np.ndarray, lD: np.ndarray, lL: np.ndarray,
                        delta: float = 1e-3) -> tuple[float, np.ndarray]:
    from scipy.special import logsumexp
    a, b, e, alpha, beta = x
    terms = np.stack([a - alpha * lN, b - beta * lD, np.full_like(lN, e)])
    pred = logsumexp(terms, axis=0)
    r = pred - lL
    h = np.where(np.abs(r) <= delta, 0.5 * r * r, delta * (np.abs(r) - 0.5 * delta))
    dh = np.clip(r, -delta, delta)
    w = np.exp(terms - pred)
    grad = np.array([np.sum(dh * w[0]), np.sum(dh * w[1]), np.sum(dh * w[2]),
                     -np.sum(dh * w[0] * lN), -np.sum(dh * w[1] * lD)])
    return float(h.sum()), grad


def test_readme_default_tolerance_lands_on_the_wrong_optimum_and_fit_does_not() -> None:
    """REFERENCE check 7: scipy's default L-BFGS-B tolerances from Hoffmann's rounded values stop at
    alpha = 0.3387 (Hoffmann's answer); sc.fit from the same single start reaches the optimum."""
    from scipy.optimize import minimize

    _claim("a default tolerance lands on the wrong optimum")
    t = load_or_skip("epoch_chinchilla", drop_highest_loss=5)
    lN, lD, lL = np.log(t.n_params), np.log(t.n_tokens), np.log(t.loss)
    x0 = np.array([np.log(406.4), np.log(410.7), np.log(1.69), 0.34, 0.28])
    default = minimize(_hoffmann_objective, x0, args=(lN, lD, lL), jac=True, method="L-BFGS-B")
    assert default.x[3] == pytest.approx(0.3387, abs=2e-4) and default.fun > 1.1 * 1.018274e-3
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = sc.fit(t, starts={"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28})
    assert ours.objective == pytest.approx(1.018274e-3, rel=1e-6)
    assert ours.params["alpha"] == pytest.approx(0.3473, abs=1e-4)


# ====================================================================================================
# architecture and design choices


def _layer_of(module: str, layers: dict[str, int]) -> int | None:
    best = None
    for prefix, level in layers.items():
        if module == prefix or module.startswith(prefix + "."):
            best = level
    return best


def test_readme_layering_imports_point_only_down() -> None:
    """Architecture > Layering: the order the README states; a module imports only from its layer or below."""
    import test_architecture as arch

    m = re.search(r"\*\*Layering\*\*[^:]*: (.*?)\.", README, re.S)
    assert m
    layers: dict[str, int] = {}
    chain = re.sub(r"\s*\(.*", "", m.group(1), flags=re.S)  # the order, without its parenthetical remark
    for level, group in enumerate(chain.split("→")):
        for name in re.findall(r"[a-z_]+", group):
            layers[f"scaling.{name}"] = level
    assert {"scaling.data", "scaling.laws", "scaling.estimation", "scaling.predict", "scaling.cli"} <= set(layers)
    bad = []
    for mod, deps in arch._graph().items():
        lm = _layer_of(mod, layers)
        for dep in deps:
            ld = _layer_of(dep, layers)
            if lm is not None and ld is not None and ld > lm:
                bad.append(f"{mod} -> {dep}")
    assert bad == []


def test_readme_results_are_immutable_values() -> None:
    _claim("`RunTable`, `FitResult`, `Allocation` are immutable and hand out copies")
    from scaling.demo import DEMO_TRUTH, load_demo_table
    table = load_demo_table()
    res = sc.fit(table, starts=DEMO_TRUTH)
    alloc = sc.compute_optimal(res, 1e20)
    with pytest.raises(AttributeError):
        table.loss = 1  # type: ignore[misc]
    with pytest.raises(AttributeError):
        res.objective = 0.0  # type: ignore[misc]
    with pytest.raises(AttributeError):
        alloc.query = "x"  # type: ignore[misc]
    p = res.params
    p.iloc[0] = -1.0  # a copy
    assert res.params.iloc[0] != -1.0
    # a fixed schema (missing = None), every start's end point, provenance
    d = res.to_dict()
    assert d["cov"] is None and d["samples"] is None and d["uncertainty"] is None
    assert len(res.starts) == 1  # the one given start's end point, kept
    assert {"version", "law", "loss", "rng", "data_hash"} <= set(res.provenance)


def test_readme_repository_never_holds_the_datasets() -> None:
    """No tracked file has the sha256 of a registered upstream file; data/ holds only small typed tables."""
    from scaling.datasets import REGISTRY

    pinned = {f.sha256 for spec in REGISTRY.values() for f in spec.files}
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    for rel in tracked:
        p = ROOT / rel
        if p.is_file():
            assert hashlib.sha256(p.read_bytes()).hexdigest() not in pinned, rel
    for p in (ROOT / "data").iterdir():
        assert p.stat().st_size < 200_000, p


def test_readme_datablations_numbers_are_read_with_literal_eval_never_executed() -> None:
    src = (ROOT / "scaling" / "datasets" / "parsers.py").read_text()
    tree = ast.parse(src)
    calls = {n.func.attr if isinstance(n.func, ast.Attribute) else getattr(n.func, "id", "")
             for n in ast.walk(tree) if isinstance(n, ast.Call)}
    assert "literal_eval" in calls and not {"eval", "exec"} & calls


def test_readme_a_law_is_a_batched_function_with_a_vjp() -> None:
    law = sc.get_law("chinchilla")
    rng = np.random.default_rng(0)
    z = law.grid()[:3] + rng.normal(0, 0.01, (3, len(law.param_names)))
    X = {"n_params": np.geomspace(1e8, 1e10, 7), "n_tokens": np.geomspace(1e9, 1e11, 7)}
    ev = law.evaluate(z, X)
    f, vjp = ev
    assert np.shape(f) == (3, 7)  # starts x points in one call
    u = rng.normal(size=(3, 7))
    g = vjp(u)
    eps = 1e-6  # the vector-Jacobian product against central differences
    for j in range(z.shape[1]):
        dz = np.zeros_like(z)
        dz[:, j] = eps
        fd = (law.evaluate(z + dz, X, grad=False)[0] - law.evaluate(z - dz, X, grad=False)[0]) / (2 * eps)
        np.testing.assert_allclose(g[:, j], np.sum(u * fd, axis=1), rtol=1e-5, atol=1e-9)


def test_readme_coordinates_log_sum_exp_centred_and_constraints_a_linear_map() -> None:
    """Laws optimise in (log E, log A, log B, alpha, beta); intercepts are centred against their exponents;
    fixed or tied parameters are a linear (affine) map onto the full vector (`Law.constrain`)."""
    law = sc.get_law("chinchilla")
    assert law.transforms == ("log", "log", "log", "id", "id") and law.param_names == ("E", "A", "B", "alpha", "beta")
    X = {"n_params": np.geomspace(1e8, 1e10, 5), "n_tokens": np.geomspace(1e10, 1e12, 5)}
    T = law.free_preconditioner(X)
    assert T[1, 3] == pytest.approx(np.mean(np.log(X["n_params"])))  # log A centred against alpha
    assert T[2, 4] == pytest.approx(np.mean(np.log(X["n_tokens"])))  # log B centred against beta
    c = law.constrain(fixed={"E": 1.69}, tied={"beta": "alpha"})
    assert c.free_names == ("a", "b", "alpha")
    rng = np.random.default_rng(0)
    w1, w2 = rng.normal(size=(2, 3)), rng.normal(size=(2, 3))
    lin = c.expand(w1 + w2) - c.expand(w2) - (c.expand(w1) - c.expand(np.zeros((2, 3))))
    np.testing.assert_allclose(lin, 0.0, atol=1e-12)  # affine in w
    z = c.expand(w1)
    np.testing.assert_allclose(z[:, 0], np.log(1.69))
    np.testing.assert_array_equal(z[:, 4], z[:, 3])


def test_readme_every_warning_class_has_a_docs_entry() -> None:
    import scaling.errors as E

    doc = (ROOT / "docs" / "warnings.md").read_text()
    classes = [c for _, c in inspect.getmembers(E, inspect.isclass) if issubclass(c, Warning) and c.__module__ == E.__name__]
    assert classes
    for c in classes:
        assert c.__name__ in doc, c.__name__


# ====================================================================================================
# links, datasets table, packaging, development


def test_readme_links_and_docs_paths_exist() -> None:
    links = set(re.findall(r"\]\(([^)#]+)\)", README))
    links |= set(re.findall(r"(?<![\w/.])(docs/[\w.-]+\.md)", README))
    links |= set(re.findall(r"`((?:tests|benchmarks|scripts)/[\w./-]+\.py)`", README))
    assert "docs/training_logs.md" in links and "docs/uncertainty.md" in links
    for rel in links:
        assert not rel.startswith(("../", "/")), f"{rel}: points outside the repository"
        assert (ROOT / rel).exists(), rel


def _dataset_rows() -> list[list[str]]:
    text = _section("Datasets and licenses")
    rows = [ln.strip().strip("|").split("|") for ln in text.splitlines() if ln.startswith("| `")]
    return [[c.strip() for c in r] for r in rows]


def test_readme_dataset_table_matches_the_registry() -> None:
    from scaling.datasets import REGISTRY

    rows = _dataset_rows()
    assert [r[0].strip("`") for r in rows] == list(REGISTRY)
    for name, source, _rows, license_, paper in rows:
        spec = REGISTRY[name.strip("`")]
        repo, commit = (s.strip() for s in source.split("@"))
        assert repo == spec.repo and spec.commit.startswith(commit), name
        first = re.split(r"[ ;(]", license_)[0]
        if first != "no":
            assert first in spec.license, name
        arxiv = re.search(r"arXiv (\d{4}\.\d{5})", paper)
        assert arxiv and arxiv.group(1) == spec.arxiv, name


def test_readme_dataset_counts_not_covered_elsewhere() -> None:
    """Counts in the datasets table that tests/test_datasets.py etc. do not assert (see docs/claims.md)."""
    gadre = load_or_skip("gadre_overtraining").to_frame()
    assert len(gadre) == 104 and len([c for c in gadre.columns if c.startswith("loss_") and not c.endswith("95")]) == 8
    porian = load_or_skip("porian_resolving").to_frame()
    assert len(porian) == 1745 and porian["group"].nunique() == 15
    gpt3 = load_or_skip("colpret_curves", part="gpt3").to_frame()
    assert gpt3["run"].nunique() == 8
    datab = load_or_skip("colpret_curves", part="datablations").to_frame()
    assert len(datab) == 9261 and datab["run"].nunique() == 48
    mp = load_or_skip("multipowerlaw_schedules").to_frame()
    assert len(mp) == 6265 and mp["group"].nunique() == 3 and mp["schedule"].nunique() == 9


def test_readme_datasets_list_prints_the_pinned_sources_and_show_the_urls(capsys: pytest.CaptureFixture[str]) -> None:
    from scaling.datasets import REGISTRY

    assert main(["datasets", "list"]) == 0
    out = capsys.readouterr().out
    for spec in REGISTRY.values():
        assert f"{spec.repo}@{spec.commit}" in out, spec.name  # the full pinned commit
    assert main(["datasets", "show", "olmo_ladder", "--json"]) == 0
    files = json.loads(capsys.readouterr().out)["files"]
    assert files and all(f["url"].startswith("https://raw.githubusercontent.com/allenai/OLMo-ladder/") for f in files)


def test_readme_every_subpackage_is_installed_by_pip_install_dot() -> None:
    """Quick start: `pip install .` (not only an editable install) ships every module and the demo data.

    setuptools installs the *.py files of the listed packages only: a folder of modules missing from
    ``[tool.setuptools] packages`` (scaling.curves was) breaks `import scaling` after `pip install .`.
    """
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    folders = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "scaling").rglob("*.py")}
    assert folders - listed == set()
    assert PYPROJECT["tool"]["setuptools"]["package-dir"]["scaling._published"] == "data"
    assert "*.csv" in PYPROJECT["tool"]["setuptools"]["package-data"]["scaling._published"]
    assert (ROOT / "data" / "demo_runs.csv").exists()
    assert PYPROJECT["project"]["scripts"]["scaling"] == "scaling.cli:main"


def _third_party_imports(paths: list[Path]) -> set[str]:
    out: set[str] = set()
    for p in paths:
        for node in ast.walk(ast.parse(p.read_text())):
            if isinstance(node, ast.Import):
                out |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                out.add(node.module.split(".")[0])
    return {m for m in out if m not in sys.stdlib_module_names}


def test_readme_test_extra_lists_what_the_tests_import() -> None:
    """Quick start line 2: `pip install -e ".[test]"` is enough to run the suite."""
    deps = PYPROJECT["project"]["dependencies"] + PYPROJECT["project"]["optional-dependencies"]["test"]
    dists = {re.split(r"[<>=\[ ]", d)[0].lower().replace("-", "_") for d in deps}
    import_names = {"sklearn": "scikit_learn", "yaml": "pyyaml", "dask": "dask", "distributed": "dask"}
    local = {p.stem for p in (ROOT / "tests").glob("*.py")} | {"scaling", "conftest"}
    missing = []
    for mod in _third_party_imports(sorted((ROOT / "tests").glob("*.py"))) - local:
        dist = import_names.get(mod, mod).lower()
        if dist not in dists and not (mod == "tensorboard" and "tensorboard" in dists):
            missing.append(mod)
    assert missing == []


def _fresh_conftest(monkeypatch: pytest.MonkeyPatch, require: str | None, tmp_path: Path) -> Any:
    monkeypatch.setenv("SCALING_DATA_DIR", str(tmp_path / "empty-mirror"))
    monkeypatch.setenv("SCALING_CACHE_DIR", str(tmp_path / "empty-cache"))
    if require is None:
        monkeypatch.delenv("SCALING_REQUIRE_DATA", raising=False)
    else:
        monkeypatch.setenv("SCALING_REQUIRE_DATA", require)
    spec = importlib.util.spec_from_file_location("conftest_fresh", ROOT / "tests" / "conftest.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_readme_missing_data_skips_and_scaling_require_data_fails(monkeypatch: pytest.MonkeyPatch,
                                                                    tmp_path: Path) -> None:
    """Without a mirror or a cached copy a data test is skipped; SCALING_REQUIRE_DATA=1 makes it a failure."""
    fresh = _fresh_conftest(monkeypatch, None, tmp_path)
    with pytest.raises(pytest.skip.Exception, match="dataset not available: epoch_chinchilla"):
        fresh.load_or_skip("epoch_chinchilla")
    fresh = _fresh_conftest(monkeypatch, "1", tmp_path)
    with pytest.raises(pytest.fail.Exception, match=r"SCALING_REQUIRE_DATA=1"):
        fresh.load_or_skip("epoch_chinchilla")


def test_read_table_docstring_example_reads_the_mirror_file() -> None:
    """read_table's example (marked doctest: +SKIP, so checked here) on the mirror's Epoch file."""
    import os

    from scaling.datasets import fetch_file

    load_or_skip("epoch_chinchilla")
    path = os.path.join(os.environ.get("SCALING_DATA_DIR", "."), "epoch_chinchilla/data/svg_extracted_data.csv")
    if not os.path.exists(path):  # no mirror: the cached copy, the same bytes
        path = str(fetch_file("epoch_chinchilla", "data/svg_extracted_data.csv", download=False))
    t = sc.read_table(path, columns={"n_params": "Model Size", "flops": "Training FLOP"}, name="epoch_chinchilla")
    assert repr(t) == ("<RunTable 'epoch_chinchilla': 245 runs, 142 distinct N, n_tokens derived as "
                       "flops/(6·n_params), loss in nats>")


def test_readme_mirror_layout_is_dataset_then_upstream_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """`SCALING_DATA_DIR` laid out `<dataset>/<path in upstream repo>`: a copy of just that file is read."""
    from scaling.datasets import REGISTRY, fetch_file

    spec = REGISTRY["epoch_chinchilla"]
    src = fetch_file("epoch_chinchilla", spec.files[0].path, download=False)  # from the CI mirror
    target = tmp_path / "mirror" / "epoch_chinchilla" / spec.files[0].path
    target.parent.mkdir(parents=True)
    target.write_bytes(Path(src).read_bytes())
    monkeypatch.setenv("SCALING_DATA_DIR", str(tmp_path / "mirror"))
    monkeypatch.setenv("SCALING_CACHE_DIR", str(tmp_path / "cache"))
    assert len(sc.load_dataset("epoch_chinchilla", download=False)) == 245


def test_readme_development_notes_hold() -> None:
    assert any(m.startswith("slow:") for m in PYPROJECT["tool"]["pytest"]["ini_options"]["markers"])
    ci = (ROOT / ".ci" / "run").read_text()
    line2 = _blocks("bash")[0].splitlines()[1].strip()
    assert line2 in ci and "SCALING_REQUIRE_DATA=1" in ci and "python3 -m venv" in ci
    assert "ruff check scaling tests" in ci and "mypy scaling" in ci  # "ruff and mypy run in CI"


def test_readme_make_demo_data_regenerates_the_committed_file_byte_for_byte(tmp_path: Path) -> None:
    from scaling.demo import generate_demo_runs

    src = (ROOT / "scripts" / "make_demo_data.py").read_text()
    assert "generate_demo_runs().to_csv(out, index=False)" in src
    generate_demo_runs().to_csv(tmp_path / "demo.csv", index=False)
    assert (tmp_path / "demo.csv").read_bytes() == (ROOT / "data" / "demo_runs.csv").read_bytes()


# ====================================================================================================
# benchmarks: the README names the command that produced each figure; the script exists and prints it

BENCH_PRINTS = {  # script -> lines of the README's quoted output the script must print (its source holds them)
    "bench_fit.py": ["speed-up vs (a)", "objective (c) <= (a)", "repeats:"],
    "bench_bootstrap.py": ["speed-up vs shortcut", "default verification", "standard errors", "resamples where ours"],
    "bench_fit_many.py": ["one-at-a-time scaling.fit", "scaling.fit_many", "speed-up", "max relative objective",
                          "max relative parameter"],
    "bench_predict.py": ["ratio", "max rel diff"],
    "bench_kernel.py": ["generic us", "fused us", "(a)/(b)"],
}


def _bench_commands() -> list[list[str]]:
    return [shlex.split(c) for c in re.findall(r"`(python benchmarks/[^`]+)`", _section("Benchmarks"))]


def test_readme_benchmark_commands_name_existing_scripts_and_flags() -> None:
    cmds = _bench_commands()
    assert sorted(Path(c[1]).name for c in cmds) == sorted(BENCH_PRINTS)
    for cmd in cmds:
        script = ROOT / cmd[1]
        assert script.exists(), cmd
        tree = ast.parse(script.read_text())
        flags = {a.value for n in ast.walk(tree) if isinstance(n, ast.Call)
                 and getattr(n.func, "attr", "") == "add_argument" for a in n.args if isinstance(a, ast.Constant)}
        for arg in cmd[2:]:
            if arg.startswith("--"):
                assert arg in flags, (cmd[1], arg)


def test_readme_benchmark_scripts_print_the_quoted_quantities() -> None:
    for script, needles in BENCH_PRINTS.items():
        src = (ROOT / "benchmarks" / script).read_text()
        for needle in needles:
            assert needle in src, (script, needle)
        assert "threadpool_limits" in src or 'os.environ[_v] = "1"' in src, script  # "BLAS pinned to one thread"
        assert "median" in src, script


# ====================================================================================================
# the claims map


CLAIMS = ROOT / "docs" / "claims.md"


def test_claims_map_names_existing_tests() -> None:
    """docs/claims.md: every `tests/<file>.py::<function>` it names is a test function of that file."""
    refs = re.findall(r"`(tests/[\w/]+\.py)::(\w+)`", CLAIMS.read_text())
    assert len(refs) >= 60
    defined: dict[str, set[str]] = {}
    for rel, func in refs:
        if rel not in defined:
            path = ROOT / rel
            assert path.exists(), rel
            defined[rel] = {n.name for n in ast.walk(ast.parse(path.read_text()))
                            if isinstance(n, ast.FunctionDef) and n.name.startswith("test")}
        assert func in defined[rel], f"{rel}::{func}"


def test_claims_map_lists_every_test_of_this_file() -> None:
    text = CLAIMS.read_text()
    tree = ast.parse(Path(__file__).read_text())
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_") and \
                not node.name.startswith("test_claims_map"):
            assert f"tests/test_readme_claims.py::{node.name}`" in text, node.name


def test_reproduce_help_lists_every_registered_reproduction(capsys: pytest.CaptureFixture[str]) -> None:
    """`scaling reproduce --help` names every reproduction (it used to omit sensitivity and multipower)."""
    from scaling.reproduce import REPRODUCTIONS

    with pytest.raises(SystemExit):
        build_parser().parse_args(["reproduce", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    for name in REPRODUCTIONS:
        assert name in out, name
