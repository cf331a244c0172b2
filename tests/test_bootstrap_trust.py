"""The bootstrap keeps its promise with default settings (issue 11 §1): every resample at its global
optimum on a problem built to have resample-specific basins, verified as it runs, with escalation;
``bootstrap_counts`` lets anyone refit any resample; flags for bounds, few clusters, zero widths."""

from __future__ import annotations

import importlib
import warnings

import numpy as np
import pandas as pd
import pytest

from scaling.errors import BoundaryWarning, ConvergenceWarning, UncertaintyWarning
from scaling.estimation import build_problem, fit

U = importlib.import_module("scaling.estimation.uncertainty")
Bootstrap = U.Bootstrap


def two_basin_table(seed: int = 0, n: int = 40) -> pd.DataFrame:
    """Issue 11 §1: 40 runs, N log-uniform in [1e8, 1e10], D log-uniform in [1e9, 1e12],
    L = 1.8 + 400 N^-0.35 + 2000 D^-beta exp(eps), eps ~ N(0, 0.002), beta = 0.25 (even rows) / 0.40 (odd)."""
    g = np.random.default_rng(seed)
    N = np.exp(g.uniform(np.log(1e8), np.log(1e10), n))
    D = np.exp(g.uniform(np.log(1e9), np.log(1e12), n))
    beta = np.where(np.arange(n) % 2 == 0, 0.25, 0.40)
    L = 1.8 + 400 * N ** -0.35 + 2000 * D ** -beta * np.exp(g.normal(0, 0.002, n))
    return pd.DataFrame({"n_params": N, "n_tokens": D, "loss": L})


TWO_BASIN_FIXED = {"E": 1.8, "A": 400.0, "B": 2000.0, "alpha": 0.35}
#: the settings that were the default before issue 11: no verification, no extra starts
OLD_DEFAULT = {"verify": 0, "escalate": 0, "extra_starts": 0}


@pytest.fixture(scope="module")
def two_basin():
    df = two_basin_table()
    base = fit(df, "chinchilla", fixed=TWO_BASIN_FIXED)
    prob = build_problem(df, "chinchilla", fixed=TWO_BASIN_FIXED)[0]
    return df, base, prob


def _objectives(prob, res, W):
    X = prob.to_free(res.samples[list(prob.law.param_names)].to_numpy())
    return prob.objective(X, W, grad=False)[0]


#: full-grid refits by weight vector: every test here draws the same 60 resamples (rng=2), so each is
#: refitted once (a refit of this problem costs ~0.2-0.7 s: two grid starts run to the iteration limit)
_SOLVED: dict[bytes, tuple[np.ndarray, float]] = {}


def _solve(prob, w):
    w = np.ascontiguousarray(w, dtype=float)
    key = w.tobytes()
    if key not in _SOLVED:
        ms = prob.solve(weights=w)
        _SOLVED[key] = (ms.x, float(ms.f))
    return _SOLVED[key]


def _grid_refits(prob, counts):
    return np.array([_solve(prob, c.astype(float))[1] for c in counts])


@pytest.fixture
def memo_verify(monkeypatch):
    """The bootstrap's own verification uses the same (memoised) full-grid refits."""
    monkeypatch.setattr(U, "_verify_one", _solve)


def test_old_default_misses_two_basin_resamples(two_basin):
    """What the issue saw: without verification 2 of 60 resamples stop 3.3 % and 2.4 % above their
    full-grid optimum, silently (verified = 0, no warning)."""
    _, base, prob = two_basin
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        old = U.estimate_uncertainty(prob, base, Bootstrap(n=60, jackknife=False, **OLD_DEFAULT), rng=2)
    counts = old.bootstrap_counts
    f = _objectives(prob, old, counts.astype(float))
    grid = _grid_refits(prob, counts)
    rel = (f - grid) / grid
    miss = np.flatnonzero(rel > 1e-9)
    np.testing.assert_array_equal(miss, [3, 52])
    assert rel[3] == pytest.approx(0.0329, abs=5e-4) and rel[52] == pytest.approx(0.0239, abs=5e-4)
    assert old.uncertainty["verified"] == 0


