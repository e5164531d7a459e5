"""What ``infer`` reads, one frame at a time (nothing is held beyond the current message): a ROS 1 bag
(``.bag``), a ROS 2 bag folder (sqlite3 or MCAP storage), a folder of ``.bin``/``.pcd`` frames, or the
custom dataset layout (``points/`` inside). Bags are read by ``extensions.io.rosbag.Bag``, the project's one
bag reader (``rosbags``: no ROS install needed).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from extensions.io.points import read_points
from extensions.io.rosbag import Bag, bag_kind, pointcloud2_to_points
from extensions.io.tf import stamp_ns, transform_points
from mmlab_core.errors import DataFormatError
from scripts.loop.common.checks import UsageError
from scripts.loop.infer.frame import check_fields
from scripts.loop.infer.intensity import intensity_options, scaled

MERGED_TOPIC = "/points_merged"  # where --merge writes its clouds (and their detections) in the output bag

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


def reading_options(parser: argparse.ArgumentParser, vehicle_frame: bool = True) -> None:
    """``--topic`` (repeatable), and ``--frame``/``--merge`` unless ``vehicle_frame`` is False: the options
    of ``infer``, ``autolabel`` and ``nox -s data -- bag`` that choose a bag's clouds."""
    parser.add_argument(
        "--topic",
        action="append",
        dest="topics",
        metavar="TOPIC",
        help="a bag's PointCloud2 topic, repeatable (default: every cloud topic whose fields the model can use)",
    )
    if vehicle_frame:
        parser.add_argument("--frame", help="move each cloud into this frame with the bag's TF (e.g. base_link)")
        parser.add_argument(
            "--merge",
            type=float,
            metavar="SECONDS",
            dest="merge_s",
            help="with --frame: merge the clouds of the topics that fall within this window into one frame",
        )
    intensity_options(parser)


def reading_of(args: argparse.Namespace) -> Reading:
    """The Reading the parsed options ask for (options a command does not have keep their defaults)."""
    chosen = {name: getattr(args, name) for name in Reading.__dataclass_fields__ if hasattr(args, name)}
    return Reading(**chosen)


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
    topic: str | None = None  # the output topic of a bag's cloud (its own, or MERGED_TOPIC)


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


def read_frames(path: Path, dims: int, reading: Reading | None = None) -> Iterator[Frame]:
    """The frames of a folder, in name order, stamped 0.1 s apart (10 Hz) from 0, their intensity filled
    and scaled as ``reading`` says."""
    reading = reading or Reading()
    for index, file in enumerate(frame_files(path)):
        start = time.perf_counter()
        points = scaled(read_points(file, dims, reading.fill_intensity), reading.intensity_scale)
        yield Frame(index * 100_000_000, file.stem, points, time.perf_counter() - start)


def check_reading(reading: Reading, kind: str) -> None:
    """``--frame`` needs a bag's TF, and ``--merge`` needs ``--frame``: a paragraph when they are missing."""
    if reading.frame is not None and kind == "frames":
        raise UsageError(
            f"--frame {reading.frame} moves a bag's clouds with the bag's /tf_static and /tf; a folder of frames "
            "has no TF. Leave --frame out, or give the bag."
        )
    if reading.merge_s is not None and reading.frame is None:
        raise UsageError(
            f"--merge {reading.merge_s} combines the clouds of several topics, which only makes sense in one "
            "frame: add --frame (the vehicle's frame, e.g. --frame base_link)."
        )


def choose_clouds(bag: Bag, reading: Reading, dims: int) -> list:
    """The cloud connections to read: ``reading.topics`` as given (checked as they are read), or every cloud
    topic whose first message has the fields the model reads, with one line on stderr naming those skipped
    and why. Topics without intensity are skipped even with ``--fill-intensity`` (a radar's cloud is no
    LiDAR's) unless no topic has intensity; no usable topic at all: the first skipped topic's paragraph."""
    if reading.topics:
        return bag.clouds(reading.topics)
    firsts = {c.topic: [f.name for f in bag.first(c).fields] for c in bag.clouds() if c.msgcount}
    usable = {topic: _refusal(bag, topic, fields, dims, None) is None for topic, fields in firsts.items()}
    if not any(usable.values()) and reading.fill_intensity is not None:
        usable = {t: _refusal(bag, t, f, dims, reading.fill_intensity) is None for t, f in firsts.items()}
    skipped = [topic for topic, ok in usable.items() if not ok]
    if skipped:
        reasons = (f"{topic} (fields {' '.join(firsts[topic])}: {_lacks(firsts[topic])})" for topic in skipped)
        print(f"skipped {', '.join(reasons)}; pick topics with --topic", file=sys.stderr)
        if len(skipped) == len(usable):
            raise _refusal(bag, skipped[0], firsts[skipped[0]], dims, reading.fill_intensity)
    return [c for c in bag.clouds() if usable.get(c.topic, True)]


