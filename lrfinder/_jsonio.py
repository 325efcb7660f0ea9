"""JSON file and string round-trips for records that define ``to_dict``/``from_dict`` (with ``schema_version``)."""

from __future__ import annotations

import json
import math
import os
from typing import Any, TypeVar

__all__ = ["JsonRecord", "finite_or_none", "nan_if_none"]

T = TypeVar("T", bound="JsonRecord")


def finite_or_none(x: Any) -> float | None:
    """``float(x)``, or ``None`` for ``None``/NaN/inf (plain JSON has no NaN)."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def nan_if_none(x: Any) -> float:
    return math.nan if x is None else float(x)


class JsonRecord:
    """Mixin: ``to_json_str``/``from_json_str``/``to_json``/``from_json`` over ``to_dict``/``from_dict``."""

    def to_dict(self) -> dict[str, Any]:  # pragma: no cover - defined by each record
        raise NotImplementedError

    @classmethod
    def from_dict(cls: type[T], data: Any) -> T:  # pragma: no cover - defined by each record
        raise NotImplementedError

    def to_json_str(self) -> str:
        return json.dumps(self.to_dict(), indent=1)

    @classmethod
    def from_json_str(cls: type[T], text: str) -> T:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not valid JSON: {exc}") from None
        return cls.from_dict(data)

    def to_json(self, path: str | os.PathLike[str]) -> None:
        """Write the record to ``path`` as JSON (``schema_version`` included)."""
        with open(path, "w", encoding="utf-8") as f:
            f.write(self.to_json_str())

    @classmethod
    def from_json(cls: type[T], path: str | os.PathLike[str]) -> T:
        """Read a record written by :meth:`to_json`; no code is executed."""
        with open(path, encoding="utf-8") as f:
            text = f.read()
        try:
            return cls.from_json_str(text)
        except ValueError as exc:
            raise ValueError(f"{os.fspath(path)}: {exc}") from None
