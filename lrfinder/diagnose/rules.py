"""Rules that read a learning curve the way a practitioner does: pure numpy over a :class:`CurveHistory`.

Every statistic is scale-free (ratios of losses, fractions of the run), so an MSE of 1e-3 and a cross-entropy of 2.3
are read alike. Each rule returns a :class:`Finding` with its evidence (epochs and numbers), a confidence and the fix
to try; the thresholds are named constants below and explained in docs/diagnostics.md.

Examples:
  >>> report = diagnose({"train_loss": [2.3, 1.2, 0.6, 0.3, 0.15, 0.08, 0.04, 0.02],
  ...                    "val_loss":   [2.3, 1.3, 0.8, 0.7, 0.75, 0.85, 1.0, 1.2]})
  >>> report.codes[0]
  'overfitting'
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .records import CurveHistory, Finding, Report

__all__ = ["ADVICE", "MIN_POINTS", "diagnose"]

#: Fewer finite loss values than this: abstain ("insufficient_data").
MIN_POINTS = 5
#: A loss this many times its first value, later in the run, is an explosion.
EXPLODE_FACTOR = 5.0
#: A first loss this many times the chance level (ln C) is a bad initialisation.
BAD_INIT_FACTOR = 2.0
#: A loss within this fraction of its first value over the first tenth of the run is a flat start.
FLAT_START = 0.02
#: A loss spike to this many times the first loss early in the run means too high an LR.
SPIKE_FACTOR = 2.5
#: Validation loss this far above its minimum by the end (while training improves) is overfitting.
OVERFIT_RISE = 0.15
#: An LR cut to at most this fraction of its value is a decay step.
DECAY_CUT = 0.2
#: "Poor" final loss, as a fraction of the chance level, for underfitting (cross-entropy; MSE vs the variance).
UNDERFIT_LEVEL = 0.4
UNDERFIT_LEVEL_MSE = 0.6
#: Relative fall of the loss over the last quarter of the run that counts as still improving...
STILL_IMPROVING_FALL = 0.025
#: ...when the loss also falls, per epoch, at least this fraction of its average rate over the run (in log terms).
STILL_IMPROVING_RATE = 0.18
#: A smaller early spike (this many times the first loss) counts too when the loss then sits at the chance level.
SPIKE_AT_CHANCE_FACTOR = 1.25
#: A run that got at least this much below its final level and ends back at the chance level lost what it learned.
RELAPSE_FACTOR = 1.25
#: A flat stretch must last at least this many epochs (and PLATEAU_MIN_FRACTION of the run) to be a plateau.
PLATEAU_MIN_EPOCHS = 10
PLATEAU_MIN_FRACTION = 0.12
#: ...within this fraction of its level (a gently sloping shoulder counts as flat).
PLATEAU_TOLERANCE = 0.04
#: A run shorter than this many epochs that still falls at its average pace has not shown that it stalled.
MIN_EPOCHS_TO_JUDGE_STALL = 20
#: On epoch logs, a slow end (below STILL_IMPROVING_STEADY of the average rate) must still fall at least this
#: fraction per epoch: a few percent over many epochs is a curve levelling off, not one cut short.
STILL_IMPROVING_STEADY = 0.5
STILL_IMPROVING_PER_EPOCH = 0.01
#: Epoch-to-epoch jitter (relative to the total fall) that reads as oscillation, and the run length it needs.
OSCILLATION_JITTER = 0.04
#: ...or, with a smaller jitter against the fall (>= 0.025), this much against the level the loss sits at.
OSCILLATION_LEVEL_JITTER = 0.3
OSCILLATION_MIN_POINTS = 15

ADVICE: dict[str, str] = {
    "bad_init": "check the initialisation (default init for the layer type), the output layer's scale and bias, "
    "and the input scaling; the loss of an untrained classifier should be about ln C",
    "lr_too_high": "lower the LR (3-10x), add warmup, or clip the gradient norm",
    "early_decay": "decay the LR later or by less (e.g. cosine or step decay after most of the progress is made)",
    "overfitting": "stop early at the best validation epoch, add regularisation (weight decay, dropout, "
    "augmentation) or more data",
    "underfitting": "use a bigger model, a higher LR, less regularisation, or train longer",
    "still_improving": "train longer: validation was still improving at the end",
    "diverged": "lower the LR, add gradient clipping or warmup, and check the data for NaN/inf",
    "plateau": "change the LR or schedule (e.g. a warm restart or a higher LR) to get off the plateau sooner",
    "healthy": "",
    "insufficient_data": "log more epochs (at least 5) to get a diagnosis",
}

_SEVERITY = {
    "diverged": "error",
    "bad_init": "error",
    "lr_too_high": "error",
    "early_decay": "warning",
    "overfitting": "warning",
    "underfitting": "warning",
    "plateau": "warning",
    "still_improving": "info",
    "healthy": "info",
    "insufficient_data": "info",
}


def _ramp(value: float, lo: float, hi: float, c_lo: float = 0.55, c_hi: float = 0.95) -> float:
    """Confidence growing linearly from ``c_lo`` at ``value == lo`` to ``c_hi`` at ``value >= hi``."""
    if not math.isfinite(value):
        return c_hi
    if hi == lo:
        return c_hi
    t = min(1.0, max(0.0, (value - lo) / (hi - lo)))
    return round(c_lo + t * (c_hi - c_lo), 3)


def _median3(a: np.ndarray) -> np.ndarray:
    """Running median of 3 (ends kept): one noisy epoch cannot make or break a trend."""
    if a.size < 3:
        return a.copy()
    out = a.copy()
    stacked = np.stack([a[:-2], a[1:-1], a[2:]])
    out[1:-1] = np.median(stacked, axis=0)
    return out


def _pct(x: float) -> str:
    return f"{x * 100:+.0f}%"


@dataclass
class _Curve:
    """The numbers the rules read, computed once."""

    x: np.ndarray
    train: np.ndarray | None
    val: np.ndarray | None
    main: np.ndarray  # validation loss when usable, else training loss (the finite prefix)
    main_name: str
    lr: np.ndarray | None
    chance: float | None
    unit: str

    @property
    def n(self) -> int:
        return int(self.main.size)

    def at(self, i: int) -> str:
        v = self.x[min(i, self.x.size - 1)]
        return f"{self.unit} {int(v) if float(v).is_integer() else round(float(v), 2)}"


def _finite_prefix(a: np.ndarray | None) -> np.ndarray | None:
    """The curve up to its last finite value (a non-finite tail is the divergence rule's business)."""
    if a is None:
        return None
    i = _nonfinite_tail(a)
    return a if i is None else a[:i]


def _chance(history: CurveHistory, num_classes: int | None) -> float | None:
    c = num_classes if num_classes is not None else history.num_classes
    if history.loss_kind == "mse":
        return 1.0 if history.extra.get("standardized", True) and c is None else None
    if c is not None and history.loss_kind in (None, "cross_entropy"):
        return math.log(c)
    return None


def _usable(a: np.ndarray | None) -> bool:
    return a is not None and int(np.isfinite(a).sum()) >= MIN_POINTS


def _finding(code: str, confidence: float, evidence: str, span: tuple[float, float] | None, **numbers: float) -> Finding:
    return Finding(
        code=code,
        confidence=float(min(1.0, max(0.0, confidence))),
        severity=_SEVERITY[code],
        evidence=evidence,
        advice=ADVICE[code],
        span=span,
        numbers={k: float(v) for k, v in numbers.items() if v is not None and math.isfinite(float(v))},
    )


def _span(c: _Curve, i: int, j: int) -> tuple[float, float]:
    last = c.x.size - 1
    return float(c.x[min(max(i, 0), last)]), float(c.x[min(max(j, 0), last)])


# -- the rules ---------------------------------------------------------------------------------------------------


def _nonfinite_tail(a: np.ndarray | None) -> int | None:
    """Index where a curve's non-finite tail starts (NaN/inf from there to the end), or None."""
    if a is None or a.size == 0:
        return None
    finite = np.flatnonzero(np.isfinite(a))
    start = 0 if finite.size == 0 else int(finite[-1]) + 1
    return start if start < a.size else None


def _diverged(h: CurveHistory, c: _Curve) -> Finding | None:
    series = {"train_loss": h.train_loss, "val_loss": h.val_loss}
    for name, a in series.items():
        i = _nonfinite_tail(a)
        if i is None:
            continue
        other = series["val_loss" if name == "train_loss" else "train_loss"]
        # NaN where the other curve goes on finite is a missing entry (sparse logging), not a divergence
        if not np.isinf(a[i:]).any() and other is not None and np.isfinite(other[i:]).all():
            continue
        prev = a[:i][np.isfinite(a[:i])]
        last = f" (last finite value {prev[-1]:.4g})" if prev.size else ""
        kind = "inf" if np.isinf(a[i]) else "NaN"
        return _finding(
            "diverged", 0.97, f"{name} is {kind} from {c.at(i)} to the end{last}", _span(c, i, c.x.size - 1),
            first_nonfinite_epoch=float(c.x[i]),
        )
    for name, a in (("train_loss", c.train), ("val_loss", c.val)):
        if a is None or a.size < 3 or not a[0] > 0:
            continue
        j = int(np.argmax(a[1:])) + 1
        peak = a[j]
        if peak < EXPLODE_FACTOR * a[0]:
            continue
        before = float(np.min(a[: j + 1]))
        final = float(np.median(a[-3:]))
        # never recovered: it ends far above where it was before the blow-up, or no better than the chance level
        # (or its start, when the chance level is unknown): whatever it had learned was lost
        floor = c.chance if c.chance is not None else float(a[0])
        collapsed = final >= 0.9 * floor
        if final > 2.0 * before or collapsed:
            how = (f"ended at {final:.4g}, far above its level {before:.4g} before the blow-up" if final > 2.0 * before
                   else f"ended at {final:.4g}, no better than the " + ("chance level" if c.chance is not None
                                                                         else "first value") + f" {floor:.4g}")
            return _finding(
                "diverged",
                _ramp(peak / a[0], EXPLODE_FACTOR, 50.0, 0.7, 0.95),
                f"{name} exploded to {peak:.4g} at {c.at(j)} ({peak / a[0]:.0f}x its first value {a[0]:.4g}) "
                f"and never recovered: {how}",
                _span(c, j, c.n - 1),
                peak=peak, first=float(a[0]), final=final,
            )
    return None


def _bad_init(c: _Curve) -> Finding | None:
    first = c.train if c.train is not None and c.train.size else c.main
    l0 = float(first[0])
    if c.chance is not None and c.chance > 0 and l0 >= BAD_INIT_FACTOR * c.chance:
        return _finding(
            "bad_init",
            _ramp(l0 / c.chance, BAD_INIT_FACTOR, 5.0, 0.7, 0.95),
            f"the first loss {l0:.4g} is {l0 / c.chance:.1f}x the chance level {c.chance:.4g}"
            + (" (ln C)" if c.chance != 1.0 else " (MSE of predicting the mean)"),
            _span(c, 0, 1),
            first_loss=l0, chance=c.chance,
        )
    t = _median3(first)
    n = t.size
    k = max(3, int(round(0.1 * n)))
    if n >= k + 3 and l0 > 0:
        head = np.abs(t[1 : k + 1] / l0 - 1.0)
        later_min = float(np.min(t[k + 1 :]))
        if head.max() < FLAT_START and later_min < 0.7 * l0:
            moved = k + 1 + int(np.argmax(t[k + 1 :] < 0.95 * l0)) if (t[k + 1 :] < 0.95 * l0).any() else k + 1
            return _finding(
                "bad_init",
                _ramp(moved / n, 0.1, 0.3, 0.6, 0.9),
                f"the loss stays within {head.max() * 100:.1f}% of its first value {l0:.4g} until {c.at(moved - 1)} "
                f"before it starts to fall (to {later_min:.4g})",
                _span(c, 0, moved - 1),
                flat_epochs=float(moved), first_loss=l0,
            )
    dev = float(np.max(np.abs(first / l0 - 1.0))) if l0 > 0 else math.inf
    stuck = dev < 0.02
    if not stuck and n >= 10:  # the same through epoch-to-epoch noise, on either curve
        for a in (c.train, c.val):
            noisy = _stuck_through_noise(a)
            if noisy is not None:
                stuck, dev = True, noisy
                break
    if stuck:
        chance = c.chance
        if chance is None:  # a loss parked at ln C of a common class count is at chance level too
            chance = next((math.log(k) for k in (2, 10, 100, 1000) if abs(l0 / math.log(k) - 1.0) < 0.01), None)
        at_chance = chance is not None and abs(l0 / chance - 1.0) < 0.1
        return _finding(
            "bad_init", 0.85 if at_chance else 0.6,
            f"the loss never moves from its first value {l0:.4g}"
            + (f" (chance level {chance:.4g})" if at_chance else "")
            + f": at most {dev * 100:.1f}% away over the whole run; the model is not learning",
            _span(c, 0, n - 1), first_loss=l0,
        )
    return None


def _never_moves(f: Finding | None) -> bool:
    """Whether a ``bad_init`` finding is the "loss never moves" kind (other rules defer to it, or override it)."""
    return f is not None and f.code == "bad_init" and "never moves" in f.evidence


def _stuck_through_noise(a: np.ndarray | None) -> float | None:
    """For a noisy curve that never moves: its running median stays within 5% of the first value, no single value
    strays beyond 25% (a spike is movement), and the last quarter sits within 1% of the start (no slow trend).
    Returns the running median's largest deviation, or None."""
    if a is None or a.size < 10 or not a[0] > 0:
        return None
    l0 = float(a[0])
    dev = float(np.max(np.abs(_median3(a) / l0 - 1.0)))
    raw = float(np.max(np.abs(a / l0 - 1.0)))
    end = abs(float(np.median(a[-max(3, a.size // 4) :])) / l0 - 1.0)
    return dev if dev < 0.05 and raw < 0.25 and end < 0.01 else None


def _roughness(a: np.ndarray) -> float:
    """Epoch-to-epoch jitter of the second half of a curve, relative to how far the loss fell (0 = smooth)."""
    if a.size < 6:
        return 0.0
    # relative to the total fall, but never to less than a tenth of the starting loss: the jitter of a curve that
    # barely moved says nothing about its LR
    drop = float(a[0] - np.min(a))
    scale = max(drop, 0.1 * abs(float(a[0])), 1e-12)
    tail = a[a.size // 2 :]
    d2 = np.abs(np.diff(tail, 2)) if tail.size >= 3 else np.zeros(1)
    return float(np.median(d2) / scale)


def _tail_len(c: _Curve) -> int:
    """How many final points make "the end" of a run: its last tenth, at least 3 (a median over them)."""
    return max(3, c.n // 10)


def _ends_at_chance(c: _Curve) -> tuple[bool, float]:
    """Whether both losses end at the chance level (within -10% / +15%), and the final level (median of the tail)."""
    if c.chance is None or not c.chance > 0:
        return False, math.nan
    tail = _tail_len(c)
    ends = [float(np.median(a[-tail:])) for a in (c.train, c.val) if a is not None and a.size >= tail]
    if not ends:
        return False, math.nan
    return all(0.9 * c.chance <= e <= 1.15 * c.chance for e in ends), float(np.median(ends))


def _killed_at_chance(c: _Curve) -> Finding | None:
    """An early spike (smaller than SPIKE_FACTOR) after which the loss sits at the chance level: the first too-large
    steps wrecked the network (e.g. dead units) and it never learned again."""
    at_chance, level = _ends_at_chance(c)
    if not at_chance:
        return None
    for name, a in (("train_loss", c.train), ("val_loss", c.val)):
        if a is None or a.size < 6 or not a[0] > 0:
            continue
        early = a[1 : max(3, int(0.1 * a.size)) + 1]
        if early.max() >= SPIKE_AT_CHANCE_FACTOR * a[0]:
            j = 1 + int(np.argmax(early))
            return _finding(
                "lr_too_high",
                _ramp(early.max() / a[0], SPIKE_AT_CHANCE_FACTOR, SPIKE_FACTOR, 0.6, 0.85),
                f"{name} jumped to {a[j]:.4g} at {c.at(j)} ({a[j] / a[0]:.2f}x its first value {a[0]:.4g}) and the "
                f"loss then sat at the chance level {c.chance:.4g} to the end (about {level:.4g}): the first "
                "updates overshot and the network stopped learning",
                _span(c, 0, c.n - 1),
                spike=float(a[j]), first=float(a[0]), final=level,
            )
    return None


def _relapse(c: _Curve) -> Finding | None:
    """The loss got clearly below the chance level, then climbed back to it and stayed: training made the model
    worse again, the mark of steps too large to settle (both curves rise, so it is not overfitting)."""
    at_chance, level = _ends_at_chance(c)
    if not at_chance:
        return None
    m = _median3(c.main)  # one lucky epoch is not a level the model reached
    i = int(np.argmin(m))
    if i == 0 or i >= c.n - 3 or not m[i] > 0 or level < RELAPSE_FACTOR * float(m[i]):
        return None
    best = float(np.min(c.main[max(0, i - 1) : i + 2]))  # quote the logged value
    return _finding(
        "lr_too_high",
        _ramp(level / float(m[i]), RELAPSE_FACTOR, 2.0, 0.6, 0.9),
        f"{c.main_name} got down to {best:.4g} at {c.at(int(np.argmin(c.main[: i + 2])))}, then climbed back to the "
        f"chance level {c.chance:.4g} (about {level:.4g} at the end, {level / best:.2f}x its best) with the training "
        "loss: the steps are too large to settle",
        _span(c, i, c.n - 1),
        best=best, best_epoch=float(c.x[i]), final=level,
    )


def _lr_too_high(c: _Curve, diverged: Finding | None) -> Finding | None:
    for name, a in (("train_loss", c.train), ("val_loss", c.val)):
        if a is None or a.size < 3 or not a[0] > 0:
            continue
        early = a[1 : max(3, int(0.3 * a.size)) + 1]
        if early.size and early.max() >= SPIKE_FACTOR * a[0]:
            j = 1 + int(np.argmax(early))
            return _finding(
                "lr_too_high",
                _ramp(early.max() / a[0], SPIKE_FACTOR, 10.0, 0.65, 0.9),
                f"{name} jumped to {a[j]:.4g} at {c.at(j)}, {a[j] / a[0]:.1f}x its first value {a[0]:.4g}: "
                "the first updates overshoot",
                _span(c, 0, j),
                spike=float(a[j]), first=float(a[0]),
            )
    if diverged is not None:
        a = c.main
        if "exploded" in diverged.evidence:
            return _finding("lr_too_high", 0.8, "the loss exploded during training (see diverged)", diverged.span)
        if a.size >= 2 and a[0] > 0 and float(a[-1]) >= 1.5 * float(np.min(a)):
            return _finding(
                "lr_too_high", 0.75,
                f"{c.main_name} rose from its best {np.min(a):.4g} to {a[-1]:.4g} before it became non-finite",
                _span(c, int(np.argmin(a)), a.size - 1), best=float(np.min(a)), last=float(a[-1]),
            )
    for rule in (_killed_at_chance, _relapse):
        f = rule(c)
        if f is not None:
            return f
    # per-step logs jitter by nature (one mini-batch per point): the oscillation rule reads epoch averages only
    if c.train is not None and c.train.size >= OSCILLATION_MIN_POINTS and c.unit == "epoch":
        r = _roughness(c.train)
        tail = c.train[c.train.size // 2 :]
        level = float(np.median(tail))
        rel = float(np.median(np.abs(np.diff(tail, 2)))) / level if level > 0 else 0.0
        # jitter large against the total fall AND against the level it sits at (a converged loss at its noise
        # floor jitters against a small fall, but not against its level)
        if (r >= OSCILLATION_JITTER and rel >= 0.05) or (r >= 0.025 and rel >= OSCILLATION_LEVEL_JITTER):
            return _finding(
                "lr_too_high",
                _ramp(r, OSCILLATION_JITTER, 0.15, 0.6, 0.9),
                f"train_loss oscillates from epoch to epoch in the second half of the run "
                f"(between {tail.min():.4g} and {tail.max():.4g}; jitter {r:.2f} of its total fall, "
                f"{rel:.2f} of its level)",
                _span(c, c.train.size // 2, c.train.size - 1),
                jitter=r,
            )
    return None


def _lr_cuts(c: _Curve) -> list[tuple[int, float]]:
    """(index, factor) of LR drops to at most DECAY_CUT of the level three entries earlier (steps merged)."""
    if c.lr is None:
        return []
    lr = c.lr[: c.n]
    cuts: list[tuple[int, float]] = []
    i = 1
    while i < lr.size:
        if np.isfinite(lr[i]) and np.isfinite(lr[i - 1]) and lr[i - 1] > 0 and lr[i] < lr[i - 1] * 0.999:
            j = i
            while j + 1 < lr.size and j + 1 <= i + 2 and lr[j + 1] < lr[j] * 0.999:
                j += 1
            factor = float(lr[j] / lr[i - 1])
            if factor <= DECAY_CUT:
                cuts.append((i, factor))
            i = j + 1
        else:
            i += 1
    return cuts


def _lr_changes_between(c: _Curve, i: int, j: int) -> bool:
    if c.lr is None:
        return False
    seg = c.lr[max(0, i) : j + 1]
    seg = seg[np.isfinite(seg)]
    return seg.size > 1 and float(seg.max()) > 1.05 * float(seg.min())


def _early_decay(c: _Curve) -> Finding | None:
    cuts = _lr_cuts(c)
    if not cuts:
        return None
    i, factor = cuts[0]
    n = c.n
    if i > max(4, 0.3 * n) or n - i < 4:
        return None
    m = _median3(c.main)
    before = m[0] - m[i - 1] if i >= 1 else 0.0
    rate_before = max(before, 0.0) / max(i - 1, 1) if i > 1 else max(m[0] - m[min(i, n - 1)], 0.0)
    after = m[i:]
    rate_after = max(after[0] - after[-1], 0.0) / max(after.size - 1, 1)
    total_fall = m[0] - np.min(m)
    if rate_before <= 0 or total_fall <= 0:
        return None
    slowdown = rate_after / rate_before
    fall_after = (after[0] - after[-1]) / max(after[0], 1e-12)
    _, end_rate, _ = _end_fall(c.main)  # still falling at over half its average pace at the end: not a stall
    if slowdown < 0.1 and fall_after < 0.5 and end_rate < STILL_IMPROVING_STEADY:
        return _finding(
            "early_decay",
            _ramp(-math.log10(max(slowdown, 1e-6)), 1.0, 2.0, 0.6, 0.9),
            f"the LR was cut {1 / factor:.0f}x at {c.at(i)} ({100 * i / max(n - 1, 1):.0f}% into the run) and "
            f"{c.main_name} then fell only {fall_after * 100:.0f}% more (from {after[0]:.4g} to {after[-1]:.4g}), "
            f"{1 / max(slowdown, 1e-6):.0f}x slower per {c.unit} than before the cut",
            _span(c, i, n - 1),
            cut_epoch=float(c.x[i]), cut_factor=factor, slowdown=slowdown,
        )
    return None


def _overfitting(c: _Curve) -> Finding | None:
    if c.train is None or c.val is None or c.val.size < 6:
        return None
    v = _median3(c.val)
    n = v.size
    m = int(np.argmin(v))
    if m >= n - 3:
        return None
    tail = max(3, n // 10)
    v_end = float(np.median(c.val[-tail:]))
    vmin = float(c.val[m])  # quote the logged value at the (median-filtered) minimum
    if not vmin > 0:
        return None
    rise = v_end / vmin - 1.0
    t = _median3(c.train[:n])
    t_m, t_end = float(t[m]), float(np.median(c.train[:n][-tail:]))
    train_change = t_end / t_m - 1.0 if t_m > 0 else 0.0
    if rise >= OVERFIT_RISE and train_change <= -0.1:
        return _finding(
            "overfitting",
            _ramp(rise, OVERFIT_RISE, 0.6, 0.6, 0.95),
            f"val_loss min {vmin:.4g} at {c.at(m)}, {_pct(rise)} by {c.at(n - 1)} while train_loss "
            f"{_pct(train_change)} ({t_m:.4g} -> {t_end:.4g})",
            _span(c, m, n - 1),
            val_min=vmin, val_min_epoch=float(c.x[m]), val_end=v_end, train_change=train_change,
        )
    return None


def _plateau(c: _Curve) -> Finding | None:
    a = _median3(c.train if c.train is not None and c.train.size >= c.n else c.main)
    n = a.size
    if n < 12:
        return None
    w = max(5, int(round(PLATEAU_MIN_FRACTION * n)))
    if c.unit == "epoch":
        w = max(w, PLATEAU_MIN_EPOCHS)
    if n < w + 3:
        return None
    best = None
    s = 2  # a flat stretch right at the start is bad_init's business
    while s < n - w - 1:
        seg = a[s : s + w]
        level = float(np.median(seg))
        if (
            level <= 0
            or level <= 0.1 * a[0]  # a wobble at a tiny fraction of the starting loss is not a plateau
            or float(np.max(np.abs(seg / level - 1.0))) > PLATEAU_TOLERANCE
            or a[0] / level - 1.0 < 0.1
        ):
            s += 1
            continue
        e = s + w  # extend the flat stretch as far as it goes
        while e < n and abs(a[e] / level - 1.0) <= PLATEAU_TOLERANCE:
            e += 1
        after = a[e : e + max(2 * w, e - s)]  # the drop must come soon after the flat stretch
        drop_after = 1.0 - float(np.min(after)) / level if after.size else 0.0
        if drop_after >= 0.2 and not _lr_changes_between(c, s, min(e + 2, n - 1)):
            best = (s, e - 1, level, drop_after)
            break
        s = e
    if best is None:
        return None
    s, e, level, drop_after = best
    return _finding(
        "plateau",
        _ramp((e - s + 1) / n, 0.12, 0.35, 0.6, 0.9),
        f"the loss sits flat at about {level:.4g} from {c.at(s)} to {c.at(e)} ({e - s + 1} {c.unit}s, no LR change) "
        f"and then falls {drop_after * 100:.0f}% lower",
        _span(c, s, e),
        level=level, start=float(c.x[s]), end=float(c.x[e]),
    )


def _end_fall(a: np.ndarray) -> tuple[float, float, int]:
    """Over the last quarter of a (median-filtered) curve: its relative fall, its rate of fall (log per epoch)
    as a fraction of the average rate over the whole run, and where that quarter starts."""
    n = a.size
    q = max(3, int(round(0.25 * n)))
    s = _median3(a)
    start = n - q
    ref = float(np.mean(s[max(0, start - 1) : start + 1]))
    end = float(np.mean(s[-2:]))
    fall = 1.0 - end / ref if ref > 0 else 0.0
    if not (s > 0).all():
        return fall, 0.0, start
    logs = np.log(s)
    rate_end = (logs[start] - logs[-1]) / q
    rate_all = (logs[0] - logs[-1]) / max(n - 1, 1)
    return fall, (rate_end / rate_all if rate_all > 0 else 0.0), start


def _still_improving(c: _Curve) -> Finding | None:
    a = c.main
    if a.size < 6:
        return None
    fall, rate, start = _end_fall(a)
    s = _median3(a)
    last_is_low = s[-1] <= np.min(s) * 1.02
    if a[0] > 0 and s[-1] < 1e-3 * a[0]:  # relative falls at a loss 1000x below its start mean nothing
        return None
    per_epoch = fall / max(a.size - 1 - start, 1)
    brisk = c.unit != "epoch" or rate >= STILL_IMPROVING_STEADY or per_epoch >= STILL_IMPROVING_PER_EPOCH
    if fall >= STILL_IMPROVING_FALL and rate >= STILL_IMPROVING_RATE and last_is_low and brisk:
        return _finding(
            "still_improving",
            min(_ramp(fall, STILL_IMPROVING_FALL, 0.15, 0.55, 0.95), _ramp(rate, STILL_IMPROVING_RATE, 0.7, 0.55, 0.95)),
            f"{c.main_name} still fell {fall * 100:.0f}% over the last {a.size - start} {c.unit}s "
            f"(to {a[-1]:.4g} at {c.at(a.size - 1)}, at {rate * 100:.0f}% of its average rate over the run) "
            "and is at its lowest at the end",
            _span(c, start, a.size - 1),
            end_fall=fall, end_rate_vs_average=rate,
        )
    return None


def _too_short_to_stall(c: _Curve) -> Finding | None:
    """A short run (< MIN_EPOCHS_TO_JUDGE_STALL epochs) whose loss still falls at about its average pace and is at
    its lowest at the end: too early to call it underfitting, train longer first."""
    a = c.main
    if c.unit != "epoch" or a.size >= MIN_EPOCHS_TO_JUDGE_STALL or a.size < 6:
        return None
    fall, rate, start = _end_fall(a)
    s = _median3(a)
    if fall > 0 and rate >= 0.5 and s[-1] <= np.min(s) * 1.005:
        return _finding(
            "still_improving",
            _ramp(rate, 0.5, 1.0, 0.55, 0.75),
            f"{c.main_name} still fell {fall * 100:.1f}% over the last {a.size - start} {c.unit}s (at "
            f"{rate * 100:.0f}% of its average rate over the run) and is at its lowest at the end; after only "
            f"{a.size - 1} {c.unit}s it is too early to call the high level underfitting",
            _span(c, start, a.size - 1),
            end_fall=fall, end_rate_vs_average=rate,
        )
    return None


def _underfitting(c: _Curve) -> Finding | None:
    if c.chance is None:
        return None
    t = c.train if c.train is not None else c.main
    v = c.val if c.val is not None else c.main
    tail = _tail_len(c)
    t_end, v_end = float(np.median(t[-tail:])), float(np.median(v[-tail:]))
    level = min(t_end, v_end) / c.chance
    gap = abs(v_end - t_end) / max(t_end, v_end, 1e-12)
    fall, _, _ = _end_fall(c.main)
    poor = UNDERFIT_LEVEL if c.chance != 1.0 else UNDERFIT_LEVEL_MSE
    if level >= poor and gap <= 0.2 and fall < 0.1:
        return _finding(
            "underfitting",
            _ramp(level, poor, 0.8, 0.6, 0.9),
            f"train_loss {t_end:.4g} and val_loss {v_end:.4g} end close together (gap {gap * 100:.0f}%) but at "
            f"{level * 100:.0f}% of the chance level {c.chance:.4g}, and fell only {max(fall, 0) * 100:.1f}% "
            f"over the last quarter",
            _span(c, max(0, c.n - tail), c.n - 1),
            train_end=t_end, val_end=v_end, level_vs_chance=level,
        )
    return None


# -- entry point -------------------------------------------------------------------------------------------------


def _as_history(history: Any) -> CurveHistory:
    if isinstance(history, CurveHistory):
        return history
    if isinstance(history, Mapping) or isinstance(history, (list, tuple)):
        from .readers import read_history

        return read_history(history)
    raise TypeError(f"history must be a CurveHistory, a mapping of lists or a list of records, got {type(history).__name__}")


def diagnose(history: Any, *, num_classes: int | None = None, min_confidence: float = 0.5) -> Report:
    """Triage a learning curve: findings ranked by severity and confidence, each with evidence and advice.

    ``history`` is a :class:`CurveHistory` (see :func:`lrfinder.diagnose.read_history` for log files) or a mapping
    such as ``{"train_loss": [...], "val_loss": [...], "lr": [...]}``. ``num_classes`` (or
    ``history.num_classes``) enables the chance-level checks (ln C). Findings below ``min_confidence`` are dropped.
    ``healthy`` is reported alone, when nothing else holds; ``insufficient_data`` when the curve is too short.
    """
    if num_classes is not None and (isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2):
        raise ValueError(f"num_classes must be None or an integer >= 2, got num_classes={num_classes!r}")
    if not 0.0 <= min_confidence <= 1.0:
        raise ValueError(f"min_confidence must be in [0, 1], got min_confidence={min_confidence!r}")
    h = _as_history(history)
    with np.errstate(all="ignore"):  # degenerate curves (zeros, huge values) are judged, not warned about
        return _diagnose(h, num_classes, min_confidence)


def _diagnose(h: CurveHistory, num_classes: int | None, min_confidence: float) -> Report:
    unit = h.x_unit
    base = dict(source=h.source, num_points=len(h), x_unit=unit)
    train, val = _finite_prefix(h.train_loss), _finite_prefix(h.val_loss)
    # a diverged run is judged on what it logged before the first non-finite value
    diverged_nonfinite = None
    if not (_usable(h.train_loss) or _usable(h.val_loss)):
        probe = _Curve(h.epochs, train, val, train if train is not None else val, "loss", None, None, unit)  # type: ignore[arg-type]
        diverged_nonfinite = _diverged(h, probe) if (probe.main is not None and probe.main.size >= 1) else None
        findings = [diverged_nonfinite] if diverged_nonfinite is not None else []
        chance = _chance(h, num_classes)
        first = float(probe.main[0]) if probe.main.size else math.nan
        if diverged_nonfinite is not None and chance is not None and first >= BAD_INIT_FACTOR * chance:
            findings.append(
                _finding(
                    "bad_init", 0.8, f"the first loss {first:.4g} is {first / chance:.1f}x the chance level "
                    f"{chance:.4g}", _span(probe, 0, 0), first_loss=first, chance=chance,
                )
            )
        if diverged_nonfinite is not None and probe.main.size >= 2 and probe.main[-1] >= 1.5 * np.min(probe.main):
            findings.append(
                _finding(
                    "lr_too_high", 0.7,
                    f"the loss rose from {np.min(probe.main):.4g} to {probe.main[-1]:.4g} in the first "
                    f"{probe.main.size} {unit}s before it became non-finite",
                    _span(probe, 0, probe.main.size - 1),
                )
            )
        findings.append(
            _finding(
                "insufficient_data", 1.0,
                f"only {max(np.isfinite(h.train_loss).sum() if h.train_loss is not None else 0, np.isfinite(h.val_loss).sum() if h.val_loss is not None else 0)} "
                f"finite loss values: at least {MIN_POINTS} are needed to judge the curve",
                None,
            )
        )
        return Report(findings=tuple(findings), **base)

    use_val = val is not None and val.size >= MIN_POINTS and np.isfinite(val).sum() >= MIN_POINTS
    main = val if use_val else train
    if main is None or main.size < 2:
        main = train if train is not None and train.size >= 2 else val
    main = _fill_gaps(main)
    train = _fill_gaps(train) if train is not None and train.size >= 2 else None
    val = _fill_gaps(val) if val is not None and val.size >= 2 else None
    n = main.size
    c = _Curve(
        x=h.epochs,
        train=train[:n] if train is not None else None,
        val=val[:n] if val is not None else None,
        main=main,
        main_name="val_loss" if use_val else "train_loss",
        lr=h.lr,
        chance=_chance(h, num_classes),
        unit=unit,
    )
    findings: list[Finding] = []
    div = _diverged(h, c)
    if div is not None:
        findings.append(div)
    if n < MIN_POINTS:
        if not findings:
            findings.append(_finding("insufficient_data", 1.0, f"only {n} usable points", None))
        return Report(findings=tuple(findings), **base)
    init = _bad_init(c)
    if _never_moves(init) and _killed_at_chance(c) is not None:
        init = None  # it moved: a spike, then stuck at chance (the LR's doing, see _killed_at_chance)
    if init is not None:
        findings.append(init)
    if not _never_moves(init):
        high = _lr_too_high(c, div)
        if high is not None:
            findings.append(high)
    if div is None:
        decay = _early_decay(c)
        # validation getting worse while the LR is too high is the LR's doing, not overfitting
        over = None if any(f.code == "lr_too_high" for f in findings) else _overfitting(c)
        for f in (decay, over, None if decay is not None else _plateau(c)):
            if f is not None:
                findings.append(f)
        if decay is not None and _never_moves(init):
            findings.remove(init)  # the LR was cut before the loss moved: the cut explains the stall
            init = None
        codes = {f.code for f in findings}
        if not _never_moves(init) and not codes & {"overfitting", "lr_too_high", "plateau", "early_decay"}:
            still = _still_improving(c)
            if still is not None:
                findings.append(still)
            elif "bad_init" not in codes:
                under = _underfitting(c)
                early = _too_short_to_stall(c) if under is not None else None
                if early is not None:
                    findings.append(early)
                elif under is not None:
                    findings.append(under)
    findings = [f for f in findings if f.confidence >= min_confidence]
    if not findings:
        findings.append(
            _finding(
                "healthy", 0.7,
                f"{c.main_name} went from {c.main[0]:.4g} to a best of {np.min(c.main):.4g} and levelled off; "
                "no sign of divergence, overfitting, a bad start or a stall",
                _span(c, 0, n - 1),
            )
        )
    order = {"error": 0, "warning": 1, "info": 2}
    rank = {code: i for i, code in enumerate(_SEVERITY)}  # the cause before its symptoms: diverged first
    findings.sort(key=lambda f: (order[f.severity], rank[f.code], -f.confidence))
    return Report(findings=tuple(findings), **base)


def _fill_gaps(a: np.ndarray) -> np.ndarray:
    """Interpolate missing (NaN) entries inside a finite prefix, e.g. epochs without validation."""
    a = np.asarray(a, dtype=np.float64)
    good = np.isfinite(a)
    if good.all() or not good.any():
        return a
    idx = np.arange(a.size)
    out = a.copy()
    out[~good] = np.interp(idx[~good], idx[good], a[good])
    return out
