"""The Optuna backend: LR + another hyperparameter, pruning by the diagnostics, a study shared through storage."""

from __future__ import annotations

import math
import sys

import pytest

from lrfinder.diagnose.records import CurveHistory, Finding, Report


def healthy(history: CurveHistory) -> Report:
    return Report(findings=(Finding("healthy", 0.9, "info", "fine", ""),), num_points=len(history))


def flag_lr_above(threshold: float):
    def diagnose(history: CurveHistory) -> Report:
        if history.lr is not None and history.lr[0] > threshold:
            return Report(findings=(Finding("lr_too_high", 0.9, "error", "loss bouncing", "lower the LR"),))
        return healthy(history)

    return diagnose


def toy_train(lr: float, epochs: int, *, wd: float = 1e-4, report=None, log: list | None = None) -> dict:
    """Final val loss 0.1 + (log10 lr + 2)^2 + (log10 wd + 4)^2 / 10, approached as 1/epoch."""
    final = 0.1 + (math.log10(lr) + 2) ** 2 + (math.log10(wd) + 4) ** 2 / 10
    history: dict = {"val_loss": [], "lr": []}
    for e in range(epochs):
        history["val_loss"].append(final + 1.0 / (e + 1))
        history["lr"].append(lr)
        if log is not None:
            log.append((lr, e))
        if report is not None:
            report(history)
    return history


@pytest.fixture
def optuna():
    optuna = pytest.importorskip("optuna")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


def test_finds_lr_and_weight_decay_near_the_optimum(optuna):
    from lrfinder.sweep_optuna import optuna_sweep

    study = optuna_sweep(
        toy_train, n_trials=40, around=0.01, decades=2.0, epochs=3,
        space=lambda trial: {"wd": trial.suggest_float("wd", 1e-6, 1e-2, log=True)},
        diagnose_fn=healthy, seed=0,
    )
    assert len(study.trials) == 40
    assert abs(math.log10(study.best_params["lr"]) + 2) < 0.3
    assert abs(math.log10(study.best_params["wd"]) + 4) < 1.0
    assert study.best_trial.user_attrs["codes"] == ["healthy"]


def test_diagnostics_prune_trials_inside_the_training_loop(optuna):
    from lrfinder.sweep_optuna import optuna_sweep

    log: list = []
    study = optuna_sweep(
        lambda lr, epochs, report: toy_train(lr, epochs, wd=1e-4, report=report, log=log),
        n_trials=15, lr_range=(1e-4, 10.0), epochs=5, diagnose_fn=flag_lr_above(0.3), seed=1,
    )
    states = {t.number: t.state for t in study.trials}
    pruned = [t for t in study.trials if t.state == optuna.trial.TrialState.PRUNED]
    assert pruned, states
    for t in pruned:
        if t.params["lr"] > 0.3:
            assert t.user_attrs["pruned_reason"].startswith("lr_too_high (0.90): loss bouncing")
            # pruned on the first report: its training loop never reached a second epoch
            assert [e for lr, e in log if lr == t.params["lr"]] == [0]
    assert all(t.params["lr"] <= 0.3 for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE)
    assert study.best_params["lr"] <= 0.3


def test_a_study_in_shared_storage_collects_the_trials_of_every_worker(optuna, tmp_path):
    from lrfinder.sweep_optuna import optuna_sweep

    storage = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(tmp_path / "j.log")))
    for worker in range(2):  # two workers, as two machines would run the same script
        optuna_sweep(toy_train, n_trials=4, around=0.01, study_name="shared", storage=storage, diagnose_fn=healthy,
                     seed=worker)
    study = optuna.load_study(study_name="shared", storage=storage)
    assert len(study.trials) == 8


def test_non_finite_histories_are_pruned(optuna):
    from lrfinder.sweep_optuna import optuna_sweep

    def nan_above(lr, epochs):
        return {"train_loss": [1.0, math.nan] if lr > 0.1 else [1.0, 0.5]}

    study = optuna_sweep(nan_above, n_trials=10, lr_range=(1e-3, 10.0), diagnose_fn=healthy, seed=0)
    for t in study.trials:
        if t.params["lr"] > 0.1:
            assert t.state == optuna.trial.TrialState.PRUNED
            assert t.user_attrs["pruned_reason"] == "non-finite: train_loss ends in NaN"


def test_bad_arguments(optuna):
    from lrfinder.sweep_optuna import optuna_sweep

    with pytest.raises(ValueError, match="exactly one of around="):
        optuna_sweep(toy_train, diagnose_fn=healthy)
    with pytest.raises(ValueError, match="lr_range must be"):
        optuna_sweep(toy_train, lr_range=(1.0, 0.1), diagnose_fn=healthy)
    with pytest.raises(ValueError, match="metric must be one of"):
        optuna_sweep(toy_train, around=0.1, metric="acc", diagnose_fn=healthy)
    maximise = optuna.create_study(direction="maximize")
    with pytest.raises(ValueError, match="study's direction is maximize but metric 'auto' needs minimize"):
        optuna_sweep(toy_train, around=0.1, study=maximise, diagnose_fn=healthy)


def test_without_optuna_the_error_says_how_to_install(monkeypatch):
    from lrfinder.sweep_optuna import optuna_sweep

    monkeypatch.setitem(sys.modules, "optuna", None)
    with pytest.raises(ImportError, match=r"pip install 'lrfinder\[optuna\]'"):
        optuna_sweep(toy_train, around=0.1, diagnose_fn=healthy)
