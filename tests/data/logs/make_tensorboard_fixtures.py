"""Regenerate the TensorBoard fixtures in this folder (needs tensorboardX + protobuf, not needed by the tests).

    PYTHONPATH=/path/with/tensorboardX python tests/data/logs/make_tensorboard_fixtures.py

* ``tb_torch/``: PyTorch-style ``SummaryWriter.add_scalar`` (``simple_value``), tags ``Loss/train``, ``Loss/val``,
  ``Accuracy/val``, ``lr``, 4 steps per epoch for train, one val point per epoch (steps 3, 7, 11, 15, 19, 23), and
  an ``epoch`` scalar at every logged step (as Lightning's TensorBoardLogger writes it), plus a histogram.
* ``tb_keras/``: TF2/Keras-style: ``train/`` and ``validation/`` sub-runs with ``epoch_loss``/``epoch_accuracy``
  (and ``epoch_learning_rate`` in train) as scalar tensors with the ``scalars`` plugin; train values in
  ``tensor_content``, validation values in ``float_val``; plus a 3-element tensor that must be skipped.
"""

import os
import shutil
import struct

HERE = os.path.dirname(os.path.abspath(__file__))

TRAIN = [2.0, 1.6, 1.2, 1.0, 0.9, 0.8]
VAL = [1.9, 1.5, 1.3, 1.2, 1.25, 1.3]
ACC = [0.30, 0.45, 0.55, 0.60, 0.61, 0.60]


def torch_style():
    from tensorboardX import SummaryWriter

    out = os.path.join(HERE, "tb_torch")
    shutil.rmtree(out, ignore_errors=True)
    w = SummaryWriter(out, filename_suffix=".fixture")
    for epoch in range(6):
        for i in range(4):
            step = epoch * 4 + i
            # per-step train loss: epoch mean is TRAIN[epoch] (offsets -0.3, -0.1, +0.1, +0.3)
            w.add_scalar("Loss/train", TRAIN[epoch] + (-0.3, -0.1, 0.1, 0.3)[i], step)
            w.add_scalar("epoch", epoch, step)
            w.add_scalar("lr", 0.1 if epoch < 3 else 0.01, step)
        w.add_scalar("Loss/val", VAL[epoch], epoch * 4 + 3)
        w.add_scalar("Accuracy/val", ACC[epoch], epoch * 4 + 3)
    import numpy as np

    w.add_histogram("weights", np.arange(10.0), 0)
    w.close()


def _scalar_tensor(tag, value, *, content, first):
    from tensorboardX.proto.summary_pb2 import Summary, SummaryMetadata
    from tensorboardX.proto.tensor_pb2 import TensorProto
    from tensorboardX.proto.tensor_shape_pb2 import TensorShapeProto

    if content:
        t = TensorProto(dtype=1, tensor_shape=TensorShapeProto(), tensor_content=struct.pack("<f", value))
    else:
        t = TensorProto(dtype=1, tensor_shape=TensorShapeProto(), float_val=[value])
    meta = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name="scalars")) if first else None
    v = Summary.Value(tag=tag, tensor=t)
    if meta is not None:
        v.metadata.CopyFrom(meta)
    return v


def keras_style():
    from tensorboardX import SummaryWriter
    from tensorboardX.proto.summary_pb2 import Summary, SummaryMetadata
    from tensorboardX.proto.tensor_pb2 import TensorProto
    from tensorboardX.proto.tensor_shape_pb2 import TensorShapeProto

    out = os.path.join(HERE, "tb_keras")
    shutil.rmtree(out, ignore_errors=True)
    for sub, content in (("train", True), ("validation", False)):
        w = SummaryWriter(os.path.join(out, sub), filename_suffix=".fixture")
        fw = w._get_file_writer()
        for epoch in range(6):
            vals = [("epoch_loss", (TRAIN if sub == "train" else VAL)[epoch]),
                    ("epoch_accuracy", ACC[epoch] + (0.05 if sub == "train" else 0.0))]
            if sub == "train":
                vals.append(("epoch_learning_rate", 0.001))
            summary = Summary(value=[_scalar_tensor(t, v, content=content, first=epoch == 0) for t, v in vals])
            if sub == "train" and epoch == 0:
                dims = TensorShapeProto(dim=[TensorShapeProto.Dim(size=3)])
                summary.value.append(Summary.Value(
                    tag="kernel/histogram", tensor=TensorProto(dtype=1, tensor_shape=dims, float_val=[1, 2, 3]),
                    metadata=SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name="histograms"))))
            fw.add_summary(summary, epoch)
        w.close()


if __name__ == "__main__":
    torch_style()
    keras_style()
