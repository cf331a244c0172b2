"""Scaling laws as declared specifications (see :mod:`scaling.laws.base`).

``get_law(name, **options)`` builds a registered law; ``register_law(name, factory)`` adds one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import DataError, format_message
from .base import Law
from .chinchilla import Chinchilla, chinchilla

__all__ = ["Law", "Chinchilla", "get_law", "register_law", "list_laws"]

_REGISTRY: dict[str, Callable[..., Law]] = {}


def register_law(name: str, factory: Callable[..., Law]) -> None:
    """Register ``factory(**options) -> Law`` under ``name`` (used by ``fit(law=name)``)."""
    _REGISTRY[name] = factory


def list_laws() -> list[str]:
    return sorted(_REGISTRY)


def get_law(law: str | Law, **options: Any) -> Law:
    """The law registered as ``law`` built with ``options``; a :class:`Law` is returned unchanged."""
    if isinstance(law, Law):
        if options:
            raise TypeError("Options cannot be applied to a Law instance; build it with them instead.")
        return law
    if law not in _REGISTRY:
        raise DataError(format_message("Law", "", f"one of {list_laws()}", repr(law),
                                       "Use scaling.laws.register_law to add your own, or pass a Law instance."))
    fixed = options.pop("fixed", None)
    tied = options.pop("tied", None)
    built = _REGISTRY[law](**options)
    return built.constrain(fixed=fixed, tied=tied)


def _chinchilla_factory(tie_exponents: bool = False, fix: dict[str, float] | None = None) -> Law:
    return chinchilla(tie_exponents=tie_exponents, fix=fix)


register_law("chinchilla", _chinchilla_factory)

# ---------------------------------------------------------------------- further laws
from .bnsl import BNSL, BNSL_FIG1  # noqa: E402
from .custom import CustomLaw  # noqa: E402
from .datablations import MUENNIGHOFF_2023, Datablations, datablations  # noqa: E402
from .kaplan import KAPLAN_2020, KaplanC, KaplanD, KaplanN, KaplanND, KaplanNS, from_pf_days, s_min, to_pf_days  # noqa: E402
from .powerlaw import PowerLaw  # noqa: E402

__all__ += ["KaplanN", "KaplanD", "KaplanC", "KaplanND", "KaplanNS", "KAPLAN_2020", "s_min", "to_pf_days",
            "from_pf_days", "PowerLaw", "Datablations", "datablations", "MUENNIGHOFF_2023", "BNSL", "BNSL_FIG1",
            "CustomLaw"]

register_law("kaplan-n", KaplanN)
register_law("kaplan-d", KaplanD)
register_law("kaplan-c", KaplanC)
register_law("kaplan-nd", KaplanND)
register_law("kaplan-ns", KaplanNS)
register_law("powerlaw", PowerLaw)
register_law("datablations", datablations)
register_law("bnsl", BNSL)
