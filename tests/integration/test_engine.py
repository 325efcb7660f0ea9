"""find_lr end to end on tiny CPU models: ramps, batch shapes, restore-everything, bad input."""

from __future__ import annotations

import math
import os
import random

import numpy as np
import pytest
import torch
from torch import nn

from lrfinder import RangeTestResult, find_lr
from lrfinder.ramp import lr_grid
from tests.helpers import assert_same_state, blobs, bn_mlp, full_state, loader


def _warm_optimizer(model, opt, dl, steps=3):
    """Give the optimizer real momentum state before the range test (the hard case for a restore)."""
    crit = nn.CrossEntropyLoss()
    it = iter(dl)
    for _ in range(steps):
        x, y = next(it)
        opt.zero_grad()
        crit(model(x), y).backward()
        opt.step()


@pytest.fixture
def setup():
    torch.manual_seed(0)
    x, y = blobs()
    dl = loader(x, y)
    model = bn_mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4)
    _warm_optimizer(model, opt, dl)
    # a leftover gradient and a submodule in eval mode must survive too
    model[0].weight.grad = torch.full_like(model[0].weight, 0.5)
    model[1].eval()
    return model, opt, dl


def test_two_arguments_are_enough():
    x, y = blobs()
    model = bn_mlp()
    result = find_lr(model, loader(x, y), num_iter=40, progress=False)
    assert result.optimizer_created and result.optimizer.startswith("AdamW")
    assert result.criterion.startswith("CrossEntropyLoss (inferred")
    assert 2 <= result.num_steps <= 40
    assert result.lrs[0] == 1e-7


def test_lrs_follow_the_closed_form_ramp(setup):
    model, opt, dl = setup
    result = find_lr(model, dl, opt, start_lr=1e-5, end_lr=1.0, num_iter=30, diverge_threshold=None, progress=False)
    assert result.stop_reason == "completed"
    assert np.array_equal(result.lrs, lr_grid(1e-5, 1.0, 30))
    assert result.lrs[0] == 1e-5 and result.lrs[-1] == 1.0
    lin = find_lr(model, dl, opt, start_lr=1e-3, end_lr=0.1, num_iter=12, mode="linear", progress=False)
    assert np.array_equal(lin.lrs, lr_grid(1e-3, 0.1, 12, mode="linear"))


def test_optimizer_sees_the_ramped_lr_each_step(setup):
    model, opt, dl = setup
    seen = []
    handle = opt.register_step_pre_hook(lambda o, args, kwargs: seen.append(o.param_groups[0]["lr"]))
    try:
        result = find_lr(model, dl, opt, start_lr=1e-4, end_lr=1e-1, num_iter=10, diverge_threshold=None, progress=False)
    finally:
        handle.remove()
    assert seen == result.lrs.tolist()


@pytest.mark.parametrize("cache", ["memory", "disk"])
def test_restores_everything_after_success(setup, cache):
    model, opt, dl = setup
    before = full_state(model, opt)
    result = find_lr(model, dl, opt, num_iter=25, cache=cache, progress=False)
    assert result.num_steps > 0
    assert_same_state(before, full_state(model, opt))


def test_restores_everything_after_divergence(setup):
    model, opt, dl = setup
    before = full_state(model, opt)
    result = find_lr(model, dl, opt, start_lr=1e-3, end_lr=1e4, num_iter=100, progress=False)
    assert result.stop_reason in ("diverged", "non_finite")
    assert result.num_steps < 100
    assert result.stop_step == result.num_steps - 1
    assert_same_state(before, full_state(model, opt))


class _Boom(RuntimeError):
    pass


@pytest.mark.parametrize("exc_type", [_Boom, KeyboardInterrupt])
@pytest.mark.parametrize("cache", ["memory", "disk"])
def test_restores_everything_when_the_users_step_raises(setup, exc_type, cache, tmp_path, monkeypatch):
    model, opt, dl = setup
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # so we can check the snapshot directory is gone
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    fail_at = random.Random(1234).randrange(1, 20)
    crit = nn.CrossEntropyLoss()
    calls = {"n": 0}

    def step_fn(m, batch):
        calls["n"] += 1
        if calls["n"] == fail_at + 1:
            raise exc_type("boom")
        x, y = batch
        return crit(m(x), y)

    before = full_state(model, opt)
    with pytest.raises(exc_type) as info:
        find_lr(model, dl, opt, step_fn=step_fn, num_iter=30, cache=cache, progress=False)
    assert_same_state(before, full_state(model, opt))
    partial = info.value.partial_result
    assert partial.num_steps == fail_at
    assert partial.stop_reason == ("interrupted" if exc_type is KeyboardInterrupt else "error")
    assert np.isfinite(partial.losses).all()
    assert os.listdir(tmp_path) == []


