"""The default suggestion of a record of repeated range tests: the geometric mean of the tests' own suggestions
(worked out by hand on curves whose suggestions are known), and what happens when some or all of them decline."""

import json
import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lrfinder import RangeTestResult
from lrfinder.repeats import combined_suggestion
from lrfinder.suggesters import SEED_SPREAD, default

LRS = np.logspace(-7, 1, 100)  # the classic ramp: the default's divisor is 16 here


def dip(centre: float) -> np.ndarray:
    """A loss that falls, bottoms out at lr=centre and rises (a parabola in log-LR)."""
    return 1.0 + (np.log10(LRS) - math.log10(centre)) ** 2 / 4


def flat_then_rise() -> np.ndarray:
    """A model that learns nothing: flat until lr=0.9, then rising."""
    return np.where(LRS < 0.9, 1.0, 1.0 + 3 * np.log10(LRS / 0.9))


def record(rows, **kw) -> RangeTestResult:
    rows = np.asarray(rows, dtype=float)
    return RangeTestResult(lrs=LRS, losses=rows.mean(axis=0), repeat_losses=rows, **kw)


def test_the_geometric_mean_of_three_suggestions_by_hand():
    rows = [dip(1e-4), dip(1e-3), dip(1e-2)]
    singles = [default(LRS, r).lr for r in rows]
    # each is 1/16 of its edge; the three curves are the same shape shifted by a decade each, so their suggestions
    # are evenly spaced in log-LR (1.7e-05, 2.5e-04, 3.7e-03) and the mean of the logs is the middle one
    assert singles[1] / singles[0] == pytest.approx(singles[2] / singles[1], rel=0.02)
    s = record(rows).suggestion
    assert s.lr == pytest.approx((singles[0] * singles[1] * singles[2]) ** (1 / 3))
    assert s.lr == pytest.approx(singles[1], rel=0.02)
    assert s.interval == pytest.approx((min(singles), max(singles)))  # wider than 1.6x: the tests' own spread
    assert [s.details[f"repeat_{i}_lr"] for i in (1, 2, 3)] == pytest.approx(singles)
    assert s.details["repeats"] == 3 and s.details["repeats_with_lr"] == 3
    assert s.details["repeat_spread"] == pytest.approx(max(singles) / min(singles))
    assert "geometric mean of the default suggestions of 3 of 3 range tests" in s.evidence
    assert s.index == int(np.argmin(np.abs(np.log(LRS / s.lr))))


def test_agreeing_tests_keep_the_one_test_interval_width():
    s = record([dip(1e-2), dip(1e-2)]).suggestion
    assert s.lr == pytest.approx(default(LRS, dip(1e-2)).lr)
    assert s.interval == pytest.approx((s.lr / SEED_SPREAD, s.lr * SEED_SPREAD))


def test_a_test_that_declines_is_left_out_and_said():
    rows = [dip(1e-3), flat_then_rise(), dip(1e-1)]
    s = record(rows).suggestion
    a, b = default(LRS, rows[0]).lr, default(LRS, rows[2]).lr
    assert s.lr == pytest.approx(math.sqrt(a * b))
    assert s.details["repeats_with_lr"] == 2 and "repeat_2_lr" not in s.details
    assert any("1 of 3 range tests gave no LR (test 2: the loss stayed flat" in c for c in s.caveats)
    assert f"({a:.2g}, none, {b:.2g}; spread {b / a:.2f}x)" in s.evidence


def test_when_every_test_declines_the_averaged_curve_speaks_for_them():
    s = record([flat_then_rise(), flat_then_rise() * 1.01]).suggestion
    assert s.lr is None
    assert "none of the 2 range tests alone gave an LR" in s.reason
    # its advice (the range to retry on) is kept for find_lr(..., retries=n)
    assert s.details["retry_start_lr"] > 0 and s.details["retry_end_lr"] > s.details["retry_start_lr"]


def test_when_only_the_average_shows_a_fall_it_gives_the_lr():
    rng = np.random.default_rng(0)
    shallow = 1.0 - 0.06 * np.exp(-((np.log10(LRS) + 2) ** 2) / 0.5)  # a 6% dip around lr=1e-2, then flat
    rows = [shallow + rng.normal(0, 0.08, LRS.size) for _ in range(12)]
    singles = [default(LRS, r) for r in rows]
    assert sum(r.lr is not None for r in singles) == 0  # too noisy alone...
    s = record(rows).suggestion
    assert s.lr is not None  # ...but not on average
    assert ("none of the 12 range tests alone gave an LR; this is the suggestion of their step-wise average"
            in s.evidence)


def test_after_no_fall_reaches_every_test():
    rows = [dip(1e-3), dip(1e-1)]
    plain, marked = record(rows).suggestion, record(rows, config={"after_no_fall": True}).suggestion
    assert marked.lr == pytest.approx(1.5 * plain.lr)
    assert combined_suggestion(record(rows), after_no_fall=True).lr == pytest.approx(marked.lr)


