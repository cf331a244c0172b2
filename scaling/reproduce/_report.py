"""Checks and reports of the reproductions: published number, ours, difference, tolerance, status."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from .._serialize import plain_json as _jsonable
from ..errors import DataError, format_message

__all__ = ["Check", "Report", "STATUS_PASS", "STATUS_FAIL", "STATUS_KNOWN", "STATUS_INFO", "require_data"]

STATUS_PASS = "pass"
STATUS_FAIL = "FAIL"
STATUS_KNOWN = "known mismatch"
STATUS_INFO = "info"


def require_data() -> bool:
    """``SCALING_REQUIRE_DATA=1`` (as in CI): a reproduction whose dataset is missing must fail, not skip a part."""
    return os.environ.get("SCALING_REQUIRE_DATA", "") not in ("", "0", "false", "no")


def _num(x: Any) -> float | None:
    if x is None:
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def fmt(x: float | None, digits: int = 4) -> str:
    """Compact number: 4 significant digits, scientific notation for large or small values."""
    if x is None:
        return "—"
    if x == 0:
        return "0"
    if abs(x) >= 1e5 or abs(x) < 1e-3:
        mant, exp = f"{x:.{digits - 1}e}".split("e")
        return f"{mant}e{int(exp)}"
    return f"{x:.{digits}g}"


@dataclass(frozen=True, kw_only=True)
class Check:
    """One published number against ours.

    Attributes
    ----------
    name : str
        What is compared (with units).
    published : float or None
        The paper's (or the authors' code's) value; ``None`` for an informational row.
    ours : float
        Our value.
    tolerance : float
        Allowed difference: relative (``|ours/published - 1|``) or absolute (``|ours - published|``).
    kind : {"relative", "absolute"}
    source : str
        Where the published value comes from (paper, table, equation; REFERENCE.md section).
    expected_to_match : bool
        ``False`` for a documented inconsistency in the paper (e.g. a printed value that its own
        formula does not give). Such a check asserts the mismatch itself: ``expected_difference``
        (what REFERENCE documents, in the units of ``kind``) must be given, and the check passes as
        "known mismatch" only when our difference equals it within ``tolerance``; if our computation
        drifts (or suddenly matches the printed value) it fails.
    expected_difference : float, optional
        The documented difference ``ours - published`` (absolute) or ``ours/published - 1``
        (relative) of a known mismatch.
    basis : {"independent", "consistency of input", "data entry"}
        What the check tests. ``"independent"``: our code against a number it was not built from.
        ``"consistency of input"``: the inputs were chosen (by the paper or by us) to reproduce this
        number, so the check only confirms the inputs are entered as intended. ``"data entry"``: two
        published numbers compared with each other (tests the typed-in data, not the code).
    note : str
    """

    name: str
    published: float | None
    ours: float | None
    tolerance: float = 0.01
    kind: Literal["relative", "absolute"] = "relative"
    source: str = ""
    expected_to_match: bool = True
    expected_difference: float | None = None
    basis: Literal["independent", "consistency of input", "data entry"] = "independent"
    note: str = ""

    def __post_init__(self) -> None:
        if self.kind not in ("relative", "absolute"):
            raise DataError(format_message("Check kind", f"of {self.name!r}", "'relative' or 'absolute'",
                                           repr(self.kind)))
        if self.published is None:
            raise DataError(format_message("Check", repr(self.name), "compared with a number (published, or the "
                                           "value of the property its name states)", "published=None",
                                           "Assert the property with Check.holds(...), or make it a note of the "
                                           "report."))
        if not self.expected_to_match and self.expected_difference is None:
            raise DataError(format_message("Known mismatch", repr(self.name), "given the documented difference",
                                           "expected_difference=None", "Pass expected_difference= (ours - published "
                                           "or ours/published - 1, as REFERENCE documents), so the check fails when "
                                           "the computation drifts."))
        if self.basis not in ("independent", "consistency of input", "data entry"):
            raise DataError(format_message("Check basis", f"of {self.name!r}", "'independent', 'consistency of "
                                           "input' or 'data entry'", repr(self.basis)))

    @classmethod
    def holds(cls, name: str, condition: bool, *, source: str = "", note: str = "",
              basis: Literal["independent", "consistency of input", "data entry"] = "independent") -> Check:
        """A check of a stated property: published 1 (true), ours 1 or 0, no tolerance."""
        return cls(name=name, published=1.0, ours=1.0 if bool(condition) else 0.0, tolerance=0.0, kind="absolute",
                   source=source, note=note, basis=basis)

    @property
    def difference(self) -> float | None:
        """``ours - published`` (absolute) or ``ours/published - 1`` (relative)."""
        p, o = _num(self.published), _num(self.ours)
        if p is None or o is None:
            return None
        if self.kind == "absolute":
            return o - p
        return o / p - 1.0 if p != 0 else math.inf

    @property
    def within(self) -> bool | None:
        """The difference is within tolerance of 0 (of ``expected_difference`` for a known mismatch)."""
        d = self.difference
        if d is None:
            return None
        target = 0.0 if self.expected_to_match else float(self.expected_difference or 0.0)
        return abs(d - target) <= self.tolerance

    @property
    def status(self) -> str:
        w = self.within
        if not w:
            return STATUS_FAIL
        return STATUS_PASS if self.expected_to_match else STATUS_KNOWN

    def tolerance_text(self) -> str:
        t = f"±{self.tolerance:.3g}" if self.kind == "absolute" else f"±{100 * self.tolerance:.3g}%"
        if not self.expected_to_match:
            e = float(self.expected_difference or 0.0)
            t = (f"{e:+.3g} {t}" if self.kind == "absolute" else f"{100 * e:+.3g}% {t}") + " (documented)"
        return t

    def difference_text(self) -> str:
        d = self.difference
        if d is None:
            return "—"
        return f"{d:+.3g}" if self.kind == "absolute" else f"{100 * d:+.3g}%"

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "published": _num(self.published), "ours": _num(self.ours),
                "difference": _num(self.difference), "tolerance": self.tolerance, "kind": self.kind,
                "status": self.status, "source": self.source, "expected_to_match": self.expected_to_match,
                "expected_difference": _num(self.expected_difference), "basis": self.basis, "note": self.note}


def _frame_to_records(df: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for rec in df.reset_index().to_dict(orient="records"):
        out.append({str(k): _jsonable(v) for k, v in rec.items()})
    return out


def _frame_to_markdown(df: pd.DataFrame) -> str:
    d = df.reset_index() if df.index.name is not None or not isinstance(df.index, pd.RangeIndex) else df
    cols = [str(c) for c in d.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for _, row in d.iterrows():
        cells = []
        for v in row.tolist():
            if isinstance(v, (float, np.floating)):
                cells.append(fmt(float(v)) if math.isfinite(float(v)) else "—")
            else:
                cells.append(str(v))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


@dataclass(frozen=True, kw_only=True, eq=False)
class Report:
    """The outcome of a reproduction: checks, tables, figures, notes; written as Markdown and JSON.

    Attributes
    ----------
    name, title : str
        Registry name (``"chinchilla"``) and a human title.
    papers : tuple of str
        The papers reproduced (authors, year, arXiv id).
    checks : tuple of Check
    tables : mapping of str to DataFrame
        Extra tables (copies are handed out by :meth:`table`).
    figures : tuple of Path
        Files written (PNG and PDF/SVG).
    files : tuple of Path
        The report files (``report.md``, ``report.json``) once written.
    notes : tuple of str
    settings : dict
        Options used (bootstrap size, seed, ...).
    seconds : float
        Wall time.
    """

    name: str
    title: str
    papers: tuple[str, ...] = ()
    checks: tuple[Check, ...] = ()
    tables: Mapping[str, pd.DataFrame] = field(default_factory=dict)
    figures: tuple[Path, ...] = ()
    files: tuple[Path, ...] = ()
    notes: tuple[str, ...] = ()
    settings: Mapping[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        """Every check that is expected to match is within its tolerance."""
        return all(c.status != STATUS_FAIL for c in self.checks)

    @property
    def n_failed(self) -> int:
        return sum(c.status == STATUS_FAIL for c in self.checks)

    def check(self, name: str) -> Check:
        """The check called ``name`` (exact match, else the unique check whose name starts with it)."""
        for c in self.checks:
            if c.name == name:
                return c
        hits = [c for c in self.checks if c.name.startswith(name)]
        if len(hits) == 1:
            return hits[0]
        raise KeyError(f"{name!r}: not a check of reproduction {self.name!r}; checks: {[c.name for c in self.checks]}")

    def table(self, name: str) -> pd.DataFrame:
        return self.tables[name].copy()

    def checks_frame(self) -> pd.DataFrame:
        return pd.DataFrame([c.to_dict() for c in self.checks])

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "scaling.reproduce.Report",
            "name": self.name,
            "title": self.title,
            "papers": list(self.papers),
            "passed": self.passed,
            "n_checks": len(self.checks),
            "n_failed": self.n_failed,
            "checks": [c.to_dict() for c in self.checks],
            "tables": {k: _frame_to_records(v) for k, v in self.tables.items()},
            "figures": [str(p.name) for p in self.figures],
            "notes": list(self.notes),
            "settings": _jsonable(dict(self.settings)),
            "seconds": round(float(self.seconds), 3),
        }

    def to_markdown(self) -> str:
        lines = [f"# Reproduction: {self.title}", ""]
        if self.papers:
            lines += ["Papers: " + "; ".join(self.papers), ""]
        n_pass = sum(c.status == STATUS_PASS for c in self.checks)
        n_known = sum(c.status == STATUS_KNOWN for c in self.checks)
        verdict = "PASSED" if self.passed else f"FAILED ({self.n_failed} check(s) outside tolerance)"
        lines += [f"**{verdict}** — {n_pass} within tolerance, {n_known} known mismatch(es) in the papers, "
                  f"{self.n_failed} failed, of {len(self.checks)} checks.", ""]
        if self.checks:
            lines += ["| quantity | published | ours | difference | tolerance | status | source |",
                      "|---|---|---|---|---|---|---|"]
            for c in self.checks:
                status = c.status if c.basis == "independent" else f"{c.status} ({c.basis})"
                lines.append(f"| {c.name} | {fmt(_num(c.published))} | {fmt(_num(c.ours))} | {c.difference_text()} | "
                             f"{c.tolerance_text()} | {status} | {c.source} |")
            lines.append("")
            noted = [c for c in self.checks if c.note]
            if noted:
                lines += ["Notes on the checks:", ""] + [f"- *{c.name}*: {c.note}" for c in noted] + [""]
        for tname, df in self.tables.items():
            lines += [f"## {tname}", "", _frame_to_markdown(df), ""]
        if self.figures:
            lines += ["## Figures", ""]
            for p in self.figures:
                if p.suffix == ".png":
                    lines.append(f"![{p.stem}]({p.name})")
                    lines.append("")
        if self.notes:
            lines += ["## Notes", ""] + [f"- {n}" for n in self.notes] + [""]
        if self.settings:
            lines += ["## Settings", ""] + [f"- {k}: {v}" for k, v in self.settings.items()] + [""]
        lines.append(f"_Generated by `scaling reproduce {self.name}` in {self.seconds:.1f} s._")
        return "\n".join(lines) + "\n"

    def summary_lines(self) -> list[str]:
        """Short text lines: one per check (for the command line)."""
        w = max((len(c.name) for c in self.checks), default=10)
        out = [f"{'quantity':<{w}}  {'published':>11}  {'ours':>11}  {'diff':>9}  {'tol':>7}  status"]
        for c in self.checks:
            out.append(f"{c.name:<{w}}  {fmt(_num(c.published)):>11}  {fmt(_num(c.ours)):>11}  "
                       f"{c.difference_text():>9}  {c.tolerance_text():>7}  {c.status}")
        return out

    def write(self, out_dir: str | Path) -> Report:
        """Write ``report.md`` and ``report.json`` into ``out_dir``; return the report with ``files`` set."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        md = out / "report.md"
        js = out / "report.json"
        new = Report(name=self.name, title=self.title, papers=self.papers, checks=self.checks,
                     tables={k: v.copy() for k, v in self.tables.items()}, figures=self.figures,
                     files=(md, js), notes=self.notes, settings=dict(self.settings), seconds=self.seconds)
        md.write_text(new.to_markdown(), encoding="utf-8")
        d = new.to_dict()
        d["files"] = [md.name, js.name]
        js.write_text(json.dumps(d, indent=1, allow_nan=False), encoding="utf-8")
        return new


def rows_to_frame(rows: Sequence[Mapping[str, Any]], index: str | None = None) -> pd.DataFrame:
    df = pd.DataFrame(list(rows))
    return df.set_index(index) if index else df
