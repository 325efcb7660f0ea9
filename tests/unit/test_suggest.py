"""Suggesters on hand-made curves whose answers were worked out by hand, and on any curve hypothesis can make."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lrfinder.records import CyclicBounds, Suggestion
from lrfinder.suggesters import (
    SUGGESTERS,
    _fall_z,
    cyclic_bounds,
    default,
    default_factor,
    get_suggester,
    minimum,
    register_suggester,
    steepest,
    suggest,
    valley,
)

NAN, INF = math.nan, math.inf
LRS = np.logspace(-6, 0, 61)  # 0.1 decade per step; index i is lr = 10 ** (-6 + i / 10)
U = np.log10(LRS)
PARABOLA = 1.0 + (U + 2.0) ** 2  # minimum at lr = 1e-2 (index 40)


def close(a, b, rel=1e-9):
    return a == pytest.approx(b, rel=rel)


# -- parabola in log-LR, minimum at 1e-2 ---------------------------------------------------------------------------
def test_parabola_minimum():
    # savgol (local quadratic) keeps a parabola exactly, so the minimum is at 1e-2 and the suggestion is 1e-3.
    s = minimum(LRS, PARABOLA)
    assert close(s.lr, 1e-3) and s.index == 30
    assert s.details["lr_at_min"] == pytest.approx(1e-2)
    assert s.loss == pytest.approx(1.0 + 1.0)  # (log10(1e-3) + 2) ** 2 = 1
    # slope at 1e-3: d/du (u + 2)^2 = 2 (u + 2) = -2 per decade; one decade below the minimum, over which the loss
    # falls from 2 to 1: 1 per decade on average
    assert s.details["slope_per_decade"] == pytest.approx(-2.0)
    assert "1.0 decades below the loss minimum (1) at lr=0.01; from here to it the loss falls 1 per decade" in s.evidence
    assert s.interval[0] <= s.lr <= s.interval[1]


def test_parabola_default():
    # Drop 16 (from 17 at 1e-6 to 1 at 1e-2): the floor is where (u + 2)^2 <= 1.6, i.e. |u + 2| <= 1.26: grid points
    # u = -3.2 .. -0.8. The loss stops improving midway (in log-LR) between the minimum (u = -2) and the top of the
    # floor (u = -0.8): the edge is at u = -1.4. LRS has 10 steps per decade, so the divisor is
    # 16 * sqrt(12.375 / 10) = 17.80 and the suggestion 10**-1.4 / 17.80 = 0.00224. The interval runs from the
    # minimum / 17.80 = 5.6e-4 to the top of the floor / 17.80 = 0.0089 (both wider than 1.6x around it).
    factor = 16 * math.sqrt(12.375 / 10)
    s = default(LRS, PARABOLA)
    assert close(s.details["factor"], factor) and close(s.details["steps_per_decade"], 10.0)
    assert close(s.lr, 10**-1.4 / factor)
    assert close(s.details["edge_lr"], 10**-1.4)
    assert close(s.interval[0], 1e-2 / factor) and close(s.interval[1], 10**-0.8 / factor)
    assert close(s.details["floor_low"], 10**-3.2) and close(s.details["floor_high"], 10**-0.8)
    assert close(s.details["minimum_lr"], 1e-3)
    assert "1/17.8 of where the loss stops improving (lr=0.04: midway in log-LR between the loss minimum at lr=0.01 " \
           "and the top of the loss floor at lr=0.16" in s.evidence
    assert "the divisor is 16 for 12.4 LR steps per decade, here 10)" in s.evidence
    assert s.caveats == ()
    # log10(lr) = -1.4 - log10(17.80) = -2.650: the nearest grid point is u = -2.7 (0.0496 away; -2.6 is 0.0504),
    # 0.7 decades below the minimum; from there ((u + 2)^2 = 0.49) to the minimum the loss falls 0.49 / 0.7
    assert "0.7 decades below the loss minimum (1) at lr=0.01; from here to it the loss falls 0.7 per decade" in s.evidence


def test_parabola_default_after_a_test_that_learned_nothing():
    # The same parabola as above, read as a retry after a test whose loss stayed flat: the divisor is 17.80 / 1.5 =
    # 11.87, so the suggestion is 10**-1.4 / 11.87 = 0.00336 and the interval runs from 1e-2 / 11.87 to
    # 10**-0.8 / 11.87; the edge, the floor and the minimum rule are those of the plain reading.
    factor = 16 * math.sqrt(12.375 / 10) / 1.5
    s = default(LRS, PARABOLA, after_no_fall=True)
    assert close(s.details["factor"], factor) and s.details["after_no_fall_factor"] == 1.5
    assert close(s.lr, 10**-1.4 / factor) and close(s.details["edge_lr"], 10**-1.4)
    assert close(s.interval[0], 1e-2 / factor) and close(s.interval[1], 10**-0.8 / factor)
    assert "1/11.9 of where the loss stops improving" in s.evidence
    assert "here 10, and 1.5x smaller because the test before this one learned nothing" in s.evidence
    for bad in (1, "yes", None):
        with pytest.raises(TypeError, match="after_no_fall must be True or False, got after_no_fall="):
            default(LRS, PARABOLA, after_no_fall=bad)


def test_default_factor_by_hand():
    assert default_factor(99 / 8) == pytest.approx(16.0)  # the classic ramp: 100 steps over 8 decades
    assert default_factor(4 * 99 / 8) == pytest.approx(8.0)  # 4x the steps per decade: half the divisor
    assert default_factor(99 / 16) == pytest.approx(16 * math.sqrt(2))
    # outside the calibrated 6 to 50 steps per decade: the divisor of the nearest end
    assert default_factor(1000.0) == default_factor(50.0) == pytest.approx(16 * math.sqrt(12.375 / 50))
    assert default_factor(1.0) == default_factor(6.0) == pytest.approx(16 * math.sqrt(12.375 / 6))
    for bad in (0.0, -1.0, NAN, INF, "10", True):
        with pytest.raises(ValueError, match="steps_per_decade must be a finite number > 0"):
            default_factor(bad)


def test_slower_ramp_smaller_divisor():
    # The same parabola (minimum at 1e-2) sampled by 100 and by 400 steps over 8 decades: the edge hardly moves, the
    # divisor goes from 16 to 16 * sqrt(12.375 / 49.875) = 7.97, so the suggestion about doubles.
    def curve(n):
        lrs = np.logspace(-7, 1, n)
        return lrs, 1.0 + (np.log10(lrs) + 2.0) ** 2 / 4

    fast, slow = default(*curve(100)), default(*curve(400))
    assert close(fast.details["factor"], 16.0, rel=1e-6)
    assert close(slow.details["factor"], 16 * math.sqrt(12.375 / 49.875), rel=1e-6)
    assert fast.details["edge_lr"] == pytest.approx(slow.details["edge_lr"], rel=0.05)
    assert slow.lr / fast.lr == pytest.approx(2.0, rel=0.06)


def test_linear_ramp_steps_per_decade_are_read_at_the_edge():
    # A linear ramp from 1e-3 to 1 in 200 steps (step 0.00502): near lr = x there are about x * ln(10) / 0.00502
    # steps per decade (e.g. 46 at 0.1, 230 at 0.5), and the divisor uses the count at the edge. A parabola in log-LR
    # with its minimum at 0.1: the edge lies above it, where a linear ramp is slower than the calibrated range.
    lrs = np.linspace(1e-3, 1.0, 200)
    s = default(lrs, 1.0 + (np.log10(lrs) + 1.0) ** 2)
    expected = s.details["edge_lr"] * math.log(10) / ((1.0 - 1e-3) / 199)
    assert s.details["steps_per_decade"] == pytest.approx(expected, rel=0.03)
    assert s.details["steps_per_decade"] > 50 and close(s.details["factor"], default_factor(50.0))
    assert any("calibrated for 6 to 50" in c for c in s.caveats)


def test_ramp_outside_the_calibrated_range_is_a_caveat():
    lrs = np.logspace(-7, 1, 20)  # 2.4 steps per decade
    s = default(lrs, 1.0 + (np.log10(lrs) + 2.0) ** 2 / 4)
    assert s.lr is not None and close(s.details["factor"], default_factor(6.0))
    assert any("2.38 steps per decade" in c and "calibrated for 6 to 50" in c for c in s.caveats)


def test_parabola_steepest_is_at_the_start():
    # Before the minimum the slope 2 (u + 2) is most negative at u = -6 (-8 per decade; np.gradient's one-sided
    # difference gives -7.9 there, -7.8 at the next point). Half as steep: u <= -4, so the interval is 1e-6..1e-4.
    s = steepest(LRS, PARABOLA)
    assert s.index == 0 and close(s.lr, 1e-6)
    assert close(s.interval[0], 1e-6) and close(s.interval[1], 1e-4)


def test_parabola_valley_is_the_middle_of_the_descent():
    # The loss falls all the way from 1e-6 to the minimum at 1e-2: the middle in log-LR is 1e-4.
    s = valley(LRS, PARABOLA)
    assert close(s.lr, 1e-4)
    assert close(s.interval[0], 10 ** (-4 - 4 / 6)) and close(s.interval[1], 10 ** (-4 + 4 / 6))


def test_parabola_cyclic_bounds():
    # max = 1e-2 / 3. The loss falls from 17 (at 1e-6) to 1: 10% of that drop is reached (loss <= 15.4) first at
    # u = -5.7 (14.69; -5.8 gives 15.44). That onset, 10 ** -5.7, is below max / 25, so min = max / 25.
    b = cyclic_bounds(LRS, PARABOLA)
    assert close(b.max_lr, 1e-2 / 3) and close(b.min_lr, 1e-2 / 75)
    assert "max_lr = LR at the loss minimum / 3" in b.rule


# -- a step: flat at 2, drops to 0.5 at 1e-3, flat until 1e-1, then rises ------------------------------------------
STEP = np.where(np.arange(61) < 30, 2.0, 0.5) + np.where(np.arange(61) > 50, (np.arange(61) - 50) * 0.5, 0.0)


def test_step_unsmoothed_by_hand():
    s = minimum(LRS, STEP, smoother="none")
    # first minimum at index 30 (1e-3): suggestion 1e-4; the bottom is flat from 1e-3 to 1e-1 -> interval /10
    assert close(s.lr, 1e-4)
    assert close(s.interval[0], 1e-4) and close(s.interval[1], 1e-2)
    st_ = steepest(LRS, STEP, smoother="none")
    # central differences: -7.5 per decade at indices 29 and 30 (a tie: the first wins)
    assert st_.index == 29 and st_.details["slope_per_decade"] == pytest.approx(-7.5)


def test_step_smoothed_stays_on_the_flat_bottom():
    s = minimum(LRS, STEP)
    assert 1e-3 <= s.details["lr_at_min"] <= 1e-1
    assert 1e-4 <= s.lr <= 1e-2


# -- monotone decrease: the loss is still falling at end_lr ---------------------------------------------------------
MONO = 2.0 - ((U + 6.0) / 6.0) ** 2  # falls faster and faster up to lr = 1


def test_monotone_decrease_says_raise_end_lr():
    for fn in (minimum, default):
        s = fn(LRS, MONO)
        assert s.lr is None and "raise end_lr" in s.reason
    s = steepest(LRS, MONO)
    assert close(s.lr, 1.0)  # steepest at the end of the range
    assert any("raise end_lr" in c for c in s.caveats)
    assert not cyclic_bounds(LRS, MONO).ok


def test_blow_up_in_the_last_step_is_not_still_falling():
    # MONO, but the last loss (at lr=1) jumps to 20, ten times the starting level: the run diverged there (the engine
    # stops at such a jump). Clipped to the starting level 2 and smoothed (window 5), the minimum lies within the
    # last 5 points (lr = 10**-0.4 .. 1): so the default is 1/17.8 (10 steps per decade) of an edge there, not
    # "raise end_lr".
    curve = MONO.copy()
    curve[-1] = 20.0
    s = default(LRS, curve)
    assert s.lr is not None and 10**-0.4 / default_factor(10) <= s.lr <= 1 / default_factor(10)
    assert not any("raise end_lr" in c for c in s.caveats)


# -- flat and rising curves, too-short ranges -----------------------------------------------------------------------
@pytest.mark.parametrize("name", ["default", "steepest", "valley", "minimum"])
def test_flat_curve_has_no_suggestion(name):
    noisy = 2.0 + np.random.default_rng(0).normal(0, 0.05, LRS.size)
    for curve in (np.full(LRS.size, 2.0), noisy):
        s = suggest(LRS, curve, method=name)
        assert s.lr is None and s.method == name
        assert "stayed flat" in s.reason and "raise end_lr" in s.reason


@pytest.mark.parametrize("name", ["default", "steepest", "valley", "minimum"])
def test_flat_noisy_curve_that_blows_up_at_the_end_has_no_suggestion(name):
    # Flat at 1.1 +- 0.02 (no learning) for 80 steps, then an explosive rise (the run diverged). Smoothed as it is,
    # the polynomial fit overshoots downwards just before the rise and fakes a fall of the loss; the fall must be
    # judged on the clipped curve, where there is none.
    rng = np.random.default_rng(3)
    lrs = np.logspace(-7, 1, 86)
    curve = np.concatenate([1.1 + rng.normal(0, 0.02, 80), [1.3, 2.0, 5.0, 40.0, 900.0, 3e4]])
    s = suggest(lrs, curve, method=name)
    assert s.lr is None and "stayed flat" in s.reason and "then rose" in s.reason


def test_declined_suggestion_names_the_range_to_retry_in_its_details():
    # The flat-then-rose curve above. The default's smoothed loss first rises clearly at index 84,
    # lr = 10 ** (-7 + 84 * 8 / 85) = 8.05: the advice is start_lr = 8.05 / 1e4 and end_lr = 8.05 * 10, printed and
    # stored with two significant digits. The slope-based suggesters smooth more and see the rise a little earlier.
    # The curve had 85 / 8 = 10.6 steps per decade; the retry gets 3x that over its 5 decades: ceil(159.4) = 160.
    rng = np.random.default_rng(3)
    lrs = np.logspace(-7, 1, 86)
    curve = np.concatenate([1.1 + rng.normal(0, 0.02, 80), [1.3, 2.0, 5.0, 40.0, 900.0, 3e4]])
    s = default(lrs, curve)
    assert s.details == {"retry_start_lr": 0.00081, "retry_end_lr": 81.0, "retry_num_iter": 160.0}
    assert "more steps per decade of LR, on a narrower range (e.g. start_lr=0.00081, end_lr=81, num_iter=160)" in s.reason
    # a ramp of 400 steps over 8 decades (49.9 per decade): the retry is capped at 50 per decade, 250 steps
    slow = np.logspace(-7, 1, 400)
    flat = np.concatenate([1.1 + rng.normal(0, 0.02, 394), [1.3, 2.0, 5.0, 40.0, 900.0, 3e4]])
    assert default(slow, flat).details["retry_num_iter"] == 250.0
    for name in SUGGESTERS:
        s = suggest(lrs, curve, method=name)
        start, end = s.details["retry_start_lr"], s.details["retry_end_lr"]
        assert f"start_lr={start:.2g}, end_lr={end:.2g}" in s.reason and end / start == pytest.approx(1e5, rel=0.1)
    rising = default(LRS, 1.0 + (U + 6.0))  # "lower start_lr (e.g. to 1e-09)"
    assert rising.details == {"retry_start_lr": 1e-9} and "to 1e-09" in rising.reason
    assert default(LRS, MONO).details == {}  # "raise end_lr": no range named


def test_noisy_fall_that_blows_up_at_the_end_is_a_fall():
    # The same flat start, a real fall to 0.5 (25 standard deviations) and the same blow-up: a suggestion.
    rng = np.random.default_rng(3)
    lrs = np.logspace(-7, 1, 86)
    fall = np.concatenate([np.full(60, 1.1), np.linspace(1.1, 0.5, 12), np.full(8, 0.5)])
    curve = np.concatenate([fall + rng.normal(0, 0.02, 80), [1.3, 2.0, 5.0, 40.0, 900.0, 3e4]])
    s = default(lrs, curve)
    factor = default_factor(85 / 8)
    assert s.lr is not None and lrs[60] / factor < s.lr < lrs[79] / factor


def test_fall_z_by_hand():
    # first 5 losses: median 2.1; the 5 around index 8: median 1.1; fall 1.0. Successive differences: ten of 0.2 and
    # one of 0.8, median 0.2, so sigma = 1.4826 * 0.2 / sqrt(2) = 0.20967; the standard error of the difference of
    # two medians of 5 is sigma * sqrt(pi / 2 * (1/5 + 1/5)) = 0.16620; z = 1.0 / 0.16620 = 6.017.
    losses = np.array([2.1, 1.9, 2.1, 1.9, 2.1, 1.9, 1.1, 0.9, 1.1, 0.9, 1.1, 0.9])
    assert _fall_z(losses, 5, 8, 5) == pytest.approx(6.017, abs=1e-3)
    assert _fall_z(np.full(12, 1.0), 5, 8, 5) == 0.0  # noise-free and no fall
    assert _fall_z(np.linspace(1.0, 2.0, 12), 5, 8, 5) < 0  # it rose


def test_rising_curve_says_lower_start_lr():
    s = default(LRS, 1.0 + (U + 6.0))
    assert s.lr is None and "lower start_lr" in s.reason and "rose" in s.reason


def test_narrow_range_says_widen():
    lrs = np.logspace(-3, -2.5, 30)
    s = default(lrs, np.linspace(2.0, 1.0, 30))
    assert s.lr is None and "widen" in s.reason and "0.5 decade" in s.reason


def test_minimum_too_close_to_start_lr():
    lrs = np.logspace(-2.5, 0, 26)
    s = minimum(lrs, 1.0 + (np.log10(lrs) + 2.0) ** 2)  # minimum at 1e-2: /10 is below start_lr
    assert s.lr is None and "lower start_lr" in s.reason


# -- NaN tails, holes, divergence at once ---------------------------------------------------------------------------
def test_nan_tail():
    curve = PARABOLA.copy()
    curve[51:] = NAN  # diverged just above 1e-1
    s = minimum(LRS, curve)
    assert close(s.lr, 1e-3) and not s.caveats


def test_loss_falling_until_it_blows_up():
    curve = 2.0 - (np.arange(61) / 60.0)
    curve[45:] = INF  # the descent ends in a blow-up: the last finite point is the minimum, which is real
    s = minimum(LRS, curve, smoother="none")
    assert close(s.lr, LRS[44] / 10)


def test_isolated_nan_inside_is_bridged():
    curve = PARABOLA.copy()
    curve[35] = NAN
    s = minimum(LRS, curve)
    assert close(s.lr, 1e-3, rel=0.05)
    assert any("bridged" in c for c in s.caveats)


def test_diverged_at_once():
    curve = np.full(61, NAN)
    curve[:3] = [2.0, 2.5, 9.0]
    s = default(LRS, curve)
    assert s.lr is None and "non-finite at step 3" in s.reason and "lower start_lr" in s.reason
    assert "no finite loss" in default(LRS, np.full(61, NAN)).reason


# -- a 5-point curve (too short to smooth: taken as it is) ----------------------------------------------------------
FIVE_LRS = np.array([1e-4, 1e-3, 1e-2, 1e-1, 1.0])
FIVE = np.array([2.0, 1.2, 0.5, 0.9, 5.0])


def test_five_point_curve_by_hand():
    assert close(minimum(FIVE_LRS, FIVE).lr, 1e-3)  # minimum at 1e-2
    # gradients per decade before the minimum: -0.8 (one-sided), -0.75, -0.15 -> steepest at 1e-4
    assert close(steepest(FIVE_LRS, FIVE).lr, 1e-4)
    assert close(valley(FIVE_LRS, FIVE).lr, 1e-3)  # descent 1e-4..1e-2, middle 1e-3
    assert "only 4 loss value(s)" in default(FIVE_LRS[:4], FIVE[:4]).reason


# -- registry and records -------------------------------------------------------------------------------------------
def test_registry_and_shared_signature():
    assert {"default", "steepest", "valley", "minimum"} <= set(SUGGESTERS)
    for name, fn in SUGGESTERS.items():
        s = fn(LRS, PARABOLA)
        assert isinstance(s, Suggestion) and s.method == name


def test_register_refuses_silent_replacement():
    with pytest.raises(ValueError, match="already registered"):
        register_suggester("minimum", lambda lrs, losses: None)
    with pytest.raises(ValueError, match="unknown suggester 'nope'"):
        get_suggester("nope")
    with pytest.raises(TypeError, match="must be callable"):
        register_suggester("x", 3)


def test_suggestion_and_bounds_round_trip():
    for s in (minimum(LRS, PARABOLA), steepest(LRS, MONO), default(LRS, MONO)):
        assert Suggestion.from_dict(s.to_dict()) == s
    b = cyclic_bounds(LRS, PARABOLA)
    assert CyclicBounds.from_dict(b.to_dict()) == b


def test_bad_input_raises_with_the_argument_named():
    with pytest.raises(ValueError, match="same length, got 3 and 2"):
        suggest([1e-3, 1e-2, 1e-1], [1.0, 2.0])
    with pytest.raises(ValueError, match="strictly increasing"):
        suggest([1e-1, 1e-2, 1e-3, 1e-4, 1e-5], [1.0] * 5)
    with pytest.raises(ValueError, match="factor must be"):
        minimum(LRS, PARABOLA, factor=0.5)


# -- property: any curve gives an LR inside the tested range, or a reason -------------------------------------------
values = st.one_of(
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False),
    st.sampled_from([NAN, INF, -INF]),
)


@st.composite
def curves(draw):
    n = draw(st.integers(0, 150))
    lo = draw(st.floats(-9, 1))
    hi = lo + draw(st.floats(0.01, 10))
    kind = draw(st.sampled_from(["random", "dip", "dip+nan"]))
    lrs = np.logspace(lo, hi, n)
    if kind == "random":
        losses = np.array(draw(st.lists(values, min_size=n, max_size=n)), dtype=float)
    else:
        u = np.log10(lrs) if n else lrs
        c = draw(st.floats(lo, hi))
        noise = np.array(draw(st.lists(st.floats(-0.3, 0.3), min_size=n, max_size=n)), dtype=float)
        losses = 1.0 + (u - c) ** 2 + noise
        if kind == "dip+nan" and n:
            cut = draw(st.integers(0, n))
            losses[cut:] = NAN
            holes = draw(st.lists(st.integers(0, n - 1), max_size=3))
            losses[holes] = INF
    return lrs, losses


@settings(deadline=None)
@given(curves())
def test_any_curve_gives_an_lr_in_range_or_a_reason(curve):
    lrs, losses = curve
    retried = ("default, after_no_fall", default(lrs, losses, after_no_fall=True))
    for name, s in [*((name, fn(lrs, losses)) for name, fn in SUGGESTERS.items()), retried]:
        if s.lr is None:
            assert s.reason, name
        else:
            assert lrs[0] <= s.lr <= lrs[-1], name
            assert s.interval[0] <= s.lr <= s.interval[1], name
            assert lrs[0] <= s.interval[0] and s.interval[1] <= lrs[-1], name
            assert math.isfinite(s.loss) and s.evidence
    b = cyclic_bounds(lrs, losses)
    if b.ok:
        assert lrs[0] / 25 <= b.min_lr < b.max_lr <= lrs[-1]
    else:
        assert b.reason
