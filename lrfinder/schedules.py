"""LR schedules from a range-test finding: torch's own schedulers, configured, plus their closed forms.

Every builder has the signature ``builder(optimizer, lr, total_steps, **options) -> torch LRScheduler`` and returns
one of torch's schedulers (``OneCycleLR``, ``SequentialLR`` of ``LinearLR`` + ``CosineAnnealingLR``, ``StepLR``,
``ExponentialLR``, ``PolynomialLR``, ``LinearLR``, ``LambdaLR``): lrfinder writes no scheduler class. ``lr`` is the
peak (or initial) LR of the first param group and may be:

- a :class:`~lrfinder.records.RangeTestResult`: its default suggestion, every group keeping the LR ratio it had in
  the range test (or, if the test ran with one group, the ratio it has in ``optimizer`` now);
- a number: the first group's LR; the other groups keep their current ratio to the first group;
- a sequence: one LR per param group;
- ``None``: the LRs the optimizer holds now.

The builder writes those LRs into ``optimizer`` (``lr`` and ``initial_lr`` of every group) before creating the
scheduler. Time ``t`` is the number of ``scheduler.step()`` calls so far: the LR used for update ``t + 1``. Call
``scheduler.step()`` once per optimizer step (or once per epoch, with ``total_steps`` counted in epochs).

The closed forms (``one_cycle_lr``, ``warmup_cosine_lr``, ...) are pure functions of ``t``: previews, tests and
what-if questions need no optimizer.

Examples:
  >>> import torch
  >>> opt = torch.optim.SGD(torch.nn.Linear(2, 1).parameters(), lr=0.0, momentum=0.9)
  >>> sched = warmup_cosine(opt, 0.1, total_steps=100, warmup_steps=10)
  >>> type(sched).__name__, opt.param_groups[0]["lr"]
  ('SequentialLR', 0.001)
  >>> round(warmup_cosine_lr(55, 0.1, 100, warmup_steps=10), 6)
  0.05
"""

from __future__ import annotations

import functools
import math
from bisect import bisect_right
from collections.abc import Callable, Mapping, Sequence
from numbers import Real
from typing import Any, Union

import numpy as np
import torch
from torch.optim import lr_scheduler as _lrs

from ._checks import fraction, int_at_least, positive
from .records import RangeTestResult

__all__ = [
    "SCHEDULES",
    "LRSpec",
    "build_schedule",
    "exponential",
    "exponential_lr",
    "group_lrs",
    "inverse_sqrt",
    "inverse_sqrt_lr",
    "linear",
    "linear_lr",
    "one_cycle",
    "one_cycle_lr",
    "plot_schedule",
    "polynomial",
    "polynomial_lr",
    "schedule_lrs",
    "step_decay",
    "step_decay_lr",
    "warmup_cosine",
    "warmup_cosine_lr",
    "warmup_lr",
    "with_warmup",
]

#: What a builder accepts as ``lr`` (see the module docstring).
LRSpec = Union[RangeTestResult, Real, Sequence[Real], None]
Scheduler = _lrs.LRScheduler

#: Default share of ``total_steps`` spent warming up in :func:`warmup_cosine`.
DEFAULT_WARMUP_FRACTION = 0.05
#: Default first warmup LR, as a fraction of the peak (torch's ``LinearLR`` needs a start factor > 0).
DEFAULT_WARMUP_START = 0.01


# -- validation ------------------------------------------------------------------------------------------------
def _step(t: Any) -> int:
    return int_at_least(t, "step", 0)


# -- LRs per param group -------------------------------------------------------------------------------------------
def _current_lrs(optimizer: torch.optim.Optimizer) -> tuple[float, ...]:
    return tuple(float(g["lr"]) for g in optimizer.param_groups)


