"""Learning-rate schedules: the learning rate at every optimizer step of a run.

A :class:`Schedule` holds ``lr[s]`` for the steps ``s = 0 .. total - 1`` (float64, read-only) and the
spec it was built from (JSON-able). Build one from a spec::

    Schedule.cosine(24_000, peak=3e-4, final=3e-5, warmup=2160)
    Schedule.wsd(24_000, peak=3e-4, decay_start=20_000, final=3e-5, warmup=2160, shape="exponential")
    Schedule.two_stage(16_000, first=3e-4, second=9e-5, switch=8_000, warmup=2160)
    Schedule.constant(72_000, 3e-4, warmup=2160)
    Schedule.linear(24_000, peak=3e-4, final=0.0, warmup=2160)

or from the per-step values (``Schedule.from_lr(array)``) or a table's per-step ``lr`` column
(``Schedule.from_steps(steps, lr)``, which requires every step to be present).

Conventions (those of the multi-power-law repository, Luo et al. 2025, ``src/lr_schedules.py``):
the linear warmup is ``lr[s] = peak * s / (warmup - 1)`` for ``s < warmup`` (so ``lr[0] = 0`` and
``lr[warmup - 1] = peak``); the decay of cosine/linear runs from ``warmup`` to ``total`` (it reaches
``final`` only at the step after the last one); WSD decays from ``decay_start`` to ``total``:
``f = (s - decay_start) / (total - decay_start)`` and

* ``"linear"``: ``peak (1 - f) + final f``;
* ``"exponential"``: ``peak^(1 - f) final^f`` (geometric interpolation);
* ``"cosine"``: ``final + (peak - final) (1 + cos(pi f)) / 2``;
* ``"1-sqrt"``: ``final + (peak - final) (1 - sqrt(f))`` (Hägele et al. 2024).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .errors import DataError, format_message, format_rows

__all__ = ["Schedule", "WSD_SHAPES"]

FloatArray = NDArray[np.float64]
WSD_SHAPES = ("linear", "exponential", "cosine", "1-sqrt")


def _int(name: str, value: Any, minimum: int, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or int(value) < minimum:
        if isinstance(value, float) and value.is_integer() and value >= minimum:
            return int(value)
        raise DataError(format_message(f"{name}", where, f"an integer >= {minimum}", repr(value)))
    return int(value)


def _rate(name: str, value: Any, where: str, *, positive: bool = False) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = float("nan")
    if not np.isfinite(v) or v < 0 or (positive and v == 0):
        raise DataError(format_message(name, where, "a finite learning rate " + ("> 0" if positive else ">= 0"),
                                       repr(value)))
    return v


def _warmup(warmup: int, peak: float) -> FloatArray:
    return np.linspace(0.0, peak, warmup) if warmup > 1 else np.full(warmup, peak)


@dataclass(frozen=True, eq=False)
class Schedule:
    """Per-step learning rates of one run (``lr[s]`` for ``s = 0 .. total - 1``).

    Attributes
    ----------
    lr : ndarray
        Learning rate at every step (read-only, float64, finite, >= 0).
    kind : str
        ``"constant"``, ``"cosine"``, ``"wsd"``, ``"two_stage"``, ``"linear"`` or ``"custom"``.
    spec : dict
        The arguments the schedule was built from (JSON-able; ``Schedule.from_spec`` rebuilds it).
    """

    lr: FloatArray
    kind: str = "custom"
    spec: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        arr = np.array(self.lr, dtype=float, copy=True).reshape(-1)
        where = f"of the {self.kind} schedule"
        if arr.size == 0:
            raise DataError(format_message("The learning rates", where, "a non-empty array (one per step)",
                                           "0 steps"))
        bad = np.flatnonzero(~np.isfinite(arr) | (arr < 0))
        if bad.size:
            raise DataError(format_message(
                "The learning rates", where, "finite and >= 0 at every step",
                f"{float(arr[bad[0]])!r} at {format_rows(bad.tolist()).replace('row', 'step')}",
                "Pass one non-negative learning rate per optimizer step."))
        arr.setflags(write=False)
        object.__setattr__(self, "lr", arr)
        object.__setattr__(self, "spec", dict(self.spec))

    # -- constructors -------------------------------------------------------------------------
    @classmethod
    def from_lr(cls, lr: ArrayLike) -> Schedule:
        """A schedule from the learning rate at every step ``0 .. len(lr) - 1``."""
        return cls(np.asarray(lr, dtype=float), "custom", {})

    @classmethod
    def from_steps(cls, steps: ArrayLike, lr: ArrayLike) -> Schedule:
        """A schedule from a per-step ``lr`` column (``steps`` must be exactly ``0, 1, ..., T - 1``
        after sorting; a table that logs only some steps cannot define the schedule: build it from
        its spec instead)."""
        s = np.asarray(steps, dtype=float).reshape(-1)
        v = np.asarray(lr, dtype=float).reshape(-1)
        if s.shape != v.shape:
            raise DataError(format_message("steps and lr", "of Schedule.from_steps", "of the same length",
                                           f"{s.size} and {v.size}"))
        order = np.argsort(s, kind="stable")
        s, v = s[order], v[order]
        expected = np.arange(s.size, dtype=float)
        if s.size == 0 or not np.array_equal(s, expected):
            gaps = np.flatnonzero(s != expected)
            first = int(gaps[0]) if gaps.size else 0
            raise DataError(format_message(
                "The steps", "of the lr column", "every step 0, 1, ..., T - 1 exactly once",
                f"step {s[first]:g} where {first} was expected" if s.size else "no steps",
                "The law needs the learning rate at every step: build the schedule from its spec "
                "(Schedule.cosine(...), Schedule.wsd(...)) or log lr at every step."))
        return cls(v, "custom", {})

    @classmethod
    def constant(cls, total: int, lr: float, *, warmup: int = 0) -> Schedule:
        """``lr`` at every step after a linear warmup of ``warmup`` steps."""
        where = "of Schedule.constant"
        total, warmup = _int("total", total, 1, where), _int("warmup", warmup, 0, where)
        lr = _rate("lr", lr, where, positive=True)
        _check_warmup(total, warmup, where)
        out = np.concatenate([_warmup(warmup, lr), np.full(total - warmup, lr)])
        return cls(out, "constant", {"total": total, "lr": lr, "warmup": warmup})

    @classmethod
    def cosine(cls, total: int, peak: float, final: float = 0.0, *, warmup: int = 0) -> Schedule:
        """Linear warmup to ``peak``, then a half cosine from ``peak`` towards ``final`` at ``total``."""
        where = "of Schedule.cosine"
        total, warmup = _int("total", total, 1, where), _int("warmup", warmup, 0, where)
        peak, final = _rate("peak", peak, where, positive=True), _rate("final", final, where)
        _check_warmup(total, warmup, where)
        s = np.arange(warmup, total, dtype=float)
        dec = final + 0.5 * (peak - final) * (1.0 + np.cos(np.pi * (s - warmup) / (total - warmup)))
        out = np.concatenate([_warmup(warmup, peak), dec])
        return cls(out, "cosine", {"total": total, "peak": peak, "final": final, "warmup": warmup})

    @classmethod
    def linear(cls, total: int, peak: float, final: float = 0.0, *, warmup: int = 0) -> Schedule:
        """Linear warmup to ``peak``, then a linear decay towards ``final`` at ``total``."""
        where = "of Schedule.linear"
        total, warmup = _int("total", total, 1, where), _int("warmup", warmup, 0, where)
        peak, final = _rate("peak", peak, where, positive=True), _rate("final", final, where)
        _check_warmup(total, warmup, where)
        f = (np.arange(warmup, total, dtype=float) - warmup) / (total - warmup)
        out = np.concatenate([_warmup(warmup, peak), peak * (1.0 - f) + final * f])
        return cls(out, "linear", {"total": total, "peak": peak, "final": final, "warmup": warmup})

    @classmethod
    def wsd(cls, total: int, peak: float, decay_start: int, final: float = 0.0, *, warmup: int = 0,
            shape: Literal["linear", "exponential", "cosine", "1-sqrt"] = "linear") -> Schedule:
        """Warmup-stable-decay: warmup, ``peak`` until ``decay_start``, then a decay of ``shape``
        towards ``final`` at ``total`` (see the module docstring for the shapes)."""
        where = "of Schedule.wsd"
        total, warmup = _int("total", total, 1, where), _int("warmup", warmup, 0, where)
        decay_start = _int("decay_start", decay_start, 0, where)
        peak, final = _rate("peak", peak, where, positive=True), _rate("final", final, where)
        _check_warmup(total, warmup, where)
        if not warmup <= decay_start < total:
            raise DataError(format_message("decay_start", where, f"in [warmup, total) = [{warmup}, {total})",
                                           decay_start))
        if shape not in WSD_SHAPES:
            raise DataError(format_message("shape", where, f"one of {list(WSD_SHAPES)}", repr(shape)))
        if shape == "exponential" and final == 0:
            raise DataError(format_message("final", where + " with shape='exponential'", "> 0 (a geometric "
                                           "interpolation cannot reach 0)", final,
                                           "Pass final > 0 or shape='linear'."))
        f = (np.arange(decay_start, total, dtype=float) - decay_start) / (total - decay_start)
        if shape == "linear":
            dec = peak * (1.0 - f) + final * f
        elif shape == "exponential":
            dec = peak ** (1.0 - f) * final ** f
        elif shape == "cosine":
            dec = final + 0.5 * (peak - final) * (1.0 + np.cos(np.pi * f))
        else:
            dec = final + (peak - final) * (1.0 - np.sqrt(f))
        out = np.concatenate([_warmup(warmup, peak), np.full(decay_start - warmup, peak), dec])
        return cls(out, "wsd", {"total": total, "peak": peak, "decay_start": decay_start, "final": final,
                                "warmup": warmup, "shape": shape})

    @classmethod
    def two_stage(cls, total: int, first: float, second: float, switch: int, *, warmup: int = 0) -> Schedule:
        """Warmup to ``first``, ``first`` until step ``switch`` (exclusive), then ``second``."""
        where = "of Schedule.two_stage"
        total, warmup = _int("total", total, 1, where), _int("warmup", warmup, 0, where)
        switch = _int("switch", switch, 0, where)
        first, second = _rate("first", first, where, positive=True), _rate("second", second, where)
        _check_warmup(total, warmup, where)
        if not warmup <= switch <= total:
            raise DataError(format_message("switch", where, f"in [warmup, total] = [{warmup}, {total}]", switch))
        out = np.concatenate([_warmup(warmup, first), np.full(switch - warmup, first),
                              np.full(total - switch, second)])
        return cls(out, "two_stage", {"total": total, "first": first, "second": second, "switch": switch,
                                      "warmup": warmup})

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any] | str) -> Schedule:
        """Rebuild from :attr:`spec` plus ``kind`` (``{"kind": "cosine", "total": ..., ...}``) or from a
        string ``"cosine:total=24000,peak=3e-4,final=3e-5,warmup=2160"`` (the CLI's form)."""
        if isinstance(spec, str):
            spec = _parse_spec_string(spec)
        d = dict(spec)
        kind = d.pop("kind", None)
        builders = {"constant": cls.constant, "cosine": cls.cosine, "linear": cls.linear, "wsd": cls.wsd,
                    "two_stage": cls.two_stage}
        if kind not in builders:
            raise DataError(format_message("Schedule kind", "of the spec", f"one of {sorted(builders)}",
                                           repr(kind), "e.g. {'kind': 'cosine', 'total': 24000, 'peak': 3e-4}."))
        try:
            return builders[kind](**d)  # type: ignore[operator]
        except TypeError as e:
            raise DataError(format_message(f"The {kind} schedule spec", "", "the builder's arguments",
                                           repr(sorted(d)), str(e))) from None

    # -- properties -----------------------------------------------------------------------------
    @property
    def total(self) -> int:
        """Number of steps (``len(lr)``)."""
        return int(self.lr.size)

    def __len__(self) -> int:
        return self.total

    @property
    def peak(self) -> float:
        return float(self.lr.max())

    def cumulative(self) -> FloatArray:
        """``S1[s] = sum_{tau <= s} lr[tau]`` (the "area" under the schedule up to step s)."""
        return np.cumsum(self.lr)

    def is_non_increasing(self, after: int = 0) -> bool:
        """Whether ``lr`` never rises after step ``after``."""
        return bool(np.all(np.diff(self.lr[after:]) <= 0))

    def to_dict(self) -> dict[str, Any]:
        """JSON-able: the spec with its kind (``custom`` schedules carry their values)."""
        if self.kind == "custom":
            return {"kind": "custom", "lr": [float(v) for v in self.lr]}
        return {"kind": self.kind, **self.spec}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Schedule:
        if d.get("kind") == "custom":
            return cls.from_lr(d["lr"])
        return cls.from_spec(d)

    def require_steps(self, steps: ArrayLike, where: str = "") -> NDArray[np.int64]:
        """Validate integer steps inside the schedule (``0 <= s < total``); return them as int64."""
        s = np.asarray(steps, dtype=float).reshape(-1)
        bad = np.flatnonzero(~np.isfinite(s) | (s != np.round(s)) | (s < 0))
        if bad.size:
            raise DataError(format_message("Steps", where, "non-negative integers", f"{float(s[bad[0]])!r} at "
                                           f"{format_rows(bad.tolist())}"))
        over = np.flatnonzero(s >= self.total)
        if over.size:
            raise DataError(format_message(
                "Steps", where, f"inside the schedule (< its {self.total} steps)",
                f"step {s[over[0]]:g} at {format_rows(over.tolist())}",
                "The schedule must be as long as the run: pass a schedule of total >= last step + 1."))
        return s.astype(np.int64)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.spec.items())
        return f"Schedule.{self.kind}({args})" if self.kind != "custom" else f"Schedule.from_lr(<{self.total} steps>)"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Schedule) and np.array_equal(self.lr, other.lr)

    def __hash__(self) -> int:
        return hash((self.total, self.lr[:: max(1, self.total // 64)].tobytes()))


def _check_warmup(total: int, warmup: int, where: str) -> None:
    if warmup >= total:
        raise DataError(format_message("warmup", where, f"< total ({total})", warmup))


def _parse_spec_string(text: str) -> dict[str, Any]:
    kind, _, rest = text.partition(":")
    out: dict[str, Any] = {"kind": kind.strip().replace("-", "_")}
    for item in filter(None, (p.strip() for p in rest.split(","))):
        key, eq, value = item.partition("=")
        if not eq:
            raise DataError(format_message("Schedule spec item", f"{item!r} of {text!r}", "key=value", repr(item),
                                           "e.g. --schedule cosine:total=24000,peak=3e-4,final=3e-5,warmup=2160"))
        key = key.strip().replace("-", "_")
        v = value.strip()
        parsed: Any
        try:
            parsed = int(v)
        except ValueError:
            try:
                parsed = float(v)
            except ValueError:
                parsed = v
        out[key] = parsed
    return out


def as_schedule(schedule: Schedule | Sequence[float] | NDArray[Any] | Mapping[str, Any] | str) -> Schedule:
    """A :class:`Schedule` from a schedule, per-step array, spec mapping or spec string."""
    if isinstance(schedule, Schedule):
        return schedule
    if isinstance(schedule, (str, Mapping)):
        return Schedule.from_spec(schedule)
    return Schedule.from_lr(schedule)