def test_restores_python_and_numpy_rng(setup):
    model, opt, dl = setup
    random.seed(7)
    np.random.seed(7)
    expected = (random.random(), np.random.rand())
    random.seed(7)
    np.random.seed(7)
    find_lr(model, dl, opt, num_iter=10, progress=False)
    assert (random.random(), np.random.rand()) == expected


def test_a_scheduler_created_afterwards_behaves_as_if_find_lr_never_ran():
    def run(with_find_lr: bool) -> list[float]:
        torch.manual_seed(0)
        x, y = blobs()
        dl = loader(x, y)
        model = bn_mlp()
        opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        if with_find_lr:
            find_lr(model, dl, opt, start_lr=1e-4, end_lr=20.0, num_iter=30, progress=False)
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
        lrs = []
        for _ in range(5):
            opt.step()
            sched.step()
            lrs.append(opt.param_groups[0]["lr"])
        assert "initial_lr" in opt.param_groups[0] and opt.param_groups[0]["initial_lr"] == 0.1
        return lrs

    assert run(True) == run(False) == [0.1, 0.05, 0.05, 0.025, 0.025]


def test_existing_scheduler_state_is_untouched(setup):
    model, opt, dl = setup
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10)
    before = full_state(model, opt)
    sched_before = sched.state_dict()
    find_lr(model, dl, opt, num_iter=15, progress=False)
    assert_same_state(before, full_state(model, opt))
    assert sched.state_dict() == sched_before


def test_loader_is_cycled_when_shorter_than_num_iter():
    x, y = blobs(n=64)
    dl = loader(x, y, batch_size=16)  # 4 batches
    seen = []
    crit = nn.CrossEntropyLoss()

    def step_fn(m, batch):
        seen.append(batch[0][0, 0].item())
        return crit(m(batch[0]), batch[1])

    result = find_lr(bn_mlp(), dl, step_fn=step_fn, start_lr=1e-6, end_lr=1e-4, num_iter=10, progress=False)
    assert result.num_steps == 10 and len(seen) == 10


def test_plain_iterator_that_runs_out_gives_a_clear_error():
    x, y = blobs(n=64)
    batches = iter(list(loader(x, y, batch_size=16)))
    with pytest.raises(ValueError, match="exhausted after 4 batches.*num_iter <= 4"):
        find_lr(bn_mlp(), batches, num_iter=10, progress=False)


class DictModel(nn.Module):
    """Hugging Face style: keyword inputs, returns a dict with loss when labels are given."""

    def __init__(self):
        super().__init__()
        self.net = nn.Linear(8, 3)

    def forward(self, input_ids, attention_mask=None, labels=None):
        logits = self.net(input_ids)
        out = {"logits": logits}
        if labels is not None:
            out["loss"] = nn.functional.cross_entropy(logits, labels)
        return out


class DictBatches(torch.utils.data.Dataset):
    def __init__(self, x, y):
        self.x, self.y = x, y

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return {"input_ids": self.x[i], "attention_mask": torch.ones(1), "labels": self.y[i]}


def test_dict_batches_and_a_model_returning_its_own_loss():
    x, y = blobs()
    dl = torch.utils.data.DataLoader(DictBatches(x, y), batch_size=32)
    model = DictModel()
    before = full_state(model)
    result = find_lr(model, dl, num_iter=20, progress=False)
    assert result.criterion == "the model's own loss (output.loss)"
    assert np.isfinite(result.losses[0])
    assert_same_state(before, full_state(model))
    # with an explicit criterion the label column is split off and fed to it
    result2 = find_lr(model, dl, criterion=nn.CrossEntropyLoss(), num_iter=5, progress=False)
    assert result2.criterion == "CrossEntropyLoss"


class OwnLossOutput:
    def __init__(self, loss):
        self.loss = loss


def test_attribute_loss_output():
    x, y = blobs()
    net = nn.Linear(8, 3)

    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = net

        def forward(self, x, y):
            return OwnLossOutput(nn.functional.cross_entropy(self.net(x), y))

    dl = loader(x, y)
    result = find_lr(M(), dl, step_fn=lambda m, b: m(*b), num_iter=5, progress=False)
    assert result.criterion.startswith("step_fn")


def test_regression_targets_need_a_criterion():
    x = torch.randn(64, 8)
    y = torch.randn(64, 1)
    with pytest.raises(TypeError, match="criterion is required.*float32"):
        find_lr(nn.Linear(8, 1), loader(x, y), num_iter=5, progress=False)
    result = find_lr(nn.Linear(8, 1), loader(x, y), criterion=nn.MSELoss(), num_iter=5, progress=False)
    assert result.criterion == "MSELoss"


