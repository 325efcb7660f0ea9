"""Sanity checks on tiny real models: the initial loss against chance, and memorising a handful of samples."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from lrfinder.records import RangeTestResult, Suggestion
from lrfinder.sanity import InitialLossCheck, OverfitCheck, check_initial_loss, overfit_small_batch
from tests.helpers import assert_same_state, full_state, loader

C = 10


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)  # tiny models: threads only add overhead (conftest restores the count)


def _data(n: int = 256, d: int = 8, classes: int = C, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=g)
    y = torch.randint(0, classes, (n,), generator=g)
    return x, y


def _loader(x, y, batch_size: int = 32, shuffle: bool = False):
    return loader(x, y, batch_size=batch_size, shuffle=shuffle)


def _mlp(d: int = 8, out: int = C, bn: bool = False) -> nn.Module:
    layers = [nn.Linear(d, 64)] + ([nn.BatchNorm1d(64)] if bn else []) + [nn.ReLU(), nn.Linear(64, out)]
    return nn.Sequential(*layers)


# -- initial loss ----------------------------------------------------------------------------------------------
def test_correct_model_is_near_ln_c():
    x, y = _data()
    check = check_initial_loss(_mlp(), _loader(x, y), nn.CrossEntropyLoss())
    assert check.verdict == "fine" and check.ok
    assert check.expected == pytest.approx(math.log(C))
    assert check.num_classes == C
    assert 0.9 < check.ratio < 1.2
    assert len(check.batch_losses) == 5
    assert "ln(10)" in check.basis


def test_output_layer_scaled_up_is_too_high_with_the_output_scale_as_evidence():
    x, y = _data()
    model = _mlp()
    with torch.no_grad():
        model[-1].weight.mul_(100.0)
        model[-1].bias.mul_(100.0)
    check = check_initial_loss(model, _loader(x, y))  # criterion inferred from integer targets
    assert check.verdict == "too_high" and not check.ok
    assert check.ratio > 3
    assert check.numbers["output_std"] > 5
    assert "output layer" in check.explanation and "CrossEntropyLoss" in check.criterion


class _Leaky(nn.Module):
    """A bug: the labels are among the inputs, and the model reads them off."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.tensor(5.0))

    def forward(self, x):
        return self.scale * x[:, :C]


def test_leaked_labels_make_the_initial_loss_too_low():
    x, y = _data()
    leaky_x = torch.cat([nn.functional.one_hot(y, C).float(), x], dim=1)
    check = check_initial_loss(_Leaky(), _loader(leaky_x, y), nn.CrossEntropyLoss(), num_classes=C)
    assert check.verdict == "too_low"
    assert "leakage" in check.explanation


def test_bias_initialised_to_class_priors_is_fine_even_below_ln_c():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(512, 8, generator=g)
    y = (torch.rand(512, generator=g) < 0.03).long()  # 97/3 imbalance: label entropy ~0.13 vs ln 2 = 0.69
    model = nn.Linear(8, 2)
    with torch.no_grad():
        model.weight.mul_(0.01)
        freq = torch.bincount(y, minlength=2).float() / y.numel()
        model.bias.copy_(freq.log())
    check = check_initial_loss(model, _loader(x, y, 64), nn.CrossEntropyLoss())
    assert check.ratio < 0.5
    assert check.verdict == "fine"
    assert "class frequencies" in check.explanation


def test_mse_expects_the_target_variance_and_flags_an_offset_target():
    g = torch.Generator().manual_seed(2)
    x = torch.randn(256, 8, generator=g)
    noise = torch.randn(256, 1, generator=g)
    centred = check_initial_loss(_mlp(out=1), _loader(x, noise), nn.MSELoss())
    assert centred.verdict == "fine"
    assert centred.expected == pytest.approx(float(noise[:160].var(unbiased=False)), rel=1e-5)
    offset = check_initial_loss(_mlp(out=1), _loader(x, 5.0 + noise), nn.MSELoss())
    assert offset.verdict == "too_high"
    assert offset.numbers["target_mean"] == pytest.approx(5.0, abs=0.3)
    assert "output bias" in offset.explanation


