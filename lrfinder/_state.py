"""Snapshot and exact restore of everything a range test touches.

``preserved_state`` copies (to CPU memory, or to a private temporary directory with ``cache="disk"``) the model's
parameters, gradients, buffers (persistent or not) and per-module train/eval flags, the optimizer's state and param
groups, a grad scaler, and the Python, NumPy, torch and CUDA RNG states, and puts them all back bit for bit when the
block exits, however it exits (return, exception, KeyboardInterrupt).
"""

from __future__ import annotations

import contextlib
import copy
import os
import random
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

__all__ = ["CACHE_MODES", "preserved_state"]

CACHE_MODES = ("memory", "disk")

# Private attributes torch's LR schedulers set on an optimizer (step counting, warnings).
_OPTIMIZER_FLAGS = ("_opt_called", "_step_count")


def _to_cpu(obj: Any) -> Any:
    """Deep copy with every tensor cloned to CPU (a snapshot must not alias live tensors)."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().to("cpu", copy=True)
    if isinstance(obj, dict):
        return {k: _to_cpu(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_to_cpu(v) for v in obj]
    if isinstance(obj, tuple):
        return tuple(_to_cpu(v) for v in obj)
    return copy.deepcopy(obj)


@dataclass
class _Snapshot:
    tensors: dict[str, torch.Tensor | None] = field(default_factory=dict)
    optimizer: dict[str, Any] | None = None
    scaler: dict[str, Any] | None = None


class _StateKeeper:
    def __init__(self, model: torch.nn.Module, optimizer, scaler, cache: str) -> None:
        if cache not in CACHE_MODES:
            raise ValueError(f"cache must be one of {CACHE_MODES}, got cache={cache!r}")
        self.model = model
        self.optimizer = optimizer
        self.scaler = scaler
        self.cache = cache
        self.tmpdir: str | None = None
        # Live references, in a fixed order, to every tensor we restore in place.
        self.params = list(model.named_parameters(remove_duplicate=True))
        self.buffers = list(model.named_buffers(remove_duplicate=True))
        self.modes = [(m, m.training) for m in model.modules()]
        self.requires_grad = [(p, p.requires_grad) for _, p in self.params]
        self.flags = {k: getattr(optimizer, k) for k in _OPTIMIZER_FLAGS if optimizer is not None and hasattr(optimizer, k)}
        self.rng = self._rng_state()
        snap = _Snapshot()
        for name, p in self.params:
            snap.tensors["p:" + name] = p.detach().to("cpu", copy=True)
            snap.tensors["g:" + name] = None if p.grad is None else p.grad.detach().to("cpu", copy=True)
        for name, b in self.buffers:
            snap.tensors["b:" + name] = None if b is None else b.detach().to("cpu", copy=True)
        if optimizer is not None:
            snap.optimizer = _to_cpu(optimizer.state_dict())
        if scaler is not None:
            snap.scaler = _to_cpu(scaler.state_dict())
        if cache == "disk":
            self.tmpdir = tempfile.mkdtemp(prefix="lrfinder-")  # mode 0700: private to this user
            path = os.path.join(self.tmpdir, "snapshot.pt")
            torch.save({"tensors": snap.tensors, "optimizer": snap.optimizer, "scaler": snap.scaler}, path)
            self.snapshot: _Snapshot | None = None
            self.path: str | None = path
        else:
            self.snapshot = snap
            self.path = None

    @staticmethod
    def _rng_state() -> dict[str, Any]:
        state: dict[str, Any] = {
            "python": random.getstate(),
            "numpy": np.random.get_state(),
            "torch": torch.get_rng_state(),
        }
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            state["cuda"] = torch.cuda.get_rng_state_all()
        return state

    def _load(self) -> _Snapshot:
        if self.snapshot is not None:
            return self.snapshot
        assert self.path is not None
        data = torch.load(self.path, map_location="cpu", weights_only=True)
        return _Snapshot(tensors=data["tensors"], optimizer=data["optimizer"], scaler=data["scaler"])

    def restore(self) -> None:
        try:
            snap = self._load()
            with torch.no_grad():
                for name, p in self.params:
                    p.copy_(snap.tensors["p:" + name])
                    g = snap.tensors["g:" + name]
                    if g is None:
                        p.grad = None
                    elif p.grad is None or p.grad.shape != g.shape:
                        p.grad = g.to(device=p.device, dtype=p.dtype)
                    else:
                        p.grad.copy_(g)
                for name, b in self.buffers:
                    saved = snap.tensors["b:" + name]
                    if b is not None and saved is not None:
                        b.copy_(saved)
            for p, rg in self.requires_grad:
                p.requires_grad_(rg)
            for m, training in self.modes:
                m.training = training
            if self.optimizer is not None and snap.optimizer is not None:
                self.optimizer.state.clear()
                self.optimizer.load_state_dict(snap.optimizer)
                for k in _OPTIMIZER_FLAGS:
                    if k in self.flags:
                        setattr(self.optimizer, k, self.flags[k])
                    elif k in self.optimizer.__dict__:
                        delattr(self.optimizer, k)
            if self.scaler is not None and snap.scaler is not None:
                self.scaler.load_state_dict(snap.scaler)
                if hasattr(self.scaler, "_per_optimizer_states"):
                    self.scaler._per_optimizer_states.clear()
            random.setstate(self.rng["python"])
            np.random.set_state(self.rng["numpy"])
            torch.set_rng_state(self.rng["torch"])
            if "cuda" in self.rng:
                torch.cuda.set_rng_state_all(self.rng["cuda"])
        finally:
            self.cleanup()

    def cleanup(self) -> None:
        if self.tmpdir is not None:
            shutil.rmtree(self.tmpdir, ignore_errors=True)
            self.tmpdir = None


@contextlib.contextmanager
def preserved_state(
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer | None = None,
    scaler: Any | None = None,
    *,
    cache: str = "memory",
) -> Iterator[_StateKeeper]:
    """Restore model, optimizer, scaler and RNG state exactly when the block exits, however it exits.

    Examples:
      >>> import torch
      >>> model = torch.nn.Linear(2, 1)
      >>> before = model.weight.clone()
      >>> with preserved_state(model):
      ...     _ = model.weight.data.add_(1.0)
      >>> torch.equal(model.weight, before)
      True
    """
    keeper = _StateKeeper(model, optimizer, scaler, cache)
    try:
        yield keeper
    finally:
        keeper.restore()