def group_lrs(optimizer: torch.optim.Optimizer, lr: LRSpec = None) -> tuple[float, ...]:
    """The LR of every param group of ``optimizer`` for ``lr`` (see the module docstring), group ratios kept.

    Examples:
      >>> import torch
      >>> a, b = torch.nn.Parameter(torch.zeros(1)), torch.nn.Parameter(torch.zeros(1))
      >>> opt = torch.optim.SGD([{"params": [a], "lr": 1e-2}, {"params": [b], "lr": 1e-3}])
      >>> group_lrs(opt, 0.5)
      (0.5, 0.05)
    """
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"optimizer must be a torch.optim.Optimizer, got {type(optimizer).__name__}")
    current = _current_lrs(optimizer)
    n = len(current)
    if lr is None:
        if not all(math.isfinite(v) and v > 0 for v in current):
            raise ValueError(f"lr=None uses the optimizer's LRs, which must be > 0; got {list(current)}")
        return current
    if isinstance(lr, RangeTestResult):
        s = lr.suggestion
        if s.lr is None:
            raise ValueError(f"lr: the range test gave no suggestion ({s.reason}); pass an LR explicitly")
        ratios = lr.group_lr_ratios
        if len(ratios) == 1 and n > 1:
            return group_lrs(optimizer, s.lr)
        if len(ratios) != n:
            raise ValueError(
                f"lr: the range test ran with {len(ratios)} param groups but the optimizer has {n}; "
                "pass one LR per group instead"
            )
        return tuple(s.lr * r for r in ratios)
    if isinstance(lr, Real) and not isinstance(lr, bool):
        base = positive(lr, "lr")
        if n == 1:
            return (base,)
        if not current[0] > 0:
            raise ValueError(
                "lr: to keep the param groups' LR ratios the first group's current LR must be > 0, "
                f"got {current[0]!r}; pass one LR per group instead"
            )
        return tuple(base * v / current[0] for v in current)
    if isinstance(lr, Sequence) and not isinstance(lr, str):
        if len(lr) != n:
            raise ValueError(f"lr must hold one LR per param group ({n}), got {len(lr)} values: {list(lr)!r}")
        return tuple(positive(v, f"lr[{i}]") for i, v in enumerate(lr))
    raise TypeError(f"lr must be a RangeTestResult, a number, one number per param group or None, got {lr!r}")


def _apply(optimizer: torch.optim.Optimizer, lr: LRSpec) -> tuple[float, ...]:
    lrs = group_lrs(optimizer, lr)
    for group, value in zip(optimizer.param_groups, lrs):
        if isinstance(group["lr"], torch.Tensor):
            group["lr"].fill_(value)
        else:
            group["lr"] = value
        group["initial_lr"] = value  # torch only sets it when missing: a previous scheduler's value must not win
    return lrs


# -- closed forms ------------------------------------------------------------------------------------------------
def _cos_anneal(start: float, end: float, frac: float) -> float:
    return end + (start - end) * (1.0 + math.cos(math.pi * frac)) / 2.0


def one_cycle_lr(
    t: int,
    max_lr: float,
    total_steps: int,
    *,
    pct_start: float = 0.3,
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
    anneal_strategy: str = "cos",
    three_phase: bool = False,
) -> float:
    """LR of the one-cycle policy at step ``t``: up from ``max_lr / div_factor`` to ``max_lr`` over the first
    ``pct_start`` of the steps, then down to ``max_lr / (div_factor * final_div_factor)`` at ``total_steps - 1``.
    ``three_phase`` goes back to the start LR symmetrically before the final annealing.

    Examples:
      >>> [round(one_cycle_lr(t, 1.0, 100, pct_start=0.5, div_factor=10.0), 6) for t in (0, 49, 99)]
      [0.1, 1.0, 1e-05]
    """
    start = max_lr / div_factor
    low = start / final_div_factor
    up_end = pct_start * total_steps - 1
    if three_phase:
        phases = [(up_end, start, max_lr), (2 * pct_start * total_steps - 2, max_lr, start), (total_steps - 1, start, low)]
    else:
        phases = [(up_end, start, max_lr), (total_steps - 1, max_lr, low)]
    begin = 0.0
    for i, (end_step, a, b) in enumerate(phases):
        if t <= end_step or i == len(phases) - 1:
            frac = (t - begin) / (end_step - begin)
            return _cos_anneal(a, b, frac) if anneal_strategy == "cos" else a + (b - a) * frac
        begin = end_step
    raise AssertionError("unreachable")  # pragma: no cover


