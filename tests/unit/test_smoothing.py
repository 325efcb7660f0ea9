"""Smoothing over log-LR: length kept, zero phase (a symmetric dip stays put), holes bridged, tails kept."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lrfinder.smoothing import SMOOTHERS, check_lrs, default_window, ema, smooth, tail_start

NAN, INF = math.nan, math.inf
LRS = np.logspace(-6, 0, 61)  # 0.1 decade per step
U = np.log10(LRS)


def dip(center_index: int = 30, width: float = 0.5) -> np.ndarray:
    return 2.0 - np.exp(-((U - U[center_index]) ** 2) / (2 * width**2))


@pytest.mark.parametrize("method", SMOOTHERS)
@pytest.mark.parametrize("n", [0, 1, 2, 3, 5, 14, 15, 61])
def test_keeps_length(method, n):
    x = np.linspace(3.0, 1.0, n)
    assert smooth(x, method=method).shape == (n,)
    assert smooth(x, method=method, lrs=np.logspace(-5, 0, n) if n else []).shape == (n,)


@pytest.mark.parametrize("method", ["savgol", "gaussian"])
@pytest.mark.parametrize("center", [20, 30, 41])
def test_zero_phase_smoothers_keep_a_symmetric_dip_in_place(method, center):
    for window in (5, 11, 21):
        sm = smooth(dip(center), method=method, lrs=LRS, window=window)
        assert int(np.argmin(sm)) == center
        # and symmetric around it
        k = min(center - window // 2, 60 - window // 2 - center, 10)  # away from the edge fits
        np.testing.assert_allclose(sm[center - k : center], sm[center + 1 : center + k + 1][::-1], atol=1e-4)


def test_symmetric_noise_around_a_dip_does_not_move_it():
    noise = np.random.default_rng(0).normal(0, 0.02, 30)
    x = dip(30)
    x[:30] += noise
    x[31:] += noise[::-1]  # mirror-symmetric noise: the smoothed minimum must stay at the centre
    assert int(np.argmin(smooth(x, lrs=LRS))) == 30


def test_causal_ema_moves_the_dip_right():
    # The reason the default is zero-phase: the EMA every other finder uses lags behind the curve.
    assert int(np.argmin(smooth(dip(30), method="ema", beta=0.9))) > 30


def test_savgol_keeps_a_parabola_exactly_edges_included():
    x = 1.0 + (U + 2.0) ** 2
    np.testing.assert_allclose(smooth(x, method="savgol", lrs=LRS, window=11), x, atol=1e-9)


def test_default_window_by_hand():
    assert [default_window(n) for n in (0, 14, 15, 25, 61, 100, 300)] == [1, 1, 5, 5, 5, 5, 15]


def test_short_curves_are_not_smoothed():
    x = [3.0, 1.0, 2.0, 0.5, 4.0]
    np.testing.assert_array_equal(smooth(x), x)


def test_nan_tail_is_kept_and_does_not_leak():
    x = dip(30)
    with_tail = x.copy()
    with_tail[45:] = [INF] + [NAN] * 15
    out = smooth(with_tail, lrs=LRS)
    assert np.isinf(out[45]) and np.isnan(out[46:]).all()
    np.testing.assert_array_equal(out[:45], smooth(x[:45], lrs=LRS[:45]))


def test_isolated_nan_is_bridged():
    x = 1.0 + (U + 2.0) ** 2
    holed = x.copy()
    holed[[10, 31]] = [NAN, INF]
    out = smooth(holed, lrs=LRS, window=11)
    assert np.isfinite(out).all()
    # the hole is bridged linearly, so the parabola is only slightly bent there
    np.testing.assert_allclose(out, x, atol=0.02)
    none = smooth(holed, method="none")
    assert none[10] == pytest.approx((x[9] + x[11]) / 2)
    assert none[31] == pytest.approx((x[30] + x[32]) / 2)


def test_tail_start_by_hand():
    assert tail_start([1.0, NAN, 2.0, NAN, INF]) == 3
    assert tail_start([NAN, NAN]) == 0
    assert tail_start([1.0, 2.0]) == 2
    assert tail_start([]) == 0


def test_linear_spacing_is_smoothed_over_log_lr():
    lrs = np.linspace(1e-4, 1.0, 200)  # linear ramp: dense at high LR in log terms
    u = np.log10(lrs)
    clean = 1.0 + (u + 1.0) ** 2
    noisy = clean + np.random.default_rng(1).normal(0, 0.05, lrs.size)
    out = smooth(noisy, lrs=lrs)
    assert out.shape == lrs.shape
    dense = lrs > 1e-2  # where there are enough points to average over
    assert np.abs(out - clean)[dense].mean() < 0.5 * np.abs(noisy - clean)[dense].mean()
    assert abs(u[np.argmin(out)] - (-1.0)) < 0.15


def test_ema_debiased_by_hand():
    np.testing.assert_allclose(ema([2.0, 4.0], beta=0.5), [2.0, (0.25 * 2 + 0.5 * 4) / 0.75])
    np.testing.assert_allclose(ema([2.0, 4.0], beta=0.5, debias=False), [1.0, 2.5])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"method": "lowess"}, "method must be one of"),
        ({"window": 0}, "window must be None or an integer >= 1, got window=0"),
        ({"window": 2.5}, "window must be None or an integer"),
        ({"beta": 1.0}, r"beta must be a number in \[0, 1\), got beta=1.0"),
        ({"lrs": [1e-3, 1e-2]}, "same length, got 2 and 3"),
        ({"lrs": [1e-3, 1e-3, 1e-2]}, r"strictly increasing .* lrs\[1\]=0.001 <= lrs\[0\]=0.001"),
        ({"lrs": [1e-2, 1e-3, 1e-1]}, "strictly increasing"),
        ({"lrs": [0.0, 1e-3, 1e-1]}, r"finite and > 0, got lrs\[0\]=0.0"),
    ],
)
def test_bad_input_is_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        smooth([3.0, 2.0, 1.0], **kwargs)


def test_check_lrs_rejects_2d():
    with pytest.raises(ValueError, match="lrs must be one-dimensional"):
        check_lrs([[1e-3, 1e-2]])


values = st.one_of(
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
    st.sampled_from([NAN, INF, -INF]),
)


@settings(deadline=None)
@given(st.lists(values, max_size=120), st.sampled_from(SMOOTHERS))
def test_any_curve_keeps_length_tail_and_gives_finite_values_before_it(xs, method):
    x = np.array(xs, dtype=float)
    lrs = np.logspace(-7, 1, x.size)
    out = smooth(x, method=method, lrs=lrs)
    t = tail_start(x)
    assert out.shape == x.shape
    np.testing.assert_array_equal(out[t:], x[t:])
    if np.isfinite(x[:t]).sum() >= 2:
        assert np.isfinite(out[:t]).all()
