"""What ``infer`` reads, one frame at a time (nothing is held beyond the current message): a ROS 1 bag
(``.bag``), a ROS 2 bag folder (sqlite3 or MCAP storage), a folder of ``.bin``/``.pcd`` frames, or the
custom dataset layout (``points/`` inside). Bags are read by ``extensions.io.rosbag.Bag``, the project's one
bag reader (``rosbags``: no ROS install needed).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from extensions.io.points import read_points
from extensions.io.rosbag import Bag, bag_kind, pointcloud2_to_points
from mmlab_core.errors import DataFormatError
from scripts.loop.infer.frame import check_fields

FRAME_SUFFIXES = (".bin", ".pcd")


@dataclass
class Reading:
    """How an input's clouds are chosen and made ready for the model: the options ``infer``, ``autolabel``
    and ``nox -s data -- bag`` share."""

    topics: list[str] | None = None  # a bag's PointCloud2 topics; None: every topic whose fields the model can use
    fill_intensity: float | None = None  # the intensity given to clouds that have none (else they are refused)
    intensity_scale: float | None = None  # multiplies the recorded intensity (a sensor preset sets it too)
    frame: str | None = None  # the frame detections are written in (bags: through /tf_static and /tf)
    merge_s: float | None = None  # merge the clouds of several topics that fall within this window into one frame


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
    if path.is_file() or (path / "metadata.yaml").exists():
        return bag_kind(path)
    if frame_files(path):
        return "frames"
    raise DataFormatError(
        path, "is neither a ROS 2 bag (no metadata.yaml) nor a folder of .bin/.pcd frames (none in it or in points/)"
    )


def frame_files(path: Path) -> list[Path]:
    folder = path / "points" if (path / "points").is_dir() else path
    return sorted(p for p in folder.iterdir() if p.suffix in FRAME_SUFFIXES)


def read_frames(path: Path, dims: int) -> Iterator[Frame]:
    """The frames of a folder, in name order, stamped 0.1 s apart (10 Hz) from 0."""
    for index, file in enumerate(frame_files(path)):
        start = time.perf_counter()
        points = read_points(file, dims)
        yield Frame(index * 100_000_000, file.stem, points, time.perf_counter() - start)


def read_bag(bag: Bag, clouds: list, dims: int) -> Iterator[Frame]:
    """The clouds of ``clouds`` in time order, decoded one message at a time; each topic's fields are
    checked against what the model reads at its first message."""
    checked = set()
    start = time.perf_counter()
    for connection, stamp, raw, msg in bag.messages(clouds):
        where = f"{bag.path}:{connection.topic}@{stamp}"
        if connection.topic not in checked:
            check_fields([f.name for f in msg.fields], dims, where)
            checked.add(connection.topic)
        points = pointcloud2_to_points(msg, dims, where)
        yield Frame(stamp, f"{stamp}", points, time.perf_counter() - start, connection, raw, msg.header)
        start = time.perf_counter()
