"""The law registry: ``get_law(name, **options)`` builds a registered law.

Laws register themselves by declaration in their own file::

    @register_law("my-law")
    class MyLaw(ExpressionLaw): ...

(or ``register_law("my-law", factory)`` for a factory function).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, overload

from ..errors import DataError, format_message
from .base import Law

__all__ = ["get_law", "register_law", "list_laws"]

_REGISTRY: dict[str, Callable[..., Law]] = {}

F = TypeVar("F", bound=Callable[..., Law])


@overload
def register_law(name: str) -> Callable[[F], F]: ...


@overload
def register_law(name: str, factory: F) -> F: ...


def register_law(name: str, factory: Callable[..., Law] | None = None) -> Any:
    """Register ``factory(**options) -> Law`` (a Law class or a function) under ``name``.

    Without ``factory``, returns a decorator: ``@register_law("name")`` on the class.
    """
    if not isinstance(name, str) or not name:
        raise DataError(format_message("Law name", "of register_law()", "a non-empty string", repr(name)))

    def add(f: F) -> F:
        _REGISTRY[name] = f
        return f

    return add if factory is None else add(factory)  # type: ignore[arg-type]


def list_laws() -> list[str]:
    """Names of the registered laws."""
    return sorted(_REGISTRY)


def get_law(law: str | Law, **options: Any) -> Law:
    """The law registered as ``law`` built with ``options``; a :class:`Law` is returned unchanged.

    ``fixed={"E": 1.69}`` and ``tied={"beta": "alpha"}`` (the one spelling of constraints, for every law)
    hold parameters at natural values or tie them.
    """
    if isinstance(law, Law):
        if options:
            raise TypeError("Options cannot be applied to a Law instance; build it with them instead.")
        return law
    if law not in _REGISTRY:
        raise DataError(format_message("Law", "", f"one of {list_laws()}", repr(law),
                                       "Use scaling.laws.register_law to add your own, or pass a Law instance."))
    old = [k for k in ("tie_exponents", "fix") if k in options]
    if old:
        raise DataError(format_message("Option" + ("s " if len(old) > 1 else " ") + ", ".join(old), f"of law '{law}'",
                                       "fixed= and tied= (the one spelling of constraints)", repr(old),
                                       "Pass tied={'beta': 'alpha'} instead of tie_exponents=True, and "
                                       "fixed={'E': 1.69} instead of fix=...."))
    fixed = options.pop("fixed", None)
    tied = options.pop("tied", None)
    built = _REGISTRY[law](**options)
    return built.constrain(fixed=fixed, tied=tied)
