"""The tuning recipe end to end, on CPU, with data generated in code (docs/workflow.md walks through its output).

    1. check the initial loss          lrfinder.sanity.check_initial_loss
    2. overfit a small sample          lrfinder.sanity.overfit_small_batch
    3. find an LR (range test)         lrfinder.find_lr
    4. coarse grid, short runs  \
    5. finer grid, longer runs  /      lrfinder.sweep.lr_sweep
    6. read the learning curves        lrfinder.diagnose.diagnose, on a final run with a schedule from the finding

Run:  python examples/workflow.py [--out DIR] [--quick]     (about 20 s on one CPU core; --quick: a few seconds)

The task: three interleaved 2-D spirals (lrfinder's demo data, 5% label noise), 2,400 training and 600 validation
points; the model: an MLP with BatchNorm trained with SGD (momentum 0.9), batch 64.
"""

from __future__ import annotations

import argparse
import math
import os

import torch
from torch import nn

from lrfinder import check_initial_loss, find_lr, lr_sweep, overfit_small_batch, plot_schedule, plot_sweep
from lrfinder.demo import make_spirals
from lrfinder.diagnose import diagnose
from lrfinder.plotting import require_matplotlib, save_figure
from lrfinder.schedules import warmup_cosine
from lrfinder.sweep import as_history

SEED = 0
BATCH = 64


def make_data(seed: int = SEED):
    x, y = make_spirals(n=3000, seed=seed)
    perm = torch.randperm(len(y), generator=torch.Generator().manual_seed(seed))
    x, y = x[perm], y[perm]
    return (x[:2400], y[:2400]), (x[2400:], y[2400:])


def make_model(seed: int = SEED) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Linear(2, 64), nn.BatchNorm1d(64), nn.ReLU(),
        nn.Linear(64, 64), nn.BatchNorm1d(64), nn.ReLU(),
        nn.Linear(64, 3),
    )


def make_loader(x, y, seed: int = SEED, shuffle: bool = True):
    return torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(x, y), batch_size=BATCH, shuffle=shuffle,
        generator=torch.Generator().manual_seed(seed),
    )


