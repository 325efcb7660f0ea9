"""Hugging Face Trainer: ``LRFinderDiagnosticsTrainerCallback`` collects what the Trainer logs (training loss,
learning rate, evaluation metrics) and diagnoses the run when training ends.

    >>> from lrfinder.integrations.huggingface import TrainerDiagnostics   # no transformers needed for the logic
    >>> TrainerDiagnostics(print_report=False).records
    []

Usage (needs ``transformers``)::

    from lrfinder.integrations.huggingface import LRFinderDiagnosticsTrainerCallback
    cb = LRFinderDiagnosticsTrainerCallback(num_classes=2, report_path="diagnosis.json")
    trainer = Trainer(..., callbacks=[cb]); trainer.train()
    print(cb.report)          # cb.history / cb.diagnose() at any time during training

The records are read like a ``trainer_state.json`` (see :mod:`lrfinder.diagnose.readers`): training losses are
averaged between evaluations; the run summary (``train_runtime``, mean ``train_loss``) is left out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..diagnose.records import CurveHistory, Report
from ._common import ReportAtEnd, build_class, lazy_class, missing

__all__ = ["LRFinderDiagnosticsTrainerCallback", "TrainerDiagnostics"]


class TrainerDiagnostics(ReportAtEnd):
    """The callback's logic, free of transformers: it keeps every ``logs`` dict passed to ``on_log`` (with the
    state's ``global_step`` and ``epoch``) and reads ``state.is_world_process_zero`` at the end."""

    def __init__(self, **options: Any) -> None:
        ReportAtEnd.__init__(self, **options)
        self.records: list[dict[str, Any]] = []

    def on_log(self, args: Any, state: Any, control: Any, logs: Mapping[str, Any] | None = None, **kwargs: Any):
        if not logs:
            return
        record = {k: v for k, v in logs.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
        if getattr(state, "global_step", None) is not None:
            record.setdefault("step", state.global_step)
        if getattr(state, "epoch", None) is not None:
            record.setdefault("epoch", state.epoch)
        self.records.append(record)

    def on_evaluate(self, args: Any, state: Any, control: Any, metrics: Mapping[str, Any] | None = None, **kwargs):
        # The Trainer passes the same metrics to on_log; only keep them here if on_log did not see them.
        if metrics and not any(all(r.get(k) == v for k, v in metrics.items()) for r in self.records[-3:]):
            self.on_log(args, state, control, logs=metrics)

    @property
    def history(self) -> CurveHistory:
        from ..diagnose.readers import read_history

        if not self.records:
            raise ValueError("nothing logged yet: the Trainer has not called on_log")
        h = read_history(
            {"log_history": self.records}, columns=self.columns or None, num_classes=self.num_classes,
            loss_kind=self.loss_kind,
        )
        return h

    def diagnose(self) -> Report:
        """The diagnosis of what the Trainer has logged so far."""
        from ..diagnose.rules import diagnose

        return diagnose(self.history)

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if not getattr(state, "is_world_process_zero", True) or not self.records:
            return
        try:
            history = self.history
        except ValueError:  # no loss logged
            return
        self.finish(history)


def _callback_class() -> type:
    try:
        from transformers import TrainerCallback
    except ImportError:
        raise missing("LRFinderDiagnosticsTrainerCallback", "transformers", "transformers") from None
    return build_class("LRFinderDiagnosticsTrainerCallback", TrainerCallback, TrainerDiagnostics, __name__)


__getattr__ = lazy_class(__name__, "LRFinderDiagnosticsTrainerCallback", _callback_class, globals())
