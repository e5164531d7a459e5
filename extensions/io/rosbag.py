"""PointCloud2 (and TF) messages from ROS 1 bags (``.bag``), ROS 1 profile MCAP files, and ROS 2 bags (a
folder, or a bare ``.mcap``), read with the ``rosbags`` package (and ``mcap`` for the ROS 1 profile): no ROS
install needed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from extensions.io.fields import structured_to_points
from extensions.io.mcap_ros1 import MAGIC, Ros1McapReader, mcap_profile
from extensions.io.tf import TF_MSGTYPES, TF_TOPICS, TFMESSAGE_DEFINITION, TransformTree
from mmlab_core.errors import DataFormatError

POINTCLOUD2 = "sensor_msgs/msg/PointCloud2"
# sensor_msgs/PointField datatypes
_DATATYPES = {1: "i1", 2: "u1", 3: "i2", 4: "u2", 5: "i4", 6: "u4", 7: "f4", 8: "f8"}


def pointcloud2_to_points(
    msg, dims: int = 4, source: str | Path = "<PointCloud2>", fill_intensity: float | None = None
) -> np.ndarray:
    """Decode a ``sensor_msgs/PointCloud2`` into (N, dims) float32 points (a cloud without intensity gets
    ``fill_intensity``; None: refused)."""
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
    return structured_to_points(table, names, dims, source, fill_intensity)


ROSBAG_MAGIC = b"#ROSBAG V2.0"


def bag_kind(path: Path) -> str:
    """``ros1`` for a ROS 1 ``.bag``, ``ros1-mcap`` for a ROS 1 profile MCAP file, ``ros2-mcap`` for a ROS 2
    MCAP file or bag folder, ``ros2-sqlite3`` for a ROS 2 sqlite3 bag folder; files are told by their magic."""
    if not path.exists():
        raise DataFormatError(path, "the bag does not exist; give a ROS 1 .bag or .mcap file, or a ROS 2 bag folder")
    if path.is_file():
        with path.open("rb") as stream:
            head = stream.read(max(len(ROSBAG_MAGIC), len(MAGIC)))
        if head.startswith(MAGIC):
            profile = mcap_profile(path)
            if profile in ("ros1", "ros2"):
                return f"{profile}-mcap"
            raise DataFormatError(
                path,
                f"is an MCAP file of profile {profile!r}; infer reads the ros1 profile (ros1msg schemas, as "
                "`mcap convert` and Foxglove write them) and the ros2 profile (ros2 bag recordings). Convert it "
                "to one of those, or record the clouds with a ROS 1 or ROS 2 recorder.",
            )
        if not head.startswith(ROSBAG_MAGIC):
            raise DataFormatError(
                path,
                f"is not a readable ros1 bag or MCAP file: it starts with {head[:12]!r}, neither a ROS 1 bag's "
                f"{ROSBAG_MAGIC.decode()!r} nor MCAP's magic. Give a ROS 1 .bag, an .mcap file or a ROS 2 bag folder.",
            )
        return "ros1"
    if not (path / "metadata.yaml").exists():
        raise DataFormatError(path, "is not a ROS 2 bag folder (it has no metadata.yaml)")
    return "ros2-mcap" if any(path.glob("*.mcap")) else "ros2-sqlite3"


def is_ros1(kind: str) -> bool:
    """ROS 1 messages (``ros1``, ``ros1-mcap``) rather than ROS 2 (CDR)."""
    return kind.startswith("ros1")


def typestore_for(kind: str):
    """rosbags' message types for a bag kind: ROS 1 Noetic's (with tf2_msgs added) or ROS 2 Humble's."""
    from rosbags.typesys import Stores, get_types_from_msg, get_typestore

    if not is_ros1(kind):
        return get_typestore(Stores.ROS2_HUMBLE)
    store = get_typestore(Stores.ROS1_NOETIC)
    for msgtype in TF_MSGTYPES:
        store.register(get_types_from_msg(TFMESSAGE_DEFINITION, msgtype))
    return store


class Bag:
    """One ROS 1 or ROS 2 bag opened for reading: the one reader behind ``nox -s data -- bag``, ``infer`` and
    ``autolabel``, so they agree on what a bag holds and say the same when it cannot be read."""

    def __init__(self, path: str | Path, kind: str | None = None):
        self.path = Path(path)
        self.kind = kind or bag_kind(self.path)
        self.typestore = typestore_for(self.kind)
        if self.kind == "ros1":
            from rosbags.rosbag1 import Reader
        elif self.kind == "ros1-mcap":
            Reader = Ros1McapReader
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

    def clouds(self, topics: list[str] | str | None = None) -> list:
        """The PointCloud2 connections of ``topics`` (each must be one), or of every cloud topic."""
        connections = self.reader.connections
        listed = "; the bag holds: " + (", ".join(f"{c.topic} ({c.msgtype})" for c in connections) or "nothing")
        clouds = [c for c in connections if c.msgtype == POINTCLOUD2]
        if not clouds:
            raise DataFormatError(self.path, f"has no sensor_msgs/PointCloud2 topic{listed}")
        if topics is None:
            return clouds
        wanted = [topics] if isinstance(topics, str) else list(topics)
        for topic in wanted:
            if not any(c.topic == topic for c in clouds):
                raise DataFormatError(
                    self.path, f"has no PointCloud2 topic {topic}{listed}. Pass one of those with --topic."
                )
        return [c for c in clouds if c.topic in wanted]

    def deserialize(self, raw: bytes, msgtype: str):
        """One message of this bag's serialization (ROS 1 or CDR)."""
        if is_ros1(self.kind):
            return self.typestore.deserialize_ros1(raw, msgtype)
        return self.typestore.deserialize_cdr(raw, msgtype)

    def messages(self, connections: list) -> Iterator[tuple[object, int, bytes, object]]:
        """``(connection, timestamp_ns, raw bytes, decoded message)`` in time order, one at a time."""
        messages = self.reader.messages(connections=connections)
        index = 0
        while True:
            try:
                connection, stamp, raw = next(messages)
                msg = self.deserialize(raw, connection.msgtype)
            except StopIteration:
                return
            except Exception as exc:  # a truncated chunk, a damaged database page or message
                raise DataFormatError(
                    self.path, f"cannot be read past message {index} ({exc}); the bag is truncated or damaged"
                ) from None
            yield connection, stamp, bytes(raw), msg
            index += 1

    def first(self, connection) -> object:
        """The first decoded message of ``connection``."""
        return next(self.messages([connection]))[3]

    def transforms(self) -> TransformTree:
        """The bag's TF tree: every ``tf2_msgs/msg/TFMessage`` on /tf_static and /tf (read in one pass)."""
        tree = TransformTree(self.path)
        links = [c for c in self.reader.connections if c.topic in TF_TOPICS and c.msgtype in TF_MSGTYPES]
        if links:
            for connection, _, _, msg in self.messages(links):
                tree.add(msg, static=connection.topic == "/tf_static")
        return tree


def read_bag(
    path: str | Path, topics: list[str] | str | None = None, dims: int = 4, fill_intensity: float | None = None
) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(timestamp_ns, points)`` for each PointCloud2 message (of ``topics``, or of every cloud topic);
    a cloud without intensity gets ``fill_intensity`` (None: refused)."""
    with Bag(path) as bag:
        for connection, stamp, _, msg in bag.messages(bag.clouds(topics)):
            yield stamp, pointcloud2_to_points(msg, dims, f"{bag.path}:{connection.topic}@{stamp}", fill_intensity)
