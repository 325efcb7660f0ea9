"""Optuna backend for larger searches: the LR (around a range-test finding) plus any other hyperparameters, with
trials pruned when the learning-curve diagnostics say ``diverged`` or ``lr_too_high``.

Optuna is an extra (``pip install 'lrfinder[optuna]'``); it is imported only when :func:`optuna_sweep` runs. A study
in shared storage (an RDB URL, or a journal file on a shared file system) spreads one search over many processes or
machines: run the same script everywhere with the same ``study_name`` and ``storage`` (see docs/workflow.md).

Examples (skipped by the doctests: Optuna is optional):
  >>> import optuna  # doctest: +SKIP
  >>> from optuna.storages import JournalStorage  # doctest: +SKIP
  >>> from optuna.storages.journal import JournalFileBackend  # doctest: +SKIP
  >>> def train_fn(lr, epochs, *, weight_decay, report):  # doctest: +SKIP
  ...     history = {"train_loss": [], "val_loss": []}
  ...     for epoch in range(epochs):
  ...         ...  # train one epoch, append to history
  ...         report(history)  # diagnosed and reported to Optuna; raises optuna.TrialPruned to stop
  ...     return history
  >>> storage = JournalStorage(JournalFileBackend("/shared/sweep.log"))  # doctest: +SKIP
  >>> study = optuna_sweep(train_fn, around=result, n_trials=50, epochs=5, study_name="mlp", storage=storage,
  ...                      space=lambda t: {"weight_decay": t.suggest_float("weight_decay", 1e-6, 1e-2, log=True)}
  ...                      )  # doctest: +SKIP
  >>> study.best_params  # doctest: +SKIP
  {'lr': 0.041, 'weight_decay': 0.00012}
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Mapping, Sequence
from numbers import Real
from typing import Any

import numpy as np

from .diagnose.records import CurveHistory, Report
from .records import RangeTestResult
from ._checks import int_at_least
from .sweep import DEFAULT_PRUNE, _center_of, _final_and_best, _metric_series, _prune_reason, as_history

__all__ = ["optuna_sweep"]

_METRIC_NAMES = ("auto", "val_loss", "train_loss", "val_acc", "train_acc")


def _require_optuna():
    try:
        import optuna
    except ImportError as exc:
        raise ImportError("optuna_sweep needs Optuna: pip install 'lrfinder[optuna]' (or pip install optuna)") from exc
    return optuna


def _lr_bounds(around: Any, lr_range: Sequence[float] | None, decades: float) -> tuple[float, float]:
    if (around is None) == (lr_range is None):
        raise ValueError("pass exactly one of around= (a range-test result or an LR) and lr_range=(low, high)")
    if lr_range is not None:
        ok = isinstance(lr_range, Sequence) and len(lr_range) == 2
        ok = ok and all(isinstance(v, Real) and math.isfinite(v) for v in lr_range) and 0 < lr_range[0] < lr_range[1]
        if not ok:
            raise ValueError(f"lr_range must be (low, high) with 0 < low < high, got lr_range={lr_range!r}")
        return float(lr_range[0]), float(lr_range[1])
    if isinstance(decades, bool) or not isinstance(decades, Real) or not (0 < decades <= 6):
        raise ValueError(f"decades must be a number in (0, 6], got decades={decades!r}")
    c = _center_of(around)
    return c / 10**decades, c * 10**decades


def optuna_sweep(
    train_fn: Callable[..., Any],
    *,
    n_trials: int = 20,
    around: RangeTestResult | float | None = None,
    lr_range: Sequence[float] | None = None,
    decades: float = 1.5,
    space: Callable[[Any], Mapping[str, Any]] | None = None,
    epochs: int = 3,
    metric: str = "auto",
    score: str = "final",
    prune: Sequence[str] = DEFAULT_PRUNE,
    min_confidence: float = 0.5,
    diagnose_fn: Callable[[CurveHistory], Report] | None = None,
    study: Any = None,
    storage: Any = None,
    study_name: str | None = None,
    sampler: Any = None,
    pruner: Any = None,
    seed: int | None = None,
    timeout: float | None = None,
):
    """Search the LR (log-uniform over ``around`` ± ``decades``, or ``lr_range``) and the hyperparameters of
    ``space`` with Optuna, pruning by the diagnostics; returns the ``optuna.Study``.

    ``train_fn(lr, epochs, **params) -> history`` (``params`` from ``space(trial) -> dict``, where ``space`` calls
    ``trial.suggest_*``). If ``train_fn`` takes a ``report`` keyword it gets ``report(history_so_far)`` to call as
    training goes (e.g. every epoch): the partial history is reported to Optuna (``trial.report``) and diagnosed,
    and ``optuna.TrialPruned`` is raised inside your loop when a ``prune`` code is found (confidence >=
    ``min_confidence``) or when Optuna's pruner says so (``trial.should_prune()``). Let it propagate. The finished
    history is diagnosed too, and pruned the same way. Each trial stores ``codes`` and ``pruned_reason`` in its user
    attributes. The objective is ``metric``'s final (or best) value; ``"auto"`` is ``val_loss`` when the history
    has it, else ``train_loss``; losses are minimised, accuracies maximised.

    ``study`` continues an existing study; else one is created (or loaded: ``load_if_exists``) from ``storage`` and
    ``study_name``, with ``sampler`` (default TPE seeded with ``seed``) and ``pruner`` (Optuna's default).
    """
    optuna = _require_optuna()
    if not callable(train_fn):
        raise TypeError(f"train_fn must be callable(lr, epochs, **params) -> history, got {train_fn!r}")
    low, high = _lr_bounds(around, lr_range, decades)
    n_trials = int_at_least(n_trials, "n_trials", 1)
    epochs = int_at_least(epochs, "epochs", 1)
    if metric not in _METRIC_NAMES:
        raise ValueError(f"metric must be one of {_METRIC_NAMES}, got metric={metric!r}")
    if score not in ("final", "best"):
        raise ValueError(f"score must be 'final' or 'best', got score={score!r}")
    if space is not None and not callable(space):
        raise TypeError(f"space must be callable(trial) -> dict of hyperparameters, got {space!r}")
    if diagnose_fn is None:
        from .diagnose import diagnose as diagnose_fn
    mode = "max" if metric.endswith("acc") else "min"
    direction = "maximize" if mode == "max" else "minimize"
    if study is None:
        study = optuna.create_study(
            storage=storage,
            study_name=study_name,
            direction=direction,
            sampler=sampler if sampler is not None else optuna.samplers.TPESampler(seed=seed),
            pruner=pruner,
            load_if_exists=True,
        )
    elif study.direction.name.lower() != direction:
        raise ValueError(f"study's direction is {study.direction.name.lower()} but metric {metric!r} needs {direction}")
    takes_report = "report" in inspect.signature(train_fn).parameters

    def resolve(history: CurveHistory) -> str:
        if metric != "auto":
            return metric
        return "val_loss" if history.val_loss is not None else "train_loss"

    def check(trial, history: CurveHistory) -> tuple[float, float, np.ndarray]:
        values = _metric_series(history, resolve(history))
        report = diagnose_fn(history)
        codes = [f.code for f in report.findings]
        trial.set_user_attr("codes", codes)
        reason = _prune_reason(history, values, report, prune, min_confidence)
        if reason is not None:
            trial.set_user_attr("pruned_reason", reason)
            raise optuna.TrialPruned(reason)
        final, best = _final_and_best(values, mode)
        return final, best, values

    def objective(trial) -> float:
        lr = trial.suggest_float("lr", low, high, log=True)
        params = dict(space(trial)) if space is not None else {}
        kwargs = dict(params)
        if takes_report:

            def report(partial: Any) -> None:
                history = as_history(partial, source=f"trial {trial.number}")
                values = _metric_series(history, resolve(history))
                recorded = np.flatnonzero(~np.isnan(values))
                if recorded.size and np.isfinite(values[recorded[-1]]):
                    trial.report(float(values[recorded[-1]]), step=int(recorded[-1]))
                check(trial, history)
                if trial.should_prune():
                    trial.set_user_attr("pruned_reason", "optuna pruner: worse than earlier trials at this step")
                    raise optuna.TrialPruned("pruned by the Optuna pruner")

            kwargs["report"] = report
        history = as_history(train_fn(lr, epochs, **kwargs), source=f"trial {trial.number}")
        final, best, _ = check(trial, history)
        trial.set_user_attr("final", final)
        trial.set_user_attr("best", best)
        return final if score == "final" else best

    study.optimize(objective, n_trials=n_trials, timeout=timeout)
    return study
