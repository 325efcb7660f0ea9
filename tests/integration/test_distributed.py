"""find_lr inside a 2-process torch.distributed job (gloo, CPU) with a DDP-wrapped model.

Each rank trains on its own data shard, so the local losses differ; the test checks that every rank records the
same (averaged) losses, stops at the same step, gets the same suggestion, that only rank 0 shows progress, and that
every rank's model, optimizer and RNG are restored bit for bit.
"""

from __future__ import annotations

import copy
import datetime
import json
import os

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn

from lrfinder import find_lr
from tests.helpers import Wobble, assert_same_state, bn_mlp, full_state

WORLD_SIZE = 2

pytestmark = pytest.mark.skipif(
    not (dist.is_available() and dist.is_gloo_available()), reason="torch.distributed with gloo is not available"
)


def _model() -> nn.Module:
    torch.manual_seed(0)  # identical initial weights on every rank, as DDP expects
    return bn_mlp(d=6, classes=3)


def _shard(rank: int) -> torch.utils.data.DataLoader:
    g = torch.Generator().manual_seed(100 + rank)  # every rank sees different data
    x = torch.randn(96, 6, generator=g)
    y = (x[:, 0] + x[:, 1] > 0).long() + (x[:, 2] > 1).long()
    return torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=16)


class _CountingBar:
    """Stands in for tqdm: counts how many progress bars a rank opens."""

    opened = 0

    def __init__(self, *args, **kwargs):
        type(self).opened += 1

    def update(self, n=1):
        pass

    def set_postfix(self, *args, **kwargs):
        pass

    def close(self):
        pass


def _worker(rank: int, init_file: str, out_dir: str) -> None:
    import tqdm.auto

    tqdm.auto.tqdm = _CountingBar
    dist.init_process_group(
        "gloo", init_method=f"file://{init_file}", rank=rank, world_size=WORLD_SIZE,
        timeout=datetime.timedelta(seconds=60),
    )
    try:
        torch.set_num_threads(1)
        model = nn.parallel.DistributedDataParallel(_model())
        loader = _shard(rank)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        criterion = nn.CrossEntropyLoss()
        # one real step first, so that there is optimizer (momentum) state to restore
        x, y = next(iter(loader))
        optimizer.zero_grad()
        criterion(model(x), y).backward()
        optimizer.step()
        model.eval()  # a mode the range test must put back
        # this rank's own loss at step 0, before any update (in train mode, on a throwaway copy: BN stats move)
        probe = copy.deepcopy(model.module).train()
        with torch.no_grad():
            local_first = criterion(probe(x), y).item()

        before = full_state(model, optimizer)
        result = find_lr(
            model, loader, optimizer, criterion, start_lr=1e-4, end_lr=100.0, num_iter=40, diverge_threshold=3.0,
            check_every=4, progress=True,
        )
        assert_same_state(before, full_state(model, optimizer))

        # Gradient accumulation under DDP (no_sync on all but the last micro-batch): the gradients the optimizer
        # steps with must still be all-reduced, i.e. identical on every rank.
        grads = []
        hook = optimizer.register_step_pre_hook(
            lambda opt, a, k: grads.append([p.grad.detach().clone().reshape(-1)[:8].tolist() for p in model.parameters()])
        )
        before_acc = full_state(model, optimizer)
        find_lr(model, loader, optimizer, criterion, start_lr=1e-3, end_lr=1e-2, num_iter=3, accumulation_steps=2,
                progress=False)
        hook.remove()
        assert_same_state(before_acc, full_state(model, optimizer))

        # A plain (not DDP) model on rank 0 only: auto mode must not wait for the other rank in a collective.
        solo = None
        if rank == 0:
            plain = _model()
            solo = find_lr(plain, loader, start_lr=1e-4, end_lr=1.0, num_iter=10, progress=False)
        dist.barrier()

        # retries: every rank sees the same averaged curve, so every rank declines alike and retries the same range
        torch.manual_seed(0)
        wobble = nn.parallel.DistributedDataParallel(Wobble())
        g = torch.Generator().manual_seed(200 + rank)
        kicks = [(torch.randn(4, generator=g),) for _ in range(30)]
        wobble_opt = torch.optim.SGD(wobble.parameters(), lr=0.1)
        before_retry = full_state(wobble, wobble_opt)
        retried = find_lr(wobble, kicks, wobble_opt, step_fn=lambda m, b: m(b[0]), retries=1, progress=False)
        assert_same_state(before_retry, full_state(wobble, wobble_opt))

        s = result.suggestion
        with open(os.path.join(out_dir, f"rank{rank}.json"), "w") as f:
            json.dump(
                {
                    "losses": result.losses.tolist(),
                    "lrs": result.lrs.tolist(),
                    "stop_reason": result.stop_reason,
                    "stop_step": result.stop_step,
                    "suggestion": s.lr,
                    "notes": list(result.notes),
                    "bars": _CountingBar.opened,
                    "local_first": local_first,
                    "solo_steps": None if solo is None else solo.num_steps,
                    "solo_notes": None if solo is None else list(solo.notes),
                    "accumulated_grads": grads,
                    "retried": {"attempts": len(retried.attempts), "config": retried.config,
                                "losses": retried.losses.tolist(),
                                "first_losses": [a.losses.tolist() for a in retried.attempts]},
                },
                f,
            )
    finally:
        dist.destroy_process_group()


def test_ddp_ranks_agree_and_are_restored(tmp_path):
    mp.spawn(_worker, args=(str(tmp_path / "rendezvous"), str(tmp_path)), nprocs=WORLD_SIZE, join=True)
    r0, r1 = (json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(WORLD_SIZE))

    # identical records on both ranks, bit for bit
    for key in ("losses", "lrs", "stop_reason", "stop_step", "suggestion"):
        assert r0[key] == r1[key], key
    assert r0["stop_reason"] == "diverged"  # decided on the averaged losses, at the same step everywhere
    assert r0["stop_step"] is not None and len(r0["losses"]) < 40
    assert r0["suggestion"] is not None
    assert any("averaged over the 2 ranks" in n for n in r0["notes"])

    # the recorded step-0 loss is the mean of the ranks' own step-0 losses (different shards: they differ)
    assert r0["local_first"] != pytest.approx(r1["local_first"], rel=1e-3)
    assert r0["losses"][0] == pytest.approx((r0["local_first"] + r1["local_first"]) / 2, rel=1e-5)

    # accumulated gradients were all-reduced once per optimizer step: identical on both ranks
    assert len(r0["accumulated_grads"]) == 3 and r0["accumulated_grads"] == r1["accumulated_grads"]

    # a declined test is retried on the same advised range on every rank, with the same (averaged) losses
    assert r0["retried"]["attempts"] == 1
    assert r0["retried"] == r1["retried"]
    assert r0["retried"]["config"]["start_lr"] > 1e-7 and r0["retried"]["config"]["num_iter"] != 100

    # only rank 0 shows progress
    assert (r0["bars"], r1["bars"]) == (1, 0)

    # a plain model on one rank ran as a single-process test
    assert r0["solo_steps"] == 10 and not any("averaged" in n for n in r0["solo_notes"])
