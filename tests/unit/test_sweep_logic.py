"""The sweep's bookkeeping on toy train functions whose answers are known, with stand-in diagnoses."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lrfinder.diagnose.records import CurveHistory, Finding, Report
from lrfinder.records import RangeTestResult, Suggestion
from lrfinder.sweep import SweepResult, as_history, lr_sweep, plot_sweep


def healthy(history: CurveHistory) -> Report:
    return Report(findings=(Finding("healthy", 0.9, "info", "fine", ""),), num_points=len(history))


def toy(best_log10: float = -2.0, blowup: float | None = None):
    """Final val loss 0.1 + (log10 lr - best)^2, approached as 1/epoch; NaN from ``blowup`` up."""

    def train_fn(lr: float, epochs: int) -> dict:
        if blowup is not None and lr >= blowup:
            nans = [math.nan] * (epochs - 1)
            return {"train_loss": [1.0] + nans, "val_loss": [1.0] + nans, "lr": [lr] * epochs}
        final = 0.1 + (math.log10(lr) - best_log10) ** 2
        vals = [final + 1.0 / (e + 1) for e in range(epochs)]
        return {"train_loss": [v * 0.9 for v in vals], "val_loss": vals, "lr": [lr] * epochs}

    return train_fn


def flag_above(threshold: float, code: str = "lr_too_high", confidence: float = 0.8):
    """A diagnosis that flags every run trained at an LR above ``threshold``."""

    def diagnose(history: CurveHistory) -> Report:
        if history.lr[0] > threshold:
            return Report(findings=(Finding(code, confidence, "error", "loss high and bouncing", "lower the LR"),))
        return healthy(history)

    return diagnose


def test_coarse_grid_is_log_spaced_around_the_centre_and_fine_grid_brackets_the_best():
    r = lr_sweep(toy(-2.0), around=0.01, decades=1.0, coarse_points=5, fine_points=3, coarse_epochs=2,
                 fine_epochs=4, diagnose_fn=healthy)
    np.testing.assert_allclose([x.lr for x in r.coarse], [1e-3, 10**-2.5, 1e-2, 10**-1.5, 1e-1], rtol=1e-12)
    # coarse step half a decade: the fine grid spans one coarse step (half a decade) either side of the best run
    np.testing.assert_allclose([x.lr for x in r.fine], [10**-2.5, 1e-2, 10**-1.5], rtol=1e-12)
    assert all(x.epochs == 2 for x in r.coarse) and all(x.epochs == 4 for x in r.fine)
    assert r.chosen_lr == pytest.approx(1e-2) and r.chosen.stage == "fine"
    assert r.metric == "val_loss" and r.mode == "min" and r.score == "final"
    assert "lr=0.01: final val_loss 0.35 after 4 epochs, the best of 3 fine runs" in r.evidence
    assert "runner-up" in r.evidence and r.center == 0.01


def test_runs_flagged_by_the_diagnosis_or_non_finite_are_pruned_with_the_reason():
    r = lr_sweep(toy(-2.0, blowup=5.0), lrs=[1e-3, 1e-2, 1e-1, 1.0, 10.0], fine_points=0,
                 diagnose_fn=flag_above(0.05))
    reasons = {round(math.log10(x.lr)): x.pruned for x in r.runs}
    assert reasons[-3] is None and reasons[-2] is None
    assert reasons[-1].startswith("lr_too_high (0.80): loss high and bouncing")
    assert reasons[1] == "non-finite: train_loss ends in NaN"
    assert r.chosen_lr == pytest.approx(1e-2)
    assert "3 pruned (from lr=0.1: lr_too_high" in r.evidence


def flag_lrs(*flagged: float):
    def diagnose(history: CurveHistory) -> Report:
        if any(math.isclose(history.lr[0], v) for v in flagged):
            return Report(findings=(Finding("lr_too_high", 0.9, "error", "jittery", "lower the LR"),))
        return healthy(history)

    return diagnose


def test_lr_too_high_below_an_unflagged_lr_is_not_pruned():
    # 1e-3 is flagged (noise at a tiny LR, say) but 1e-2 is not: only the block above 1e-2 is pruned
    r = lr_sweep(toy(), lrs=[1e-3, 1e-2, 1e-1, 1.0], fine_points=0, diagnose_fn=flag_lrs(1e-3, 1e-1, 1.0))
    assert [x.kept for x in r.runs] == [True, True, False, False]
    assert r.runs[0].codes == ("lr_too_high",)
    assert any("run(s) at lr=0.001 were diagnosed lr_too_high but a higher LR (0.01) was not" in n for n in r.notes)


def test_lr_too_high_everywhere_prunes_nothing_and_says_why():
    r = lr_sweep(toy(), lrs=[1e-3, 1e-2, 1e-1], fine_points=0, diagnose_fn=flag_lrs(1e-3, 1e-2, 1e-1))
    assert all(x.kept for x in r.runs) and r.chosen_lr == pytest.approx(1e-2)
    assert any(n.startswith("every coarse run was diagnosed lr_too_high, down to lr=0.001") for n in r.notes)


def test_low_confidence_findings_do_not_prune():
    r = lr_sweep(toy(), lrs=[1e-2, 1.0], fine_points=0, diagnose_fn=flag_above(0.05, confidence=0.3))
    assert all(x.kept for x in r.runs)
    assert r.runs[1].codes == ("lr_too_high",)


def test_everything_pruned_gives_no_lr_and_says_why():
    r = lr_sweep(toy(blowup=1e-9), around=0.1, coarse_points=3, diagnose_fn=healthy)
    assert r.chosen_lr is None and r.chosen is None
    assert r.evidence.startswith("no LR chosen: all 3 runs were pruned")
    assert len(r.fine) == 0


def test_best_at_the_edge_of_the_grid_is_noted():
    r = lr_sweep(toy(-2.0), lrs=[1e-5, 1e-4, 1e-3], fine_points=3, diagnose_fn=healthy)
    assert any("highest LR of the grid" in n for n in r.notes)


def test_near_ties_are_reported():
    flat = lambda lr, epochs: {"val_loss": [1.0 + 3e-3 * abs(math.log10(lr) + 2)] * epochs}  # noqa: E731
    r = lr_sweep(flat, lrs=[1e-4, 1e-3, 1e-2, 1e-1, 1.0, 100.0], fine_points=0, diagnose_fn=healthy)
    assert r.chosen_lr == pytest.approx(1e-2)
    assert "5 coarse runs are within 1% of the best, from lr=0.0001 to 1: on one seed each" in " ".join(r.notes)


def test_insufficient_data_and_the_chosen_runs_problems_are_noted():
    def diagnose(history):
        if len(history) < 3:
            return Report(findings=(Finding("insufficient_data", 1.0, "info", "too short", ""),))
        return Report(findings=(Finding("still_improving", 0.7, "info", "val loss still falling", "train longer"),))

    r = lr_sweep(toy(), around=0.01, coarse_points=3, coarse_epochs=2, fine_points=1, fine_epochs=5,
                 diagnose_fn=diagnose)
    assert any("3 of 4 runs were too short for the diagnostics" in n for n in r.notes)
    assert any(n.startswith("the chosen run shows still_improving: val loss still falling -> train longer")
               for n in r.notes)


def test_metric_auto_mode_and_score():
    def accuracy(lr, epochs):
        acc = 0.9 - 0.1 * abs(math.log10(lr) + 1)
        return {"train_loss": [1.0] * epochs, "val_acc": [acc * (e + 1) / epochs for e in range(epochs)]}

    r = lr_sweep(accuracy, lrs=[1e-3, 1e-1, 10.0], metric="val_acc", fine_points=0, diagnose_fn=healthy)
    assert r.mode == "max" and r.chosen_lr == pytest.approx(0.1)
    train_only = lr_sweep(lambda lr, e: {"train_loss": [lr] * e}, lrs=[1.0, 2.0], fine_points=0,
                          diagnose_fn=healthy)
    assert train_only.metric == "train_loss" and train_only.chosen_lr == 1.0
    # score="best" compares the best value: a run that dips then rises wins on best, loses on final
    dip = lambda lr, e: {"val_loss": [1.0, 0.1, 2.0] if lr > 1 else [1.0, 0.5, 0.5]}  # noqa: E731
    assert lr_sweep(dip, lrs=[1.0, 2.0], fine_points=0, diagnose_fn=healthy).chosen_lr == 1.0
    assert lr_sweep(dip, lrs=[1.0, 2.0], fine_points=0, diagnose_fn=healthy, score="best").chosen_lr == 2.0


def test_sparse_validation_uses_the_last_logged_value():
    def sparse(lr, epochs):
        return {"train_loss": [1.0, 0.9, 0.8, 0.7], "val_loss": [math.nan, 0.95, math.nan, math.nan],
                "x_unit": "step"}

    r = lr_sweep(sparse, lrs=[0.1], fine_points=0, diagnose_fn=healthy)
    assert r.runs[0].kept and r.runs[0].final == 0.95


def test_around_a_range_test_uses_its_suggestion(monkeypatch):
    s = Suggestion("default", 0.02, 5, 1.0, None, "test")
    monkeypatch.setattr(RangeTestResult, "suggest", lambda self, method="default": s)
    result = RangeTestResult(lrs=[1e-3, 1e-2, 1e-1], losses=[2.0, 1.0, 3.0])
    r = lr_sweep(toy(), around=result, coarse_points=3, decades=1.0, fine_points=0, diagnose_fn=healthy)
    np.testing.assert_allclose([x.lr for x in r.runs], [0.002, 0.02, 0.2], rtol=1e-12)
    none = Suggestion("default", None, None, None, None, "", reason="the loss never fell")
    monkeypatch.setattr(RangeTestResult, "suggest", lambda self, method="default": none)
    with pytest.raises(ValueError, match=r"around: the range test gave no suggestion \(the loss never fell\)"):
        lr_sweep(toy(), around=result, diagnose_fn=healthy)


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        ({}, ValueError, "exactly one of around="),
        ({"around": 0.1, "lrs": [0.1]}, ValueError, "exactly one of around="),
        ({"around": -1.0}, ValueError, r"around must be a RangeTestResult or an LR > 0, got around=-1.0"),
        ({"lrs": []}, ValueError, "lrs must be a non-empty list"),
        ({"around": 0.1, "coarse_points": 1}, ValueError, "coarse_points must be an integer >= 2"),
        ({"around": 0.1, "decades": 0}, ValueError, "decades must be a number in"),
        ({"lrs": [0.1], "metric": "accuracy"}, ValueError, "metric must be 'auto' or one of"),
        ({"lrs": [0.1], "mode": "lowest"}, ValueError, "mode must be None, 'min' or 'max'"),
        ({"lrs": [0.1], "score": "mean"}, ValueError, "score must be 'final' or 'best'"),
        ({"lrs": [0.1], "fine_epochs": 0}, ValueError, "fine_epochs must be an integer >= 1"),
    ],
)
def test_bad_arguments(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        lr_sweep(toy(), diagnose_fn=healthy, **kwargs)


def test_bad_histories():
    with pytest.raises(TypeError, match="train_fn must return a CurveHistory or a dict of lists, got float"):
        lr_sweep(lambda lr, e: 0.5, lrs=[0.1], diagnose_fn=healthy)
    assert as_history([2.0, 1.0]).train_loss.tolist() == [2.0, 1.0]  # a bare list is a loss series
    with pytest.raises(ValueError, match="no loss column found"):
        lr_sweep(lambda lr, e: {"score": [1.0]}, lrs=[0.1], diagnose_fn=healthy)
    with pytest.raises(ValueError, match="metric 'val_loss' is not in the history"):
        lr_sweep(lambda lr, e: {"train_loss": [1.0]}, lrs=[0.1], metric="val_loss", diagnose_fn=healthy)
    with pytest.raises(TypeError, match="train_fn must be callable"):
        lr_sweep(3, lrs=[0.1])
    keras = as_history({"loss": [1.0, 0.5], "val_accuracy": [0.4, 0.6], "x_unit": "step", "num_classes": 3})
    assert keras.train_loss.tolist() == [1.0, 0.5] and keras.val_acc.tolist() == [0.4, 0.6]
    assert keras.x_unit == "step" and keras.num_classes == 3
    rows = as_history([{"epoch": 1, "loss": 2.0}, {"epoch": 2, "loss": 1.0}], source="rows")
    assert rows.train_loss.tolist() == [2.0, 1.0] and rows.source == "rows"


def test_json_round_trip_table_and_progress(tmp_path):
    seen = []
    r = lr_sweep(toy(-2.0, blowup=1.0), around=0.01, decades=2.0, coarse_points=5, fine_points=3,
                 diagnose_fn=flag_above(0.05), on_run=lambda run: seen.append((run.stage, run.lr)))
    assert seen == [(x.stage, x.lr) for x in r.runs] and len(seen) == 8
    path = tmp_path / "sweep.json"
    r.to_json(path)
    back = SweepResult.from_json(path)
    assert back.table() == r.table() and back.summary() == r.summary()
    assert back.chosen_lr == r.chosen_lr and back.notes == r.notes
    for a, b in zip(r.runs, back.runs):
        np.testing.assert_array_equal(a.history.val_loss, b.history.val_loss)
        assert a.codes == b.codes and a.pruned == b.pruned
    assert "<- chosen" in r.table() and "PRUNED: non-finite" in r.table()
    data = r.to_dict()
    data["schema_version"] = 2
    with pytest.raises(ValueError, match="unsupported schema_version 2"):
        SweepResult.from_dict(data)


def test_plot_sweep_draws_metric_vs_lr_and_curves():
    r = lr_sweep(toy(-2.0, blowup=1.0), around=0.01, decades=2.0, coarse_points=5, fine_points=3,
                 diagnose_fn=healthy)
    ax_m, ax_c = plot_sweep(r)
    labels = [line.get_label() for line in ax_m.get_lines()]
    assert "coarse (3 epochs)" in labels and "fine (10 epochs)" in labels and "coarse: pruned" in labels
    assert any(lab.startswith("chosen lr=") for lab in labels)
    assert "off the chart (drawn at this line)" not in labels
    assert len(ax_c.get_lines()) == 3 and ax_m.get_xscale() == "log"
    coarse_only = plot_sweep(r, stage="coarse")[1]
    assert len(coarse_only.get_lines()) == 5
    # a blown-up run is drawn at the cap, so that it does not flatten the runs worth comparing
    huge = lr_sweep(lambda lr, e: {"val_loss": [1e9 if lr > 1 else 1.0 + lr]}, lrs=[0.1, 0.2, 0.3, 10.0],
                    fine_points=0, diagnose_fn=healthy)
    ax = plot_sweep(huge)[0]
    cap_line = [line for line in ax.get_lines() if line.get_label() == "off the chart (drawn at this line)"]
    assert len(cap_line) == 1 and cap_line[0].get_ydata()[0] == pytest.approx(110.0)  # 2 decades above the best
    assert max(max(line.get_ydata()) for line in ax.get_lines()[:1]) == pytest.approx(110.0)
    assert ax.get_yscale() == "log"
    import matplotlib.pyplot as plt

    plt.close("all")
