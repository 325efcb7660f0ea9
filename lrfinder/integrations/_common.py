"""What the framework callbacks share: the end-of-training report and the lazy class builder."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from typing import Any

from ..diagnose.records import CurveHistory, Report


class ReportAtEnd:
    """Options shared by the callbacks, and what they do when training ends: diagnose the history, keep the
    report, print it, and write it (and the history) to JSON.

    ``num_classes``/``loss_kind`` enable the chance-level checks; ``columns`` overrides which logged metric is which
    (as in ``read_history``); ``print_report`` prints the report at the end; ``report_path`` / ``history_path``
    write the report / the history as JSON there.
    """

    def __init__(
        self,
        *,
        num_classes: int | None = None,
        loss_kind: str | None = None,
        columns: Mapping[str, str | None] | None = None,
        print_report: bool = True,
        report_path: str | os.PathLike[str] | None = None,
        history_path: str | os.PathLike[str] | None = None,
    ) -> None:
        self.num_classes = num_classes
        self.loss_kind = loss_kind
        self.columns = dict(columns or {})
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


def lazy_class(module: str, name: str, factory: Callable[[], type], namespace: dict[str, Any]):
    """A module ``__getattr__`` that builds the class ``name`` on first use (importing its framework then)."""

    def __getattr__(attr: str) -> Any:
        if attr == name:
            cls = factory()
            namespace[attr] = cls
            return cls
        raise AttributeError(f"module {module!r} has no attribute {attr!r}")

    return __getattr__
