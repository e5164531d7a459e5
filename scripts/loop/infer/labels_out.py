"""What ``infer`` writes for a segmentation model: per input cloud topic ``<topic>/labels``, the cloud with a
``labels`` field appended (uint32, the class index into the model's classes; same header, so the same frame_id
and stamp), in the bag format BagOut writes; per frame a ``detections.jsonl`` line with the points per class;
and the points coloured by class in ``recording.rrd``.

A recorded cloud keeps every field and byte it had; points the model never saw (non-finite coordinates, which
decoding drops) get the ignore label, the number of classes."""

from __future__ import annotations

import dataclasses

import numpy as np

from extensions.io.rosbag import POINTCLOUD2, is_ros1
from scripts.loop.infer.bag_out import FOLDER_TOPIC, BagOut, cloud_message
from scripts.loop.infer.messages import build
from scripts.loop.infer.records import Records

LABELS = "labels"
UINT32 = 6  # sensor_msgs/PointField datatype
_FLOATS = {7: "f4", 8: "f8"}  # the coordinate datatypes that can be non-finite


def with_labels(typestore, msg, labels: np.ndarray, ignore: int):
    """``msg`` (a PointCloud2) with a uint32 ``labels`` field appended after its last byte of each point, 4-byte
    aligned; ``labels`` holds one entry per finite point, in the cloud's order (the rest get ``ignore``)."""
    step, count = msg.point_step, msg.width * msg.height
    data = np.asarray(msg.data, dtype=np.uint8)
    rows = data[: msg.height * msg.row_step].reshape(msg.height, msg.row_step)[:, : msg.width * step]
    points = rows.reshape(count, step)
    finite = _finite(msg, points)
    if int(finite.sum()) != len(labels):
        raise ValueError(f"{len(labels)} labels for the cloud's {int(finite.sum())} finite points")
    full = np.full(count, ignore, dtype=">u4" if msg.is_bigendian else "<u4")
    full[finite] = labels
    offset = -(-step // 4) * 4
    table = np.zeros((count, offset + 4), dtype=np.uint8)
    table[:, :step] = points
    table[:, offset:] = full.view(np.uint8).reshape(count, 4)
    field = build(typestore, "sensor_msgs/msg/PointField", name=LABELS, offset=offset, datatype=UINT32, count=1)
    return dataclasses.replace(
        msg,
        fields=[*(f for f in msg.fields if f.name != LABELS), field],
        point_step=offset + 4,
        row_step=(offset + 4) * msg.width,
        data=table.reshape(-1),
    )


def _finite(msg, points: np.ndarray) -> np.ndarray:
    """Which points have finite x, y and z (those decoding keeps)."""
    order = ">" if msg.is_bigendian else "<"
    finite = np.ones(len(points), dtype=bool)
    for field in msg.fields:
        if field.name.lower() in ("x", "y", "z") and field.datatype in _FLOATS:
            kind = np.dtype(order + _FLOATS[field.datatype])
            values = np.ascontiguousarray(points[:, field.offset : field.offset + kind.itemsize]).view(kind)
            finite &= np.isfinite(values[:, 0])
    return finite


class LabelsBagOut(BagOut):
    """Open with ``with LabelsBagOut(path, kind, typestore, classes) as out: out.write(frame, labels)``."""

    def _topic(self, topic: str):
        if topic not in self.connections:
            self.connections[topic] = self.writer.add_connection(f"{topic}/{LABELS}", POINTCLOUD2, typestore=self.store)
        return self.connections[topic]

    def write(self, frame, labels: np.ndarray) -> None:
        """The frame's cloud (its recorded message, or one built from the points) with its labels."""
        connection = self._topic(frame.topic or FOLDER_TOPIC)
        if frame.raw is None:
            msg = cloud_message(self.store, self.header(frame), frame.points)
        elif is_ros1(self.kind):
            msg = self.store.deserialize_ros1(frame.raw, POINTCLOUD2)
        else:
            msg = self.store.deserialize_cdr(frame.raw, POINTCLOUD2)
        labelled = with_labels(self.store, msg, labels, len(self.classes))
        self.writer.write(connection, frame.stamp_ns, self._serialize(labelled, POINTCLOUD2))


class LabelRecords(Records):
    """``detections.jsonl`` (points per class) and ``recording.rrd`` (the points coloured by class, the class
    names in the recording's annotation context) for a segmentation model."""

    def __init__(self, jsonl, rrd, classes: list[str], palette: list):
        super().__init__(jsonl, rrd, classes)
        self.palette = np.asarray(palette, dtype=np.uint8)
        context = [(i, name, tuple(colour)) for i, (name, colour) in enumerate(zip(classes, palette, strict=True))]
        self.recording.log("lidar", self.rr.AnnotationContext(context), static=True)

    def write(self, index: int, frame, labels: np.ndarray, seconds: dict) -> None:
        counts = np.bincount(labels, minlength=len(self.classes))
        self.frame(index, frame, seconds, points={name: int(n) for name, n in zip(self.classes, counts, strict=True)})
        colours = self.palette[labels]
        self.recording.log("lidar/points", self.rr.Points3D(frame.points[:, :3], colors=colours, class_ids=labels))
