"""Fuzz every log reader and the ``lrfinder diagnose`` CLI with mutated and random files.

Inputs: every fixture log in tests/data/logs (all formats, TensorBoard included) mutated at random — truncated,
bytes flipped, lines dropped or duplicated, cells replaced by junk, re-encoded as UTF-16/latin-1, columns renamed —
plus random bytes. Each input must either be read (and diagnosed) or rejected with a ``ValueError`` whose message
names the file; anything else is a crash. A sample also goes through ``lrfinder diagnose`` in-process, which must
exit 0/1/2 with no traceback.

    python benchmarks/fuzz_readers.py --n 5000 --seed 0
"""

from __future__ import annotations

import argparse
import contextlib
import io
import random
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lrfinder.cli import main as cli_main  # noqa: E402
from lrfinder.diagnose import diagnose  # noqa: E402
from lrfinder.diagnose.readers import read_log  # noqa: E402

FIXTURES = [p for p in (ROOT / "tests" / "data" / "logs").rglob("*") if p.is_file() and p.suffix != ".py"]
JUNK = [b"", b"nan", b"inf", b"-", b"1e400", b"abc", b"\x00\xff", b'"', b",,,", b"\n", b"{", b"]", b"\xe9t\xe9"]


def mutate(data: bytes, rng: random.Random) -> bytes:
    kind = rng.randrange(9)
    if kind == 0 and data:  # truncate
        return data[: rng.randrange(len(data))]
    if kind == 1 and data:  # flip bytes
        b = bytearray(data)
        for _ in range(rng.randint(1, 20)):
            b[rng.randrange(len(b))] = rng.randrange(256)
        return bytes(b)
    lines = data.split(b"\n")
    if kind == 2 and len(lines) > 1:  # drop lines (the header too, sometimes)
        return b"\n".join(line for line in lines if rng.random() > 0.3)
    if kind == 3 and len(lines) > 1:  # duplicate and shuffle lines
        lines = lines + rng.sample(lines, min(len(lines), 5))
        rng.shuffle(lines)
        return b"\n".join(lines)
    if kind == 4:  # junk cells
        out = data
        for _ in range(rng.randint(1, 10)):
            for sep in (b",", b":", b" "):
                parts = out.split(sep)
                if len(parts) > 2:
                    parts[rng.randrange(len(parts))] = rng.choice(JUNK)
                    out = sep.join(parts)
                    break
        return out
    if kind == 5:  # other encodings
        try:
            return data.decode("utf-8").encode(rng.choice(["utf-16", "latin-1", "utf-32"]))
        except (UnicodeDecodeError, UnicodeEncodeError):
            return data
    if kind == 6:  # renamed columns
        return data.replace(b"loss", b"l0ss", rng.randint(1, 3)).replace(b"val", b"vol", 1)
    if kind == 7:  # huge: the same content many times
        return data * rng.randint(20, 200)
    return bytes(rng.randrange(256) for _ in range(rng.randint(0, 4000)))  # random bytes


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cli-every", type=int, default=10, help="also run every k-th input through the CLI")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    counts = {"read": 0, "rejected": 0, "crashes": 0, "cli_runs": 0, "cli_bad_exit": 0}
    crashes = []
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.n):
            src = rng.choice(FIXTURES)
            data = mutate(src.read_bytes(), rng)
            path = Path(tmp) / f"fuzz{i}{src.suffix}"
            if src.name.startswith("events.out.tfevents"):
                path = Path(tmp) / f"events.out.tfevents.{i}.fuzz"
            path.write_bytes(data)
            try:
                for h in read_log(str(path)):
                    diagnose(h)
                counts["read"] += 1
            except ValueError as exc:
                if path.name not in str(exc):
                    crashes.append((src.name, f"message does not name the file: {exc}"))
                    counts["crashes"] += 1
                else:
                    counts["rejected"] += 1
            except Exception:  # noqa: BLE001 - this is what we count
                counts["crashes"] += 1
                crashes.append((src.name, traceback.format_exc(limit=3)))
            if i % args.cli_every == 0:
                err = io.StringIO()
                with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
                    try:
                        code = cli_main(["diagnose", str(path), "-q"])
                    except BaseException:  # noqa: BLE001
                        code = -1
                counts["cli_runs"] += 1
                if code not in (0, 1, 2) or "Traceback" in err.getvalue():
                    counts["cli_bad_exit"] += 1
                    crashes.append((src.name, f"cli exit {code}: {err.getvalue()[-300:]}"))
            path.unlink()
    seconds = time.perf_counter() - t0
    print(f"{args.n} fuzz inputs from {len(FIXTURES)} fixtures (seed {args.seed}) in {seconds:.1f} s: "
          f"{counts['read']} read, {counts['rejected']} rejected with a clear ValueError, "
          f"{counts['crashes']} crashes; CLI: {counts['cli_runs']} runs, {counts['cli_bad_exit']} bad exits")
    for name, what in crashes[:10]:
        print(f"--- from {name}:\n{what}")
    return 1 if counts["crashes"] or counts["cli_bad_exit"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
