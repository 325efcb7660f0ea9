"""Following the advice of a declined suggestion: ``find_lr(..., retries=n)``.

When a range test's default suggestion gives no LR, its reason often names the range to try next (in
``details``: ``retry_start_lr``, and ``retry_end_lr`` / ``retry_num_iter`` where it names them; e.g. a loss that
stayed flat and then rose is retried on 5 decades below where it rose, with three times the steps per decade).
``retries=n`` does what a user would do by hand: up to ``n`` more range tests, each on the range the previous one
advised (``end_lr`` and ``num_iter`` as you gave them where the advice names none), all from the state you passed
in (the engine restores model, optimizer and RNG after each test). It stops early when a test gives an LR, names no
range, or names a range already tried. The last test is returned; the earlier ones are kept in its ``attempts``,
and its ``notes`` say what was retried and why — and, if the loss of the last test still stayed flat and then rose,
that a range test cannot read an LR off this model and data, and which constant LRs to sweep instead
(:func:`lrfinder.lr_sweep`).

A retry after a test whose loss stayed flat and then rose is marked ``config["after_no_fall"]``, and its default
suggestion is read with ``after_no_fall=True`` (1.5x higher: such a model learns only close to where it turns
unstable). ``retries=1`` is ``find_lr``'s default: in the suggestion benchmark (docs/benchmarks.md) one retry raised
the runs landing in the good band from 52% to 62%, at 139 range-test steps per run on average instead of 95 (it
costs one more range test, and only where the first one declined); ``retries=0`` runs exactly one test. More
retries added nothing there: the runs still declined after one retry were declined after three. A retry that
cannot start (a one-shot iterator the first test used up, a loss not finite at its first step) ends the retries
with a note.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from numbers import Integral
from typing import Any

from .records import RangeTestResult, Suggestion

__all__ = ["advised_range", "learned_nothing", "retry_range_test"]


def advised_range(result: RangeTestResult, start_lr: float, end_lr: float, num_iter: int
                  ) -> tuple[float, float, int] | None:
    """``(start_lr, end_lr, num_iter)`` that ``result``'s declined default suggestion advises, the given values
    standing in for what it does not name; ``None`` when it gave an LR or names no range.

    Examples:
      >>> import numpy as np
      >>> lrs = np.logspace(-7, 1, 100)
      >>> flat_then_rise = np.where(lrs < 1.0, 1.0, 1.0 + 3 * np.log10(lrs / 0.9))  # rises from lr=0.89
      >>> advised_range(RangeTestResult(lrs=lrs, losses=flat_then_rise), 1e-7, 10.0, 100)
      (8.9e-05, 8.9, 186)
      >>> rises_from_the_start = 1.0 + np.log10(lrs / 1e-7)  # advice: lower start_lr, nothing else
      >>> advised_range(RangeTestResult(lrs=lrs, losses=rises_from_the_start), 1e-7, 10.0, 100)
      (1e-10, 10.0, 100)
    """
    return _advice(result.suggestion, (float(start_lr), float(end_lr), int(num_iter)))


def learned_nothing(s: Suggestion) -> bool:
    """Whether a declined suggestion says the loss stayed flat and then rose (the only reason that advises an
    ``end_lr`` too): the model learned nothing in that range test."""
    return s.lr is None and "retry_end_lr" in s.details


def _advice(s: Suggestion, ramp: tuple[float, float, int]) -> tuple[float, float, int] | None:
    """:func:`advised_range` for a suggestion already computed; ``ramp`` is ``(start_lr, end_lr, num_iter)``."""
    if s.lr is not None or "retry_start_lr" not in s.details:
        return None
    start = float(s.details["retry_start_lr"])
    end = float(s.details.get("retry_end_lr", ramp[1]))
    steps = int(s.details.get("retry_num_iter", ramp[2]))
    if not 0 < start < end:
        return None
    return start, end, steps


def retry_range_test(run: Callable[..., RangeTestResult], kwargs: Mapping[str, Any], retries: int) -> RangeTestResult:
    """Call ``run(**kwargs, retries=0)``; while its default suggestion declines and names a range not yet tried,
    call it again on that range, at most ``retries`` more times. Returns the last result, the earlier ones in its
    ``attempts``. An exception from a retry carries ``partial_result`` with the earlier attempts attached; a retry
    that cannot start (a one-shot loader used up by the earlier tests, a non-finite loss at its step 0) ends the
    retries with a note instead, and the last test that ran is returned."""
    if isinstance(retries, bool) or not isinstance(retries, Integral) or retries < 0:
        raise ValueError(f"retries must be an integer >= 0, got retries={retries!r}")
    from .engine import LoaderExhaustedError, NonFiniteStartError

    ramp = (float(kwargs["start_lr"]), float(kwargs["end_lr"]), int(kwargs["num_iter"]))
    result = run(**kwargs, retries=0)
    suggestion = result.suggestion  # computed once per test: each is a full analysis of the curve
    earlier: list[RangeTestResult] = []
    notes: list[str] = []
    tried = {ramp}
    for attempt in range(1, int(retries) + 1):
        advice = _advice(suggestion, ramp)
        if advice is None or advice in tried:
            break
        tried.add(advice)
        why = (f"the range test on lr {ramp[0]:.2g}..{ramp[1]:.2g} in {ramp[2]} steps gave no LR "
               f"({suggestion.reason})")
        try:
            retried = run(**{**kwargs, "start_lr": advice[0], "end_lr": advice[1], "num_iter": advice[2]}, retries=0)
        except (LoaderExhaustedError, NonFiniteStartError) as exc:  # state restored by the engine
            cause = ("the loader yielded no more batches (a one-shot iterator, used up by the earlier test): pass a "
                     "DataLoader, or run find_lr on that range with fresh batches"
                     if isinstance(exc, LoaderExhaustedError) else
                     "its loss was not finite at step 0, before any update (the model or the data gave NaN/inf "
                     "after the earlier test): check them before running find_lr on that range")
            notes.append(f"retry {attempt} on lr {advice[0]:.2g}..{advice[1]:.2g} in {advice[2]} steps, advised "
                         f"because {why}, did not run: {cause}; the earlier test is returned")
            break
        except BaseException as exc:
            partial = getattr(exc, "partial_result", None)
            if isinstance(partial, RangeTestResult):
                exc.partial_result = replace(partial, attempts=(*earlier, result))  # type: ignore[attr-defined]
            raise
        if learned_nothing(suggestion):  # the retry's suggestion is read 1.5x higher (suggesters.AFTER_NO_FALL_FACTOR)
            retried = replace(retried, config={**dict(retried.config), "after_no_fall": True})
        notes.append(f"retry {attempt}: {why}; ran again on lr {advice[0]:.2g}..{advice[1]:.2g} in {advice[2]} "
                     "steps, as advised (the earlier test is kept in attempts)")
        earlier.append(result)
        result, ramp = retried, advice
        suggestion = result.suggestion
    if not notes:  # nothing was retried or tried
        return result
    still = _advice(suggestion, ramp)
    if earlier and still is not None and learned_nothing(suggestion):
        notes.append(
            f"after {len(earlier) + 1} range tests the loss still did not fall: a range test gives each LR too few "
            "steps for this model to start learning, and more retries did not help in the suggestion benchmark; "
            "train a few constant LRs for longer instead, e.g. lrfinder.lr_sweep(train_fn, "
            f"lrs=lrfinder.lr_grid({still[0]:.2g}, {still[1]:.2g}, 6)) (the range the last test advises)"
        )
    return replace(result, attempts=tuple(earlier), notes=(*notes, *result.notes),
                   config={**dict(result.config), "retries": int(retries)})
