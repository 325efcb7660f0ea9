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
# cache="disk" writes the model's tensors in files of about this size: the most it holds in memory at once.
_DISK_CHUNK_BYTES = 32 * 2**20


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
        live: dict[str, torch.Tensor | None] = {}
        for name, p in self.params:
            live["p:" + name] = p.detach()
            live["g:" + name] = None if p.grad is None else p.grad.detach()
        for name, b in self.buffers:
            live["b:" + name] = None if b is None else b.detach()
        self.snapshot: _Snapshot | None = None
        self.chunk_paths: list[str] = []
        self.extra_path: str | None = None
        if cache == "disk":
            # Written straight from the live tensors (no CPU copy first) in bounded chunks, so that neither taking
            # nor restoring the snapshot holds more than one chunk (or the largest tensor) in memory.
            self.tmpdir = tempfile.mkdtemp(prefix="lrfinder-")  # mode 0700: private to this user
            chunk: dict[str, torch.Tensor | None] = {}
            size = 0
            for key, t in live.items():
                chunk[key] = t
                size += 0 if t is None else t.numel() * t.element_size()
                if size >= _DISK_CHUNK_BYTES:
                    self._save_chunk(chunk)
                    chunk, size = {}, 0
            if chunk:
                self._save_chunk(chunk)
            self.extra_path = os.path.join(self.tmpdir, "optimizer.pt")
            torch.save(
                {
                    "optimizer": None if optimizer is None else optimizer.state_dict(),
                    "scaler": None if scaler is None else scaler.state_dict(),
                },
                self.extra_path,
            )
        else:
            snap = _Snapshot()
            snap.tensors = {k: None if t is None else t.to("cpu", copy=True) for k, t in live.items()}
            if optimizer is not None:
                snap.optimizer = _to_cpu(optimizer.state_dict())
            if scaler is not None:
                snap.scaler = _to_cpu(scaler.state_dict())
            self.snapshot = snap

    def _save_chunk(self, chunk: dict[str, torch.Tensor | None]) -> None:
        assert self.tmpdir is not None
        path = os.path.join(self.tmpdir, f"tensors{len(self.chunk_paths)}.pt")
        torch.save(chunk, path)
        self.chunk_paths.append(path)

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

    def _tensor_chunks(self) -> Iterator[dict[str, torch.Tensor | None]]:
        if self.snapshot is not None:
            yield self.snapshot.tensors
        for path in self.chunk_paths:  # one chunk in memory at a time
            yield torch.load(path, map_location="cpu", weights_only=True)

    def _apply(self, tensors: dict[str, torch.Tensor | None]) -> None:
        """Copy saved parameters, gradients and buffers back into the live tensors, in place."""
        params = dict(self.params)
        buffers = dict(self.buffers)
        with torch.no_grad():
            for key, saved in tensors.items():
                kind, name = key[:2], key[2:]
                if kind == "p:":
                    params[name].copy_(saved)
                elif kind == "g:":
                    p = params[name]
                    if saved is None:
                        p.grad = None
                    elif p.grad is None or p.grad.shape != saved.shape:
                        p.grad = saved.to(device=p.device, dtype=p.dtype)
                    else:
                        p.grad.copy_(saved)
                elif buffers[name] is not None and saved is not None:
                    buffers[name].copy_(saved)

    def restore(self) -> None:
        try:
            if self.optimizer is not None:
                # Drop the live optimizer state first: it is replaced anyway, and freeing it before the saved
                # tensors are read keeps cache="disk" from ever holding both in memory.
                self.optimizer.state.clear()
            for tensors in self._tensor_chunks():
                self._apply(tensors)
            for p, rg in self.requires_grad:
                p.requires_grad_(rg)
            for m, training in self.modes:
                m.training = training
            if self.snapshot is not None:
                saved_optimizer, saved_scaler = self.snapshot.optimizer, self.snapshot.scaler
            else:
                assert self.extra_path is not None
                extra = torch.load(self.extra_path, map_location="cpu", weights_only=True)
                saved_optimizer, saved_scaler = extra["optimizer"], extra["scaler"]
            if self.optimizer is not None and saved_optimizer is not None:
                self.optimizer.load_state_dict(saved_optimizer)
                for k in _OPTIMIZER_FLAGS:
                    if k in self.flags:
                        setattr(self.optimizer, k, self.flags[k])
                    elif k in self.optimizer.__dict__:
                        delattr(self.optimizer, k)
            if self.scaler is not None and saved_scaler is not None:
                self.scaler.load_state_dict(saved_scaler)
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
