"""Smoothing of range-test loss curves: pure functions over numpy arrays.

Every smoother keeps the length of its input. Non-finite values (a diverged tail) are left as they are and do not
leak into the finite part of the curve.

Examples:
  >>> ema([1.0, 1.0, 1.0], beta=0.9)
  array([1., 1., 1.])
  >>> smooth([3.0, 2.0, 1.0, 2.0, 3.0], method="none")
  array([3., 2., 1., 2., 3.])
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["SMOOTHERS", "DEFAULT_SMOOTHER", "ema", "smooth"]

DEFAULT_SMOOTHER = "savgol"
SMOOTHERS = ("savgol", "gaussian", "ema", "none")


def _as_1d(values: Sequence[float] | np.ndarray, name: str = "losses") -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    return arr


def ema(losses: Sequence[float] | np.ndarray, beta: float = 0.98, *, debias: bool = True) -> np.ndarray:
    """Causal exponential moving average, debiased like Adam's moments (so the first value is not pulled to 0).

    Non-finite inputs propagate from where they occur (the average of a diverged loss is undefined).

    Examples:
      >>> ema([2.0, 4.0], beta=0.5)
      array([2.        , 3.33333333])
    """
    x = _as_1d(losses)
    if not 0.0 <= beta < 1.0:
        raise ValueError(f"beta must be in [0, 1), got beta={beta!r}")
    out = np.empty_like(x)
    avg = 0.0
    for i, v in enumerate(x):
        avg = beta * avg + (1.0 - beta) * v
        out[i] = avg / (1.0 - beta ** (i + 1)) if debias else avg
    return out


def _finite_prefix_len(x: np.ndarray) -> int:
    bad = np.flatnonzero(~np.isfinite(x))
    return int(bad[0]) if bad.size else x.size


def smooth(
    losses: Sequence[float] | np.ndarray,
    method: str = DEFAULT_SMOOTHER,
    *,
    window: int | None = None,
    beta: float = 0.98,
) -> np.ndarray:
    """Smooth a loss curve sampled at evenly spaced (log-)LRs.

    ``savgol`` (Savitzky-Golay, order 2) and ``gaussian`` are zero-phase: they do not shift the curve towards higher
    LRs the way a causal EMA does. ``window`` defaults to about 1/10 of the finite part of the curve (odd, >= 5).
    The finite prefix is smoothed; values from the first non-finite loss on are returned unchanged.
    """
    x = _as_1d(losses)
    if method not in SMOOTHERS:
        raise ValueError(f"method must be one of {SMOOTHERS}, got method={method!r}")
    out = x.copy()
    n = _finite_prefix_len(x)
    if method == "none" or n < 3:
        return out
    head = x[:n]
    if method == "ema":
        out[:n] = ema(head, beta=beta)
        return out
    if window is None:
        window = max(5, int(round(n / 10)))
    window = int(window)
    if window < 1:
        raise ValueError(f"window must be >= 1, got window={window!r}")
    if method == "gaussian":
        from scipy.ndimage import gaussian_filter1d

        out[:n] = gaussian_filter1d(head, sigma=window / 4.0, mode="nearest")
        return out
    from scipy.signal import savgol_filter

    window = min(window, n if n % 2 == 1 else n - 1)
    if window % 2 == 0:
        window += 1
    if window <= 2:
        return out
    out[:n] = savgol_filter(head, window_length=window, polyorder=min(2, window - 1), mode="interp")
    return out
