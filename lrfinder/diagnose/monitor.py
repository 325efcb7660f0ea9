"""Online use: record a run from the training loop, ask for a diagnosis at any time.

Framework-free (numpy only); the Lightning and Hugging Face callbacks in :mod:`lrfinder.integrations` feed one.
"""

from __future__ import annotations

import json
import math
import os
from typing import Any

from .records import CurveHistory, Report

__all__ = ["CurveMonitor"]

_FIELDS = ("train_loss", "val_loss", "train_acc", "val_acc", "lr")


def _to_float(value: Any, name: str) -> float:
    """A float from a Python/numpy number or a one-element tensor (no torch import needed)."""
    if isinstance(value, bool):
        raise TypeError(f"{name} must be a number, got {value!r}")
    item = getattr(value, "item", None)
    if callable(item) and not isinstance(value, (int, float)):
        try:
            value = item()
        except (ValueError, RuntimeError) as exc:  # a tensor with more than one element
            raise TypeError(f"{name} must be a single number, got {type(value).__name__} ({exc})") from None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number, got {value!r}") from None


class CurveMonitor:
    """Collect per-epoch (or per-step) values during training; ``.history`` and ``.report()`` work at any time.

    Call :meth:`log` once or several times per epoch: values for the same epoch are merged (train values at the
    end of the epoch, validation values after evaluation). Without ``epoch`` the next number after the last one is
    used (1 for the first).

    Examples:
      >>> m = CurveMonitor(num_classes=10)
      >>> for epoch, (tr, va) in enumerate([(2.3, 2.2), (1.5, 1.6), (1.0, 1.3)]):
      ...     m.log(epoch=epoch, train_loss=tr, val_loss=va, lr=0.1)
      >>> m.log(epoch=2, val_acc=0.61)          # merged into epoch 2
      >>> len(m), m.history.val_acc.tolist()[-1]
      (3, 0.61)
    """

    def __init__(
        self,
        *,
        num_classes: int | None = None,
        loss_kind: str | None = None,
        x_unit: str = "epoch",
        metric_name: str = "accuracy",
        source: str = "CurveMonitor",
    ) -> None:
        if x_unit not in ("epoch", "step"):
            raise ValueError(f"x_unit must be 'epoch' or 'step', got x_unit={x_unit!r}")
        if num_classes is not None and (isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2):
            raise ValueError(f"num_classes must be None or an integer >= 2, got num_classes={num_classes!r}")
        self.num_classes = num_classes
        self.loss_kind = loss_kind
        self.x_unit = x_unit
        self.metric_name = metric_name
        self.source = source
        self._epochs: list[float] = []
        self._rows: list[dict[str, float]] = []

    def __len__(self) -> int:
        return len(self._epochs)

    @property
    def last_epoch(self) -> float | None:
        """The last epoch (or step) logged, or None."""
        return self._epochs[-1] if self._epochs else None

    def log(
        self,
        epoch: float | None = None,
        *,
        train_loss: Any = None,
        val_loss: Any = None,
        train_acc: Any = None,
        val_acc: Any = None,
        lr: Any = None,
    ) -> None:
        """Record the values of one epoch (or step); ``None`` means "not logged". NaN/inf are kept (divergence)."""
        if epoch is None:
            x = self._epochs[-1] + 1 if self._epochs else 1.0
        else:
            x = _to_float(epoch, "epoch")
            if not math.isfinite(x):
                raise ValueError(f"epoch must be a finite number, got epoch={epoch!r}")
        values = {
            name: _to_float(v, name)
            for name, v in zip(_FIELDS, (train_loss, val_loss, train_acc, val_acc, lr))
            if v is not None
        }
        if self._epochs and x < self._epochs[-1]:
            raise ValueError(
                f"epoch={x:g} is before the last logged {self.x_unit} {self._epochs[-1]:g}: log in order "
                "(use a new CurveMonitor for a new run)"
            )
        if self._epochs and x == self._epochs[-1]:
            self._rows[-1].update(values)
        else:
            self._epochs.append(x)
            self._rows.append(values)

    @property
    def history(self) -> CurveHistory:
        """What has been logged so far, as a CurveHistory (missing values are NaN)."""
        if not any(("train_loss" in r or "val_loss" in r) for r in self._rows):
            raise ValueError("nothing to diagnose yet: log(train_loss=...) or log(val_loss=...) first")
        series = {
            name: [r.get(name, math.nan) for r in self._rows] if any(name in r for r in self._rows) else None
            for name in _FIELDS
        }
        return CurveHistory(
            epochs=list(self._epochs),
            **series,
            x_unit=self.x_unit,
            num_classes=self.num_classes,
            loss_kind=self.loss_kind,
            metric_name=self.metric_name,
            source=self.source,
        )

    def report(self) -> Report:
        """The diagnosis of what has been logged so far."""
        from .rules import diagnose

        return diagnose(self.history)

    def to_dict(self) -> dict[str, Any]:
        return self.history.to_dict()

    def to_json(self, path: str | os.PathLike[str]) -> str:
        """Write the history as lrfinder CurveHistory JSON (read it back with ``read_history(path)``)."""
        with open(path, "w", encoding="utf-8") as f:
            json.dump(self.to_dict(), f, indent=1)
        return os.fspath(path)
