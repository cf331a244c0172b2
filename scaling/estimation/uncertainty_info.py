"""Typed records of how a fit's uncertainty was obtained (``FitResult.uncertainty``).

One frozen dataclass per method — :class:`BootstrapUncertainty`, :class:`SandwichUncertainty`,
:class:`ProfileUncertainty`, :class:`MCMCUncertainty` — with typed nested records for the
diagnostics (the bootstrap's search, its verification rounds, ...). Fields are attributes
(``res.uncertainty.miss_rate_upper``); for reading, a record is also a read-only mapping of its
fields that are set (``res.uncertainty["verified"]``, ``.get("method")``), so code written against
the earlier dicts keeps working. Arrays (the bootstrap's row counts, jackknife values) are read-only.
``to_dict()`` is JSON-compatible and ``record_from_dict(r.to_dict())`` rebuilds an equal record
(floats exactly; non-finite ones are written as their repr).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields
from typing import Any, ClassVar

import numpy as np

from .._serialize import jsonable
from ..errors import DataError, format_message

__all__ = ["UncertaintyRecord", "BootstrapUncertainty", "BootstrapSearch", "BootstrapDetails", "Verification",
           "VerificationRound", "SandwichUncertainty", "SandwichDetails", "ProfileUncertainty", "ProfileDetails",
           "MCMCUncertainty", "MCMCDetails", "record_from_dict", "as_record"]


def _float(v: Any) -> Any:
    if isinstance(v, str):
        try:
            return float(v)
        except ValueError:
            return v
    if isinstance(v, (np.floating, np.integer)) and not isinstance(v, bool):
        return v.item()
    return v


def _readonly(a: Any, dtype: Any) -> np.ndarray:
    arr = np.array(a, dtype=dtype)
    arr.setflags(write=False)
    return arr


class _Record(Mapping[str, Any]):
    """Frozen-dataclass mixin: read-only mapping of the fields that are set, JSON round trip."""

    #: field -> record class (a nested record) ; field -> record class of each element (a tuple of records)
    _nested: ClassVar[dict[str, type[_Record]]] = {}
    _nested_seq: ClassVar[dict[str, type[_Record]]] = {}
    #: float fields (parsed back from their repr when non-finite)
    _floats: ClassVar[tuple[str, ...]] = ()

    def __post_init__(self) -> None:
        for name, cls in self._nested.items():
            v = getattr(self, name)
            if isinstance(v, Mapping) and not isinstance(v, _Record):
                object.__setattr__(self, name, cls.from_dict(v))
        for name, cls in self._nested_seq.items():
            v = getattr(self, name)
            if v is not None:
                object.__setattr__(self, name, tuple(x if isinstance(x, _Record) else cls.from_dict(x) for x in v))
        for name in self._floats:
            v = getattr(self, name)
            if v is not None:
                object.__setattr__(self, name, float(_float(v)))

    # read-only mapping view
    def _keys(self) -> list[str]:
        return [f.name for f in fields(self) if getattr(self, f.name) is not None]  # type: ignore[arg-type]

    def __getitem__(self, key: str) -> Any:
        if key in self._keys():
            return getattr(self, key)
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys())

    def __len__(self) -> int:
        return len(self._keys())

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k in self._keys():
            v = getattr(self, k)
            if isinstance(v, _Record):
                out[k] = v.to_dict()
            elif isinstance(v, tuple) and v and isinstance(v[0], _Record):
                out[k] = [x.to_dict() for x in v]
            else:
                out[k] = jsonable(v)
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Any:
        names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        unknown = sorted(set(d) - names)
        if unknown:
            raise DataError(format_message(f"The {cls.__name__} record", "", f"made of the fields {sorted(names)}",
                                           f"unknown keys {unknown}", "Save fits with FitResult.save()."))
        return cls(**{k: v for k, v in d.items()})  # type: ignore[call-arg]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, _Record):
            return NotImplemented
        return type(self) is type(other) and self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={getattr(self, k)!r}" for k in self._keys()
                          if not isinstance(getattr(self, k), np.ndarray) and k != "jackknife")
        return f"{type(self).__name__}({inner})"


# ------------------------------------------------------------------------------------------- bootstrap
@dataclass(frozen=True, eq=False, repr=False)
class BootstrapSearch(_Record):
    """How the resamples were optimised: candidate starts, screen, extra starts, work done."""

    optimizer: str = ""
    starts: int = 1
    screen: float | str = 3.0
    extra_starts: int = 0
    alternative_runs: int = 0
    improved_by_alternative: int = 0
    block: int = 0
    optimizer_runs: int | None = None
    grid_starts: int | None = None
    iterations: int | None = None
    grid_iterations: int | None = None


@dataclass(frozen=True, eq=False, repr=False)
class VerificationRound(_Record):
    """One verification round: extra grid starts per resample, misses among the verified, largest gap."""

    extra_starts: int
    misses: int
    max_rel_diff: float
    _floats: ClassVar[tuple[str, ...]] = ("max_rel_diff",)


@dataclass(frozen=True, eq=False, repr=False)
class Verification(_Record):
    """Which resamples were re-fitted from the full start grid, the tolerance and every round."""

    resamples: tuple[int, ...] = ()
    rtol: float = 1e-9
    rounds: tuple[VerificationRound, ...] = ()
    confidence: float = 0.95
    _nested_seq: ClassVar[dict[str, type[_Record]]] = {"rounds": VerificationRound}

    def __post_init__(self) -> None:
        object.__setattr__(self, "resamples", tuple(int(b) for b in self.resamples))
        super().__post_init__()


@dataclass(frozen=True, eq=False, repr=False)
class BootstrapDetails(_Record):
    n_clusters: int = 0
    non_finite: int = 0
    objective_mean: float = math.nan
    seconds: float = 0.0
    jackknife_not_converged: int | None = None
    _floats: ClassVar[tuple[str, ...]] = ("objective_mean", "seconds")


@dataclass(frozen=True, eq=False, repr=False)
class BootstrapUncertainty(_Record):
    """A nonparametric bootstrap (:class:`~scaling.estimation.uncertainty.Bootstrap`).

    ``counts`` (resamples × fitted rows, int): each resample's draw counts (``FitResult.bootstrap_counts``);
    ``jackknife``: leave-one-(cluster-)out parameter values for BCa; ``verified`` resamples were
    re-fitted from the full grid, ``verify_misses`` of them missed after ``escalations`` rounds,
    ``miss_rate_upper`` bounds the fraction of resamples not at their optimum (95 %).
    """

    method: str = "bootstrap"
    n: int = 0
    by: str | None = None
    level: float = 0.95
    rng: int | None = None
    verified: int = 0
    verified_fraction: float = 0.0
    verify_max_rel_diff: float | None = None
    verify_misses: int | None = None
    replaced: int = 0
    miss_rate_upper: float | None = None
    escalations: int | None = None
    extra_starts: int | None = None
    not_converged: int = 0
    search: BootstrapSearch | None = None
    verification: Verification | None = None
    counts: np.ndarray | None = None
    jackknife: Mapping[str, np.ndarray] | None = None
    details: BootstrapDetails | None = None
    _nested: ClassVar[dict[str, type[_Record]]] = {"search": BootstrapSearch, "verification": Verification,
                                                    "details": BootstrapDetails}
    _floats: ClassVar[tuple[str, ...]] = ("level", "verified_fraction", "verify_max_rel_diff", "miss_rate_upper")

    def __post_init__(self) -> None:
        if self.counts is not None:
            object.__setattr__(self, "counts", _readonly(self.counts, np.int64))
        if self.jackknife is not None:
            jk = {str(k): _readonly([_float(x) for x in v], float) for k, v in self.jackknife.items()}
            object.__setattr__(self, "jackknife", _FrozenMap(jk))
        super().__post_init__()


class _FrozenMap(Mapping[str, np.ndarray]):
    def __init__(self, d: Mapping[str, np.ndarray]) -> None:
        self._d = dict(d)

    def __getitem__(self, k: str) -> np.ndarray:
        return self._d[k]

    def __iter__(self) -> Iterator[str]:
        return iter(self._d)

    def __len__(self) -> int:
        return len(self._d)

    def __repr__(self) -> str:
        return f"<jackknife values of {list(self._d)}>"


# ------------------------------------------------------------------------------------------- sandwich
@dataclass(frozen=True, eq=False, repr=False)
class SandwichDetails(_Record):
    hessian: str = ""
    min_eigenvalue: float = math.nan
    seconds: float = 0.0
    se_sigma: float | None = None
    _floats: ClassVar[tuple[str, ...]] = ("min_eigenvalue", "seconds", "se_sigma")


@dataclass(frozen=True, eq=False, repr=False)
class SandwichUncertainty(_Record):
    """Asymptotic (sandwich) covariance of the M-estimator."""

    method: str = "sandwich"
    positive_definite: bool = True
    n_inside_delta: int | None = None
    details: SandwichDetails | None = None
    _nested: ClassVar[dict[str, type[_Record]]] = {"details": SandwichDetails}


# ------------------------------------------------------------------------------------------- profile
@dataclass(frozen=True, eq=False, repr=False)
class ProfileDetails(_Record):
    critical: float = math.nan
    n_refits: int = 0
    cov: str = ""
    seconds: float = 0.0
    _floats: ClassVar[tuple[str, ...]] = ("critical", "seconds")


@dataclass(frozen=True, eq=False, repr=False)
class ProfileUncertainty(_Record):
    """Profile-likelihood intervals at ``level`` (``intervals``: parameter -> (lower, upper))."""

    method: str = "profile"
    level: float = 0.95
    statistic: str = ""
    intervals: Mapping[str, tuple[float, float]] | None = None
    details: ProfileDetails | None = None
    _nested: ClassVar[dict[str, type[_Record]]] = {"details": ProfileDetails}
    _floats: ClassVar[tuple[str, ...]] = ("level",)

    def __post_init__(self) -> None:
        if self.intervals is not None:
            iv = {str(k): (float(_float(v[0])), float(_float(v[1]))) for k, v in self.intervals.items()}
            object.__setattr__(self, "intervals", _FrozenMap(iv))  # type: ignore[arg-type]
        super().__post_init__()


# ------------------------------------------------------------------------------------------- MCMC
@dataclass(frozen=True, eq=False, repr=False)
class MCMCDetails(_Record):
    sampler: str = ""
    n_samples: int = 0
    autocorr_time: tuple[float, ...] = ()
    likelihood: str = ""
    prior: str = ""
    seconds: float = 0.0
    _floats: ClassVar[tuple[str, ...]] = ("seconds",)

    def __post_init__(self) -> None:
        object.__setattr__(self, "autocorr_time", tuple(float(_float(t)) for t in self.autocorr_time))
        super().__post_init__()


@dataclass(frozen=True, eq=False, repr=False)
class MCMCUncertainty(_Record):
    """Posterior samples with emcee."""

    method: str = "mcmc"
    steps: int = 0
    walkers: int = 0
    burn: int = 0
    thin: int = 1
    rng: int | None = None
    acceptance_fraction: float = math.nan
    details: MCMCDetails | None = None
    _nested: ClassVar[dict[str, type[_Record]]] = {"details": MCMCDetails}
    _floats: ClassVar[tuple[str, ...]] = ("acceptance_fraction",)


UncertaintyRecord = BootstrapUncertainty | SandwichUncertainty | ProfileUncertainty | MCMCUncertainty
_BY_METHOD: dict[str, type[_Record]] = {"bootstrap": BootstrapUncertainty, "sandwich": SandwichUncertainty,
                                        "profile": ProfileUncertainty, "mcmc": MCMCUncertainty}


def record_from_dict(d: Mapping[str, Any]) -> Any:
    """The typed record of a ``to_dict()`` output (or of the dicts earlier versions saved)."""
    method = d.get("method")
    cls = _BY_METHOD.get(str(method))
    if cls is None:
        raise DataError(format_message("The uncertainty record", "of a fit", f"of a known method {sorted(_BY_METHOD)}",
                                       repr(method), "Save fits with FitResult.save()."))
    return cls.from_dict(d)


def as_record(u: Any) -> Any:
    """``None``, a record, or a mapping (converted with :func:`record_from_dict`)."""
    if u is None or isinstance(u, _Record):
        return u
    if isinstance(u, Mapping):
        return record_from_dict(u)
    raise DataError(format_message("Uncertainty", "of a FitResult", "a typed record or its dict", type(u).__name__))
