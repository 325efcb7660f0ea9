"""Records of the diagnostics: a learning-curve history in, a report of findings out.

Pure data, numpy only: importing this module must not import torch or matplotlib.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from .._jsonio import JsonRecord
from ..records import SCHEMA_VERSION, _check_schema

__all__ = ["CODES", "SEVERITIES", "CurveHistory", "Finding", "Report"]

#: Diagnosis codes, and what each one means (see docs/diagnostics.md).
CODES: dict[str, str] = {
    "bad_init": "the start is abnormal: loss far above chance, or not decreasing at first",
    "lr_too_high": "loss high and not settling, oscillating, or rising as training goes on",
    "early_decay": "progress stalls right after an early LR cut, well above where the trend was heading",
    "overfitting": "training keeps improving while validation gets worse after its best",
    "underfitting": "training and validation close together but both poor, and levelled off",
    "still_improving": "validation still clearly improving at the end: train longer",
    "diverged": "NaN/inf or an exploding loss",
    "plateau": "a long flat stretch without an LR change, then progress again",
    "healthy": "none of the above",
    "insufficient_data": "too few points to judge",
}
SEVERITIES = ("info", "warning", "error")

_SERIES = ("train_loss", "val_loss", "train_acc", "val_acc", "lr")


def _series(values: Any, name: str, n: int | None) -> np.ndarray | None:
    if values is None:
        return None
    arr = np.array([np.nan if v is None else v for v in values], dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if n is not None and arr.size != n:
        raise ValueError(f"{name} has {arr.size} values but epochs has {n}: every series must have one value per epoch")
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True, eq=False)
class CurveHistory:
    """Per-epoch (or per-step) training history: the input of :func:`lrfinder.diagnose.diagnose`.

    Every series has one value per entry of ``epochs``; a missing value is NaN. ``train_acc``/``val_acc`` hold
    accuracy or another higher-is-better metric in [0, 1] (``metric_name`` says which). ``x_unit`` is ``"epoch"``
    or ``"step"``. ``num_classes`` and ``loss_kind`` (``"cross_entropy"``, ``"mse"`` or ``None``) enable the
    chance-level checks.
    """

    epochs: np.ndarray
    train_loss: np.ndarray | None = None
    val_loss: np.ndarray | None = None
    train_acc: np.ndarray | None = None
    val_acc: np.ndarray | None = None
    lr: np.ndarray | None = None
    x_unit: str = "epoch"
    num_classes: int | None = None
    loss_kind: str | None = None
    metric_name: str = "accuracy"
    source: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        epochs = _series(self.epochs, "epochs", None)
        assert epochs is not None
        object.__setattr__(self, "epochs", epochs)
        for name in _SERIES:
            object.__setattr__(self, name, _series(getattr(self, name), name, epochs.size))
        if all(getattr(self, name) is None for name in ("train_loss", "val_loss")):
            raise ValueError("a history needs train_loss or val_loss (or both); got neither")
        if self.x_unit not in ("epoch", "step"):
            raise ValueError(f"x_unit must be 'epoch' or 'step', got x_unit={self.x_unit!r}")
        if self.num_classes is not None and (not isinstance(self.num_classes, int) or self.num_classes < 2):
            raise ValueError(f"num_classes must be None or an integer >= 2, got num_classes={self.num_classes!r}")
        object.__setattr__(self, "extra", dict(self.extra))

    def __len__(self) -> int:
        return int(self.epochs.size)

    def to_dict(self) -> dict[str, Any]:
        def floats(a):
            return None if a is None else [float(x) for x in a]

        return {
            "schema_version": SCHEMA_VERSION,
            "kind": "curve_history",
            "epochs": floats(self.epochs),
            **{name: floats(getattr(self, name)) for name in _SERIES},
            "x_unit": self.x_unit,
            "num_classes": self.num_classes,
            "loss_kind": self.loss_kind,
            "metric_name": self.metric_name,
            "source": self.source,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CurveHistory:
        _check_schema(data, "curve_history")
        return cls(
            epochs=data["epochs"],
            **{name: data.get(name) for name in _SERIES},
            x_unit=data.get("x_unit", "epoch"),
            num_classes=data.get("num_classes"),
            loss_kind=data.get("loss_kind"),
            metric_name=data.get("metric_name", "accuracy"),
            source=data.get("source", ""),
        )


@dataclass(frozen=True)
class Finding:
    """One diagnosis: what the curve shows, how sure we are, the evidence behind it and what to try.

    ``span`` is the ``(first, last)`` x value (epoch or step) of the evidence; ``numbers`` the figures quoted in
    ``evidence``.
    """

    code: str
    confidence: float
    severity: str
    evidence: str
    advice: str
    span: tuple[float, float] | None = None
    numbers: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.code not in CODES:
            raise ValueError(f"unknown finding code {self.code!r}; known: {sorted(CODES)}")
        if not 0.0 <= self.confidence <= 1.0:
            raise ValueError(f"confidence must be in [0, 1], got {self.confidence!r}")
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}, got {self.severity!r}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "confidence": round(float(self.confidence), 4),
            "severity": self.severity,
            "evidence": self.evidence,
            "advice": self.advice,
            "span": None if self.span is None else [float(self.span[0]), float(self.span[1])],
            "numbers": {k: float(v) for k, v in self.numbers.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Finding:
        span = data.get("span")
        return cls(
            code=data["code"],
            confidence=float(data["confidence"]),
            severity=data["severity"],
            evidence=data.get("evidence", ""),
            advice=data.get("advice", ""),
            span=None if span is None else (float(span[0]), float(span[1])),
            numbers=dict(data.get("numbers") or {}),
        )


@dataclass(frozen=True)
class Report(JsonRecord):
    """The findings for one history, most important first. ``healthy`` or ``insufficient_data`` stand alone."""

    findings: tuple[Finding, ...]
    source: str = ""
    num_points: int = 0
    x_unit: str = "epoch"

    schema_version: ClassVar[int] = SCHEMA_VERSION

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(f.code for f in self.findings)

    @property
    def problems(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.code not in ("healthy", "insufficient_data"))

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "kind": "diagnosis",
            "source": self.source,
            "num_points": self.num_points,
            "x_unit": self.x_unit,
            "findings": [f.to_dict() for f in self.findings],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Report:
        _check_schema(data, "diagnosis")
        return cls(
            findings=tuple(Finding.from_dict(f) for f in data.get("findings", [])),
            source=data.get("source", ""),
            num_points=int(data.get("num_points", 0)),
            x_unit=data.get("x_unit", "epoch"),
        )

    def __str__(self) -> str:
        head = f"{self.source or 'history'} ({self.num_points} {self.x_unit}s)"
        lines = [head]
        for f in self.findings:
            lines.append(f"  {f.code} [{f.severity}, confidence {f.confidence:.2f}]: {f.evidence}")
            if f.advice:
                lines.append(f"    -> {f.advice}")
        return "\n".join(lines)


