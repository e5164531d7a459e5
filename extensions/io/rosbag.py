"""PointCloud2 messages from ROS1 (``.bag``) and ROS2 (folder) bags, read with
the ``rosbags`` package: no ROS install needed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from extensions.io.fields import structured_to_points
from mmlab_core.errors import DataFormatError

POINTCLOUD2 = "sensor_msgs/msg/PointCloud2"
# sensor_msgs/PointField datatypes
_DATATYPES = {1: "i1", 2: "u1", 3: "i2", 4: "u2", 5: "i4", 6: "u4", 7: "f4", 8: "f8"}


def pointcloud2_to_points(msg, dims: int = 4, source: str | Path = "<PointCloud2>") -> np.ndarray:
    """Decode a ``sensor_msgs/PointCloud2`` into (N, dims) float32 points."""
    order = ">" if msg.is_bigendian else "<"
    names, formats, offsets = [], [], []
    for field in msg.fields:
        if field.datatype not in _DATATYPES:
            raise DataFormatError(source, f"field {field.name!r} has unknown datatype {field.datatype}")
        shape = (field.count,) if field.count > 1 else ()
        names.append(field.name)
        formats.append((order + _DATATYPES[field.datatype], shape) if shape else order + _DATATYPES[field.datatype])
        offsets.append(field.offset)
    try:
        dtype = np.dtype(dict(names=names, formats=formats, offsets=offsets, itemsize=msg.point_step))
    except (ValueError, TypeError) as exc:
        raise DataFormatError(source, f"inconsistent PointCloud2 fields: {exc}") from None
    data = np.asarray(msg.data, dtype=np.uint8).tobytes()
    if len(data) < msg.row_step * msg.height or msg.row_step < msg.point_step * msg.width:
        raise DataFormatError(source, "PointCloud2 data is shorter than height x row_step")
    rows = [np.frombuffer(data, dtype=dtype, count=msg.width, offset=row * msg.row_step) for row in range(msg.height)]
    table = np.concatenate(rows) if rows else np.zeros(0, dtype=dtype)
    return structured_to_points(table, names, dims, source)


def read_bag(path: str | Path, topic: str | None = None, dims: int = 4) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(timestamp_ns, points)`` for each PointCloud2 message."""
    from rosbags.typesys import Stores, get_typestore

    path = Path(path)
    if not path.exists():
        raise DataFormatError(path, "bag not found")
    ros1 = path.is_file()
    if ros1:
        from rosbags.rosbag1 import Reader

        typestore = get_typestore(Stores.ROS1_NOETIC)
    else:
        from rosbags.rosbag2 import Reader

        typestore = get_typestore(Stores.ROS2_HUMBLE)
    try:
        reader = Reader(path)
        reader.open()
    except Exception as exc:  # rosbags raises its own error types per format
        raise DataFormatError(path, f"not a readable ROS{'1' if ros1 else '2'} bag: {exc}") from None
    try:
        clouds = [c for c in reader.connections if c.msgtype == POINTCLOUD2 and (topic is None or c.topic == topic)]
        if not clouds:
            topics = ", ".join(f"{c.topic} ({c.msgtype})" for c in reader.connections) or "none"
            raise DataFormatError(path, f"no PointCloud2 topic{f' {topic}' if topic else ''}; topics: {topics}")
        for connection, timestamp, raw in reader.messages(connections=clouds):
            msg = typestore.deserialize_ros1(raw, POINTCLOUD2) if ros1 else typestore.deserialize_cdr(raw, POINTCLOUD2)
            yield timestamp, pointcloud2_to_points(msg, dims, f"{path}:{connection.topic}@{timestamp}")
    finally:
        reader.close()
