"""Generated bags for the infer tests: PointCloud2 laid out like a Velodyne driver's (x y z, 4 bytes of
padding, intensity, ring), written with rosbags in ROS 1, ROS 2 sqlite3 or ROS 2 MCAP storage, or with the
``mcap`` package as a ROS 1 profile MCAP file (as ``mcap convert`` writes one); TF messages for the
vehicle-frame tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np

POINTCLOUD2 = "sensor_msgs/msg/PointCloud2"
KINDS = ("ros1", "ros2-sqlite3", "ros2-mcap")
TFMESSAGE = "tf2_msgs/msg/TFMessage"


def store_for(kind: str):
    from rosbags.typesys import Stores, get_types_from_msg, get_typestore

    if not kind.startswith("ros1"):
        return get_typestore(Stores.ROS2_HUMBLE)
    store = get_typestore(Stores.ROS1_NOETIC)  # Noetic's store lacks tf2_msgs
    store.register(get_types_from_msg("geometry_msgs/TransformStamped[] transforms", TFMESSAGE))
    return store


def cloud(store, points: np.ndarray, stamp_ns: int, names=("x", "y", "z", "intensity"), frame_id="velodyne"):
    types = store.types
    offsets = [0, 4, 8, *(16 + 4 * i for i in range(len(names) - 3))]
    ring = max(20, offsets[-1] + 4)
    formats = ["<f4"] * len(names) + ["<u2"]
    record = np.dtype(dict(names=[*names, "ring"], formats=formats, offsets=[*offsets, ring], itemsize=ring + 4))
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
        header=header_type(stamp=stamp, frame_id=frame_id, **extra),
        height=1,
        width=len(points),
        fields=fields,
        is_bigendian=False,
        point_step=record.itemsize,
        row_step=record.itemsize * len(points),
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
    period_ns: int = 100_000_000,
) -> Path:
    """``clouds`` (an iterable of (N, 4) arrays) one ``period_ns`` apart (10 Hz), plus a /chatter string topic;
    returns the bag path."""
    store = store_for(kind)
    messages = [
        (topic, POINTCLOUD2, (i + 1) * period_ns, cloud(store, points, (i + 1) * period_ns, names))
        for i, points in enumerate(clouds or [])
    ]
    if extra_topic:
        messages.append(("/chatter", "std_msgs/msg/String", 1, store.types["std_msgs/msg/String"](data="hi")))
    topics = [topic] if clouds is not None else []
    return write_messages(kind, path, store, messages, topics)


def write_messages(kind: str, path: Path, store, messages, topics=()) -> Path:
    """``(topic, msgtype, stamp_ns, message)`` in any order into a bag of ``kind`` (``ros1-mcap``: written
    with the mcap package, schemas from rosbags' ROS 1 definitions); ``topics`` get a connection even without
    messages."""
    messages = sorted(messages, key=lambda m: m[2])
    types = {topic: POINTCLOUD2 for topic in topics} | {topic: msgtype for topic, msgtype, _, _ in messages}
    if kind == "ros1-mcap":
        return _write_ros1_mcap(path, store, messages, types)
    if kind == "ros1":
        from rosbags.rosbag1 import Writer

        writer, serialize = Writer(path), store.serialize_ros1
    else:
        from rosbags.rosbag2 import StoragePlugin, Writer

        plugin = StoragePlugin.MCAP if kind == "ros2-mcap" else StoragePlugin.SQLITE3
        writer, serialize = Writer(path, version=9, storage_plugin=plugin), store.serialize_cdr
    with writer:
        conns = {topic: writer.add_connection(topic, msgtype, typestore=store) for topic, msgtype in types.items()}
        for topic, msgtype, stamp, msg in messages:
            writer.write(conns[topic], stamp, serialize(msg, msgtype))
    return path


def _write_ros1_mcap(path: Path, store, messages, types: dict[str, str]) -> Path:
    from mcap.writer import Writer

    with path.open("wb") as stream:
        writer = Writer(stream)
        writer.start(profile="ros1", library="tests")
        schemas = {
            msgtype: writer.register_schema(
                msgtype.replace("/msg/", "/"), "ros1msg", store.generate_msgdef(msgtype)[0].encode()
            )
            for msgtype in set(types.values())
        }
        channels = {topic: writer.register_channel(topic, "ros1", schemas[msgtype]) for topic, msgtype in types.items()}
        for topic, msgtype, stamp, msg in messages:
            writer.add_message(channels[topic], stamp, store.serialize_ros1(msg, msgtype), stamp)
        writer.finish()
    return path


def tf_message(store, stamp_ns: int, links) -> object:
    """A TFMessage of ``(parent, child, (x, y, z), yaw)`` links."""
    types = store.types
    header_type = types["std_msgs/msg/Header"]
    extra = {"seq": 0} if "seq" in header_type.__dataclass_fields__ else {}
    stamp = types["builtin_interfaces/msg/Time"](sec=stamp_ns // 10**9, nanosec=stamp_ns % 10**9)
    transforms = [
        types["geometry_msgs/msg/TransformStamped"](
            header=header_type(stamp=stamp, frame_id=parent, **extra),
            child_frame_id=child,
            transform=types["geometry_msgs/msg/Transform"](
                translation=types["geometry_msgs/msg/Vector3"](x=x, y=y, z=z),
                rotation=types["geometry_msgs/msg/Quaternion"](x=0.0, y=0.0, z=np.sin(yaw / 2), w=np.cos(yaw / 2)),
            ),
        )
        for parent, child, (x, y, z), yaw in links
    ]
    return types[TFMESSAGE](transforms=transforms)
