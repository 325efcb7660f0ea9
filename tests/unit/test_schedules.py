"""Schedules: every torch scheduler we build against its closed form, closed forms against hand-worked values."""

from __future__ import annotations

import copy
import math
import pickle

import numpy as np
import pytest
import torch
from torch.optim import lr_scheduler as lrs

from lrfinder.records import RangeTestResult, Suggestion
from lrfinder.schedules import (
    SCHEDULES,
    build_schedule,
    exponential,
    exponential_lr,
    group_lrs,
    inverse_sqrt,
    inverse_sqrt_lr,
    linear,
    linear_lr,
    one_cycle,
    one_cycle_lr,
    plot_schedule,
    polynomial,
    polynomial_lr,
    schedule_lrs,
    step_decay,
    step_decay_lr,
    warmup_cosine,
    warmup_cosine_lr,
    warmup_lr,
    with_warmup,
)

STEPS = (0, 1, 2, 5, 9, 10, 11, 29, 30, 31, 50, 73, 98, 99)


def _opt(*lrs: float, momentum: float = 0.9) -> torch.optim.Optimizer:
    groups = [{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": lr} for lr in lrs]
    return torch.optim.SGD(groups, lr=lrs[0], momentum=momentum)


def _run(optimizer, scheduler, n: int) -> np.ndarray:
    """LR of every group at t = 0 .. n-1, stepping the optimizer and scheduler as a training loop does."""
    out = []
    for t in range(n):
        out.append([g["lr"] for g in optimizer.param_groups])
        optimizer.step()
        if t < n - 1:
            scheduler.step()
    return np.array(out)


# (builder, options, closed form of t for lr=0.1) for every schedule, torch against closed form over 100 steps
CASES = {
    "one_cycle": (one_cycle, {}, lambda t: one_cycle_lr(t, 0.1, 100)),
    "one_cycle_linear_3phase": (
        one_cycle,
        {"anneal_strategy": "linear", "three_phase": True, "pct_start": 0.25, "div_factor": 10.0},
        lambda t: one_cycle_lr(t, 0.1, 100, anneal_strategy="linear", three_phase=True, pct_start=0.25, div_factor=10.0),
    ),
    "warmup_cosine": (
        warmup_cosine,
        {"warmup_steps": 10, "min_lr": 1e-4},
        lambda t: warmup_cosine_lr(t, 0.1, 100, warmup_steps=10, min_lr=1e-4),
    ),
    "cosine_no_warmup": (warmup_cosine, {"warmup_steps": 0}, lambda t: warmup_cosine_lr(t, 0.1, 100)),
    "step_decay": (step_decay, {"step_size": 30}, lambda t: step_decay_lr(t, 0.1, 30)),
    "multistep": (
        step_decay,
        {"milestones": [30, 80], "gamma": 0.1},
        lambda t: step_decay_lr(t, 0.1, milestones=[30, 80], gamma=0.1),
    ),
    "exponential": (exponential, {"decay_rate": 0.97}, lambda t: exponential_lr(t, 0.1, 0.97)),
    "exponential_steps": (
        exponential,
        {"decay_rate": 0.5, "decay_steps": 20},
        lambda t: exponential_lr(t, 0.1, 0.5, decay_steps=20),
    ),
    "exponential_staircase": (
        exponential,
        {"decay_rate": 0.5, "decay_steps": 20, "staircase": True},
        lambda t: exponential_lr(t, 0.1, 0.5, decay_steps=20, staircase=True),
    ),
    "polynomial": (polynomial, {"power": 2.0}, lambda t: polynomial_lr(t, 0.1, 100, power=2.0)),
    "linear": (linear, {"end_factor": 0.1}, lambda t: linear_lr(t, 0.1, 100, end_factor=0.1)),
    "inverse_sqrt": (inverse_sqrt, {"warmup_steps": 10}, lambda t: inverse_sqrt_lr(t, 0.1, 10)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_torch_scheduler_matches_closed_form(name):
    builder, options, closed = CASES[name]
    opt = _opt(0.5)  # the builder must replace this LR
    sched = builder(opt, 0.1, 100, **options)
    got = _run(opt, sched, 100)[:, 0]
    for t in STEPS:
        assert got[t] == pytest.approx(closed(t), rel=1e-9, abs=1e-15), f"{name} at t={t}"


def test_builders_return_torchs_own_classes():
    kinds = {
        name: type(build_schedule(name, _opt(0.1), None, 100)) for name in SCHEDULES
    }
    assert kinds == {
        "one_cycle": lrs.OneCycleLR,
        "warmup_cosine": lrs.SequentialLR,
        "step_decay": lrs.StepLR,
        "exponential": lrs.ExponentialLR,
        "polynomial": lrs.PolynomialLR,
        "linear": lrs.LinearLR,
        "inverse_sqrt": lrs.LambdaLR,
    }
    assert type(exponential(_opt(0.1), None, 100, staircase=True, decay_steps=10)) is lrs.LambdaLR
    assert type(step_decay(_opt(0.1), None, 100, milestones=[10])) is lrs.MultiStepLR


# -- closed forms by hand --------------------------------------------------------------------------------------
def test_one_cycle_closed_form_by_hand():
    # 100 steps, pct 0.3: warmup ends at step 29 (0.3*100 - 1), then anneals to step 99
    assert one_cycle_lr(0, 1.0, 100) == pytest.approx(1 / 25)
    assert one_cycle_lr(29, 1.0, 100) == pytest.approx(1.0)
    midway_up = (29 - 0) / 2
    assert one_cycle_lr(midway_up, 1.0, 100) == pytest.approx((1 + 1 / 25) / 2)
    assert one_cycle_lr(99, 1.0, 100) == pytest.approx(1 / 25 / 1e4)
    assert one_cycle_lr(64, 1.0, 100) == pytest.approx((1 + 1 / 25 / 1e4) / 2)  # cos midpoint of [29, 99]


def test_other_closed_forms_by_hand():
    assert warmup_lr(0, 2.0, 4, start_factor=0.5) == 1.0
    assert warmup_lr(2, 2.0, 4, start_factor=0.5) == 1.5
    assert warmup_lr(9, 2.0, 4, start_factor=0.5) == 2.0
    assert warmup_cosine_lr(3, 1.0, 13, warmup_steps=3) == pytest.approx(1.0)
    assert warmup_cosine_lr(8, 1.0, 13, warmup_steps=3, min_lr=0.2) == pytest.approx(0.6)
    assert warmup_cosine_lr(13, 1.0, 13, warmup_steps=3, min_lr=0.2) == pytest.approx(0.2)
    assert [step_decay_lr(t, 8.0, 3) for t in (0, 2, 3, 6, 9)] == [8.0, 8.0, 4.0, 2.0, 1.0]
    assert exponential_lr(4, 1.0, 0.5) == 1 / 16
    assert exponential_lr(19, 1.0, 0.5, decay_steps=10, staircase=True) == 0.5
    assert exponential_lr(20, 1.0, 0.5, decay_steps=10, staircase=True) == 0.25
    assert polynomial_lr(30, 1.0, 10) == 0.0
    assert linear_lr(0, 1.0, 10, start_factor=0.5, end_factor=1.0) == 0.5
    assert linear_lr(50, 1.0, 10, start_factor=0.5, end_factor=1.0) == 1.0
    # inverse sqrt, warmup 100: update 50 (t=49) at half the LR, update 100 at the peak, update 400 at half
    assert inverse_sqrt_lr(49, 1.0, 100) == pytest.approx(0.5)
    assert inverse_sqrt_lr(99, 1.0, 100) == pytest.approx(1.0)
    assert inverse_sqrt_lr(399, 1.0, 100) == pytest.approx(0.5)
    assert inverse_sqrt_lr(899, 1.0, 100) == pytest.approx(1 / 3)


def test_default_exponential_decay_reaches_final_ratio():
    lrs_ = schedule_lrs(lambda o: exponential(o, None, 50, final_ratio=0.01), 51, lr=1.0)
    assert lrs_[0] == 1.0
    assert lrs_[50] == pytest.approx(0.01, rel=1e-9)


def test_step_decay_default_halves_every_quarter():
    got = schedule_lrs("step_decay", 100, lr=0.4)
    assert got[24] == pytest.approx(0.4) and got[25] == pytest.approx(0.2) and got[99] == pytest.approx(0.4 / 8)


def test_warmup_wrapper_shifts_any_schedule():
    opt = _opt(1.0)
    sched = with_warmup(opt, polynomial(opt, 0.2, 40, power=1.0), warmup_steps=10, start_factor=0.1)
    got = _run(opt, sched, 50)[:, 0]
    for t in (0, 3, 9):
        assert got[t] == pytest.approx(warmup_lr(t, 0.2, 10, 0.1), rel=1e-9)
    for t in (10, 20, 35, 49):
        assert got[t] == pytest.approx(polynomial_lr(t - 10, 0.2, 40), rel=1e-9, abs=1e-15)


def test_warmup_wrapper_refuses_one_cycle_and_foreign_optimizers():
    opt = _opt(0.1)
    with pytest.raises(ValueError, match="OneCycleLR already warms up"):
        with_warmup(opt, one_cycle(opt, 0.1, 100), 10)
    other = _opt(0.1)
    with pytest.raises(ValueError, match="same optimizer"):
        with_warmup(opt, step_decay(other, None, 100), 10)
    with pytest.raises(TypeError, match="torch LR scheduler"):
        with_warmup(opt, "cosine", 10)


# -- param groups and the range test -----------------------------------------------------------------------------
def test_group_ratios_are_kept_from_the_optimizer():
    opt = _opt(1e-2, 1e-3)
    sched = one_cycle(opt, 0.2, 100)
    got = _run(opt, sched, 100)
    assert np.allclose(got[:, 1], got[:, 0] * 0.1, rtol=1e-12)
    assert got[29, 0] == pytest.approx(0.2) and got[29, 1] == pytest.approx(0.02)


def test_lr_from_range_test_uses_suggestion_and_its_group_ratios():
    lrs_ = np.logspace(-5, 0, 60)
    result = RangeTestResult(
        lrs=lrs_, losses=2 - np.exp(-((np.log10(lrs_) + 2.5) ** 2)) + 5 * (lrs_ > 0.3), group_lr_ratios=(1.0, 0.5)
    )
    s = result.suggestion
    assert s.ok
    opt = _opt(1.0, 1.0)
    warmup_cosine(opt, result, 100, warmup_steps=0)
    assert [g["lr"] for g in opt.param_groups] == pytest.approx([s.lr, s.lr * 0.5])
    assert group_lrs(opt, result) == pytest.approx(result.group_lrs())
    # a one-group test applied to a two-group optimizer keeps the optimizer's own ratio
    single = RangeTestResult(lrs=result.lrs, losses=result.losses)
    assert group_lrs(_opt(1.0, 0.1), single) == pytest.approx((s.lr, s.lr * 0.1))


def test_range_test_without_suggestion_is_refused_with_its_reason(monkeypatch):
    none = Suggestion("default", None, None, None, None, "", reason="the loss never fell")
    monkeypatch.setattr(RangeTestResult, "suggest", lambda self, method="default": none)
    flat = RangeTestResult(lrs=np.logspace(-5, 0, 40), losses=np.full(40, 2.0))
    with pytest.raises(ValueError, match=r"no suggestion \(the loss never fell\)"):
        one_cycle(_opt(0.1), flat, 100)
    with pytest.raises(ValueError, match="no suggestion"):
        schedule_lrs("linear", 10, lr=flat)


def test_group_lrs_errors_name_the_argument():
    with pytest.raises(ValueError, match="one LR per param group"):
        group_lrs(_opt(0.1, 0.1), [0.1])
    with pytest.raises(ValueError, match=r"lr must be a finite number > 0, got lr=-1"):
        group_lrs(_opt(0.1), -1)
    with pytest.raises(TypeError, match="lr must be"):
        group_lrs(_opt(0.1), "0.1")
    with pytest.raises(TypeError, match="optimizer must be"):
        group_lrs(torch.nn.Linear(1, 1), 0.1)
    assert group_lrs(_opt(0.3, 0.03), [0.1, 0.2]) == (0.1, 0.2)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda o: one_cycle(o, 0.1, 1), r"total_steps must be an integer >= 2, got total_steps=1"),
        (lambda o: one_cycle(o, 0.1, 100, pct_start=1.0), r"pct_start must be in \(0, 1\)"),
        (lambda o: one_cycle(o, 0.1, 100, anneal_strategy="exp"), "anneal_strategy must be"),
        (lambda o: warmup_cosine(o, 0.1, 10, warmup_steps=10), "warmup_steps must be < total_steps"),
        (lambda o: warmup_cosine(o, 0.1, 10, min_lr=-1.0), "min_lr must be"),
        (lambda o: step_decay(o, 0.1, 10, step_size=0), "step_size must be an integer >= 1"),
        (lambda o: step_decay(o, 0.1, 10, milestones=[5, 3]), "strictly increasing"),
        (lambda o: step_decay(o, 0.1, 10, gamma=1.5), r"gamma must be in \(0, 1\]"),
        (lambda o: exponential(o, 0.1, 10, decay_rate=0.0), "decay_rate must be"),
        (lambda o: polynomial(o, 0.1, 10, power=0), "power must be"),
        (lambda o: linear(o, 0.1, 10, start_factor=0.0), "start_factor must be"),
        (lambda o: inverse_sqrt(o, 0.1, 10, warmup_steps=0), "warmup_steps must be an integer >= 1"),
        (lambda o: build_schedule("cosine", o, 0.1, 10), "unknown schedule 'cosine'"),
    ],
)
def test_bad_options_raise_clear_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call(_opt(0.1))


def test_one_cycle_cycles_momentum_only_when_the_optimizer_has_some():
    plain = _opt(0.1, momentum=0.0)
    one_cycle(plain, 0.1, 100)
    assert plain.param_groups[0]["momentum"] == 0.0
    adam = torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))])
    one_cycle(adam, 0.1, 100)
    assert adam.param_groups[0]["betas"][0] == pytest.approx(0.95)


