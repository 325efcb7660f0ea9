"""The ``lrfinder`` command: a thin shell over the library.

Exit codes (documented in docs/cli.md):
  0  success / no problem at or above the chosen severity
  1  problems found (``diagnose``)
  2  bad input or usage (unreadable file, bad argument): one line on stderr, no traceback (``--debug`` shows it)
  130 interrupted (Ctrl-C)

Each subcommand lives in its own module exposing ``add_arguments(parser)`` and ``run(args) -> int``; those modules
must be cheap to import (no torch or matplotlib at import time) so that ``lrfinder diagnose`` starts fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130

# subcommand -> (module, one-line help)
_COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("lrfinder.demo", "run a real range test on a generated dataset and write its plot and JSON"),
    "suggest": ("lrfinder.cli_suggest", "re-analyse a saved range-test JSON: suggestions from every suggester"),
    "diagnose": ("lrfinder.diagnose.cli", "triage training logs: what is wrong with a run and what to try"),
}


class UserError(Exception):
    """A mistake in the user's input: reported as one line and exit code 2."""


def _parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="lrfinder",
        description="What learning rate should I train with, and what is wrong with this training run?",
        epilog="exit codes: 0 ok, 1 problems found, 2 bad input or usage, 130 interrupted",
    )
    parser.add_argument("--version", action="version", version=f"lrfinder {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in _COMMANDS.items():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:  # a subcommand whose module is not built yet
            if not (exc.name and module_name.startswith(exc.name)):
                raise
            continue
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks for errors")
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``lrfinder`` command; returns the exit code."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
        return int(exc.code or 0)
    if getattr(args, "_run", None) is None:
        parser.print_help(sys.stderr)
        return EXIT_BAD_INPUT
    try:
        return int(args._run(args))
    except KeyboardInterrupt:
        print("lrfinder: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (UserError, OSError, ValueError, TypeError) as exc:
        if args.debug:
            raise
        print(f"lrfinder: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
