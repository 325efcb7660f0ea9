import math

import numpy as np
import pytest

from lrfinder.ramp import lr_at, lr_grid


@pytest.mark.parametrize("mode", ["exp", "linear"])
@pytest.mark.parametrize("start,end,n", [(1e-7, 10.0, 100), (3e-5, 0.7, 7), (0.1, 0.3, 2)])
def test_endpoints_are_exact(mode, start, end, n):
    assert lr_at(0, start, end, n, mode) == start
    assert lr_at(n - 1, start, end, n, mode) == end


def test_exponential_ramp_is_evenly_spaced_in_log():
    # 1e-4 -> 1 over 5 steps: one decade per step, worked out by hand.
    assert lr_grid(1e-4, 1.0, 5).tolist() == pytest.approx([1e-4, 1e-3, 1e-2, 1e-1, 1.0], rel=1e-12)
    assert lr_at(1, 1e-6, 1e-2, 3) == pytest.approx(1e-4, rel=1e-12)


def test_linear_ramp_values():
    assert lr_grid(0.1, 0.5, 5, mode="linear").tolist() == pytest.approx([0.1, 0.2, 0.3, 0.4, 0.5], rel=1e-12)


def test_grid_matches_lr_at_and_is_increasing():
    grid = lr_grid(1e-7, 10.0, 100)
    assert grid.shape == (100,)
    assert np.all(np.diff(grid) > 0)
    assert grid[37] == lr_at(37, 1e-7, 10.0, 100)
    ratios = grid[1:] / grid[:-1]
    assert np.allclose(ratios, (1e8) ** (1 / 99), rtol=1e-9)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(start_lr=1.0, end_lr=1.0, num_iter=10), "start_lr must be > 0 and < end_lr.*start_lr=1.0, end_lr=1.0"),
        (dict(start_lr=0.0, end_lr=1.0, num_iter=10), "start_lr must be > 0"),
        (dict(start_lr=1e-3, end_lr=1.0, num_iter=1), "num_iter must be >= 2.*num_iter=1"),
        (dict(start_lr=1e-3, end_lr=math.inf, num_iter=10), "end_lr must be finite"),
        (dict(start_lr=1e-3, end_lr=1.0, num_iter=10, mode="cosine"), "mode must be one of.*'cosine'"),
    ],
)
def test_bad_ramps_name_the_argument(kwargs, match):
    with pytest.raises(ValueError, match=match):
        lr_grid(**kwargs)


def test_step_out_of_range():
    with pytest.raises(ValueError, match="step must be in"):
        lr_at(5, 1e-3, 1.0, 5)
