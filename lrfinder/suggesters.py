"""Learning-rate suggestions from a range-test curve: pure functions over numpy arrays.

Every suggester has the signature ``suggester(lrs, losses) -> Suggestion``: ``lrs`` strictly increasing, ``losses``
the *raw* per-step losses (they may hold NaN/inf: isolated holes are bridged, a non-finite tail marks a divergence).
Suggesters smooth the curve over log10(LR) themselves (zero-phase, see :mod:`lrfinder.smoothing`) and return the
LR, where it sits on the curve, an interval of LRs they consider equally good, and caveats; or ``lr=None`` and a
``reason`` that says what to change when the curve cannot support a suggestion (with the range it names, if any, in
``details["retry_start_lr"]`` / ``["retry_end_lr"]`` / ``["retry_num_iter"]``). A loss counts as having fallen
only if it fell by more than ``FALL_Z`` standard errors of its per-step noise, judged with the final blow-up
clipped.

Registered: ``steepest`` (fastest fall of the loss, before its minimum), ``valley`` (middle of the longest
descending stretch), ``minimum`` (LR at the loss minimum / 10) and ``default`` (lrfinder's choice: see
:func:`default`). Add your own with :func:`register_suggester`. :func:`cyclic_bounds` derives the min and max LR
of a cyclical / one-cycle schedule.

Examples:
  >>> import numpy as np
  >>> lrs = np.logspace(-5, 0, 6)
  >>> s = steepest(lrs, np.array([10.0, 8.0, 4.0, 1.0, 4.0, 16.0]))
  >>> s.index, s.lr
  (2, 0.001)
  >>> suggest(lrs, [2.0, 2.0, 2.0, 2.0, 2.0, 2.0]).reason
  'the loss stayed flat (2 +- 0) from lr=1e-05 to lr=1: raise end_lr, or check that the model can learn at all (labels, gradients, frozen layers)'
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

import numpy as np

from .records import CyclicBounds, Suggestion
from .smoothing import DEFAULT_SMOOTHER, _filter, check_lrs, default_window, smooth, tail_start

__all__ = [
    "FALL_Z",
    "MIN_DECADES",
    "MIN_POINTS",
    "SUGGESTERS",
    "Suggester",
    "cyclic_bounds",
    "default",
    "default_factor",
    "get_suggester",
    "minimum",
    "register_suggester",
    "steepest",
    "suggest",
    "valley",
]

#: Fewest finite losses (before a divergence) a suggestion is made from.
MIN_POINTS = 5
#: Narrowest LR range (in decades, over the finite part of the curve) a suggestion is made from.
MIN_DECADES = 1.0
#: ``minimum`` divides the LR of the loss minimum by this (the classic rule).
MIN_FACTOR = 10.0
#: ``default`` divides the LR where the loss stops improving (see :func:`default`) by this (1.2 decades) on a ramp of
#: ``REFERENCE_STEPS_PER_DECADE``, chosen by the suggestion-quality benchmark on its task groups dev to F against a
#: 12-seed LR sweep (every leave-one-group-out fold chose it; 20 before) and checked on group G (docs/benchmarks.md).
DEFAULT_FACTOR = 16.0
#: The ramp ``DEFAULT_FACTOR`` belongs to: 100 LRs over 8 decades (1e-7 to 10), 99 steps.
REFERENCE_STEPS_PER_DECADE = 99 / 8
#: On a slower ramp (more optimizer steps per decade of LR) the loss stops improving at a lower LR, so the divisor
#: shrinks as ``(REFERENCE_STEPS_PER_DECADE / steps_per_decade) ** RAMP_EXPONENT``: in the benchmark (range tests of
#: 50 to 400 steps) the best divisor fell 0.15 to 0.25 decades per doubling of the steps per decade (the choices of
#: the leave-one-group-out folds; their median 0.15); an exponent of 0.5, a square root, is 0.15 per doubling.
RAMP_EXPONENT = 0.5
#: The steps per decade that calibration covered (range tests of 50 to 400 steps over 8 decades); slower or faster
#: ramps get the divisor of the nearest end, and a caveat.
CALIBRATED_STEPS_PER_DECADE = (6.0, 50.0)
#: The default's interval reaches at least this factor either side of the suggestion: about the typical
#: seed-to-seed movement of one range test's suggestion in that benchmark (median spread about 2.1x, max/min).
SEED_SPREAD = 1.6
#: The floor of the curve: where the smoothed loss is within this fraction of its total drop of its minimum.
FLOOR_FRACTION = 0.1
#: A curve that stayed flat and then rose is retried on ``RETRY_DECADES`` decades up to 10x where it rose, with this
#: many times its steps per decade (capped at the calibrated 50): in the benchmark's 41 such runs (groups dev to G)
#: the retry's suggestion landed in the good band 15 times with 3x (186 steps after a classic ramp), 8 with 100 steps.
RETRY_SPEEDUP = 3.0
RETRY_DECADES = 5.0
#: A range test run because the one before it learned nothing (its loss stayed flat, then rose) gets a suggestion
#: this many times higher (``default(..., after_no_fall=True)``): such a model learns only close to where it turns
#: unstable. Chosen on the retried tests of the benchmark's groups dev to H (14 of 33 in the good band with 1x, 19
#: with 1.5x) with the rule fixed in advance to keep it only if it did better on a fresh group I of such tasks
#: (there: 14 of 21 against 12; docs/benchmarks.md, round 10).
AFTER_NO_FALL_FACTOR = 1.5
#: Evidence that the loss fell: the median of the first losses must exceed the median of the (clipped) losses
#: around the minimum by this many standard errors (per-step noise from successive differences).
FALL_Z = 3.0




class Suggester(Protocol):
    def __call__(self, lrs: np.ndarray, losses: np.ndarray) -> Suggestion: ...


SUGGESTERS: dict[str, Callable[..., Suggestion]] = {}


def register_suggester(name: str, fn: Callable[..., Suggestion] | None = None, *, overwrite: bool = False):
    """Register ``fn(lrs, losses) -> Suggestion`` under ``name`` (usable as a decorator).

    Refuses to replace an entry unless ``overwrite``.

    Examples:
      >>> @register_suggester("half_min", overwrite=True)
      ... def half_min(lrs, losses):
      ...     s = minimum(lrs, losses)
      ...     return Suggestion("half_min", None if s.lr is None else s.lr * 5, s.index, s.loss, None, s.evidence,
      ...                       s.reason)
      >>> "half_min" in SUGGESTERS
      True
      >>> del SUGGESTERS["half_min"]
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"name must be a non-empty string, got name={name!r}")

    def _register(f: Callable[..., Suggestion]) -> Callable[..., Suggestion]:
        if not callable(f):
            raise TypeError(f"a suggester must be callable as fn(lrs, losses), got {type(f).__name__}")
        if not overwrite and name in SUGGESTERS and SUGGESTERS[name] is not f:
            raise ValueError(f"a suggester named {name!r} is already registered; pass overwrite=True to replace it")
        SUGGESTERS[name] = f
        return f

    return _register if fn is None else _register(fn)


