"""Small models, data and state comparisons shared by the tests."""

from __future__ import annotations

import torch
from torch import nn


def blobs(n: int = 256, d: int = 8, classes: int = 3, seed: int = 0):
    """Linearly separable-ish Gaussian blobs: (x float32, y int64)."""
    g = torch.Generator().manual_seed(seed)
    centers = torch.randn(classes, d, generator=g) * 2.0
    y = torch.randint(0, classes, (n,), generator=g)
    x = centers[y] + torch.randn(n, d, generator=g)
    return x, y


def loader(x, y, batch_size: int = 32, shuffle: bool = True, seed: int = 0):
    return torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(x, y),
        batch_size=batch_size,
        shuffle=shuffle,
        generator=torch.Generator().manual_seed(seed) if shuffle else None,
    )


def bn_mlp(d: int = 8, classes: int = 3, hidden: int = 16) -> nn.Module:
    return nn.Sequential(nn.Linear(d, hidden), nn.BatchNorm1d(hidden), nn.ReLU(), nn.Linear(hidden, classes))


def full_state(model: nn.Module, optimizer=None, scaler=None) -> dict:
    """Everything find_lr promises to restore, cloned."""
    state = {
        "params": {k: v.detach().clone() for k, v in model.named_parameters()},
        "grads": {k: None if v.grad is None else v.grad.clone() for k, v in model.named_parameters()},
        "buffers": {k: v.clone() for k, v in model.named_buffers()},
        "modes": [m.training for m in model.modules()],
        "torch_rng": torch.get_rng_state(),
    }
    if optimizer is not None:
        sd = optimizer.state_dict()
        state["opt_state"] = {
            k: {kk: vv.clone() if torch.is_tensor(vv) else vv for kk, vv in v.items()} for k, v in sd["state"].items()
        }
        state["opt_groups"] = [{k: v for k, v in g.items()} for g in sd["param_groups"]]
        state["opt_flags"] = {k: getattr(optimizer, k) for k in ("_opt_called", "_step_count") if hasattr(optimizer, k)}
    if scaler is not None:
        state["scaler"] = scaler.state_dict()
    return state


def assert_same_state(before: dict, after: dict) -> None:
    """Bit-for-bit comparison with torch.equal."""
    assert before.keys() == after.keys()
    for k in before["params"]:
        assert torch.equal(before["params"][k], after["params"][k]), f"parameter {k} changed"
    for k in before["grads"]:
        b, a = before["grads"][k], after["grads"][k]
        assert (b is None) == (a is None), f"grad of {k}: {b is None=} {a is None=}"
        if b is not None:
            assert torch.equal(b, a), f"grad of {k} changed"
    for k in before["buffers"]:
        assert torch.equal(before["buffers"][k], after["buffers"][k]), f"buffer {k} changed"
    assert before["modes"] == after["modes"], "train/eval modes changed"
    assert torch.equal(before["torch_rng"], after["torch_rng"]), "torch RNG state changed"
    if "opt_state" in before:
        assert before["opt_state"].keys() == after["opt_state"].keys(), "optimizer state keys changed"
        for pid, st in before["opt_state"].items():
            for key, val in st.items():
                other = after["opt_state"][pid][key]
                if torch.is_tensor(val):
                    assert torch.equal(val, other), f"optimizer state {pid}/{key} changed"
                else:
                    assert val == other, f"optimizer state {pid}/{key} changed"
        assert before["opt_groups"] == after["opt_groups"], "optimizer param groups changed"
        assert before["opt_flags"] == after["opt_flags"], "optimizer scheduler flags changed"
    if "scaler" in before:
        assert before["scaler"] == after["scaler"], "grad scaler state changed"


class Wobble(nn.Module):
    """Nothing to learn: loss = 1 + g.w + |w|^2 for a random g per batch (best at w = 0, where it starts). SGD's
    noise lifts the loss as the LR grows, so a range test sees a flat loss that then rises, and the default
    declines with a range to retry."""

    def __init__(self, d: int = 4):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(d))

    def forward(self, g: torch.Tensor) -> torch.Tensor:
        return 1.0 + g @ self.w + (self.w**2).sum()
