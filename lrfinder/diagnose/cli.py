"""``lrfinder diagnose PATH...``: triage training logs from scripts and CI.

Exit codes (see docs/diagnose-cli.md): 0 no finding at or above ``--fail-on``; 1 at least one; 2 bad input (an
unreadable file — reported as one line on stderr, the other files are still processed — or a bad option). 2 wins
over 1. Importing this module is cheap, and ``run`` imports matplotlib only with ``--plot``; torch never.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ..cli import EXIT_BAD_INPUT, EXIT_OK, EXIT_PROBLEMS, UserError

# Kept in step with lrfinder.diagnose.readers.FORMATS and ._columns.ROLES (checked by the tests): importing those
# modules here would slow down ``lrfinder --help``.
_FORMATS = ("auto", "csv", "json", "tensorboard")
_ROLES = ("epoch", "step", "train_loss", "val_loss", "train_acc", "val_acc", "lr")
_QUIET_CODES = ("healthy", "insufficient_data")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths", nargs="+", metavar="PATH",
        help="log files (CSV/TSV, JSON, TensorBoard event files) or directories, searched recursively",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document with every report and error")
    parser.add_argument("--plot", metavar="DIR", help="write one PNG per log into DIR (imports matplotlib)")
    parser.add_argument(
        "--fail-on", default="warning", metavar="SEVERITY|CODES",
        help="exit 1 when a finding is at or above this severity (info, warning, error) or has one of these codes "
        "(comma list, e.g. diverged,overfitting); 'never' exits 0 whatever is found (default: warning)",
    )
    parser.add_argument("--format", choices=_FORMATS, default="auto", help="log format (default: detect from content)")
    parser.add_argument(
        "--column", action="append", default=[], metavar="ROLE=NAME",
        help=f"use column NAME for ROLE (one of {', '.join(_ROLES)}); repeat a ROLE to sum columns, "
        "ROLE= to ignore it",
    )
    parser.add_argument("--num-classes", type=int, metavar="C", help="number of classes (chance-level checks)")
    parser.add_argument(
        "--loss-kind", choices=("cross_entropy", "mse"), help="the loss the logs record (chance-level checks)"
    )
    parser.add_argument(
        "--min-confidence", type=float, default=0.0, metavar="X",
        help="ignore findings with confidence below X in [0, 1] (default: 0, show all)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="print only the summary table")


# ------------------------------------------------------------------------------------------------ options


@dataclass(frozen=True)
class FailOn:
    """When a finding makes the run fail: at or above ``severity``, or with a code in ``codes``; neither: never."""

    severity: str | None = None
    codes: frozenset[str] = frozenset()

    def __call__(self, finding: Any) -> bool:
        from .records import SEVERITIES

        if finding.code in _QUIET_CODES:
            return False
        if self.severity is not None:
            return SEVERITIES.index(finding.severity) >= SEVERITIES.index(self.severity)
        return finding.code in self.codes

    def __str__(self) -> str:
        return self.severity or (",".join(sorted(self.codes)) if self.codes else "never")


def parse_fail_on(text: str) -> FailOn:
    """``--fail-on`` value: a severity, ``never``, or a comma list of finding codes.

    Examples:
      >>> parse_fail_on("error").severity
      'error'
      >>> sorted(parse_fail_on("diverged, overfitting").codes)
      ['diverged', 'overfitting']
    """
    from .records import CODES, SEVERITIES

    t = text.strip().lower()
    if t in ("never", "none"):
        return FailOn()
    if t in SEVERITIES:
        return FailOn(severity=t)
    codes = [c.strip() for c in t.split(",") if c.strip()]
    known = [c for c in CODES if c not in _QUIET_CODES]
    unknown = [c for c in codes if c not in known]
    if not codes or unknown:
        raise UserError(
            f"--fail-on {text!r}: unknown {'code(s) ' + ', '.join(unknown) if unknown else 'value'}; expected a "
            f"severity ({', '.join(SEVERITIES)}), 'never', or a comma list of codes: {', '.join(known)}"
        )
    return FailOn(codes=frozenset(codes))


def parse_columns(items: Sequence[str]) -> dict[str, Any]:
    """``--column ROLE=NAME`` values -> the ``columns`` mapping of :func:`read_history`.

    Examples:
      >>> parse_columns(["train_loss=box", "train_loss=cls", "val_acc="])
      {'train_loss': ['box', 'cls'], 'val_acc': None}
    """
    out: dict[str, Any] = {}
    for item in items:
        role, sep, name = item.partition("=")
        role = role.strip()
        if not sep or role not in _ROLES:
            raise UserError(f"--column {item!r}: expected ROLE=NAME with ROLE one of {', '.join(_ROLES)}")
        name = name.strip()
        if not name:
            out[role] = None
        elif isinstance(out.get(role), list):
            out[role].append(name)
        else:
            out[role] = [name]
    return {r: (v[0] if isinstance(v, list) and len(v) == 1 else v) for r, v in out.items()}


def _check_numbers(args: argparse.Namespace) -> None:
    if args.num_classes is not None and args.num_classes < 2:
        raise UserError(f"--num-classes must be an integer >= 2, got {args.num_classes}")
    if not 0.0 <= args.min_confidence <= 1.0:
        raise UserError(f"--min-confidence must be in [0, 1], got {args.min_confidence}")


# -------------------------------------------------------------------------------------------------- running


@dataclass
class _Result:
    path: str
    history: Any = None
    report: Any = None
    failing: tuple = ()
    error: str | None = None
    plot: str | None = None
    notes: list[str] = field(default_factory=list)


def _collect(paths: Sequence[str]) -> tuple[list[tuple[str, bool]], list[_Result]]:
    """(log, named explicitly) for every PATH, and the errors for paths that do not exist or hold no logs."""
    from .readers import find_logs

    logs: list[tuple[str, bool]] = []
    errors: list[_Result] = []
    seen: set[str] = set()
    for p in paths:
        if not os.path.exists(p):
            errors.append(_Result(p, error=f"{p}: no such file or directory"))
            continue
        found = find_logs(p) if os.path.isdir(p) else [p]
        if not found:
            errors.append(_Result(p, error=f"{p}: no training logs found (CSV/TSV, JSON or TensorBoard event files)"))
        for log in found:
            key = os.path.realpath(log)
            if key not in seen:
                seen.add(key)
                logs.append((log, not os.path.isdir(p)))
    return logs, errors


def _plot_name(source: str, used: set[str]) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", os.path.splitext(os.path.normpath(source))[0].replace("#", "_")).strip("._")
    name = (stem or "log")[-120:]
    candidate, k = name + ".png", 2
    while candidate in used:
        candidate, k = f"{name}_{k}.png", k + 1
    used.add(candidate)
    return candidate


def run(args: argparse.Namespace) -> int:
    fail_on = parse_fail_on(args.fail_on)
    columns = parse_columns(args.column)
    _check_numbers(args)
    debug = bool(getattr(args, "debug", False))

    from .readers import NotALogError, read_log
    from .rules import diagnose

    logs, results = _collect(args.paths)
    for r in results:
        _err(r.error)
    skipped: list[str] = []
    used_names: set[str] = set()
    if args.plot:
        os.makedirs(args.plot, exist_ok=True)
    for log, explicit in logs:
        try:
            histories = read_log(
                log, format=args.format, columns=columns, num_classes=args.num_classes, loss_kind=args.loss_kind
            )
        except NotALogError as exc:
            if explicit:
                results.append(_fail(log, exc, debug))
            else:
                skipped.append(log)
            continue
        except (OSError, ValueError, TypeError) as exc:
            results.append(_fail(log, exc, debug))
            continue
        for h in histories:
            res = _Result(h.source or log, history=h, notes=list(h.extra.get("warnings", ())))
            try:
                report = diagnose(h)
            except Exception as exc:  # one bad log must not stop the batch
                if debug:
                    raise
                results.append(_fail(res.path, exc, debug, what="cannot diagnose"))
                continue
            kept = tuple(
                f for f in report.findings if f.confidence >= args.min_confidence or f.code in _QUIET_CODES
            )
            res.report = replace(report, findings=kept, source=report.source or res.path)
            res.failing = tuple(f for f in kept if fail_on(f))
            if args.plot:
                try:
                    res.plot = _write_plot(h, res.report, args.plot, used_names)
                except (OSError, ValueError) as exc:
                    results.append(_fail(res.path, exc, debug, what="cannot plot"))
            results.append(res)
    bad = any(r.error is not None for r in results)
    code = EXIT_BAD_INPUT if bad else EXIT_PROBLEMS if any(r.failing for r in results) else EXIT_OK
    try:
        if args.json:
            _print_json(results, skipped, fail_on, args, code)
        else:
            _print_text(results, skipped, fail_on, args, code)
        sys.stdout.flush()
    except BrokenPipeError:  # `lrfinder diagnose ... | head`: the reader left; keep the exit code
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return code


def _fail(path: str, exc: BaseException, debug: bool, what: str = "") -> _Result:
    if debug:
        raise exc
    msg = str(exc) or type(exc).__name__
    if not msg.startswith(path):
        msg = f"{path}: {what + ': ' if what else ''}{msg}"
    _err(msg)
    return _Result(path, error=msg)


def _err(msg: str | None) -> None:
    print(f"lrfinder: {msg}", file=sys.stderr)


def _write_plot(history: Any, report: Any, out_dir: str, used: set[str]) -> str:
    from ..plotting import save_figure
    from .plotting import plot_diagnosis

    path = os.path.join(out_dir, _plot_name(history.source or "log", used))
    save_figure(plot_diagnosis(history, report)[0], path)
    return path


# --------------------------------------------------------------------------------------------------- output


def _print_json(results: list[_Result], skipped: list[str], fail_on: FailOn, args: argparse.Namespace, code: int):
    from .records import SCHEMA_VERSION

    doc = {
        "schema_version": SCHEMA_VERSION,
        "kind": "diagnose_run",
        "exit_code": code,
        "fail_on": str(fail_on),
        "min_confidence": args.min_confidence,
        "reports": [
            {
                "path": r.path,
                "format": r.history.extra.get("format"),
                "columns": r.history.extra.get("columns"),
                "aggregation": r.history.extra.get("aggregation"),
                "warnings": r.notes,
                "failed": bool(r.failing),
                "failing_codes": [f.code for f in r.failing],
                "plot": r.plot,
                "report": r.report.to_dict(),
            }
            for r in results
            if r.error is None
        ],
        "errors": [{"path": r.path, "error": r.error} for r in results if r.error is not None],
        "skipped": skipped,
    }
    json.dump(_finite_json(doc), sys.stdout, indent=1, allow_nan=False)
    sys.stdout.write("\n")


def _finite_json(x: Any) -> Any:
    """Strict JSON: NaN/inf numbers (e.g. in a finding's numbers) become null."""
    if isinstance(x, dict):
        return {str(k): _finite_json(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_finite_json(v) for v in x]
    if isinstance(x, float) and (x != x or x in (float("inf"), float("-inf"))):
        return None
    if x is None or isinstance(x, (str, int, float, bool)):
        return x
    return float(x) if hasattr(x, "__float__") else str(x)


def _verdict(r: _Result) -> str:
    if r.error is not None:
        return r.error[len(r.path) + 2 :] if r.error.startswith(r.path + ": ") else r.error
    if not r.report.findings:
        return "no findings"
    return ", ".join(f"{f.code} {f.confidence:.2f}" for f in r.report.findings)


def _print_text(results: list[_Result], skipped: list[str], fail_on: FailOn, args: argparse.Namespace, code: int):
    out = sys.stdout
    if not args.quiet:
        for r in results:
            if r.error is not None:
                continue
            out.write(str(r.report) + "\n")
            for note in r.notes:
                out.write(f"  note: {note}\n")
            if r.plot:
                out.write(f"  plot: {r.plot}\n")
            out.write("\n")
    if len(results) > 1 or args.quiet:
        width = min(max((len(r.path) for r in results), default=3), 70)
        out.write(f"{'status':<6}  {'points':>6}  {'log':<{width}}  verdict\n")
        for r in results:
            status = "ERROR" if r.error is not None else "FAIL" if r.failing else "ok"
            points = "-" if r.history is None else str(len(r.history))
            path = r.path if len(r.path) <= width else "..." + r.path[-(width - 3) :]
            out.write(f"{status:<6}  {points:>6}  {path:<{width}}  {_verdict(r)}\n")
    n_err = sum(r.error is not None for r in results)
    n_fail = sum(bool(r.failing) for r in results)
    n_ok = len(results) - n_err - n_fail
    line = f"{len(results)} log{'s' if len(results) != 1 else ''}: {n_ok} ok, {n_fail} with problems"
    line += f" (fail-on: {fail_on}), {n_err} unreadable"
    if skipped:
        line += f"; skipped {len(skipped)} file(s) that are not training logs"
    out.write(line + f"; exit {code}\n")
