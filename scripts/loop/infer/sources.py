"""What ``infer`` reads, one frame at a time (nothing is held beyond the current message): a ROS 1 bag
(``.bag``), a ROS 2 bag folder (sqlite3 or MCAP storage), a folder of ``.bin``/``.pcd`` frames, or the
custom dataset layout (``points/`` inside). Bags are read with ``rosbags``: no ROS install needed.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from extensions.io.points import read_points
from extensions.io.rosbag import POINTCLOUD2, pointcloud2_to_points
from mmlab_core.errors import DataFormatError
from scripts.loop.infer.frame import check_fields

FRAME_SUFFIXES = (".bin", ".pcd")


@dataclass
class Frame:
    """One cloud: its stamp, a name, the decoded (N, dims) points and the seconds decoding took;
    for bags also the message's connection, its raw bytes and its header (copied to the output)."""

    stamp_ns: int
    name: str
    points: np.ndarray
    decode_s: float
    connection: object = None
    raw: bytes | None = None
    header: object = None
    extra: dict = field(default_factory=dict)


def kind_of(path: Path) -> str:
    """``ros1``, ``ros2-sqlite3``, ``ros2-mcap`` or ``frames``, or a paragraph saying why the input is none."""
    if not path.exists():
        raise DataFormatError(
            path, "the input does not exist; give a ROS 1 .bag, a ROS 2 bag folder or a folder of frames"
        )
    if path.is_file():
        return "ros1"
    if (path / "metadata.yaml").exists():
        return "ros2-mcap" if any(path.glob("*.mcap")) else "ros2-sqlite3"
    if frame_files(path):
        return "frames"
    raise DataFormatError(
        path, "is neither a ROS 2 bag (no metadata.yaml) nor a folder of .bin/.pcd frames (none in it or in points/)"
    )


def frame_files(path: Path) -> list[Path]:
    folder = path / "points" if (path / "points").is_dir() else path
    return sorted(p for p in folder.iterdir() if p.suffix in FRAME_SUFFIXES)


def typestore_for(kind: str):
    from rosbags.typesys import Stores, get_typestore

    return get_typestore(Stores.ROS1_NOETIC if kind == "ros1" else Stores.ROS2_HUMBLE)


def read_frames(path: Path, dims: int) -> Iterator[Frame]:
    """The frames of a folder, in name order, stamped 0.1 s apart (10 Hz) from 0."""
    for index, file in enumerate(frame_files(path)):
        start = time.perf_counter()
        points = read_points(file, dims)
        yield Frame(index * 100_000_000, file.stem, points, time.perf_counter() - start)


def open_bag(path: Path, kind: str):
    """An opened rosbags reader, or a paragraph saying the bag cannot be read (truncated, not a bag)."""
    if kind == "ros1":
        from rosbags.rosbag1 import Reader
    else:
        from rosbags.rosbag2 import Reader
    reader = Reader(path)
    try:
        reader.open()
    except Exception as exc:  # rosbags raises its own error type per format, and sqlite/mcap errors beneath
        raise DataFormatError(
            path, f"is not a readable {kind} bag ({exc}); is it truncated, or still being recorded?"
        ) from None
    return reader


def cloud_connections(reader, path: Path, topic: str | None) -> list:
    """The PointCloud2 connections to run on (``topic``'s, or every cloud topic's)."""
    listed = "; the bag holds: " + (", ".join(f"{c.topic} ({c.msgtype})" for c in reader.connections) or "nothing")
    clouds = [c for c in reader.connections if c.msgtype == POINTCLOUD2]
    if not clouds:
        raise DataFormatError(path, f"has no sensor_msgs/PointCloud2 topic to detect on{listed}")
    if topic is not None:
        clouds = [c for c in clouds if c.topic == topic]
        if not clouds:
            raise DataFormatError(path, f"has no PointCloud2 topic {topic}{listed}. Pass one of those with --topic.")
    return clouds


def read_bag(reader, path: Path, kind: str, clouds: list, dims: int, typestore) -> Iterator[Frame]:
    """The clouds of ``clouds`` in time order, decoded one message at a time."""
    deserialize = typestore.deserialize_ros1 if kind == "ros1" else typestore.deserialize_cdr
    checked = set()
    messages = reader.messages(connections=clouds)
    index = 0
    while True:
        start = time.perf_counter()
        try:
            connection, stamp, raw = next(messages)
            msg = deserialize(raw, POINTCLOUD2)
        except StopIteration:
            return
        except Exception as exc:  # a truncated chunk, a damaged database page or message
            raise DataFormatError(
                path, f"cannot be read past message {index} ({exc}); the bag is truncated or damaged"
            ) from None
        where = f"{path}:{connection.topic}@{stamp}"
        if connection.topic not in checked:
            check_fields([f.name for f in msg.fields], dims, where)
            checked.add(connection.topic)
        points = pointcloud2_to_points(msg, dims, where)
        yield Frame(stamp, f"{stamp}", points, time.perf_counter() - start, connection, bytes(raw), msg.header)
        index += 1
