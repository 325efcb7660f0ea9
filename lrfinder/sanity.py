"""Sanity checks before any tuning: is the initial loss what chance predicts, and can the model memorise a handful
of samples? Both leave the user's model, its optimizer and every RNG exactly as they were.

Examples:
  >>> import torch
  >>> from torch import nn
  >>> g = torch.Generator().manual_seed(0)
  >>> x = torch.randn(64, 4, generator=g); y = torch.randint(0, 5, (64,), generator=g)
  >>> batches = [(x[i:i + 16], y[i:i + 16]) for i in range(0, 64, 16)]
  >>> model = nn.Sequential(nn.Linear(4, 32), nn.ReLU(), nn.Linear(32, 5))
  >>> check_initial_loss(model, batches).verdict
  'fine'
  >>> overfit_small_batch(model, batches, num_samples=8, steps=200, lr=1e-2).verdict
  'fits'
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
import torch

from ._batches import LossComputer, move_to_device
from ._checks import fraction, int_at_least, positive
from ._jsonio import JsonRecord, finite_or_none, nan_if_none
from ._state import preserved_state
from .engine import _describe_optimizer, _model_device
from .records import SCHEMA_VERSION, RangeTestResult, _check_schema

__all__ = ["INITIAL_VERDICTS", "OVERFIT_VERDICTS", "InitialLossCheck", "OverfitCheck", "check_initial_loss",
           "overfit_small_batch"]

INITIAL_VERDICTS = ("fine", "too_high", "too_low", "non_finite", "unknown")
OVERFIT_VERDICTS = ("fits", "slow", "fails", "diverged", "no_gradient")
#: Default bounds on ``loss / expected`` for the initial loss to be called fine.
DEFAULT_TOLERANCE = (0.5, 1.5)
#: Default LR of the overfit check, per built-in optimizer (Adam's usual 3e-4 is slow for memorising).
DEFAULT_OVERFIT_LR = {"adam": 3e-3, "sgd": 3e-2}


# -- records -----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class InitialLossCheck(JsonRecord):
    """The loss of the untrained model against what chance predicts, with a verdict and what it means.

    ``expected`` is ``ln C`` for ``C``-class cross-entropy, ``ln 2`` for binary cross-entropy, the target variance
    for MSE (the loss of predicting the mean); ``basis`` says which. ``ratio = loss / expected``; the verdict is
    ``fine`` within ``tolerance``. ``numbers`` holds the other figures quoted in ``explanation``.
    """

    verdict: str
    loss: float
    expected: float | None
    ratio: float | None
    basis: str
    explanation: str
    batch_losses: tuple[float, ...] = ()
    criterion: str = ""
    num_classes: int | None = None
    tolerance: tuple[float, float] = DEFAULT_TOLERANCE
    numbers: Mapping[str, float] = None  # type: ignore[assignment]

    schema_version: ClassVar[int] = SCHEMA_VERSION

    def __post_init__(self) -> None:
        if self.verdict not in INITIAL_VERDICTS:
            raise ValueError(f"verdict must be one of {INITIAL_VERDICTS}, got {self.verdict!r}")
        object.__setattr__(self, "batch_losses", tuple(float(v) for v in self.batch_losses))
        object.__setattr__(self, "tolerance", (float(self.tolerance[0]), float(self.tolerance[1])))
        object.__setattr__(self, "numbers", dict(self.numbers or {}))

    @property
    def ok(self) -> bool:
        return self.verdict == "fine"

    def __str__(self) -> str:
        exp = "unknown" if self.expected is None else f"{self.expected:.4g} ({self.basis})"
        ratio = "" if self.ratio is None else f", {self.ratio:.2f}x expected"
        return (
            f"initial loss: {self.verdict}: {self.loss:.4g} over {len(self.batch_losses)} batches{ratio}; "
            f"expected {exp}\n  {self.explanation}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "kind": "initial_loss_check",
            "verdict": self.verdict,
            "loss": finite_or_none(self.loss),
            "expected": self.expected,
            "ratio": finite_or_none(self.ratio),
            "basis": self.basis,
            "explanation": self.explanation,
            "batch_losses": [finite_or_none(v) for v in self.batch_losses],
            "criterion": self.criterion,
            "num_classes": self.num_classes,
            "tolerance": list(self.tolerance),
            "numbers": {k: finite_or_none(v) for k, v in self.numbers.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> InitialLossCheck:
        _check_schema(data, "initial_loss_check")
        return cls(
            verdict=data["verdict"],
            loss=nan_if_none(data.get("loss")),
            expected=data.get("expected"),
            ratio=data.get("ratio"),
            basis=data.get("basis", ""),
            explanation=data.get("explanation", ""),
            batch_losses=tuple(nan_if_none(v) for v in data.get("batch_losses") or ()),
            criterion=data.get("criterion", ""),
            num_classes=data.get("num_classes"),
            tolerance=tuple(data.get("tolerance") or DEFAULT_TOLERANCE),
            numbers={k: nan_if_none(v) for k, v in (data.get("numbers") or {}).items()},
        )


@dataclass(frozen=True)
class OverfitCheck(JsonRecord):
    """Whether a copy of the model memorised a few samples: the loss curve, how fast it fell and what a failure
    means. ``steps_to_10pct``/``steps_to_1pct`` count the updates until the loss first fell to 10%/1% of its initial
    value (``None``: never); the check succeeds (``fits``) when it reaches ``target`` times the initial loss.
    """

    verdict: str
    explanation: str
    losses: tuple[float, ...]
    steps_to_10pct: int | None
    steps_to_1pct: int | None
    target: float
    lr: float
    optimizer: str
    num_samples: int
    criterion: str = ""
    params_without_grad: tuple[str, ...] = ()

    schema_version: ClassVar[int] = SCHEMA_VERSION

    def __post_init__(self) -> None:
        if self.verdict not in OVERFIT_VERDICTS:
            raise ValueError(f"verdict must be one of {OVERFIT_VERDICTS}, got {self.verdict!r}")
        object.__setattr__(self, "losses", tuple(float(v) for v in self.losses))
        object.__setattr__(self, "params_without_grad", tuple(self.params_without_grad))

    @property
    def ok(self) -> bool:
        return self.verdict == "fits"

    @property
    def steps(self) -> int:
        return len(self.losses)

    @property
    def initial_loss(self) -> float:
        return self.losses[0] if self.losses else math.nan

    @property
    def final_loss(self) -> float:
        return self.losses[-1] if self.losses else math.nan

    @property
    def best_loss(self) -> float:
        finite = [v for v in self.losses if math.isfinite(v)]
        return min(finite) if finite else math.nan

    def __str__(self) -> str:
        reach = ", ".join(
            f"{name} of the initial loss after {n} steps" if n is not None else f"never reached {name}"
            for name, n in (("10%", self.steps_to_10pct), ("1%", self.steps_to_1pct))
        )
        return (
            f"overfit {self.num_samples} samples: {self.verdict}: loss {self.initial_loss:.4g} -> {self.final_loss:.4g} "
            f"(best {self.best_loss:.4g}) in {self.steps} steps of {self.optimizer} at lr={self.lr:.3g}; {reach}"
            f"\n  {self.explanation}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "kind": "overfit_check",
            "verdict": self.verdict,
            "explanation": self.explanation,
            "losses": [finite_or_none(v) for v in self.losses],
            "steps_to_10pct": self.steps_to_10pct,
            "steps_to_1pct": self.steps_to_1pct,
            "target": self.target,
            "lr": self.lr,
            "optimizer": self.optimizer,
            "num_samples": self.num_samples,
            "criterion": self.criterion,
            "params_without_grad": list(self.params_without_grad),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OverfitCheck:
        _check_schema(data, "overfit_check")
        return cls(
            verdict=data["verdict"],
            explanation=data.get("explanation", ""),
            losses=tuple(nan_if_none(v) for v in data.get("losses") or ()),
            steps_to_10pct=data.get("steps_to_10pct"),
            steps_to_1pct=data.get("steps_to_1pct"),
            target=float(data["target"]),
            lr=float(data["lr"]),
            optimizer=data.get("optimizer", ""),
            num_samples=int(data.get("num_samples", 0)),
            criterion=data.get("criterion", ""),
            params_without_grad=tuple(data.get("params_without_grad") or ()),
        )


# -- helpers -----------------------------------------------------------------------------------------------------
class _Recorder:
    """Wraps a criterion and keeps (detached, CPU) copies of what it was called with."""

    def __init__(self, inner: Callable[..., torch.Tensor]) -> None:
        self.inner = inner
        self.outputs: list[torch.Tensor] = []
        self.targets: list[torch.Tensor] = []

    def __call__(self, output: Any, target: Any) -> torch.Tensor:
        if isinstance(output, torch.Tensor):
            self.outputs.append(output.detach().float().cpu())
        if isinstance(target, torch.Tensor):
            self.targets.append(target.detach().cpu())
        return self.inner(output, target)


_F = torch.nn.functional
_KINDS: tuple[tuple[tuple[Any, ...], str], ...] = (
    ((torch.nn.CrossEntropyLoss, _F.cross_entropy), "cross_entropy"),
    ((torch.nn.NLLLoss, _F.nll_loss), "cross_entropy"),
    ((torch.nn.BCEWithLogitsLoss, torch.nn.BCELoss, _F.binary_cross_entropy_with_logits, _F.binary_cross_entropy),
     "binary_cross_entropy"),
    ((torch.nn.MSELoss, _F.mse_loss), "mse"),
)


def _loss_kind(criterion: Any) -> str | None:
    if isinstance(criterion, torch.nn.Module) and getattr(criterion, "reduction", "mean") != "mean":
        return None  # a summed loss scales with the batch: no fixed chance level
    for candidates, kind in _KINDS:
        for c in candidates:
            if (isinstance(c, type) and isinstance(criterion, c)) or criterion is c:
                return kind
    return None


def _is_batch(obj: Any) -> bool:
    """A tensor, a dict, or a tuple/list holding a tensor; a list of tuples is a list of batches."""
    if isinstance(obj, (torch.Tensor, Mapping)):
        return True
    return isinstance(obj, (tuple, list)) and any(isinstance(v, torch.Tensor) for v in obj)


def _batch_size(batch: Any) -> int | None:
    if isinstance(batch, torch.Tensor):
        return int(batch.shape[0]) if batch.ndim > 0 else None
    values = batch.values() if isinstance(batch, Mapping) else batch if isinstance(batch, (tuple, list)) else ()
    for v in values:
        n = _batch_size(v)
        if n is not None:
            return n
    return None


def _take(batch: Any, n: int, size: int) -> Any:
    """The first ``n`` samples of every tensor whose leading dimension is the batch size ``size``."""
    if isinstance(batch, torch.Tensor):
        return batch[:n] if batch.ndim > 0 and batch.shape[0] == size else batch
    if isinstance(batch, Mapping):
        return {k: _take(v, n, size) for k, v in batch.items()}
    if isinstance(batch, tuple) and hasattr(batch, "_fields"):
        return type(batch)(*(_take(v, n, size) for v in batch))
    if isinstance(batch, (tuple, list)):
        return type(batch)(_take(v, n, size) for v in batch)
    return batch


def _first_batch(batch_or_loader: Any) -> Any:
    if _is_batch(batch_or_loader):
        return batch_or_loader
    if not isinstance(batch_or_loader, Iterable):
        raise TypeError(
            f"batch_or_loader must be a batch (tensor, tuple, list, dict) or an iterable of batches, "
            f"got {type(batch_or_loader).__name__}"
        )
    for batch in batch_or_loader:
        return batch
    raise ValueError(f"batch_or_loader is empty: it yielded no batches (got {batch_or_loader!r})")


def _rng_only():
    """Keep the Python/NumPy/torch RNG states: ``preserved_state`` of a module with nothing else to keep."""
    return preserved_state(torch.nn.Module())


# -- initial loss ----------------------------------------------------------------------------------------------
def _expectation(kind: str | None, recorder: _Recorder | None, num_classes: int | None, expected: float | None):
    """(expected, basis, num_classes, numbers) for the recorded outputs/targets."""
    numbers: dict[str, float] = {}
    outputs = recorder.outputs if recorder is not None else []
    targets = recorder.targets if recorder is not None else []
    if outputs:
        flat = torch.cat([o.reshape(-1) for o in outputs])
        numbers["output_mean"] = float(flat.mean())
        numbers["output_std"] = float(flat.std()) if flat.numel() > 1 else 0.0
    if expected is not None:
        return float(expected), "given", num_classes, numbers
    if kind == "cross_entropy":
        width = outputs[0].shape[1] if outputs and outputs[0].ndim >= 2 else None
        if num_classes is not None and width is not None and width != num_classes:
            raise ValueError(
                f"num_classes={num_classes} but the model outputs {width} scores per sample (dimension 1)"
            )
        c = num_classes if num_classes is not None else width
        if targets and all(not t.is_floating_point() for t in targets):
            labels = torch.cat([t.reshape(-1) for t in targets])
            labels = labels[labels >= 0]
            if labels.numel():
                freq = torch.bincount(labels).double()
                p = freq[freq > 0] / freq.sum()
                numbers["label_entropy"] = float(-(p * p.log()).sum())
        if c is None or c < 2:
            return None, "cross-entropy with an unknown number of classes (pass num_classes)", None, numbers
        return math.log(c), f"ln({c}) for {c}-class cross-entropy", int(c), numbers
    if kind == "binary_cross_entropy":
        return math.log(2.0), "ln(2) for binary cross-entropy at p = 0.5", num_classes, numbers
    if kind == "mse":
        if not targets:
            return None, "MSE without recorded targets", num_classes, numbers
        y = torch.cat([t.float().reshape(t.shape[0], -1) if t.ndim else t.float().reshape(1, 1) for t in targets])
        var = float(y.var(dim=0, unbiased=False).mean())
        numbers["target_mean"] = float(y.mean())
        numbers["target_mean_square"] = float((y**2).mean())
        return var, "the target variance (MSE of predicting the mean)", num_classes, numbers
    return None, "no chance level known for this loss", num_classes, numbers


def _explain_initial(verdict: str, kind: str | None, loss: float, expected, ratio, numbers, criterion: str) -> str:
    if verdict == "non_finite":
        return (
            f"the loss of the untrained model is {loss}: check the inputs for NaN/inf, a log of 0 (probabilities "
            "of exactly 0 or 1 fed to a log loss), or an output that overflows"
        )
    if verdict == "unknown":
        return (
            f"no chance level is known for {criterion or 'this loss'}: pass expected=... (the loss of a trivial "
            "predictor) or num_classes=... for cross-entropy"
        )
    std = numbers.get("output_std")
    if verdict == "fine":
        entropy = numbers.get("label_entropy")
        if entropy is not None and entropy < 0.9 * expected and abs(loss - entropy) < abs(loss - expected):
            return (
                f"close to the entropy of the labels ({numbers['label_entropy']:.3f}): the output bias looks "
                "initialised to the class frequencies, which is good practice"
            )
        return "the untrained model is about as uncertain as it should be: initialisation and output scale look right"
    if verdict == "too_high":
        if kind == "mse":
            return (
                f"{ratio:.1f}x the loss of predicting the mean: targets have mean {numbers.get('target_mean', 0):.3g} "
                f"and the outputs mean {numbers.get('output_mean', 0):.3g} (std {std if std is not None else 0:.3g}). "
                "Standardise the targets or initialise the output bias to their mean; scale the last layer down"
            )
        scale = f" (the outputs have std {std:.3g}: far from small logits)" if std is not None else ""
        return (
            f"{ratio:.1f}x the chance level: the untrained model is confidently wrong{scale}. Usual causes: the "
            "output layer initialised or scaled too large, unnormalised inputs, a softmax/sigmoid applied before a "
            "loss that expects logits. Initialise the last layer small and its bias to the class priors"
        )
    # too_low
    extra = ""
    if "label_entropy" in numbers:
        extra = f" (the labels' own entropy is {numbers['label_entropy']:.3f})"
    return (
        f"only {ratio:.2f}x the chance level{extra}: an untrained model should not beat chance. Suspect label "
        "leakage (the target among the inputs), the loss computed on the wrong tensors, or a reduction / "
        "ignore_index that leaves out most of the batch"
    )


def check_initial_loss(
    model: torch.nn.Module,
    loader: Iterable[Any],
    criterion: Callable[..., torch.Tensor] | None = None,
    *,
    num_classes: int | None = None,
    num_batches: int = 5,
    expected: float | None = None,
    tolerance: tuple[float, float] = DEFAULT_TOLERANCE,
    step_fn: Callable[[torch.nn.Module, Any], Any] | None = None,
) -> InitialLossCheck:
    """Compare the loss of the untrained model on the first ``num_batches`` batches with its chance level.

    With ``C`` classes and cross-entropy the loss should be about ``ln C`` (2.303 for 10 classes); for MSE about the
    target variance. Much higher means a bad initialisation or output scale; much lower, leakage or a bug. The
    model runs in training mode (what the first update sees: dropout on, BatchNorm on batch statistics) without
    gradients; its parameters, buffers (BatchNorm running statistics), modes and every RNG are restored.

    Args:
      model, loader, criterion, step_fn: as for :func:`lrfinder.find_lr` (``criterion=None`` infers cross-entropy
        from integer targets, or uses a loss the model returns).
      num_classes: the number of classes, when the outputs do not show it (with a model that returns its own loss,
        or a ``step_fn``, giving it means "this loss is cross-entropy").
      expected: the chance-level loss, when lrfinder cannot know it.
      tolerance: ``(low, high)`` bounds on ``loss / expected`` for the verdict ``fine``.
    """
    device = _model_device(model)
    num_batches = int_at_least(num_batches, "num_batches", 1)
    if num_classes is not None:
        if isinstance(num_classes, bool) or not isinstance(num_classes, Integral) or num_classes < 2:
            raise ValueError(f"num_classes must be None or an integer >= 2, got num_classes={num_classes!r}")
    if expected is not None:
        positive(expected, "expected")
    if (
        not isinstance(tolerance, Sequence)
        or len(tolerance) != 2
        or not all(isinstance(v, Real) and not isinstance(v, bool) for v in tolerance)
        or not 0 < tolerance[0] < 1 < tolerance[1]
    ):
        raise ValueError(f"tolerance must be (low, high) with 0 < low < 1 < high, got tolerance={tolerance!r}")
    if isinstance(loader, torch.Tensor) or not isinstance(loader, Iterable):
        raise TypeError(f"loader must be an iterable of batches, got {type(loader).__name__}")

    compute = LossComputer(criterion=criterion, step_fn=step_fn)
    recorder = None if criterion is None or step_fn is not None else _Recorder(criterion)
    if recorder is not None:
        compute.criterion = recorder
    batch_losses: list[float] = []
    with preserved_state(model), torch.no_grad():
        model.train()
        for i, batch in enumerate(loader):
            if i >= num_batches:
                break
            batch = move_to_device(batch, device)
            loss = compute(model, batch)
            if recorder is None and step_fn is None and compute.criterion is not None:
                recorder = _Recorder(compute.criterion)  # the criterion was just inferred: record from now on
                compute.criterion = recorder
                loss = compute(model, batch)
            batch_losses.append(float(loss))
    if not batch_losses:
        raise ValueError(f"loader is empty: it yielded no batches (got {loader!r})")

    inner = recorder.inner if recorder is not None else None
    kind = _loss_kind(inner) if inner is not None else None
    assumed = inner is None and num_classes is not None and expected is None
    if assumed:  # the model's own loss or a step_fn: num_classes says it is a classifier
        kind = "cross_entropy"
    exp, basis, c, numbers = _expectation(kind, recorder, num_classes, expected)
    if assumed:
        basis += " (assumed: the loss is the model's own and num_classes was given)"
    loss = float(np.mean(batch_losses))
    ratio = None if exp is None or exp == 0 or not math.isfinite(loss) else loss / exp
    if not math.isfinite(loss):
        verdict = "non_finite"
    elif ratio is None:
        verdict = "unknown"
        if exp == 0:
            basis += " is 0 (constant targets)"
    elif ratio > tolerance[1]:
        verdict = "too_high"
    elif ratio < tolerance[0]:
        entropy = numbers.get("label_entropy")
        near_prior = entropy is not None and abs(loss - entropy) < 0.1 * exp
        verdict = "fine" if near_prior else "too_low"
    else:
        verdict = "fine"
    return InitialLossCheck(
        verdict=verdict,
        loss=loss,
        expected=exp,
        ratio=ratio,
        basis=basis,
        explanation=_explain_initial(verdict, kind, loss, exp, ratio, numbers, compute.description),
        batch_losses=tuple(batch_losses),
        criterion=compute.description,
        num_classes=c,
        tolerance=(float(tolerance[0]), float(tolerance[1])),
        numbers=numbers,
    )


# -- overfit a small sample --------------------------------------------------------------------------------------
def _make_optimizer(optimizer: Any, params: list[torch.nn.Parameter], lr: float | None):
    if isinstance(optimizer, str):
        if optimizer not in DEFAULT_OVERFIT_LR:
            raise ValueError(f"optimizer must be 'adam', 'sgd' or a callable(params) -> Optimizer, got {optimizer!r}")
        lr = DEFAULT_OVERFIT_LR[optimizer] if lr is None else lr
        if optimizer == "adam":
            return torch.optim.Adam(params, lr=lr)
        return torch.optim.SGD(params, lr=lr, momentum=0.9)
    if callable(optimizer):
        opt = optimizer(params) if lr is None else optimizer(params, lr=lr)
        if not isinstance(opt, torch.optim.Optimizer):
            raise TypeError(f"optimizer(params) must return a torch.optim.Optimizer, got {type(opt).__name__}")
        return opt
    raise TypeError(f"optimizer must be 'adam', 'sgd' or a callable(params) -> Optimizer, got {optimizer!r}")


def _first_below(losses: Sequence[float], level: float) -> int | None:
    for i, v in enumerate(losses):
        if v <= level:
            return i
    return None


def _explain_overfit(verdict: str, losses: list[float], lr: float, n: int, silent: list[str], target: float) -> str:
    if verdict == "no_gradient":
        return (
            "the loss does not depend on any trainable parameter: the output is detached (.detach(), .item(), "
            "numpy), computed under no_grad, or every parameter is frozen. This is a pipeline bug"
        )
    if verdict == "diverged":
        return (
            f"the loss blew up (to {losses[-1]:.3g} from {losses[0]:.3g}) at lr={lr:.3g}: the LR is too high for "
            "this model; try 10x lower, or clip the gradient norm"
        )
    if verdict == "fits":
        return (
            f"the model memorised {n} samples (loss down to {target:.0%} of its start): the model, the loss and the "
            "pipeline can learn. Now find the LR for the full data (the range test)"
        )
    initial, best = losses[0], min(losses)
    tail = np.asarray(losses[-max(5, len(losses) // 5):])
    if silent:
        shown = ", ".join(silent[:5]) + (f" and {len(silent) - 5} more" if len(silent) > 5 else "")
        lead = f"{len(silent)} parameter tensor(s) got no gradient ({shown}): detached, unused or frozen by mistake? "
    else:
        lead = ""
    if verdict == "slow":
        return (
            f"{lead}the loss fell to {best / initial:.1%} of its start but not to {target:.0%}: train longer or "
            f"raise the LR (lr={lr:.3g}); if it still stalls, check for duplicate inputs with different labels"
        )
    if best > 0.9 * initial:
        return (
            f"{lead}the loss hardly moved ({initial:.4g} -> best {best:.4g}): the LR (lr={lr:.3g}) may be far too "
            "low, or the gradients do not reach the model (outputs detached, optimizer over the wrong parameters), "
            "or inputs and targets are mismatched. Try lr x10 and check the pipeline"
        )
    half = tail.size // 2
    early, late = float(np.mean(tail[:half])), float(np.mean(tail[half:]))
    if half >= 2 and early > 0 and (early - late) / early > 0.02:
        return (
            f"{lead}the loss fell to {best / initial:.1%} of its start and was still falling at the end "
            f"({early:.4g} -> {late:.4g} over the last {tail.size} steps): the LR (lr={lr:.3g}) is low or the steps "
            "too few; try lr x3-10 or more steps"
        )
    bouncing = tail.size > 2 and float(np.std(tail)) > 0.1 * float(np.mean(np.abs(tail)))
    if bouncing:
        return (
            f"{lead}the loss fell to {best / initial:.1%} of its start and then bounced: the LR (lr={lr:.3g}) is "
            "likely too high to settle; try 3-10x lower"
        )
    return (
        f"{lead}the loss fell to {best / initial:.1%} of its start and stalled: a model that cannot memorise {n} "
        "samples lacks capacity (too small, or too constrained: strong regularisation, a bottleneck), or the labels "
        "contradict each other (same input, different labels). A bug in the pipeline (shuffled labels, wrong "
        "targets) looks the same: look at a few samples and their labels"
    )


def overfit_small_batch(
    model: torch.nn.Module,
    batch_or_loader: Any,
    criterion: Callable[..., torch.Tensor] | None = None,
    *,
    num_samples: int | None = 16,
    steps: int = 500,
    lr: float | RangeTestResult | None = None,
    optimizer: str | Callable[..., torch.optim.Optimizer] = "adam",
    target: float = 0.01,
    step_fn: Callable[[torch.nn.Module, Any], Any] | None = None,
    early_stop: bool = True,
) -> OverfitCheck:
    """Train a deep copy of ``model`` on a handful of samples and report whether it memorises them.

    A working model and pipeline drive the loss on 5-20 samples close to zero within a few hundred steps. The
    copy trains in training mode on the same batch every step; ``model`` itself, and every RNG, are left as found.

    Args:
      batch_or_loader: one batch (tuple, dict, tensor) or a loader whose first batch is used.
      num_samples: keep the first this many samples of the batch (``None``: all of it).
      steps: the most updates to run (it stops once ``target`` is reached if ``early_stop``).
      lr: the LR (a range-test result: its suggestion). Default: 3e-3 for ``"adam"``, 3e-2 for ``"sgd"``
        (memorising a few samples tolerates more than training does).
      optimizer: ``"adam"``, ``"sgd"`` (momentum 0.9) or ``callable(params[, lr=...]) -> Optimizer``.
      target: success when the loss reaches this fraction of its initial value.
    """
    device = _model_device(model)
    steps = int_at_least(steps, "steps", 1)
    target = fraction(target, "target", open_low=True, open_high=True)
    if num_samples is not None:
        num_samples = int_at_least(num_samples, "num_samples", 1)
    if isinstance(lr, RangeTestResult):
        s = lr.suggestion
        if s.lr is None:
            raise ValueError(f"lr: the range test gave no suggestion ({s.reason}); pass an LR explicitly")
        lr = s.lr
    if lr is not None:
        lr = positive(lr, "lr")
    compute = LossComputer(criterion=criterion, step_fn=step_fn)
    losses: list[float] = []
    silent: list[str] = []
    verdict = None
    with _rng_only():  # iterating a DataLoader draws from torch's RNG too
        batch = _first_batch(batch_or_loader)
        size = _batch_size(batch)
        if num_samples is not None and size is not None and num_samples < size:
            batch = _take(batch, num_samples, size)
            size = num_samples
        batch = move_to_device(batch, device)
        work = copy.deepcopy(model)
        work.train()
        named = [(n, p) for n, p in work.named_parameters() if p.requires_grad]
        if not named:
            raise ValueError("model has no trainable parameters (all have requires_grad=False)")
        opt = _make_optimizer(optimizer, [p for _, p in named], lr)
        used_lr = float(opt.param_groups[0]["lr"])
        described = _describe_optimizer(opt)
        stop_at = None
        for step in range(steps):
            opt.zero_grad(set_to_none=True)
            loss = compute(work, batch)
            value = float(loss.detach())
            losses.append(value)
            if not loss.requires_grad:
                verdict = "no_gradient"
                break
            if not math.isfinite(value) or (step > 0 and value > 10 * losses[0] + 1e-12):
                verdict = "diverged"
                break
            if stop_at is None:
                stop_at = target * value
            if early_stop and value <= stop_at:
                break
            loss.backward()
            if step == 0:
                silent = [n for n, p in named if p.grad is None or not bool(p.grad.any())]
            opt.step()
        del work, opt
    initial = losses[0]
    to10 = _first_below(losses, 0.1 * initial) if verdict is None else None
    to1 = _first_below(losses, 0.01 * initial) if verdict is None else None
    if verdict is None:
        reached = _first_below(losses, target * initial)
        verdict = "fits" if reached is not None else ("slow" if to10 is not None else "fails")
    n = size if size is not None else 1
    return OverfitCheck(
        verdict=verdict,
        explanation=_explain_overfit(verdict, losses, used_lr, n, silent, target),
        losses=tuple(losses),
        steps_to_10pct=to10,
        steps_to_1pct=to1,
        target=target,
        lr=used_lr,
        optimizer=described,
        num_samples=n,
        criterion=compute.description,
        params_without_grad=tuple(silent),
    )