def test_default_finds_every_resample_optimum_two_basin(two_basin, memo_verify):
    """The default runs the whole (5-start) grid for every resample of this small-grid problem and
    verifies a random subset; EVERY resample, refitted from bootstrap_counts on the full grid, matches."""
    _, base, prob = two_basin
    res = U.estimate_uncertainty(prob, base, Bootstrap(n=60, jackknife=False), rng=2)
    u = res.uncertainty
    counts = res.bootstrap_counts
    assert counts.dtype.kind == "i" and counts.shape == (60, 40) and np.all(counts.sum(axis=1) == 40)
    f = _objectives(prob, res, counts.astype(float))
    grid = _grid_refits(prob, counts)
    assert np.all(f <= grid * (1 + 1e-9))
    assert u["extra_starts"] == 5 and u["verified"] >= 1 and u["verify_misses"] == 0 and u["replaced"] == 0
    text = str(res.summary())
    assert "resamples verified against full-grid refits, 0 missed" in text and "miss rate" in text


def test_escalation_finds_what_the_verification_caught(two_basin, memo_verify):
    """Without extra starts the verified subset (here all 60) shows the 2 misses; the bootstrap escalates
    (the whole grid for every resample), re-verifies clean, and every resample then matches its refit."""
    _, base, prob = two_basin
    res = U.estimate_uncertainty(prob, base, Bootstrap(n=60, jackknife=False, extra_starts=0, verify=60), rng=2)
    u = res.uncertainty
    assert [r.misses for r in u.verification.rounds] == [2, 0] and u.escalations == 1 and u.extra_starts == 5
    assert u.verify_misses == 0 and u.replaced == 0 and u.miss_rate_upper == pytest.approx(1 - 0.05 ** (1 / 60))
    counts = res.bootstrap_counts
    f = _objectives(prob, res, counts.astype(float))
    assert np.all(f <= _grid_refits(prob, counts) * (1 + 1e-9))
    assert "0 missed after 1 escalation(s) (escalated to 5 grid starts per resample)" in str(res.summary())


def _zero_floor_table(offset: float, noise: float, seed: int = 0) -> pd.DataFrame:
    """Chinchilla data whose irreducible loss is at (or below) zero, so E runs to its log-scale limit."""
    g = np.random.default_rng(seed)
    N = np.exp(g.uniform(np.log(1e7), np.log(1e9), 30))
    D = np.exp(g.uniform(np.log(1e9), np.log(1e11), 30))
    L = (offset + 40 * N ** -0.15 + 100 * D ** -0.2) * np.exp(g.normal(0, noise, 30))
    return pd.DataFrame({"n_params": N, "n_tokens": D, "loss": L})


def _boot(df, **kw):
    fixed = {"alpha": 0.15, "beta": 0.2}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the full fit's own flags (E beyond the start grid)
        base = fit(df, "chinchilla", fixed=fixed, loss="squared_log")
    prob = build_problem(df, "chinchilla", fixed=fixed, loss="squared_log")[0]
    return U.estimate_uncertainty(prob, base, Bootstrap(n=100, jackknife=False, **kw), rng=0)


def test_flag_parameter_on_bound_in_many_resamples():
    """E (true value 0) collapses to zero in 16 of 100 resamples: a BoundaryWarning, also in the flags."""
    with pytest.warns(BoundaryWarning, match=r"E is on a bound \(zero \(log scale\)\) in 16 of 100 bootstrap"):
        r = _boot(_zero_floor_table(0.0, 0.01))
    assert any("E is on a bound" in f for f in r.flags)
    assert "E is on a bound" in str(r.summary())


def test_flag_zero_width_interval():
    """E at zero in every resample: its 95 % interval has zero width (UncertaintyWarning); the fixed
    alpha and beta (zero width by construction) are not flagged."""
    with pytest.warns(UncertaintyWarning, match=r"interval of E has zero width") as rec, \
            pytest.warns(BoundaryWarning, match=r"E is on a bound .* in 100 of 100"):
        r = _boot(_zero_floor_table(-0.2, 0.001))
    assert not any("alpha" in str(w.message) for w in rec if issubclass(w.category, UncertaintyWarning))
    ci = r.ci()
    assert ci.loc["E", "upper"] - ci.loc["E", "lower"] <= 1e-12


