"""Read the training logs people already have into a :class:`CurveHistory`.

Formats (``format="auto"`` tells them apart by content, not by file name):

* CSV/TSV: Keras ``CSVLogger``, PyTorch Lightning ``metrics.csv`` (step rows and epoch rows interleaved, empty
  cells), YOLOv5/v8 ``results.csv`` (padded names; loss components summed), any table with an epoch or step column.
* JSON: Keras ``history.history`` (dict of lists), Hugging Face ``trainer_state.json`` (``log_history``), lists of
  records, lrfinder's own :class:`CurveHistory` JSON, the dev-curves schema (``n_classes``, ``loss_fn``).
* TensorBoard event files, or a run directory holding them (``train/`` and ``validation/`` sub-runs are merged).
* Python objects: dicts, lists of records or of numbers, a Keras ``History``, a pandas ``DataFrame``.

Columns are mapped to series automatically (see :mod:`lrfinder.diagnose._columns`); ``columns={"train_loss":
"my_col"}`` overrides the mapping. Per-step logs are aggregated: the mean per epoch when integer epochs are logged,
else the mean of the training values between two evaluations, else one point per logged step (``x_unit="step"``).
Non-finite values (``nan``/``inf`` strings, ``NaN``/``Infinity`` tokens) and empty cells become NaN.

Bad input raises ``ValueError`` naming the file, the line or column and what was expected; a file that parses but
holds no loss series raises :class:`NotALogError` (a ``ValueError``). Imports numpy only.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from . import _tfevents
from ._columns import SERIES_ROLES, ColumnMatch, match_columns
from .records import CurveHistory

__all__ = ["FORMATS", "LOSS_KINDS", "NotALogError", "find_logs", "read_histories", "read_history", "read_log"]

#: Values of ``format``: ``auto`` detects the format from the content.
FORMATS = ("auto", "csv", "json", "tensorboard")
#: Values of ``loss_kind`` (aliases such as ``categorical_crossentropy`` are mapped onto these).
LOSS_KINDS = ("cross_entropy", "mse")
#: Aggregate per epoch / per evaluation only when that leaves at least this many points; else keep the steps.
MIN_POINTS = 5

_LOG_SUFFIXES = (".csv", ".tsv", ".json")
# JSON files that sit beside logs (Hugging Face model folders, web projects) and are never training logs.
_NOT_LOG_NAMES = frozenset({
    "config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "generation_config.json",
    "vocab.json", "preprocessor_config.json", "adapter_config.json", "added_tokens.json", "package.json",
    "package-lock.json", "tsconfig.json", "model.safetensors.index.json", "pytorch_model.bin.index.json",
})
_SPLIT_DIRS = frozenset({"train", "training", "validation", "val", "valid", "eval", "test"})
_LOSS_ALIASES = {
    "cross_entropy": "cross_entropy", "crossentropy": "cross_entropy", "ce": "cross_entropy", "nll": "cross_entropy",
    "categorical_crossentropy": "cross_entropy", "sparse_categorical_crossentropy": "cross_entropy",
    "binary_crossentropy": "cross_entropy", "bce": "cross_entropy", "log_loss": "cross_entropy",
    "mse": "mse", "mean_squared_error": "mse", "l2": "mse",
}
_NAN_WORDS = frozenset({"nan", "-nan", "+nan"})
_MISSING_WORDS = frozenset({"none", "null", "na", "n/a"})
_TENSOR = re.compile(r"tensor\(\s*([^,\s)]+).*\)", re.DOTALL)
_HF_SUMMARY_KEYS = ("train_runtime", "total_flos")
_DATA_ROLES = ("train_loss", "val_loss", "train_acc", "val_acc")


class NotALogError(ValueError):
    """The input parsed, but holds no loss series: it does not look like a training log."""


# ----------------------------------------------------------------------------------------------------- tables


@dataclass
class _Table:
    """Columns of raw cells from one log, before mapping and aggregation."""

    source: str
    fmt: str
    cells: dict[str, Sequence[Any]]
    row_label: Any = None  # callable(row index) -> "line 7" / "log_history[3]"
    parsed: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        return list(self.cells) or list(self.parsed)  # TensorBoard tables hold parsed columns only

    def where(self, i: int) -> str:
        return self.row_label(i) if self.row_label is not None else f"row {i}"

    def floats(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """(values, present) of a column: NaN and present=False for empty cells; ValueError on text."""
        if name in self.parsed:
            return self.parsed[name]
        cells = self.cells[name]
        n = len(cells)
        values = np.full(n, np.nan)
        present = np.ones(n, dtype=bool)
        # Fast path: numbers and numeric strings, with None / blank cells as missing (numpy alone would turn None
        # into a NaN that looks logged). Anything else (words, tensors printed as text) takes the loop below.
        missing = [c is None or (type(c) is str and (not c or c.isspace())) for c in cells]
        try:
            filled = [math.nan if m else c for c, m in zip(cells, missing)] if any(missing) else cells
            arr = np.asarray(filled, dtype=np.float64)
            if arr.shape == (n,):
                present = ~np.asarray(missing, dtype=bool)
                self.parsed[name] = (arr, present)
                return arr, present
        except (ValueError, TypeError, OverflowError):
            pass
        for i, cell in enumerate(cells):
            v, ok = _cell(cell)
            if v is None:
                raise ValueError(
                    f"{self.source}: {self.where(i)}, column {name.strip()!r}: expected a number "
                    f"(or nan/inf/empty), got {cell!r}"
                )
            values[i], present[i] = v, ok
        self.parsed[name] = (values, present)
        return values, present


def _cell(cell: Any) -> tuple[float | None, bool]:
    """(value, present) of one cell; value None when the cell is not a number."""
    if cell is None:
        return math.nan, False
    if isinstance(cell, bool):
        return None, False
    if isinstance(cell, (int, float)):
        return float(cell), True
    if isinstance(cell, str):
        s = cell.strip()
        if not s:
            return math.nan, False
        low = s.lower()
        if low in _NAN_WORDS:
            return math.nan, True
        if low in _MISSING_WORDS:
            return math.nan, False
        m = _TENSOR.fullmatch(s)  # a torch tensor logged with str(): "tensor(0.5123, device='cuda:0')"
        if m is not None:
            s = m.group(1)
        try:
            return float(s), True
        except ValueError:
            return None, False
    if hasattr(cell, "__float__") and not isinstance(cell, (list, tuple, dict)):
        try:
            return float(cell), True
        except (TypeError, ValueError):
            return None, False
    return None, False


# ------------------------------------------------------------------------------------------------ text parsing


def _read_text(path: str) -> str:
    with open(path, "rb") as f:
        data = f.read()
    if not data.strip():
        raise ValueError(f"{path}: the file is empty; expected a training log (CSV, JSON or TensorBoard events)")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise ValueError(f"{path}: not valid UTF-16 text ({exc.reason} at byte {exc.start})") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ValueError(
            f"{path}: not UTF-8 text: byte 0x{data[exc.start]:02x} at offset {exc.start} (line {line}); expected a "
            "CSV or JSON training log (a text log in another encoding: save it as UTF-8)"
        ) from None
    nul = text.find("\x00")
    if nul >= 0:
        raise ValueError(
            f"{path}: binary data (NUL byte on line {text.count(chr(10), 0, nul) + 1}); expected a CSV or JSON "
            "training log"
        )
    return text


def _parse_csv(text: str, source: str) -> _Table:
    lines = text.splitlines()
    skip = 0
    while skip < len(lines) and (not lines[skip].strip() or lines[skip].lstrip().startswith("#")):
        skip += 1
    if skip == len(lines):
        raise ValueError(f"{source}: no header line; expected a CSV table with column names such as epoch,loss")
    head = lines[skip]
    delim = max((",", "\t", ";"), key=lambda d: (head.count(d), d == ","))
    reader = csv.reader(io.StringIO("\n".join(lines[skip:])), delimiter=delim)
    rows: list[list[str]] = []
    line_nos: list[int] = []
    try:
        header = next(reader)
        for row in reader:
            if not row or not any(c.strip() for c in row):
                continue
            rows.append(row)
            line_nos.append(reader.line_num + skip)
    except csv.Error as exc:
        raise ValueError(f"{source}: line {reader.line_num + skip}: malformed CSV ({exc})") from None
    names = [h.strip() for h in header]
    if all(_cell(h)[1] and _cell(h)[0] is not None for h in names):
        raise ValueError(
            f"{source}: line {skip + 1} holds numbers, not column names; expected a header row such as "
            "epoch,loss,val_loss"
        )
    if not rows:
        raise ValueError(f"{source}: no data rows after the header (line {skip + 1}); expected one row per epoch/step")
    width = len(names)
    warnings = []
    for k, row in enumerate(rows):
        if len(row) == width:
            continue
        if len(row) < width and k == len(rows) - 1:  # a log cut off while being written
            warnings.append(f"line {line_nos[k]} is incomplete ({len(row)} of {width} fields) and was ignored")
            rows.pop()
            line_nos.pop()
            break
        raise ValueError(
            f"{source}: line {line_nos[k]} has {len(row)} fields but the header (line {skip + 1}) has {width}; "
            "expected one value per column"
        )
    if not rows:
        raise ValueError(f"{source}: no complete data rows after the header (line {skip + 1})")
    cells: dict[str, list[str]] = {}
    for j, name in enumerate(names):
        if name in cells or not name:
            if name:
                warnings.append(f"column {name!r} appears twice; the first one is used")
            continue
        cells[name] = [row[j] for row in rows]
    if delim == ";":  # a spreadsheet export in a locale that writes decimal commas: 0,5 -> 0.5
        cells = {k: [c.replace(",", ".") for c in col] for k, col in cells.items()}
    return _Table(source=source, fmt="csv", cells=cells, row_label=lambda i: f"line {line_nos[i]}", warnings=warnings)


def _parse_json_text(text: str, source: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{source}: line {exc.lineno}, column {exc.colno}: malformed JSON ({exc.msg})") from None
    except RecursionError:
        raise ValueError(f"{source}: JSON nested too deeply") from None


def _is_number_like(x: Any) -> bool:
    return x is None or isinstance(x, (int, float, str)) and not isinstance(x, bool)


def _is_series(v: Any) -> bool:
    return isinstance(v, (list, tuple)) and all(_is_number_like(x) for x in v[:3])


def _is_run(d: Any) -> bool:
    return isinstance(d, Mapping) and ("log_history" in d or any(_is_series(v) for v in d.values()))


def _runs_from_obj(obj: Any, source: str) -> list[tuple[str, Any]]:
    """Split a parsed JSON document / Python object into runs: [(name, run object)]."""
    if isinstance(obj, Mapping):
        if obj.get("kind") == "curve_history" or "log_history" in obj or any(_is_series(v) for v in obj.values()):
            return [("", obj)]
        if isinstance(obj.get("history"), Mapping):  # {"history": h.history, "params": ...}
            return [("", obj["history"])]
        runs = [(str(k), v) for k, v in obj.items() if _is_run(v)]
        if runs:
            return runs
        raise NotALogError(
            f"{source}: no training curve found: a JSON object without lists of values; expected e.g. "
            '{"loss": [...], "val_loss": [...]} or a trainer_state.json'
        )
    if isinstance(obj, (list, tuple)):
        if not obj:
            raise ValueError(f"{source}: an empty list; expected records or values per epoch")
        if all(isinstance(x, Mapping) for x in obj):
            if any(_is_run(x) and any(isinstance(v, (list, tuple)) and len(v) > 1 for v in x.values()) for x in obj):
                return [(str(x.get("id") or x.get("name") or i), x) for i, x in enumerate(obj)]
            return [("", list(obj))]
        if all(_is_number_like(x) for x in obj):
            return [("", {"loss": list(obj)})]
        raise ValueError(f"{source}: a JSON list must hold records (objects) or numbers; got {type(obj[0]).__name__}")
    raise ValueError(f"{source}: expected a JSON object or list, got {type(obj).__name__}")


def _meta_from(d: Mapping[str, Any]) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    nc = d.get("num_classes", d.get("n_classes"))
    if isinstance(nc, int) and not isinstance(nc, bool) and nc >= 2:
        meta["num_classes"] = nc
    lk = d.get("loss_kind", d.get("loss_fn"))
    if isinstance(lk, str) and normalize_loss_kind(lk) is not None:
        meta["loss_kind"] = normalize_loss_kind(lk)
    if d.get("x_unit") in ("epoch", "step"):
        meta["x_unit"] = d["x_unit"]
    if isinstance(d.get("metric_name"), str):
        meta["metric_name"] = d["metric_name"]
    for key in ("id", "source", "task"):
        if isinstance(d.get(key), str):
            meta[f"origin_{key}" if key == "source" else key] = d[key]
    return meta


def _table_from_run(run: Any, source: str, fmt: str) -> _Table | CurveHistory:
    if isinstance(run, Mapping) and run.get("kind") == "curve_history":
        try:
            return replace(CurveHistory.from_dict(run), source=source)
        except (KeyError, TypeError) as exc:
            raise ValueError(f"{source}: incomplete curve_history record ({exc})") from None
        except ValueError as exc:
            raise ValueError(f"{source}: {exc}") from None
    if isinstance(run, Mapping) and "log_history" in run:
        records = run["log_history"]
        if not isinstance(records, list) or not all(isinstance(r, Mapping) for r in records):
            raise ValueError(f"{source}: log_history must be a list of objects (a Hugging Face trainer_state.json)")
        table = _table_from_records(records, source, "hf_trainer_state", "log_history[{}]")
        return table
    if isinstance(run, list):
        fmt = "hf_log_history" if any("eval_loss" in r or "learning_rate" in r for r in run) else "records"
        return _table_from_records(run, source, fmt, "entry {}")
    if isinstance(run, Mapping):
        cells = {str(k): list(v) for k, v in run.items() if isinstance(v, (list, tuple))}
        fmt = "keras_history" if "loss" in cells and "epochs" not in cells and "epoch" not in cells else fmt
        table = _Table(source=source, fmt=fmt, cells=cells, row_label=lambda i: f"index {i}")
        table.meta = _meta_from(run)
        if "epochs" in cells and "n_classes" in run:
            table.fmt = "dev_curves"
        return table
    raise ValueError(f"{source}: cannot read a run of type {type(run).__name__}")


def _table_from_records(records: list, source: str, fmt: str, label: str) -> _Table:
    """Records (one dict per log call) as columns; ``label`` formats a record's index for error messages."""
    rows = [r for r in records if isinstance(r, Mapping) and not any(k in r for k in _HF_SUMMARY_KEYS)]
    index = [i for i, r in enumerate(records) if isinstance(r, Mapping) and not any(k in r for k in _HF_SUMMARY_KEYS)]
    bad = next((i for i, r in enumerate(records) if not isinstance(r, Mapping)), None)
    if bad is not None:
        raise ValueError(f"{source}: {label.format(bad)} is a {type(records[bad]).__name__}; expected an object")
    if not rows:
        raise NotALogError(f"{source}: no log entries (only run summaries or nothing at all)")
    names: dict[str, None] = {}
    for r in rows:
        for k in r:
            names.setdefault(str(k), None)
    cells = {k: [r.get(k) for r in rows] for k in names}
    return _Table(source=source, fmt=fmt, cells=cells, row_label=lambda i: label.format(index[i]))


