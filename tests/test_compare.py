"""`sc.compare`: estimates of one quantity side by side, DisagreementWarning when intervals are disjoint."""

from __future__ import annotations

import warnings

import pytest

import scaling as sc
from scaling.errors import DataError, DisagreementWarning
from scaling.estimation.compare import Estimate


def test_disjoint_intervals_warn():
    """The issue's sweep: Approach 1 vs 3 exponent a, 0.436 [0.365, 0.449] vs 0.816 [0.555, 0.910]."""
    with pytest.warns(DisagreementWarning, match=r"a: Approach 1 = 0.436 \[0.365, 0.449\] \(95%\) and Approach 3 = "
                                                 r"0.816 \[0.555, 0.91\] \(95%\) disagree beyond their intervals"):
        c = sc.compare(("Approach 1", 0.436, 0.365, 0.449), ("Approach 3", 0.816, 0.555, 0.910), quantity="a",
                       level=0.95)
    assert not c.agree and c.disagreements == (("Approach 1", "Approach 3"),)
    df = c.to_frame()
    assert df.loc["Approach 3", "lower"] == 0.555 and df["disagrees"].all()
    assert c.to_dict()["agree"] is False


def test_overlapping_intervals_are_silent():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        c = sc.compare(Estimate("A2", 0.49, 0.462, 0.534), Estimate("A3", 0.514, 0.48, 0.55),
                       {"label": "Epoch", "value": 0.513})
    assert c.agree and c.undecided == ()
    assert "agree within their intervals" in str(c)


def test_point_estimate_outside_an_interval_disagrees_and_two_points_are_undecided():
    with pytest.warns(DisagreementWarning, match="Hoffmann A3 = 0.46 and ours = 0.514"):
        c = sc.compare(("Hoffmann A3", 0.46), ("ours", 0.514, 0.49, 0.54), ("Epoch", 0.513))
    assert c.disagreements == (("Hoffmann A3", "ours"),)
    assert c.undecided == (("Hoffmann A3", "Epoch"),)
    # a list of estimates works as well, and warn=False stays silent
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert not sc.compare([("x", 1.0, 0.9, 1.1), ("y", 2.0, 1.9, 2.1)], warn=False).agree


@pytest.mark.parametrize("args, match", [
    ((("x", 1.0),), "compare\\(\\) must be given at least two estimates; got 1"),
    ((("x", 1.0), ("x", 2.0)), "Estimate labels passed to compare\\(\\) must be distinct; got repeated \\['x'\\]"),
    ((("x", 1.0, 2.0, 1.0), ("y", 1.0)), "The interval of estimate 'x' must be ordered"),
    ((("x", float("nan")), ("y", 1.0)), "The value of estimate 'x' must be a finite number"),
    ((("x", 1.0), 3.0), "An estimate passed to compare\\(\\) must be an Estimate, a mapping, or a tuple"),
    ((("x", 1.0), {"label": "y", "val": 1}), "must be a mapping with keys label, value"),
])
def test_errors(args, match):
    with pytest.raises(DataError, match=match):
        sc.compare(*args)
    with pytest.raises(DataError, match="The interval of estimate 'z' must be given with both bounds"):
        Estimate("z", 1.0, lower=0.5)
