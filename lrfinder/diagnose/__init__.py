"""Learning-curve diagnostics: triage training histories into causes, with evidence, confidence and the fix.

Importing this package must not import torch or matplotlib.
"""

from __future__ import annotations

from .monitor import CurveMonitor
from .plotting import plot_diagnosis
from .readers import read_histories, read_history
from .records import CODES, SEVERITIES, CurveHistory, Finding, Report

__all__ = [
    "CODES",
    "SEVERITIES",
    "CurveHistory",
    "CurveMonitor",
    "Finding",
    "Report",
    "plot_diagnosis",
    "read_histories",
    "read_history",
]
