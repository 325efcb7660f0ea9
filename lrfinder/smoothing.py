"""Smoothing of range-test loss curves over log-LR: pure functions over numpy arrays.

Every smoother keeps the length of its input. The curve is smoothed as a function of log10(LR):

* evenly spaced LRs (``mode="exp"``, the default ramp) are smoothed directly with scipy's filters;
* unevenly spaced LRs (``mode="linear"``, or a curve read from elsewhere) are first averaged into evenly spaced
  log-LR bins, smoothed there, and interpolated back to the original LRs;
* an isolated non-finite loss (a skipped fp16 step, a bad batch) is a *hole*: it is bridged by linear
  interpolation and the smoothed value is returned at its place;
* a trailing run of non-finite losses (a diverged run) is a *tail*: it is returned unchanged and does not leak
  into the finite part of the curve.

``savgol`` (Savitzky-Golay, local quadratic fit) and ``gaussian`` are zero-phase: they do not move a dip to the
right the way the causal ``ema`` (what most LR finders use) does. ``savgol`` is the default: it keeps the
location and depth of the loss minimum best (see ``docs/benchmarks.md``).

Examples:
  >>> ema([1.0, 1.0, 1.0], beta=0.9)
  array([1., 1., 1.])
  >>> smooth([3.0, 2.0, 1.0, 2.0, 3.0], method="none")
  array([3., 2., 1., 2., 3.])
  >>> smooth([5.0, 2.0, 1.0, 2.0, 5.0], method="savgol", window=5).round(6)   # a parabola is kept exactly
  array([5., 2., 1., 2., 5.])
  >>> smooth([1.0, float("nan"), 3.0, float("inf")], method="none")   # hole bridged, tail kept
  array([ 1.,  2.,  3., inf])
"""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Integral, Real

import numpy as np

__all__ = ["DEFAULT_SMOOTHER", "SMOOTHERS", "check_lrs", "default_window", "ema", "smooth", "tail_start"]

DEFAULT_SMOOTHER = "savgol"
SMOOTHERS = ("savgol", "gaussian", "ema", "none")
#: Default window = this fraction of the number of points (rounded to an odd number, at least 5); chosen by the
#: suggestion-quality benchmark (0.05 beat 0.1 and 0.2 on its development tasks).
DEFAULT_WINDOW_FRACTION = 0.05


def _as_1d(values: Sequence[float] | np.ndarray, name: str = "losses") -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    return arr


def check_lrs(lrs: Sequence[float] | np.ndarray, n: int | None = None) -> np.ndarray:
    """Validate range-test LRs: 1-D, finite, > 0 and strictly increasing (a range test ramps the LR up).

    Examples:
      >>> check_lrs([1e-3, 1e-2]).tolist()
      [0.001, 0.01]
      >>> check_lrs([1e-2, 1e-3])
      Traceback (most recent call last):
      ...
      ValueError: lrs must be strictly increasing (a range test ramps the LR up), but lrs[1]=0.001 <= lrs[0]=0.01; sort the curve by LR and average repeated LRs first
    """
    arr = _as_1d(lrs, "lrs")
    if n is not None and arr.size != n:
        raise ValueError(f"lrs and losses must have the same length, got {arr.size} and {n}")
    bad = np.flatnonzero(~np.isfinite(arr) | (arr <= 0))
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"lrs must be finite and > 0, got lrs[{i}]={float(arr[i])!r}")
    down = np.flatnonzero(np.diff(arr) <= 0)
    if down.size:
        i = int(down[0]) + 1
        raise ValueError(
            f"lrs must be strictly increasing (a range test ramps the LR up), but lrs[{i}]={arr[i]:.6g} <= "
            f"lrs[{i - 1}]={arr[i - 1]:.6g}; sort the curve by LR and average repeated LRs first"
        )
    return arr


def tail_start(losses: Sequence[float] | np.ndarray) -> int:
    """Index where the trailing run of non-finite losses (a diverged tail) starts; ``len(losses)`` if none.

    Examples:
      >>> tail_start([1.0, float("nan"), 2.0, float("nan"), float("inf")])
      3
    """
    x = _as_1d(losses)
    finite = np.flatnonzero(np.isfinite(x))
    return int(finite[-1]) + 1 if finite.size else 0


def default_window(n: int) -> int:
    """Default smoothing window (odd, in points) for a curve of ``n`` points: about ``n / 20`` and at least 5; 1 (no
    smoothing) below 15 points, where there is too little curve to average over.

    Examples:
      >>> default_window(100), default_window(300), default_window(10)
      (5, 15, 1)
    """
    if n < 15:
        return 1
    w = int(round(n * DEFAULT_WINDOW_FRACTION))
    if w % 2 == 0:
        w += 1
    return max(w, 5)