def test_with_val_losses_the_averaged_curve_is_read():
    rows = np.array([dip(1e-3), dip(1e-1)])
    val = dip(3e-2)
    r = RangeTestResult(lrs=LRS, losses=rows.mean(axis=0), val_losses=val, repeat_losses=rows)
    assert r.suggestion.lr == pytest.approx(default(LRS, val).lr)


def test_other_methods_read_the_averaged_curve():
    rows = np.array([dip(1e-3), dip(1e-1)])
    assert record(rows).suggest("minimum").lr == pytest.approx(
        RangeTestResult(lrs=LRS, losses=rows.mean(axis=0)).suggest("minimum").lr)


def test_json_round_trip_keeps_the_suggestion():
    r = record([dip(1e-3), dip(1e-2), flat_then_rise()])
    back = RangeTestResult.from_json_str(r.to_json_str())
    assert back.suggestion == r.suggestion


def test_a_test_that_stopped_early_counts_up_to_its_stop():
    stopped = dip(1e-2).copy()
    stopped[70:] = np.nan  # the test diverged at step 70 (lr ~ 0.03); the record pads it with NaN
    rows = [dip(1e-2), stopped]
    s = record(rows).suggestion
    alone = default(LRS[:70], stopped[:70]).lr
    assert s.details["repeat_2_lr"] == pytest.approx(default(LRS, stopped).lr)
    assert s.details["repeat_2_lr"] == pytest.approx(alone, rel=0.2)


# -- property: any k curves give an LR inside the tested range, or a reason ------------------------------------------
@st.composite
def repeated_curves(draw):
    n = draw(st.integers(0, 120))
    lo = draw(st.floats(-9, 1))
    lrs = np.logspace(lo, lo + draw(st.floats(0.01, 10)), n)
    u = np.log10(lrs)
    rows = []
    for _ in range(draw(st.integers(2, 4))):
        kind = draw(st.sampled_from(["random", "dip", "dip+stop"]))
        if kind == "random":
            row = np.array(draw(st.lists(st.one_of(st.floats(-1e6, 1e6), st.sampled_from([np.nan, np.inf])),
                                         min_size=n, max_size=n)), dtype=float)
        else:
            noise = np.array(draw(st.lists(st.floats(-0.3, 0.3), min_size=n, max_size=n)), dtype=float)
            row = 1.0 + (u - draw(st.floats(u[0] if n else 0.0, u[-1] if n else 1.0))) ** 2 + noise
            if kind == "dip+stop" and n:
                row[draw(st.integers(0, n)):] = np.nan  # a test that stopped: NaN padding, as combine_repeats pads
        rows.append(row)
    return lrs, np.array(rows).reshape(len(rows), n)


@settings(deadline=None)
@given(repeated_curves())
def test_any_repeated_curves_give_an_lr_in_range_or_a_reason(curves):
    lrs, rows = curves
    with warnings.catch_warnings():  # a column with no finite loss: "mean of empty slice"
        warnings.simplefilter("ignore", RuntimeWarning)
        avg = np.nanmean(np.where(np.isfinite(rows), rows, np.nan), axis=0) if rows.size else rows.sum(axis=0)
    for after_no_fall in (False, True):
        r = RangeTestResult(lrs=lrs, losses=avg, repeat_losses=rows,
                            config={"after_no_fall": True} if after_no_fall else {})
        s = r.suggestion
        if s.lr is None:
            assert s.reason
        else:
            assert lrs[0] <= s.lr <= lrs[-1]
            assert lrs[0] <= s.interval[0] <= s.lr <= s.interval[1] <= lrs[-1]
            assert s.loss is None or math.isfinite(s.loss)
            assert s.evidence


def test_the_plot_shows_each_test_and_its_suggestion():
    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt

    rows = [dip(1e-4), dip(1e-3), flat_then_rise()]
    r = record(rows)
    ax = r.plot()
    lines = ax.get_lines()
    labels = [line.get_label() for line in lines]
    assert "each of the 3 tests (smoothed)" in labels and "each test's default suggestion" in labels
    ticks = sorted(float(line.get_xdata()[0]) for line in lines if line.get_color() == "tab:cyan"
                   and len(line.get_xdata()) == 2 and line.get_xdata()[0] == line.get_xdata()[1])
    assert ticks == pytest.approx(sorted([default(LRS, rows[0]).lr, default(LRS, rows[1]).lr]))
    assert f"default: lr={r.suggestion.lr:.2g}" in labels  # the mean, drawn as for one test
    plain = [line.get_label() for line in r.plot(show_repeats=False).get_lines()]
    assert "each of the 3 tests (smoothed)" not in plain
    plt.close("all")


def test_lrfinder_suggest_reads_a_saved_repeats_record(tmp_path, capsys):
    from lrfinder.cli import main

    r = record([dip(1e-4), dip(1e-3), dip(1e-2)])
    r.to_json(tmp_path / "r.json")
    assert main(["suggest", str(tmp_path / "r.json"), "--method", "default", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["default"]["lr"] == pytest.approx(r.suggestion.lr)
    assert out["default"]["details"]["repeats_with_lr"] == 3
