"""find_lr(..., repeats=k) on a tiny model: k range tests with different batch orders, averaged step-wise, and the
geometric mean of their suggestions."""

import numpy as np
import pytest
import torch
from torch import nn

from lrfinder import RangeTestResult, find_lr


def _setup():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(256, 8, generator=g)
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).long()
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=16, shuffle=True)
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 2))
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    return model, loader, opt


def test_repeats_two_averages_and_keeps_raw_losses(tmp_path):
    model, loader, opt = _setup()
    before = [p.detach().clone() for p in model.parameters()]
    rng = torch.get_rng_state()
    kw = dict(start_lr=1e-4, end_lr=10.0, num_iter=40, progress=False, diverge_threshold=None)
    r = find_lr(model, loader, opt, nn.CrossEntropyLoss(), repeats=2, **kw)

    # the user's state and RNG are as they were
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))
    assert torch.equal(rng, torch.get_rng_state())
    # repeat 1 is exactly the plain range test (same RNG state); repeat 2 saw another batch order
    plain = find_lr(model, loader, opt, nn.CrossEntropyLoss(), **kw)
    assert r.repeat_losses.shape == (2, r.num_steps) == (2, 40)
    np.testing.assert_array_equal(r.repeat_losses[0], plain.losses)
    assert not np.array_equal(r.repeat_losses[0], r.repeat_losses[1])
    ok = np.isfinite(r.repeat_losses).all(axis=0)
    np.testing.assert_allclose(r.losses[ok], r.repeat_losses[:, ok].mean(axis=0))
    assert r.config["repeats"] == 2
    assert any("default suggestion of each repeat" in n for n in r.notes)
    # the suggestion is the geometric mean of the two tests' own (repeat 1's is the plain test's)
    s, first = r.suggestion, plain.suggestion
    assert first.lr is not None and s.details["repeat_1_lr"] == first.lr
    second = RangeTestResult(lrs=r.lrs, losses=r.repeat_losses[1]).suggestion
    assert second.lr is not None and s.details["repeat_2_lr"] == second.lr
    assert s.lr == pytest.approx(np.sqrt(first.lr * second.lr))
    # JSON keeps the raw per-repeat losses
    r.to_json(tmp_path / "r.json")
    back = RangeTestResult.from_json(tmp_path / "r.json")
    np.testing.assert_array_equal(back.repeat_losses, r.repeat_losses)
    np.testing.assert_array_equal(back.losses, r.losses)


@pytest.mark.parametrize("bad", [0, -1, True, 2.5])
def test_bad_repeats(bad):
    model, loader, opt = _setup()
    with pytest.raises(ValueError, match="repeats must be an integer >= 1"):
        find_lr(model, loader, opt, repeats=bad, num_iter=5, progress=False)