def warmup_lr(t: int, lr: float, warmup_steps: int, start_factor: float = DEFAULT_WARMUP_START) -> float:
    """LR during a linear warmup: ``lr * start_factor`` at ``t = 0``, rising linearly to ``lr`` at
    ``t = warmup_steps``.

    Examples:
      >>> warmup_lr(5, 1.0, 10, start_factor=0.0)
      0.5
    """
    frac = min(_step(t), warmup_steps) / warmup_steps if warmup_steps > 0 else 1.0
    return lr * (start_factor + (1.0 - start_factor) * frac)


def warmup_cosine_lr(
    t: int,
    lr: float,
    total_steps: int,
    *,
    warmup_steps: int = 0,
    start_factor: float = DEFAULT_WARMUP_START,
    min_lr: float = 0.0,
) -> float:
    """Linear warmup over ``warmup_steps``, then cosine from ``lr`` down to ``min_lr`` at ``t = total_steps``.

    Examples:
      >>> warmup_cosine_lr(0, 1.0, 10)
      1.0
      >>> round(warmup_cosine_lr(10, 1.0, 10), 12)
      0.0
    """
    if _step(t) < warmup_steps:
        return warmup_lr(t, lr, warmup_steps, start_factor)
    return _cos_anneal(lr, min_lr, (t - warmup_steps) / (total_steps - warmup_steps))


def step_decay_lr(t: int, lr: float, step_size: int | None = None, gamma: float = 0.5, milestones=None) -> float:
    """``lr * gamma ** floor(t / step_size)`` ("halve every ``step_size`` steps"), or with ``milestones``
    ``lr * gamma ** (number of milestones <= t)``.

    Examples:
      >>> step_decay_lr(25, 1.0, 10)
      0.25
      >>> step_decay_lr(25, 1.0, milestones=[5, 20, 30], gamma=0.1)
      0.010000000000000002
    """
    k = bisect_right(sorted(milestones), _step(t)) if milestones is not None else t // step_size
    return lr * gamma**k


def exponential_lr(t: int, lr: float, decay_rate: float, decay_steps: int = 1, staircase: bool = False) -> float:
    """``lr * decay_rate ** (t / decay_steps)``; ``staircase`` floors the exponent.

    Examples:
      >>> exponential_lr(15, 1.0, 0.5, decay_steps=10)
      0.3535533905932738
      >>> exponential_lr(15, 1.0, 0.5, decay_steps=10, staircase=True)
      0.5
    """
    exponent = _step(t) // decay_steps if staircase else t / decay_steps
    return lr * decay_rate**exponent


def polynomial_lr(t: int, lr: float, total_steps: int, power: float = 1.0) -> float:
    """``lr * (1 - min(t, T) / T) ** power``: reaches 0 at ``t = total_steps`` and stays there.

    Examples:
      >>> polynomial_lr(5, 1.0, 10, power=2.0)
      0.25
    """
    return lr * (1.0 - min(_step(t), total_steps) / total_steps) ** power


def linear_lr(t: int, lr: float, total_steps: int, start_factor: float = 1.0, end_factor: float = 0.0) -> float:
    """``lr`` times a factor going linearly from ``start_factor`` (``t = 0``) to ``end_factor``
    (``t >= total_steps``).

    Examples:
      >>> linear_lr(3, 1.0, 4)
      0.25
    """
    return lr * (start_factor + (end_factor - start_factor) * min(_step(t), total_steps) / total_steps)


def inverse_sqrt_lr(t: int, lr: float, warmup_steps: int) -> float:
    """Inverse square root with linear warmup: ``lr * min(1, s / w) * sqrt(w / max(s, w))`` with ``s = t + 1`` (the
    1-based number of the update), so the first update uses ``lr / w``, update ``w`` uses ``lr``, update ``4w`` uses
    ``lr / 2``.

    Examples:
      >>> inverse_sqrt_lr(0, 1.0, 4), inverse_sqrt_lr(3, 1.0, 4), inverse_sqrt_lr(15, 1.0, 4)
      (0.25, 1.0, 0.5)
    """
    s = _step(t) + 1
    return lr * min(1.0, s / warmup_steps) * math.sqrt(warmup_steps / max(s, warmup_steps))


# LambdaLR multipliers: partials of module-level functions, so schedulers pickle and deepcopy.
def _exp_factor(t: int, decay_rate: float, decay_steps: int, staircase: bool) -> float:
    return exponential_lr(t, 1.0, decay_rate, decay_steps, staircase)


