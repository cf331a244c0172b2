"""argparse ``type=`` converters shared by the command-line modules (package-internal).

Each returns the parsed value or raises :class:`argparse.ArgumentTypeError` with the one message form
"must be …; got '…'", which argparse prints after the flag's name.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T", int, float)


def _parse(text: str, cast: Callable[[str], T], ok: Callable[[T], bool], want: str) -> T:
    try:
        v = cast(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not {'an integer' if cast is int else 'a number'}: {text!r}") from None
    if not ok(v):
        raise argparse.ArgumentTypeError(f"must be {want}; got {text!r}")
    return v


def positive_float(text: str) -> float:
    return _parse(text, float, lambda v: math.isfinite(v) and v > 0, "a positive number")


def level(text: str) -> float:
    return _parse(text, float, lambda v: 0 < v < 1, "between 0 and 1")


def fraction(text: str) -> float:
    return _parse(text, float, lambda v: 0 < v <= 1, "in (0, 1]")


def count(text: str) -> int:
    return _parse(text, int, lambda v: v >= 0, ">= 0")


def jobs(text: str) -> int:
    return _parse(text, int, lambda v: v >= 1, "a whole number of processes >= 1")


def seed(text: str) -> int:
    return _parse(text, int, lambda v: v >= 0, "a non-negative integer seed")
