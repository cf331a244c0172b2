"""Side-by-side estimates of one quantity from different methods, with a warning when they disagree.

Two methods applied to the same runs — Hoffmann et al.'s Approach 1 (envelope of training curves),
Approach 2 (isoFLOP minima) and Approach 3 (parametric fit) — estimate the same exponent ``a`` of
``N_opt ∝ C^a``. When their intervals do not even overlap, at most one of them describes the data
(or none: the law's form, the budget range or a start grid is at fault), and reporting one number
alone misleads. :func:`compare` puts the estimates side by side and issues a
:class:`~scaling.errors.DisagreementWarning` naming each disagreeing pair::

    import scaling as sc
    cmp = sc.compare(("Approach 1", 0.436, 0.365, 0.449), ("Approach 3", 0.816, 0.555, 0.910), quantity="a")
    # DisagreementWarning: a: Approach 1 = 0.436 [0.365, 0.449] and Approach 3 = 0.816 [0.555, 0.910] ...
    cmp.to_frame(); cmp.agree  # False

Rule. Two estimates with intervals *disagree* when the intervals are disjoint (the lower bound of one
lies above the upper bound of the other). An estimate without an interval disagrees with one that has
an interval when its value lies outside that interval; two estimates without intervals cannot be
judged (listed in ``undecided``). Disjoint 95 % intervals are a conservative test: two independent
estimates whose 95 % intervals just touch differ at about the 0.6 % level, so a warning here is a
finding, not noise.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..errors import DataError, DisagreementWarning, format_message

__all__ = ["Estimate", "Comparison", "compare"]


@dataclass(frozen=True)
class Estimate:
    """One estimate: a label (the method), the value and, optionally, an interval at ``level``."""

    label: str
    value: float
    lower: float | None = None
    upper: float | None = None
    level: float | None = None
    method: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.label, str) or not self.label:
            raise DataError(format_message("Estimate label", "", "a non-empty string", repr(self.label)))
        for name in ("value", "lower", "upper"):
            v = getattr(self, name)
            if name != "value" and v is None:
                continue
            if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(float(v)):
                raise DataError(format_message(f"The {name}", f"of estimate {self.label!r}", "a finite number",
                                               repr(v)))
        if (self.lower is None) != (self.upper is None):
            raise DataError(format_message("The interval", f"of estimate {self.label!r}", "given with both bounds",
                                           f"lower={self.lower!r}, upper={self.upper!r}"))
        if self.lower is not None and self.upper is not None and not self.lower <= self.upper:
            raise DataError(format_message("The interval", f"of estimate {self.label!r}", "ordered (lower <= upper)",
                                           f"[{self.lower!r}, {self.upper!r}]"))
        if self.level is not None and not 0 < self.level < 1:
            raise DataError(format_message("The level", f"of estimate {self.label!r}", "between 0 and 1",
                                           repr(self.level)))

    @property
    def has_interval(self) -> bool:
        return self.lower is not None

    def text(self) -> str:
        iv = "" if not self.has_interval else f" [{self.lower:.4g}, {self.upper:.4g}]"
        lv = "" if self.level is None or not self.has_interval else f" ({self.level:.0%})"
        return f"{self.label} = {self.value:.4g}{iv}{lv}"


def _as_estimate(e: Any, level: float | None) -> Estimate:
    if isinstance(e, Estimate):
        return e if e.level is not None or level is None else Estimate(e.label, e.value, e.lower, e.upper, level,
                                                                       e.method)
    if isinstance(e, Mapping):
        d = dict(e)
        d.setdefault("level", level)
        try:
            return Estimate(**d)
        except TypeError as exc:
            raise DataError(format_message("An estimate", "passed to compare()", "a mapping with keys label, value "
                                           "and optionally lower, upper, level, method", repr(sorted(d)))) from exc
    if isinstance(e, (tuple, list)) and len(e) in (2, 4):
        label, value, *iv = e
        lo, hi = (iv + [None, None])[:2]
        return Estimate(str(label), float(value), None if lo is None else float(lo), None if hi is None else float(hi),
                        level)
    raise DataError(format_message("An estimate", "passed to compare()", "an Estimate, a mapping, or a tuple "
                                   "(label, value) / (label, value, lower, upper)", repr(e)))


@dataclass(frozen=True)
class Comparison:
    """Estimates of one quantity side by side; ``disagreements`` lists the pairs that disagree."""

    quantity: str
    estimates: tuple[Estimate, ...]
    disagreements: tuple[tuple[str, str], ...] = field(default=())
    undecided: tuple[tuple[str, str], ...] = field(default=())

    @property
    def agree(self) -> bool:
        """No pair disagrees beyond its intervals."""
        return not self.disagreements

    def message(self) -> str:
        by = {e.label: e for e in self.estimates}
        pairs = "; ".join(f"{by[a].text()} and {by[b].text()}" for a, b in self.disagreements)
        return (f"{self.quantity or 'estimates'}: {pairs} disagree beyond their intervals. At most one method "
                "describes these data: check each method's assumptions (the law's form, the range of budgets or "
                "sizes each uses, the start grid), compare on the same runs, and backtest (sc.backtest) before "
                "reporting one of them.")

    def to_frame(self) -> pd.DataFrame:
        dis = {x for pair in self.disagreements for x in pair}
        rows = [{"estimate": e.label, "value": e.value, "lower": e.lower, "upper": e.upper, "level": e.level,
                 "method": e.method, "disagrees": e.label in dis} for e in self.estimates]
        return pd.DataFrame(rows).set_index("estimate")

    def to_dict(self) -> dict[str, Any]:
        return {"quantity": self.quantity, "agree": self.agree,
                "estimates": [{"label": e.label, "value": e.value, "lower": e.lower, "upper": e.upper,
                               "level": e.level, "method": e.method} for e in self.estimates],
                "disagreements": [list(p) for p in self.disagreements],
                "undecided": [list(p) for p in self.undecided]}

    def __str__(self) -> str:
        head = f"{self.quantity or 'estimates'}: " + ("agree within their intervals" if self.agree
                                                       else f"{len(self.disagreements)} pair(s) disagree")
        return "\n".join([head] + [f"  {e.text()}" for e in self.estimates])


def _disagree(a: Estimate, b: Estimate) -> bool | None:
    if a.has_interval and b.has_interval:
        return bool(a.lower > b.upper or b.lower > a.upper)  # type: ignore[operator]
    if a.has_interval:
        return not (a.lower <= b.value <= a.upper)  # type: ignore[operator]
    if b.has_interval:
        return not (b.lower <= a.value <= b.upper)  # type: ignore[operator]
    return None


def compare(*estimates: Any, quantity: str = "", level: float | None = None, warn: bool = True) -> Comparison:
    """Put two or more estimates of the same quantity side by side; warn when they disagree.

    Parameters
    ----------
    *estimates : Estimate, mapping or tuple
        ``Estimate(label, value, lower, upper, level)``, a mapping with those keys, or a tuple
        ``(label, value)`` / ``(label, value, lower, upper)``. A single iterable of them works too.
    quantity : str
        What is estimated (used in the messages), e.g. ``"a (N_opt ∝ C^a)"``.
    level : float, optional
        Level of the intervals, recorded for estimates that do not state theirs.
    warn : bool
        Issue a :class:`~scaling.errors.DisagreementWarning` when any pair disagrees.

    Returns
    -------
    Comparison
        ``agree``, ``disagreements`` (pairs of labels), ``to_frame()``, ``to_dict()``.
    """
    if len(estimates) == 1 and isinstance(estimates[0], Iterable) and not isinstance(estimates[0], (str, Mapping,
                                                                                                 tuple, Estimate)):
        estimates = tuple(estimates[0])
    ests = tuple(_as_estimate(e, level) for e in estimates)
    if len(ests) < 2:
        raise DataError(format_message("compare()", "", "given at least two estimates", f"{len(ests)}",
                                       "Pass one estimate per method."))
    labels = [e.label for e in ests]
    dup = sorted({x for x in labels if labels.count(x) > 1})
    if dup:
        raise DataError(format_message("Estimate labels", "passed to compare()", "distinct", f"repeated {dup}"))
    dis: list[tuple[str, str]] = []
    und: list[tuple[str, str]] = []
    for i in range(len(ests)):
        for j in range(i + 1, len(ests)):
            d = _disagree(ests[i], ests[j])
            if d is None:
                und.append((ests[i].label, ests[j].label))
            elif d:
                dis.append((ests[i].label, ests[j].label))
    out = Comparison(quantity=quantity, estimates=ests, disagreements=tuple(dis), undecided=tuple(und))
    if warn and dis:
        warnings.warn(out.message(), DisagreementWarning, stacklevel=2)
    return out