def _event_runs(directory: str) -> dict[str, list[tuple[str, str]]]:
    """TensorBoard runs under ``directory``: run dir -> [(tag prefix, event file)]. Split sub-runs (``train/``,
    ``validation/``, or any subfolder of a folder that has events itself) are merged into their parent."""
    by_dir: dict[str, list[str]] = {}
    for root, dirs, files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        events = sorted(f for f in files if _tfevents.is_event_file(f))
        if events:
            by_dir[root] = [os.path.join(root, f) for f in events]
    runs: dict[str, list[tuple[str, str]]] = {}
    for d, files in sorted(by_dir.items()):
        parent = os.path.dirname(d)
        if d != directory and (os.path.basename(d).lower() in _SPLIT_DIRS or parent in by_dir):
            runs.setdefault(parent, []).extend((os.path.basename(d) + "/", f) for f in files)
        else:
            runs.setdefault(d, []).extend(("", f) for f in files)
    return runs


def _table_from_events(files: list[tuple[str, str]], source: str) -> _Table:
    scalars: dict[str, dict[int, float]] = {}
    for prefix, path in files:
        for tag, points in _tfevents.read_scalars(path).items():
            scalars.setdefault(prefix + tag, {}).update(points)
    if not scalars:
        raise NotALogError(f"{source}: no scalar values in the TensorBoard event file(s)")
    steps = np.array(sorted({s for pts in scalars.values() for s in pts}), dtype=np.float64)
    pos = {int(s): i for i, s in enumerate(steps)}
    parsed = {}
    for tag, pts in scalars.items():
        v = np.full(steps.size, np.nan)
        p = np.zeros(steps.size, dtype=bool)
        idx = np.fromiter((pos[s] for s in pts), dtype=np.int64, count=len(pts))
        v[idx] = np.fromiter(pts.values(), dtype=np.float64, count=len(pts))
        p[idx] = True
        parsed[tag] = (v, p)
    loss_tags = [t for t in scalars if "loss" in t.lower()]
    # Keras writes epoch_loss/epoch_accuracy with the epoch as the step.
    key = "epoch" if loss_tags and all(t.rsplit("/", 1)[-1].startswith("epoch_") for t in loss_tags) else "step"
    if key in parsed:
        key = "_" + key
    parsed[key] = (steps, np.ones(steps.size, dtype=bool))
    return _Table(source=source, fmt="tensorboard", cells={}, parsed=parsed, row_label=lambda i: f"step {int(steps[i])}")


