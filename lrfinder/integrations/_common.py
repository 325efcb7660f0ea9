"""What the framework callbacks share: the end-of-training report and the lazy class builder."""

from __future__ import annotations

import os
import sys
from typing import Any

from ..diagnose.records import CurveHistory, Report


class ReportAtEnd:
    """Diagnose a history when training ends: keep the report, print it, and write it (and the history) to JSON."""

    def __init__(
        self,
        *,
        print_report: bool = True,
        report_path: str | os.PathLike[str] | None = None,
        history_path: str | os.PathLike[str] | None = None,
    ) -> None:
        self.print_report = print_report
        self.report_path = report_path
        self.history_path = history_path
        self.report: Report | None = None

    def finish(self, history: CurveHistory) -> Report:
        from ..diagnose.rules import diagnose

        self.report = diagnose(history)
        if self.print_report:
            print(f"lrfinder diagnosis:\n{self.report}", file=sys.stdout)
        if self.report_path is not None:
            self.report.to_json(self.report_path)
        if self.history_path is not None:
            import json

            with open(self.history_path, "w", encoding="utf-8") as f:
                json.dump(history.to_dict(), f, indent=1)
        return self.report


def build_class(name: str, base: type, logic: type, extra: str) -> type:
    """A class ``name`` deriving from the framework's callback ``base`` and our framework-free ``logic``."""

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        base.__init__(self)
        logic.__init__(self, *args, **kwargs)

    return type(name, (logic, base), {"__init__": __init__, "__doc__": logic.__doc__, "__module__": extra})


def missing(name: str, package: str, extra: str) -> ImportError:
    return ImportError(f"{name} needs {package}, which is not installed: pip install 'lrfinder[{extra}]'")
