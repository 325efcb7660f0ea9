"""Log readers: every format on small files written for these tests (tests/data/logs/), with the expected
values worked out by hand from the files, and bad files that must fail with a clear message."""

import json
import os
import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from lrfinder.diagnose import CurveHistory
from lrfinder.diagnose._columns import ROLES, match_columns, normalize
from lrfinder.diagnose.readers import FORMATS, NotALogError, find_logs, read_histories, read_history, read_log

LOGS = Path(__file__).parents[1] / "data" / "logs"
BAD = LOGS / "bad"
SHARED = Path(os.environ.get("LRFINDER_SHARED_DIR", Path(__file__).parents[2] / ".." / "shared"))


def close(a, b, tol=1e-9):
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    return a.shape == b.shape and bool(np.allclose(a, b, atol=tol, rtol=0, equal_nan=True))


# ------------------------------------------------------------------------------------------- real formats


def test_keras_csvlogger():
    h = read_history(LOGS / "keras_csvlogger.csv")
    assert h.x_unit == "epoch" and h.extra["format"] == "keras_csv" and h.extra["aggregation"] == "epoch"
    assert h.epochs.tolist() == list(range(8))
    assert h.train_loss[0] == 1.7352 and h.val_loss[3] == 0.9702 and h.val_acc[-1] == 0.654
    assert h.lr.tolist() == [0.001] * 4 + [0.0005] * 3 + [0.00025]
    assert h.extra["columns"]["train_acc"] == ["accuracy"]


def test_keras_history_json_keeps_nan_and_inf():
    h = read_history(LOGS / "keras_history.json")
    assert h.extra["format"] == "keras_history"
    assert h.epochs.tolist() == [1, 2, 3, 4, 5]  # no epoch key: numbered from 1, as Keras prints them
    assert h.train_loss[2] == 5.3127 and np.isnan(h.train_loss[3]) and np.isinf(h.val_loss[2])
    assert h.lr is None


def test_lightning_metrics_prefers_epoch_aggregates_and_means_the_lr():
    h = read_history(LOGS / "lightning_metrics.csv")
    assert h.extra["format"] == "lightning_csv" and h.extra["aggregation"] == "epoch_mean"
    assert h.epochs.tolist() == [0, 1, 2, 3, 4, 5]
    assert close(h.train_loss, [2.1, 1.6, 1.3, 1.1, 0.9, 0.7])  # train_loss_epoch, not the step values
    assert close(h.val_loss, [2.0, 1.6, 1.4, 1.3, 1.35, 1.45])
    assert close(h.train_acc, [0.28, 0.41, 0.52, 0.6, 0.66, 0.72])
    assert close(h.lr, [0.1, 0.1, 0.05, 0.05, 0.01, 0.01])  # logged on the first step row of each epoch


def test_lightning_step_values_are_averaged_per_epoch():
    h = read_history(LOGS / "lightning_metrics.csv", columns={"train_loss": "train_loss_step"})
    # epoch 0: steps 1 and 3 logged 2.25 and 2.05 -> 2.15; epoch 5: 0.75, 0.65 -> 0.70
    assert close(h.train_loss, [2.15, 1.65, 1.3, 1.1, 0.9, 0.7])


def test_lightning_one_epoch_with_val_check_interval_keeps_steps():
    h = read_history(LOGS / "lightning_val_interval.csv")
    # one epoch only: one point per validation (steps 2, 4, ..., 12), train loss averaged over the two steps
    # since the previous validation: steps 1, 2 -> (2.8 + 2.6) / 2 = 2.7
    assert h.x_unit == "step" and h.extra["aggregation"] == "eval_mean"
    assert h.epochs.tolist() == [2, 4, 6, 8, 10, 12]
    assert close(h.train_loss, [2.7, 2.3, 1.9, 1.5, 1.1, 0.7])
    assert close(h.val_loss, [2.7, 2.3, 1.9, 1.5, 1.1, 0.7])