def test_no_flags_on_a_clean_bootstrap(two_basin, memo_verify):
    """The flags stay silent where nothing is wrong (60 resamples of the two-basin problem, verified)."""
    _, base, prob = two_basin
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = U.estimate_uncertainty(prob, base, Bootstrap(n=20, jackknife=False), rng=5)
    assert r.flags == base.flags


def test_miss_rate_upper_bound():
    """Clopper-Pearson one-sided 95 %: 0 of v -> 1 - 0.05^(1/v); 1 verified -> 0.95; none -> 1."""
    assert U.miss_rate_upper(0, 60) == pytest.approx(1 - 0.05 ** (1 / 60), rel=1e-10)
    assert U.miss_rate_upper(0, 1) == pytest.approx(0.95)
    assert U.miss_rate_upper(0, 0) == 1.0 and U.miss_rate_upper(3, 3) == 1.0
    assert U.miss_rate_upper(2, 60) == pytest.approx(0.1008, abs=5e-4)


def test_escalation_off_replaces_and_warns(two_basin, memo_verify):
    """With escalation off, the verified misses are replaced by their full-grid answers and warned
    (with the miss-rate bound), and the result says so."""
    _, base, prob = two_basin
    match = r"2 of 60 verified bootstrap resamples .*no escalation.*miss rate <= 0.1"
    with pytest.warns(ConvergenceWarning, match=match):
        r = U.estimate_uncertainty(prob, base, Bootstrap(n=60, jackknife=False, escalate=0, verify=60,
                                                         extra_starts=0), rng=2)
    u = r.uncertainty
    assert u["verify_misses"] == 2 and u["replaced"] == 2 and u["escalations"] == 0
    assert u["verification"]["rounds"][0]["misses"] == 2


# --------------------------------------------------------------------------- after the fact (issue 10 item 4)
def test_bootstrap_after_the_fact_on_a_reloaded_fit_equals_the_fit_time_bootstrap(tmp_path):
    """sc.bootstrap(res, table, n, rng) on a saved-and-reloaded fit rebuilds the problem from res.spec and
    gives exactly the samples (and counts) of fit(..., uncertainty=Bootstrap(n), rng) on the same data."""
    import scaling as sc

    df = two_basin_table()
    at_fit = fit(df, "chinchilla", fixed=TWO_BASIN_FIXED, uncertainty=Bootstrap(n=20, jackknife=False), rng=3)
    plain = fit(df, "chinchilla", fixed=TWO_BASIN_FIXED)
    back = sc.FitResult.load(plain.save(tmp_path / "fit.json"))
    assert back.uncertainty is None
    for table in (None, df):
        later = sc.bootstrap(back, table, n=20, rng=3, jackknife=False)
        pd.testing.assert_frame_equal(later.samples, at_fit.samples)
        np.testing.assert_array_equal(later.bootstrap_counts, at_fit.bootstrap_counts)
        # the same record but for the timing
        assert later.uncertainty == type(at_fit.uncertainty).from_dict(
            {**at_fit.uncertainty.to_dict(), "details": later.uncertainty.details.to_dict()})
    same = back.with_uncertainty(Bootstrap(n=20, jackknife=False), rng=3)
    pd.testing.assert_frame_equal(same.samples, at_fit.samples)
    # the reloaded bootstrap round-trips JSON exactly, with its typed record
    again = sc.FitResult.load(at_fit.save(tmp_path / "boot.json"))
    assert again == at_fit and type(again.uncertainty) is type(at_fit.uncertainty)
    assert again.uncertainty.verification.rounds == at_fit.uncertainty.verification.rounds
    np.testing.assert_array_equal(again.bootstrap_counts, at_fit.bootstrap_counts)


