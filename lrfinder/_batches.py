"""How a batch becomes a loss: tuples, dicts (Hugging Face style), models that return their own loss, or a
user ``step_fn``. Shared by the range test, the sanity checks and anything else that runs a model on a batch."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import torch

__all__ = ["LossComputer", "move_to_device", "extract_loss"]

_LABEL_KEYS = ("labels", "label", "targets", "target", "y")


def move_to_device(batch: Any, device: torch.device) -> Any:
    """Move every tensor in a (nested) batch to ``device``; non-blocking (from pinned memory) on CUDA."""
    non_blocking = device.type == "cuda"
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=non_blocking) if batch.device != device else batch
    if isinstance(batch, Mapping):
        if not isinstance(batch, dict) and callable(getattr(batch, "to", None)):  # e.g. HF BatchEncoding
            return batch.to(device)
        return {k: move_to_device(v, device) for k, v in batch.items()}
    if isinstance(batch, tuple) and hasattr(batch, "_fields"):  # namedtuple
        return type(batch)(*(move_to_device(v, device) for v in batch))
    if isinstance(batch, (list, tuple)):
        return type(batch)(move_to_device(v, device) for v in batch)
    return batch


def extract_loss(output: Any) -> torch.Tensor | None:
    """The loss a model returned itself (``output.loss`` or ``output["loss"]``), else ``None``."""
    loss = None
    if isinstance(output, Mapping):
        loss = output.get("loss")
    elif hasattr(output, "loss") and not isinstance(output, torch.Tensor):
        loss = getattr(output, "loss")
    if isinstance(loss, torch.Tensor):
        return loss
    return None


def _logits(output: Any) -> Any:
    if isinstance(output, torch.Tensor):
        return output
    if isinstance(output, Mapping) and "logits" in output:
        return output["logits"]
    if hasattr(output, "logits"):
        return output.logits
    if isinstance(output, (tuple, list)) and output and isinstance(output[0], torch.Tensor):
        return output[0]
    return output


def _describe(x: Any) -> str:
    if isinstance(x, torch.Tensor):
        return f"tensor of shape {tuple(x.shape)} and dtype {x.dtype}"
    return type(x).__name__


@dataclass
class LossComputer:
    """Compute the scalar training loss of ``model`` on one batch.

    With no ``criterion`` it infers one only where that is unambiguous: a model that returns its own loss, or
    integer class targets with floating logits (cross-entropy). ``description`` says which was used.
    """

    criterion: Callable[..., torch.Tensor] | None = None
    step_fn: Callable[[torch.nn.Module, Any], Any] | None = None
    description: str = ""

    def __post_init__(self) -> None:
        if self.step_fn is not None and not callable(self.step_fn):
            raise TypeError(f"step_fn must be callable(model, batch) -> loss, got {self.step_fn!r}")
        if self.criterion is not None and not callable(self.criterion):
            raise TypeError(f"criterion must be callable(output, target) -> loss, got {self.criterion!r}")
        if self.step_fn is not None:
            self.description = f"step_fn {getattr(self.step_fn, '__name__', type(self.step_fn).__name__)}"
        elif self.criterion is not None:
            self.description = _name(self.criterion)

    def __call__(self, model: torch.nn.Module, batch: Any) -> torch.Tensor:
        if self.step_fn is not None:
            out = self.step_fn(model, batch)
            loss = out if isinstance(out, torch.Tensor) else extract_loss(out)
            if loss is None:
                raise TypeError(f"step_fn must return the loss tensor (or an object with .loss), got {_describe(out)}")
            return _check_scalar(loss, "step_fn's loss")
        if isinstance(batch, Mapping):
            return self._dict_batch(model, batch)
        if isinstance(batch, (tuple, list)):
            if len(batch) == 1:
                return self._own_loss(model(batch[0]), "a 1-element batch")
            *inputs, target = batch
            output = model(*inputs)
            return self._with_target(output, target)
        if isinstance(batch, torch.Tensor):
            return self._own_loss(model(batch), "a single-tensor batch")
        raise TypeError(
            f"cannot interpret a batch of type {type(batch).__name__}: yield (inputs, target) tuples or dicts, "
            "or pass step_fn=lambda model, batch: loss"
        )

    def _dict_batch(self, model: torch.nn.Module, batch: Mapping[str, Any]) -> torch.Tensor:
        label_key = next((k for k in _LABEL_KEYS if k in batch), None)
        if self.criterion is not None and label_key is not None:
            inputs = {k: v for k, v in batch.items() if k != label_key}
            return self._with_target(model(**inputs), batch[label_key])
        output = model(**batch)
        own = extract_loss(output)
        if own is not None:
            self._note("the model's own loss (output.loss)")
            return _check_scalar(own, "the model's loss")
        if label_key is not None:
            return self._with_target(output, batch[label_key])
        raise TypeError(
            f"the model did not return a loss for a dict batch with keys {sorted(batch)} and no label key "
            f"({', '.join(_LABEL_KEYS)}) was found: pass criterion=... or step_fn=..."
        )

    def _own_loss(self, output: Any, what: str) -> torch.Tensor:
        own = extract_loss(output)
        if own is None:
            raise TypeError(
                f"{what} carries no target and the model returned {_describe(output)}, not a loss: "
                "yield (inputs, target) or pass step_fn=..."
            )
        self._note("the model's own loss (output.loss)")
        return _check_scalar(own, "the model's loss")

    def _with_target(self, output: Any, target: Any) -> torch.Tensor:
        if self.criterion is not None:
            return _check_scalar(self.criterion(_logits(output), target), "criterion's loss")
        own = extract_loss(output)
        if own is not None:
            self._note("the model's own loss (output.loss)")
            return _check_scalar(own, "the model's loss")
        logits = _logits(output)
        if (
            isinstance(logits, torch.Tensor)
            and isinstance(target, torch.Tensor)
            and logits.is_floating_point()
            and not target.is_floating_point()
            and not target.is_complex()
            and target.dtype != torch.bool
            and logits.ndim == target.ndim + 1
        ):
            self.criterion = torch.nn.CrossEntropyLoss()
            self.description = "CrossEntropyLoss (inferred: integer class targets)"
            return _check_scalar(self.criterion(logits, target), "cross-entropy loss")
        raise TypeError(
            "criterion is required: cannot infer a loss for model output "
            f"{_describe(logits)} and target {_describe(target)} (only integer class targets imply "
            "cross-entropy); pass criterion=torch.nn.MSELoss() or similar"
        )

    def _note(self, what: str) -> None:
        if not self.description:
            self.description = what


def _name(fn: Any) -> str:
    return type(fn).__name__ if isinstance(fn, torch.nn.Module) else getattr(fn, "__name__", type(fn).__name__)


def _check_scalar(loss: Any, what: str) -> torch.Tensor:
    if not isinstance(loss, torch.Tensor):
        raise TypeError(f"{what} must be a tensor, got {type(loss).__name__}")
    if loss.numel() != 1:
        raise ValueError(f"{what} must be a scalar, got shape {tuple(loss.shape)}: reduce it (e.g. .mean())")
    return loss if loss.dim() == 0 else loss.reshape(())  # no view (and no extra autograd node) when already 0-d
