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


def bag_kind(path: Path) -> str:
    """``ros1`` for a ``.bag`` file, ``ros2-mcap`` or ``ros2-sqlite3`` for a ROS 2 bag folder."""
    if not path.exists():
        raise DataFormatError(path, "the bag does not exist; give a ROS 1 .bag or a ROS 2 bag folder")
    if path.is_file():
        return "ros1"
    if not (path / "metadata.yaml").exists():
        raise DataFormatError(path, "is not a ROS 2 bag folder (it has no metadata.yaml)")
    return "ros2-mcap" if any(path.glob("*.mcap")) else "ros2-sqlite3"


def typestore_for(kind: str):
    """rosbags' message types for a bag kind: ROS 1 Noetic's or ROS 2 Humble's."""
    from rosbags.typesys import Stores, get_typestore

    return get_typestore(Stores.ROS1_NOETIC if kind == "ros1" else Stores.ROS2_HUMBLE)


class Bag:
    """One ROS 1 or ROS 2 bag opened for reading: the one reader behind ``nox -s data -- bag``, ``infer`` and
    ``autolabel``, so they agree on what a bag holds and say the same when it cannot be read."""

    def __init__(self, path: str | Path, kind: str | None = None):
        self.path = Path(path)
        self.kind = kind or bag_kind(self.path)
        self.typestore = typestore_for(self.kind)
        if self.kind == "ros1":
            from rosbags.rosbag1 import Reader
        else:
            from rosbags.rosbag2 import Reader
        self.reader = Reader(self.path)
        try:
            self.reader.open()
        except Exception as exc:  # rosbags raises its own error type per format, and sqlite/mcap errors beneath
            raise DataFormatError(
                self.path, f"is not a readable {self.kind} bag ({exc}); is it truncated, or still being recorded?"
            ) from None

    def __enter__(self) -> Bag:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.reader.close()

    def clouds(self, topic: str | None = None) -> list:
        """The PointCloud2 connections to read (``topic``'s, or every cloud topic's)."""
        connections = self.reader.connections
        listed = "; the bag holds: " + (", ".join(f"{c.topic} ({c.msgtype})" for c in connections) or "nothing")
        clouds = [c for c in connections if c.msgtype == POINTCLOUD2]
        if not clouds:
            raise DataFormatError(self.path, f"has no sensor_msgs/PointCloud2 topic{listed}")
        if topic is not None:
            clouds = [c for c in clouds if c.topic == topic]
            if not clouds:
                raise DataFormatError(
                    self.path, f"has no PointCloud2 topic {topic}{listed}. Pass one of those with --topic."
                )
        return clouds

    def messages(self, connections: list) -> Iterator[tuple[object, int, bytes, object]]:
        """``(connection, timestamp_ns, raw bytes, decoded PointCloud2)`` in time order, one at a time."""
        deserialize = self.typestore.deserialize_ros1 if self.kind == "ros1" else self.typestore.deserialize_cdr
        messages = self.reader.messages(connections=connections)
        index = 0
        while True:
            try:
                connection, stamp, raw = next(messages)
                msg = deserialize(raw, POINTCLOUD2)
            except StopIteration:
                return
            except Exception as exc:  # a truncated chunk, a damaged database page or message
                raise DataFormatError(
                    self.path, f"cannot be read past message {index} ({exc}); the bag is truncated or damaged"
                ) from None
            yield connection, stamp, bytes(raw), msg
            index += 1


def read_bag(path: str | Path, topic: str | None = None, dims: int = 4) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(timestamp_ns, points)`` for each PointCloud2 message (of ``topic``, or of every cloud topic)."""
    with Bag(path) as bag:
        for connection, stamp, _, msg in bag.messages(bag.clouds(topic)):
            yield stamp, pointcloud2_to_points(msg, dims, f"{bag.path}:{connection.topic}@{stamp}")
