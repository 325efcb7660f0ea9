"""Property-based tests: any curve — any length, NaN/inf anywhere, constant, huge or tiny magnitudes — gets a valid
report (findings with codes, confidences in [0, 1], evidence) or an explicit abstention; never an exception."""

from __future__ import annotations

import json
import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from lrfinder.diagnose import CODES, CurveHistory, Report, diagnose

values = st.one_of(
    st.floats(min_value=1e-12, max_value=1e12, allow_nan=False, allow_infinity=False),
    st.floats(min_value=-10, max_value=10, allow_nan=False, allow_infinity=False),
    st.sampled_from([math.nan, math.inf, -math.inf, 0.0]),
)


@st.composite
def histories(draw):
    n = draw(st.integers(min_value=1, max_value=80))
    scale = draw(st.sampled_from([1e-6, 1e-3, 1.0, 2.3, 1e3, 1e9]))
    shape = draw(st.sampled_from(["random", "constant", "falling", "rising"]))

    def series():
        if shape == "random":
            return [draw(values) for _ in range(n)]
        base = {"constant": np.ones(n), "falling": np.geomspace(1, 0.01, n), "rising": np.geomspace(0.01, 1, n)}[shape]
        out = list(base * scale)
        for _ in range(draw(st.integers(0, 3))):  # sprinkle non-finite values anywhere
            out[draw(st.integers(0, n - 1))] = draw(st.sampled_from([math.nan, math.inf]))
        return out

    train = series()
    val = series() if draw(st.booleans()) else None
    lr = [draw(st.sampled_from([1e-3, 1e-4, 0.1, math.nan])) for _ in range(n)] if draw(st.booleans()) else None
    acc = [draw(st.floats(0, 1)) for _ in range(n)] if draw(st.booleans()) else None
    return CurveHistory(
        epochs=list(range(n)),
        train_loss=train,
        val_loss=val,
        val_acc=acc,
        lr=lr,
        x_unit=draw(st.sampled_from(["epoch", "step"])),
        num_classes=draw(st.sampled_from([None, 2, 10, 1000])),
        loss_kind=draw(st.sampled_from([None, "cross_entropy", "mse"])),
    )


@given(histories())
def test_any_curve_gets_a_valid_report_or_an_abstention(history):
    report = diagnose(history)
    assert report.findings, "a report always says something"
    codes = report.codes
    assert all(code in CODES for code in codes)
    assert len(set(codes)) == len(codes)
    if "healthy" in codes:
        assert codes == ("healthy",)
    for f in report.findings:
        assert 0.0 <= f.confidence <= 1.0
        assert f.evidence
        if f.span is not None:
            assert all(math.isfinite(x) for x in f.span)
    # and the report survives JSON (strict JSON: no NaN tokens in findings)
    text = json.dumps(report.to_dict(), allow_nan=False)
    assert Report.from_dict(json.loads(text)) == report


@given(st.lists(st.floats(min_value=0.01, max_value=10), min_size=5, max_size=60), st.sampled_from([1e-4, 1.0, 1e4]))
def test_verdict_does_not_depend_on_the_loss_scale(losses, scale):
    a = diagnose({"train_loss": losses})
    b = diagnose({"train_loss": [x * scale for x in losses]})
    assert a.codes == b.codes
