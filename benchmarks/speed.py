"""Speed and memory of a range test: ``find_lr`` vs a bare training loop vs ``torch-lr-finder``.

Same model, data, optimizer, LR ramp and number of steps for the three contestants:

  (a) bare   a bare training loop: zero_grad / forward / loss / backward / step (the LR is set from the same ramp, so
             all three do the same arithmetic)
  (b) find_lr  ``lrfinder.find_lr(progress=False, diverge_threshold=None)`` (runs every step; snapshot and restore
             included)
  (c) tlf    ``torch_lr_finder.LRFinder(...).range_test(...)`` then ``.reset()`` (its snapshot and restore), with the
             divergence stop disabled (benchmark-only dependency: ``pip install --no-deps torch-lr-finder``)

Timings are interleaved (a, b, c, b, c, a, c, a, b, ...: the order rotates every round) so that drift on a shared machine hits all three alike, and reported
as ratios of medians within this one run (wall time, and process CPU time, which a busy machine disturbs less). Peak
memory is measured in a fresh subprocess per contestant after one warm-up step (so the optimizer has its state): the
growth of CPU peak RSS over the RSS at the start of the run (Linux: VmHWM reset through /proc/self/clear_refs; large
blocks always mmap'd so that RSS tracks live memory), and ``torch.cuda.max_memory_allocated`` on CUDA.

Usage:
  python benchmarks/speed.py                       # CPU, all models, timings + memory
  python benchmarks/speed.py --device cuda         # the same on a GPU
  python benchmarks/speed.py --models mlp --repeats 3 --no-memory
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from lrfinder import find_lr  # noqa: E402
from lrfinder.ramp import lr_grid  # noqa: E402

START_LR, END_LR = 1e-5, 1.0
N_BATCHES = 20  # fewer than the steps: every contestant cycles the loader


@dataclass
class Workload:
    name: str
    model: nn.Module
    batches: list[tuple[torch.Tensor, torch.Tensor]]
    criterion: nn.Module
    make_optimizer: Callable[[nn.Module], torch.optim.Optimizer]
    describe: str


class _Batches(torch.utils.data.Dataset):
    """A dataset whose items are whole, ready-made batches (``batch_size=None``: no collation cost)."""

    def __init__(self, batches):
        self.batches = batches

    def __len__(self):
        return len(self.batches)

    def __getitem__(self, i):
        return self.batches[i]


class _TinyTransformer(nn.Module):
    def __init__(self, vocab: int = 1000, d: int = 128, heads: int = 4, layers: int = 2, seq: int = 32):
        super().__init__()
        self.embed = nn.Embedding(vocab, d)
        self.pos = nn.Parameter(torch.zeros(seq, d))
        layer = nn.TransformerEncoderLayer(d, heads, dim_feedforward=4 * d, dropout=0.1, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.head = nn.Linear(d, vocab)
        self.register_buffer("mask", nn.Transformer.generate_square_subsequent_mask(seq), persistent=False)

    def forward(self, tokens):
        h = self.embed(tokens) + self.pos[: tokens.shape[1]]
        h = self.encoder(h, mask=self.mask, is_causal=True)
        return self.head(h).flatten(0, 1)  # (batch * seq, vocab) for cross-entropy against flattened targets


def _sgd(model):
    return torch.optim.SGD(model.parameters(), lr=START_LR, momentum=0.9, weight_decay=5e-4)


def _adamw(model):
    return torch.optim.AdamW(model.parameters(), lr=START_LR, weight_decay=0.01)


def make_workload(name: str, device: torch.device, *, width: int = 512) -> Workload:
    """The benchmark's models: a tiny MLP (overhead probe), an MNIST-sized MLP, a CIFAR-sized CNN with BatchNorm and
    a small causal transformer LM."""
    g = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    if name == "tiny":  # so small that per-step framework overhead dominates: the harshest case for a finder
        model = nn.Sequential(nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 4))
        batches = [(torch.randn(32, 32, generator=g), torch.randint(0, 4, (32,), generator=g)) for _ in range(N_BATCHES)]
        opt, desc = _sgd, "MLP 32-64-64-4, batch 32, SGD(momentum=0.9)"
    elif name == "mlp":
        model = nn.Sequential(nn.Linear(784, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU(), nn.Linear(width, 10))
        batches = [(torch.randn(128, 784, generator=g), torch.randint(0, 10, (128,), generator=g)) for _ in range(N_BATCHES)]
        opt, desc = _sgd, f"MLP 784-{width}-{width}-10, batch 128, SGD(momentum=0.9)"
    elif name == "cnn":
        def block(cin, cout):
            return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(), nn.MaxPool2d(2)]

        model = nn.Sequential(*block(3, 16), *block(16, 32), *block(32, 64), nn.Flatten(), nn.Linear(64 * 16, 10))
        batches = [(torch.randn(16, 3, 32, 32, generator=g), torch.randint(0, 10, (16,), generator=g)) for _ in range(N_BATCHES)]
        opt, desc = _sgd, "CNN 3x(conv3x3+BN+ReLU+pool) 16/32/64 ch on 3x32x32, batch 16, SGD(momentum=0.9)"
    elif name == "transformer":
        model = _TinyTransformer()
        batches = []
        for _ in range(N_BATCHES):
            tokens = torch.randint(0, 1000, (8, 33), generator=g)
            batches.append((tokens[:, :-1].contiguous(), tokens[:, 1:].reshape(-1)))
        opt, desc = _adamw, "causal transformer LM, 2 layers, d=128, 4 heads, seq 32, vocab 1000, batch 8, AdamW"
    else:
        raise ValueError(f"unknown model {name!r}; expected tiny, mlp, cnn or transformer")
    model.to(device)
    if device.type == "cuda":
        batches = [(x.pin_memory(), y.pin_memory()) for x, y in batches]
    n = sum(p.numel() for p in model.parameters())
    return Workload(name, model, batches, nn.CrossEntropyLoss(), opt, f"{desc}; {n / 1e6:.2f}M params")


def _loader(w: Workload):
    return torch.utils.data.DataLoader(_Batches(w.batches), batch_size=None, shuffle=False)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def run_bare(w: Workload, opt: torch.optim.Optimizer, steps: int, device: torch.device) -> None:
    model, criterion, loader = w.model, w.criterion, _loader(w)
    lrs = lr_grid(START_LR, END_LR, steps).tolist()
    non_blocking = device.type == "cuda"
    model.train()
    it = iter(loader)
    for step in range(steps):
        try:
            x, y = next(it)
        except StopIteration:
            it = iter(loader)
            x, y = next(it)
        x, y = x.to(device, non_blocking=non_blocking), y.to(device, non_blocking=non_blocking)
        for group in opt.param_groups:
            group["lr"] = lrs[step]
        opt.zero_grad(set_to_none=True)
        loss = criterion(model(x), y)
        loss.backward()
        opt.step()


def run_find_lr(w: Workload, opt: torch.optim.Optimizer, steps: int, device: torch.device, cache: str = "memory"):
    return find_lr(
        w.model, _loader(w), opt, w.criterion, start_lr=START_LR, end_lr=END_LR, num_iter=steps,
        diverge_threshold=None, progress=False, cache=cache,
    )


def run_tlf(w: Workload, opt: torch.optim.Optimizer, steps: int, device: torch.device) -> None:
    from torch_lr_finder import LRFinder

    sink = io.StringIO()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):  # it always prints and shows tqdm
        finder = LRFinder(w.model, opt, w.criterion, device=device)
        finder.range_test(_loader(w), start_lr=START_LR, end_lr=END_LR, num_iter=steps, diverge_th=float("inf"))
        finder.reset()


CONTESTANTS = {"bare": run_bare, "find_lr": run_find_lr, "tlf": run_tlf}


def time_workload(name: str, device: torch.device, steps: int, repeats: int, contestants: list[str]) -> dict:
    w = make_workload(name, device)
    init = {k: v.detach().clone() for k, v in w.model.state_dict().items()}
    times: dict[str, list[float]] = {c: [] for c in contestants}
    cpu: dict[str, list[float]] = {c: [] for c in contestants}
    for rep in range(repeats + 1):  # the first round warms up caches and allocators and is not counted
        k = rep % len(contestants)  # rotate the order each round: no contestant always runs first or last
        for c in contestants[k:] + contestants[:k]:
            w.model.load_state_dict(init)
            opt = w.make_optimizer(w.model)
            _sync(device)
            t0, c0 = time.perf_counter(), time.process_time()
            CONTESTANTS[c](w, opt, steps, device)
            _sync(device)
            if rep > 0:
                times[c].append(time.perf_counter() - t0)
                cpu[c].append(time.process_time() - c0)
    med = {c: statistics.median(v) for c, v in times.items()}
    med_cpu = {c: statistics.median(v) for c, v in cpu.items()}
    out = {"model": name, "describe": w.describe, "steps": steps, "repeats": repeats, "median_s": med,
           "median_cpu_s": med_cpu, "times_s": times, "cpu_s": cpu}
    for c in contestants:
        if c != "bare":
            out[f"{c}/bare"] = med[c] / med["bare"]
            out[f"{c}/bare cpu"] = med_cpu[c] / med_cpu["bare"]
            out[f"{c}/bare best"] = min(times[c]) / min(times["bare"])  # best-of-N: least disturbed by other load
    # per-round (paired) ratios: their median cancels drift between rounds; their range shows the noise
    for c in contestants:
        if c != "bare":
            rs = sorted(t / b for t, b in zip(times[c], times["bare"]))
            out[f"{c}/bare paired"] = statistics.median(rs)
            out[f"{c}/bare range"] = (rs[0], rs[-1])
    return out


def per_step_overhead(name: str, device: torch.device, short: int, long: int, repeats: int, contestants) -> dict:
    """Fixed (per run) and per-step cost of each contestant over the bare loop, from best-of-N times at two run
    lengths: interference from other load only ever adds time, so the minimum of many short runs is a steady
    estimate of the undisturbed cost. per_step = slope between the two lengths; fixed = the rest."""
    w = make_workload(name, device)
    init = {k: v.detach().clone() for k, v in w.model.state_dict().items()}
    best = {(c, n): math.inf for c in contestants for n in (short, long)}
    for rep in range(repeats):
        for n in (short, long):
            k = rep % len(contestants)
            for c in contestants[k:] + contestants[:k]:
                w.model.load_state_dict(init)
                opt = w.make_optimizer(w.model)
                _sync(device)
                t0 = time.perf_counter()
                CONTESTANTS[c](w, opt, n, device)
                _sync(device)
                best[c, n] = min(best[c, n], time.perf_counter() - t0)
    bare_step = (best["bare", long] - best["bare", short]) / (long - short)
    out = {"model": name, "bare_step_s": bare_step, "short": short, "long": long, "repeats": repeats}
    for c in contestants[1:]:
        extra_short = best[c, short] - best["bare", short]
        extra_long = best[c, long] - best["bare", long]
        step = (extra_long - extra_short) / (long - short)
        out[c] = {"per_step_s": step, "fixed_s": extra_short - short * step}
    return out


def state_bytes(model: nn.Module, opt: torch.optim.Optimizer) -> int:
    """Bytes of everything a snapshot copies: parameters, gradients, buffers and optimizer state tensors."""
    total = sum(p.numel() * p.element_size() for p in model.parameters())
    total += sum(p.grad.numel() * p.grad.element_size() for p in model.parameters() if p.grad is not None)
    total += sum(b.numel() * b.element_size() for b in model.buffers())
    for s in opt.state.values():
        total += sum(v.numel() * v.element_size() for v in s.values() if isinstance(v, torch.Tensor))
    return total


def _status_kb(field: str) -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def _reset_peak_rss() -> bool:
    """Reset the peak-RSS mark to the current RSS (Linux: /proc/self/clear_refs), so the peak measured next
    belongs to the run, not to imports and set-up."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _rss_bytes() -> int:
    kb = _status_kb("VmRSS")
    return (kb or 0) * 1024


