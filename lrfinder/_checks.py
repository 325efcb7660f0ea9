"""Argument checks shared by the workflow modules: each raises a ValueError naming the argument, the rule and the
value received.

Examples:
  >>> int_at_least(3, "steps", 1), positive(0.5, "lr"), fraction(1.0, "gamma", open_low=True)
  (3, 0.5, 1.0)
"""

from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Any

__all__ = ["fraction", "int_at_least", "positive"]


def int_at_least(value: Any, name: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {name}={value!r}")
    return int(value)


def positive(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a finite number > 0, got {name}={value!r}")
    return float(value)


def fraction(value: Any, name: str, *, open_low: bool = False, open_high: bool = False) -> float:
    """A number in [0, 1], with either end excluded on request."""
    ok = isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value)
    ok = ok and (value > 0 if open_low else value >= 0) and (value < 1 if open_high else value <= 1)
    if not ok:
        lo, hi = ("(" if open_low else "["), (")" if open_high else "]")
        raise ValueError(f"{name} must be in {lo}0, 1{hi}, got {name}={value!r}")
    return float(value)
