r"""Published scaling laws, usable anywhere a fit is — with their citations, conventions and known
inconsistencies.

>>> from scaling.predict import compute_optimal, get_published, list_published
>>> compute_optimal("published:epoch2024", flops=1e24)          # doctest: +SKIP
>>> get_published("llama3-2024").checks()                       # doctest: +SKIP

The constants live in ``data/published_laws.json`` (installed as ``scaling._published``), one entry
per law with its paper, arXiv id, table/equation, the parameter-counting and FLOPs conventions, the
loss dataset, a provenance tag (P paper, C authors' code, R recomputed, S secondary) and notes.

Entries are of two kinds:

* **loss laws** (``hoffmann2022``, ``hoffmann2022-unrounded``, ``epoch2024``, ``sardana2024``,
  ``muennighoff2023``, ``kaplan2020-joint``): a registered :class:`~scaling.laws.base.Law` with
  parameters; ``PublishedLaw`` has ``.law``, ``.params`` and ``.samples`` (always ``None``), so it is
  accepted wherever a fit result is;
* **allocation laws** (``kaplan2020`` Table 6, ``deepseek2024``, ``llama3-2024``,
  ``llama3-2024-legend``, ``porian2024``): an :class:`~scaling.predict.allocation_law.AllocationLaw`
  used by :func:`~scaling.predict.compute_optimal`; their loss is ``None`` unless the paper gives one
  as a function of compute (Kaplan eq. 1.3).

**Inconsistencies are reported, not hidden.** :meth:`PublishedLaw.checks` recomputes, from the stored
constants, every number the paper prints about them and returns a DataFrame (computed, printed,
consistent); :func:`get_published` emits an :class:`~scaling.errors.InconsistencyWarning` listing the
failed checks (e.g. Kaplan eq. 1.8 gives alpha_C^min = 0.0520, not 0.050/0.054; Llama 3's printed
constants give 1.05e13 tokens at 3.8e25 FLOPs, not 16.55T).
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache, cache
from importlib import resources
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from ..errors import DataError, InconsistencyWarning, format_message
from ..laws.base import Law
from ..laws.registry import get_law
from .queries import as_query
from ..units import PF_DAY
from .allocation_law import AllocationLaw, PowerLaw
from .flops import FlopsModel, LinearFlops

__all__ = [
    "PublishedLaw", "Citation", "PublishedConventions", "get_published", "list_published", "published_checks",
    "published_table", "list_published_tables", "kaplan_alpha_c_min", "kaplan_overfit_threshold",
    "kaplan_overfit_law", "kaplan_critical_batch_ratio", "deepseek_hyperparameters",
]

FloatArray = NDArray[np.float64]

_FILE = "published_laws.json"


# --------------------------------------------------------------------------- records
@dataclass(frozen=True)
class Citation:
    """Where a published law comes from."""

    authors: str
    year: int
    title: str
    arxiv: str
    where: str

    def __str__(self) -> str:
        first = self.authors.split(",")[0].strip()
        who = first if first.endswith("et al.") or "," not in self.authors else f"{first} et al."
        return f"{who} {self.year}, {self.title}, arXiv {self.arxiv}, {self.where}"


@dataclass(frozen=True)
class PublishedConventions:
    """What ``N``, ``C`` and the loss mean for a published law."""

    n_params: str
    flops: str
    loss: str


@dataclass(frozen=True, kw_only=True, eq=False)
class PublishedLaw:
    """A published scaling law: constants, citation, conventions and notes (immutable).

    Usable wherever a fit result is (``compute_optimal(entry, flops=...)``) and as
    ``"published:NAME"``.

    Attributes
    ----------
    name, title : str
    law_name : str or None
        Registered law (``"chinchilla"``, ``"kaplan-nd"``, ``"datablations"``, ``"kaplan-n"``), or
        ``None`` for a pure allocation law.
    allocation : AllocationLaw or None
        A published compute-optimal allocation (Kaplan Table 6, DeepSeek, Llama 3, Porian).
    flops_model : FlopsModel
        The paper's compute rule (``C = 6ND``; for Kaplan with non-embedding ``N``).
    citation : Citation
    conventions : PublishedConventions
    provenance : str
        ``P`` paper, ``C`` authors' code, ``R`` recomputed, ``S`` secondary source.
    constants : mapping
        Other printed numbers of the paper (used by :meth:`checks`).
    notes : tuple of str
    """

    name: str
    title: str
    law_name: str | None
    param_items: tuple[tuple[str, float], ...]
    allocation: AllocationLaw | None
    flops_model: FlopsModel
    citation: Citation
    conventions: PublishedConventions
    provenance: str
    constants: Mapping[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    # ------------------------------------------------------------------ fit-like interface
    @property
    def law(self) -> Law | None:
        """The :class:`~scaling.laws.base.Law`, or ``None`` for a pure allocation law."""
        if self.law_name is None:
            return None
        return get_law(self.law_name)

    @property
    def params(self) -> pd.Series | None:
        """Natural parameters (a new Series each time), or ``None``."""
        if self.law_name is None:
            return None
        return pd.Series(dict(self.param_items), dtype=float)

    @property
    def samples(self) -> None:
        """Always ``None``: a published law carries no parameter samples (hence no intervals)."""
        return None

    @property
    def caveats(self) -> tuple[str, ...]:
        """Short conventions shown with every allocation computed from this entry."""
        return (f"N counts {self.conventions.n_params}",)

    def predict(self, **variables: ArrayLike) -> FloatArray:
        """The law's loss at the given variables (``n_params=..., n_tokens=...``)."""
        law = self.law
        if law is None:
            raise DataError(format_message("Published entry", f"'{self.name}'", "a loss law to predict a loss",
                                           "an allocation law only", "Use compute_optimal(...) for its allocation."))
        return law.predict(self.params, **variables)

    def checks(self) -> pd.DataFrame:
        """Recompute the paper's printed numbers from the stored constants.

        Returns a DataFrame with columns ``law, check, computed, printed, ratio, tolerance,
        consistent, detail`` (one row per check; ``consistent`` False marks a published
        inconsistency).
        """
        return _checks_cached(self.name).copy()

    def describe(self) -> str:
        lines = [f"{self.name}: {self.title}", f"  source: {self.citation} [{self.provenance}]"]
        if self.law_name is not None:
            ps = ", ".join(f"{k} = {v:.6g}" for k, v in self.param_items)
            lines.append(f"  law: {self.law_name} with {ps}")
        if self.allocation is not None:
            lines.append(f"  allocation: {self.allocation.describe()}"
                         + ("" if self.allocation.loss is None else f"; loss = {self.allocation.loss.describe()}"))
        lines += [f"  N: {self.conventions.n_params}", f"  FLOPs: {self.conventions.flops}",
                  f"  loss: {self.conventions.loss}"]
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)

    __str__ = describe

    def __repr__(self) -> str:
        return f"<PublishedLaw '{self.name}': {self.title}>"

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "title": self.title, "law": self.law_name,
                "params": dict(self.param_items) if self.law_name else None,
                "allocation": None if self.allocation is None else self.allocation.to_dict(),
                "flops_model": self.flops_model.to_dict(),
                "citation": {"authors": self.citation.authors, "year": self.citation.year,
                             "title": self.citation.title, "arxiv": self.citation.arxiv, "where": self.citation.where},
                "conventions": {"n_params": self.conventions.n_params, "flops": self.conventions.flops,
                                "loss": self.conventions.loss},
                "provenance": self.provenance, "constants": _jsonable(dict(self.constants)), "notes": list(self.notes)}