def _inv_sqrt_factor(t: int, warmup_steps: int) -> float:
    return inverse_sqrt_lr(t, 1.0, warmup_steps)


# -- builders ----------------------------------------------------------------------------------------------------
def one_cycle(
    optimizer: torch.optim.Optimizer,
    lr: LRSpec,
    total_steps: int,
    *,
    pct_start: float = 0.3,
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
    anneal_strategy: str = "cos",
    three_phase: bool = False,
    cycle_momentum: bool | None = None,
) -> _lrs.OneCycleLR:
    """torch's ``OneCycleLR`` peaking at ``lr`` (from a range test: the suggested LR) after ``pct_start`` of
    ``total_steps``. ``cycle_momentum=None`` cycles momentum (or Adam's beta1) only when the optimizer has some: torch
    then overwrites the groups' momentum. Closed form: :func:`one_cycle_lr`.

    Examples:
      >>> import torch
      >>> opt = torch.optim.AdamW(torch.nn.Linear(2, 1).parameters())
      >>> s = one_cycle(opt, 3e-3, total_steps=1000)
      >>> round(opt.param_groups[0]["lr"], 8)
      0.00012
    """
    total_steps = int_at_least(total_steps, "total_steps", 2)
    pct_start = fraction(pct_start, "pct_start", open_low=True, open_high=True)
    positive(div_factor, "div_factor")
    positive(final_div_factor, "final_div_factor")
    if anneal_strategy not in ("cos", "linear"):
        raise ValueError(f"anneal_strategy must be 'cos' or 'linear', got anneal_strategy={anneal_strategy!r}")
    if three_phase and not pct_start < 0.5:
        raise ValueError(f"three_phase needs pct_start < 0.5, got pct_start={pct_start!r}")
    lrs = _apply(optimizer, lr)
    if cycle_momentum is None:
        g = optimizer.param_groups[0]
        cycle_momentum = "betas" in optimizer.defaults or bool(g.get("momentum", 0.0))
    return _lrs.OneCycleLR(
        optimizer,
        max_lr=list(lrs),
        total_steps=total_steps,
        pct_start=pct_start,
        anneal_strategy=anneal_strategy,
        div_factor=float(div_factor),
        final_div_factor=float(final_div_factor),
        three_phase=bool(three_phase),
        cycle_momentum=bool(cycle_momentum),
    )


def with_warmup(
    optimizer: torch.optim.Optimizer,
    scheduler: Scheduler,
    warmup_steps: int,
    *,
    start_factor: float = DEFAULT_WARMUP_START,
) -> _lrs.SequentialLR:
    """Prepend a linear warmup (torch ``LinearLR`` from ``start_factor`` to 1 over ``warmup_steps``) to
    ``scheduler``, which starts its own step 0 when the warmup ends: a ``SequentialLR``. Build ``scheduler`` on
    ``optimizer`` first. ``OneCycleLR`` is refused: it has its own warmup (``pct_start``).

    Examples:
      >>> import torch
      >>> opt = torch.optim.SGD(torch.nn.Linear(2, 1).parameters(), lr=0.1)
      >>> s = with_warmup(opt, step_decay(opt, None, 100, step_size=30), warmup_steps=10)
      >>> round(opt.param_groups[0]["lr"], 6)
      0.001
    """
    warmup_steps = int_at_least(warmup_steps, "warmup_steps", 1)
    start_factor = fraction(start_factor, "start_factor", open_low=True)
    if not isinstance(scheduler, Scheduler):
        raise TypeError(f"scheduler must be a torch LR scheduler, got {type(scheduler).__name__}")
    if isinstance(scheduler, _lrs.OneCycleLR):
        raise ValueError("scheduler: OneCycleLR already warms up (pct_start); it cannot be wrapped in a warmup")
    if scheduler.optimizer is not optimizer:
        raise ValueError("scheduler must be built on the same optimizer as the warmup")
    ramp = _lrs.LinearLR(optimizer, start_factor=start_factor, end_factor=1.0, total_iters=warmup_steps)
    return _lrs.SequentialLR(optimizer, [ramp, scheduler], milestones=[warmup_steps])


