"""Generate lrfinder's own labelled set of learning curves by really training tiny models under induced conditions.

Every curve is a real CPU training run (one thread) of a small PyTorch model on data generated in code (Gaussian
blobs, spirals, concentric circles, teacher-network labels, a standardised noisy regression, 8x8 bar images for a
small CNN, a checkerboard for plateau attempts). A condition is induced on purpose (bad initialisation, too-high LR,
early LR decay, ...); the label starts as that condition and is then CHECKED against the label definitions of
``/work/shared/dev-curves/README.md`` with the numeric rules in :func:`check_labels` below. Curves whose induced
condition did not produce its symptom are relabelled (``relabel_note`` says why) or dropped (listed in
``generation_log.json``).

Output (schema identical to dev-curves): ``benchmarks/data/induced/iNNN.json``, ``contact_sheet.png``,
``split.json`` (tune / holdout, stratified by first label, fixed seed) and ``generation_log.json``.

Usage, from the repository root::

    PYTHONPATH=$PWD python benchmarks/make_induced_curves.py            # everything (~5 min on one core)
    PYTHONPATH=$PWD python benchmarks/make_induced_curves.py --only 3 7 # a few specs (debugging; writes nothing)
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

OUT = Path(__file__).resolve().parent / "data" / "induced"
SPLIT_SEED = 20261122
HOLDOUT_FRACTION = 0.4
N_VAL = 500


# ----------------------------------------------------------------------------------------------------------- data
def make_data(name: str, n_train: int, seed: int) -> tuple[torch.Tensor, ...]:
    """Return (x_train, y_train, x_val, y_val, n_classes or None) for a generated task."""
    g = np.random.default_rng(seed)
    n = n_train + N_VAL
    n_classes: int | None
    if name == "blobs":  # 6 Gaussian blobs in 8-d, overlapping a little
        n_classes = 6
        centers = g.normal(0.0, 1.6, size=(n_classes, 8))
        y = g.integers(0, n_classes, n)
        x = centers[y] + g.normal(0.0, 1.0, size=(n, 8))
    elif name == "spirals":  # 3 interleaved spiral arms in 2-d
        n_classes = 3
        y = g.integers(0, n_classes, n)
        r = g.uniform(0.1, 1.0, n)
        theta = 3.5 * r + y * 2 * math.pi / 3 + g.normal(0.0, 0.15, n)
        x = np.stack([r * np.cos(theta), r * np.sin(theta)], 1) * 2.0
    elif name == "circles":  # 2 concentric noisy circles
        n_classes = 2
        y = g.integers(0, 2, n)
        r = np.where(y == 1, 0.5, 1.0) + g.normal(0.0, 0.2, n)
        theta = g.uniform(0, 2 * math.pi, n)
        x = np.stack([r * np.cos(theta), r * np.sin(theta)], 1) * 1.5
    elif name == "teacher":  # labels from a random tanh teacher network, 16-d input, 5 classes
        n_classes = 5
        x = g.normal(0.0, 1.0, size=(n, 16))
        w1, w2 = g.normal(0, 1 / 4, (16, 32)), g.normal(0, 1, (32, n_classes))
        y = np.argmax(np.tanh(x @ w1) @ w2, 1)
    elif name == "noisyteacher":  # same kind of teacher, 30% label noise: memorisable, hard to generalise
        n_classes = 4
        x = g.normal(0.0, 1.0, size=(n, 12))
        w1, w2 = g.normal(0, 1 / 3.5, (12, 24)), g.normal(0, 1, (24, n_classes))
        y = np.argmax(np.tanh(x @ w1 * 2.0) @ w2, 1)
        flip = g.random(n) < 0.3
        y[flip] = g.integers(0, n_classes, flip.sum())
    elif name == "checker":  # 4x4 checkerboard in 2-d (XOR-like): prone to flat stretches
        n_classes = 2
        x = g.uniform(-2, 2, size=(n, 2))
        y = ((np.floor(x[:, 0]) + np.floor(x[:, 1])) % 2).astype(np.int64)
    elif name == "twostage":  # 4 classes: 0/1 easy clusters at x0=-3/+3; 2/3 an XOR of (x1, x2) near x0=0
        n_classes = 4
        y = g.integers(0, 4, n)
        x = g.normal(0.0, 0.3, size=(n, 4))
        x[:, 0] += np.where(y == 0, -3.0, np.where(y == 1, 3.0, 0.0))
        s1 = g.choice([-1.0, 1.0], n)
        s2 = np.where(y == 2, s1, -s1)
        mid = y >= 2
        x[mid, 1] += s1[mid] * 1.2
        x[mid, 2] += s2[mid] * 1.2
    elif name in ("regression", "scaledregression"):  # noisy nonlinear target, standardised (mean predictor: MSE ~1)
        n_classes = None
        x = g.normal(0.0, 1.0, size=(n, 10))
        w = g.normal(0, 0.5, 10)
        y = np.sin(1.5 * x[:, 0]) + x[:, 1] * x[:, 2] + np.tanh(x @ w) + g.normal(0, 0.4, n)
        y = (y - y[:n_train].mean()) / y[:n_train].std()
        if name == "scaledregression":  # a broken pipeline: one input feature left in raw units (x300)
            x[:, 3] *= 300.0
    elif name == "bars8":  # 8x8 images: horizontal / vertical / diagonal / anti-diagonal bar + noise, 4 classes
        n_classes = 4
        y = g.integers(0, 4, n)
        img = np.zeros((n, 8, 8))
        pos = g.integers(1, 7, n)
        ii = np.arange(8)
        for k in range(n):
            p = pos[k]
            if y[k] == 0:
                img[k, p, :] = 1
            elif y[k] == 1:
                img[k, :, p] = 1
            elif y[k] == 2:
                img[k, ii, np.clip(ii + p - 4, 0, 7)] = 1
            else:
                img[k, ii, np.clip(7 - ii + p - 4, 0, 7)] = 1
        x = (img + g.normal(0.0, 0.5, size=img.shape))[:, None]
    else:
        raise ValueError(f"unknown task {name!r}")
    xt = torch.tensor(x, dtype=torch.float32)
    if n_classes is None:
        yt = torch.tensor(y, dtype=torch.float32)[:, None]
    else:
        yt = torch.tensor(y, dtype=torch.long)
    return xt[:n_train], yt[:n_train], xt[n_train:], yt[n_train:], n_classes


IN_DIM = {"blobs": 8, "spirals": 2, "circles": 2, "teacher": 16, "noisyteacher": 12, "checker": 2, "twostage": 4,
          "regression": 10, "scaledregression": 10}


# ---------------------------------------------------------------------------------------------------------- models
def make_model(task: str, hidden: tuple[int, ...], act: str, n_out: int, cnn_channels: int = 0) -> tuple[nn.Module, str]:
    if task == "bars8":
        c = cnn_channels or 8
        m = nn.Sequential(nn.Conv2d(1, c, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(c, 2 * c, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                          nn.Linear(2 * c, n_out))
        return m, f"CNN conv{c}-conv{2 * c}-gap-linear{n_out} relu, 8x8 input"
    acts = {"relu": nn.ReLU, "tanh": nn.Tanh}
    layers: list[nn.Module] = []
    d = IN_DIM[task]
    for h in hidden:
        layers += [nn.Linear(d, h), acts[act]()]
        d = h
    layers.append(nn.Linear(d, n_out))
    dims = "-".join(str(v) for v in (IN_DIM[task], *hidden, n_out))
    return nn.Sequential(*layers), f"MLP {dims} {act}"


def apply_init(model: nn.Module, init: str | None) -> None:
    """Induced initialisations: 'scaleK' (all weights xK), 'biasK' (output bias +K on unit 0 / all for regression),
    'zero' (every parameter 0), 'tinyK' (weights xK, biases 0)."""
    if init is None:
        return
    linears = [m for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv2d))]
    with torch.no_grad():
        if init.startswith("scale"):
            for m in linears:
                m.weight.mul_(float(init[5:]))
        elif init.startswith("bias"):
            last = linears[-1]
            if last.bias.numel() == 1:
                last.bias.fill_(float(init[4:]))
            else:
                last.bias[0] = float(init[4:])
        elif init == "zero":
            for p in model.parameters():
                p.zero_()
        elif init.startswith("tiny"):
            for m in linears:
                m.weight.mul_(float(init[4:]))
                m.bias.zero_()
        else:
            raise ValueError(f"unknown init {init!r}")


# -------------------------------------------------------------------------------------------------------- training
@dataclass
class Spec:
    induced: str  # the label induced by construction
    how: str  # how it was induced (free text, goes into `induced`)
    task: str
    opt: str  # sgd | sgdm | adam | adamw
    lr: float
    epochs: int
    seed: int
    n_train: int | None = None  # None: 2000 for 'teacher', 800 otherwise
    hidden: tuple[int, ...] = (64,)
    act: str = "relu"
    batch: int = 32
    wd: float = 0.0
    init: str | None = None
    milestones: tuple[int, ...] = ()
    gamma: float = 1.0
    stop_nonfinite: bool = False
    ref: int | None = None  # index of the reference (normal) run on the same setup, for early_decay / underfitting
    cnn_channels: int = 0
    extra: dict = field(default_factory=dict)


def _evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, loss_fn, classify: bool) -> tuple[float, float | None]:
    model.eval()
    with torch.no_grad():
        out = model(x)
        loss = float(loss_fn(out, y))
        acc = float((out.argmax(1) == y).float().mean()) if classify else None
    model.train()
    return loss, acc


def train(spec: Spec) -> dict:
    torch.manual_seed(spec.seed)
    n_train = spec.n_train or (2000 if spec.task == "teacher" else 800)
    xtr, ytr, xva, yva, n_classes = make_data(spec.task, n_train, spec.seed + 1000)
    classify = n_classes is not None
    model, desc = make_model(spec.task, spec.hidden, spec.act, n_classes or 1, spec.cnn_channels)
    apply_init(model, spec.init)
    loss_fn = nn.CrossEntropyLoss() if classify else nn.MSELoss()
    if spec.opt == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=spec.lr, weight_decay=spec.wd)
        odesc = f"SGD(momentum=0.0, weight_decay={spec.wd})"
    elif spec.opt == "sgdm":
        mom = spec.extra.get("momentum", 0.9)
        opt = torch.optim.SGD(model.parameters(), lr=spec.lr, momentum=mom, weight_decay=spec.wd)
        odesc = f"SGD(momentum={mom}, weight_decay={spec.wd})"
    elif spec.opt == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=spec.lr, weight_decay=spec.wd)
        odesc = f"Adam(weight_decay={spec.wd})"
    elif spec.opt == "adamw":
        opt = torch.optim.AdamW(model.parameters(), lr=spec.lr, weight_decay=spec.wd)
        odesc = f"AdamW(weight_decay={spec.wd})"
    else:
        raise ValueError(spec.opt)
    if spec.milestones:
        sched = torch.optim.lr_scheduler.MultiStepLR(opt, list(spec.milestones), gamma=spec.gamma)
        sdesc = f"MultiStepLR milestones={list(spec.milestones)} gamma={spec.gamma}"
    else:
        sched = None
        sdesc = "constant"
    rec = {k: [] for k in ("epochs", "train_loss", "val_loss", "train_acc", "val_acc", "lr")}

    def log(ep, tl, ta, lr):
        vl, va = _evaluate(model, xva, yva, loss_fn, classify)
        rec["epochs"].append(ep)
        rec["train_loss"].append(tl)
        rec["val_loss"].append(vl)
        rec["train_acc"].append(ta)
        rec["val_acc"].append(va)
        rec["lr"].append(lr)
        return math.isfinite(tl) and math.isfinite(vl)

    tl0, ta0 = _evaluate(model, xtr, ytr, loss_fn, classify)
    log(0, tl0, ta0, spec.lr)
    gen = torch.Generator().manual_seed(spec.seed + 7)
    n = len(xtr)
    for ep in range(1, spec.epochs + 1):
        lr_now = opt.param_groups[0]["lr"]
        perm = torch.randperm(n, generator=gen)
        losses, correct = [], 0
        for i in range(0, n, spec.batch):
            idx = perm[i:i + spec.batch]
            out = model(xtr[idx])
            loss = loss_fn(out, ytr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item() * len(idx))
            if classify:
                correct += int((out.argmax(1) == ytr[idx]).sum())
        tl = sum(losses) / n
        ok = log(ep, tl, correct / n if classify else None, lr_now)
        if sched is not None:
            sched.step()
        if not ok and spec.stop_nonfinite:
            break
    return {
        "task": spec.task,
        "model": desc,
        "optimizer": f"{odesc}, lr={spec.lr:g}, batch={spec.batch}, schedule: {sdesc}",
        "induced": f"{spec.induced}: {spec.how}",
        "n_classes": n_classes,
        "loss_fn": "cross_entropy" if classify else "mse",
        "n_train": n,
        "n_val": len(xva),
        "epochs": rec["epochs"],
        "train_loss": rec["train_loss"],
        "val_loss": rec["val_loss"],
        "train_acc": rec["train_acc"] if classify else None,
        "val_acc": rec["val_acc"] if classify else None,
        "lr": rec["lr"],
    }


# ------------------------------------------------------------------------------------------------------- the specs
def specs() -> list[Spec]:
    """The induced runs. Index i becomes id iNNN (1-based) when kept. `ref` points at a normal run's index."""
    S = Spec
    s: list[Spec] = []
    # healthy (also the reference runs for early_decay / underfitting): indices 0..7
    s += [
        S("healthy", "blobs, Adam lr=3e-3", "blobs", "adam", 3e-3, 40, 11),
        S("healthy", "spirals, AdamW lr=1e-2", "spirals", "adamw", 1e-2, 100, 12, hidden=(64, 64), wd=1e-4),
        S("healthy", "circles, SGD momentum lr=0.05", "circles", "sgdm", 0.05, 150, 13, hidden=(32, 32)),
        S("healthy", "teacher, SGD lr=0.1", "teacher", "sgd", 0.1, 60, 14, hidden=(16,)),
        S("healthy", "regression, Adam lr=1e-3", "regression", "adam", 1e-3, 80, 15, hidden=(64, 64)),
        S("healthy", "bars8 CNN, Adam lr=5e-3", "bars8", "adam", 5e-3, 60, 16, n_train=600),
        S("healthy", "blobs, SGD momentum lr=0.02, wd=1e-3", "blobs", "sgdm", 0.02, 30, 17, hidden=(32,), wd=1e-3),
        S("healthy", "teacher, AdamW lr=2e-3", "teacher", "adamw", 2e-3, 50, 18, wd=1e-2, hidden=(16,)),
    ]
    # bad_init
    s += [
        S("bad_init", "all weights x20 (huge logits)", "blobs", "adam", 3e-3, 40, 21, init="scale20"),
        S("bad_init", "output bias +25 on class 0", "teacher", "sgdm", 0.02, 50, 22, init="bias25", hidden=(16,)),
        S("bad_init", "output bias +12 (initial MSE ~150)", "regression", "adam", 1e-3, 60, 23, hidden=(64, 64), init="bias12"),
        S("bad_init", "all parameters initialised to 0 (ReLU MLP cannot break symmetry)", "circles", "sgdm", 0.05, 40, 24, hidden=(32, 32), init="zero"),
        S("bad_init", "all parameters initialised to 0", "spirals", "adam", 3e-3, 50, 25, hidden=(64, 64), init="zero"),
        S("bad_init", "deep tanh MLP with weights x0.05 (vanishing signal)", "teacher", "sgd", 0.05, 60, 26, hidden=(32, 32, 32, 32, 32), act="tanh", init="tiny0.05"),
        S("bad_init", "all weights x10", "blobs", "sgdm", 0.01, 40, 27, hidden=(64, 64), init="scale10"),
        S("bad_init", "CNN weights x15", "bars8", "adam", 3e-3, 30, 28, n_train=600, init="scale15"),
    ]
    # lr_too_high
    s += [
        S("lr_too_high", "SGD lr=3 (~30x the stable LR)", "blobs", "sgd", 3.0, 40, 31),
        S("lr_too_high", "Adam lr=0.1 (~50x)", "teacher", "adam", 0.1, 40, 32, hidden=(16,)),
        S("lr_too_high", "SGD momentum lr=1.0 (~20x)", "spirals", "sgdm", 1.0, 60, 33, hidden=(64, 64)),
        S("lr_too_high", "Adam lr=0.3", "circles", "adam", 0.3, 40, 34, hidden=(32, 32)),
        S("lr_too_high", "SGD momentum lr=0.15 on MSE", "regression", "sgdm", 0.15, 50, 35, hidden=(64, 64)),
        S("lr_too_high", "CNN Adam lr=0.1", "bars8", "adam", 0.1, 30, 36, n_train=600),
        S("lr_too_high", "SGD momentum lr=1.5", "teacher", "sgdm", 1.5, 40, 37, hidden=(16,)),
        S("lr_too_high", "AdamW lr=0.2", "blobs", "adamw", 0.2, 40, 38, hidden=(64, 64), wd=1e-2),
    ]
    # diverged
    s += [
        S("diverged", "SGD lr=2 on MSE (stop at first non-finite)", "regression", "sgd", 2.0, 40, 41, hidden=(64, 64), stop_nonfinite=True),
        S("diverged", "SGD momentum lr=50 (keeps logging)", "blobs", "sgdm", 50.0, 30, 42),
        S("diverged", "Adam lr=5", "teacher", "adam", 5.0, 30, 43, hidden=(64, 64)),
        S("diverged", "SGD lr=100 (stop at first non-finite)", "spirals", "sgd", 100.0, 30, 44, hidden=(64, 64), stop_nonfinite=True),
        S("diverged", "Adam lr=1 on MSE", "regression", "adam", 1.0, 30, 45, hidden=(64, 64)),
        S("diverged", "SGD momentum 0.99 lr=30 (keeps logging)", "circles", "sgdm", 30.0, 30, 46, hidden=(32, 32), extra={"momentum": 0.99}),
        S("diverged", "CNN SGD momentum lr=50 (stop at first non-finite)", "bars8", "sgdm", 50.0, 20, 47, n_train=600, stop_nonfinite=True),
        S("diverged", "unscaled input feature (x300), SGD lr=0.01 (data problem, not LR)", "scaledregression", "sgd", 0.01, 30, 48, hidden=(64, 64)),
        S("diverged", "unscaled input feature (x300), SGD momentum lr=0.003 (stop at first non-finite)", "scaledregression", "sgdm", 0.003, 30, 49, hidden=(32,), stop_nonfinite=True),
    ]
    # early_decay (ref = the healthy run on the same setup)
    s += [
        S("early_decay", "LR x0.01 after epoch 2", "spirals", "adamw", 1e-2, 100, 51, hidden=(64, 64), wd=1e-4, milestones=(2,), gamma=0.01, ref=1),
        S("early_decay", "LR x0.01 after epoch 1", "teacher", "sgd", 0.1, 60, 52, milestones=(1,), gamma=0.01, ref=3, hidden=(16,)),
        S("early_decay", "LR x0.02 after epoch 2", "circles", "sgdm", 0.05, 150, 53, hidden=(32, 32), milestones=(2,), gamma=0.02, ref=2),
        S("early_decay", "LR x0.01 after epoch 1", "regression", "adam", 1e-3, 80, 54, hidden=(64, 64), milestones=(1,), gamma=0.01, ref=4),
        S("early_decay", "LR x0.01 after epoch 1", "blobs", "sgdm", 0.02, 50, 55, hidden=(32,), milestones=(1,), gamma=0.01, ref=6),
        S("early_decay", "LR x0.01 after epoch 4", "bars8", "adam", 5e-3, 60, 56, n_train=600, milestones=(4,), gamma=0.01, ref=5),
        S("early_decay", "LR x0.05 after epoch 3 then x0.1 after epoch 10", "teacher", "adamw", 2e-3, 50, 57, wd=1e-2, milestones=(3, 10), gamma=0.05, ref=7, hidden=(16,)),
        S("early_decay", "LR x0.01 after epoch 3", "spirals", "adamw", 1e-2, 100, 58, hidden=(64, 64), wd=1e-4, milestones=(3,), gamma=0.01, ref=1),
    ]
    # overfitting: tiny training sets, big models, long training, no regularisation
    s += [
        S("overfitting", "60 training samples, MLP 256-256, 150 epochs", "blobs", "adam", 1e-3, 150, 61, n_train=60, hidden=(256, 256), batch=16),
        S("overfitting", "80 samples of 30%-noisy labels, MLP 256-256", "noisyteacher", "adam", 1e-3, 120, 62, n_train=80, hidden=(256, 256), batch=16),
        S("overfitting", "60 samples, MLP 256-256-256", "spirals", "adamw", 3e-3, 150, 63, n_train=60, hidden=(256, 256, 256), batch=16),
        S("overfitting", "40 samples, MLP 256-256, AdamW wd=0", "teacher", "adamw", 1e-3, 150, 64, n_train=40, hidden=(256, 256), batch=8),
        S("overfitting", "100 samples of 30%-noisy labels, SGD momentum", "noisyteacher", "sgdm", 0.05, 150, 65, n_train=100, hidden=(256, 256), batch=16),
        S("overfitting", "60 samples, MLP 256-256, SGD momentum", "teacher", "sgdm", 0.05, 120, 66, n_train=60, hidden=(256, 256), batch=16),
        S("overfitting", "60 samples of 30%-noisy labels, MLP 512, Adam lr=3e-3", "noisyteacher", "adam", 3e-3, 120, 67, n_train=60, hidden=(512,), batch=8),
        S("overfitting", "40 samples, MLP 512, AdamW wd=0", "blobs", "adamw", 2e-3, 150, 68, n_train=40, hidden=(512,), batch=8),
    ]
    # underfitting (ref = a healthy run on the same task)
    s += [
        S("underfitting", "MLP with 2 hidden units", "spirals", "adam", 1e-2, 60, 71, hidden=(2,), ref=1),
        S("underfitting", "MLP with 1 hidden unit", "teacher", "adam", 1e-2, 50, 72, hidden=(1,), ref=7),
        S("underfitting", "MLP with 1 hidden unit on a nonlinear target", "regression", "adam", 1e-2, 60, 73, hidden=(1,), ref=4),
        S("underfitting", "AdamW weight_decay=3 (heavy)", "circles", "adamw", 1e-2, 50, 74, hidden=(32, 32), wd=3.0, ref=2),
        S("underfitting", "SGD weight_decay=0.3 (heavy)", "blobs", "sgd", 0.05, 40, 75, wd=0.3, ref=0),
        S("underfitting", "AdamW weight_decay=2 (heavy)", "spirals", "adamw", 1e-2, 60, 76, hidden=(64, 64), wd=2.0, ref=1),
        S("underfitting", "LR far too low: SGD lr=2e-3", "teacher", "sgd", 2e-3, 60, 77, ref=3, hidden=(16,)),
        S("underfitting", "CNN with 1 channel", "bars8", "adam", 5e-3, 40, 78, n_train=600, cnn_channels=1, ref=5),
        S("underfitting", "SGD weight_decay=0.5 (heavy)", "regression", "sgd", 0.05, 50, 79, hidden=(64, 64), wd=0.5, ref=4),
    ]
    # still_improving: a sound but modest LR stopped far too early
    s += [
        S("still_improving", "AdamW lr=1e-3 stopped after 12 epochs", "spirals", "adamw", 1e-3, 12, 81, hidden=(64, 64)),
        S("still_improving", "SGD lr=0.03 stopped after 12 epochs", "teacher", "sgd", 0.03, 12, 82, hidden=(16,)),
        S("still_improving", "Adam lr=3e-4 stopped after 15 epochs", "regression", "adam", 3e-4, 15, 83, hidden=(64, 64)),
        S("still_improving", "Adam lr=3e-4 stopped after 12 epochs", "blobs", "adam", 3e-4, 12, 84, hidden=(32, 32)),
        S("still_improving", "SGD lr=0.005 stopped after 10 epochs", "blobs", "sgd", 0.005, 10, 85),
        S("still_improving", "CNN Adam lr=2e-3 stopped after 10 epochs", "bars8", "adam", 2e-3, 10, 86, n_train=600),
        S("still_improving", "Adam lr=5e-4 stopped after 12 epochs", "teacher", "adam", 5e-4, 12, 87, hidden=(16,)),
        S("still_improving", "SGD lr=0.02 stopped after 15 epochs", "spirals", "sgd", 0.02, 15, 88, hidden=(64, 64)),
    ]
    # plateau: two-stage task (easy clusters first, an XOR later) with small-init tanh nets and constant LR
    s += [
        S("plateau", "two-stage task, tanh MLP 16-16, weights x0.2, SGD lr=0.3", "twostage", "sgd", 0.3, 100, 91, hidden=(16, 16), act="tanh", init="tiny0.2"),
        S("plateau", "two-stage task, tanh MLP 16-16, weights x0.1, SGD lr=0.5", "twostage", "sgd", 0.5, 100, 92, hidden=(16, 16), act="tanh", init="tiny0.1"),
        S("plateau", "two-stage task, tanh MLP 32, weights x0.1, SGD lr=0.5", "twostage", "sgd", 0.5, 100, 93, hidden=(32,), act="tanh", init="tiny0.1"),
        S("plateau", "two-stage task, tanh MLP 16-16-16, weights x0.3, SGD lr=0.3", "twostage", "sgd", 0.3, 100, 94, hidden=(16, 16, 16), act="tanh", init="tiny0.3"),
        S("plateau", "two-stage task, tanh MLP 8-8, weights x0.2, Adam lr=3e-3", "twostage", "adam", 3e-3, 100, 95, hidden=(8, 8), act="tanh", init="tiny0.2"),
        S("plateau", "two-stage task, tanh MLP 16-16, weights x0.1, SGD lr=0.2", "twostage", "sgd", 0.2, 120, 96, hidden=(16, 16), act="tanh", init="tiny0.1"),
        S("plateau", "two-stage task, tanh MLP 8-8, weights x0.1, AdamW lr=2e-3", "twostage", "adamw", 2e-3, 120, 97, hidden=(8, 8), act="tanh", init="tiny0.1", wd=1e-4),
        S("plateau", "two-stage task, tanh MLP 16-16, weights x0.2, SGD momentum lr=0.03", "twostage", "sgdm", 0.03, 100, 98, hidden=(16, 16), act="tanh", init="tiny0.2"),
    ]
    s += [
        S("plateau", "two-stage task, tanh MLP 16-16, weights x0.1, SGD lr=0.5, seed 2", "twostage", "sgd", 0.5, 100, 191, hidden=(16, 16), act="tanh", init="tiny0.1"),
        S("plateau", "two-stage task, tanh MLP 16-16, weights x0.1, SGD lr=0.2, seed 2", "twostage", "sgd", 0.2, 120, 192, hidden=(16, 16), act="tanh", init="tiny0.1"),
        S("plateau", "two-stage task, tanh MLP 8-8, weights x0.1, AdamW lr=2e-3, seed 2", "twostage", "adamw", 2e-3, 120, 193, hidden=(8, 8), act="tanh", init="tiny0.1", wd=1e-4),
    ]
    # more healthy runs
    s += [
        S("healthy", "circles, Adam lr=3e-3", "circles", "adam", 3e-3, 120, 101, hidden=(32, 32)),
        S("healthy", "regression, SGD momentum lr=0.01", "regression", "sgdm", 0.01, 60, 102, hidden=(64, 64)),
        S("healthy", "spirals, SGD momentum lr=0.1", "spirals", "sgdm", 0.1, 100, 103, hidden=(64, 64)),
        S("healthy", "teacher, Adam lr=1e-3, 1200 samples", "teacher", "adam", 1e-3, 40, 104, n_train=1200, hidden=(16,)),
    ]
    # more underfitting runs
    s += [
        S("underfitting", "MLP with 1 hidden unit", "circles", "adam", 1e-2, 60, 111, hidden=(1,), ref=2),
        S("underfitting", "MLP with 2 hidden units, SGD momentum", "blobs", "sgdm", 0.02, 40, 112, hidden=(2,), ref=0),
        S("underfitting", "linear model (no hidden layer)", "spirals", "sgdm", 0.05, 50, 113, hidden=(), ref=1),
    ]
    return s


