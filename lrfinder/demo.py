"""``lrfinder demo``: a real range test on a dataset generated in code (no download), in seconds on a CPU.

The data: three interleaved spirals in 2-D (3 classes, 3,000 points, label noise 5%); the model: an MLP with
BatchNorm; the optimizer: SGD with momentum 0.9 (or Adam). Writes ``range_test.png`` and ``range_test.json``.
"""

from __future__ import annotations

import argparse
import math
import os


def make_spirals(n: int = 3000, classes: int = 3, noise: float = 0.15, seed: int = 0):
    """``(x, y)`` tensors of ``classes`` interleaved 2-D spirals; deterministic for a ``seed``."""
    import torch

    g = torch.Generator().manual_seed(seed)
    per = n // classes
    xs, ys = [], []
    for c in range(classes):
        r = torch.linspace(0.05, 1.0, per)
        theta = r * 4.0 + 2 * math.pi * c / classes + noise * torch.randn(per, generator=g)
        xs.append(torch.stack([r * torch.sin(theta), r * torch.cos(theta)], dim=1))
        ys.append(torch.full((per,), c, dtype=torch.long))
    x, y = torch.cat(xs), torch.cat(ys)
    flip = torch.rand(y.shape, generator=g) < 0.05
    y[flip] = torch.randint(0, classes, (int(flip.sum()),), generator=g)
    return x, y


def build_demo(seed: int = 0, optimizer: str = "sgd"):
    """Model, loader and optimizer of the demo (also used by tests and docs)."""
    import torch
    from torch import nn

    torch.manual_seed(seed)
    x, y = make_spirals(seed=seed)
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(x, y),
        batch_size=64,
        shuffle=True,
        generator=torch.Generator().manual_seed(seed),
    )
    model = nn.Sequential(
        nn.Linear(2, 64), nn.BatchNorm1d(64), nn.ReLU(),
        nn.Linear(64, 64), nn.BatchNorm1d(64), nn.ReLU(),
        nn.Linear(64, 3),
    )
    if optimizer == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    elif optimizer == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    else:
        raise ValueError(f"optimizer must be 'sgd' or 'adam', got optimizer={optimizer!r}")
    return model, loader, opt


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default="lrfinder-demo", help="output folder (default: ./lrfinder-demo)")
    parser.add_argument("--optimizer", choices=("sgd", "adam"), default="sgd", help="optimizer (default: sgd)")
    parser.add_argument("--num-iter", type=int, default=200, help="range-test steps (default: 200)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def run(args: argparse.Namespace) -> int:
    import torch

    from .engine import find_lr
    from .plotting import save_figure

    torch.set_num_threads(min(2, torch.get_num_threads()))
    model, loader, opt = build_demo(seed=args.seed, optimizer=args.optimizer)
    result = find_lr(
        model, loader, opt, torch.nn.CrossEntropyLoss(),
        start_lr=1e-5, end_lr=10.0, num_iter=args.num_iter, progress=not args.no_progress,
    )
    os.makedirs(args.out, exist_ok=True)
    json_path = os.path.join(args.out, "range_test.json")
    png_path = os.path.join(args.out, "range_test.png")
    result.to_json(json_path)
    save_figure(result.plot(title=f"lrfinder demo: spirals MLP, {result.optimizer}"), png_path)
    print(result.summary())
    print(f"wrote {json_path} and {png_path}")
    return 0