def train(lr: float, epochs: int, *, schedule=None, seed: int = SEED, points_per_epoch: int = 4) -> dict:
    """Train a fresh model. Logs the training loss averaged since the last point (and the LR) ``points_per_epoch``
    times an epoch, and the validation loss/accuracy at the end of every epoch (NaN at the other points)."""
    (xt, yt), (xv, yv) = make_data(seed)
    model = make_model(seed)
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    loader = make_loader(xt, yt, seed)
    sched = schedule(opt, lr, epochs * len(loader)) if schedule is not None else None
    every = math.ceil(len(loader) / points_per_epoch)
    h = {"step": [], "train_loss": [], "val_loss": [], "val_acc": [], "lr": []}
    window: list[float] = []
    step = 0
    for _ in range(epochs):
        model.train()
        for i, (xb, yb) in enumerate(loader):
            h_lr = opt.param_groups[0]["lr"]
            loss = nn.functional.cross_entropy(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            if sched is not None:
                sched.step()
            step += 1
            window.append(loss.item())
            if len(window) == every or i == len(loader) - 1:
                for key, value in (("step", step), ("train_loss", sum(window) / len(window)), ("lr", h_lr),
                                   ("val_loss", math.nan), ("val_acc", math.nan)):
                    h[key].append(value)
                window.clear()
        model.eval()
        with torch.no_grad():
            out = model(xv)
            h["val_loss"][-1] = nn.functional.cross_entropy(out, yv).item()
            h["val_acc"][-1] = (out.argmax(1) == yv).float().mean().item()
    if points_per_epoch == 1:  # one point per epoch: an epoch-indexed history
        h["epoch"] = list(range(1, epochs + 1))
        del h["step"]
    return {**h, "num_classes": 3, "loss_kind": "cross_entropy"}


def plot_curves(histories: dict[str, dict], path: str) -> str:
    plt = require_matplotlib()
    fig, (ax_l, ax_a) = plt.subplots(1, 2, figsize=(10, 3.6))
    for (label, h), color in zip(histories.items(), ("tab:blue", "tab:orange")):
        x = h["epoch"] if "epoch" in h else h["step"]
        ends = [i for i, v in enumerate(h["val_loss"]) if not math.isnan(v)]
        steps = [x[i] for i in ends]
        ax_l.plot(x, h["train_loss"], color=color, alpha=0.5, lw=1, ls="--", label=f"{label}: train")
        ax_l.plot(steps, [h["val_loss"][i] for i in ends], color=color, marker="o", ms=3, label=f"{label}: val")
        ax_a.plot(steps, [h["val_acc"][i] for i in ends], color=color, marker="o", ms=3, label=label)
    ax_l.set_yscale("log")
    ax_l.set(xlabel="epoch", ylabel="loss", title="final runs: loss")
    ax_a.set(xlabel="epoch", ylabel="validation accuracy", title="final runs: validation accuracy")
    for ax in (ax_l, ax_a):
        ax.grid(True, alpha=0.25)
        ax.legend(fontsize=8)
    return save_figure(ax_l, path, dpi=80)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="workflow-out", help="folder for the figures and JSON (default: ./workflow-out)")
    parser.add_argument("--quick", action="store_true", help="a much smaller budget (for tests)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)  # a tiny MLP: more threads only add overhead
    os.makedirs(args.out, exist_ok=True)
    (xt, yt), _ = make_data()
    loader = make_loader(xt, yt)

    print("== 1. initial loss ==")
    model = make_model()
    print(check_initial_loss(model, loader))
    broken = make_model()
    with torch.no_grad():
        broken[-1].weight.mul_(100.0)
    print("the same model with its output layer scaled x100:")
    print(check_initial_loss(broken, loader))

    print("\n== 2. overfit 16 samples ==")
    print(overfit_small_batch(model, loader, num_samples=16))

    print("\n== 3. LR range test ==")
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    # if the test gives no LR but its reason names a range, find_lr runs that one too (retries=1, the default)
    result = find_lr(model, loader, opt, start_lr=1e-5, end_lr=10.0, num_iter=60 if args.quick else 150,
                     progress=False)
    print(result.summary())
    result.to_json(os.path.join(args.out, "range_test.json"))
    save_figure(result.plot(title="range test: spirals MLP, SGD momentum 0.9"),
                os.path.join(args.out, "workflow_range_test.png"), dpi=80)

    print("\n== 4-5. coarse-to-fine sweep ==")
    sweep = lr_sweep(
        train, around=result,
        coarse_points=5 if args.quick else 7, coarse_epochs=1 if args.quick else 2,
        fine_points=3 if args.quick else 5, fine_epochs=2 if args.quick else 8,
    )
    print(sweep)
    sweep.to_json(os.path.join(args.out, "sweep.json"))
    ax_metric, _ = plot_sweep(sweep)
    ax_metric.figure.set_size_inches(10, 3.6)
    save_figure(ax_metric, os.path.join(args.out, "workflow_sweep.png"), dpi=80)
    lr = sweep.chosen_lr if sweep.chosen_lr is not None else result.suggestion.lr

    print("\n== 6. final runs and their learning curves ==")
    epochs = 3 if args.quick else 20
    steps = epochs * len(loader)
    save_figure(
        plot_schedule({"constant": lambda o: torch.optim.lr_scheduler.ConstantLR(o, factor=1.0, total_iters=0),
                       "warmup + cosine": "warmup_cosine", "one-cycle": "one_cycle", "step decay": "step_decay"},
                      steps, lr=lr, title=f"schedules from the finding (peak lr={lr:.3g}, {steps} steps)"),
        os.path.join(args.out, "workflow_schedules.png"), dpi=80,
    )
    finals = {  # logged once per epoch: the curves diagnosed here are epoch averages
        f"constant lr={lr:.3g}": train(lr, epochs, points_per_epoch=1),
        "warmup + cosine": train(lr, epochs, points_per_epoch=1,
                                 schedule=lambda o, peak, total: warmup_cosine(o, peak, total)),
    }
    for label, h in finals.items():
        history = as_history(h, source=label)
        acc = [v for v in h["val_acc"] if not math.isnan(v)][-1]
        print(f"{label}: final val_acc {acc:.3f}")
        print(diagnose(history))
    plot_curves(finals, os.path.join(args.out, "workflow_curves.png"))
    print(f"\nwrote figures and JSON to {args.out}/")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
