"""A bag's TF tree (``tf2_msgs/msg/TFMessage`` on ``/tf_static`` and ``/tf``): the transform that moves
points from one frame into another at a time, chained through the tree like tf2 does (static transforms,
and for each moving link the latest one at or before the time)."""

from __future__ import annotations

import bisect

import numpy as np

from mmlab_core.errors import DataFormatError

TFMESSAGE = "tf2_msgs/msg/TFMessage"
TF_MSGTYPES = (TFMESSAGE, "tf/msg/tfMessage")  # tf2's, and old ROS 1 tf's (the same fields)
TF_TOPICS = ("/tf_static", "/tf")
# the ROS 1 Noetic typestore of rosbags has geometry_msgs but not tf2_msgs
TFMESSAGE_DEFINITION = "geometry_msgs/TransformStamped[] transforms\n"


def frame_name(frame_id: str) -> str:
    """ROS 1 frame ids may carry a leading slash (``/base_link``); tf2 drops it."""
    return frame_id.lstrip("/")


def stamp_ns(stamp) -> int:
    """A ROS 1 or ROS 2 time (``sec`` and ``nanosec``) in nanoseconds."""
    return int(stamp.sec) * 10**9 + int(stamp.nanosec)


def matrix(transform) -> np.ndarray:
    """A ``geometry_msgs/Transform`` as the 4x4 matrix that moves child-frame points into the parent frame."""
    t, q = transform.translation, transform.rotation
    x, y, z, w = q.x, q.y, q.z, q.w
    out = np.eye(4)
    out[:3, :3] = [
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ]
    out[:3, 3] = [t.x, t.y, t.z]
    return out


class TransformTree:
    """``add(msg, static)`` each TFMessage, then ``lookup(target, source, stamp_ns)``."""

    def __init__(self, source: object = "<bag>"):
        self.source = source
        self.static: dict[str, tuple[str, np.ndarray]] = {}  # child -> (parent, matrix)
        self.moving: dict[str, tuple[str, list[int], list[np.ndarray]]] = {}  # child -> (parent, stamps, matrices)

    def add(self, msg, static: bool) -> None:
        for link in msg.transforms:
            child, parent = frame_name(link.child_frame_id), frame_name(link.header.frame_id)
            if static:
                self.static[child] = (parent, matrix(link.transform))
                continue
            _, stamps, matrices = self.moving.setdefault(child, (parent, [], []))
            at = bisect.bisect_right(stamps, stamp_ns(link.header.stamp))
            stamps.insert(at, stamp_ns(link.header.stamp))
            matrices.insert(at, matrix(link.transform))

    def frames(self) -> list[str]:
        """Every frame the tree names."""
        links = [*self.static.items(), *((c, (p, None)) for c, (p, _, _) in self.moving.items())]
        return sorted({name for child, (parent, _) in links for name in (child, parent)})

    def _parent(self, child: str, at_ns: int) -> tuple[str, np.ndarray] | None:
        if child in self.static:
            return self.static[child]
        if child in self.moving:
            parent, stamps, matrices = self.moving[child]
            index = bisect.bisect_right(stamps, at_ns) - 1
            if index >= 0:
                return parent, matrices[index]
        return None

    def _to_root(self, frame: str, at_ns: int) -> dict[str, np.ndarray]:
        """Each ancestor of ``frame`` (itself included) -> the matrix moving ``frame``'s points into it."""
        chain, current, total = {frame: np.eye(4)}, frame, np.eye(4)
        while (link := self._parent(current, at_ns)) is not None and link[0] not in chain:
            current, total = link[0], link[1] @ total
            chain[current] = total
        return chain

    def lookup(self, target: str, source: str, at_ns: int) -> np.ndarray:
        """The 4x4 matrix moving points of ``source`` into ``target`` at ``at_ns``, or a paragraph saying
        which frames the bag's TF knows."""
        target, source = frame_name(target), frame_name(source)
        up_source, up_target = self._to_root(source, at_ns), self._to_root(target, at_ns)
        common = next((frame for frame in up_source if frame in up_target), None)
        if common is None:
            raise DataFormatError(
                self.source,
                f"has no transform from frame {source!r} to frame {target!r} at {at_ns / 1e9:.3f} s on "
                f"{' or '.join(TF_TOPICS)}; its TF knows the frames: {', '.join(self.frames()) or 'none'}. Pass one "
                "of those with --frame, or record the extrinsics (static_transform_publisher) into the bag.",
            )
        return np.linalg.inv(up_target[common]) @ up_source[common]


def transform_points(points: np.ndarray, to_target: np.ndarray) -> np.ndarray:
    """(N, dims) points with x, y, z moved by the 4x4 matrix; the other columns as they were."""
    moved = points.copy()
    moved[:, :3] = points[:, :3] @ to_target[:3, :3].T.astype(np.float32) + to_target[:3, 3].astype(np.float32)
    return moved
