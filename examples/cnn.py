"""Range test for a small CNN on generated images, then a short training run at the suggested LR.

Run:  python examples/cnn.py        (CPU, ~15 s; writes cnn_range_test.png)

The images are 16x16 with a noisy bar that is horizontal, vertical or diagonal (3 classes), generated in code.
"""

from __future__ import annotations

import torch
from torch import nn

from lrfinder import find_lr


def make_bars(n: int = 3000, size: int = 16, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 3, (n,), generator=g)
    x = 0.5 * torch.randn(n, 1, size, size, generator=g)
    pos = torch.randint(2, size - 2, (n,), generator=g)
    idx = torch.arange(size)
    for i in range(n):
        p = int(pos[i])
        if y[i] == 0:
            x[i, 0, p, :] += 1.5
        elif y[i] == 1:
            x[i, 0, :, p] += 1.5
        else:
            x[i, 0, idx, (idx + p) % size] += 1.5
    return x, y


def make_model() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
        nn.Flatten(), nn.Linear(16, 3),
    )


def main() -> None:
    torch.manual_seed(0)
    x, y = make_bars()
    train = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x[:2500], y[:2500]), batch_size=64, shuffle=True)
    model = make_model()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    result = find_lr(model, train, opt, nn.CrossEntropyLoss(), start_lr=1e-5, end_lr=10, num_iter=100)
    print(result.summary())
    ax = result.plot()
    ax.figure.savefig("cnn_range_test.png", dpi=120)

    lr = result.suggestion.lr
    if lr is None:
        raise SystemExit(f"no suggestion: {result.suggestion.reason}")
    for group in opt.param_groups:  # find_lr left opt exactly as it was (lr=0.01); now use the finding
        group["lr"] = lr
    crit = nn.CrossEntropyLoss()
    for epoch in range(3):
        model.train()
        for xb, yb in train:
            opt.zero_grad()
            crit(model(xb), yb).backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            acc = (model(x[2500:]).argmax(1) == y[2500:]).float().mean().item()
        print(f"epoch {epoch + 1}: validation accuracy {acc:.3f} at lr={lr:.3g}")


if __name__ == "__main__":
    main()
