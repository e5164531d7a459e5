"""A ROS 2 node around the infer per-frame function: subscribes to a PointCloud2 topic and publishes, per
cloud, ``<topic>/detections/markers`` (MarkerArray) and ``<topic>/detections/objects`` (Autoware's
DetectedObjects), the topics ``nox -s infer`` writes into its bags.

``python -m scripts.loop.infer.ros2_node MODEL [--topic /points] [--score-thr 0.3] [--runtime R]``
(from a shell where ROS 2 is sourced and the stack's .venv sees rclpy). Messages are converted between
rclpy and rosbags' types through their serialized bytes, so the node runs exactly the code the bag tests cover.
"""

from __future__ import annotations

import argparse
import sys

from mmlab_core.cli import run
from mmlab_core.errors import MmlabError

INSTALL = (
    "the ROS 2 node needs rclpy, which comes with a ROS 2 installation (it is not on PyPI): install ROS 2 "
    "(Humble or newer, e.g. `apt install ros-humble-ros-base ros-humble-visualization-msgs`, plus "
    "autoware_perception_msgs from Autoware for the objects topic), `source /opt/ros/humble/setup.bash`, then run "
    "this command with the stack's Python. Without ROS, run the same detector over recorded bags: nox -s infer."
)


class RosMissing(MmlabError):
    """rclpy does not import here."""


def require_rclpy():
    try:
        import rclpy
    except ImportError:
        raise RosMissing(INSTALL) from None
    return rclpy


class Detections:
    """The node's logic without rclpy: serialized PointCloud2 in, serialized (markers, objects) out."""

    def __init__(self, detector, score_thr: float):
        from extensions.io.rosbag import typestore_for
        from scripts.loop.infer.frame import check_fields
        from scripts.loop.infer.messages import MARKERS, OBJECTS, detection_messages, register_autoware

        self.detector, self.score_thr, self.check_fields = detector, score_thr, check_fields
        self.store = typestore_for("ros2-sqlite3")
        register_autoware(self.store)
        self.messages, self.types = detection_messages, (MARKERS, OBJECTS)

    def __call__(self, cdr: bytes) -> tuple[bytes, bytes]:
        from extensions.io.rosbag import POINTCLOUD2, pointcloud2_to_points

        cloud = self.store.deserialize_cdr(cdr, POINTCLOUD2)
        self.check_fields([f.name for f in cloud.fields], self.detector.dims, "the subscribed cloud")
        points = pointcloud2_to_points(cloud, self.detector.dims)
        found = self.detector.detect(points, None, self.score_thr)
        markers, objects = self.messages(self.store, cloud.header, found, self.detector.classes)
        return tuple(self.store.serialize_cdr(m, t) for m, t in zip((markers, objects), self.types, strict=True))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("model", help="a deployed model folder, or a config (.py) with --checkpoint")
    parser.add_argument("--checkpoint")
    parser.add_argument("--topic", default="/points")
    parser.add_argument("--score-thr", type=float, default=0.3)
    parser.add_argument("--runtime", choices=("onnxruntime", "openvino", "pytorch"))
    args, _ = parser.parse_known_args(argv)  # ROS adds --ros-args ...
    rclpy = require_rclpy()
    from rclpy.serialization import deserialize_message, serialize_message
    from sensor_msgs.msg import PointCloud2
    from visualization_msgs.msg import MarkerArray

    from scripts.loop.infer.model import load_detector

    _, _, detector = load_detector(args.model, args.checkpoint, args.runtime)
    logic = Detections(detector, args.score_thr)
    try:
        from autoware_perception_msgs.msg import DetectedObjects
    except ImportError:
        DetectedObjects = None
    rclpy.init(args=sys.argv)
    node = rclpy.create_node("mmlab_detector")
    markers = node.create_publisher(MarkerArray, f"{args.topic}/detections/markers", 10)
    objects = (
        node.create_publisher(DetectedObjects, f"{args.topic}/detections/objects", 10) if DetectedObjects else None
    )
    if objects is None:
        node.get_logger().warn("autoware_perception_msgs is not installed: publishing markers only")

    def on_cloud(msg) -> None:
        marker_bytes, object_bytes = logic(serialize_message(msg))
        markers.publish(deserialize_message(marker_bytes, MarkerArray))
        if objects is not None:
            objects.publish(deserialize_message(object_bytes, DetectedObjects))

    node.create_subscription(PointCloud2, args.topic, on_cloud, 10)
    node.get_logger().info(f"detecting on {args.topic} with {args.model}")
    try:
        rclpy.spin(node)
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