def _refusal(bag: Bag, topic: str, fields: list[str], dims: int, fill: float | None) -> DataFormatError | None:
    """Why the model cannot read a topic of these fields (None: it can)."""
    try:
        check_fields(fields, dims, f"{bag.path}:{topic}", fill)
    except DataFormatError as exc:
        return exc
    return None


def _lacks(fields: list[str]) -> str:
    lower = {name.lower() for name in fields}
    axes = [axis for axis in ("x", "y", "z") if axis not in lower]
    return f"no {' '.join(axes)}" if axes else "no intensity"


def read_bag(bag: Bag, clouds: list, dims: int, reading: Reading | None = None) -> Iterator[Frame]:
    """The clouds of ``clouds`` in time order, decoded one message at a time; each topic's fields are
    checked against what the model reads at its first message. With ``reading.frame`` each cloud is moved
    into that frame with the bag's TF, and with ``reading.merge_s`` the clouds within that window are merged."""
    reading = reading or Reading()
    frames = _decoded(bag, clouds, dims, reading)
    if reading.frame is None:
        return frames
    tree = bag.transforms()
    moved = (_in_frame(frame, tree, reading.frame) for frame in frames)
    return _merged(moved, reading.merge_s) if reading.merge_s is not None else moved


def _decoded(bag: Bag, clouds: list, dims: int, reading: Reading) -> Iterator[Frame]:
    checked = set()
    several = len({c.topic for c in clouds}) > 1
    start = time.perf_counter()
    for connection, stamp, raw, msg in bag.messages(clouds):
        where = f"{bag.path}:{connection.topic}@{stamp}"
        if connection.topic not in checked:
            check_fields([f.name for f in msg.fields], dims, where, reading.fill_intensity)
            checked.add(connection.topic)
        points = scaled(pointcloud2_to_points(msg, dims, where, reading.fill_intensity), reading.intensity_scale)
        name = f"{stamp}_{connection.topic.strip('/').replace('/', '_')}" if several else f"{stamp}"
        seconds = time.perf_counter() - start
        yield Frame(stamp, name, points, seconds, connection, raw, msg.header, topic=connection.topic)
        start = time.perf_counter()


def _in_frame(frame: Frame, tree, target: str) -> Frame:
    """The frame's cloud moved from its header's frame into ``target`` (the detections bag gets that cloud)."""
    start = time.perf_counter()
    to_target = tree.lookup(target, frame.header.frame_id, stamp_ns(frame.header.stamp))
    points = transform_points(frame.points, to_target)
    header = dataclasses.replace(frame.header, frame_id=target)
    seconds = frame.decode_s + time.perf_counter() - start
    return dataclasses.replace(frame, points=points, decode_s=seconds, raw=None, header=header)


def _merged(frames: Iterator[Frame], window_s: float) -> Iterator[Frame]:
    """Clouds whose stamps fall within ``window_s`` of their group's first, as one frame stamped like the
    group's latest cloud, on MERGED_TOPIC."""
    group: list[Frame] = []
    for frame in frames:
        if group and frame.stamp_ns - group[0].stamp_ns > window_s * 1e9:
            yield _merge(group)
            group = []
        group.append(frame)
    if group:
        yield _merge(group)


def _merge(group: list[Frame]) -> Frame:
    latest = max(group, key=lambda frame: frame.stamp_ns)
    start = time.perf_counter()
    points = np.concatenate([frame.points for frame in group])
    seconds = sum(frame.decode_s for frame in group) + time.perf_counter() - start
    return dataclasses.replace(
        latest, name=f"{latest.stamp_ns}", points=points, decode_s=seconds, connection=None, topic=MERGED_TOPIC
    )