def warmup_cosine(
    optimizer: torch.optim.Optimizer,
    lr: LRSpec,
    total_steps: int,
    *,
    warmup_steps: int | None = None,
    start_factor: float = DEFAULT_WARMUP_START,
    min_lr: float = 0.0,
) -> Scheduler:
    """Linear warmup to ``lr`` over ``warmup_steps`` (default 5% of ``total_steps``), then cosine annealing to
    ``min_lr`` (absolute, the same for every group, as torch's ``eta_min``) at ``total_steps``: ``LinearLR`` +
    ``CosineAnnealingLR`` in a ``SequentialLR`` (a bare ``CosineAnnealingLR`` when ``warmup_steps=0``). Closed form:
    :func:`warmup_cosine_lr`."""
    total_steps = int_at_least(total_steps, "total_steps", 1)
    if warmup_steps is None:
        warmup_steps = max(1, round(DEFAULT_WARMUP_FRACTION * total_steps)) if total_steps > 1 else 0
    warmup_steps = int_at_least(warmup_steps, "warmup_steps", 0)
    if warmup_steps >= total_steps:
        raise ValueError(
            f"warmup_steps must be < total_steps, got warmup_steps={warmup_steps!r}, total_steps={total_steps!r}"
        )
    if isinstance(min_lr, bool) or not isinstance(min_lr, Real) or not (math.isfinite(min_lr) and min_lr >= 0):
        raise ValueError(f"min_lr must be a finite number >= 0, got min_lr={min_lr!r}")
    _apply(optimizer, lr)
    cosine = _lrs.CosineAnnealingLR(optimizer, T_max=total_steps - warmup_steps, eta_min=float(min_lr))
    if warmup_steps == 0:
        return cosine
    return with_warmup(optimizer, cosine, warmup_steps, start_factor=start_factor)


