"""`nox -s infer` (scripts.loop.infer): ROS 1, ROS 2 sqlite3 and ROS 2 MCAP bags and a folder of frames
-> a detections bag, a JSON-lines file and a rerun recording, each read back; bad input gets a paragraph."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from mmlab_core.settings import REPO_ROOT
from tests.loop.infer_bags import KINDS, store_for, write_bag
from tests.loop.infer_model import CONFIG


def _infer(env, *args):
    cmd = [sys.executable, "-m", "scripts.loop.infer", *map(str, args)]
    return subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, env=env)


def _read(kind, bag):
    """Every message of a bag, deserialized, by topic."""
    from rosbags.highlevel import AnyReader

    from scripts.loop.infer.messages import register_autoware

    store = store_for(kind)
    register_autoware(store)
    topics: dict[str, list] = {}
    with AnyReader([bag], default_typestore=store) as reader:
        for conn, stamp, raw in reader.messages():
            topics.setdefault(conn.topic, []).append((stamp, raw, reader.deserialize(raw, conn.msgtype)))
    return topics


def _rrd_rows(path) -> dict[str, int]:
    from rerun.chunk import RrdReader

    rows: dict[str, int] = {}
    for chunk in RrdReader(path).stream():
        if "frame" in chunk.timeline_names:
            rows[chunk.entity_path] = rows.get(chunk.entity_path, 0) + chunk.num_rows
    return rows


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
def test_bag_to_detections_bag_jsonl_and_rerun_recording(deployed, infer_here, tmp_path, kind):
    tmp, _env, clouds = deployed
    bag = write_bag(kind, tmp_path / ("drive.bag" if kind == "ros1" else "drive"), clouds)
    out = tmp_path / "out"
    result = infer_here(tmp / "deployed", bag, "--out", out, "--score-thr", "0.4")
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"{len(clouds)} frames in" in result.stdout and "frames/s (onnxruntime)" in result.stdout
    written = out / ("detections.bag" if kind == "ros1" else "detections")
    if kind != "ros1":  # same storage as the input
        assert any(written.glob("*.mcap" if kind == "ros2-mcap" else "*.db3"))
    topics = _read(kind, written)
    source = _read(kind, bag)["/velodyne_points"]
    assert [raw for _, raw, _ in topics["/velodyne_points"]] == [
        raw for _, raw, _ in source
    ]  # clouds kept as they were
    objects = topics["/velodyne_points/detections/objects"]
    markers = topics["/velodyne_points/detections/markers"]
    assert [s for s, _, _ in objects] == [s for s, _, _ in markers] == [s for s, _, _ in source]
    lines = [json.loads(line) for line in (out / "detections.jsonl").read_text().splitlines()]
    assert len(lines) == len(clouds) and all(line["objects"] for line in lines)  # untrained: every box scores 0.5
    for line, (_, _, msg), (_, _, marker) in zip(lines, objects, markers, strict=True):
        assert len(msg.objects) == len(line["objects"]) == len(marker.markers)
        first, box = msg.objects[0], line["objects"][0]
        assert first.existence_probability == pytest.approx(box["score"], abs=1e-5) and box["score"] >= 0.4
        pose = first.kinematics.pose_with_covariance.pose
        assert [pose.position.x, pose.position.y, pose.position.z] == pytest.approx(box["center"], abs=1e-4)
        assert 2 * np.arctan2(pose.orientation.z, pose.orientation.w) == pytest.approx(box["yaw"], abs=1e-4)
        assert first.shape.dimensions.x == pytest.approx(box["size"][0], abs=1e-4)
        assert first.classification[0].label in (1, 6, 7) and marker.markers[0].type == 1  # CUBE
    rows = _rrd_rows(out / "recording.rrd")
    assert rows["/lidar/points"] == rows["/lidar/boxes"] == len(clouds)  # every frame's points and boxes
    stats = json.loads((out / "stats.json").read_text())
    assert stats["frames"] == len(clouds) and stats["frames_per_s"] > 0
    assert set(stats["latency"]) == {"decode", "voxelize", "network", "post-process"}
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging folder left


@pytest.mark.slow
def test_folder_with_pytorch_gives_the_boxes_onnxruntime_and_openvino_give(deployed, infer_here, tmp_path):
    """A folder of frames (config + checkpoint, PyTorch) -> ROS 2 MCAP; the boxes match the deployed model's
    in ONNX Runtime and in OpenVINO."""
    from scripts.loop.deploy.box_parity import Detections, match

    tmp, _env, clouds = deployed
    folder = tmp / "datasets" / "synthetic"  # the custom layout: points/ inside
    runs = {}
    for runtime, model in (("pytorch", CONFIG), ("onnxruntime", tmp / "deployed"), ("openvino", tmp / "deployed")):
        out = tmp_path / runtime
        result = infer_here(model, folder, "--checkpoint", tmp / "model.pth", "--runtime", runtime, "--out", out)
        assert result.returncode == 0, result.stderr[-3000:]
        runs[runtime] = [json.loads(line)["objects"] for line in (out / "detections.jsonl").read_text().splitlines()]
    assert any((tmp_path / "pytorch" / "detections").glob("*.mcap"))
    assert len(_read("ros2-mcap", tmp_path / "pytorch" / "detections")["/points"]) == len(clouds) == 4

    def boxes(objects):
        array = np.array([[*o["center"], *o["size"], o["yaw"]] for o in objects]).reshape(-1, 7)
        array[:, 2] -= array[:, 5] / 2
        names = sorted({o["label"] for o in objects})
        return Detections(
            array, np.array([o["score"] for o in objects]), np.array([names.index(o["label"]) for o in objects])
        )

    assert sum(map(len, runs["pytorch"])) > 0
    for runtime in ("onnxruntime", "openvino"):
        for ref, other in zip(runs["pytorch"], runs[runtime], strict=True):
            assert match(boxes(ref), boxes(other))["matched_fraction"] >= 0.95, runtime


def _refused(result, out, *phrases):
    assert result.returncode == 2, result.stderr[-3000:]
    paragraph = result.stderr.strip().splitlines()[-1]
    assert paragraph.startswith("error: ")
    for phrase in phrases:
        assert phrase in paragraph
    assert not out.exists() and not [p for p in out.parent.iterdir() if p.name.startswith(f".{out.name}")]


@pytest.mark.slow
def test_bad_input_stops_with_a_paragraph_and_writes_nothing(deployed, infer_here, tmp_path):
    tmp, env, clouds = deployed
    model, out = tmp / "deployed", tmp_path / "out"
    small = [c[:2000] for c in clouds[:2]]
    chatter = write_bag("ros2-mcap", tmp_path / "chatter", None)
    _refused(
        _infer(env, model, chatter, "--out", out),
        out,
        "has no sensor_msgs/PointCloud2 topic",
        "/chatter (std_msgs/msg/String)",
    )
    bag = write_bag("ros2-sqlite3", tmp_path / "drive", small)
    _refused(
        infer_here(model, bag, "--topic", "/points", "--out", out),
        out,
        "has no PointCloud2 topic /points",
        "/velodyne_points (sensor_msgs/msg/PointCloud2)",
        "--topic",
    )
    no_intensity = write_bag("ros1", tmp_path / "xyz.bag", small, names=("x", "y", "z"))
    _refused(
        infer_here(model, no_intensity, "--out", out),
        out,
        "the cloud has the fields x, y, z, ring",
        "intensity (or one of i, reflectance",
    )
    truncated = write_bag("ros1", tmp_path / "cut.bag", clouds)
    truncated.write_bytes(truncated.read_bytes()[: truncated.stat().st_size // 2])
    _refused(infer_here(model, truncated, "--out", out), out, "is not a readable ros1 bag", "truncated")
    mcap = write_bag("ros2-mcap", tmp_path / "cut", clouds)
    data = next(mcap.glob("*.mcap"))
    data.write_bytes(data.read_bytes()[: data.stat().st_size // 2])
    _refused(infer_here(model, mcap, "--out", out), out, "truncated")
    _refused(infer_here(CONFIG, bag, "--out", out), out, "is a config: pass its weights with --checkpoint")
    _refused(
        infer_here(CONFIG, bag, "--checkpoint", tmp / "model.pth", "--runtime", "openvino", "--out", out),
        out,
        "--runtime openvino needs the exported model",
    )
