"""Diagnosis rules on hand-made histories whose answer is worked out by hand, and on the labelled dev-curves."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from lrfinder.diagnose import CurveHistory, diagnose, read_history

DEV = Path(__file__).resolve().parents[1] / "data" / "dev-curves"


def hist(train, val=None, lr=None, **kw):
    n = len(train)
    return CurveHistory(epochs=list(range(n)), train_loss=train, val_loss=val, lr=lr, **kw)


def geometric(start, end, n):
    return list(np.geomspace(start, end, n))


def test_healthy_curve_is_healthy_alone():
    # falls fast, then levels off; validation follows with a small gap
    train = [2.3, 1.0, 0.5, 0.3, 0.22, 0.2, 0.19, 0.185, 0.183, 0.182, 0.181, 0.181]
    val = [2.3, 1.05, 0.55, 0.35, 0.27, 0.25, 0.245, 0.243, 0.242, 0.242, 0.241, 0.241]
    report = diagnose(hist(train, val, num_classes=10))
    assert report.codes == ("healthy",)
    assert report.findings[0].severity == "info"


def test_overfitting_quotes_the_minimum_and_the_rise():
    # val min 0.5 at epoch 5, then +60% by epoch 19 (0.8), while train keeps falling: worked out by hand
    train = geometric(2.0, 0.01, 20)
    val = [2.0, 1.4, 1.0, 0.7, 0.55, 0.5, 0.52, 0.55, 0.58, 0.6, 0.63, 0.65, 0.68, 0.7, 0.72, 0.74, 0.76, 0.78, 0.79, 0.8]
    report = diagnose(hist(train, val))
    f = report.findings[0]
    assert f.code == "overfitting"
    assert "val_loss min 0.5 at epoch 5" in f.evidence and "+58%" in f.evidence
    assert f.span == (5.0, 19.0)
    assert f.numbers["val_min"] == 0.5


def test_one_bad_validation_epoch_is_not_overfitting():
    train = geometric(2.0, 0.2, 20)
    val = list(np.geomspace(2.0, 0.25, 20))
    val[12] = 0.9  # a single noisy epoch
    assert "overfitting" not in diagnose(hist(train, val)).codes


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_non_finite_tail_is_diverged(bad):
    train = [1.0, 0.8, 0.7, 0.9, 2.0, bad, bad, bad]
    report = diagnose(hist(train))
    f = report.findings[0]
    assert f.code == "diverged" and f.severity == "error"
    assert "from epoch 5 to the end" in f.evidence and "last finite value 2" in f.evidence
    assert "lr_too_high" in report.codes  # it rose from 0.7 to 2.0 before blowing up


def test_missing_validation_entries_are_not_a_divergence():
    train = geometric(1.0, 0.1, 12)
    val = [v if i % 2 == 0 else math.nan for i, v in enumerate(geometric(1.0, 0.12, 12))]
    val[-1] = math.nan
    assert "diverged" not in diagnose(hist(train, val)).codes


def test_explosion_without_nan_is_diverged():
    train = [1.0, 0.8, 0.6, 0.9, 3.0, 8.0, 12.0, 15.0, 14.0, 15.0]
    report = diagnose(hist(train))
    assert report.codes[:2] == ("diverged", "lr_too_high")
    assert "15x its first value" in report.findings[0].evidence


def test_start_far_above_chance_is_bad_init():
    # ln 10 = 2.303; a first loss of 9.2 is 4.0x that
    train = [9.2, 4.0, 2.0, 1.2, 0.8, 0.6, 0.5, 0.45, 0.43, 0.42]
    f = diagnose(hist(train, num_classes=10)).findings[0]
    assert f.code == "bad_init" and "4.0x the chance level 2.303" in f.evidence
    # without the class count the same curve cannot be judged against chance
    assert "bad_init" not in diagnose(hist(train)).codes


def test_flat_start_then_progress_is_bad_init():
    train = [0.70, 0.70, 0.699, 0.701, 0.70, 0.69, 0.55, 0.35, 0.2, 0.12, 0.08, 0.06, 0.05, 0.05, 0.05]
    f = diagnose(hist(train)).findings[0]
    assert f.code == "bad_init" and "until epoch" in f.evidence


def test_stuck_at_chance_is_bad_init():
    train = [0.6931, 0.6932, 0.6930, 0.6933, 0.6931, 0.6929, 0.6932, 0.6931, 0.6930, 0.6931]
    f = diagnose(hist(train)).findings[0]
    assert f.code == "bad_init" and "chance level 0.6931" in f.evidence and f.confidence >= 0.8


def test_spike_then_recovery_is_lr_too_high():
    train = [1.0, 6.0, 1.5, 0.9, 0.7, 0.6, 0.55, 0.5, 0.5, 0.49]
    f = diagnose(hist(train)).findings[0]
    assert f.code == "lr_too_high" and "6.0x its first value" in f.evidence


def test_oscillation_is_lr_too_high():
    rng = np.random.default_rng(0)
    train = list(np.r_[np.geomspace(2.0, 0.6, 8), 0.6 + 0.25 * rng.random(16)])
    assert "lr_too_high" in diagnose(hist(train)).codes


def test_stall_after_an_early_lr_cut_is_early_decay():
    # LR cut 100x after epoch 2; before: -0.5 per epoch, after: -0.002 per epoch
    train = [2.0, 1.5, 1.0] + [1.0 - 0.002 * i for i in range(1, 18)]
    lr = [0.1, 0.1, 0.1] + [0.001] * 17
    f = diagnose(hist(train, lr=lr)).findings[0]
    assert f.code == "early_decay" and "cut 100x at epoch 3" in f.evidence
    # the same loss without the LR trace cannot be blamed on a decay
    assert "early_decay" not in diagnose(hist(train)).codes


def test_plateau_without_lr_change():
    train = [1.0, 0.7, 0.5] + [0.5] * 10 + [0.3, 0.2, 0.15, 0.12, 0.11, 0.1, 0.1]
    lr = [0.01] * len(train)
    report = diagnose(hist(train, lr=lr))
    assert "plateau" in report.codes
    f = report.findings[report.codes.index("plateau")]
    assert "flat at about 0.5 from epoch 2" in f.evidence


def test_still_falling_at_the_end_is_still_improving():
    val = geometric(2.0, 0.5, 12)  # a constant 12% fall per epoch, cut off mid-descent
    f = diagnose(hist(geometric(2.0, 0.45, 12), val)).findings[0]
    assert f.code == "still_improving" and f.severity == "info"


def test_close_but_poor_is_underfitting():
    # ln 2 = 0.693; both end near 0.5 (72% of chance) and flat
    train = [0.69, 0.6, 0.55, 0.52, 0.51, 0.505, 0.503, 0.502, 0.502, 0.502, 0.502, 0.502]
    val = [0.69, 0.61, 0.56, 0.53, 0.52, 0.515, 0.513, 0.512, 0.512, 0.512, 0.512, 0.512]
    f = diagnose(hist(train, val, num_classes=2)).findings[0]
    assert f.code == "underfitting" and "of the chance level 0.6931" in f.evidence


def test_scale_free_mse_and_cross_entropy_read_alike():
    shape = np.array([1.0, 0.5, 0.3, 0.2, 0.15, 0.12, 0.11, 0.105, 0.1, 0.1, 0.1, 0.1])
    val = shape * 1.1
    a = diagnose(hist(list(shape * 2.3), list(val * 2.3)))
    b = diagnose(hist(list(shape * 1e-3), list(val * 1e-3)))
    assert a.codes == b.codes == ("healthy",)


def test_short_curve_abstains():
    report = diagnose(hist([1.0, 0.5, 0.4]))
    assert report.codes == ("insufficient_data",)


def test_accepts_a_mapping_and_rejects_bad_arguments():
    assert diagnose({"loss": [1.0, 0.5, 0.3, 0.2, 0.2, 0.2, 0.2]}).codes
    with pytest.raises(ValueError, match="num_classes must be None or an integer >= 2, got num_classes=1"):
        diagnose(hist([1.0] * 6), num_classes=1)
    with pytest.raises(TypeError, match="history must be"):
        diagnose(42)


def test_report_round_trips_through_json(tmp_path):
    report = diagnose(hist(geometric(2.0, 0.01, 20), [2.0, 1.4, 1.0, 0.7, 0.55] + [0.5 + 0.02 * i for i in range(15)]))
    path = tmp_path / "r.json"
    report.to_json(path)
    from lrfinder.diagnose import Report

    assert Report.from_json(path) == report


LABELS = ["healthy", "still_improving", "bad_init", "lr_too_high", "early_decay", "overfitting", "diverged",
          "underfitting", "plateau"]
BENCH_DATA = Path(__file__).resolve().parents[2] / "benchmarks" / "data"


def _labelled(folder: Path, pattern: str):
    hidden = ("labels", "induced", "relabel_note", "check", "split")
    for path in sorted(folder.glob(pattern)):
        data = json.loads(path.read_text())
        yield path.stem, set(data["labels"]), {k: v for k, v in data.items() if k not in hidden}


def _macro_f1(curves) -> tuple[float, int]:
    tp = dict.fromkeys(LABELS, 0)
    fp = dict.fromkeys(LABELS, 0)
    fn = dict.fromkeys(LABELS, 0)
    count = 0
    for _, truth, record in curves:
        pred = set(diagnose(read_history(record)).codes) - {"insufficient_data"}
        count += 1
        for label in LABELS:
            tp[label] += label in pred and label in truth
            fp[label] += label in pred and label not in truth
            fn[label] += label not in pred and label in truth
    present = [x for x in LABELS if tp[x] + fn[x]]
    f1 = [2 * tp[x] / (2 * tp[x] + fp[x] + fn[x]) if tp[x] else 0.0 for x in present]
    return sum(f1) / len(f1), count


def test_dev_curves_macro_f1():
    """Regression guard for the rules on the labelled development set (measured: macro-F1 0.96)."""
    macro, count = _macro_f1(_labelled(DEV, "d*.json"))
    assert count == 68
    assert macro >= 0.9


@pytest.mark.parametrize(("folder", "count", "floor"), [("independent", 108, 0.93), ("independent-2", 108, 0.88)])
def test_tuning_sets_macro_f1(folder, count, floor):
    """Regression guard on the generated sets the rules were tuned on (measured: 0.974 and 0.921). The third
    hold-out (independent-3) is deliberately not guarded here: it is scored only by the benchmark."""
    macro, n = _macro_f1(_labelled(BENCH_DATA / folder, "*.json"))
    assert n == count
    assert macro >= floor


def test_lrfinder_diagnose_is_callable_whatever_was_imported_first():
    import subprocess
    import sys

    code = (
        "import lrfinder, lrfinder.diagnose.readers\n"
        "from lrfinder import diagnose\n"
        "print(diagnose({'loss': [1.0, 0.5, 0.3, 0.2, 0.2, 0.2]}).codes)\n"
        "print(lrfinder.diagnose({'loss': [1.0, 0.5, 0.3, 0.2, 0.2, 0.2]}).codes)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == ["('healthy',)", "('healthy',)"]


# -- round 4 / 5 rules: answers worked out by hand ------------------------------------------------------------------


def test_spike_then_stuck_at_chance_is_lr_too_high_not_bad_init():
    # binary task, chance ln 2 = 0.6931: a 1.44x spike at epoch 1, then the loss sits at chance to the end
    train = [0.6931, 1.0] + [0.70, 0.695] * 9
    val = [0.6931, 0.71] + [0.694, 0.698] * 9
    report = diagnose(hist(train, val, num_classes=2))
    assert report.codes == ("lr_too_high",)
    assert "1.44x its first value" in report.findings[0].evidence
    assert "sat at the chance level 0.6931" in report.findings[0].evidence


def test_learning_then_climbing_back_to_chance_is_lr_too_high():
    # 3 classes, chance ln 3 = 1.0986: val gets down to 0.7, then climbs back to ~1.1 with the train loss
    val = [1.1, 0.8, 0.7, 0.72, 0.9, 1.0, 1.08] + [1.1] * 13
    train = [1.1, 0.85, 0.75, 0.74, 0.95, 1.02, 1.09] + [1.1] * 13
    report = diagnose(hist(train, val, num_classes=3))
    assert report.codes == ("lr_too_high",)
    f = report.findings[0]
    assert "got down to 0.7 at epoch 2" in f.evidence and "1.57x its best" in f.evidence  # 1.1 / 0.7
    assert "overfitting" not in report.codes  # the train loss rose too


def test_noisy_loss_that_never_moves_is_bad_init():
    # 0, +3%, -3% around the first value, repeated for 30 epochs: no trend, no spike
    train = [0.6931 * (1 + (0.0, 0.03, -0.03)[i % 3]) for i in range(30)]
    report = diagnose(hist(train, num_classes=2))
    assert report.codes == ("bad_init",) and "never moves" in report.findings[0].evidence


def test_slow_creep_is_not_a_noisy_never_moving_loss():
    # a steady 0.1% per epoch fall over 40 epochs: ends 4% lower, so it moved (not bad_init by "never moves")
    train = [1.0 * (1 - 0.001 * i) for i in range(41)]
    assert "never moves" not in " ".join(f.evidence for f in diagnose(hist(train)).findings)


def test_explosion_that_ends_at_chance_is_diverged():
    # 3 classes: the loss explodes to 30 (27x its first value) and ends at ~1.1, the chance level: nothing learned
    train = [1.1, 30.0, 5.0, 1.2, 1.15] + [1.1, 1.12] * 8
    report = diagnose(hist(train, num_classes=3))
    assert "diverged" in report.codes and "lr_too_high" in report.codes
    f = report.findings[report.codes.index("diverged")]
    assert "no better than the chance level 1.099" in f.evidence


def test_explosion_then_real_learning_is_not_diverged():
    # the same spike, but the loss then falls to 0.2, far below chance: it recovered
    train = [1.1, 30.0, 5.0, 1.0, 0.7] + list(np.geomspace(0.6, 0.2, 16))
    report = diagnose(hist(train, num_classes=3))
    assert "diverged" not in report.codes and "lr_too_high" in report.codes


def test_flat_stretch_shorter_than_ten_epochs_is_not_a_plateau():
    lr = [0.01] * 30
    short = [1.0, 0.7, 0.5] + [0.5] * 7 + list(np.geomspace(0.4, 0.1, 20))  # 7 flat epochs (+1 at the edge)
    long = [1.0, 0.7, 0.5] + [0.5] * 12 + list(np.geomspace(0.4, 0.1, 15))  # 12 flat epochs
    assert "plateau" not in diagnose(hist(short, lr=lr)).codes
    assert "plateau" in diagnose(hist(long, lr=lr)).codes


def test_short_run_still_falling_near_chance_is_still_improving_not_underfitting():
    # 10 epochs, binary: the loss falls steadily from 0.693 to 0.655 (94% of chance) and is lowest at the end
    val = list(np.linspace(0.6931, 0.655, 11))
    train = list(np.linspace(0.6931, 0.65, 11))
    report = diagnose(hist(train, val, num_classes=2))
    assert report.codes == ("still_improving",)
    assert "too early to call the high level underfitting" in report.findings[0].evidence
    # the same shape over 40 epochs (a 5% fall in all) is a stall: underfitting
    val40, train40 = list(np.linspace(0.6931, 0.655, 41)), list(np.linspace(0.6931, 0.65, 41))
    assert diagnose(hist(train40, val40, num_classes=2)).codes == ("underfitting",)


def test_slow_creep_over_a_long_run_is_not_still_improving():
    # fast fall, then 0.4% per epoch over the last 10 of 41 epochs: 4% in the last quarter, at under half the
    # run's average pace and under 1% per epoch: levelling off
    val = list(np.geomspace(2.0, 0.3, 11)) + list(0.3 * (1 - 0.004) ** np.arange(1, 31))
    f = diagnose(hist(val, val)).findings
    assert [x.code for x in f] == ["healthy"]


def test_immediate_nan_is_diverged_only():
    # non-finite right after the first epoch: no finite rise to show a too-high LR (dev-curves convention)
    train = [1.8] + [math.nan] * 20
    report = diagnose(hist(train, num_classes=6))
    assert set(report.codes) - {"insufficient_data"} == {"diverged"}


def test_cut_then_still_falling_briskly_is_not_early_decay():
    # LR cut 50x at epoch 3; the loss keeps falling 3% per epoch to the end (its average pace): no stall
    train = [2.0, 1.4, 1.0] + list(1.0 * 0.97 ** np.arange(1, 28))
    lr = [0.1, 0.1, 0.1] + [0.002] * 27
    report = diagnose(hist(train, lr=lr))
    assert "early_decay" not in report.codes and "still_improving" in report.codes