def test_uncertainty_records_are_typed_frozen_and_round_trip(tmp_path):
    """Every method's record: a frozen dataclass (typed fields, nested records), readable as a mapping,
    JSON round trip exact; a result refuses a record of an unknown method."""
    import dataclasses
    import pickle

    import scaling as sc
    from scaling.errors import DataError
    from scaling.estimation.uncertainty_info import (BootstrapUncertainty, ProfileUncertainty, SandwichUncertainty,
                                                     record_from_dict)

    df = two_basin_table()
    base = fit(df, "chinchilla", fixed=TWO_BASIN_FIXED, loss="squared_log")
    prof = base.with_uncertainty(sc.Profile(level=0.9))
    sand = base.with_uncertainty("sandwich")
    boot = base.with_uncertainty(Bootstrap(n=10, verify=0), rng=0)
    for r, cls in ((prof, ProfileUncertainty), (sand, SandwichUncertainty), (boot, BootstrapUncertainty)):
        u = r.uncertainty
        assert type(u) is cls and dataclasses.is_dataclass(u)
        with pytest.raises(dataclasses.FrozenInstanceError):
            u.method = "x"  # type: ignore[misc]
        back = sc.FitResult.load(r.save(tmp_path / f"{u.method}.json"))
        assert back == r and back.uncertainty == u and record_from_dict(u.to_dict()) == u
        assert pickle.loads(pickle.dumps(r)) == r  # joblib workers pickle results
    assert prof.uncertainty.level == 0.9 and set(prof.uncertainty.intervals) == {"E", "A", "B", "alpha", "beta"}
    lo, hi = prof.uncertainty.intervals["beta"]
    pd.testing.assert_series_equal(prof.ci(0.9, method="profile").loc["beta"], pd.Series({"lower": lo, "upper": hi}),
                                   check_names=False)
    with pytest.raises(DataError, match=r"stored with the fit; got profile intervals at level 0.9"):
        prof.ci(0.95, method="profile")
    with pytest.raises(ValueError, match="read-only"):
        boot.uncertainty.counts[0, 0] = 7
    with pytest.raises(DataError, match="of a known method"):
        base.replace(uncertainty={"method": "guess"})


def test_whitened_phase_a_reruns_rows_that_leave_the_box(monkeypatch):
    """Phase A runs unbounded in Hessian-whitened coordinates (they mix the bounded exponent with the
    intercept); a weight row whose exponent wants to be negative ends outside the box and is re-run with
    it, in centred coordinates. Row 1 here weights points whose loss rises with D: beta ends at its bound
    0, exactly where the centred, boxed run puts it."""
    B = importlib.import_module("scaling.estimation.batch")
    g = np.random.default_rng(0)
    n = 40
    N = np.exp(g.uniform(np.log(1e8), np.log(1e10), n))
    D = np.exp(g.uniform(np.log(1e9), np.log(1e12), n))
    rise = np.arange(n) >= 30
    term = 300 * D ** -0.3
    term[rise] = 300 * 1e9 ** -0.3 * (D[rise] / 1e9) ** 0.2
    df = pd.DataFrame({"n_params": N, "n_tokens": D,
                       "loss": (1.8 + 400 * N ** -0.35 + term) * np.exp(g.normal(0, 0.002, n))})
    fixed = {"E": 1.8, "A": 400.0, "alpha": 0.35}
    base = fit(df, "chinchilla", fixed=fixed)
    prob = build_problem(df, "chinchilla", fixed=fixed)[0]
    x_hat = prob.to_free(base.params.to_numpy()[None])[0]
    T, Ti, _, _ = B.hessian_coordinates(prob.objective, x_hat)
    assert abs(T[0, 1]) > 1  # the intercept is mixed with the bounded exponent
    W = np.ones((2, n))
    W[1, rise], W[1, ~rise] = 30, 0.2
    reruns = []
    orig = B._run

    def spy(objective, Wr, x0, T_, Ti_, lo, hi, *a):
        out = orig(objective, Wr, x0, T_, Ti_, lo, hi, *a)
        reruns.append((len(Wr), bool(np.isfinite(lo).any()), bool(np.allclose(T_, T))))
        return out

    monkeypatch.setattr(B, "_run", spy)
    white = B.optimise_weighted(prob.objective, W, x_hat[None], coords=(T, Ti))
    assert reruns == [(2, False, True), (1, True, False)]  # unbounded whitened run, then row 1 boxed
    boxed = B.optimise_weighted(prob.objective, W, x_hat[None])
    assert white.x[0, 1] == pytest.approx(0.2958, abs=1e-3) and white.x[1, 1] == 0.0
    np.testing.assert_allclose(white.f, boxed.f, rtol=1e-12)
    np.testing.assert_allclose(white.x, boxed.x, rtol=1e-7, atol=1e-12)