def test_param_group_ratios_are_kept_and_reported():
    x, y = blobs()
    model = bn_mlp()
    opt = torch.optim.SGD(
        [{"params": model[0].parameters(), "lr": 0.01}, {"params": list(model[1:].parameters()), "lr": 0.1}],
        lr=0.1,
        momentum=0.9,
    )
    seen = []
    handle = opt.register_step_pre_hook(lambda o, a, k: seen.append([g["lr"] for g in o.param_groups]))
    try:
        result = find_lr(model, loader(x, y), opt, start_lr=1e-4, end_lr=1.0, num_iter=20, progress=False)
    finally:
        handle.remove()
    assert result.group_lr_ratios == (1.0, 10.0)
    for (g0, g1), lr in zip(seen, result.lrs):
        assert g0 == lr and g1 == pytest.approx(10 * lr, rel=1e-12)
    assert [g["lr"] for g in opt.param_groups] == [0.01, 0.1]
    if result.suggestion.ok:
        lrs = result.group_lrs()
        assert lrs[1] == pytest.approx(10 * lrs[0])


def test_gradient_accumulation_equals_the_large_batch_gradient():
    x, y = blobs(n=128)

    class Recording(torch.optim.SGD):
        def step(self, closure=None):
            self.grads.append([p.grad.clone() for g in self.param_groups for p in g["params"]])
            return super().step(closure)

    def first_grads(batch_size, accumulation_steps):
        torch.manual_seed(3)
        model = nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 3))
        opt = Recording(model.parameters(), lr=0.1)
        opt.grads = []
        find_lr(
            model, loader(x, y, batch_size=batch_size, shuffle=False), opt, nn.CrossEntropyLoss(),
            num_iter=2, accumulation_steps=accumulation_steps, progress=False,
        )
        return opt.grads[0]

    big = first_grads(32, 1)
    accumulated = first_grads(8, 4)
    for a, b in zip(big, accumulated):
        assert torch.allclose(a, b, atol=1e-6, rtol=1e-5)


def test_gradient_clipping_limits_the_norm():
    x, y = blobs()
    norms = []

    class Recording(torch.optim.SGD):
        def step(self, closure=None):
            norms.append(torch.linalg.vector_norm(torch.stack([p.grad.norm() for g in self.param_groups for p in g["params"]])).item())
            return super().step(closure)

    model = bn_mlp()
    opt = Recording(model.parameters(), lr=0.1)
    find_lr(model, loader(x, y), opt, clip_grad_norm=0.01, start_lr=1e-3, end_lr=1.0, num_iter=10, progress=False)
    assert max(norms) <= 0.01 * (1 + 1e-4)


def test_bf16_autocast_on_cpu():
    x, y = blobs()
    model = bn_mlp()
    seen = []
    crit = nn.CrossEntropyLoss()

    def step_fn(m, batch):
        out = m[0](batch[0])
        seen.append(out.dtype)
        return crit(m[1:](out), batch[1])

    before = full_state(model)
    result = find_lr(model, loader(x, y), step_fn=step_fn, amp="bf16", num_iter=10, progress=False)
    assert seen and all(d == torch.bfloat16 for d in seen)
    assert result.config["amp"] == "bf16"
    assert np.isfinite(result.losses).all()
    assert_same_state(before, full_state(model))


def test_fp16_with_the_users_grad_scaler_is_restored():
    x, y = blobs()
    model = bn_mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scaler = torch.amp.GradScaler("cpu", init_scale=1024.0)
    before = full_state(model, opt, scaler)
    result = find_lr(model, loader(x, y), opt, amp="fp16", scaler=scaler, num_iter=10, progress=False)
    assert result.num_steps >= 2
    assert_same_state(before, full_state(model, opt, scaler))


def test_val_loader_losses_are_recorded_and_used():
    x, y = blobs(n=320)
    train, val = loader(x[:256], y[:256]), loader(x[256:], y[256:], shuffle=False)
    result = find_lr(bn_mlp(), train, val_loader=val, start_lr=1e-4, end_lr=1.0, num_iter=15, progress=False)
    assert result.val_losses is not None and result.val_losses.shape == result.losses.shape
    assert np.array_equal(result.curve, result.val_losses)


def test_model_in_eval_mode_is_trained_in_train_mode_and_put_back():
    x, y = blobs()
    model = bn_mlp().eval()
    modes = []
    crit = nn.CrossEntropyLoss()

    def step_fn(m, b):
        modes.append(m.training)
        return crit(m(b[0]), b[1])

    find_lr(model, loader(x, y), step_fn=step_fn, num_iter=5, progress=False)
    assert all(modes) and not model.training and not model[1].training


