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