# -------------------------------------------------------------------------------------------------- label checks
def _finite(a) -> np.ndarray:
    return np.array([v for v in a if v is not None and math.isfinite(v)], dtype=float)


def _smooth(a: np.ndarray) -> np.ndarray:
    """Centred 3-point moving average (ends use what is available): one noisy epoch moves nothing much."""
    if len(a) < 3:
        return a.copy()
    p = np.concatenate([[a[0]], a, [a[-1]]])
    return (p[:-2] + p[1:-1] + p[2:]) / 3


def measures(rec: dict, ref_final: float | None) -> dict:
    """Numbers the label rules use (all documented in README.md)."""
    tl = np.array(rec["train_loss"], dtype=float)
    vl = np.array(rec["val_loss"], dtype=float)
    chance = math.log(rec["n_classes"]) if rec["n_classes"] else 1.0
    m: dict = {"chance": chance}
    m["nonfinite"] = bool(not np.all(np.isfinite(tl)) or not np.all(np.isfinite(vl)))
    start = max(tl[0], vl[0])
    m["start"] = float(start)
    fin = _finite(list(tl[1:]) + list(vl[1:]))
    m["peak"] = float(fin.max()) if len(fin) else float("nan")
    n = len(vl) - 1
    m["n"] = n
    v = vl.copy()
    vf = v[np.isfinite(v)]
    m["final"] = float(np.mean(vf[-3:])) if len(vf) else float("nan")
    m["exploded"] = bool(len(fin) and m["peak"] >= 5 * max(start, chance) and m["final"] >= 0.7 * chance)
    m["diverged"] = m["nonfinite"] or m["exploded"]
    if m["nonfinite"]:
        return m
    vs = _smooth(v)
    k = min(n, max(3, round(0.2 * n)))
    m["tail_drop"] = float((vs[n - k] - vs[n]) / vs[n - k])  # relative fall of smoothed val loss over the last 20%
    m["tail_drop_abs"] = float((vs[n - k] - vs[n]) / chance)  # the same fall in units of the chance level
    m["still_falling_at_end"] = bool(v[n] < v[max(0, n - 2)] and vs[n] < vs[n - 1] * 1.001)
    i = int(np.argmin(vs))
    m["argmin"] = i
    m["min"] = float(vs[i])
    m["rise_over_min"] = float(m["final"] / vs[i])
    m["train_fall_after_min"] = float((tl[i] - tl[n]) / tl[i]) if i >= 1 else 0.0
    half = v[n // 2:]
    # epoch-to-epoch jumps over the second half, relative to the level (floored at 5% of chance: no tiny-loss noise)
    scale = max(float(np.median(half)), 0.05 * chance)
    m["osc"] = float(np.median(np.abs(np.diff(half))) / scale) if len(half) > 2 else 0.0
    e3 = min(3, n)
    m["early_fall"] = float((v[0] - v[e3]) / v[0])  # relative val fall over the first 3 epochs
    m["total_fall"] = float((v[0] - vs[n]) / v[0])
    m["gap"] = float(abs(vs[n] - _smooth(tl)[n]) / vs[n])
    lr = np.array(rec["lr"], dtype=float)
    cut = np.nonzero(lr <= lr[0] / 10)[0]
    m["cut_epoch"] = int(cut[0]) if len(cut) else None
    m["lr_constant"] = bool(np.all(lr == lr[0]))
    m["ref_final"] = ref_final
    m["vs"] = vs
    return m


def find_plateau(vs: np.ndarray) -> tuple[int, int] | None:
    """A flat stretch (>= max(8, 10% of the run) epochs, max <= 1.08x min) entered after >= 10% progress and
    followed by a further clear drop (>= 25% below the stretch's level). Returns (first, last) epoch or None."""
    n = len(vs) - 1
    L = max(8, round(0.1 * n))
    for a in range(1, n - L):
        if vs[a] > 0.9 * vs[0]:
            continue  # no initial progress yet: a flat start is bad_init, not plateau
        w = vs[a:a + L + 1]
        if w.max() <= 1.08 * w.min():
            level = w.mean()
            if vs[a + L:].min() <= 0.75 * level:
                return a, a + L
    return None


def check_labels(spec: Spec, m: dict) -> tuple[list[str] | None, str | None]:
    """Return (labels, relabel_note). labels None = drop the curve. Rules (chance = ln C or 1.0 for MSE):

    diverged: a non-finite loss, or a peak >= 5x max(start, chance) with the final val loss still >= 0.7 chance.
        Diverged by a too-high LR: labels lr_too_high + diverged (the LR is above the stable range); diverged
        from an unscaled input: diverged only. Either one that also starts far above chance: + bad_init.
    lr_too_high: (induced only) diverged, or final val >= 0.6 chance, or oscillation (median |epoch-to-epoch change|
        of val over the second half / max(its median, 0.05 chance)) >= 0.08, or final val >= 1.3x its minimum.
    bad_init: start >= 2x chance (MSE >= 3), or val loss falls < 3% over the first 3 epochs (flat start).
    still_improving: smoothed val loss falls >= 6% (and >= 0.02 chance) over the last max(3, 20%) epochs and is
        still falling at the end. "levelled" = that fall < 3% or < 0.02 chance.
    overfitting: final val >= 1.15x its (smoothed) minimum, the minimum before the last 3 epochs, and train loss
        falls >= 20% after the val minimum.
    early_decay: LR cut >= 10x at an epoch <= max(3, 20% of the run) and final val >= 1.5x the reference run's.
    underfitting: final val >= 1.5x the reference run's, >= reference + 0.1 chance and >= 0.25 chance, gap <= 30% of
        val, not still_improving (slow creep allowed), not flat from the start (early_fall >= 3%).
    plateau: constant LR and find_plateau() finds a stretch.
    healthy: none of the above symptoms, final val <= 0.5 chance, rise over min <= 1.10, levelled,
        osc < 0.08, start < 2x chance, early_fall >= 3%.
    """
    want = spec.induced
    c = m["chance"]
    bad_start = m["start"] >= (2 * c if c != 1.0 else 3.0)
    if m["diverged"]:
        if want in ("diverged", "lr_too_high"):
            labels = ["diverged"] if spec.task == "scaledregression" else ["lr_too_high", "diverged"]
            note = None if want == "diverged" else "relabelled: induced lr_too_high, the loss diverged too"
            if bad_start:
                labels = ["bad_init", *labels]
                note = (note + "; " if note else "relabelled: ") + "initial loss far above chance, so bad_init too"
            return labels, note
        return None, f"dropped: induced {want} but the run diverged"
    flat_start = m["early_fall"] < 0.03
    still = m["tail_drop"] >= 0.06 and m["tail_drop_abs"] >= 0.02 and m["still_falling_at_end"]
    levelled = m["tail_drop"] < 0.03 or m["tail_drop_abs"] < 0.02
    overfit = m["rise_over_min"] >= 1.15 and m["argmin"] < m["n"] - 2 and m["train_fall_after_min"] >= 0.20
    unstable = m["final"] >= 0.6 * c or m["osc"] >= 0.08 or m["rise_over_min"] >= 1.3
    healthy = (not bad_start and not flat_start and m["final"] <= 0.5 * c and m["rise_over_min"] <= 1.10
               and levelled and m["osc"] < 0.08)
    ref = m["ref_final"]
    if want == "healthy":
        return (["healthy"], None) if healthy else (None, "dropped: induced healthy but a symptom showed "
                                                    f"(final {m['final']:.3f}, tail_drop {m['tail_drop']:.2f}, rise {m['rise_over_min']:.2f}, osc {m['osc']:.3f})")
    if want == "bad_init":
        if not (bad_start or flat_start):
            return (["healthy"], "relabelled: induced bad_init but the start looks normal") if healthy else (None, "dropped: bad_init without its symptom")
        return (["bad_init", "still_improving"] if still else ["bad_init"]), None
    if want == "lr_too_high":
        if unstable:
            return ["lr_too_high"], None
        return (["healthy"], "relabelled: LR turned out stable") if healthy else (None, "dropped: lr_too_high without its symptom")
    if want == "diverged":
        if unstable and spec.task != "scaledregression":
            return ["lr_too_high"], "relabelled: induced diverged, loss unstable but finite and not exploding"
        return None, "dropped: induced diverged but the run did not diverge"
    if want == "early_decay":
        cut = m["cut_epoch"]
        ok = cut is not None and cut <= max(3, 0.2 * m["n"]) and ref is not None and m["final"] >= 1.5 * ref
        if ok:
            return (["early_decay", "still_improving"] if still else ["early_decay"]), None
        if still:
            return ["still_improving"], "relabelled: early cut, but training still reaches/continues towards a good level"
        return (["healthy"], "relabelled: early cut but a good final level") if healthy else (None, "dropped: early_decay without a clear stall")
    if want == "overfitting":
        if overfit:
            return ["overfitting"], None
        return (["healthy"], "relabelled: val loss did not turn up") if healthy else (None, f"dropped: overfitting without a clear val rise (rise {m['rise_over_min']:.2f})")
    if want == "underfitting":
        poor = ref is not None and m["final"] >= 1.5 * ref and m["final"] >= ref + 0.1 * c and m["final"] >= 0.25 * c
        if poor and m["gap"] <= 0.3 and not still and not flat_start:
            return ["underfitting"], None
        if poor and flat_start and m["total_fall"] < 0.03:
            return ["bad_init"], "relabelled: induced underfitting, but the loss is stuck at its starting value"
        if poor and still:
            return ["still_improving"], "relabelled: induced underfitting, but val loss still clearly falling at the end"
        return None, f"dropped: underfitting without its symptom (final {m['final']:.3f} ref {ref}, gap {m['gap']:.2f}, tail {m['tail_drop']:.2f})"
    if want == "still_improving":
        if still:
            return ["still_improving"], None
        return None, f"dropped: still_improving but val levelled (tail_drop {m['tail_drop']:.2f})"
    if want == "plateau":
        if m["lr_constant"] and find_plateau(m["vs"]) is not None:
            return ["plateau"], None
        if flat_start and find_plateau(np.concatenate([[m["vs"][0] * 2], m["vs"][1:]])) is None and still:
            return ["bad_init", "still_improving"], "relabelled: flat from the very start (bad_init), no later flat stretch"
        return None, "dropped: no plateau (flat stretch then drop) appeared"
    raise ValueError(want)


# ------------------------------------------------------------------------------------------------------ outputs
LABEL_ORDER = ["healthy", "bad_init", "lr_too_high", "diverged", "early_decay", "overfitting", "underfitting",
               "still_improving", "plateau"]


def contact_sheet(records: list[dict], path: Path, cols: int = 9, dpi: int = 55) -> None:
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = math.ceil(len(records) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 2.6, rows * 2.0))
    for ax in axes.flat[len(records):]:
        ax.axis("off")
    for ax, r in zip(axes.flat, records):
        ep = np.array(r["epochs"])
        tl = np.array(r["train_loss"], dtype=float)
        vl = np.array(r["val_loss"], dtype=float)
        clip = lambda a: np.where(np.isfinite(a) & (a > 0), a, np.nan)  # noqa: E731
        ax.plot(ep, clip(tl), lw=1, color="C0", label="train")
        ax.plot(ep, clip(vl), lw=1, color="C1", label="val")
        ax.set_yscale("log")
        ax.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        if r["n_classes"]:
            ax.axhline(math.log(r["n_classes"]), color="k", ls=":", lw=0.8)
        else:
            ax.axhline(1.0, color="k", ls=":", lw=0.8)
        lr = np.array(r["lr"])
        for e in np.nonzero(lr[1:] != lr[:-1])[0]:
            ax.axvline(ep[e + 1], color="grey", lw=1)
        bad = ep[~(np.isfinite(tl) & np.isfinite(vl))]
        if len(bad):
            ax.axvline(bad[0], color="red", lw=1, ls="--")
        if r["train_acc"] is not None:
            a2 = ax.twinx()
            a2.plot(ep, r["train_acc"], lw=0.7, ls="--", color="C0")
            a2.plot(ep, r["val_acc"], lw=0.7, ls="--", color="C1")
            a2.set_ylim(0, 1.02)
            a2.tick_params(labelsize=5)
        ax.set_title(f"{r['id']} {'+'.join(r['labels'])}", fontsize=7)
        ax.tick_params(labelsize=5)
    fig.tight_layout(pad=0.3)
    fig.savefig(path, dpi=dpi)
    plt.close(fig)


