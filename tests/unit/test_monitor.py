"""CurveMonitor and the framework callbacks' logic, fed with fake trainer/state objects carrying the attributes
the callbacks read (Lightning and transformers are not installed here)."""

import importlib.util
import json
import math
import sys
import types
from types import SimpleNamespace

import numpy as np
import pytest

from lrfinder.diagnose import CurveMonitor, Finding, Report, read_history
from lrfinder.integrations.huggingface import TrainerDiagnostics
from lrfinder.integrations.lightning import LightningDiagnostics


@pytest.fixture
def rules(monkeypatch):
    """A stand-in diagnose() that records what it was given."""
    seen = []

    def diagnose(history, *, num_classes=None):
        seen.append(history)
        return Report(findings=(Finding("healthy", 0.9, "info", "fine", ""),), source=history.source,
                      num_points=len(history))

    if importlib.util.find_spec("lrfinder.diagnose.rules") is not None:
        import lrfinder.diagnose.rules as module
    else:
        module = types.ModuleType("lrfinder.diagnose.rules")
        monkeypatch.setitem(sys.modules, "lrfinder.diagnose.rules", module)
    monkeypatch.setattr(module, "diagnose", diagnose, raising=False)
    return seen


class Scalar:
    """Quacks like a one-element tensor."""

    def __init__(self, v):
        self.v = v

    def item(self):
        return self.v


def test_monitor_merges_values_of_one_epoch_and_fills_gaps_with_nan():
    m = CurveMonitor(num_classes=3, loss_kind="cross_entropy")
    m.log(epoch=0, train_loss=1.2, lr=0.1)
    m.log(epoch=0, val_loss=Scalar(1.1))
    m.log(epoch=1, train_loss=np.float32(0.9), val_loss=1.0, val_acc=0.5)
    m.log(train_loss=float("nan"))  # epoch omitted: 2
    h = m.history
    assert h.epochs.tolist() == [0, 1, 2] and h.num_classes == 3 and h.loss_kind == "cross_entropy"
    assert h.train_loss[:2].tolist() == [1.2, pytest.approx(0.9)] and math.isnan(h.train_loss[2])
    assert h.val_loss[0] == 1.1 and np.isnan(h.val_loss[2])
    assert np.isnan(h.val_acc[0]) and h.val_acc[1] == 0.5
    assert h.lr[0] == 0.1 and np.isnan(h.lr[1]) and h.train_acc is None


def test_monitor_numbers_from_one_without_epochs():
    m = CurveMonitor()
    for v in (3.0, 2.0):
        m.log(train_loss=v)
    assert m.history.epochs.tolist() == [1, 2] and len(m) == 2


def test_monitor_rejects_bad_input():
    m = CurveMonitor()
    with pytest.raises(ValueError, match="nothing to diagnose yet"):
        m.history
    m.log(epoch=5, train_loss=1.0)
    with pytest.raises(ValueError, match=r"epoch=3 is before the last logged epoch 5: log in order"):
        m.log(epoch=3, train_loss=1.0)
    with pytest.raises(TypeError, match=r"val_loss must be a number, got 'low'"):
        m.log(epoch=6, val_loss="low")
    with pytest.raises(ValueError, match=r"x_unit must be 'epoch' or 'step', got x_unit='batch'"):
        CurveMonitor(x_unit="batch")
    with pytest.raises(ValueError, match=r"num_classes must be None or an integer >= 2"):
        CurveMonitor(num_classes=1)


def test_monitor_report_and_json_round_trip(rules, tmp_path):
    m = CurveMonitor(x_unit="step", source="run-7")
    for step, loss in ((100, 2.0), (200, 1.5), (300, float("inf"))):
        m.log(epoch=step, train_loss=loss)
    assert m.report().codes == ("healthy",) and rules[-1].source == "run-7"
    path = m.to_json(tmp_path / "run.json")
    back = read_history(path)
    assert back.x_unit == "step" and back.epochs.tolist() == [100, 200, 300]
    assert back.train_loss[:2].tolist() == [2.0, 1.5] and np.isinf(back.train_loss[2])
    assert json.loads((tmp_path / "run.json").read_text().replace("Infinity", "1e999"))["kind"] == "curve_history"