def test_hf_trainer_state_averages_train_logs_between_evaluations():
    h = read_history(LOGS / "hf_trainer_state.json")
    assert h.extra["format"] == "hf_trainer_state" and h.extra["aggregation"] == "eval_mean"
    assert h.x_unit == "epoch" and h.epochs.tolist() == [0.5, 1.0, 1.5, 2.0, 2.5, 3.0]
    # train logs at steps 50 and 100 (loss 1.15, 1.10) belong to the evaluation at step 100
    assert close(h.train_loss, [1.125, 1.025, 0.925, 0.825, 0.725, 0.625])
    assert 0.875 not in h.train_loss  # the run summary's mean train_loss is not a point
    assert close(h.val_loss, [1.0667, 0.9833, 0.9, 0.8167, 0.7333, 0.65])
    assert close(h.val_acc, [0.55, 0.6, 0.65, 0.7, 0.75, 0.8])
    # learning_rate = 5e-5 * (1 - step/600): steps 50 and 100 -> mean 5e-5 * (1 - 75/600)
    assert close(h.lr[0], 5e-5 * (1 - 75 / 600), tol=1e-12)
    assert h.train_acc is None


def test_yolov5_results_sums_loss_components():
    h = read_history(LOGS / "yolov5_results.csv")
    assert h.extra["format"] == "yolo_csv" and h.metric_name == "mAP50"
    assert h.epochs.tolist() == [0, 1, 2, 3, 4, 5]
    assert close(h.train_loss[0], 0.1 + 0.05 + 0.02) and close(h.val_loss[0], 0.09 + 0.04 + 0.02)
    assert close(h.val_acc, [0.05, 0.25, 0.45, 0.55, 0.6, 0.63])
    assert close(h.lr[:2], [0.07, 0.04])  # x/lr0
    assert h.extra["columns"]["train_loss"] == ["train/box_loss", "train/obj_loss", "train/cls_loss"]


def test_yolov8_results():
    h = read_history(LOGS / "yolov8_results.csv")
    assert h.epochs.tolist() == [1, 2, 3, 4, 5, 6]
    assert close(h.train_loss[0], 1.5 + 2.5 + 1.3) and close(h.val_loss[-1], 1.37 + 1.75 + 1.26)
    assert h.metric_name == "mAP50" and close(h.val_acc[-1], 0.41) and close(h.lr[2], 0.0019)


def test_tensorboard_pytorch_style_run_dir():
    h = read_history(LOGS / "tb_torch")
    # 4 steps per epoch with offsets -0.3, -0.1, +0.1, +0.3 around the epoch value: the mean is the epoch value
    assert h.extra["format"] == "tensorboard" and h.x_unit == "epoch"
    assert h.epochs.tolist() == [0, 1, 2, 3, 4, 5]
    assert close(h.train_loss, [2.0, 1.6, 1.2, 1.0, 0.9, 0.8], tol=1e-6)
    assert close(h.val_loss, [1.9, 1.5, 1.3, 1.2, 1.25, 1.3], tol=1e-6)
    assert close(h.lr, [0.1, 0.1, 0.1, 0.01, 0.01, 0.01], tol=1e-8)
    assert h.train_acc is None and close(h.val_acc[0], 0.3, tol=1e-6)


def test_tensorboard_keras_style_train_and_validation_subruns():
    h = read_history(LOGS / "tb_keras")
    assert h.epochs.tolist() == [0, 1, 2, 3, 4, 5]
    assert close(h.train_loss, [2.0, 1.6, 1.2, 1.0, 0.9, 0.8], tol=1e-6)
    assert close(h.val_loss, [1.9, 1.5, 1.3, 1.2, 1.25, 1.3], tol=1e-6)
    assert close(h.train_acc[0], 0.35, tol=1e-6) and close(h.val_acc[0], 0.30, tol=1e-6)
    assert close(h.lr, [0.001] * 6, tol=1e-9)
    assert "kernel/histogram" not in str(h.extra["columns"])