def test_unknown_loss_says_what_to_pass_and_expected_overrides():
    x, y = _data()
    yf = y.float().unsqueeze(1)
    model = _mlp(out=1)
    unknown = check_initial_loss(model, _loader(x, yf), nn.L1Loss())
    assert unknown.verdict == "unknown" and unknown.ratio is None
    assert "expected=" in unknown.explanation
    given = check_initial_loss(model, _loader(x, yf), nn.L1Loss(), expected=unknown.loss)
    assert given.verdict == "fine" and given.ratio == pytest.approx(1.0) and given.basis == "given"


class _OwnLoss(nn.Module):
    """Hugging Face style: dict batches in, an output with .loss out."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = _mlp()

    def forward(self, x, labels):
        return {"loss": nn.functional.cross_entropy(self.fc(x), labels)}


def test_a_model_returning_its_own_loss_needs_num_classes():
    x, y = _data()
    batches = [{"x": x[i:i + 32], "labels": y[i:i + 32]} for i in range(0, 256, 32)]
    unknown = check_initial_loss(_OwnLoss(), batches)
    assert unknown.verdict == "unknown" and "own loss" in unknown.criterion
    known = check_initial_loss(_OwnLoss(), batches, num_classes=C)
    assert known.verdict == "fine" and known.expected == pytest.approx(math.log(C))
    assert "assumed" in known.basis


def test_non_finite_initial_loss():
    x, y = _data()
    x[3, 0] = math.nan
    check = check_initial_loss(_mlp(), _loader(x, y), nn.CrossEntropyLoss())
    assert check.verdict == "non_finite"
    assert "NaN" in check.explanation
    assert InitialLossCheck.from_json_str(check.to_json_str()).verdict == "non_finite"


def test_initial_check_leaves_model_batchnorm_modes_and_rng_untouched():
    x, y = _data()
    model = _mlp(bn=True)
    model.eval()
    model[0].train()  # mixed modes must come back as they were
    before = full_state(model)
    check_initial_loss(model, _loader(x, y, shuffle=True), nn.CrossEntropyLoss(), num_batches=3)
    assert_same_state(before, full_state(model))  # BatchNorm running stats, modes, grads, RNG


def test_initial_check_bad_input():
    x, y = _data()
    with pytest.raises(ValueError, match=r"num_classes=7 but the model outputs 10 scores"):
        check_initial_loss(_mlp(), _loader(x, y), nn.CrossEntropyLoss(), num_classes=7)
    with pytest.raises(ValueError, match="num_batches must be an integer >= 1, got num_batches=0"):
        check_initial_loss(_mlp(), _loader(x, y), num_batches=0)
    with pytest.raises(ValueError, match="tolerance must be"):
        check_initial_loss(_mlp(), _loader(x, y), tolerance=(2, 3))
    with pytest.raises(ValueError, match="loader is empty"):
        check_initial_loss(_mlp(), [])
    with pytest.raises(TypeError, match="loader must be an iterable"):
        check_initial_loss(_mlp(), 3)


# -- overfit a small sample --------------------------------------------------------------------------------------
def test_mlp_memorises_16_samples_and_the_users_model_is_untouched():
    x, y = _data(d=2)
    model = _mlp(d=2, bn=True)
    model.eval()
    before = full_state(model)
    check = overfit_small_batch(model, _loader(x, y, 64), nn.CrossEntropyLoss(), steps=400, lr=1e-2)
    assert check.verdict == "fits" and check.ok
    assert check.num_samples == 16
    assert check.steps_to_10pct is not None and check.steps_to_1pct is not None
    assert check.steps_to_10pct <= check.steps_to_1pct < check.steps
    assert check.final_loss <= 0.01 * check.initial_loss
    assert_same_state(before, full_state(model))
    assert "memorised 16 samples" in check.explanation


def test_linear_model_cannot_memorise_random_labels():
    x, y = _data(d=2, classes=4)
    check = overfit_small_batch(nn.Linear(2, 4), (x, y), nn.CrossEntropyLoss(), steps=300, lr=3e-2)
    assert check.verdict == "fails" and not check.ok
    assert check.steps_to_1pct is None
    assert check.best_loss > 0.1 * check.initial_loss
    assert "capacity" in check.explanation
    assert len(check.losses) == 300


def test_too_low_an_lr_is_told_apart_from_a_model_that_cannot_fit():
    x, y = _data(d=2, classes=4)
    check = overfit_small_batch(_mlp(d=2), (x, y), nn.CrossEntropyLoss(), steps=200, lr=1e-4)
    assert check.verdict == "fails"
    assert "still falling" in check.explanation and "lr x3-10" in check.explanation


class _Detached(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(2, 4)

    def forward(self, x):
        return self.fc(x).detach()


def test_detached_output_is_a_pipeline_bug():
    x, y = _data(d=2, classes=4)
    check = overfit_small_batch(_Detached(), (x, y), nn.CrossEntropyLoss(), steps=50)
    assert check.verdict == "no_gradient"
    assert "pipeline bug" in check.explanation and check.steps == 1


class _HalfUnused(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.used = nn.Linear(2, 4)
        self.unused = nn.Linear(2, 4)

    def forward(self, x):
        return self.used(x)


def test_parameters_without_gradient_are_named():
    x, y = _data(d=2, classes=4)
    check = overfit_small_batch(_HalfUnused(), (x, y), nn.CrossEntropyLoss(), steps=30)
    assert check.params_without_grad == ("unused.weight", "unused.bias")
    assert "unused.weight" in check.explanation


def test_huge_lr_diverges():
    x, y = _data(d=2)
    check = overfit_small_batch(_mlp(d=2), (x, y), nn.CrossEntropyLoss(), steps=100, lr=1e4, optimizer="sgd")
    assert check.verdict == "diverged"
    assert "too high" in check.explanation


def test_overfit_lr_from_range_test_custom_optimizer_and_json(monkeypatch, tmp_path):
    x, y = _data(d=2)
    s = Suggestion("default", 0.02, 3, 1.0, None, "test")
    monkeypatch.setattr(RangeTestResult, "suggest", lambda self, method="default": s)
    result = RangeTestResult(lrs=[1e-3, 1e-2, 1e-1], losses=[2.0, 1.0, 3.0])
    check = overfit_small_batch(
        _mlp(d=2), {"x": x, "y": y}, lambda out, t: nn.functional.cross_entropy(out, t),
        step_fn=lambda m, b: nn.functional.cross_entropy(m(b["x"]), b["y"]),
        lr=result, optimizer=lambda params, lr: torch.optim.RMSprop(params, lr=lr), num_samples=8, steps=20,
    )
    assert check.lr == 0.02 and check.optimizer.startswith("RMSprop") and check.num_samples == 8
    path = tmp_path / "overfit.json"
    check.to_json(path)
    back = OverfitCheck.from_json(path)
    assert back == check
    data = check.to_dict()
    data["schema_version"] = 99
    with pytest.raises(ValueError, match="unsupported schema_version 99"):
        OverfitCheck.from_dict(data)


def test_initial_check_json_round_trip(tmp_path):
    x, y = _data()
    check = check_initial_loss(_mlp(), _loader(x, y), nn.CrossEntropyLoss())
    path = tmp_path / "initial.json"
    check.to_json(path)
    assert InitialLossCheck.from_json(path) == check
    assert "initial loss: fine" in str(check)


def test_overfit_bad_input():
    x, y = _data(d=2)
    with pytest.raises(ValueError, match="steps must be an integer >= 1"):
        overfit_small_batch(_mlp(d=2), (x, y), steps=0)
    with pytest.raises(ValueError, match=r"target must be in \(0, 1\), got target=1.0"):
        overfit_small_batch(_mlp(d=2), (x, y), target=1.0)
    with pytest.raises(ValueError, match="optimizer must be 'adam', 'sgd'"):
        overfit_small_batch(_mlp(d=2), (x, y), optimizer="lbfgs")
    with pytest.raises(ValueError, match="batch_or_loader is empty"):
        overfit_small_batch(_mlp(d=2), iter([]))
    with pytest.raises(TypeError, match="batch_or_loader must be"):
        overfit_small_batch(_mlp(d=2), 5)
    frozen = _mlp(d=2).requires_grad_(False)
    with pytest.raises(ValueError, match="no trainable parameters"):
        overfit_small_batch(frozen, (x, y))
