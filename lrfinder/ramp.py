"""Closed-form learning-rate ramps for the range test.

The LR at a step is a pure function of the step: no state, no accumulated float error.

Examples:
  >>> lr_at(0, start_lr=1e-4, end_lr=1.0, num_iter=5)
  0.0001
  >>> lr_at(4, start_lr=1e-4, end_lr=1.0, num_iter=5)
  1.0
  >>> lr_grid(1e-4, 1.0, 5).round(6).tolist()
  [0.0001, 0.001, 0.01, 0.1, 1.0]
"""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np

__all__ = ["RAMP_MODES", "lr_at", "lr_grid", "validate_ramp"]

RAMP_MODES = ("exp", "linear")


def validate_ramp(start_lr: float, end_lr: float, num_iter: int, mode: str = "exp") -> None:
    """Raise a ``ValueError``/``TypeError`` naming the argument if the ramp is malformed."""
    for name, value in (("start_lr", start_lr), ("end_lr", end_lr)):
        if isinstance(value, bool) or not isinstance(value, Real):
            raise TypeError(f"{name} must be a real number, got {value!r}")
        if not math.isfinite(value):
            raise ValueError(f"{name} must be finite, got {name}={value!r}")
    if not (0 < start_lr < end_lr):
        raise ValueError(f"start_lr must be > 0 and < end_lr, got start_lr={start_lr!r}, end_lr={end_lr!r}")
    if isinstance(num_iter, bool) or not isinstance(num_iter, Integral):
        raise TypeError(f"num_iter must be an integer, got {num_iter!r}")
    if num_iter < 2:
        raise ValueError(f"num_iter must be >= 2 (a ramp needs two ends), got num_iter={num_iter!r}")
    if mode not in RAMP_MODES:
        raise ValueError(f"mode must be one of {RAMP_MODES}, got mode={mode!r}")


def lr_at(step: int, start_lr: float, end_lr: float, num_iter: int, mode: str = "exp") -> float:
    """LR at ``step`` (0-based). Endpoint-inclusive: step 0 gives ``start_lr``, step ``num_iter - 1`` gives
    exactly ``end_lr``.

    ``mode="exp"`` spaces the LRs evenly in log space (``start * (end/start) ** frac``), ``"linear"`` evenly in
    linear space.
    """
    if not 0 <= step < num_iter:
        raise ValueError(f"step must be in [0, num_iter), got step={step!r}, num_iter={num_iter!r}")
    if step == 0:
        return float(start_lr)
    if step == num_iter - 1:
        return float(end_lr)
    frac = step / (num_iter - 1)
    if mode == "exp":
        return float(start_lr * (end_lr / start_lr) ** frac)
    if mode == "linear":
        return float(start_lr + frac * (end_lr - start_lr))
    raise ValueError(f"mode must be one of {RAMP_MODES}, got mode={mode!r}")


def lr_grid(start_lr: float, end_lr: float, num_iter: int, mode: str = "exp") -> np.ndarray:
    """All ``num_iter`` LRs of the ramp, as a float64 array (``lr_at`` at every step)."""
    validate_ramp(start_lr, end_lr, num_iter, mode)
    return np.array([lr_at(i, start_lr, end_lr, num_iter, mode) for i in range(num_iter)], dtype=np.float64)
