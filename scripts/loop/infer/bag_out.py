"""The detections bag: the input clouds as they were, plus per cloud topic ``<topic>/detections/markers``
(``visualization_msgs/msg/MarkerArray``) and ``<topic>/detections/objects`` (Autoware's
``DetectedObjects``), stamped like their cloud. Same format as the input bag (a ROS 1 profile MCAP gives one
too); a folder of frames gives a ROS 2 MCAP bag with the clouds on ``/points``. Clouds moved into another
frame (``--frame``) or merged (``--merge``) are written as moved. Written message by message to the path
it is given.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from extensions.io.mcap_ros1 import Ros1McapWriter
from extensions.io.rosbag import POINTCLOUD2, is_ros1
from scripts.loop.infer.messages import MARKERS, OBJECTS, build, detection_messages, register_autoware

FOLDER_TOPIC = "/points"


def bag_name(kind: str) -> str:
    """The output bag's name in the output folder: a file for ROS 1 (a bag, or MCAP), a folder for ROS 2."""
    return {"ros1": "detections.bag", "ros1-mcap": "detections.mcap"}.get(kind, "detections")


class BagOut:
    """Open with ``with BagOut(path, kind, typestore, classes) as out: out.write(frame, detections)``."""

    def __init__(self, path: Path, kind: str, typestore, classes: list[str]):
        self.path, self.kind, self.store, self.classes = path, kind, typestore, classes
        register_autoware(typestore)
        self.connections: dict[str, tuple] = {}
        if kind == "ros1":
            from rosbags.rosbag1 import Writer

            self.writer = Writer(path)
        elif kind == "ros1-mcap":
            self.writer = Ros1McapWriter(path)
        else:
            from rosbags.rosbag2 import StoragePlugin, Writer

            plugin = StoragePlugin.SQLITE3 if kind == "ros2-sqlite3" else StoragePlugin.MCAP
            self.writer = Writer(path, version=9, storage_plugin=plugin)

    def __enter__(self) -> BagOut:
        self.writer.open()
        return self

    def __exit__(self, *exc) -> None:
        self.writer.close()

    def _serialize(self, msg, msgtype: str) -> bytes:
        return self.store.serialize_ros1(msg, msgtype) if is_ros1(self.kind) else self.store.serialize_cdr(msg, msgtype)

    def _topic(self, topic: str) -> tuple:
        if topic not in self.connections:
            add = self.writer.add_connection
            self.connections[topic] = tuple(
                add(name, msgtype, typestore=self.store)
                for name, msgtype in (
                    (topic, POINTCLOUD2),
                    (f"{topic}/detections/markers", MARKERS),
                    (f"{topic}/detections/objects", OBJECTS),
                )
            )
        return self.connections[topic]

    def header(self, frame):
        """The frame's cloud's header, or for a folder's frame one in ``lidar`` stamped like the frame."""
        if frame.header is not None:
            return frame.header
        stamp = build(
            self.store, "builtin_interfaces/msg/Time", sec=frame.stamp_ns // 10**9, nanosec=frame.stamp_ns % 10**9
        )
        return build(self.store, "std_msgs/msg/Header", frame_id="lidar", stamp=stamp)

    def write(self, frame, detections) -> None:
        """The frame's cloud (its raw message, or one built from the points: a folder's frame, a cloud moved
        into another frame) and its detections, in the frame's header's frame."""
        cloud, markers, objects = self._topic(frame.topic or FOLDER_TOPIC)
        header, raw = self.header(frame), frame.raw
        if raw is None:
            raw = self._serialize(cloud_message(self.store, header, frame.points), POINTCLOUD2)
        self.writer.write(cloud, frame.stamp_ns, raw)
        marker_msg, object_msg = detection_messages(self.store, header, detections, self.classes)
        self.writer.write(markers, frame.stamp_ns, self._serialize(marker_msg, MARKERS))
        self.writer.write(objects, frame.stamp_ns, self._serialize(object_msg, OBJECTS))


def cloud_message(typestore, header, points: np.ndarray):
    """A PointCloud2 of float32 x, y, z, intensity (and further columns as ``c4``, ``c5`` ...)."""
    names = ["x", "y", "z", "intensity", *(f"c{i}" for i in range(4, points.shape[1]))][: points.shape[1]]
    fields = [
        build(typestore, "sensor_msgs/msg/PointField", name=n, offset=4 * i, datatype=7, count=1)
        for i, n in enumerate(names)
    ]
    data = np.ascontiguousarray(points, dtype="<f4")
    step = 4 * points.shape[1]
    return build(
        typestore,
        POINTCLOUD2,
        header=header,
        height=1,
        width=len(points),
        fields=fields,
        is_bigendian=False,
        point_step=step,
        row_step=step * len(points),
        data=np.frombuffer(data.tobytes(), dtype=np.uint8),
        is_dense=True,
    )
