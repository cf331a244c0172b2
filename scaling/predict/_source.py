"""Resolve the first argument of every planning function to a law, parameters and samples (private).

Accepted: a fit result (anything with ``.law``, ``.params``, ``.samples``), a ``(law, params)``
pair (a :class:`~scaling.laws.base.Law` or a registered law name, and a Series/mapping/sequence),
``"published:NAME"``, a :class:`~scaling.predict.published.PublishedLaw`, or an
:class:`~scaling.predict.allocation_law.AllocationLaw`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ..errors import DataError, format_message
from ..laws import get_law
from ..laws.base import Law, as_param_array
from .allocation_law import AllocationLaw
from .flops import SIX_ND, FlopsModel, as_flops_model
from .published import PublishedLaw, get_published, warn_inconsistencies

FloatArray = NDArray[np.float64]

_ACCEPTED = ("a fit result (with .law, .params, .samples), a (law, params) pair, 'published:NAME', "
             "a PublishedLaw or an AllocationLaw")


@dataclass(frozen=True)
class Source:
    label: str
    law: Law | None
    theta: FloatArray | None  # (P,)
    samples: FloatArray | None  # (S, P)
    allocation: AllocationLaw | None
    flops_model: FlopsModel
    notes: tuple[str, ...] = ()

    @property
    def has_nd_law(self) -> bool:
        return self.law is not None and "n_params" in self.law.variables and "n_tokens" in self.law.variables

    def rows(self) -> FloatArray:
        assert self.theta is not None
        return self.theta[None, :]


def resolve_law(name: str) -> Law:
    """A registered law by name (``get_law``)."""
    return get_law(name)


def _params_array(law: Law, params: Any, where: str) -> FloatArray:
    theta = as_param_array(law, params)
    if theta.ndim != 1:
        raise DataError(format_message("Parameters", where, f"one vector of {list(law.param_names)}",
                                       f"shape {theta.shape}", "Pass samples through a fit result's .samples."))
    if not np.all(np.isfinite(theta)):
        raise DataError(format_message("Parameters", where, "finite", dict(zip(law.param_names, theta.tolist())),
                                       "Check the fit."))
    return theta


def resolve(obj: Any, where: str) -> Source:
    if isinstance(obj, str):
        if not obj.startswith("published:"):
            raise DataError(format_message("Argument fit_or_law", where, _ACCEPTED, repr(obj),
                                           "Published laws are named 'published:NAME' (see list_published())."))
        obj = get_published(obj.split(":", 1)[1], warn=False)
        # user -> public function -> resolve -> warn_inconsistencies
        warn_inconsistencies(obj, stacklevel=4)
    if isinstance(obj, PublishedLaw):
        law = obj.law
        theta = None if law is None else _params_array(law, obj.params, where)
        return Source(label=f"published:{obj.name}", law=law, theta=theta, samples=None,
                      allocation=obj.allocation, flops_model=obj.flops_model, notes=obj.caveats)
    if hasattr(obj, "to_allocation_law") and not isinstance(obj, AllocationLaw):
        obj = obj.to_allocation_law()  # Approach 1 / 2 results plan through their fitted power laws
    if isinstance(obj, AllocationLaw):
        return Source(label=obj.name, law=None, theta=None, samples=None, allocation=obj,
                      flops_model=obj.flops_model, notes=obj.notes)
    if isinstance(obj, tuple) and len(obj) == 2:
        law_in, params = obj
        law = resolve_law(law_in) if isinstance(law_in, str) else law_in
        if not isinstance(law, Law):
            raise DataError(format_message("The first element of a (law, params) pair", where,
                                           "a Law or a registered law name", type(law_in).__name__))
        theta = _params_array(law, params, where)
        return Source(label=f"law {law.name} with given parameters", law=law, theta=theta, samples=None,
                      allocation=None, flops_model=SIX_ND)
    if all(hasattr(obj, a) for a in ("law", "params", "samples")):
        law = obj.law
        if not isinstance(law, Law):
            raise DataError(format_message("Attribute .law", where, "a Law", type(law).__name__))
        theta = _params_array(law, obj.params, where)
        samples = obj.samples
        S = None
        if samples is not None:
            if isinstance(samples, pd.DataFrame) and len(samples) == 0:
                S = None
            else:
                S = np.atleast_2d(as_param_array(law, samples)).astype(float)
                if S.shape[0] == 0:
                    S = None
        n = getattr(obj, "n_points", None)
        label = f"fit ({law.name}" + (f", {n} points)" if isinstance(n, (int, np.integer)) else ")")
        # the FLOPs rule of the fitted table travels with the fit (FitResult.conventions): a table recorded
        # with C = 8ND is planned with 8ND unless the caller passes another flops_model
        conv = getattr(obj, "conventions", None)
        fm = SIX_ND if conv is None else as_flops_model(float(conv.flops_per_token))
        return Source(label=label, law=law, theta=theta, samples=S, allocation=None, flops_model=fm)
    raise DataError(format_message("Argument fit_or_law", where, _ACCEPTED, type(obj).__name__))