def test_tensorboard_single_event_file_and_truncated_tail(tmp_path):
    (event,) = (LOGS / "tb_torch").glob("events.out.tfevents.*")
    assert close(read_history(event).train_loss, read_history(LOGS / "tb_torch").train_loss)
    data = event.read_bytes()
    cut = tmp_path / event.name
    cut.write_bytes(data[: len(data) // 2])  # a run still being written: the complete records are read
    h = read_history(cut)
    assert 1 <= len(h) <= 6


def test_plain_tsv_with_spaces_in_names_and_f1_metric():
    h = read_history(LOGS / "plain.tsv")
    assert h.epochs.tolist() == [1, 2, 3] and close(h.val_loss, [0.95, 0.8, 0.74])
    assert h.metric_name == "f1" and close(h.val_acc, [0.41, 0.55, 0.61])


def test_column_override_percent_metric_and_comment_line():
    path = LOGS / "plain_custom.csv"
    with pytest.raises(NotALogError, match=r"plain_custom\.csv: no loss column found among: 'iteration', 'my_loss'"):
        read_history(path)
    h = read_history(path, columns={"train_loss": "my_loss", "val_loss": "heldout", "val_acc": "acc_pct"})
    assert h.x_unit == "step" and h.epochs.tolist() == [100, 200, 300, 400]
    assert close(h.val_acc, [0.11, 0.325, 0.45, 0.515])  # percent -> fraction
    assert h.extra["percent_scaled"] == ["val_acc"]


def test_override_none_ignores_a_role_and_a_list_sums():
    h = read_history(LOGS / "keras_csvlogger.csv", columns={"lr": None, "val_acc": None})
    assert h.lr is None and h.val_acc is None
    h = read_history(LOGS / "keras_csvlogger.csv", columns={"train_loss": ["loss", "val_loss"]})
    assert close(h.train_loss[0], 1.7352 + 1.3071)


def test_records_devcurve_and_realcurve_styles():
    h = read_history(LOGS / "records.json")
    assert h.epochs.tolist() == [1, 2, 3] and close(h.val_acc, [0.6, 0.68, 0.7]) and h.train_acc is None
    d = read_history(LOGS / "devcurve_style.json")
    assert d.extra["format"] == "dev_curves" and d.num_classes == 3 and d.loss_kind == "cross_entropy"
    assert d.epochs.tolist() == [0, 1, 2, 3, 4] and d.extra["id"] == "x001"
    r = read_history(LOGS / "realcurve_style.json")
    assert close(r.train_loss, [0.62, np.nan, np.nan, np.nan])
    assert np.isnan(r.val_loss[2]) and np.isinf(r.val_loss[3]) and r.lr is None and r.train_acc is None


def test_explicit_num_classes_and_loss_kind_win():
    d = read_history(LOGS / "devcurve_style.json", num_classes=5, loss_kind="categorical_crossentropy")
    assert d.num_classes == 5 and d.loss_kind == "cross_entropy"
    with pytest.raises(ValueError, match=r"num_classes must be None or an integer >= 2, got num_classes=1"):
        read_history(LOGS / "records.json", num_classes=1)
    with pytest.raises(ValueError, match=r"loss_kind must be None or one of .*got loss_kind='huber'"):
        read_history(LOGS / "records.json", loss_kind="huber")


def test_several_runs_in_one_file():
    path = LOGS / "two_runs.json"
    with pytest.raises(ValueError, match=r"two_runs\.json: holds 2 runs .*use read_histories"):
        read_history(path)
    runs = read_histories(path)
    assert [r.source.rsplit("#", 1)[1] for r in runs] == ["run_a", "run_b"]
    assert close(runs[1].val_loss, [2.1, 3.0, 12.0])


def test_curve_history_json_round_trip(tmp_path):
    h = CurveHistory(epochs=[0, 1, 2], train_loss=[1.0, np.nan, np.inf], val_acc=[0.1, 0.2, 0.3], num_classes=4)
    path = tmp_path / "h.json"
    path.write_text(json.dumps(h.to_dict()))
    back = read_history(path)
    assert close(back.train_loss, h.train_loss) and close(back.val_acc, h.val_acc) and back.num_classes == 4
    assert read_history(path, num_classes=7).num_classes == 7


def test_python_objects():
    assert read_history({"loss": [1.0, 0.5]}).train_loss.tolist() == [1.0, 0.5]
    assert read_history([0.9, 0.7, "nan"]).train_loss[1] == 0.7
    assert read_history(np.array([3.0, 2.0, 1.0])).epochs.tolist() == [1, 2, 3]
    keras_like = SimpleNamespace(history={"loss": [1.0, 0.8], "val_loss": [1.1, 0.9]})
    assert read_history(keras_like).val_loss.tolist() == [1.1, 0.9]

    class FrameLike:  # the two things read_history uses of a pandas DataFrame
        columns = ["step", "loss"]

        def to_dict(self, orient):
            assert orient == "list"
            return {"step": [10, 20], "loss": [2.0, 1.5]}

    f = read_history(FrameLike())
    assert f.x_unit == "step" and f.epochs.tolist() == [10, 20]
    h = CurveHistory(epochs=[1, 2], val_loss=[1.0, 0.9])
    assert read_history(h) is h and read_history(h, num_classes=3).num_classes == 3
    with pytest.raises(TypeError, match="read_history expects a path, a dict, a list or a CurveHistory, got int"):
        read_history(42)


def test_torch_tensor_strings_and_utf_boms(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("epoch,loss\n0,\"tensor(0.5000, device='cuda:0')\"\n1,tensor(0.25)\n")
    assert read_history(p).train_loss.tolist() == [0.5, 0.25]
    u16 = tmp_path / "u16.csv"
    u16.write_bytes("epoch,loss,val_loss\n0,1.0,1.1\n1,0.5,0.6\n".encode("utf-16"))
    assert read_history(u16).val_loss.tolist() == [1.1, 0.6]
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbfepoch,loss\n0,1.0\n")
    assert read_history(bom).train_loss.tolist() == [1.0]


def test_semicolon_csv_with_decimal_commas(tmp_path):
    p = tmp_path / "excel.csv"
    p.write_text("Epoch;Loss;Val Loss\n1;0,9;1,0\n2;0,5;0,75\n")
    h = read_history(p)
    assert h.train_loss.tolist() == [0.9, 0.5] and h.val_loss.tolist() == [1.0, 0.75]


def test_resumed_log_keeps_the_later_rows(tmp_path):
    p = tmp_path / "resumed.csv"
    p.write_text("epoch,loss\n0,1.0\n1,0.9\n2,0.8\n3,0.7\n1,0.95\n2,0.85\n3,0.75\n4,0.65\n")
    h = read_history(p)
    assert h.epochs.tolist() == [0, 1, 2, 3, 4] and h.train_loss.tolist() == [1.0, 0.95, 0.85, 0.75, 0.65]
    assert "the log restarts at line 6 (epoch goes back from 3 to 1)" in h.extra["warnings"][0]


def test_truncated_last_line_is_dropped_with_a_warning():
    h = read_history(LOGS / "truncated_last_line.csv")
    assert h.epochs.tolist() == [0, 1]
    assert h.extra["warnings"] == ["line 4 is incomplete (2 of 3 fields) and was ignored"]


def test_format_argument():
    assert set(FORMATS) == {"auto", "csv", "json", "tensorboard"}
    with pytest.raises(ValueError, match=r"malformed JSON"):
        read_history(LOGS / "keras_csvlogger.csv", format="json")
    with pytest.raises(ValueError, match=r"format must be one of .*got format='xml'"):
        read_history(LOGS / "keras_csvlogger.csv", format="xml")
    assert len(read_history(LOGS / "records.json", format="json")) == 3


# ---------------------------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "name, message",
    [
        ("empty.csv", r"empty\.csv: the file is empty"),
        ("header_only.csv", r"header_only\.csv: no data rows after the header \(line 1\)"),
        ("truncated.json", r"truncated\.json: line 1, column 48: malformed JSON"),
        ("nonnumeric.csv", r"nonnumeric\.csv: line 3, column 'val_loss': expected a number .*got 'oops'"),
        ("renamed_columns.csv", r"renamed_columns\.csv: no loss column found among: 'epoch', 'objective'"),
        ("mismatched.json", r"mismatched\.json: series of different lengths \('loss' has 3, 'val_loss' has 2\)"),
        ("short_row.csv", r"short_row\.csv: line 3 has 2 fields but the header \(line 1\) has 3"),
        ("long_row.csv", r"long_row\.csv: line 3 has 4 fields but the header \(line 1\) has 3"),
        ("binary.csv", r"binary\.csv: not UTF-8 text: byte 0x89 at offset 0"),
        ("latin1.csv", r"latin1\.csv: not UTF-8 text: byte 0xe9 at offset 13 \(line 1\)"),
        ("no_header.csv", r"no_header\.csv: line 1 holds numbers, not column names"),
        ("not_a_log.json", r"not_a_log\.json: no training curve found"),
        ("bad_events.out.tfevents.123.host", r"not a TensorBoard event file \(bad record header at byte 0\)"),
    ],
)
def test_bad_files_fail_clearly(name, message):
    with pytest.raises(ValueError, match=message):
        read_history(BAD / name)


def test_missing_file_and_directory_without_events(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nope\.csv: no such file or directory"):
        read_history(tmp_path / "nope.csv")
    with pytest.raises(ValueError, match=r"a directory with no log files and no TensorBoard event files"):
        read_history(tmp_path)
    (tmp_path / "version_0").mkdir()
    shutil.copy(LOGS / "lightning_metrics.csv", tmp_path / "version_0" / "metrics.csv")
    (tmp_path / "version_0" / "hparams.yaml").write_text("lr: 0.1\n")
    assert len(read_history(tmp_path / "version_0")) == 6  # the folder's only log
    shutil.copy(LOGS / "records.json", tmp_path / "version_0" / "other.json")
    with pytest.raises(ValueError, match=r"a directory with 2 log files"):
        read_history(tmp_path / "version_0")


def test_unknown_override_column_lists_the_available_ones():
    with pytest.raises(ValueError, match=r"columns\['val_loss'\] names column 'vl', which is not in the log; "
                                         r"available columns: 'epoch', 'accuracy', 'learning_rate', 'loss'"):
        read_history(LOGS / "keras_csvlogger.csv", columns={"val_loss": "vl"})
    with pytest.raises(ValueError, match=r"columns has unknown role\(s\) \['valid'\]"):
        read_history(LOGS / "keras_csvlogger.csv", columns={"valid": "val_loss"})


def test_non_numeric_json_value_names_the_entry(tmp_path):
    p = tmp_path / "trainer_state.json"
    p.write_text(json.dumps({"log_history": [{"epoch": 1, "step": 5, "loss": 1.0}, {"epoch": 2, "step": 9, "loss": "x"}]}))
    with pytest.raises(ValueError, match=r"trainer_state\.json: log_history\[1\], column 'loss': expected a number"):
        read_history(p)


# ---------------------------------------------------------------------------------------- discovery, mapping


def test_find_logs_skips_non_logs_and_old_checkpoints(tmp_path):
    shutil.copy(LOGS / "keras_csvlogger.csv", tmp_path / "a.csv")
    for n in (500, 1000, 1500):
        (tmp_path / "out" / f"checkpoint-{n}").mkdir(parents=True)
        shutil.copy(LOGS / "hf_trainer_state.json", tmp_path / "out" / f"checkpoint-{n}" / "trainer_state.json")
        (tmp_path / "out" / f"checkpoint-{n}" / "config.json").write_text("{}")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "x.csv").write_text("epoch,loss\n0,1\n")
    shutil.copytree(LOGS / "tb_keras", tmp_path / "runs" / "fit1")
    found = [os.path.relpath(p, tmp_path) for p in find_logs(tmp_path)]
    assert found == ["a.csv", os.path.join("out", "checkpoint-1500", "trainer_state.json"), os.path.join("runs", "fit1")]
    assert len(read_histories(tmp_path)) == 3
    # the output folder's own trainer_state.json wins over every checkpoint's
    shutil.copy(LOGS / "hf_trainer_state.json", tmp_path / "out" / "trainer_state.json")
    assert os.path.join("out", "trainer_state.json") in [os.path.relpath(p, tmp_path) for p in find_logs(tmp_path)]
    assert not any("checkpoint" in p for p in find_logs(tmp_path))
    assert read_log(LOGS / "records.json")[0].epochs.tolist() == [1, 2, 3]


def test_column_mapping_by_name():
    assert normalize(" Train-Loss ") == "train_loss"
    m = match_columns(["step", "Loss/train", "Loss/val", "Accuracy/val", "lr-AdamW/pg2", "lr-AdamW/pg1"])
    assert dict(m.roles) == {
        "step": ("step",), "train_loss": ("Loss/train",), "val_loss": ("Loss/val",),
        "val_acc": ("Accuracy/val",), "lr": ("lr-AdamW/pg1",),
    }
    m = match_columns(["epoch", "loss", "eval_loss", "eval_f1", "test_acc_top5"])
    assert m.roles["val_loss"] == ("eval_loss",) and m.roles["val_acc"] == ("eval_f1",) and m.metric_name == "f1"
    assert match_columns(["valid_loss_step", "valid_loss_epoch"]).roles["val_loss"] == ("valid_loss_epoch",)
    assert set(ROLES) == {"epoch", "step", "train_loss", "val_loss", "train_acc", "val_acc", "lr"}


# ------------------------------------------------------------------------------------ third-party logs


@pytest.mark.skipif(not (SHARED / "real-curves").is_dir(), reason="../shared/real-curves not present")
def test_every_real_curve_is_read():
    files = sorted(p for p in (SHARED / "real-curves").glob("*.json") if p.name != "INDEX.json")
    assert files
    for p in files:
        h = read_history(p)
        assert len(h) >= 2 and (h.train_loss is not None or h.val_loss is not None), p.name


# ------------------------------------------------------------------------------------------ any input at all

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_TOKENS = st.sampled_from(
    ["epoch", "loss", "val_loss", "step", "train/box_loss", "log_history", ",", "\n", "\t", '"', "{", "}", "[", "]",
     ":", "nan", "inf", "1.5", "-2", "", " ", "null", "NaN", "Infinity", "tensor(", "#", "é", "true", "kind"]
)
_CELLS = st.one_of(st.none(), st.floats(allow_nan=True), st.integers(-5, 5), st.sampled_from(["nan", "x", "", "1e3"]),
                   st.booleans(), st.lists(st.integers(), max_size=2))


@given(text=st.lists(_TOKENS, max_size=40).map("".join), suffix=st.sampled_from([".csv", ".json", ".txt"]))
def test_any_text_is_read_or_rejected_with_a_value_error(tmp_path_factory, text, suffix):
    path = tmp_path_factory.mktemp("fuzz") / f"log{suffix}"
    path.write_text(text, encoding="utf-8")
    try:
        h = read_log(path)
    except ValueError as exc:
        assert str(path) in str(exc)
    else:
        assert all(len(x) >= 1 for x in h)


@given(obj=st.dictionaries(st.sampled_from(["epoch", "loss", "val_loss", "acc", "step", "lr", "x"]),
                           st.lists(_CELLS, max_size=5), max_size=5),
       wrap=st.sampled_from(["plain", "records", "hf"]))
def test_any_json_structure_is_read_or_rejected_with_a_value_error(obj, wrap):
    if wrap == "records":
        obj = [dict(zip(obj, vals)) for vals in zip(*obj.values())] if obj else []
    elif wrap == "hf":
        obj = {"log_history": [dict(zip(obj, vals)) for vals in zip(*obj.values())]}
    try:
        read_log(obj)
    except ValueError:
        pass


@given(data=st.binary(max_size=200))
def test_any_bytes_as_an_event_file_are_read_or_rejected(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("fuzz") / "events.out.tfevents.0.host"
    path.write_bytes(data)
    try:
        read_log(path)
    except ValueError as exc:
        assert str(path) in str(exc)