def _jsonable(x: Any) -> Any:
    if isinstance(x, Mapping):
        return {k: _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    return x


# --------------------------------------------------------------------------- loading
def _unit(u: Any) -> float:
    if u in (None, 1, 1.0):
        return 1.0
    if isinstance(u, str):
        if u.lower().replace(" ", "") in ("pf-day", "pf-days", "pfday"):
            return PF_DAY
        raise DataError(format_message("flops_unit", f"in {_FILE}", "'PF-day' or a number", repr(u)))
    return float(u)


def _power(d: Mapping[str, Any], default_unit: float = 1.0) -> PowerLaw:
    return PowerLaw(float(d["coefficient"]), float(d["exponent"]), _unit(d.get("flops_unit", default_unit)))


def _flops_model(d: Mapping[str, Any] | None) -> FlopsModel:
    if not d or d.get("model") == "LinearFlops":
        return LinearFlops(float((d or {}).get("k", 6.0)))
    raise DataError(format_message("flops_model", f"in {_FILE}", "a LinearFlops entry", repr(d)))


def _entry(raw: Mapping[str, Any]) -> PublishedLaw:
    params: dict[str, float] = {}
    for k, v in dict(raw.get("log_params") or {}).items():
        params[k] = math.exp(float(v))
    for k, v in dict(raw.get("params") or {}).items():
        params[k] = float(v)
    law_name = raw.get("law")
    if law_name is not None:
        order = get_law(law_name).param_names
        missing = [p for p in order if p not in params]
        if missing:
            raise DataError(format_message("Entry", f"'{raw['name']}' of {_FILE}", f"parameters {list(order)}",
                                           sorted(params), f"Missing: {missing}."))
        items = tuple((p, params[p]) for p in order)
    else:
        items = ()
    fm = _flops_model(raw.get("flops_model"))
    alloc = None
    if raw.get("allocation"):
        a = raw["allocation"]
        unit = _unit(a.get("flops_unit", 1.0))
        loss = None
        if a.get("loss"):
            # L(C) = (scale / C[unit])^exponent = scale^exponent * C^-exponent
            sc, ex = float(a["loss"]["scale"]), float(a["loss"]["exponent"])
            loss = PowerLaw(sc ** ex, -ex, unit)
        companions = {k: _power(v, unit) for k, v in dict(a.get("companions") or {}).items()}
        alloc = AllocationLaw(name=f"published:{raw['name']}", quantity=a["quantity"],
                              law=PowerLaw(float(a["coefficient"]), float(a["exponent"]), unit), loss=loss,
                              flops_model=fm, companions=MappingProxyType(companions),
                              notes=(f"N counts {raw['conventions']['n_params']}",))
    c = raw["citation"]
    cv = raw["conventions"]
    return PublishedLaw(name=raw["name"], title=raw["title"], law_name=law_name, param_items=items, allocation=alloc,
                        flops_model=fm,
                        citation=Citation(c["authors"], int(c["year"]), c["title"], str(c["arxiv"]), c["where"]),
                        conventions=PublishedConventions(cv["n_params"], cv["flops"], cv["loss"]),
                        provenance=str(raw.get("provenance", "U")),
                        constants=MappingProxyType(dict(raw.get("constants") or {})),
                        notes=tuple(raw.get("notes") or ()))


@lru_cache(maxsize=1)
def _raw() -> Mapping[str, Any]:
    text = resources.files("scaling._published").joinpath(_FILE).read_text(encoding="utf-8")
    return json.loads(text)


@lru_cache(maxsize=1)
def _library() -> Mapping[str, PublishedLaw]:
    return MappingProxyType({r["name"]: _entry(r) for r in _raw()["laws"]})


def _lookup(name: str) -> PublishedLaw:
    lib = _library()
    key = name[len("published:"):] if isinstance(name, str) and name.startswith("published:") else name
    if not isinstance(key, str) or key not in lib:
        raise DataError(format_message("Published law", "", f"one of {sorted(lib)}", repr(name),
                                       "See scaling.predict.list_published()."))
    return lib[key]


def get_published(name: str, *, warn: bool = True) -> PublishedLaw:
    """The published law ``name`` (``"hoffmann2022"`` or ``"published:hoffmann2022"``).

    With ``warn=True`` (default) an :class:`~scaling.errors.InconsistencyWarning` lists the paper's
    printed numbers that its own constants do not reproduce (see :meth:`PublishedLaw.checks`).
    """
    entry = _lookup(name)
    if warn:
        warn_inconsistencies(entry, stacklevel=3)
    return entry


def warn_inconsistencies(entry: PublishedLaw, stacklevel: int = 2) -> None:
    """Emit one :class:`~scaling.errors.InconsistencyWarning` listing the entry's failed checks (if any)."""
    failed = _checks_cached(entry.name)
    failed = failed[~failed["consistent"]]
    if "warn" in failed.columns:
        failed = failed[failed["warn"].fillna(True).astype(bool)]
    if len(failed):
        items = "; ".join(f"{r.check}: computed {r.computed:.6g} vs printed {r.printed:.6g}"
                          for r in failed.itertuples())
        warnings.warn(f"Published law '{entry.name}' is internally inconsistent ({len(failed)} check"
                      f"{'s' if len(failed) > 1 else ''}): {items}. See get_published('{entry.name}').checks().",
                      InconsistencyWarning, stacklevel=stacklevel)


def list_published() -> pd.DataFrame:
    """All published laws: name, kind, law, allocation, citation, conventions, provenance, failed checks."""
    rows = []
    for e in _library().values():
        chk = _checks_cached(e.name)
        rows.append({"name": e.name, "kind": ("loss law" if e.law_name else "allocation law")
                     + (" + allocation" if e.law_name and e.allocation else ""),
                     "law": e.law_name, "allocation": None if e.allocation is None else e.allocation.describe(),
                     "paper": f"{e.citation.authors.split(',')[0]} {e.citation.year}", "arxiv": e.citation.arxiv,
                     "where": e.citation.where, "n_params": e.conventions.n_params, "flops": e.conventions.flops,
                     "loss": e.conventions.loss, "provenance": e.provenance,
                     "n_checks": len(chk), "n_inconsistent": int((~chk["consistent"]).sum())})
    return pd.DataFrame(rows)


def published_checks() -> pd.DataFrame:
    """Every entry's :meth:`~PublishedLaw.checks`, concatenated."""
    return pd.concat([_checks_cached(n) for n in _library()], ignore_index=True)


def list_published_tables() -> list[str]:
    return sorted(_raw()["tables"])


def published_table(name: str) -> pd.DataFrame:
    """A table typed from a paper (``"hoffmann2022_table3"``, ``"hoffmann2022_table_a3"``,
    ``"hoffmann2022_table_a4"``); ``.attrs`` holds ``title`` and ``source``."""
    tables = _raw()["tables"]
    if name not in tables:
        raise DataError(format_message("Published table", "", f"one of {sorted(tables)}", repr(name)))
    t = tables[name]
    df = pd.DataFrame([[float(v) for v in row] for row in t["rows"]], columns=list(t["columns"]))
    df.attrs.update({"title": t["title"], "source": t["source"]})
    if "text_claims" in t:
        df.attrs["text_claims"] = json.loads(json.dumps(t["text_claims"]))
    return df


# --------------------------------------------------------------------------- paper helpers
def kaplan_alpha_c_min(alpha_N: float = 0.076, alpha_B: float = 0.21, alpha_S: float = 0.76) -> float:
    r"""Kaplan et al. 2020 eq. 1.8: ``alpha_C^min = 1 / (1/alpha_S + 1/alpha_B + 1/alpha_N)``.

    With Table 5's exponents this is 0.0520 — not the printed 0.050 (eq. 1.3, Table 5) nor 0.054
    (eq. 6.4); the published-law checks flag the mismatch.
    """
    return 1.0 / (1.0 / alpha_S + 1.0 / alpha_B + 1.0 / alpha_N)


def kaplan_overfit_law(delta: float = 0.02, *, N_c: float = 6.4e13, D_c: float = 1.8e13, alpha_N: float = 0.076,
                       alpha_D: float = 0.103) -> tuple[float, float]:
    r"""``(c, p)`` with ``D >= c N^p`` keeping the overfitting penalty below ``delta`` (Kaplan eqs. 4.2-4.4).

    From ``delta_L = (1 + (N/N_c)^(alpha_N/alpha_D) D_c/D)^alpha_D - 1``:
    ``c = D_c / (N_c^p ((1 + delta)^(1/alpha_D) - 1))``, ``p = alpha_N/alpha_D``. Table 2 constants
    give ``D >= 5.52e3 N^0.7379`` for ``delta = 0.02`` (the paper rounds to 5e3 N^0.74).
    """
    if not (0 < delta < 1):
        raise DataError(format_message("Argument delta", "of kaplan_overfit_law()", "in (0, 1)", repr(delta),
                                       "Kaplan uses 0.02 (the seed-to-seed variance of the loss)."))
    p = alpha_N / alpha_D
    c = D_c / (N_c ** p * ((1.0 + delta) ** (1.0 / alpha_D) - 1.0))
    return c, p


def kaplan_overfit_threshold(n_params: ArrayLike, delta: float = 0.02, *, N_c: float = 6.4e13, D_c: float = 1.8e13,
                             alpha_N: float = 0.076, alpha_D: float = 0.103) -> FloatArray:
    """Tokens needed to keep Kaplan's overfitting penalty below ``delta`` (eq. 4.4; non-embedding ``N``)."""
    N = np.asarray(n_params, dtype=float)
    if not np.all(np.isfinite(N) & (N > 0)):
        raise DataError(format_message("Argument n_params", "of kaplan_overfit_threshold()", "finite and > 0",
                                       np.array2string(np.atleast_1d(N)[:5])))
    c, p = kaplan_overfit_law(delta, N_c=N_c, D_c=D_c, alpha_N=alpha_N, alpha_D=alpha_D)
    return c * N ** p


def kaplan_critical_batch_ratio(loss_decrease: float = 0.13, alpha_B: float = 0.21) -> float:
    """Factor by which ``B_crit = B_*/L^(1/alpha_B)`` grows when the loss falls by ``loss_decrease``
    (Kaplan eq. 1.4): ``(1 - decrease)^(-1/alpha_B)``; 0.87^(-1/0.21) = 1.94 ("doubles per 13%")."""
    from ..laws.kaplan import b_crit

    return float(b_crit(1.0 - loss_decrease, B_star=1.0, alpha_B=alpha_B) / b_crit(1.0, B_star=1.0, alpha_B=alpha_B))


def deepseek_hyperparameters(flops: ArrayLike) -> pd.DataFrame:
    r"""DeepSeek LLM eq. 1: ``B_opt = 0.2920 C^0.3271`` tokens and ``eta_opt = 0.3118 C^-0.1250``.

    Fitted on 1e17-2e19 FLOPs (validated at 1e20). At ``C = 1e20``: 1.017e6 tokens, 9.86e-4.
    """
    C, _ = as_query(flops, "flops", "deepseek_hyperparameters()")
    comp = _lookup("deepseek2024").allocation.companions  # type: ignore[union-attr]
    return pd.DataFrame({"flops": C, "batch_size_tokens": comp["batch_size_tokens"](C),
                         "learning_rate": comp["learning_rate"](C)})


_COLUMNS = ["law", "check", "computed", "printed", "ratio", "tolerance", "consistent", "detail", "warn", "basis"]


#: name -> function(entry) -> rows; filled by :mod:`scaling.predict.checks` (imported with the package)
_CHECKS: dict[str, Callable[[PublishedLaw], list[dict[str, Any]]]] = {}


def register_checks(name: str, fn: Callable[[PublishedLaw], list[dict[str, Any]]]) -> None:
    """Declare the checks of published entry ``name`` (the planner-based recomputations live in
    :mod:`scaling.predict.checks`, which calls this; this module stays below the planner)."""
    _CHECKS[name] = fn
    _checks_cached.cache_clear()


@cache
def _checks_cached(name: str) -> pd.DataFrame:
    e = _lookup(name)
    fn = _CHECKS.get(name)
    rows = [] if fn is None else fn(e)
    df = pd.DataFrame(rows, columns=_COLUMNS)
    df["consistent"] = df["consistent"].astype(bool)
    return df