def ema(losses: Sequence[float] | np.ndarray, beta: float = 0.98, *, debias: bool = True) -> np.ndarray:
    """Causal exponential moving average, debiased like Adam's moments (so the first value is not pulled to 0).

    It lags: on a range test it moves the curve to higher LRs. Non-finite inputs propagate from where they occur.

    Examples:
      >>> ema([2.0, 4.0], beta=0.5)
      array([2.        , 3.33333333])
    """
    x = _as_1d(losses)
    if isinstance(beta, bool) or not isinstance(beta, Real) or not 0.0 <= beta < 1.0:
        raise ValueError(f"beta must be a number in [0, 1), got beta={beta!r}")
    out = np.empty_like(x)
    avg = 0.0
    for i, v in enumerate(x):
        avg = beta * avg + (1.0 - beta) * v
        out[i] = avg / (1.0 - beta ** (i + 1)) if debias else avg
    return out


def _uniform(u: np.ndarray) -> bool:
    d = np.diff(u)
    if d.size == 0:
        return True
    return bool(np.max(np.abs(d - d.mean())) <= 1e-6 * max(abs(d.mean()), 1e-300))


def _to_grid(u: np.ndarray, y: np.ndarray, finite: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Average the finite points into ``len(u)`` evenly spaced bins over [u0, u_end]; empty bins interpolated."""
    m = u.size
    grid = np.linspace(u[0], u[-1], m)
    uf, yf = u[finite], y[finite]
    if _uniform(u):
        return grid, np.interp(grid, uf, yf)
    step = grid[1] - grid[0]
    idx = np.clip(np.rint((uf - grid[0]) / step).astype(int), 0, m - 1)
    sums = np.bincount(idx, weights=yf, minlength=m)
    counts = np.bincount(idx, minlength=m)
    filled = counts > 0
    vals = np.empty(m)
    vals[filled] = sums[filled] / counts[filled]
    vals[~filled] = np.interp(grid[~filled], grid[filled], vals[filled])
    return grid, vals


def _filter(y: np.ndarray, method: str, window: int, beta: float) -> np.ndarray:
    if method == "ema":
        return ema(y, beta=beta)
    w = min(window, y.size if y.size % 2 == 1 else y.size - 1)
    if w < 3:
        return y.copy()
    if method == "gaussian":
        from scipy.ndimage import gaussian_filter1d

        return gaussian_filter1d(y, sigma=w / 4.0, mode="nearest", truncate=2.0)
    from scipy.signal import savgol_filter

    return savgol_filter(y, window_length=w, polyorder=2 if w >= 5 else 1, mode="interp")


def smooth(
    losses: Sequence[float] | np.ndarray,
    method: str = DEFAULT_SMOOTHER,
    *,
    lrs: Sequence[float] | np.ndarray | None = None,
    window: int | None = None,
    beta: float = 0.98,
) -> np.ndarray:
    """Smooth a range-test loss curve over log10(LR); the result has the length of ``losses``.

    Args:
      losses: raw per-step losses; may hold NaN/inf (holes are bridged, a non-finite tail is kept as is).
      method: one of ``SMOOTHERS``: ``"savgol"`` (default), ``"gaussian"``, ``"ema"`` (debiased, causal) or
        ``"none"`` (only bridges holes).
      lrs: the LR of each loss (strictly increasing). ``None`` treats the points as evenly spaced in log-LR.
      window: width in points of the savgol window (odd) or the Gaussian (sigma = window / 4). Default:
        :func:`default_window` of the finite part (about 1/20 of it; no smoothing below 15 points).
      beta: the EMA's smoothing factor (``method="ema"``).

    Examples:
      >>> import numpy as np
      >>> lrs = np.logspace(-4, 0, 41)
      >>> dip = (np.log10(lrs) + 2) ** 2                      # symmetric dip at lr = 1e-2
      >>> float(lrs[np.argmin(smooth(dip, lrs=lrs, method="gaussian"))])
      0.01
    """
    x = _as_1d(losses)
    if method not in SMOOTHERS:
        raise ValueError(f"method must be one of {SMOOTHERS}, got method={method!r}")
    if window is not None and (isinstance(window, bool) or not isinstance(window, Integral) or window < 1):
        raise ValueError(f"window must be None or an integer >= 1, got window={window!r}")
    if isinstance(beta, bool) or not isinstance(beta, Real) or not 0.0 <= beta < 1.0:
        raise ValueError(f"beta must be a number in [0, 1), got beta={beta!r}")
    u = np.arange(x.size, dtype=np.float64) if lrs is None else np.log10(check_lrs(lrs, x.size))
    out = x.copy()
    t = tail_start(x)
    head = x[:t]
    finite = np.isfinite(head)
    if int(finite.sum()) < 2:
        return out
    if method == "none":
        holes = ~finite
        out[:t][holes] = np.interp(u[:t][holes], u[:t][finite], head[finite])
        return out
    grid, y = _to_grid(u[:t], head, finite)
    w = default_window(t) if window is None else int(window)
    ys = _filter(y, method, w, float(beta))
    # Evenly spaced: the grid is the data's own positions; otherwise interpolate back to the original LRs.
    out[:t] = ys if _uniform(u[:t]) else np.interp(u[:t], grid, ys)
    return out
