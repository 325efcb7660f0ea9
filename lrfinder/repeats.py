"""Repeated range tests: ``find_lr(..., repeats=k)`` runs k tests with different batch orders and combines them.

One range test sees each LR on a single mini-batch, so its curve (and the suggestion) moves with the batch order.
The record holds the k tests' raw losses (``repeat_losses``) and their step-wise average (``losses``, what the plot
draws); its default suggestion is the geometric mean of the k tests' own default suggestions
(:func:`combined_suggestion`), and the spread of those says how much the batch order mattered. (The average curve
stops where the first of the k tests diverged, so its own suggestion reads the earliest edge: in the suggestion
benchmark it landed in the good band less often than one test's; the mean of the k suggestions did not.)

Run 1 uses your RNG state as it is (so ``repeats=1`` is a plain range test); run ``r > 1`` reseeds torch, NumPy
and Python's ``random`` from a seed derived from that state, which reshuffles a ``shuffle=True`` DataLoader (and
redraws dropout masks). Every run restores the model and optimizer (the engine does), and the RNG state you had is
put back afterwards.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import replace
from numbers import Integral
from typing import Any

import numpy as np
import torch

from .records import RangeTestResult, Suggestion

__all__ = ["combine_repeats", "combined_suggestion", "repeat_range_test"]


def _rng_state() -> dict[str, Any]:
    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: Mapping[str, Any]) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state:
        torch.cuda.set_rng_state_all(state["cuda"])


def repeat_range_test(run: Callable[..., RangeTestResult], kwargs: Mapping[str, Any], repeats: int) -> RangeTestResult:
    """Call ``run(**kwargs, repeats=1)`` ``repeats`` times with different RNG seeds; :func:`combine_repeats` them."""
    if isinstance(repeats, bool) or not isinstance(repeats, Integral) or repeats < 1:
        raise ValueError(f"repeats must be an integer >= 1, got repeats={repeats!r}")
    saved = _rng_state()
    try:
        gen = torch.Generator()
        gen.set_state(saved["torch"])
        base = int(torch.randint(0, 2**31 - repeats, (1,), generator=gen))
        results = []
        for r in range(int(repeats)):
            if r > 0:
                torch.manual_seed(base + r)
                np.random.seed(base + r)
                random.seed(base + r)
            results.append(run(**kwargs, repeats=1))
    finally:
        _set_rng_state(saved)
    return combine_repeats(results)


def _stack(rows: list[np.ndarray], length: int) -> np.ndarray:
    out = np.full((len(rows), length), np.nan)
    for i, row in enumerate(rows):
        out[i, : row.size] = row
    return out


def _mean_where_all_finite(stack: np.ndarray) -> np.ndarray:
    ok = np.isfinite(stack).all(axis=0)
    mean = np.full(stack.shape[1], np.nan)
    mean[ok] = stack[:, ok].mean(axis=0)
    return mean


def combine_repeats(results: list[RangeTestResult]) -> RangeTestResult:
    """One record from k range tests of the same ramp: losses averaged step-wise where every test has a finite
    loss (NaN after the first test stopped), the raw losses of each test kept in ``repeat_losses``, and the spread
    of the per-test default suggestions in ``notes``.

    Examples:
      >>> a = RangeTestResult(lrs=[1e-3, 1e-2, 1e-1], losses=[2.0, 1.0, 3.0])
      >>> b = RangeTestResult(lrs=[1e-3, 1e-2], losses=[2.2, 1.4], stop_reason="diverged", stop_step=1)
      >>> r = combine_repeats([a, b])
      >>> r.losses.round(3).tolist(), r.stop_reason, r.repeat_losses.shape
      ([2.1, 1.2, nan], 'diverged', (2, 3))
    """
    if not results:
        raise ValueError("results must hold at least one RangeTestResult, got an empty list")
    longest = max(results, key=lambda r: r.num_steps)
    length = longest.num_steps
    for r in results:
        if not np.array_equal(r.lrs, longest.lrs[: r.num_steps]):
            raise ValueError("all results must come from the same LR ramp (their lrs differ)")
    raw = _stack([r.losses for r in results], length)
    vals = None
    if all(r.val_losses is not None for r in results):
        vals = _mean_where_all_finite(_stack([r.val_losses for r in results], length))
    stopped = [r for r in results if r.stop_reason != "completed"]
    first = min(stopped, key=lambda r: r.num_steps) if stopped else results[0]
    notes = [f"repeats={len(results)}: losses averaged step-wise over {len(results)} range tests with different "
             "batch orders (raw losses in repeat_losses)"]
    lrs = [s.lr for s in (r.suggestion for r in results)]
    shown = ", ".join("none" if v is None else f"{v:.2g}" for v in lrs)
    found = [v for v in lrs if v is not None]
    spread = f" (spread {max(found) / min(found):.2f}x)" if len(found) >= 2 else ""
    notes.append(f"default suggestion of each repeat: {shown}{spread}; the record's default suggestion is their "
                 "geometric mean")
    for i, r in enumerate(results):
        notes.extend(f"repeat {i + 1}: {n}" for n in r.notes)
    elapsed = [r.elapsed_s for r in results]
    return RangeTestResult(
        lrs=longest.lrs,
        losses=_mean_where_all_finite(raw),
        val_losses=vals,
        stop_reason=first.stop_reason,
        stop_step=first.stop_step,
        config={**dict(results[0].config), "repeats": len(results)},
        optimizer=results[0].optimizer,
        optimizer_created=results[0].optimizer_created,
        criterion=results[0].criterion,
        group_lr_ratios=results[0].group_lr_ratios,
        device=results[0].device,
        elapsed_s=None if any(e is None for e in elapsed) else float(sum(elapsed)),
        notes=tuple(notes),
        repeat_losses=raw,
    )


def combined_suggestion(result: RangeTestResult, **kwargs: Any) -> Suggestion:
    """The default suggestion of a record of k repeated range tests (``result.repeat_losses``): the geometric mean
    of the tests' own default suggestions (``kwargs`` go to each), over those that give one. Where none does, the
    default suggestion of the step-wise average (``result.losses``): averaging can show a fall that no single test
    shows, and otherwise its reason and advice stand for all k. The interval spans the tests' suggestions, and at
    least ``SEED_SPREAD`` (1.6x) either side of the mean as for one test, within the tested range. ``loss`` is the
    smoothed average at the suggestion (``None`` where the average has stopped).

    Examples:
      >>> import numpy as np
      >>> lrs = np.logspace(-7, 1, 100)
      >>> def dip(centre):   # a loss that falls, bottoms out at lr=centre and rises
      ...     return 1.0 + (np.log10(lrs) - np.log10(centre)) ** 2 / 4
      >>> from lrfinder.suggesters import default
      >>> a, b = default(lrs, dip(1e-2)).lr, default(lrs, dip(1e-1)).lr
      >>> r = RangeTestResult(lrs=lrs, losses=(dip(1e-2) + dip(1e-1)) / 2, repeat_losses=[dip(1e-2), dip(1e-1)])
      >>> bool(np.isclose(combined_suggestion(r).lr, np.sqrt(a * b)))
      True
    """
    from .suggesters import SEED_SPREAD, suggest

    rows = result.repeat_losses
    if rows is None or rows.shape[0] < 2 or result.val_losses is not None:
        return suggest(result.lrs, result.curve, method="default", **kwargs)
    per = [suggest(result.lrs, row, method="default", **kwargs) for row in rows]
    given = [s for s in per if s.lr is not None]
    k = len(per)
    if not given:
        avg = suggest(result.lrs, result.losses, method="default", **kwargs)
        note = f"none of the {k} range tests alone gave an LR; this is the suggestion of their step-wise average"
        if avg.lr is None:
            return replace(avg, reason=f"{avg.reason} ({note})")
        return replace(avg, evidence=f"{avg.evidence}; {note}")
    lrs = np.array([s.lr for s in given])
    lr = float(np.exp(np.mean(np.log(lrs))))
    i = int(np.argmin(np.abs(np.log(result.lrs) - np.log(lr))))
    smoothed = result.smoothed()
    loss = float(smoothed[i]) if np.isfinite(smoothed[i]) else None
    closest = min(given, key=lambda s: abs(np.log(s.lr / lr)))
    shown = ", ".join("none" if s.lr is None else f"{s.lr:.2g}" for s in per)
    declined = [f"test {j + 1}: {s.reason}" for j, s in enumerate(per) if s.lr is None]
    caveats = list(dict.fromkeys(c for s in given for c in s.caveats))
    if declined:
        caveats.append(f"{len(declined)} of {k} range tests gave no LR (" + "; ".join(declined) + ")")
    details = {f"repeat_{j + 1}_lr": s.lr for j, s in enumerate(per) if s.lr is not None}
    details.update(repeats=float(k), repeats_with_lr=float(len(given)),
                   repeat_spread=float(lrs.max() / lrs.min()))
    return Suggestion(
        method="default", lr=lr, index=i, loss=loss,
        interval=(float(max(min(lrs.min(), lr / SEED_SPREAD), result.lrs[0])),
                  float(min(max(lrs.max(), lr * SEED_SPREAD), result.lrs[-1]))),
        evidence=(f"geometric mean of the default suggestions of {len(given)} of {k} range tests with different "
                  f"batch orders ({shown}; spread {lrs.max() / lrs.min():.2f}x); the one closest to it: "
                  f"{closest.evidence}"),
        caveats=tuple(caveats), details=details)
