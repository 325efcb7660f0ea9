"""Learning-curve diagnostics: triage training histories into causes, with evidence, confidence and the fix.

Importing this package must not import torch or matplotlib.
"""

from __future__ import annotations

from .records import CODES, SEVERITIES, CurveHistory, Finding, Report

__all__ = ["CODES", "SEVERITIES", "CurveHistory", "Finding", "Report"]
