"""Learning-rate suggestions from a range-test curve: pure functions over numpy arrays.

Every suggester has the signature ``suggester(lrs, losses) -> Suggestion`` where ``losses`` are the *raw* per-step
losses (they may hold NaN/inf after a divergence). Suggesters live in a registry; add your own with
:func:`register_suggester`.

Examples:
  >>> import numpy as np
  >>> lrs = np.logspace(-5, 0, 6)
  >>> s = steepest(lrs, np.array([10.0, 8.0, 4.0, 1.0, 4.0, 16.0]), smoother="none")
  >>> s.index, s.lr
  (2, 0.001)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np

from .records import Suggestion
from .smoothing import DEFAULT_SMOOTHER, smooth

__all__ = [
    "SUGGESTERS",
    "Suggester",
    "get_suggester",
    "minimum",
    "register_suggester",
    "steepest",
    "suggest",
]


class Suggester(Protocol):
    def __call__(self, lrs: np.ndarray, losses: np.ndarray) -> Suggestion: ...


SUGGESTERS: dict[str, Callable[..., Suggestion]] = {}


def register_suggester(name: str, fn: Callable[..., Suggestion] | None = None, *, overwrite: bool = False):
    """Register ``fn`` under ``name`` (usable as a decorator). Refuses to replace an entry unless ``overwrite``."""

    def _register(f: Callable[..., Suggestion]) -> Callable[..., Suggestion]:
        if not overwrite and name in SUGGESTERS and SUGGESTERS[name] is not f:
            raise ValueError(f"a suggester named {name!r} is already registered; pass overwrite=True to replace it")
        SUGGESTERS[name] = f
        return f

    return _register if fn is None else _register(fn)


def get_suggester(name: str) -> Callable[..., Suggestion]:
    try:
        return SUGGESTERS[name]
    except KeyError:
        raise ValueError(f"unknown suggester {name!r}; registered: {sorted(SUGGESTERS)}") from None


def suggest(lrs, losses, method: str = "default") -> Suggestion:
    """Run the suggester registered as ``method`` on a curve."""
    lrs_a, losses_a = _validate(lrs, losses)
    return get_suggester(method)(lrs_a, losses_a)


def _validate(lrs, losses) -> tuple[np.ndarray, np.ndarray]:
    lrs_a = np.asarray(lrs, dtype=np.float64)
    losses_a = np.asarray(losses, dtype=np.float64)
    if lrs_a.ndim != 1 or losses_a.ndim != 1:
        raise ValueError(f"lrs and losses must be one-dimensional, got shapes {lrs_a.shape} and {losses_a.shape}")
    if lrs_a.shape != losses_a.shape:
        raise ValueError(f"lrs and losses must have the same length, got {lrs_a.size} and {losses_a.size}")
    return lrs_a, losses_a


def _usable_prefix(lrs: np.ndarray, losses: np.ndarray) -> int:
    bad = np.flatnonzero(~np.isfinite(losses) | ~np.isfinite(lrs) | (lrs <= 0))
    return int(bad[0]) if bad.size else losses.size


def _no_lr(method: str, reason: str) -> Suggestion:
    return Suggestion(method=method, lr=None, index=None, loss=None, interval=None, evidence="", reason=reason)


@register_suggester("steepest")
def steepest(lrs: np.ndarray, losses: np.ndarray, *, smoother: str = DEFAULT_SMOOTHER) -> Suggestion:
    """LR where the smoothed loss falls fastest per decade of LR, before the loss minimum."""
    lrs, losses = _validate(lrs, losses)
    n = _usable_prefix(lrs, losses)
    if n < 3:
        return _no_lr("steepest", f"only {n} finite loss value(s) before divergence: lower start_lr or end_lr")
    sm = smooth(losses[:n], method=smoother)
    i_min = int(np.argmin(sm))
    if i_min < 2:
        return _no_lr("steepest", "the loss never decreased: lower start_lr to widen the range")
    grads = np.gradient(sm[: i_min + 1], np.log10(lrs[: i_min + 1]))
    i = int(np.argmin(grads))
    if grads[i] >= 0:
        return _no_lr("steepest", "the loss never decreased: lower start_lr to widen the range")
    good = np.flatnonzero(grads <= 0.5 * grads[i])
    interval = (float(lrs[good.min()]), float(lrs[good.max()]))
    evidence = (
        f"loss falls fastest at lr={lrs[i]:.3g} ({grads[i]:.3g} per decade); "
        f"loss minimum {sm[i_min]:.4g} at lr={lrs[i_min]:.3g}"
    )
    return Suggestion("steepest", float(lrs[i]), i, float(sm[i]), interval, evidence, None)


@register_suggester("minimum")
def minimum(lrs: np.ndarray, losses: np.ndarray, *, smoother: str = DEFAULT_SMOOTHER, factor: float = 10.0) -> Suggestion:
    """LR at the smoothed loss minimum divided by ``factor`` (10)."""
    lrs, losses = _validate(lrs, losses)
    n = _usable_prefix(lrs, losses)
    if n < 3:
        return _no_lr("minimum", f"only {n} finite loss value(s) before divergence: lower start_lr or end_lr")
    sm = smooth(losses[:n], method=smoother)
    i_min = int(np.argmin(sm))
    if i_min == 0:
        return _no_lr("minimum", "the loss never decreased: lower start_lr to widen the range")
    target = lrs[i_min] / factor
    i = int(np.argmin(np.abs(np.log(lrs[:n]) - np.log(target))))
    evidence = f"smoothed loss minimum {sm[i_min]:.4g} at lr={lrs[i_min]:.3g}; suggestion = that lr / {factor:g}"
    if target < lrs[0]:
        return _no_lr(
            "minimum",
            f"the loss minimum at lr={lrs[i_min]:.3g} is less than {factor:g}x above start_lr={lrs[0]:.3g}: "
            "lower start_lr to widen the range",
        )
    interval = (float(target / np.sqrt(10)), float(target * np.sqrt(10)))
    return Suggestion("minimum", float(target), i, float(sm[i]), interval, evidence, None)


@register_suggester("default")
def default(lrs: np.ndarray, losses: np.ndarray) -> Suggestion:
    """lrfinder's default suggestion (see the docs for how it combines the evidence)."""
    s = minimum(lrs, losses)
    return Suggestion("default", s.lr, s.index, s.loss, s.interval, s.evidence, s.reason)
