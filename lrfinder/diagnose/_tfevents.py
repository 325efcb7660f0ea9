"""Scalars from TensorBoard event files (``events.out.tfevents.*``), with no TensorFlow or TensorBoard installed.

An event file is a TFRecord stream (length, masked CRC32C of the length, an ``Event`` protobuf, masked CRC32C of
the data). Only the few protobuf fields that carry scalars are decoded: ``Event.step`` and
``Event.summary.value[*]`` with either ``simple_value`` (PyTorch's ``SummaryWriter``, tensorboardX) or a scalar
float ``tensor`` (TF2 / Keras ``tf.summary.scalar``). Images, histograms and other tensors are skipped.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator

__all__ = ["EVENT_FILE_MARK", "is_event_file", "read_scalars"]

EVENT_FILE_MARK = "tfevents"

_CRC_TABLE: list[int] = []


def _crc_table() -> list[int]:
    if not _CRC_TABLE:
        for i in range(256):
            c = i
            for _ in range(8):
                c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
            _CRC_TABLE.append(c)
    return _CRC_TABLE


def _masked_crc32c(data: bytes) -> int:
    table = _crc_table()
    crc = 0xFFFFFFFF
    for b in data:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    crc ^= 0xFFFFFFFF
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def is_event_file(name: str) -> bool:
    """Whether a file name looks like a TensorBoard event file.

    Examples:
      >>> is_event_file("events.out.tfevents.1700000000.host.1.0")
      True
      >>> is_event_file("metrics.csv")
      False
    """
    return EVENT_FILE_MARK in os.path.basename(name)


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise ValueError("truncated varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
        if shift > 70:
            raise ValueError("varint too long")


def _fields(buf: bytes) -> Iterator[tuple[int, int, object]]:
    """(field number, wire type, value) of a protobuf message; value is int, bytes or raw fixed-width bytes."""
    pos, end = 0, len(buf)
    while pos < end:
        key, pos = _varint(buf, pos)
        num, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire == 1:
            value, pos = buf[pos : pos + 8], pos + 8
        elif wire == 2:
            n, pos = _varint(buf, pos)
            value, pos = buf[pos : pos + n], pos + n
        elif wire == 5:
            value, pos = buf[pos : pos + 4], pos + 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        if pos > end:
            raise ValueError("truncated protobuf field")
        yield num, wire, value


_DT_FLOAT, _DT_DOUBLE, _DT_INT32, _DT_INT64, _DT_HALF = 1, 2, 3, 9, 19


def _tensor_scalar(buf: bytes) -> float | None:
    """The value of a scalar (or one-element) numeric TensorProto, else None."""
    dtype, content, dims = 0, None, 0
    vals: list[float] = []
    for num, wire, value in _fields(buf):
        if num == 1 and wire == 0:
            dtype = int(value)  # type: ignore[arg-type]
        elif num == 2 and wire == 2:
            for fnum, _, dim in _fields(value):  # type: ignore[arg-type]
                if fnum == 2:
                    for dn, _, size in _fields(dim):  # type: ignore[arg-type]
                        if dn == 1 and int(size) != 1:  # type: ignore[call-overload]
                            dims += 1
        elif num == 4 and wire == 2:
            content = value
        elif num == 5:  # float_val (packed or not)
            raw = value if wire == 2 else value
            vals += [v for (v,) in struct.iter_unpack("<f", raw)]  # type: ignore[arg-type]
        elif num == 6:  # double_val
            vals += [v for (v,) in struct.iter_unpack("<d", value)]  # type: ignore[arg-type]
        elif num in (7, 10) and wire == 0:  # int_val / int64_val (unpacked)
            vals.append(float(value))  # type: ignore[arg-type]
    if dims:
        return None
    if content is not None:
        fmt = {_DT_FLOAT: "<f", _DT_DOUBLE: "<d", _DT_INT32: "<i", _DT_INT64: "<q", _DT_HALF: "<e"}.get(dtype)
        if fmt is None or len(content) != struct.calcsize(fmt):  # type: ignore[arg-type]
            return None
        return float(struct.unpack(fmt, content)[0])  # type: ignore[arg-type]
    if dtype in (_DT_FLOAT, _DT_DOUBLE, _DT_INT32, _DT_INT64, _DT_HALF) and len(vals) == 1:
        return float(vals[0])
    return None


def _plugin_name(meta: bytes) -> str | None:
    for num, _, value in _fields(meta):
        if num == 1:  # plugin_data
            for pnum, _, pvalue in _fields(value):  # type: ignore[arg-type]
                if pnum == 1:
                    return pvalue.decode("utf-8", "replace")  # type: ignore[union-attr]
    return None


def _records(path: str, data: bytes) -> Iterator[tuple[int, bytes]]:
    """(offset, payload) of each TFRecord; a truncated last record (a run still writing) ends the stream."""
    pos, n = 0, len(data)
    while pos < n:
        if pos + 12 > n:
            return
        header = data[pos : pos + 8]
        (length,) = struct.unpack("<Q", header)
        (crc,) = struct.unpack("<I", data[pos + 8 : pos + 12])
        if crc != _masked_crc32c(header):
            raise ValueError(
                f"{path}: not a TensorBoard event file (bad record header at byte {pos}); "
                "expected a TFRecord stream written by a SummaryWriter"
            )
        start = pos + 12
        if start + length + 4 > n:
            return
        yield pos, data[start : start + length]
        pos = start + length + 4


def read_scalars(path: str | os.PathLike[str]) -> dict[str, dict[int, float]]:
    """``{tag: {step: value}}`` for every scalar in one event file (a later value at the same step wins).

    Raises ``ValueError`` naming the file and byte offset when it is not an event file.
    """
    path = os.fspath(path)
    with open(path, "rb") as f:
        data = f.read()
    out: dict[str, dict[int, float]] = {}
    plugins: dict[str, str | None] = {}
    for offset, payload in _records(path, data):
        try:
            step, summary = 0, None
            for num, wire, value in _fields(payload):
                if num == 2 and wire == 0:
                    step = int(value)  # type: ignore[arg-type]
                    if step >= 1 << 63:
                        step -= 1 << 64
                elif num == 5 and wire == 2:
                    summary = value
            if summary is None:
                continue
            for num, wire, value in _fields(summary):  # type: ignore[arg-type]
                if num != 1 or wire != 2:
                    continue
                tag, simple, tensor, meta = None, None, None, None
                for vnum, vwire, vvalue in _fields(value):  # type: ignore[arg-type]
                    if vnum == 1 and vwire == 2:
                        tag = vvalue.decode("utf-8", "replace")  # type: ignore[union-attr]
                    elif vnum == 2 and vwire == 5:
                        (simple,) = struct.unpack("<f", vvalue)  # type: ignore[arg-type]
                    elif vnum == 8 and vwire == 2:
                        tensor = vvalue
                    elif vnum == 9 and vwire == 2:
                        meta = vvalue
                if tag is None:
                    continue
                if meta is not None:
                    plugins[tag] = _plugin_name(meta)  # type: ignore[arg-type]
                if simple is not None:
                    out.setdefault(tag, {})[step] = float(simple)
                elif tensor is not None and plugins.get(tag) in (None, "scalars"):
                    v = _tensor_scalar(tensor)  # type: ignore[arg-type]
                    if v is not None:
                        out.setdefault(tag, {})[step] = v
        except (ValueError, struct.error, IndexError) as exc:
            raise ValueError(f"{path}: corrupt event record at byte {offset}: {exc}") from None
    return out
