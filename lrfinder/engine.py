"""The LR range test: the only module of lrfinder that trains.

Examples:
  >>> import torch
  >>> from torch import nn
  >>> g = torch.Generator().manual_seed(0)
  >>> x = torch.randn(256, 8, generator=g); y = (x[:, 0] > 0).long()
  >>> loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=32)
  >>> result = find_lr(nn.Linear(8, 2), loader, num_iter=30, progress=False)
  >>> result.num_steps <= 30 and result.criterion.startswith("CrossEntropyLoss")
  True
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Iterable, Iterator
from numbers import Integral, Real
from typing import Any

import torch

from ._batches import LossComputer, move_to_device
from ._distributed import fetch_losses, resolve_distributed
from ._state import CACHE_MODES, preserved_state
from .ramp import lr_at, validate_ramp
from .records import RangeTestResult

__all__ = ["find_lr", "AMP_MODES", "DEFAULT_CHECK_EVERY_CUDA"]

AMP_MODES = (None, "fp16", "bf16")
#: On CUDA, losses stay on the device and are fetched (one host sync) every this many steps; divergence is
#: checked then. On CPU there is nothing to sync, so every step is checked.
DEFAULT_CHECK_EVERY_CUDA = 10
#: Smoothing factor of the causal EMA used only to decide when to stop (suggestions use zero-phase smoothing).
STOP_EMA_BETA = 0.9


def _validate_args(
    start_lr, end_lr, num_iter, mode, accumulation_steps, clip_grad_norm, amp, diverge_threshold, check_every, cache
) -> None:
    validate_ramp(start_lr, end_lr, num_iter, mode)
    if isinstance(accumulation_steps, bool) or not isinstance(accumulation_steps, Integral) or accumulation_steps < 1:
        raise ValueError(f"accumulation_steps must be an integer >= 1, got accumulation_steps={accumulation_steps!r}")
    if clip_grad_norm is not None and (
        not isinstance(clip_grad_norm, Real) or not clip_grad_norm > 0 or not math.isfinite(clip_grad_norm)
    ):
        raise ValueError(f"clip_grad_norm must be None or a finite number > 0, got clip_grad_norm={clip_grad_norm!r}")
    if amp not in AMP_MODES:
        raise ValueError(f"amp must be one of {AMP_MODES}, got amp={amp!r}")
    if diverge_threshold is not None and (not isinstance(diverge_threshold, Real) or not diverge_threshold > 1):
        raise ValueError(f"diverge_threshold must be None or a number > 1, got diverge_threshold={diverge_threshold!r}")
    if check_every is not None and (isinstance(check_every, bool) or not isinstance(check_every, Integral) or check_every < 1):
        raise ValueError(f"check_every must be None or an integer >= 1, got check_every={check_every!r}")
    if cache not in CACHE_MODES:
        raise ValueError(f"cache must be one of {CACHE_MODES}, got cache={cache!r}")


def _model_device(model: torch.nn.Module) -> torch.device:
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    for p in model.parameters():
        return p.device
    raise ValueError("model has no parameters: there is nothing for a range test to train")


class LoaderExhaustedError(ValueError):
    """The loader yielded no (more) batches: it is empty, or a one-shot iterator that an earlier test used up."""


class NonFiniteStartError(ValueError):
    """The loss was NaN or inf at step 0, before any update: a problem of the data or model, not of the LR."""


def _cycle(loader: Iterable[Any], name: str) -> Iterator[Any]:
    """Yield batches forever, restarting ``loader`` when it runs out; fail clearly when it yields nothing."""
    seen = 0
    while True:
        before = seen
        for batch in loader:
            seen += 1
            yield batch
        if seen == before:
            if seen == 0:
                raise LoaderExhaustedError(f"{name} is empty: it yielded no batches (got {loader!r})")
            raise LoaderExhaustedError(
                f"{name} was exhausted after {seen} batches and yields nothing when iterated again (an iterator, "
                f"not a re-iterable like a DataLoader): pass a DataLoader, or num_iter <= {seen}"
            )


def _describe_optimizer(opt: torch.optim.Optimizer) -> str:
    g = opt.param_groups[0]
    keys = ("momentum", "nesterov", "betas", "weight_decay", "eps")
    parts = [f"{k}={g[k]!r}" for k in keys if k in g and g[k] not in (None, False)]
    extra = f", {len(opt.param_groups)} param groups" if len(opt.param_groups) > 1 else ""
    return f"{type(opt).__name__}({', '.join(parts)}{extra})"


def _group_ratios(opt: torch.optim.Optimizer) -> tuple[float, ...]:
    base = float(opt.param_groups[0]["lr"])
    if len(opt.param_groups) == 1:
        return (1.0,)
    if not base > 0:
        raise ValueError(
            "optimizer.param_groups[0]['lr'] must be > 0 to keep the groups' LR ratios, "
            f"got {opt.param_groups[0]['lr']!r}"
        )
    return tuple(float(g["lr"]) / base for g in opt.param_groups)


def _set_lr(opt: torch.optim.Optimizer, lr: float, ratios: tuple[float, ...]) -> None:
    for group, ratio in zip(opt.param_groups, ratios):
        if isinstance(group["lr"], torch.Tensor):
            group["lr"].fill_(lr * ratio)
        else:
            group["lr"] = lr * ratio


class _StopTracker:
    """Host-side divergence detection over the losses fetched so far (causal EMA vs its best value)."""

    def __init__(self, threshold: float | None) -> None:
        self.threshold = threshold
        self.avg = 0.0
        self.n = 0
        self.best = math.inf
        self.smoothed = math.nan

    def push(self, loss: float) -> str | None:
        if not math.isfinite(loss):
            return "non_finite"
        self.n += 1
        self.avg = STOP_EMA_BETA * self.avg + (1 - STOP_EMA_BETA) * loss
        self.smoothed = self.avg / (1 - STOP_EMA_BETA**self.n)
        self.best = min(self.best, self.smoothed)
        if self.threshold is not None and self.best != 0:
            # For a positive best this is smoothed > threshold * best; it stays meaningful for negative losses.
            if self.smoothed > self.best + (self.threshold - 1) * abs(self.best):
                return "diverged"
        return None


def find_lr(
    model: torch.nn.Module,
    loader: Iterable[Any],
    optimizer: torch.optim.Optimizer | None = None,
    criterion: Callable[..., torch.Tensor] | None = None,
    *,
    start_lr: float = 1e-7,
    end_lr: float = 10.0,
    num_iter: int = 100,
    mode: str = "exp",
    step_fn: Callable[[torch.nn.Module, Any], Any] | None = None,
    val_loader: Iterable[Any] | None = None,
    accumulation_steps: int = 1,
    clip_grad_norm: float | None = None,
    amp: str | None = None,
    scaler: Any | None = None,
    diverge_threshold: float | None = 4.0,
    check_every: int | None = None,
    cache: str = "memory",
    distributed: bool | None = None,
    progress: bool = True,
    repeats: int = 1,
    retries: int = 1,
) -> RangeTestResult:
    """Run an LR range test and return its record; the model, optimizer, scaler and RNG are left exactly as found.

    The LR of the first param group rises from ``start_lr`` to ``end_lr`` over ``num_iter`` optimizer steps
    (``mode="exp"``: evenly in log space; ``"linear"``), the other groups keeping their LR ratio to it. The loader is
    restarted when it runs out. The test stops early when the loss becomes non-finite, or when its smoothed value
    exceeds ``diverge_threshold`` times its best (``None`` disables that check).

    Args:
      model: any ``nn.Module``; the test runs on the device its parameters are on.
      loader: yields ``(inputs..., target)`` tuples, dicts (Hugging Face style), or anything ``step_fn`` takes.
      optimizer: the optimizer you will train with (its momentum, betas, weight decay are used as set). ``None``
        creates ``AdamW`` over the trainable parameters and records that in the result.
      criterion: ``loss = criterion(output, target)``. ``None`` infers it only where unambiguous (the model returns
        its own loss; integer class targets give cross-entropy) and raises otherwise.
      step_fn: ``step_fn(model, batch) -> loss`` for batches and models nothing else fits.
      val_loader: if given, the loss on all its batches is evaluated after every step and suggestions use it.
      accumulation_steps: micro-batches per optimizer step (gradients averaged).
      clip_grad_norm: clip the global gradient norm to this value before each step.
      amp: ``"fp16"`` (with a grad scaler; pass ``scaler`` to use yours) or ``"bf16"`` autocast.
      check_every: steps between host checks of the loss. Default: 1 on CPU, ``DEFAULT_CHECK_EVERY_CUDA`` (10) on
        CUDA, where losses stay on the device in between so the loop never waits for the GPU.
      cache: where the snapshot for the restore lives: ``"memory"`` (CPU RAM) or ``"disk"`` (a private temporary
        directory, removed afterwards).
      distributed: average the losses over the ranks of a ``torch.distributed`` job, so every rank records the
        same losses, stops at the same step and gets the same suggestion (see docs/distributed.md). ``None``: when
        ``model`` is wrapped in ``DistributedDataParallel``.
      progress: show a tqdm progress bar with step, LR and smoothed loss (on rank 0 only when distributed).
      repeats: run this many range tests with different batch orders; the result holds each test's losses and
        their step-wise average, and its default suggestion is the geometric mean of the tests' own (see
        ``lrfinder.repeats``).
      retries: when the default suggestion gives no LR and its reason names a range to try, run up to this many
        more range tests on the range advised (see ``lrfinder.retries``); the last is returned, the earlier ones
        are in its ``attempts``. Costs nothing when the first test gives an LR; ``0`` runs exactly one test.

    Raises:
      ValueError, TypeError: bad arguments, an empty loader, a non-finite loss at step 0, a batch or output that
        cannot be turned into a loss. An exception from your own code propagates unchanged, after the state is
        restored, with the steps recorded so far attached as ``exc.partial_result``.
    """
    if isinstance(retries, bool) or retries != 0:  # the advice of a declined suggestion followed: a loop over this
        arguments = {k: v for k, v in locals().items() if k != "retries"}
        from .retries import retry_range_test

        return retry_range_test(find_lr, arguments, retries)
    if isinstance(repeats, bool) or repeats != 1:  # k tests averaged: a thin loop over this function
        arguments = {k: v for k, v in locals().items() if k != "repeats"}  # retries is 0 here: one test each
        from .repeats import repeat_range_test

        return repeat_range_test(find_lr, arguments, repeats)
    _validate_args(
        start_lr, end_lr, num_iter, mode, accumulation_steps, clip_grad_norm, amp, diverge_threshold, check_every, cache
    )
    device = _model_device(model)
    dist_ctx = resolve_distributed(model, distributed)
    if val_loader is not None and not isinstance(val_loader, Iterable):
        raise TypeError(f"val_loader must be iterable, got {type(val_loader).__name__}")
    if not isinstance(loader, Iterable):
        raise TypeError(f"loader must be an iterable of batches, got {type(loader).__name__}")

    notes: list[str] = []
    optimizer_created = optimizer is None
    if optimizer is None:
        trainable = [p for p in model.parameters() if p.requires_grad]
        if not trainable:
            raise ValueError("model has no trainable parameters (all have requires_grad=False)")
        optimizer = torch.optim.AdamW(trainable, lr=start_lr)
    elif not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"optimizer must be a torch.optim.Optimizer, got {type(optimizer).__name__}")
    ratios = _group_ratios(optimizer)
    scaler_created = False
    if amp == "fp16" and scaler is None:
        scaler = torch.amp.GradScaler(device.type)
        scaler_created = True
    if check_every is None:
        check_every = DEFAULT_CHECK_EVERY_CUDA if device.type == "cuda" else 1
    compute_loss = LossComputer(criterion=criterion, step_fn=step_fn)
    autocast = (
        (lambda: torch.autocast(device_type=device.type, dtype=torch.float16 if amp == "fp16" else torch.bfloat16))
        if amp is not None
        else contextlib.nullcontext
    )
    params = [p for g in optimizer.param_groups for p in g["params"]]
    no_sync = getattr(model, "no_sync", None) if accumulation_steps > 1 else None

    losses: list[float] = []  # the record, on the host
    val_losses: list[float] | None = None if val_loader is None else []
    host_losses = losses if val_losses is None else val_losses  # what the stop check watches
    # Loss sums of the steps since the last host check, still on the device: appending costs nothing per step,
    # and one stack + copy per check brings them over (no per-step indexing into a device buffer).
    pending: list[torch.Tensor] = []
    pending_val: list[torch.Tensor] = []
    tracker = _StopTracker(diverge_threshold)
    state = {"steps": 0, "stop_reason": "completed", "stop_step": None}
    bar = None
    t0 = time.perf_counter()

    def drain(ctx) -> None:
        """Move the pending losses to the host record: one sync (averaged over the ranks when ``ctx`` is set)."""
        if not pending:
            return
        train, val = fetch_losses(pending, None if val_losses is None else pending_val, ctx)
        pending.clear()
        pending_val.clear()
        losses.extend(v / accumulation_steps for v in train)
        if val_losses is not None:
            val_losses.extend(val)

    def fetch() -> None:
        """Bring the steps since the last check to the host and run the stop check over them."""
        start = len(host_losses)
        drain(dist_ctx)
        for offset, value in enumerate(host_losses[start:]):
            if state["stop_reason"] == "completed":
                why = tracker.push(value)
                if why is not None:
                    state["stop_reason"], state["stop_step"] = why, start + offset

    def build(stop_reason: str | None = None) -> RangeTestResult:
        n = state["steps"]
        drain(None)  # steps after the last check (an interrupted test): this rank's own values, no collective
        lrs = [lr_at(i, start_lr, end_lr, num_iter, mode) for i in range(n)]
        return RangeTestResult(
            lrs=lrs,
            losses=losses[:n],
            val_losses=None if val_losses is None else val_losses[:n],
            stop_reason=stop_reason or state["stop_reason"],
            stop_step=state["stop_step"],
            config={
                "start_lr": float(start_lr),
                "end_lr": float(end_lr),
                "num_iter": int(num_iter),
                "mode": mode,
                "diverge_threshold": None if diverge_threshold is None else float(diverge_threshold),
                "accumulation_steps": int(accumulation_steps),
                "clip_grad_norm": None if clip_grad_norm is None else float(clip_grad_norm),
                "amp": amp,
                "check_every": int(check_every),
                "cache": cache,
            },
            optimizer=_describe_optimizer(optimizer),
            optimizer_created=optimizer_created,
            criterion=compute_loss.description,
            group_lr_ratios=ratios,
            device=str(device),
            elapsed_s=time.perf_counter() - t0,
            notes=tuple(notes),
        )

    with preserved_state(model, optimizer, None if scaler_created else scaler, cache=cache):
        try:
            if progress and (dist_ctx is None or dist_ctx.is_main):
                from tqdm.auto import tqdm

                bar = tqdm(total=num_iter, desc="LR range test", unit="step", leave=False)
            model.train()
            batches = _cycle(loader, "loader")
            for step in range(num_iter):
                lr = lr_at(step, start_lr, end_lr, num_iter, mode)
                _set_lr(optimizer, lr, ratios)
                optimizer.zero_grad(set_to_none=True)
                total = None
                for micro in range(accumulation_steps):
                    batch = move_to_device(next(batches), device)
                    # DDP: all-reduce the gradients once per optimizer step, not after every micro-batch
                    sync = no_sync if no_sync is not None and micro < accumulation_steps - 1 else contextlib.nullcontext
                    with sync():
                        with autocast():
                            loss = compute_loss(model, batch)
                        scaled = loss.float() / accumulation_steps if accumulation_steps > 1 else loss.float()
                        (scaler.scale(scaled) if scaler is not None else scaled).backward()
                    total = loss.detach().float() if total is None else total + loss.detach().float()
                if clip_grad_norm is not None:
                    if scaler is not None:
                        scaler.unscale_(optimizer)
                    torch.nn.utils.clip_grad_norm_(params, clip_grad_norm)
                if scaler is not None:
                    scaler.step(optimizer)
                    scaler.update()
                else:
                    optimizer.step()
                pending.append(total)
                if val_losses is not None:
                    pending_val.append(_evaluate(model, val_loader, compute_loss, device, autocast))
                state["steps"] = step + 1
                if bar is not None:
                    bar.update(1)
                if step == 0 or (step + 1) % check_every == 0 or step == num_iter - 1:
                    fetch()
                    if step == 0 and not math.isfinite(host_losses[0]):
                        raise NonFiniteStartError(
                            f"the loss at step 0 (lr={start_lr:.3g}, before any update) is {host_losses[0]}: "
                            "check the data and the model's output (a non-finite loss at the start is not an LR "
                            "problem)"
                        )
                    if bar is not None:
                        bar.set_postfix(lr=f"{lr:.2e}", loss=f"{tracker.smoothed:.4g}", refresh=False)
                    if state["stop_reason"] != "completed":
                        break
        except BaseException as exc:
            _attach_partial(exc, build, state["steps"], optimizer)
            raise
        finally:
            if bar is not None:
                bar.close()
    if state["stop_reason"] == "non_finite":
        notes.append(f"stopped: non-finite loss at step {state['stop_step']}")
    elif state["stop_reason"] == "diverged":
        notes.append(
            f"stopped: smoothed loss exceeded {diverge_threshold:g}x its best at step {state['stop_step']} "
            f"(lr={lr_at(state['stop_step'], start_lr, end_lr, num_iter, mode):.3g})"
        )
    if dist_ctx is not None:
        notes.append(f"losses averaged over the {dist_ctx.world_size} ranks of the process group")
    if scaler_created:
        notes.append("amp='fp16': used a fresh GradScaler (pass scaler=... to use yours)")
    return build()


def _attach_partial(exc: BaseException, build: Callable[[str], RangeTestResult], steps: int, optimizer) -> None:
    """Give the user the steps recorded so far (``exc.partial_result``) and a note on what happened."""
    try:
        exc.partial_result = build("interrupted" if isinstance(exc, KeyboardInterrupt) else "error")  # type: ignore[attr-defined]
    except Exception:  # a broken device may not even give the losses back
        pass
    if hasattr(exc, "add_note"):  # Python >= 3.11
        lr = optimizer.param_groups[0]["lr"]
        note = (
            f"lrfinder: the range test stopped at step {steps} (lr={float(lr):.3g}); model, optimizer and RNG state "
            "were restored; the steps recorded so far are in exc.partial_result"
        )
        if isinstance(exc, torch.OutOfMemoryError):
            note += "; out of memory: use a smaller batch with accumulation_steps, or cache='disk'"
        exc.add_note(note)


def _evaluate(model, val_loader, compute_loss, device, autocast) -> torch.Tensor:
    """Mean loss over all batches of ``val_loader`` in eval mode (kept on the device: no host sync)."""
    model.eval()
    total, count = None, 0
    try:
        with torch.no_grad():
            for batch in val_loader:
                with autocast():
                    loss = compute_loss(model, move_to_device(batch, device)).detach().float()
                total = loss if total is None else total + loss
                count += 1
    finally:
        model.train()
    if count == 0:
        raise ValueError(f"val_loader is empty: it yielded no batches (got {val_loader!r})")
    return total / count