def test_lambda_schedules_survive_state_dict_deepcopy_and_pickle():
    opt = _opt(0.1)
    sched = inverse_sqrt(opt, None, 100, warmup_steps=10)
    for _ in range(5):
        opt.step()
        sched.step()
    copy.deepcopy(sched)
    pickle.dumps(sched)
    fresh_opt = _opt(0.1)
    fresh = inverse_sqrt(fresh_opt, None, 100, warmup_steps=10)
    fresh.load_state_dict(sched.state_dict())
    assert fresh.last_epoch == 5


def test_builder_replaces_a_previous_schedulers_initial_lr():
    opt = _opt(0.1)
    step_decay(opt, 0.1, 100)
    polynomial(opt, 0.3, 100)  # a second schedule on the same optimizer starts from the new LR
    assert opt.param_groups[0]["lr"] == 0.3 and opt.param_groups[0]["initial_lr"] == 0.3


# -- previews ----------------------------------------------------------------------------------------------------
def test_schedule_lrs_leaves_no_trace_and_matches_closed_form():
    got = schedule_lrs(lambda o: warmup_cosine(o, None, 60, warmup_steps=6), 60, lr=0.5)
    want = [warmup_cosine_lr(t, 0.5, 60, warmup_steps=6) for t in range(60)]
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-15)
    both = schedule_lrs("polynomial", 10, lr=[1.0, 0.1], group=None)
    assert both.shape == (10, 2)
    np.testing.assert_allclose(both[:, 1], both[:, 0] * 0.1, rtol=1e-12)


def test_plot_schedule_draws_each_schedule_on_one_axes():
    ax = plot_schedule(["one_cycle", "warmup_cosine", lambda o: step_decay(o, None, 80, step_size=20)], 80, lr=0.1)
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == ["one_cycle", "warmup_cosine", "<lambda>"]
    assert max(lines[0].get_ydata()) == pytest.approx(0.1, rel=1e-3)
    assert ax.get_ylabel() == "learning rate"
    relative = plot_schedule("linear", 10)
    assert relative.get_ylabel() == "LR / base LR" and relative.get_lines()[0].get_ydata()[0] == 1.0
    with pytest.raises(ValueError, match="schedules is empty"):
        plot_schedule([], 10)
    with pytest.raises(ValueError, match="unknown schedule"):
        plot_schedule("nope", 10)
    import matplotlib.pyplot as plt

    plt.close("all")


def test_closed_forms_reject_negative_steps():
    with pytest.raises(ValueError, match="step must be an integer >= 0"):
        polynomial_lr(-1, 1.0, 10)
    assert math.isfinite(inverse_sqrt_lr(10**9, 1.0, 10))
