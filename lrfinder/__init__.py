"""lrfinder: LR range tests you can trust, and learning-curve triage.

``import lrfinder`` is light: it imports neither torch, matplotlib nor tqdm. Public names are loaded on first use.

Examples:
  >>> import lrfinder
  >>> callable(lrfinder.lr_grid)
  True
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> module that defines it (relative to this package)
_EXPORTS: dict[str, str] = {
    "CurveMonitor": ".diagnose.monitor",
    "CyclicBounds": ".records",
    "InitialLossCheck": ".sanity",
    "OverfitCheck": ".sanity",
    "RangeTestResult": ".records",
    "SMOOTHERS": ".smoothing",
    "SUGGESTERS": ".suggesters",
    "Suggestion": ".records",
    "SweepResult": ".sweep",
    "build_schedule": ".schedules",
    "check_initial_loss": ".sanity",
    "cyclic_bounds": ".suggesters",
    "diagnose": ".diagnose",
    "ema": ".smoothing",
    "find_lr": ".engine",
    "lr_at": ".ramp",
    "lr_grid": ".ramp",
    "lr_sweep": ".sweep",
    "optuna_sweep": ".sweep_optuna",
    "overfit_small_batch": ".sanity",
    "plot_diagnosis": ".diagnose.plotting",
    "plot_range_test": ".plotting",
    "plot_schedule": ".schedules",
    "plot_sweep": ".sweep",
    "preserved_state": "._state",
    "read_histories": ".diagnose.readers",
    "read_history": ".diagnose.readers",
    "register_suggester": ".suggesters",
    "smooth": ".smoothing",
    "suggest": ".suggesters",
}

__all__ = sorted([*_EXPORTS, "__version__"])


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'lrfinder' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from ._state import preserved_state
    from .diagnose import diagnose
    from .diagnose.monitor import CurveMonitor
    from .diagnose.plotting import plot_diagnosis
    from .diagnose.readers import read_histories, read_history
    from .engine import find_lr
    from .plotting import plot_range_test
    from .ramp import lr_at, lr_grid
    from .records import CyclicBounds, RangeTestResult, Suggestion
    from .sanity import InitialLossCheck, OverfitCheck, check_initial_loss, overfit_small_batch
    from .schedules import build_schedule, plot_schedule
    from .smoothing import SMOOTHERS, ema, smooth
    from .suggesters import SUGGESTERS, cyclic_bounds, register_suggester, suggest
    from .sweep import SweepResult, lr_sweep, plot_sweep
    from .sweep_optuna import optuna_sweep