def _peak_rss_bytes() -> int:
    kb = _status_kb("VmHWM")
    if kb is None:
        kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes on Linux
    return kb * 1024


def memory_child(name: str, contestant: str, device: torch.device, steps: int, width: int) -> dict:
    """One contestant in a fresh process: set up, take one warm-up step (so the optimizer has its state), run."""
    w = make_workload(name, device, width=width)
    opt = w.make_optimizer(w.model)
    run_bare(w, opt, 2, device)  # optimizer state now exists, as it would mid-training
    opt.zero_grad(set_to_none=True)
    _sync(device)
    size = state_bytes(w.model, opt)
    if contestant == "tlf":
        import torch_lr_finder  # noqa: F401  (imports matplotlib: not part of what its range test costs)
    reset = _reset_peak_rss()
    rss_before = _rss_bytes() if reset else _peak_rss_bytes()
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
        cuda_before = torch.cuda.memory_allocated(device)
    if contestant == "find_lr_disk":
        run_find_lr(w, opt, steps, device, cache="disk")
    else:
        CONTESTANTS[contestant](w, opt, steps, device)
    _sync(device)
    out = {"state_bytes": size, "peak_rss": _peak_rss_bytes(), "peak_rss_before": rss_before}
    if device.type == "cuda":
        out["cuda_peak"] = torch.cuda.max_memory_allocated(device)
        out["cuda_before"] = cuda_before
    return out


