"""ROS 1 profile MCAP files (``ros1msg`` schemas, ROS 1 serialization, as ``mcap convert`` and Foxglove write
them), read and written with the ``mcap`` package behind the same small interface as rosbags' readers and
writers (``connections``, ``messages(connections)``; ``add_connection``, ``write``), so ``Bag`` and the
detections output treat them like any other bag. rosbags reads only ROS 2 profile MCAP."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from mmlab_core.errors import DataFormatError

MAGIC = b"\x89MCAP0\r\n"
PROFILE = "ros1"  # the header's profile
ENCODING = "ros1"  # each channel's message encoding


@dataclass(frozen=True)
class Channel:
    """One MCAP channel, named like rosbags' ``Connection`` where the project reads it."""

    id: int
    topic: str
    msgtype: str  # rosbags' name: sensor_msgs/msg/PointCloud2
    msgcount: int
    msgdef: str  # the ros1msg schema text


def ros2_name(ros1_name: str) -> str:
    """``sensor_msgs/PointCloud2`` (a ROS 1 schema name) -> ``sensor_msgs/msg/PointCloud2`` (rosbags' name)."""
    package, _, name = ros1_name.rpartition("/")
    return ros1_name if "/msg/" in ros1_name or not package else f"{package}/msg/{name}"


def ros1_name(msgtype: str) -> str:
    """``sensor_msgs/msg/PointCloud2`` -> ``sensor_msgs/PointCloud2``."""
    return msgtype.replace("/msg/", "/")


def mcap_profile(path: Path) -> str:
    """The profile an MCAP file's header declares (``ros1``, ``ros2``, or '' for none)."""
    from mcap.reader import make_reader

    try:
        with path.open("rb") as stream:
            return make_reader(stream).get_header().profile
    except Exception as exc:  # the mcap package raises its own errors, and struct/EOF errors beneath
        raise DataFormatError(path, f"is not a readable MCAP file ({exc}); is it truncated?") from None


class Ros1McapReader:
    """``open()``, ``connections``, ``messages(connections)`` -> ``(channel, log_time_ns, raw)``, ``close()``."""

    def __init__(self, path: Path):
        self.path = path
        self.connections: list[Channel] = []
        self._stream = None

    def open(self) -> None:
        from mcap.reader import make_reader

        self._stream = self.path.open("rb")
        self._reader = make_reader(self._stream)
        profile = self._reader.get_header().profile
        if profile != PROFILE:
            raise ValueError(f"its profile is {profile!r}, not {PROFILE!r}")
        summary = self._reader.get_summary()
        if summary is None:
            raise ValueError("it has no summary section")
        counts = summary.statistics.channel_message_counts if summary.statistics else {}
        self.connections = [
            Channel(
                channel.id,
                channel.topic,
                ros2_name(summary.schemas[channel.schema_id].name),
                counts.get(channel.id, 0),
                summary.schemas[channel.schema_id].data.decode(),
            )
            for channel in summary.channels.values()
        ]

    def messages(self, connections: list[Channel]) -> Iterator[tuple[Channel, int, bytes]]:
        by_id = {c.id: c for c in connections}
        for _, channel, message in self._reader.iter_messages(topics=[c.topic for c in connections]):
            if channel.id in by_id:
                yield by_id[channel.id], message.log_time, message.data

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None


class Ros1McapWriter:
    """``open()``, ``add_connection(topic, msgtype, typestore=...)``, ``write(channel, stamp_ns, raw)``,
    ``close()``; schemas are the ROS 1 message definitions rosbags' typestore generates."""

    def __init__(self, path: Path):
        self.path = path
        self._schemas: dict[str, int] = {}
        self._sequence = 0

    def open(self) -> None:
        from mcap.writer import Writer

        self._stream = self.path.open("wb")
        self._writer = Writer(self._stream)
        self._writer.start(profile=PROFILE, library="mmlab-extension")

    def add_connection(self, topic: str, msgtype: str, *, typestore) -> Channel:
        if msgtype not in self._schemas:
            text, _ = typestore.generate_msgdef(msgtype)
            self._schemas[msgtype] = self._writer.register_schema(ros1_name(msgtype), "ros1msg", text.encode())
        channel = self._writer.register_channel(topic, ENCODING, self._schemas[msgtype])
        return Channel(channel, topic, msgtype, 0, "")

    def write(self, channel: Channel, stamp_ns: int, raw: bytes) -> None:
        self._sequence += 1
        self._writer.add_message(channel.id, stamp_ns, bytes(raw), stamp_ns, self._sequence)

    def close(self) -> None:
        self._writer.finish()
        self._stream.close()

    def __enter__(self) -> Ros1McapWriter:
        self.open()
        return self

    def __exit__(self, *exc) -> None:
        self.close()
