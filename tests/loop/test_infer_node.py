"""The ROS 2 node (scripts.loop.infer.ros2_node): its logic is the infer per-frame function, tested on
serialized messages without ROS; without rclpy the command says what to install (exit 2)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import numpy as np
import pytest

from mmlab_core.settings import REPO_ROOT

CONFIG = "configs/pointpillars_lidar-custom-cpu.py"


@pytest.mark.skipif(importlib.util.find_spec("rclpy") is not None, reason="rclpy is installed here")
def test_without_rclpy_the_node_says_what_to_install():
    cmd = [sys.executable, "-m", "scripts.loop.infer.ros2_node", "checkpoints/x/deploy"]
    result = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True)
    assert result.returncode == 2
    assert "error: the ROS 2 node needs rclpy" in result.stderr and "source /opt/ros/humble/setup.bash" in result.stderr


@pytest.mark.slow
def test_node_logic_publishes_what_the_detector_finds(tmp_path):
    from mmengine.config import Config
    from mmengine.registry import MODELS, init_default_scope
    from mmengine.runner.checkpoint import save_checkpoint

    from extensions.io.points import read_bin
    from extensions.io.rosbag import POINTCLOUD2
    from scripts.data.synth_scenes import generate
    from scripts.loop.infer.messages import MARKERS, OBJECTS
    from scripts.loop.infer.model import load_detector
    from scripts.loop.infer.ros2_node import Detections
    from tests.loop.infer_bags import cloud, store_for

    generate(tmp_path / "synthetic", train=1, val=1, seed=3)
    init_default_scope("mmdet3d")
    import extensions

    extensions.register(rewriters=True)

    state = MODELS.build(Config.fromfile(CONFIG).model).state_dict()
    state["bbox_head.conv_cls.bias"].zero_()
    save_checkpoint(dict(state_dict=state, meta={}), str(tmp_path / "model.pth"))
    _, _, detector = load_detector(CONFIG, str(tmp_path / "model.pth"), None)
    points = read_bin(next((tmp_path / "synthetic" / "points").glob("*.bin")))
    store = store_for("ros2-sqlite3")
    message = store.serialize_cdr(cloud(store, points, 5 * 10**8), POINTCLOUD2)

    marker_bytes, object_bytes = Detections(detector, 0.3)(message)
    expected = detector.detect(points, None, 0.3)
    logic = Detections(detector, 0.3)
    markers = logic.store.deserialize_cdr(marker_bytes, MARKERS).markers
    objects = logic.store.deserialize_cdr(object_bytes, OBJECTS)
    assert len(expected.boxes) > 0 and len(markers) == len(objects.objects) == len(expected.boxes)
    assert objects.header.stamp.nanosec == 5 * 10**8  # stamped like the cloud
    positions = np.array(
        [[o.kinematics.pose_with_covariance.pose.position.x, o.shape.dimensions.z] for o in objects.objects]
    )
    np.testing.assert_allclose(positions, expected.boxes[:, [0, 5]], atol=1e-4)
    assert [o.existence_probability for o in objects.objects] == pytest.approx(expected.scores, abs=1e-5)
