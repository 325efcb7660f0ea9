"""The range test on a GPU: no host synchronisation while it trains, pinned non-blocking batch transfers, AMP.

Skipped without CUDA. The step loop runs under ``torch.cuda.set_sync_debug_mode("error")``: any synchronising CUDA
call (``.item()``, a blocking copy, ...) raises. The mode is switched on as each batch reaches the engine and off
only inside the engine's chunked loss fetch (``check_every`` steps apart), the one sync the design allows.

Known sync inside torch itself: ``GradScaler.step`` (``amp="fp16"``) calls ``.item()`` on its inf check for
optimizers that do not take the scale into their own step; fused optimizers (``fused=True``) do, and are sync-free.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

import lrfinder.engine
from lrfinder import find_lr
from tests.helpers import assert_same_state, bn_mlp, full_state

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA"),
]


class _SyncCheckedLoader:
    """Yields the loader's batches and turns sync errors on as each batch is handed to the engine."""

    def __init__(self, loader):
        self.loader = loader

    def __iter__(self):
        it = iter(self.loader)
        while True:
            torch.cuda.set_sync_debug_mode(0)  # the DataLoader's own work is not under test
            try:
                batch = next(it)
            except StopIteration:
                return
            torch.cuda.set_sync_debug_mode("error")
            yield batch


@pytest.fixture
def sync_checked(monkeypatch):
    """Allow a host sync only inside the engine's loss fetch; count the fetches."""
    original = lrfinder.engine.fetch_losses
    calls = []

    def fetch(*args, **kwargs):  # (train losses, val losses, process group)
        torch.cuda.set_sync_debug_mode(0)
        calls.append(len(args[0]))  # steps fetched
        return original(*args, **kwargs)  # the mode stays off until the next batch arrives

    monkeypatch.setattr(lrfinder.engine, "fetch_losses", fetch)
    yield calls
    torch.cuda.set_sync_debug_mode(0)


def _setup(seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(256, 16, generator=g)
    y = (x[:, :3].sum(1) > 0).long()
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=32, pin_memory=True)
    torch.manual_seed(seed)
    model = bn_mlp(d=16, classes=2, hidden=64).cuda()
    return model, loader


def _state(model, optimizer, scaler=None):
    return {**full_state(model, optimizer, scaler), "cuda_rng": torch.cuda.get_rng_state()}


def _assert_restored(before, after):
    assert torch.equal(before.pop("cuda_rng"), after.pop("cuda_rng")), "CUDA RNG state changed"
    assert_same_state(before, after)


@pytest.mark.parametrize(
    "amp, make_optimizer",
    [
        (None, lambda p: torch.optim.SGD(p, lr=0.01, momentum=0.9)),
        ("bf16", lambda p: torch.optim.AdamW(p, lr=1e-3)),
        ("fp16", lambda p: torch.optim.AdamW(p, lr=1e-3, fused=True)),  # fused: GradScaler.step does not sync
    ],
    ids=["fp32-sgd", "bf16-adamw", "fp16-fused-adamw"],
)
def test_no_host_sync_in_the_step_loop(sync_checked, amp, make_optimizer):
    if amp == "bf16" and not torch.cuda.is_bf16_supported():
        pytest.skip("this GPU has no bf16")
    model, loader = _setup()
    optimizer = make_optimizer(model.parameters())
    x, y = next(iter(loader))
    nn.functional.cross_entropy(model(x.cuda()), y.cuda()).backward()
    optimizer.step()  # some optimizer state to restore
    optimizer.zero_grad()
    torch.cuda.synchronize()
    before = _state(model, optimizer)
    result = find_lr(
        model, _SyncCheckedLoader(loader), optimizer, nn.CrossEntropyLoss(), start_lr=1e-5, end_lr=1.0, num_iter=30,
        amp=amp, clip_grad_norm=1.0, check_every=10, diverge_threshold=None, progress=False,
    )
    assert result.num_steps == 30 and result.device.startswith("cuda")
    assert sync_checked == [1, 9, 10, 10]  # step 0 at once, then one fetch per chunk of check_every steps
    _assert_restored(before, _state(model, optimizer))


def test_batches_from_pinned_memory_move_without_blocking(monkeypatch):
    """Each CPU batch tensor is copied with non_blocking=True (async from the DataLoader's pinned memory)."""
    model, loader = _setup()
    seen = []
    original = torch.Tensor.to

    def to(self, *args, **kwargs):
        if self.device.type == "cpu" and any(getattr(a, "type", a) == "cuda" for a in args):
            seen.append((self.is_pinned(), kwargs.get("non_blocking", False)))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(torch.Tensor, "to", to)
    find_lr(model, loader, num_iter=5, progress=False)
    assert seen and all(pinned and non_blocking for pinned, non_blocking in seen)


@pytest.mark.parametrize("amp", ["fp16", "bf16"])
def test_amp_range_test_on_cuda(amp):
    if amp == "bf16" and not torch.cuda.is_bf16_supported():
        pytest.skip("this GPU has no bf16")
    model, loader = _setup()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    scaler = torch.amp.GradScaler("cuda") if amp == "fp16" else None
    before = _state(model, optimizer, scaler)
    result = find_lr(model, loader, optimizer, nn.CrossEntropyLoss(), amp=amp, scaler=scaler, num_iter=40,
                     progress=False)
    assert result.num_steps >= 10 and result.config["amp"] == amp
    assert all(abs(v) < 100 for v in result.losses[:5])
    _assert_restored(before, _state(model, optimizer, scaler))