# ------------------------------------------------------------------------------------------------- Lightning


def fake_trainer(epoch, metrics, lr=0.1, sanity=False):
    return SimpleNamespace(
        current_epoch=epoch, callback_metrics={k: Scalar(v) for k, v in metrics.items()}, sanity_checking=sanity,
        optimizers=[SimpleNamespace(param_groups=[{"lr": lr}])], is_global_zero=True,
    )


def test_lightning_logic_collects_epochs_like_a_fit_loop(rules, tmp_path, capsys):
    cb = LightningDiagnostics(num_classes=10, report_path=tmp_path / "r.json", history_path=tmp_path / "h.json")
    cb.on_validation_end(fake_trainer(0, {"val_loss": 9.9}, sanity=True), None)  # sanity check: ignored
    metrics: dict = {}
    for epoch, (tr, va, acc) in enumerate([(2.0, 1.9, 0.3), (1.5, 1.6, 0.45), (1.2, 1.5, 0.5)]):
        lr = 0.1 if epoch < 2 else 0.01
        cb.on_train_epoch_start(fake_trainer(epoch, metrics, lr=lr), None)
        metrics.update({"train_loss_step": 7.0, "train_loss_epoch": tr})  # logged in training_step
        cb.on_validation_end(fake_trainer(epoch, {**metrics, "val_loss": va, "val_acc": acc}), None)
        metrics.update({"val_loss": va, "val_acc": acc})
        cb.on_train_epoch_end(fake_trainer(epoch, metrics), None)
    h = cb.monitor.history
    assert h.epochs.tolist() == [0, 1, 2] and h.train_loss.tolist() == [2.0, 1.5, 1.2]
    assert h.val_loss.tolist() == [1.9, 1.6, 1.5] and h.val_acc.tolist() == [0.3, 0.45, 0.5]
    assert h.lr.tolist() == [0.1, 0.1, 0.01] and h.num_classes == 10
    cb.on_fit_end(fake_trainer(3, metrics), None)  # Lightning's current_epoch has moved past the last one
    assert cb.report.codes == ("healthy",)
    assert "lrfinder diagnosis:" in capsys.readouterr().out
    assert json.loads((tmp_path / "r.json").read_text())["kind"] == "diagnosis"
    assert read_history(tmp_path / "h.json").train_loss.tolist() == [2.0, 1.5, 1.2]


def test_lightning_logic_takes_train_values_the_module_logs_at_epoch_end(rules):
    """A LightningModule that logs train_loss in its own on_train_epoch_end does so after the callbacks' hook:
    the callback sees last epoch's value then, and the final one at the next epoch start (or at fit end)."""
    cb = LightningDiagnostics(print_report=False)
    metrics: dict = {}
    for epoch, tr in enumerate([3.0, 2.0, 1.0]):
        cb.on_train_epoch_start(fake_trainer(epoch, metrics), None)
        cb.on_train_epoch_end(fake_trainer(epoch, metrics), None)  # stale (or no) train_loss here
        metrics["train_loss"] = tr  # the module's on_train_epoch_end
    cb.on_fit_end(fake_trainer(3, metrics), None)
    assert cb.monitor.history.train_loss.tolist() == [3.0, 2.0, 1.0]


def test_lightning_logic_column_override_and_nothing_logged(rules):
    cb = LightningDiagnostics(columns={"train_loss": "objective"}, print_report=False)
    cb.on_train_epoch_end(fake_trainer(0, {"objective": 0.7}), None)
    assert cb.monitor.history.train_loss.tolist() == [0.7]
    empty = LightningDiagnostics(print_report=False)
    empty.on_fit_end(fake_trainer(0, {}), None)
    assert empty.report is None and rules == []


