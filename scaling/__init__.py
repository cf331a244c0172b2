"""scaling — neural scaling laws: load runs, fit laws at the true optimum with honest uncertainty, plan compute."""

from __future__ import annotations

__version__ = "0.1.0"