def measure_memory(
    name: str, device: torch.device, steps: int, repeats: int, width: int, contestants: list[str], glibc_default: bool
) -> dict:
    runs: dict[str, list[dict]] = {c: [] for c in contestants}
    for _ in range(repeats):
        for c in contestants:
            cmd = [sys.executable, os.path.abspath(__file__), "--_memory-child", name, c, "--device", str(device),
                   "--steps", str(steps), "--width", str(width), "--threads", str(torch.get_num_threads())]
            env = dict(os.environ)
            if not glibc_default:
                # Large blocks always mmap'd (returned to the OS when freed), so that peak RSS tracks live memory
                # and not where glibc's adaptive threshold happened to put earlier, freed blocks.
                env["MALLOC_MMAP_THRESHOLD_"] = "65536"
            proc = subprocess.run(cmd, capture_output=True, text=True, check=True, env=env)
            runs[c].append(json.loads(proc.stdout.strip().splitlines()[-1]))
    med = {c: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for c, rs in runs.items()}
    out = {"model": name, "width": width, "state_bytes": med["bare"]["state_bytes"], "median": med}
    for c in contestants:
        if c != "bare":
            # growth of the peak over the RSS at the start of the run, compared with the bare loop's
            out[f"{c} rss overhead"] = (med[c]["peak_rss"] - med[c]["peak_rss_before"]) - (
                med["bare"]["peak_rss"] - med["bare"]["peak_rss_before"]
            )
            if device.type == "cuda":
                out[f"{c} cuda overhead"] = med[c]["cuda_peak"] - med["bare"]["cuda_peak"]
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    p.add_argument("--models", default="tiny,mlp,cnn,transformer")
    p.add_argument("--steps", type=int, default=100, help="optimizer steps per run (default 100)")
    p.add_argument("--repeats", type=int, default=15, help="timed rounds of (a, b, c) (default 15)")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1: steadier on a shared box)")
    p.add_argument("--no-tlf", action="store_true", help="skip torch-lr-finder")
    p.add_argument("--no-memory", action="store_true", help="skip the peak-memory measurement")
    p.add_argument("--overhead", metavar="MODELS", default="tiny",
                   help="models for the per-step/fixed overhead estimate from best-of-N times ('' to skip; default tiny)")
    p.add_argument("--overhead-repeats", type=int, default=40)
    p.add_argument("--no-time", action="store_true", help="skip the timings")
    p.add_argument("--memory-model", default="mlp", help="model for the memory measurement (default mlp)")
    p.add_argument("--width", type=int, default=2048, help="hidden width of the memory MLP (default 2048: ~6M params)")
    p.add_argument("--memory-steps", type=int, default=20)
    p.add_argument("--memory-repeats", type=int, default=3)
    p.add_argument("--glibc-malloc", action="store_true",
                   help="measure RSS with glibc's adaptive mmap threshold (noisier) instead of a fixed 64 KiB one")
    p.add_argument("--json", metavar="PATH", help="also write all figures to this JSON file")
    p.add_argument("--_memory-child", nargs=2, metavar=("MODEL", "CONTESTANT"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        print("speed.py: --device cuda but CUDA is not available", file=sys.stderr)
        return 2
    if args._memory_child:
        print(json.dumps(memory_child(args._memory_child[0], args._memory_child[1], device, args.memory_steps, args.width)))
        return 0

    contestants = ["bare", "find_lr"]
    if not args.no_tlf:
        try:
            import torch_lr_finder  # noqa: F401
        except ImportError:
            print("speed.py: torch-lr-finder not installed (pip install --no-deps torch-lr-finder): skipping (c)",
                  file=sys.stderr)
        else:
            contestants.append("tlf")
    report: dict = {"device": str(device), "torch": torch.__version__, "threads": args.threads, "timing": [],
                    "memory": None}
    if device.type == "cuda":
        report["gpu"] = torch.cuda.get_device_name(device)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"device={device} torch={torch.__version__} threads={args.threads} steps={args.steps} repeats={args.repeats} "
          f"cpus={os.cpu_count()} load={load:.1f}")
    if not args.no_time:
        print("ratios to the bare loop: wall = ratio of median wall times; paired = median of per-round ratios;")
        print("cpu = ratio of median process CPU times; best = ratio of best-of-N wall times")
        print(f"{'model':<13}{'run':<9}{'median s':>9}{'wall':>8}{'paired':>8}{'cpu':>8}{'best':>8}  per-round range")
        for name in args.models.split(","):
            r = time_workload(name, device, args.steps, args.repeats, contestants)
            report["timing"].append(r)
            print(f"{name:<13}{'bare':<9}{r['median_s']['bare']:9.3f}")
            for c in contestants[1:]:
                lo, hi = r[f"{c}/bare range"]
                print(f"{'':<13}{c:<9}{r['median_s'][c]:9.3f}" + "".join(
                    f"{r[f'{c}/bare{k}']:8.3f}" for k in ("", " paired", " cpu", " best")) + f"  {lo:.3f}..{hi:.3f}")
    for r in report["timing"]:
        print(f"  {r['model']}: {r['describe']}")
    if report["timing"] and hasattr(os, "getloadavg"):
        print(f"  load average at the end: {os.getloadavg()[0]:.1f}")
    report["overhead"] = []
    for name in filter(None, args.overhead.split(",")):
        r = per_step_overhead(name, device, 10, 110, args.overhead_repeats, contestants)
        report["overhead"].append(r)
        print(f"overhead over the bare loop, {name} (bare step {r['bare_step_s'] * 1e6:.0f} us; best of "
              f"{args.overhead_repeats} runs of {r['short']} and {r['long']} steps):")
        for c in contestants[1:]:
            print(f"  {c:<9} {r[c]['per_step_s'] * 1e6:+7.1f} us per step   {r[c]['fixed_s'] * 1e3:+7.2f} ms per run")
    if not args.no_memory:
        mem_contestants = ["bare", "find_lr", "find_lr_disk"] + (["tlf"] if "tlf" in contestants else [])
        r = measure_memory(args.memory_model, device, args.memory_steps, args.memory_repeats, args.width, mem_contestants,
                           args.glibc_malloc)
        report["memory"] = r
        print(f"peak memory, {args.memory_model} width {args.width}: model+grads+buffers+optimizer state = "
              f"{r['state_bytes'] / 2**20:.1f} MiB; bare peak RSS {r['median']['bare']['peak_rss'] / 2**20:.1f} MiB")
        for c in mem_contestants[1:]:
            line = f"  {c:<14} CPU peak RSS overhead {r[f'{c} rss overhead'] / 2**20:+8.1f} MiB"
            if device.type == "cuda":
                line += f"   CUDA max_memory_allocated overhead {r[f'{c} cuda overhead'] / 2**20:+8.1f} MiB"
            print(line)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
