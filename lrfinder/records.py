"""Frozen result records that cross module boundaries, with JSON round-trips and a schema version.

Records keep the raw data (every per-step loss); smoothing and suggestions are derived from it on demand, so a
different smoother or suggester never needs a re-run.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from ._jsonio import JsonRecord

__all__ = ["CyclicBounds", "RangeTestResult", "Suggestion", "SCHEMA_VERSION"]

SCHEMA_VERSION = 1


def _check_schema(data: Mapping[str, Any], kind: str) -> None:
    if not isinstance(data, Mapping):
        raise ValueError(f"a {kind} record must be a JSON object, got {type(data).__name__}")
    v = data.get("schema_version")
    if v != SCHEMA_VERSION:
        raise ValueError(f"unsupported schema_version {v!r} in {kind} record; expected {SCHEMA_VERSION}")


def _float_or_none(x: Any) -> float | None:
    return None if x is None else float(x)


@dataclass(frozen=True)
class Suggestion:
    """A suggested LR with the evidence behind it, or no LR and the reason why.

    ``interval`` holds the LRs the suggester considers equally good; ``index`` is the step of the range test the
    LR comes from. When ``lr`` is ``None``, ``reason`` tells the user what to change. ``caveats`` are warnings that
    do not stop a suggestion (e.g. the loss was still falling at ``end_lr``); ``details`` holds the numbers behind
    the evidence (e.g. ``lr_at_min``, ``slope_per_decade``) for programs.
    """

    method: str
    lr: float | None
    index: int | None
    loss: float | None
    interval: tuple[float, float] | None
    evidence: str
    reason: str | None = None
    caveats: tuple[str, ...] = ()
    details: Mapping[str, float] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "caveats", tuple(str(c) for c in self.caveats))
        object.__setattr__(self, "details", {str(k): float(v) for k, v in dict(self.details).items()})

    @property
    def ok(self) -> bool:
        return self.lr is not None

    def __str__(self) -> str:
        if self.lr is None:
            return f"{self.method}: no suggestion ({self.reason})"
        band = f" (good from {self.interval[0]:.2g} to {self.interval[1]:.2g})" if self.interval else ""
        caveats = "".join(f"; caveat: {c}" for c in self.caveats)
        return f"{self.method}: lr={self.lr:.3g}{band}; {self.evidence}{caveats}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "lr": self.lr,
            "index": self.index,
            "loss": self.loss,
            "interval": list(self.interval) if self.interval is not None else None,
            "evidence": self.evidence,
            "reason": self.reason,
            "caveats": list(self.caveats),
            "details": dict(self.details),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Suggestion:
        interval = data.get("interval")
        return cls(
            method=str(data["method"]),
            lr=_float_or_none(data.get("lr")),
            index=None if data.get("index") is None else int(data["index"]),
            loss=_float_or_none(data.get("loss")),
            interval=None if interval is None else (float(interval[0]), float(interval[1])),
            evidence=str(data.get("evidence", "")),
            reason=data.get("reason"),
            caveats=tuple(data.get("caveats") or ()),
            details=data.get("details") or {},
        )


@dataclass(frozen=True)
class CyclicBounds:
    """Minimum and maximum LR for a cyclical or one-cycle schedule, with the rule that produced them.

    When the curve cannot support bounds, both are ``None`` and ``reason`` says what to change.

    Examples:
      >>> b = CyclicBounds(min_lr=4e-4, max_lr=1e-2, rule="max = lr at loss minimum / 3", evidence="...")
      >>> CyclicBounds.from_dict(b.to_dict()) == b
      True
    """

    min_lr: float | None
    max_lr: float | None
    rule: str
    evidence: str
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.max_lr is not None

    def __str__(self) -> str:
        if self.max_lr is None:
            return f"cyclic bounds: none ({self.reason})"
        return f"cyclic bounds: min_lr={self.min_lr:.3g}, max_lr={self.max_lr:.3g} ({self.rule}); {self.evidence}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "min_lr": self.min_lr,
            "max_lr": self.max_lr,
            "rule": self.rule,
            "evidence": self.evidence,
            "reason": self.reason,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CyclicBounds:
        return cls(
            min_lr=_float_or_none(data.get("min_lr")),
            max_lr=_float_or_none(data.get("max_lr")),
            rule=str(data.get("rule", "")),
            evidence=str(data.get("evidence", "")),
            reason=data.get("reason"),
        )


def _readonly(values: Any) -> np.ndarray:
    arr = np.array(values, dtype=np.float64)
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True, eq=False)
class RangeTestResult(JsonRecord):
    """The record of one LR range test: the LR and raw loss at every step, and how the test ran.

    ``lrs`` are the LRs of the first param group; group ``g`` ran at ``lrs * group_lr_ratios[g]``.
    ``val_losses`` (when a ``val_loader`` was given) are the held-out losses at each step; suggestions use them
    when present, since they are evaluated on the same batches at every step.
    ``repeat_losses`` (from ``find_lr(..., repeats=k)``) holds the raw losses of each of the k range tests, one row
    each, NaN after a run stopped; ``losses`` is then their step-wise mean.
    ``attempts`` (from ``find_lr(..., retries=n)``) holds the earlier range tests, oldest first, whose default
    suggestion declined and named the range this one ran on; this record is the last attempt.

    Examples:
      >>> r = RangeTestResult(lrs=[1e-3, 1e-2, 1e-1], losses=[2.0, 1.0, 3.0])
      >>> RangeTestResult.from_json_str(r.to_json_str()).losses.tolist()
      [2.0, 1.0, 3.0]
    """

    lrs: np.ndarray
    losses: np.ndarray
    val_losses: np.ndarray | None = None
    stop_reason: str = "completed"
    stop_step: int | None = None
    config: Mapping[str, Any] = field(default_factory=dict)
    optimizer: str = ""
    optimizer_created: bool = False
    criterion: str = ""
    group_lr_ratios: tuple[float, ...] = (1.0,)
    device: str = "cpu"
    elapsed_s: float | None = None
    notes: tuple[str, ...] = ()
    repeat_losses: np.ndarray | None = None
    attempts: tuple[RangeTestResult, ...] = ()

    schema_version: ClassVar[int] = SCHEMA_VERSION
    STOP_REASONS: ClassVar[tuple[str, ...]] = ("completed", "diverged", "non_finite", "interrupted", "error")

    def __post_init__(self) -> None:
        lrs = _readonly(self.lrs)
        losses = _readonly(self.losses)
        if lrs.ndim != 1 or losses.shape != lrs.shape:
            raise ValueError(f"lrs and losses must be 1-D of one length, got {lrs.shape} and {losses.shape}")
        object.__setattr__(self, "lrs", lrs)
        object.__setattr__(self, "losses", losses)
        if self.val_losses is not None:
            val = _readonly(self.val_losses)
            if val.shape != lrs.shape:
                raise ValueError(f"val_losses must match lrs in length, got {val.size} and {lrs.size}")
            object.__setattr__(self, "val_losses", val)
        if self.stop_reason not in self.STOP_REASONS:
            raise ValueError(f"stop_reason must be one of {self.STOP_REASONS}, got {self.stop_reason!r}")
        object.__setattr__(self, "group_lr_ratios", tuple(float(r) for r in self.group_lr_ratios))
        object.__setattr__(self, "notes", tuple(str(n) for n in self.notes))
        object.__setattr__(self, "config", dict(self.config))
        if self.repeat_losses is not None:
            rep = _readonly(self.repeat_losses)
            if rep.ndim != 2 or rep.shape[1] != lrs.size:
                raise ValueError(
                    f"repeat_losses must be 2-D with one row per repeat and one column per LR, got shape {rep.shape} "
                    f"for {lrs.size} LRs"
                )
            object.__setattr__(self, "repeat_losses", rep)
        attempts = tuple(self.attempts)
        for i, a in enumerate(attempts):
            if not isinstance(a, RangeTestResult):
                raise TypeError(f"attempts must hold RangeTestResult records, got {type(a).__name__} at index {i}")
        object.__setattr__(self, "attempts", attempts)

    # -- derived views -------------------------------------------------------------------------------------------
    @property
    def num_steps(self) -> int:
        return int(self.lrs.size)

    @property
    def curve(self) -> np.ndarray:
        """The losses suggestions are computed from: ``val_losses`` when recorded, else ``losses``."""
        return self.val_losses if self.val_losses is not None else self.losses

    def smoothed(self, method: str | None = None, **kwargs: Any) -> np.ndarray:
        """The smoothed curve (see :func:`lrfinder.smoothing.smooth`)."""
        from .smoothing import DEFAULT_SMOOTHER, smooth

        return smooth(self.curve, method=method or DEFAULT_SMOOTHER, lrs=self.lrs, **kwargs)

    def suggest(self, method: str = "default", **kwargs: Any) -> Suggestion:
        """The suggestion of the suggester registered as ``method`` (``kwargs`` go to it). For ``"default"`` on a
        test run because the one before it learned nothing (``config["after_no_fall"]``, set by
        ``find_lr(..., retries=n)``), ``after_no_fall=True`` unless given; on a record of repeated tests
        (``repeat_losses``), the geometric mean of their own default suggestions
        (:func:`lrfinder.repeats.combined_suggestion`). Other methods read the averaged curve."""
        from .suggesters import suggest

        if method == "default" and self.config.get("after_no_fall") is True:
            kwargs.setdefault("after_no_fall", True)
        if method == "default" and self.repeat_losses is not None:
            from .repeats import combined_suggestion

            return combined_suggestion(self, **kwargs)
        return suggest(self.lrs, self.curve, method=method, **kwargs)

    @property
    def suggestion(self) -> Suggestion:
        """lrfinder's default suggestion, with its evidence (or the reason there is none)."""
        return self.suggest("default")

    def group_lrs(self, lr: float | None = None) -> tuple[float, ...] | None:
        """The LR of every param group for a first-group ``lr`` (default: the suggestion), keeping their ratios."""
        if lr is None:
            lr = self.suggestion.lr
        if lr is None:
            return None
        return tuple(lr * r for r in self.group_lr_ratios)

    def plot(self, ax=None, **kwargs: Any):
        """Loss vs LR (log axis), raw and smoothed, suggestion marked. Returns the matplotlib ``Axes``."""
        from .plotting import plot_range_test

        return plot_range_test(self, ax=ax, **kwargs)

    def summary(self) -> str:
        """A few human-readable lines: how the test ran and what it suggests."""
        s = self.suggestion
        lines = [
            f"LR range test: {self.num_steps} steps, lr {self.lrs[0]:.3g} -> {self.lrs[-1]:.3g}, "
            f"stopped: {self.stop_reason}" + (f" at step {self.stop_step}" if self.stop_step is not None else ""),
            f"optimizer: {self.optimizer}" + (" (created by lrfinder)" if self.optimizer_created else ""),
            f"criterion: {self.criterion}",
            f"suggestion: {s}",
        ]
        if s.ok and len(self.group_lr_ratios) > 1:
            lines.append("per param group: " + ", ".join(f"{g:.3g}" for g in self.group_lrs(s.lr)))
        if not s.ok and "retry_start_lr" in s.details and not self.attempts and not self.config.get("retries"):
            lines.append("tip: find_lr(..., retries=1), the default, runs the range test this advises for you")
        lines.extend(f"note: {n}" for n in self.notes)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    # -- JSON ----------------------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        def floats(a: np.ndarray | None) -> list[float] | None:
            return None if a is None else [float(x) for x in a]

        return {
            "schema_version": SCHEMA_VERSION,
            "kind": "range_test",
            "lrs": floats(self.lrs),
            "losses": floats(self.losses),
            "val_losses": floats(self.val_losses),
            "stop_reason": self.stop_reason,
            "stop_step": self.stop_step,
            "config": dict(self.config),
            "optimizer": self.optimizer,
            "optimizer_created": self.optimizer_created,
            "criterion": self.criterion,
            "group_lr_ratios": list(self.group_lr_ratios),
            "device": self.device,
            "elapsed_s": self.elapsed_s,
            "notes": list(self.notes),
            "repeat_losses": None if self.repeat_losses is None else [floats(row) for row in self.repeat_losses],
            "attempts": [a.to_dict() for a in self.attempts],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RangeTestResult:
        _check_schema(data, "range_test")
        missing = [k for k in ("lrs", "losses") if k not in data]
        if missing:
            raise ValueError(f"range_test record is missing required key(s) {missing}")
        attempts = data.get("attempts") or []
        if not isinstance(attempts, list):
            raise ValueError(f"'attempts' in a range_test record must be a list of range_test records, got "
                             f"{type(attempts).__name__}")
        return cls(
            lrs=data["lrs"],
            losses=[math.nan if v is None else v for v in data["losses"]],
            val_losses=None
            if data.get("val_losses") is None
            else [math.nan if v is None else v for v in data["val_losses"]],
            stop_reason=data.get("stop_reason", "completed"),
            stop_step=data.get("stop_step"),
            config=data.get("config") or {},
            optimizer=data.get("optimizer", ""),
            optimizer_created=bool(data.get("optimizer_created", False)),
            criterion=data.get("criterion", ""),
            group_lr_ratios=tuple(data.get("group_lr_ratios") or (1.0,)),
            device=data.get("device", "cpu"),
            elapsed_s=data.get("elapsed_s"),
            notes=tuple(data.get("notes") or ()),
            repeat_losses=None
            if data.get("repeat_losses") is None
            else [[math.nan if v is None else v for v in row] for row in data["repeat_losses"]],
            attempts=tuple(cls.from_dict(a) for a in attempts),
        )