def step_decay(
    optimizer: torch.optim.Optimizer,
    lr: LRSpec,
    total_steps: int,
    *,
    step_size: int | None = None,
    gamma: float = 0.5,
    milestones: Sequence[int] | None = None,
) -> Scheduler:
    """Multiply the LR by ``gamma`` every ``step_size`` steps (torch ``StepLR``; default: halve every quarter of
    ``total_steps``), or at each of ``milestones`` (``MultiStepLR``). Closed form: :func:`step_decay_lr`."""
    total_steps = int_at_least(total_steps, "total_steps", 1)
    fraction(gamma, "gamma", open_low=True)
    if milestones is not None:
        if step_size is not None:
            raise ValueError("pass step_size or milestones, not both")
        ms = [int_at_least(m, "milestones[i]", 1) for m in milestones]
        if ms != sorted(set(ms)):
            raise ValueError(f"milestones must be strictly increasing, got milestones={list(milestones)!r}")
        _apply(optimizer, lr)
        return _lrs.MultiStepLR(optimizer, milestones=ms, gamma=float(gamma))
    if step_size is None:
        step_size = max(1, total_steps // 4)
    step_size = int_at_least(step_size, "step_size", 1)
    _apply(optimizer, lr)
    return _lrs.StepLR(optimizer, step_size=step_size, gamma=float(gamma))


def exponential(
    optimizer: torch.optim.Optimizer,
    lr: LRSpec,
    total_steps: int,
    *,
    decay_rate: float | None = None,
    decay_steps: int = 1,
    staircase: bool = False,
    final_ratio: float = 0.01,
) -> Scheduler:
    """``lr * decay_rate ** (t / decay_steps)``; default ``decay_rate`` reaches ``final_ratio * lr`` at
    ``total_steps``. Per step: torch ``ExponentialLR``; with ``decay_steps > 1`` or ``staircase`` (floored exponent):
    ``LambdaLR``. Closed form: :func:`exponential_lr`."""
    total_steps = int_at_least(total_steps, "total_steps", 1)
    decay_steps = int_at_least(decay_steps, "decay_steps", 1)
    if decay_rate is None:
        fraction(final_ratio, "final_ratio", open_low=True, open_high=True)
        decay_rate = final_ratio ** (decay_steps / total_steps)
    decay_rate = fraction(decay_rate, "decay_rate", open_low=True)
    _apply(optimizer, lr)
    if decay_steps == 1 and not staircase:
        return _lrs.ExponentialLR(optimizer, gamma=decay_rate)
    factor = functools.partial(_exp_factor, decay_rate=decay_rate, decay_steps=decay_steps, staircase=bool(staircase))
    return _lrs.LambdaLR(optimizer, factor)


def polynomial(optimizer: torch.optim.Optimizer, lr: LRSpec, total_steps: int, *, power: float = 1.0) -> Scheduler:
    """torch ``PolynomialLR``: ``lr * (1 - t / total_steps) ** power``, 0 from ``total_steps`` on. Closed form:
    :func:`polynomial_lr`."""
    total_steps = int_at_least(total_steps, "total_steps", 1)
    power = positive(power, "power")
    _apply(optimizer, lr)
    return _lrs.PolynomialLR(optimizer, total_iters=total_steps, power=power)


def linear(
    optimizer: torch.optim.Optimizer,
    lr: LRSpec,
    total_steps: int,
    *,
    start_factor: float = 1.0,
    end_factor: float = 0.0,
) -> Scheduler:
    """torch ``LinearLR``: the LR goes linearly from ``lr * start_factor`` to ``lr * end_factor`` over
    ``total_steps`` (both factors in [0, 1], start > 0, as torch requires). Closed form: :func:`linear_lr`."""
    total_steps = int_at_least(total_steps, "total_steps", 1)
    start_factor = fraction(start_factor, "start_factor", open_low=True)
    end_factor = fraction(end_factor, "end_factor")
    _apply(optimizer, lr)
    return _lrs.LinearLR(optimizer, start_factor=start_factor, end_factor=end_factor, total_iters=total_steps)


def inverse_sqrt(
    optimizer: torch.optim.Optimizer, lr: LRSpec, total_steps: int, *, warmup_steps: int | None = None
) -> Scheduler:
    """Inverse square root decay after a linear warmup (transformers), a ``LambdaLR``; ``warmup_steps`` defaults to
    5% of ``total_steps`` (the decay itself does not depend on ``total_steps``). Closed form:
    :func:`inverse_sqrt_lr`."""
    total_steps = int_at_least(total_steps, "total_steps", 1)
    if warmup_steps is None:
        warmup_steps = max(1, round(DEFAULT_WARMUP_FRACTION * total_steps))
    warmup_steps = int_at_least(warmup_steps, "warmup_steps", 1)
    _apply(optimizer, lr)
    return _lrs.LambdaLR(optimizer, functools.partial(_inv_sqrt_factor, warmup_steps=warmup_steps))


#: Builders by name; each is ``builder(optimizer, lr, total_steps, **options)``.
SCHEDULES: dict[str, Callable[..., Scheduler]] = {
    "one_cycle": one_cycle,
    "warmup_cosine": warmup_cosine,
    "step_decay": step_decay,
    "exponential": exponential,
    "polynomial": polynomial,
    "linear": linear,
    "inverse_sqrt": inverse_sqrt,
}


def build_schedule(
    name: str, optimizer: torch.optim.Optimizer, lr: LRSpec, total_steps: int, **options: Any
) -> Scheduler:
    """The builder registered as ``name`` in :data:`SCHEDULES`, called with the other arguments.

    Examples:
      >>> import torch
      >>> opt = torch.optim.SGD(torch.nn.Linear(2, 1).parameters(), lr=0.1)
      >>> type(build_schedule("polynomial", opt, None, 100, power=2.0)).__name__
      'PolynomialLR'
    """
    try:
        builder = SCHEDULES[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown schedule {name!r}; known: {sorted(SCHEDULES)}") from None
    return builder(optimizer, lr, total_steps, **options)


# -- previews ----------------------------------------------------------------------------------------------------
ScheduleLike = Union[str, Callable[[torch.optim.Optimizer], Scheduler]]


def _ratios_of(lr: LRSpec) -> tuple[float, tuple[float, ...]]:
    """(first-group LR, group ratios) for a preview; a bare ``None`` previews a relative schedule (base LR 1)."""
    if lr is None:
        return 1.0, (1.0,)
    if isinstance(lr, RangeTestResult):
        s = lr.suggestion
        if s.lr is None:
            raise ValueError(f"lr: the range test gave no suggestion ({s.reason}); pass an LR explicitly")
        return float(s.lr), lr.group_lr_ratios
    if isinstance(lr, Real) and not isinstance(lr, bool):
        return positive(lr, "lr"), (1.0,)
    if isinstance(lr, Sequence) and not isinstance(lr, str) and len(lr) > 0:
        first = positive(lr[0], "lr[0]")
        return first, tuple(positive(v, f"lr[{i}]") / first for i, v in enumerate(lr))
    raise TypeError(f"lr must be a RangeTestResult, a number, one number per param group or None, got {lr!r}")


def schedule_lrs(schedule: ScheduleLike, total_steps: int, *, lr: LRSpec = None, group: int | None = 0) -> np.ndarray:
    """Run ``schedule`` for ``total_steps`` on a throwaway optimizer (SGD, momentum 0.9, one dummy parameter per
    group) and return the LR at every step ``t = 0 .. total_steps - 1``: of param group ``group``, or an array of
    shape ``(total_steps, groups)`` with ``group=None``.

    ``schedule`` is a name in :data:`SCHEDULES` (built with its defaults) or ``make(optimizer) -> scheduler``.

    Examples:
      >>> schedule_lrs("step_decay", 8, lr=1.0).tolist()
      [1.0, 1.0, 0.5, 0.5, 0.25, 0.25, 0.125, 0.125]
    """
    total_steps = int_at_least(total_steps, "total_steps", 1)
    first, ratios = _ratios_of(lr)
    groups = [{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": first * r} for r in ratios]
    optimizer = torch.optim.SGD(groups, lr=first, momentum=0.9)
    if isinstance(schedule, str):
        if schedule not in SCHEDULES:
            raise ValueError(f"unknown schedule {schedule!r}; known: {sorted(SCHEDULES)}")
        scheduler = SCHEDULES[schedule](optimizer, None, total_steps)
    elif callable(schedule):
        scheduler = schedule(optimizer)
        if not isinstance(scheduler, Scheduler):
            raise TypeError(f"schedule must return a torch LR scheduler, got {type(scheduler).__name__}")
    else:
        raise TypeError(f"schedule must be a schedule name or make(optimizer) -> scheduler, got {schedule!r}")
    out = np.empty((total_steps, len(groups)))
    for t in range(total_steps):
        out[t] = [float(g["lr"]) for g in optimizer.param_groups]
        if t < total_steps - 1:
            optimizer.step()  # no gradients: a no-op that keeps torch from warning about the call order
            scheduler.step()
    return out if group is None else out[:, group]


def plot_schedule(
    schedules: ScheduleLike | Sequence[ScheduleLike] | Mapping[str, ScheduleLike],
    total_steps: int,
    *,
    lr: LRSpec = None,
    ax=None,
    log: bool = False,
    title: str | None = None,
):
    """Preview one or several schedules (LR vs step) on one ``Axes`` and return it. Nothing real is stepped: each
    schedule runs on a throwaway optimizer (see :func:`schedule_lrs`). ``lr=None`` plots LRs relative to the base.

    Examples:
      >>> ax = plot_schedule({"one-cycle": "one_cycle", "cosine": "warmup_cosine"}, 200, lr=0.1)
      >>> [line.get_label() for line in ax.get_lines()]
      ['one-cycle', 'cosine']
    """
    from .plotting import require_matplotlib

    plt = require_matplotlib()
    if isinstance(schedules, Mapping):
        items = list(schedules.items())
    elif isinstance(schedules, str) or callable(schedules):
        items = [(_label(schedules), schedules)]
    else:
        items = [(_label(s), s) for s in schedules]
    if not items:
        raise ValueError("schedules is empty: pass at least one schedule")
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    steps = np.arange(total_steps)
    for label, schedule in items:
        ax.plot(steps, schedule_lrs(schedule, total_steps, lr=lr), lw=1.8, label=label)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("learning rate" if lr is not None else "LR / base LR")
    ax.set_title(title or f"LR schedules over {total_steps} steps", fontsize=10)
    ax.grid(True, alpha=0.25)
    ax.legend(fontsize=8)
    return ax


def _label(schedule: Any) -> str:
    if isinstance(schedule, str):
        return schedule
    inner = getattr(schedule, "func", schedule)  # functools.partial
    return getattr(inner, "__name__", type(schedule).__name__)
