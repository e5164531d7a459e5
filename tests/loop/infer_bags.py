"""Generated bags for the infer tests: PointCloud2 laid out like a Velodyne driver's (x y z, 4 bytes of
padding, intensity, ring), written with rosbags in ROS 1, ROS 2 sqlite3 or ROS 2 MCAP storage."""

from __future__ import annotations

from pathlib import Path

import numpy as np

POINTCLOUD2 = "sensor_msgs/msg/PointCloud2"
KINDS = ("ros1", "ros2-sqlite3", "ros2-mcap")


def store_for(kind: str):
    from rosbags.typesys import Stores, get_typestore

    return get_typestore(Stores.ROS1_NOETIC if kind == "ros1" else Stores.ROS2_HUMBLE)


def cloud(store, points: np.ndarray, stamp_ns: int, names=("x", "y", "z", "intensity")):
    types = store.types
    record = np.dtype(
        dict(
            names=[*names, "ring"],
            formats=["<f4"] * len(names) + ["<u2"],
            offsets=[*[0, 4, 8, 16][: len(names)], 20],
            itemsize=24,
        )
    )
    table = np.zeros(len(points), dtype=record)
    for i, name in enumerate(names):
        table[name] = points[:, i]
    table["ring"] = np.arange(len(points)) % 64
    field = types["sensor_msgs/msg/PointField"]
    fields = [
        field(name=n, offset=record.fields[n][1], datatype=7 if n != "ring" else 4, count=1) for n in record.names
    ]
    header_type = types["std_msgs/msg/Header"]
    extra = {"seq": 0} if "seq" in header_type.__dataclass_fields__ else {}
    stamp = types["builtin_interfaces/msg/Time"](sec=stamp_ns // 10**9, nanosec=stamp_ns % 10**9)
    return types[POINTCLOUD2](
        header=header_type(stamp=stamp, frame_id="velodyne", **extra),
        height=1,
        width=len(points),
        fields=fields,
        is_bigendian=False,
        point_step=24,
        row_step=24 * len(points),
        data=np.frombuffer(table.tobytes(), dtype=np.uint8),
        is_dense=True,
    )


def write_bag(
    kind: str,
    path: Path,
    clouds,
    topic: str = "/velodyne_points",
    names=("x", "y", "z", "intensity"),
    extra_topic: bool = True,
) -> Path:
    """``clouds`` (an iterable of (N, 4) arrays) at 10 Hz, plus a /chatter string topic; returns the bag path."""
    store = store_for(kind)
    if kind == "ros1":
        from rosbags.rosbag1 import Writer

        writer, serialize = Writer(path), store.serialize_ros1
    else:
        from rosbags.rosbag2 import StoragePlugin, Writer

        plugin = StoragePlugin.MCAP if kind == "ros2-mcap" else StoragePlugin.SQLITE3
        writer, serialize = Writer(path, version=9, storage_plugin=plugin), store.serialize_cdr
    with writer:
        conn = writer.add_connection(topic, POINTCLOUD2, typestore=store) if clouds is not None else None
        chatter = writer.add_connection("/chatter", "std_msgs/msg/String", typestore=store) if extra_topic else None
        for i, points in enumerate(clouds or []):
            stamp = (i + 1) * 100_000_000
            writer.write(conn, stamp, serialize(cloud(store, points, stamp, names), POINTCLOUD2))
        if chatter is not None:
            msg = store.types["std_msgs/msg/String"](data="hi")
            writer.write(chatter, 1, serialize(msg, "std_msgs/msg/String"))
    return path