def get_suggester(name: str) -> Callable[..., Suggestion]:
    """The suggester registered as ``name``; a ``ValueError`` listing the registered names otherwise."""
    try:
        return SUGGESTERS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown suggester {name!r}; registered: {sorted(SUGGESTERS)}") from None


def suggest(lrs: Sequence[float] | np.ndarray, losses: Sequence[float] | np.ndarray, method: str = "default",
            **kwargs) -> Suggestion:
    """Run the suggester registered as ``method`` on a curve (``kwargs`` go to the suggester)."""
    lrs_a, losses_a = _validate(lrs, losses)
    return get_suggester(method)(lrs_a, losses_a, **kwargs)


def _validate(lrs, losses) -> tuple[np.ndarray, np.ndarray]:
    losses_a = np.asarray(losses, dtype=np.float64)
    if losses_a.ndim != 1:
        raise ValueError(f"losses must be one-dimensional, got shape {losses_a.shape}")
    return check_lrs(lrs, losses_a.size), losses_a


def _g(x: float) -> str:
    return f"{x:.2g}"


# -- the shared analysis of one curve ------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Curve:
    """What every suggester needs to know about a curve, computed once."""

    lrs: np.ndarray
    losses: np.ndarray
    smoother: str
    end: int = 0  # usable length: the non-finite tail starts here
    sm: np.ndarray | None = None  # smoothed losses[:end]
    u: np.ndarray | None = None  # log10(lrs[:end])
    i_min: int = 0
    noise: float = 0.0  # noise of the smoothed curve (standard deviation)
    drop: float = 0.0  # start level - minimum of the smoothed curve
    problem: str | None = None  # why no suggestion can be made
    still_falling: bool = False  # minimum at the top of the range and no divergence seen
    i_rise: int | None = None  # flat curves that then rose: first index clearly above the starting level
    retry: Mapping[str, float] = field(default_factory=dict)  # the range the problem's advice names, for programs

    @property
    def lr_min(self) -> float:
        return float(self.lrs[self.i_min])

    @property
    def loss_min(self) -> float:
        return float(self.sm[self.i_min])

    def slope_at(self, i: int) -> float:
        """d(smoothed loss) / d(log10 lr) at index ``i`` (negative when the loss falls)."""
        return float(np.gradient(self.sm, self.u)[i])

    def nearest(self, lr: float) -> int:
        return int(np.argmin(np.abs(self.u - math.log10(lr))))