def test_json_round_trip(tmp_path, setup):
    model, opt, dl = setup
    result = find_lr(model, dl, opt, start_lr=1e-4, end_lr=100.0, num_iter=40, progress=False)
    path = tmp_path / "lr.json"
    result.to_json(path)
    back = RangeTestResult.from_json(path)
    assert back.to_dict() == result.to_dict()
    assert np.array_equal(back.losses, result.losses, equal_nan=True)
    assert back.suggestion == result.suggestion


def test_plot_with_agg(tmp_path, setup):
    import matplotlib

    matplotlib.use("Agg")
    model, opt, dl = setup
    result = find_lr(model, dl, opt, start_lr=1e-4, end_lr=100.0, num_iter=40, progress=False)
    ax = result.plot()
    assert ax.get_xscale() == "log"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(label.startswith("smoothed") for label in labels)
    ax.figure.savefig(tmp_path / "plot.png")
    assert (tmp_path / "plot.png").stat().st_size > 1000


def test_progress_bar_runs(capsys):
    x, y = blobs()
    find_lr(bn_mlp(), loader(x, y), num_iter=5, progress=True)
    assert "LR range test" in capsys.readouterr().err


# -- bad input -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs,exc,match",
    [
        (dict(start_lr=1.0, end_lr=0.1), ValueError, r"start_lr must be > 0 and < end_lr, got start_lr=1.0, end_lr=0.1"),
        (dict(num_iter=1), ValueError, r"num_iter must be >= 2.*num_iter=1"),
        (dict(num_iter=2.5), TypeError, r"num_iter must be an integer, got 2.5"),
        (dict(mode="cos"), ValueError, r"mode must be one of .*'cos'"),
        (dict(accumulation_steps=0), ValueError, r"accumulation_steps must be an integer >= 1.*0"),
        (dict(amp="fp8"), ValueError, r"amp must be one of .*'fp8'"),
        (dict(cache="gpu"), ValueError, r"cache must be one of .*'gpu'"),
        (dict(diverge_threshold=0.5), ValueError, r"diverge_threshold must be None or a number > 1.*0.5"),
        (dict(clip_grad_norm=-1.0), ValueError, r"clip_grad_norm must be None or a finite number > 0.*-1.0"),
    ],
)
def test_bad_arguments_are_named(kwargs, exc, match):
    x, y = blobs()
    with pytest.raises(exc, match=match):
        find_lr(bn_mlp(), loader(x, y), progress=False, **kwargs)


def test_empty_loader():
    empty = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.zeros(0, 8), torch.zeros(0).long()))
    model = bn_mlp()
    before = full_state(model)
    with pytest.raises(ValueError, match="loader is empty: it yielded no batches"):
        find_lr(model, empty, progress=False)
    assert_same_state(before, full_state(model))


def test_nan_loss_at_step_zero():
    x, y = blobs()
    x[:] = math.nan
    model = bn_mlp()
    before = full_state(model)
    with pytest.raises(ValueError, match=r"loss at step 0 .* is nan"):
        find_lr(model, loader(x, y), progress=False)
    assert_same_state(before, full_state(model))


def test_not_a_model_and_not_an_optimizer():
    x, y = blobs()
    with pytest.raises(TypeError, match="model must be a torch.nn.Module, got str"):
        find_lr("model", loader(x, y))
    with pytest.raises(TypeError, match="optimizer must be a torch.optim.Optimizer, got dict"):
        find_lr(bn_mlp(), loader(x, y), optimizer={"lr": 1})
    with pytest.raises(ValueError, match="model has no parameters"):
        find_lr(nn.ReLU(), loader(x, y))


@pytest.mark.parametrize("num_iter", [60, 240])
def test_the_default_allows_for_the_ramp_it_was_given(num_iter):
    # The same model and data on a fast and a slow ramp over 5 decades: the suggestion reads the steps per decade off
    # the recorded LRs ((num_iter - 1) / 5: 11.8 and 47.8) and divides the edge by 16 * sqrt(12.375 / that).
    from lrfinder.suggesters import default_factor

    torch.manual_seed(0)
    x, y = blobs(n=512)
    model = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 3))
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    result = find_lr(model, loader(x, y), opt, nn.CrossEntropyLoss(), start_lr=1e-4, end_lr=10.0,
                     num_iter=num_iter, progress=False)
    s = result.suggestion
    assert s.ok, s.reason
    assert s.details["steps_per_decade"] == pytest.approx((num_iter - 1) / 5)
    assert s.details["factor"] == pytest.approx(default_factor((num_iter - 1) / 5))
    assert s.lr == pytest.approx(s.details["edge_lr"] / s.details["factor"])
