"""Learning-curve diagnostics: triage training histories into causes, with evidence, confidence and the fix.

Importing this package must not import torch or matplotlib. Public names are loaded on first use, so that
``lrfinder diagnose --help`` (and every other subcommand's start-up) does not pay for numpy.

Examples:
  >>> import lrfinder.diagnose as d
  >>> d.read_history({"loss": [1.0, 0.5]}).train_loss.tolist()
  [1.0, 0.5]
"""

from __future__ import annotations

import sys
import types
from typing import TYPE_CHECKING, Any

from .._lazy import lazy_exports

# public name -> module that defines it (relative to this package)
_EXPORTS: dict[str, str] = {
    "CODES": ".records",
    "SEVERITIES": ".records",
    "diagnose": ".rules",
    "CurveHistory": ".records",
    "CurveMonitor": ".monitor",
    "Finding": ".records",
    "Report": ".records",
    "find_logs": ".readers",
    "plot_diagnosis": ".plotting",
    "read_histories": ".readers",
    "read_history": ".readers",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())


class _CallablePackage(types.ModuleType):
    """``lrfinder.diagnose`` is both this package and its main function: ``from lrfinder import diagnose`` gives
    one or the other depending on what was imported first, so the package itself calls the function."""

    def __call__(self, history: Any, **kwargs: Any) -> Any:
        from .rules import diagnose

        return diagnose(history, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from .monitor import CurveMonitor
    from .plotting import plot_diagnosis
    from .readers import find_logs, read_histories, read_history
    from .records import CODES, SEVERITIES, CurveHistory, Finding, Report
    from .rules import diagnose
