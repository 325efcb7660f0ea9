"""Range tests inside a ``torch.distributed`` job, and the one place the range test copies losses to the host.

Every rank runs the same LR ramp (a closed-form function of the step). The engine keeps each step's loss on the
device and calls ``fetch_losses`` at each host check: without a process group that is one device-to-host copy of
the new losses; in a distributed job the new losses of every rank are first gathered (one collective, asynchronous
on CUDA: the host waits only at the copy it makes anyway) and averaged in a fixed rank order. So every rank holds
bit-identical averaged losses, runs the same deterministic divergence check on them, stops at the same step and
derives the same suggestion, with no extra collective for a stop flag. Only rank 0 shows a progress bar.

Examples:
  >>> import torch
  >>> fetch_losses([torch.tensor(3.0), torch.tensor(2.0)], [torch.tensor(1.5), torch.tensor(1.0)], None)
  ([3.0, 2.0], [1.5, 1.0])
  >>> resolve_distributed(torch.nn.Linear(2, 1), None) is None      # no process group: a plain range test
  True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

__all__ = ["DistContext", "fetch_losses", "resolve_distributed"]


@dataclass(frozen=True)
class DistContext:
    """The process group a distributed range test averages its losses over."""

    group: Any
    rank: int
    world_size: int

    @property
    def is_main(self) -> bool:
        """Rank 0 of the group: the one that shows progress (and should write files)."""
        return self.rank == 0


def _is_ddp(model: torch.nn.Module) -> bool:
    return isinstance(model, torch.nn.parallel.DistributedDataParallel)


def resolve_distributed(model: torch.nn.Module, distributed: bool | None) -> DistContext | None:
    """The group to average losses over, or ``None`` for a single-process range test.

    ``distributed=None`` (auto) means: distributed when ``model`` is wrapped in ``DistributedDataParallel`` and the
    process group has more than one rank. That keeps ``if rank == 0: find_lr(plain_model, ...)`` working inside a
    distributed job (a collective there would wait forever for the other ranks). ``True`` forces it (every rank of the
    default group, or of the DDP model's group, must call ``find_lr``); ``False`` turns it off.
    """
    if distributed is not None and not isinstance(distributed, bool):
        raise TypeError(f"distributed must be None, True or False, got distributed={distributed!r}")
    if distributed is False:
        return None
    dist = torch.distributed
    initialized = dist.is_available() and dist.is_initialized()
    if distributed is None and not (initialized and _is_ddp(model)):
        return None
    if not initialized:
        raise ValueError(
            "distributed=True needs an initialized torch.distributed process group "
            "(call torch.distributed.init_process_group first, e.g. under torchrun)"
        )
    group = getattr(model, "process_group", None) if _is_ddp(model) else None
    world_size = dist.get_world_size(group)
    if world_size == 1:
        return None
    return DistContext(group=group, rank=dist.get_rank(group), world_size=world_size)


def fetch_losses(
    train: list[torch.Tensor], val: list[torch.Tensor] | None, ctx: DistContext | None
) -> tuple[list[float], list[float] | None]:
    """The per-step losses of the steps since the last check (0-d device tensors), as host floats.

    This is the range test's only host synchronisation while it trains: one stack and one copy for the whole
    chunk. In a distributed job the chunks of all ranks are gathered (one collective) and averaged in rank order, in
    float64 on the host, so every rank gets bit-identical averages.
    """
    tensors = train if val is None else train + val
    if ctx is None:
        values = [tensors[0].item()] if len(tensors) == 1 else torch.stack(tensors).tolist()
    else:
        local = torch.stack(tensors)
        gathered = [torch.empty_like(local) for _ in range(ctx.world_size)]
        torch.distributed.all_gather(gathered, local, group=ctx.group)
        per_rank = torch.stack(gathered).tolist()
        values = [sum(column) / ctx.world_size for column in zip(*per_rank)]
    n = len(train)
    return values[:n], None if val is None else values[n:]
