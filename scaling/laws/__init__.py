"""Scaling laws as declared specifications (see :mod:`scaling.laws.base`).

``get_law(name, **options)`` builds a registered law; a law registers itself in its own file with
``@register_law("name")`` (see :mod:`scaling.laws.expression` for a law declared by its formula, whose
gradient is derived, not hand-written). Fixed and tied parameters: ``get_law(name, fixed={...},
tied={...})`` for every law.
"""

from __future__ import annotations

from .base import ConstrainedLaw, Law
from .bnsl import BNSL, BNSL_FIG1
from .chinchilla import Chinchilla
from .custom import CustomLaw
from .datablations import MUENNIGHOFF_2023, Datablations, datablations
from .expression import ExpressionLaw
from .kaplan import KAPLAN_2020, KaplanC, KaplanD, KaplanN, KaplanND, KaplanNS, from_pf_days, s_min, to_pf_days
from .powerlaw import PowerLaw
from .registry import get_law, list_laws, register_law

__all__ = ["Law", "ConstrainedLaw", "ExpressionLaw", "Chinchilla", "get_law", "register_law", "list_laws",
           "KaplanN", "KaplanD", "KaplanC", "KaplanND", "KaplanNS", "KAPLAN_2020", "s_min", "to_pf_days",
           "from_pf_days", "PowerLaw", "Datablations", "datablations", "MUENNIGHOFF_2023", "BNSL", "BNSL_FIG1",
           "CustomLaw"]