def test_lightning_callback_class():
    pytest.importorskip("lightning")
    from lightning.pytorch import Callback

    from lrfinder.integrations.lightning import LRFinderDiagnosticsCallback

    cb = LRFinderDiagnosticsCallback(print_report=False)
    assert isinstance(cb, Callback) and isinstance(cb, LightningDiagnostics)


def test_callback_classes_need_their_framework():
    if importlib.util.find_spec("lightning") is None and importlib.util.find_spec("pytorch_lightning") is None:
        with pytest.raises(ImportError, match=r"needs PyTorch Lightning.*pip install 'lrfinder\[lightning\]'"):
            from lrfinder.integrations.lightning import LRFinderDiagnosticsCallback  # noqa: F401
    if importlib.util.find_spec("transformers") is None:
        with pytest.raises(ImportError, match=r"needs transformers.*pip install 'lrfinder\[transformers\]'"):
            from lrfinder.integrations.huggingface import LRFinderDiagnosticsTrainerCallback  # noqa: F401


# ----------------------------------------------------------------------------------------- Hugging Face Trainer


def test_trainer_logic_reads_logs_like_trainer_state(rules, tmp_path, capsys):
    cb = TrainerDiagnostics(num_classes=2, report_path=tmp_path / "r.json")
    state = SimpleNamespace(global_step=0, epoch=0.0, is_world_process_zero=True)
    for step in range(10, 121, 10):  # logging every 10 steps, evaluation every 20
        state.global_step, state.epoch = step, step / 40
        cb.on_log(None, state, None, logs={"loss": 1.0 - step / 200, "learning_rate": 1e-4, "epoch": state.epoch})
        if step % 20 == 0:
            metrics = {"eval_loss": 1.1 - step / 250, "eval_accuracy": 0.5 + step / 400, "epoch": state.epoch}
            cb.on_log(None, state, None, logs=metrics)
            cb.on_evaluate(None, state, None, metrics=metrics)  # the same metrics again: not duplicated
    cb.on_log(None, state, None, logs={"train_runtime": 12.0, "train_loss": 0.7, "epoch": 3.0})
    h = cb.history
    assert h.epochs.tolist() == [0.5, 1.0, 1.5, 2.0, 2.5, 3.0] and h.num_classes == 2
    # steps 10 and 20 (loss 0.95, 0.90) belong to the evaluation at step 20
    assert h.train_loss.tolist() == pytest.approx([0.925, 0.825, 0.725, 0.625, 0.525, 0.425])
    assert h.val_loss.tolist() == pytest.approx([1.1 - s / 250 for s in (20, 40, 60, 80, 100, 120)])
    assert cb.diagnose().codes == ("healthy",)
    cb.on_train_end(None, state, None)
    assert cb.report is not None and json.loads((tmp_path / "r.json").read_text())["kind"] == "diagnosis"
    assert "lrfinder diagnosis:" in capsys.readouterr().out


def test_trainer_logic_only_on_the_main_process_and_with_a_loss(rules):
    cb = TrainerDiagnostics(print_report=False)
    with pytest.raises(ValueError, match="nothing logged yet"):
        cb.history
    state = SimpleNamespace(global_step=1, epoch=0.1, is_world_process_zero=False)
    cb.on_log(None, state, None, logs={"loss": 1.0})
    cb.on_train_end(None, state, None)
    assert cb.report is None
    state.is_world_process_zero = True
    cb.on_train_end(None, state, None)
    assert cb.report is not None


def test_trainer_callback_class():
    pytest.importorskip("transformers")
    from transformers import TrainerCallback

    from lrfinder.integrations.huggingface import LRFinderDiagnosticsTrainerCallback

    assert isinstance(LRFinderDiagnosticsTrainerCallback(print_report=False), TrainerCallback)