def make_split(records: list[dict]) -> dict:
    """Stratified by first label, ~40% held out per stratum, fixed seed; decided before any classifier is run."""
    rng = np.random.default_rng(SPLIT_SEED)
    tune, hold = [], []
    for lab in LABEL_ORDER:
        ids = sorted(r["id"] for r in records if r["labels"][0] == lab)
        rng.shuffle(ids)
        k = round(HOLDOUT_FRACTION * len(ids))
        hold += ids[:k]
        tune += ids[k:]
    return {"seed": SPLIT_SEED, "tune": sorted(tune), "holdout": sorted(hold)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", type=int, nargs="*", help="spec indices to run (prints, writes nothing)")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    all_specs = specs()
    t0 = time.perf_counter()
    results: dict[int, dict] = {}
    finals: dict[int, float] = {}
    order = list(range(len(all_specs))) if args.only is None else sorted(set(args.only) | {all_specs[i].ref for i in args.only if all_specs[i].ref is not None})
    # references first
    order.sort(key=lambda i: all_specs[i].ref is not None)
    log = []
    for i in order:
        sp = all_specs[i]
        t = time.perf_counter()
        rec = train(sp)
        ref_final = finals.get(sp.ref) if sp.ref is not None else None
        m = measures(rec, ref_final)
        if not m["diverged"]:
            finals[i] = m["final"]
        labels, note = check_labels(sp, m)
        shown = {k: (round(v, 3) if isinstance(v, float) else v) for k, v in m.items() if k != "vs"}
        print(f"[{i:2d}] {sp.induced:15s} {sp.task:16s} -> {labels} {note or ''} ({time.perf_counter() - t:.1f}s) {shown}",
              flush=True)
        log.append({"spec": i, "induced": rec["induced"], "labels": labels, "note": note,
                    "measures": {k: v for k, v in shown.items()}})
        if labels is not None:
            rec["labels"] = labels
            if note:
                rec["relabel_note"] = note
            results[i] = rec
    elapsed = time.perf_counter() - t0
    print(f"generation took {elapsed:.1f}s for {len(order)} runs, kept {len(results)}")
    if args.only is not None:
        return 0
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("i*.json"):
        old.unlink()
    records = []
    for n, i in enumerate(sorted(results), start=1):
        rec = results[i]
        keys = ["id", "task", "model", "optimizer", "induced", "labels", "n_classes", "loss_fn", "n_train", "n_val",
                "epochs", "train_loss", "val_loss", "train_acc", "val_acc", "lr"]
        out = {"id": f"i{n:03d}", **rec}
        out = {k: out[k] for k in keys} | ({"relabel_note": rec["relabel_note"]} if "relabel_note" in rec else {})
        for entry in log:
            if entry["spec"] == i:
                entry["id"] = out["id"]
        records.append(out)
        (OUT / f"{out['id']}.json").write_text(json.dumps(out) + "\n")
    split = make_split(records)
    (OUT / "split.json").write_text(json.dumps(split, indent=1) + "\n")
    (OUT / "generation_log.json").write_text(json.dumps({"seconds": round(elapsed, 1), "runs": log}, indent=1) + "\n")
    contact_sheet(records, OUT / "contact_sheet.png")
    counts: dict[str, int] = {}
    for r in records:
        for lab in r["labels"]:
            counts[lab] = counts.get(lab, 0) + 1
    print("counts:", {k: counts.get(k, 0) for k in LABEL_ORDER})
    print(f"split: tune {len(split['tune'])}, holdout {len(split['holdout'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