def _noise_gain(smoother: str, window: int, n: int, at: str = "centre") -> float:
    """How much the smoother shrinks white noise (std of output / std of input) at the centre or the first point."""
    if smoother == "none" or window < 3:
        return 1.0
    size = max(n, 4 * window + 1)
    where = size // 2 if at == "centre" else 0
    # the output at `where` is a linear combination of the inputs: its weights are the responses to unit impulses
    weights = [_filter(np.eye(1, size, j).ravel(), smoother, window, 0.98)[where]
               for j in range(max(0, where - 2 * window), min(size, where + 2 * window + 1))]
    return float(np.sqrt(np.sum(np.square(weights))))


def _slope_window(n: int) -> int:
    """Default window for slope-based suggesters: twice the usual (a derivative amplifies noise)."""
    return 1 if n < 15 else default_window(2 * n)


def _analyse(lrs, losses, smoother: str = DEFAULT_SMOOTHER, window: int | None = None, *,
             slopes: bool = False) -> _Curve:
    lrs, losses = _validate(lrs, losses)
    n = losses.size
    c = dict(lrs=lrs, losses=losses, smoother=smoother)
    if n < MIN_POINTS:
        return _Curve(**c, problem=f"only {n} loss value(s) recorded, {MIN_POINTS} needed: run more steps "
                                   "(num_iter=100 is typical)")
    end = tail_start(losses)
    n_finite = int(np.isfinite(losses[:end]).sum())
    if n_finite < MIN_POINTS:
        if end == 0:
            return _Curve(**c, problem="no finite loss at all: check the data and the model's output")
        return _Curve(**c, retry={"retry_start_lr": _r(lrs[0] / 1000)}, problem=(
            f"the loss became non-finite at step {end} (lr={_g(lrs[min(end, n - 1)])}) after only {n_finite} "
            f"finite value(s): the range starts where training already diverges: lower start_lr "
            f"(e.g. to {_g(lrs[0] / 1000)}) and end_lr"))
    u = np.log10(lrs[:end])
    span = float(u[-1] - u[0])
    if span < MIN_DECADES:
        return _Curve(**c, problem=(
            f"the tested range spans only {span:.1f} decade(s) of LR (lr={_g(lrs[0])} to {_g(lrs[end - 1])}): widen "
            "it to several decades, e.g. start_lr=1e-7, end_lr=10"))
    w = int(window) if window is not None else (_slope_window(end) if slopes else default_window(end))
    sm = smooth(losses[:end], method=smoother, lrs=lrs[:end], window=w)
    i_min = int(np.argmin(sm))
    # Noise: robust spread of the raw losses around the smoothed curve, scaled to what is left after smoothing.
    # Without smoothing (short curves) the points are taken as they are: noise 0.
    finite = np.isfinite(losses[:end])
    gain = _noise_gain(smoother, w, end)
    sigma = 0.0  # of one raw loss
    if smoother != "none" and w >= 3 and gain < 1:
        resid = losses[:end][finite] - sm[finite]
        sigma = 1.4826 * float(np.median(np.abs(resid - np.median(resid)))) / math.sqrt(1 - gain**2)
    noise = sigma * gain
    head = losses[:end][finite]
    k = max(3, head.size // 10)
    # The starting level is the smoothed curve's first value, noisier than the rest (an edge): allow for both.
    start = float(sm[0])
    needed = max(4.0 * noise + 2.0 * sigma * _noise_gain(smoother, w, end, at="start"), 0.01 * abs(start), 1e-12)
    # Locate the minimum on a curve whose blow-up is clipped to the highest of the first losses: how far above
    # them a diverging loss went does not matter, and an explosive rise would otherwise bend the smoothed curve (a
    # polynomial fit overshoots downwards just before it), move the minimum and fake a drop on a flat curve.
    cap = float(np.max(head[:k]))
    clipped = np.minimum(losses[:end], cap)
    sm_clipped = sm
    if np.nanmax(losses[:end]) > cap:
        sm_clipped = smooth(clipped, method=smoother, lrs=lrs[:end], window=w)
    i_min = int(np.argmin(sm_clipped))
    drop = start - float(sm_clipped[i_min])
    c.update(end=end, sm=sm, u=u, i_min=i_min, noise=noise, drop=drop)
    fell = drop >= max(0.01 * abs(start), 1e-12)
    if fell and sigma > 0:  # a noisy curve: is the fall more than the noise? (a short one is taken as it is)
        fell = _fall_z(clipped, k, i_min, w) >= FALL_Z
    if not fell:  # no evidence of learning: say what the curve did instead (on the unclipped curve)
        c.update(i_min=int(np.argmin(sm)))
        top = float(np.max(sm))
        rose = np.flatnonzero(sm > start + needed)
        if rose.size and u[rose[0]] - u[0] >= MIN_DECADES:
            retry = {"retry_start_lr": _r(lrs[rose[0]] / 10 ** (RETRY_DECADES - 1)),
                     "retry_end_lr": _r(lrs[rose[0]] * 10),
                     "retry_num_iter": float(_retry_num_iter(u, RETRY_DECADES))}
            return _Curve(**c, i_rise=int(rose[0]), retry=retry, problem=(
                f"the loss stayed flat ({start:.3g}) from lr={_g(lrs[0])} to lr={_g(lrs[rose[0]])} and then rose: the "
                "model made no progress during the range test: give it more steps per decade of LR, on a narrower "
                f"range (e.g. start_lr={_g(retry['retry_start_lr'])}, end_lr={_g(retry['retry_end_lr'])}, "
                f"num_iter={int(retry['retry_num_iter'])})"))
        if end < n or top - start > needed:
            return _Curve(**c, retry={"retry_start_lr": _r(lrs[0] / 1000)}, problem=(
                f"the loss never fell below its starting value {start:.3g} (lr={_g(lrs[0])}) and rose from there: "
                f"the range starts too high: lower start_lr (e.g. to {_g(lrs[0] / 1000)})"))
        return _Curve(**c, problem=(
            f"the loss stayed flat ({start:.3g} +- {max(top - float(np.min(sm)), 0) / 2:.2g}) from lr={_g(lrs[0])} "
            f"to lr={_g(lrs[end - 1])}: raise end_lr, or check that the model can learn at all (labels, gradients, "
            "frozen layers)"))
    c.update(sm=sm_clipped)
    # Still falling: the minimum is at the top of the range, and no loss after it went above the starting level (a
    # last-moment blow-up, which clipping and smoothing flatten, is where training turned unstable, not more descent).
    still_falling = end == n and i_min >= end - max(2, end // 20) and not np.nanmax(losses[i_min:end]) > cap
    return _Curve(**c, still_falling=still_falling)


def _steps_per_decade(u: np.ndarray, lo: int, hi: int) -> float:
    """Optimizer steps per decade of LR between indices ``lo`` and ``hi`` of ``u`` (log10 LRs, one per step;
    exponential ramps have the same everywhere, linear ones more at high LRs)."""
    return (hi - lo) / float(u[hi] - u[lo])


def _retry_num_iter(u: np.ndarray, decades: float) -> int:
    """Steps for a retry over ``decades``: ``RETRY_SPEEDUP`` times the steps per decade of the curve ``u`` (log10
    LRs), at most the top of ``CALIBRATED_STEPS_PER_DECADE``."""
    spd = _steps_per_decade(u, 0, u.size - 1)
    return int(math.ceil(min(RETRY_SPEEDUP * spd, CALIBRATED_STEPS_PER_DECADE[1]) * decades))


def _fall_z(losses: np.ndarray, k: int, i_min: int, window: int) -> float:
    """How many standard errors the median of the first ``k`` (at least ``MIN_POINTS``, none of them in the window)
    losses lies above the median of the losses in ``window`` points around ``i_min``. The per-step noise comes
    from successive differences (robust to the trend and to outliers). Non-finite losses are left out."""
    half = max(1, window // 2)
    first = losses[: max(1, min(max(k, MIN_POINTS), i_min - half))]
    around = losses[max(0, i_min - half): i_min + half + 1]
    first, around, finite = (v[np.isfinite(v)] for v in (first, around, losses))
    if not first.size or not around.size:
        return 0.0
    fall = float(np.median(first) - np.median(around))
    sigma = 1.4826 * float(np.median(np.abs(np.diff(finite)))) / math.sqrt(2)
    if sigma == 0.0:
        return math.inf if fall > 0 else 0.0
    # the variance of the median of m normal values is about (pi / 2) sigma^2 / m
    return fall / (sigma * math.sqrt(math.pi / 2 * (1 / first.size + 1 / around.size)))


def _r(lr: float) -> float:
    """An LR rounded as the reasons print it (two significant digits), so that text and details agree."""
    return float(_g(lr))


def _no_lr(method: str, reason: str, details: Mapping[str, float] | None = None) -> Suggestion:
    """No LR: the reason, and in ``details`` the range it advises (``retry_start_lr``, ``retry_end_lr``,
    ``retry_num_iter``) if any."""
    return Suggestion(method=method, lr=None, index=None, loss=None, interval=None, evidence="", reason=reason,
                      details=details or {})


def _caveats(c: _Curve) -> tuple[str, ...]:
    out = []
    if c.still_falling:
        out.append(
            f"the loss was still falling at the highest LR tested ({_g(c.lrs[-1])}): raise end_lr to see where "
            "training turns unstable"
        )
    holes = int((~np.isfinite(c.losses[: c.end])).sum())
    if holes:
        out.append(f"{holes} non-finite loss(es) inside the curve were bridged by interpolation")
    return tuple(out)


def _where(c: _Curve, i: int) -> str:
    """Where index ``i`` sits on the curve, in words."""
    dec = float(c.u[c.i_min] - c.u[i])
    if abs(dec) < 0.05:
        slope = -c.slope_at(i)
        trend = f"loss falling {slope:.2g} per decade" if slope > 0 else f"loss rising {-slope:.2g} per decade"
        return f"at the loss minimum ({c.loss_min:.3g}) at lr={_g(c.lr_min)}, {trend}"
    # The mean slope between here and the minimum: steadier than the local slope of a noisy curve.
    fall = (float(c.sm[i]) - c.loss_min) / dec
    if dec > 0:
        return (f"{dec:.1f} decades below the loss minimum ({c.loss_min:.3g}) at lr={_g(c.lr_min)}; from here to it "
                f"the loss falls {fall:.2g} per decade")
    return f"{-dec:.1f} decades above the loss minimum ({c.loss_min:.3g}) at lr={_g(c.lr_min)}"


def _make(c: _Curve, method: str, i: int, lr: float, interval: tuple[float, float], rule: str,
          **details: float) -> Suggestion:
    lo, hi = sorted((float(interval[0]), float(interval[1])))
    lo, hi = max(lo, float(c.lrs[0])), min(hi, float(c.lrs[c.end - 1]))
    lo, hi = min(lo, lr), max(hi, lr)
    details = dict(lr_at_min=c.lr_min, loss_min=c.loss_min, slope_per_decade=c.slope_at(i),
                   decades_below_min=float(c.u[c.i_min] - math.log10(lr)), **details)
    return Suggestion(method=method, lr=float(lr), index=int(i), loss=float(c.sm[i]), interval=(lo, hi),
                      evidence=f"{rule}: {_where(c, i)} (smoother: {c.smoother})", reason=None,
                      caveats=_caveats(c), details=details)


def _run_around(mask: np.ndarray, i: int) -> tuple[int, int]:
    """First and last index of the run of True in ``mask`` that contains ``i``."""
    lo = i
    while lo > 0 and mask[lo - 1]:
        lo -= 1
    hi = i
    while hi < mask.size - 1 and mask[hi + 1]:
        hi += 1
    return lo, hi


# -- the suggesters ------------------------------------------------------------------------------------------------
def _steepest(c: _Curve) -> Suggestion:
    if c.problem is not None:
        return _no_lr("steepest", c.problem, c.retry)
    if c.i_min < 2:
        return _no_lr("steepest", f"the loss is lowest at the start of the range (lr={_g(c.lrs[0])}): lower start_lr")
    grads = np.gradient(c.sm, c.u)[: c.i_min + 1]
    i = int(np.argmin(grads))
    lo, hi = _run_around(grads <= 0.5 * grads[i], i)
    return _make(c, "steepest", i, float(c.lrs[i]), (c.lrs[lo], c.lrs[hi]), "steepest fall of the loss")


def _valley(c: _Curve) -> Suggestion:
    if c.problem is not None:
        return _no_lr("valley", c.problem, c.retry)
    sm = c.sm[: c.i_min + 1]
    tol = 2.0 * c.noise
    best, a, run_min = (0, 0), 0, sm[0]
    for k in range(1, sm.size):
        if sm[k] > run_min + tol:  # a rise above the noise ends the descent; a new one starts here
            a, run_min = k, sm[k]
        else:
            run_min = min(run_min, sm[k])
        if k - a > best[1] - best[0]:
            best = (a, k)
    a, b = best
    # A stretch that starts flat is not yet descending: start it where the loss last sat at its starting level.
    flat = np.flatnonzero(sm[a : b + 1] >= sm[a] - tol)
    a += int(flat[-1]) if flat.size and flat[-1] < b - a else 0
    if b - a < 2:
        return _no_lr("valley", f"no descending stretch of the loss before its minimum at lr={_g(c.lr_min)}: "
                                "lower start_lr")
    mid = (c.u[a] + c.u[b]) / 2
    i = c.nearest(10**mid)
    third = (c.u[b] - c.u[a]) / 6
    return _make(c, "valley", i, float(c.lrs[i]), (10 ** (mid - third), 10 ** (mid + third)),
                 f"middle of the longest descending stretch (lr={_g(c.lrs[a])} to {_g(c.lrs[b])})")


def _minimum(c: _Curve, factor: float = MIN_FACTOR) -> Suggestion:
    if c.problem is not None:
        return _no_lr("minimum", c.problem, c.retry)
    if c.still_falling:
        return _no_lr("minimum", f"the loss was still falling at the highest LR tested ({_g(c.lrs[-1])}), so its "
                                 "minimum is not known: raise end_lr")
    lr = c.lr_min / factor
    if lr < c.lrs[0]:
        return _no_lr("minimum", f"the loss minimum at lr={_g(c.lr_min)} is less than {factor:g}x above "
                                 f"start_lr={_g(c.lrs[0])}: lower start_lr")
    # The bottom of the curve: where the smoothed loss is within noise (or 5% of the drop) of its minimum.
    tol = max(2.0 * c.noise, 0.05 * c.drop)
    lo, hi = _run_around(c.sm <= c.loss_min + tol, c.i_min)
    i = c.nearest(lr)
    return _make(c, "minimum", i, lr, (c.lrs[lo] / factor, c.lrs[hi] / factor),
                 f"1/{factor:g} of the LR at the loss minimum")


def _floor(c: _Curve) -> tuple[int, int]:
    """First and last index of the curve's floor: around the minimum, within ``FLOOR_FRACTION`` of the drop (or
    twice the noise, if more) of it."""
    tol = max(FLOOR_FRACTION * c.drop, 2.0 * c.noise)
    return _run_around(c.sm <= c.loss_min + tol, c.i_min)


def default_factor(steps_per_decade: float) -> float:
    """What ``default`` divides the edge by, for a ramp of ``steps_per_decade`` optimizer steps per decade of LR:
    ``DEFAULT_FACTOR`` (16) at the reference ramp (100 steps over 8 decades), times
    ``sqrt(REFERENCE_STEPS_PER_DECADE / steps_per_decade)``, with the steps per decade kept within
    ``CALIBRATED_STEPS_PER_DECADE``.

    Examples:
      >>> round(default_factor(99 / 8), 6), round(default_factor(4 * 99 / 8), 6)   # num_iter=100, then 400
      (16.0, 8.0)
    """
    if not (isinstance(steps_per_decade, numbers.Real) and not isinstance(steps_per_decade, bool)
            and steps_per_decade > 0 and math.isfinite(steps_per_decade)):
        raise ValueError(f"steps_per_decade must be a finite number > 0, got steps_per_decade={steps_per_decade!r}")
    lo, hi = CALIBRATED_STEPS_PER_DECADE
    spd = min(max(float(steps_per_decade), lo), hi)
    return DEFAULT_FACTOR * (REFERENCE_STEPS_PER_DECADE / spd) ** RAMP_EXPONENT


def _default(c: _Curve, after_no_fall: bool = False) -> Suggestion:
    if c.problem is not None:
        return _no_lr("default", c.problem, c.retry)
    if c.still_falling:
        return _no_lr("default", f"the loss was still falling at the highest LR tested ({_g(c.lrs[-1])}), so "
                                 "where training turns unstable is not known: raise end_lr")
    lo, hi = _floor(c)
    # Where the loss stops improving: two estimates of the same edge, averaged in log-LR (the argmin of a noisy
    # curve and the top of its floor, where the loss climbs out of it, each move with the batch order).
    edge = 10 ** ((c.u[c.i_min] + c.u[hi]) / 2)
    i_edge = c.nearest(edge)
    spd = _steps_per_decade(c.u, max(0, i_edge - 2), min(c.u.size - 1, i_edge + 2))  # two steps either side
    factor = default_factor(spd) / (AFTER_NO_FALL_FACTOR if after_no_fall else 1.0)
    lr = edge / factor
    if lr < c.lrs[0]:
        return _no_lr("default", f"the loss stops improving around lr={_g(edge)}, less than {factor:.3g}x "
                                 f"above start_lr={_g(c.lrs[0])}: lower start_lr")
    mn = _minimum(c)
    # The interval: both estimates of the edge / factor, but at least a factor SEED_SPREAD around the suggestion
    # either way (one range test's suggestion moves about that much with the batch order).
    interval = (min(c.lr_min / factor, lr / SEED_SPREAD), max(float(c.lrs[hi]) / factor, lr * SEED_SPREAD))
    s = _make(c, "default", c.nearest(lr), lr, interval,
              f"1/{factor:.3g} of where the loss stops improving (lr={_g(edge)}: midway in log-LR between the "
              f"loss minimum at lr={_g(c.lr_min)} and the top of the loss floor at lr={_g(c.lrs[hi])}, where the loss "
              f"rises beyond {FLOOR_FRACTION:.0%} of its total drop {c.drop:.3g} above the minimum; the divisor is "
              f"{DEFAULT_FACTOR:g} for {REFERENCE_STEPS_PER_DECADE:.3g} LR steps per decade, here {spd:.3g}"
              + (f", and {AFTER_NO_FALL_FACTOR:g}x smaller because the test before this one learned nothing: such a "
                 "model learns only close to where it turns unstable" if after_no_fall else "") + ")",
              edge_lr=float(edge), floor_low=float(c.lrs[lo]), floor_high=float(c.lrs[hi]), factor=factor,
              steps_per_decade=spd, **({"after_no_fall_factor": AFTER_NO_FALL_FACTOR} if after_no_fall else {}),
              **({"minimum_lr": mn.lr} if mn.ok else {}))
    lo_spd, hi_spd = CALIBRATED_STEPS_PER_DECADE
    if not lo_spd <= spd <= hi_spd:
        s = replace(s, caveats=(*s.caveats, (
            f"the LR rose {spd:.3g} steps per decade near lr={_g(edge)}; the divisor was calibrated for {lo_spd:g} to "
            f"{hi_spd:g} (num_iter 50 to 400 over 8 decades) and is taken at {_g(min(max(spd, lo_spd), hi_spd))}")))
    if mn.ok:
        s = replace(s, evidence=f"{s.evidence}; the argmin rule (minimum) suggests {_g(mn.lr)}")
    return s


@register_suggester("steepest")
def steepest(lrs: np.ndarray, losses: np.ndarray, *, smoother: str = DEFAULT_SMOOTHER,
             window: int | None = None) -> Suggestion:
    """LR where the smoothed loss falls fastest per decade of LR, looking only below the loss minimum.

    The interval is the stretch around it where the loss falls at least half as fast. The default smoothing window
    is twice the usual one (about 1/10 of the curve), since a slope amplifies noise.

    Examples:
      >>> import numpy as np
      >>> [float(f"{x:.3g}") for x in steepest(np.logspace(-5, 0, 6), [10.0, 8.0, 4.0, 1.0, 4.0, 16.0]).interval]
      [1e-05, 0.001]
    """
    return _steepest(_analyse(lrs, losses, smoother, window, slopes=True))


@register_suggester("valley")
def valley(lrs: np.ndarray, losses: np.ndarray, *, smoother: str = DEFAULT_SMOOTHER,
           window: int | None = None) -> Suggestion:
    """Middle (in log-LR) of the longest stretch over which the smoothed loss keeps falling (rises within noise
    allowed), before the loss minimum; the interval is the middle third of that stretch.

    Examples:
      >>> import numpy as np
      >>> valley(np.logspace(-5, 0, 6), [10.0, 8.0, 4.0, 1.0, 4.0, 16.0]).lr   # stretch 1e-5..1e-2
      0.0001
    """
    return _valley(_analyse(lrs, losses, smoother, window, slopes=True))


@register_suggester("minimum")
def minimum(lrs: np.ndarray, losses: np.ndarray, *, smoother: str = DEFAULT_SMOOTHER,
            window: int | None = None, factor: float = MIN_FACTOR) -> Suggestion:
    """LR at the smoothed loss minimum divided by ``factor`` (10); the interval is the bottom of the curve (where
    the loss is within noise of its minimum) divided by ``factor``.

    Examples:
      >>> import numpy as np
      >>> minimum(np.logspace(-5, 0, 6), [10.0, 8.0, 4.0, 1.0, 4.0, 16.0]).lr
      0.001
    """
    if not (isinstance(factor, (int, float)) and factor >= 1 and math.isfinite(factor)):
        raise ValueError(f"factor must be a finite number >= 1, got factor={factor!r}")
    return _minimum(_analyse(lrs, losses, smoother, window), float(factor))


@register_suggester("default")
def default(lrs: np.ndarray, losses: np.ndarray, *, smoother: str = DEFAULT_SMOOTHER,
            window: int | None = None, after_no_fall: bool = False) -> Suggestion:
    """lrfinder's default suggestion: about 1/16 (1.2 decades below) of the LR where the loss stops improving.

    That LR (the *edge*) is the geometric mean of two estimates of it: the LR at the smoothed loss minimum and the
    top of the loss curve's *floor* (the last LR, going up from the minimum, where the loss is still within 10% of
    its total drop, or twice the noise, of the minimum). Each moves with the batch order; their mean moves less, and
    the edge is what matters (the low end of the floor depends on how slowly the descent levels off). In the
    suggestion-quality benchmark 1/16 of the edge landed in the good band of an LR sweep more often, and moved less
    between seeds, than the steepest point, the argmin / 10 or the centre of the floor (see
    ``docs/benchmarks.md``). 16 is the divisor for the classic ramp, 100 steps over 8 decades; a slower ramp gives
    the model more steps at each LR, so the loss stops improving at a lower LR and the divisor is smaller: it scales
    with ``1 / sqrt(steps per decade)`` (:func:`default_factor`: 8 for 400 steps over 8 decades). The interval is
    both estimates of the edge divided by the divisor, widened to at least 1.6x either side of the suggestion (how
    much one range test moves with the batch order); the evidence also quotes what the plain argmin rule
    (``minimum``) suggests. ``after_no_fall=True`` is for a range test run because the one before it learned nothing
    (``find_lr(..., retries=1)`` sets it for its retry): the divisor is ``AFTER_NO_FALL_FACTOR`` (1.5) times
    smaller.

    Examples:
      >>> import numpy as np
      >>> def parabola(lrs):   # in log-LR, minimum at 1e-2
      ...     return 1.0 + (np.log10(lrs) + 2.0) ** 2 / 4
      >>> lrs = np.logspace(-7, 1, 100)   # the classic ramp: 100 steps over 8 decades
      >>> s = default(lrs, parabola(lrs))
      >>> f"{s.details['edge_lr']:.2g}", round(s.details["factor"], 2), f"{s.lr:.2g}"
      ('0.06', 16.0, '0.0037')
      >>> lrs = np.logspace(-7, 1, 400)   # 4x slower: the divisor halves
      >>> s = default(lrs, parabola(lrs))
      >>> f"{s.details['edge_lr']:.2g}", round(s.details["factor"], 2), f"{s.lr:.2g}"
      ('0.061', 7.97, '0.0076')
      >>> f"{default(lrs, parabola(lrs), after_no_fall=True).lr:.2g}"   # a retry after a test that learned nothing
      '0.011'
    """
    if not isinstance(after_no_fall, bool):
        raise TypeError(f"after_no_fall must be True or False, got after_no_fall={after_no_fall!r}")
    return _default(_analyse(lrs, losses, smoother, window), after_no_fall)


def cyclic_bounds(lrs: Sequence[float] | np.ndarray, losses: Sequence[float] | np.ndarray, *,
                  smoother: str = DEFAULT_SMOOTHER, window: int | None = None) -> CyclicBounds:
    """Min and max LR for a cyclical (``CyclicLR``) or one-cycle (``OneCycleLR``) schedule.

    Rule: ``max_lr`` = the LR at the smoothed loss minimum / 3 (half a decade below where training turns unstable,
    still on the falling side); ``min_lr`` = the LR where the loss starts to fall (10% of its drop reached), kept
    between ``max_lr / 25`` (``OneCycleLR``'s default ``div_factor``) and ``max_lr / 4``.

    Examples:
      >>> import numpy as np
      >>> b = cyclic_bounds(np.logspace(-5, 0, 6), [10.0, 9.5, 4.0, 1.0, 4.0, 16.0])
      >>> round(b.max_lr, 6), round(b.min_lr, 6)
      (0.003333, 0.000833)
    """
    c = _analyse(lrs, losses, smoother, window)
    rule = ("max_lr = LR at the loss minimum / 3; min_lr = LR where the loss starts to fall, kept within "
            "max_lr/25..max_lr/4")
    if c.problem is None and c.still_falling:
        c = _Curve(lrs=c.lrs, losses=c.losses, smoother=smoother, problem=(
            f"the loss was still falling at the highest LR tested ({_g(c.lrs[-1])}): raise end_lr"))
    if c.problem is not None:
        return CyclicBounds(None, None, rule, "", c.problem)
    max_lr = c.lr_min / 3.0
    start = c.loss_min + c.drop  # the starting level
    fell = np.flatnonzero(c.sm[: c.i_min + 1] <= start - 0.1 * c.drop)
    onset = float(c.lrs[fell[0]]) if fell.size else float(c.lrs[0])
    min_lr = float(np.clip(onset, max_lr / 25.0, max_lr / 4.0))
    evidence = (f"loss minimum {c.loss_min:.3g} at lr={_g(c.lr_min)}; the loss starts to fall at lr={_g(onset)} "
                f"(smoother: {c.smoother})")
    return CyclicBounds(min_lr, max_lr, rule, evidence, None)