# -------------------------------------------------------------------------------------------------- building


def normalize_loss_kind(kind: str | None) -> str | None:
    """``"cross_entropy"``, ``"mse"`` or None for a loss name such as ``"categorical_crossentropy"``.

    Examples:
      >>> normalize_loss_kind("sparse_categorical_crossentropy")
      'cross_entropy'
      >>> normalize_loss_kind("huber") is None
      True
    """
    if kind is None:
        return None
    return _LOSS_ALIASES.get(kind.strip().lower().replace("-", "_").replace(" ", "_"))


def _group_mean(inv: np.ndarray, n: int, v: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean of the present values per group (NaN/inf propagate: an epoch that saw a NaN loss is NaN)."""
    sums = np.bincount(inv, weights=np.where(p, v, 0.0), minlength=n)
    counts = np.bincount(inv, weights=p.astype(np.float64), minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = sums / counts
    out[counts == 0] = np.nan
    return out, counts > 0


def _after_restarts(keys: np.ndarray) -> tuple[np.ndarray, list[int]]:
    """Rows to keep when the key (epoch/step) goes backwards (a resumed run appended to the same log): the later
    rows win. Returns the mask and the rows where a restart begins."""
    starts = np.flatnonzero(keys[1:] < keys[:-1]) + 1
    keep = np.ones(keys.size, dtype=bool)
    if starts.size == 0:
        return keep, []
    bounds = [0, *starts.tolist(), keys.size]
    cut = math.inf
    for a, b in reversed(list(zip(bounds[:-1], bounds[1:]))):
        seg = keys[a:b] < cut
        keep[a:b] = seg
        if seg.any():
            cut = min(cut, float(keys[a:b][seg].min()))
    return keep, starts.tolist()


def _is_integral(v: np.ndarray) -> bool:
    return bool(np.all(np.isfinite(v)) and np.all(v == np.round(v)))


def _series_of(table: _Table, match: ColumnMatch, role: str) -> tuple[np.ndarray, np.ndarray] | None:
    cols = match.get(role)
    if not cols:
        return None
    parts = [table.floats(c) for c in cols]
    if len(parts) == 1:
        return parts[0]
    values = np.sum([v for v, _ in parts], axis=0)
    present = np.all([p for _, p in parts], axis=0)
    return values, present


def _check_lengths(table: _Table, match: ColumnMatch) -> int:
    used = [c for cols in match.roles.values() for c in cols]
    lengths = {c: len(table.parsed[c][0]) if c in table.parsed else len(table.cells[c]) for c in used}
    sizes = set(lengths.values())
    if len(sizes) > 1:
        desc = ", ".join(f"{c.strip()!r} has {n}" for c, n in lengths.items())
        raise ValueError(
            f"{table.source}: series of different lengths ({desc}); expected one value per epoch in every series"
        )
    return sizes.pop() if sizes else 0


def _build(
    table: _Table, columns: Mapping[str, Any] | None, num_classes: int | None, loss_kind: str | None
) -> CurveHistory:
    match = match_columns(table.names, columns, source=table.source)
    if not (match.get("train_loss") or match.get("val_loss")):
        shown = ", ".join(repr(n.strip()) for n in table.names[:40]) + (" ..." if len(table.names) > 40 else "")
        raise NotALogError(
            f"{table.source}: no loss column found among: {shown}; name it with columns={{'train_loss': NAME}} "
            "(CLI: --column train_loss=NAME)"
        )
    n = _check_lengths(table, match)
    if n == 0:
        raise ValueError(f"{table.source}: the log has no values (empty series)")
    series = {r: s for r in SERIES_ROLES if (s := _series_of(table, match, r)) is not None and s[1].any()}
    if "train_loss" not in series and "val_loss" not in series:
        raise NotALogError(f"{table.source}: the loss column(s) {sorted(match.roles)} hold no values")
    warnings = list(table.warnings)
    x, out, x_unit, how = _aggregate(table, match, series, n, warnings)
    metric_name = table.meta.get("metric_name", match.metric_name)
    extra: dict[str, Any] = {
        "format": table.fmt,
        "columns": {r: list(c.strip() for c in cols) for r, cols in match.roles.items()},
        "aggregation": how,
    }
    for role in ("train_acc", "val_acc"):
        v = out.get(role)
        if v is not None:
            finite = v[np.isfinite(v)]
            if finite.size and 1.0 < finite.max() <= 100.0 and finite.min() >= 0.0:
                out[role] = v / 100.0  # accuracy in percent
                extra.setdefault("percent_scaled", []).append(role)
    extra.update({k: v for k, v in table.meta.items() if k not in ("num_classes", "loss_kind", "x_unit", "metric_name")})
    if warnings:
        extra["warnings"] = warnings
    return CurveHistory(
        epochs=x,
        **{r: out.get(r) for r in SERIES_ROLES},
        x_unit=table.meta.get("x_unit", x_unit),
        num_classes=num_classes if num_classes is not None else table.meta.get("num_classes"),
        loss_kind=loss_kind if loss_kind is not None else table.meta.get("loss_kind"),
        metric_name=metric_name,
        source=table.source,
        extra=extra,
    )


def _aggregate(
    table: _Table, match: ColumnMatch, series: dict[str, tuple[np.ndarray, np.ndarray]], n: int, warnings: list[str]
) -> tuple[np.ndarray, dict[str, np.ndarray], str, str]:
    """x values, aggregated series, x_unit and how the rows were aggregated."""
    has_data = np.zeros(n, dtype=bool)  # rows with any series (an LR-only row still gives its epoch's LR)
    for r in series.values():
        has_data |= r[1]
    epoch = table.floats(match.roles["epoch"][0]) if match.get("epoch") else None
    step = table.floats(match.roles["step"][0]) if match.get("step") else None

    def keyed(key: tuple[np.ndarray, np.ndarray], what: str) -> np.ndarray:
        kv, kp = key
        rows = np.flatnonzero(has_data & kp)
        missing = int(np.count_nonzero(has_data & ~kp))
        if missing:
            warnings.append(f"{missing} row(s) without a {what} value were ignored")
        keep, restarts = _after_restarts(kv[rows])
        for r in restarts:
            warnings.append(
                f"the log restarts at {table.where(int(rows[r]))} ({what} goes back from {kv[rows[r - 1]]:g} to "
                f"{kv[rows[r]]:g}); the later rows are kept"
            )
        return rows[keep]

    def grouped(rows: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, dict[str, tuple[np.ndarray, np.ndarray]]]:
        groups, inv = np.unique(keys, return_inverse=True)
        return groups, {r: _group_mean(inv, groups.size, v[rows], p[rows]) for r, (v, p) in series.items()}

    x_unit, key = "epoch", None
    if epoch is not None:
        rows = keyed(epoch, "epoch")
        if _is_integral(epoch[0][rows]):
            groups, out = grouped(rows, epoch[0][rows])
            if groups.size >= MIN_POINTS or step is None or groups.size == rows.size:
                return _finish(groups, out, "epoch", "epoch" if groups.size == rows.size else "epoch_mean")
            key, x_unit = step, "step"  # few epochs but many steps: keep the steps
        else:
            key = epoch  # fractional epochs (Hugging Face): aggregate between evaluations
    elif step is not None:
        key, x_unit = step, "step"
    if key is None:
        rows = np.flatnonzero(has_data)
        groups, out = grouped(rows, np.arange(1, rows.size + 1, dtype=np.float64))
        how = "rows"
    else:
        rows = keyed(key, x_unit)
        groups, out = grouped(rows, key[0][rows])
        how = x_unit
    anchor_role = "val_loss" if "val_loss" in out else "val_acc" if "val_acc" in out else None
    if anchor_role is not None and "train_loss" in out:
        anchors = np.flatnonzero(out[anchor_role][1])
        if MIN_POINTS <= anchors.size < np.count_nonzero(out["train_loss"][1]):
            # Evaluations are sparser than training logs: one point per evaluation, training values averaged over
            # the logs since the previous evaluation (plus a last point for logs after the final evaluation).
            bucket = np.searchsorted(anchors, np.arange(groups.size), side="left")
            nb = int(bucket.max()) + 1
            agg = {r: _group_mean(bucket, nb, v, p) for r, (v, p) in out.items()}
            bx = np.append(groups[anchors], groups[-1:] if nb > anchors.size else [])
            return _finish(bx, agg, x_unit, "eval_mean")
    return _finish(groups, out, x_unit, how)


def _finish(x: np.ndarray, out: dict[str, tuple[np.ndarray, np.ndarray]], x_unit: str, how: str):
    """Drop points where no loss or metric was logged; return plain value arrays."""
    data = np.zeros(x.size, dtype=bool)
    for r in _DATA_ROLES:
        if r in out:
            data |= out[r][1]
    values = {r: v[data] for r, (v, _) in out.items()}
    return np.asarray(x, dtype=np.float64)[data], values, x_unit, how


# ----------------------------------------------------------------------------------------------------- loading


def _load_runs(obj: Any, fmt: str, source: str | None = None) -> list[_Table | CurveHistory]:
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {list(FORMATS)}, got format={fmt!r}")
    if isinstance(obj, CurveHistory):
        return [obj]
    if isinstance(obj, (str, os.PathLike)):
        path = os.fspath(obj)
        if os.path.isdir(path):
            runs = _event_runs(path)
            if runs:
                return [_table_from_events(files, run) for run, files in runs.items()]
            logs = find_logs(path)
            if len(logs) == 1:  # e.g. a Lightning version_0/ folder holding one metrics.csv
                return _load_runs(logs[0], fmt)
            raise ValueError(
                f"{path}: a directory with {len(logs) or 'no'} log files and no TensorBoard event files; pass one "
                "log file, or use read_histories() / `lrfinder diagnose DIR` to read every log under it"
            )
        if not os.path.exists(path):
            raise FileNotFoundError(f"{path}: no such file or directory")
        if fmt == "tensorboard" or (fmt == "auto" and _tfevents.is_event_file(path)):
            return [_table_from_events([("", path)], path)]
        text = _read_text(path)
        if fmt == "json" or (fmt == "auto" and text.lstrip()[:1] in ("{", "[")):
            runs = _runs_from_obj(_parse_json_text(text, path), path)
            return [_table_from_run(run, f"{path}#{name}" if name else path, "json") for name, run in runs]
        table = _parse_csv(text, path)
        table.fmt = _csv_flavour(table.names, path)
        return [table]
    src = source or f"<{type(obj).__name__}>"
    if hasattr(obj, "history") and isinstance(obj.history, Mapping):  # a Keras History
        obj = obj.history
    elif hasattr(obj, "to_dict") and hasattr(obj, "columns"):  # a pandas DataFrame
        obj = obj.to_dict(orient="list")
    elif isinstance(obj, np.ndarray):
        obj = obj.tolist()
    if isinstance(obj, (Mapping, list, tuple)):
        return [_table_from_run(run, f"{src}#{name}" if name else src, "dict") for name, run in _runs_from_obj(obj, src)]
    raise TypeError(
        f"read_history expects a path, a dict, a list or a CurveHistory, got {type(obj).__name__}"
    )


def _csv_flavour(names: list[str], path: str) -> str:
    low = {n.lower() for n in names}
    if any(n.startswith("train/") and n.endswith("_loss") for n in low):
        return "yolo_csv"
    if any(n.endswith(("_step", "_epoch")) for n in low) or ("step" in low and "epoch" in low):
        return "lightning_csv"
    if "epoch" in low and ("loss" in low or "val_loss" in low):
        return "keras_csv"
    return "csv"


def _check_options(num_classes: Any, loss_kind: Any, columns: Any) -> str | None:
    if num_classes is not None and (isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2):
        raise ValueError(f"num_classes must be None or an integer >= 2, got num_classes={num_classes!r}")
    if columns is not None and not isinstance(columns, Mapping):
        raise TypeError(f"columns must be a mapping role -> column name, got {type(columns).__name__}")
    if loss_kind is None:
        return None
    kind = normalize_loss_kind(loss_kind) if isinstance(loss_kind, str) else None
    if kind is None:
        raise ValueError(f"loss_kind must be None or one of {list(LOSS_KINDS)}, got loss_kind={loss_kind!r}")
    return kind


def _finalize(
    run: _Table | CurveHistory, columns: Mapping[str, Any] | None, num_classes: int | None, loss_kind: str | None
) -> CurveHistory:
    if isinstance(run, CurveHistory):
        changes: dict[str, Any] = {}
        if num_classes is not None:
            changes["num_classes"] = num_classes
        if loss_kind is not None:
            changes["loss_kind"] = loss_kind
        return replace(run, **changes) if changes else run
    return _build(run, columns, num_classes, loss_kind)


def read_history(
    path_or_obj: Any,
    *,
    format: str = "auto",
    columns: Mapping[str, str | Sequence[str] | None] | None = None,
    num_classes: int | None = None,
    loss_kind: str | None = None,
) -> CurveHistory:
    """Read one training log (a file, a TensorBoard run directory or a Python object) into a CurveHistory.

    ``columns`` maps roles (``epoch``, ``step``, ``train_loss``, ``val_loss``, ``train_acc``, ``val_acc``, ``lr``)
    to column names: a list of names is summed, ``None`` ignores the role. ``num_classes`` and ``loss_kind``
    (``"cross_entropy"`` or ``"mse"``) enable the chance-level checks.

    Examples:
      >>> h = read_history({"loss": [2.0, 1.0, 0.5], "val_loss": [2.1, 1.2, 0.9]})
      >>> h.epochs.tolist(), h.val_loss.tolist(), h.x_unit
      ([1.0, 2.0, 3.0], [2.1, 1.2, 0.9], 'epoch')
      >>> rows = [{"step": 1, "loss": 3.0}, {"step": 2, "loss": "nan"}]
      >>> read_history(rows).train_loss.tolist()
      [3.0, nan]
    """
    kind = _check_options(num_classes, loss_kind, columns)
    runs = _load_runs(path_or_obj, format)
    if len(runs) != 1:
        names = ", ".join(r.source for r in runs[:5]) + (" ..." if len(runs) > 5 else "")
        where = os.fspath(path_or_obj) if isinstance(path_or_obj, (str, os.PathLike)) else "the input"
        raise ValueError(f"{where}: holds {len(runs)} runs ({names}); use read_histories() to read them all")
    return _finalize(runs[0], columns, num_classes, kind)


def read_histories(
    path_or_obj: Any,
    *,
    format: str = "auto",
    columns: Mapping[str, str | Sequence[str] | None] | None = None,
    num_classes: int | None = None,
    loss_kind: str | None = None,
) -> list[CurveHistory]:
    """Every run in a file that holds several, or every training log under a directory (recursively; files that
    are not training logs are skipped).

    Examples:
      >>> runs = read_histories({"a": {"loss": [1.0, 0.5]}, "b": {"loss": [2.0, 1.0]}})
      >>> [(h.source, h.train_loss.tolist()) for h in runs]
      [('<dict>#a', [1.0, 0.5]), ('<dict>#b', [2.0, 1.0])]
    """
    kind = _check_options(num_classes, loss_kind, columns)
    if isinstance(path_or_obj, (str, os.PathLike)) and os.path.isdir(path_or_obj):
        out = []
        for log in find_logs(path_or_obj):
            try:
                out += read_log(log, format=format, columns=columns, num_classes=num_classes, loss_kind=kind)
            except NotALogError:
                continue
        return out
    return read_log(path_or_obj, format=format, columns=columns, num_classes=num_classes, loss_kind=kind)


def read_log(
    path_or_obj: Any,
    *,
    format: str = "auto",
    columns: Mapping[str, str | Sequence[str] | None] | None = None,
    num_classes: int | None = None,
    loss_kind: str | None = None,
) -> list[CurveHistory]:
    """The run(s) in one log: a file (several runs when it holds several), one TensorBoard run directory, or a
    Python object. Unlike :func:`read_histories` it does not search a directory for CSV/JSON files.

    Examples:
      >>> [len(h) for h in read_log([{"loss": [1.0, 0.9, 0.8]}, {"loss": [2.0, 1.0]}])]
      [3, 2]
    """
    kind = _check_options(num_classes, loss_kind, columns)
    return [_finalize(r, columns, num_classes, kind) for r in _load_runs(path_or_obj, format)]


def find_logs(path: str | os.PathLike[str]) -> list[str]:
    """Training logs under ``path`` (recursively): CSV/TSV/JSON files and TensorBoard run directories, sorted.

    Hidden folders are skipped, and so are JSON files that never hold logs (``config.json``, ``tokenizer.json``,
    ...). Of Hugging Face ``checkpoint-N/trainer_state.json`` files only the last checkpoint's is kept, and none
    when the output folder has its own ``trainer_state.json``. A file ``path`` is returned as is.
    """
    path = os.fspath(path)
    if not os.path.isdir(path):
        return [path]
    files: list[str] = []
    for root, dirs, names in os.walk(path):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in ("__pycache__", "node_modules"))
        for name in sorted(names):
            if name.lower().endswith(_LOG_SUFFIXES) and name.lower() not in _NOT_LOG_NAMES and not name.startswith("."):
                files.append(os.path.join(root, name))
    files = _last_checkpoints(files)
    runs = list(_event_runs(path))
    return sorted(files + runs)


def _last_checkpoints(files: list[str]) -> list[str]:
    states = {f for f in files if os.path.basename(f) == "trainer_state.json"}
    best: dict[str, tuple[int, str]] = {}
    drop = set()
    for f in states:
        ckpt = os.path.dirname(f)
        m = re.fullmatch(r"checkpoint-(\d+)", os.path.basename(ckpt))
        if m is None:
            continue
        parent = os.path.dirname(ckpt)
        if os.path.join(parent, "trainer_state.json") in states:
            drop.add(f)
            continue
        n = int(m.group(1))
        if parent in best:
            drop.add(best[parent][1] if best[parent][0] < n else f)
        if parent not in best or best[parent][0] < n:
            best[parent] = (n, f)
    return [f for f in files if f not in drop]
