"""``FitSpec``: a frozen record of what was fitted, so that a fit can be re-solved after the fact.

A :class:`~scaling.FitResult` carries its spec (``res.spec``): the law with its options (fixed and tied
parameters included), the objective and its delta, the starts, the weights, the iteration limit, the
sha256 of the fitted data and the conventions the data were recorded in. With the fitted data (kept on
the result) or the original table, :func:`problem_from_result` rebuilds exactly the problem that
:func:`scaling.fit` solved — which is what adding uncertainty to a saved-and-reloaded fit needs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..conventions import DEFAULT_CONVENTIONS, Conventions

__all__ = ["FitSpec"]


class _ReadOnlyDict(dict):  # type: ignore[type-arg]
    """A dict that refuses changes (picklable, unlike MappingProxyType)."""

    def _refuse(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("FitSpec is immutable; build a new one with dataclasses.replace(...).")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = _refuse  # type: ignore[assignment]

    def __reduce__(self) -> Any:
        return (_ReadOnlyDict, (dict(self),))


def _frozen_json(value: Any) -> Any:
    """A deep, read-only copy of a JSON-like value (mappings become read-only dicts, lists tuples)."""
    if isinstance(value, Mapping):
        return _ReadOnlyDict({str(k): _frozen_json(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return tuple(_frozen_json(v) for v in value)
    return value


def _thawed(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _thawed(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [_thawed(v) for v in value]
    return value


@dataclass(frozen=True, kw_only=True)
class FitSpec:
    """What :func:`scaling.fit` was asked to solve.

    Attributes
    ----------
    law : mapping
        ``law.spec()``: registry name and options, fixed/tied parameters included (read-only).
    loss, delta : str, float
        The objective (summed over points) and its Huber delta.
    starts : "grid", "data grid" or tuple of tuples
        The law's default start grid, or the natural-unit start vectors that were given.
    weights : None, str or "array"
        No weights, the name of the weight column, or an array (the values are in ``res.data["weight"]``).
    max_iter : int
        Iteration limit per start.
    data_hash : str
        sha256 of the fitted data (the law's variables, ``loss`` and ``weight`` in row order).
    conventions : Conventions
        How N, D, C and L were counted in the fitted table (the planner takes its FLOPs rule from here).
    """

    law: Mapping[str, Any]
    loss: str
    delta: float
    starts: Any = "grid"
    weights: str | None = None
    max_iter: int = 1000
    data_hash: str = ""
    conventions: Conventions = field(default=DEFAULT_CONVENTIONS)

    def __post_init__(self) -> None:
        object.__setattr__(self, "law", _frozen_json(json.loads(json.dumps(_thawed(self.law)))))
        object.__setattr__(self, "starts", _frozen_json(self.starts))
        object.__setattr__(self, "delta", float(self.delta))
        object.__setattr__(self, "max_iter", int(self.max_iter))

    @property
    def fixed(self) -> dict[str, float]:
        """Parameters held fixed (natural values)."""
        return dict(self.law.get("options", {}).get("fixed", {}) or {})

    @property
    def tied(self) -> dict[str, str]:
        """Tied parameters (``{"beta": "alpha"}``)."""
        return dict(self.law.get("options", {}).get("tied", {}) or {})

    def fit_options(self) -> dict[str, Any]:
        """Keywords of :func:`scaling.fit` that re-create this problem on a table (law passed separately)."""
        starts = self.starts if isinstance(self.starts, str) else [list(s) for s in self.starts]
        return {"loss": self.loss, "delta": self.delta, "starts": "grid" if starts == "data grid" else starts,
                "max_iter": self.max_iter}

    def to_dict(self) -> dict[str, Any]:
        return {"law": _thawed(self.law), "loss": self.loss, "delta": self.delta, "starts": _thawed(self.starts),
                "weights": self.weights, "max_iter": self.max_iter, "data_hash": self.data_hash,
                "conventions": self.conventions.to_dict()}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> FitSpec:
        d = dict(d)
        d["conventions"] = Conventions.from_dict(d.get("conventions"))
        return cls(**d)
