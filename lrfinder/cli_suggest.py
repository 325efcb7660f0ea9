"""``lrfinder suggest RESULT.json``: re-analyse a saved range test without re-running it."""

from __future__ import annotations

import argparse
import json
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("result", help="a range-test JSON written by RangeTestResult.to_json / lrfinder demo")
    parser.add_argument("--method", action="append", help="suggester(s) to run (default: all registered)")
    parser.add_argument("--json", action="store_true", help="print the suggestions as JSON")
    parser.add_argument("--plot", metavar="PNG", help="also write the range-test plot to this file")


def run(args: argparse.Namespace) -> int:
    from .records import RangeTestResult
    from .suggesters import SUGGESTERS

    result = RangeTestResult.from_json(args.result)
    methods = args.method or sorted(SUGGESTERS)
    suggestions = {m: result.suggest(m) for m in methods}
    if args.json:
        json.dump({m: s.to_dict() for m, s in suggestions.items()}, sys.stdout, indent=1)
        print()
    else:
        for s in suggestions.values():
            print(s)
    if args.plot:
        from .plotting import save_figure

        save_figure(result.plot(), args.plot)
    return 0
