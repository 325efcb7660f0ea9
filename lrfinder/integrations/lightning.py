"""PyTorch Lightning: ``LRFinderDiagnosticsCallback`` records the logged metrics per epoch and diagnoses the run
when ``fit`` ends.

    >>> from lrfinder.integrations.lightning import LightningDiagnostics   # no Lightning needed for the logic
    >>> LightningDiagnostics(print_report=False).monitor.x_unit
    'epoch'

Usage (needs ``lightning`` or ``pytorch_lightning``)::

    from lrfinder.integrations.lightning import LRFinderDiagnosticsCallback
    cb = LRFinderDiagnosticsCallback(num_classes=10, report_path="diagnosis.json")
    trainer = Trainer(callbacks=[cb]); trainer.fit(model)
    print(cb.report)          # also cb.monitor.history, cb.monitor.report() at any time

Which logged metric is which is worked out from its name like the log readers do (``train_loss``/``loss``/
``train_loss_epoch``, ``val_loss``, ``val_acc``, ...); ``columns={"val_loss": "my_val"}`` overrides that.
"""

from __future__ import annotations

from typing import Any

from ..diagnose._columns import match_columns
from ..diagnose.monitor import CurveMonitor, _to_float
from ._common import ReportAtEnd, build_class, lazy_class, missing

__all__ = ["LRFinderDiagnosticsCallback", "LightningDiagnostics"]


class LightningDiagnostics(ReportAtEnd):
    """The callback's logic, free of Lightning: it reads ``trainer.callback_metrics``, ``trainer.current_epoch``,
    ``trainer.sanity_checking``, ``trainer.optimizers`` and ``trainer.is_global_zero``.

    Training values are read at the end of each training epoch and again, final, at the start of the next one (or
    at the end of ``fit``); validation values after each validation run (sanity checks skipped); the LR of the first
    param group at the start of each epoch.
    """

    def __init__(self, **options: Any) -> None:
        ReportAtEnd.__init__(self, **options)
        self.monitor = CurveMonitor(num_classes=self.num_classes, loss_kind=self.loss_kind, source="lightning")
        self._lr: float | None = None
        self._last_train_epoch: int | None = None

    def _values(self, trainer: Any, roles: tuple[str, ...]) -> dict[str, Any]:
        metrics = dict(getattr(trainer, "callback_metrics", {}) or {})
        match = match_columns(list(metrics), {r: c for r, c in self.columns.items()}, source="callback_metrics")
        out = {}
        for role in roles:
            cols = match.get(role)
            if cols:
                try:
                    out[role] = sum(_to_float(metrics[c], c) for c in cols)
                except TypeError:  # not a scalar: never stop a training run over a diagnostic
                    continue
        return out

    def _record_train(self, trainer: Any, epoch: int) -> None:
        values = self._values(trainer, ("train_loss", "train_acc"))
        if values:
            self.monitor.log(epoch=epoch, **values)

    def on_train_epoch_start(self, trainer: Any, pl_module: Any) -> None:
        if self._last_train_epoch is not None:
            # The final values of the previous epoch, including what the LightningModule logged in its own
            # on_train_epoch_end (which Lightning calls after the callbacks' one).
            self._record_train(trainer, self._last_train_epoch)
        try:
            self._lr = float(trainer.optimizers[0].param_groups[0]["lr"])
        except (AttributeError, IndexError, KeyError, TypeError):
            self._lr = None

    def on_train_epoch_end(self, trainer: Any, pl_module: Any) -> None:
        self._last_train_epoch = trainer.current_epoch
        if self._lr is not None:
            self.monitor.log(epoch=trainer.current_epoch, lr=self._lr)
        self._record_train(trainer, trainer.current_epoch)

    def on_validation_end(self, trainer: Any, pl_module: Any) -> None:
        # After the whole evaluation loop: the epoch's validation metrics, whichever hook logged them.
        if getattr(trainer, "sanity_checking", False):
            return
        values = self._values(trainer, ("val_loss", "val_acc"))
        if values:
            self.monitor.log(epoch=trainer.current_epoch, **values)

    def on_fit_end(self, trainer: Any, pl_module: Any) -> None:
        if self._last_train_epoch is not None and self.monitor.last_epoch == self._last_train_epoch:
            self._record_train(trainer, self._last_train_epoch)  # the last epoch's final values
        if not getattr(trainer, "is_global_zero", True) or len(self.monitor) == 0:
            return
        try:
            history = self.monitor.history
        except ValueError:  # only LRs/metrics were logged, no loss
            return
        self.finish(history)


def _callback_class() -> type:
    try:
        from lightning.pytorch import Callback
    except ImportError:
        try:
            from pytorch_lightning import Callback
        except ImportError:
            raise missing("LRFinderDiagnosticsCallback", "PyTorch Lightning", "lightning") from None
    return build_class("LRFinderDiagnosticsCallback", Callback, LightningDiagnostics, __name__)


__getattr__ = lazy_class(__name__, "LRFinderDiagnosticsCallback", _callback_class, globals())
