"""Real recordings through `nox -s infer`: a ROS 1 profile MCAP (read and written back as one), a bag with a
LiDAR and radar clouds (topics chosen by their fields, ``--topic`` repeatable in infer, autolabel and
``nox -s data -- bag``), and two LiDARs with their extrinsics on /tf_static moved into base_link and merged."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.loop.infer_bags import POINTCLOUD2, TFMESSAGE, cloud, store_for, tf_message, write_bag, write_messages
from tests.loop.infer_model import CONFIG

RADAR = ("x", "y", "z", "vx", "vy", "vz")
MS = 1_000_000


def _mcap_messages(path) -> tuple[str, dict[str, list]]:
    """A ROS 1 profile MCAP read with the mcap package alone: its profile, and per topic (stamp, raw, message)."""
    from mcap.reader import make_reader

    from scripts.loop.infer.messages import register_autoware

    store = store_for("ros1")
    register_autoware(store)
    topics: dict[str, list] = {}
    with path.open("rb") as stream:
        reader = make_reader(stream)
        profile = reader.get_header().profile
        for schema, channel, message in reader.iter_messages():
            assert schema.encoding == "ros1msg" and channel.message_encoding == "ros1"
            msgtype = schema.name.replace("/", "/msg/", 1)
            decoded = store.deserialize_ros1(message.data, msgtype)
            topics.setdefault(channel.topic, []).append((message.log_time, message.data, decoded))
    return profile, topics


@pytest.mark.slow
def test_ros1_profile_mcap_gives_detections_in_a_ros1_profile_mcap(deployed, infer_here, tmp_path):
    tmp, _env, clouds = deployed
    small = [c[:3000] for c in clouds[:2]]
    drive = write_bag("ros1-mcap", tmp_path / "drive.mcap", small)
    out = tmp_path / "out"
    result = infer_here(tmp / "deployed", drive, "--out", out)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "2 frames in" in result.stdout
    profile, topics = _mcap_messages(out / "detections.mcap")
    assert profile == "ros1"
    _, source = _mcap_messages(drive)
    assert [raw for _, raw, _ in topics["/velodyne_points"]] == [raw for _, raw, _ in source["/velodyne_points"]]
    lines = [json.loads(line) for line in (out / "detections.jsonl").read_text().splitlines()]
    objects = topics["/velodyne_points/detections/objects"]
    assert [len(msg.objects) for _, _, msg in objects] == [len(line["objects"]) for line in lines]
    assert all(lines[0]["objects"]) and objects[0][2].header.frame_id == "velodyne"


def _radar_bag(path, lidar_clouds):
    """Two LiDAR topics and two radar topics (x y z vx vy vz), interleaved at 10 Hz."""
    store, rng, messages = store_for("ros1"), np.random.default_rng(3), []
    for index, points in enumerate(lidar_clouds):
        stamp = (index + 1) * 100 * MS
        for offset, topic in enumerate(("/lidar/front", "/radar/front", "/lidar/rear", "/radar/rear")):
            at = stamp + offset * 5 * MS
            msg = cloud(store, points, at) if "lidar" in topic else cloud(store, rng.uniform(size=(40, 6)), at, RADAR)
            messages.append((topic, POINTCLOUD2, at, msg))
    return write_messages("ros1", path, store, messages)


SKIPPED = "skipped /radar/front (fields x y z vx vy vz ring: no intensity), /radar/rear (fields x y z vx vy vz ring"


@pytest.mark.slow
def test_radar_topics_are_skipped_on_one_line_and_topic_repeats(deployed, infer_here, tmp_path, monkeypatch, capsys):
    from scripts.data.cli import main as data
    from scripts.loop.autolabel.__main__ import main as autolabel
    from tests.helpers.inprocess import run_main

    tmp, env, clouds = deployed
    bag = _radar_bag(tmp_path / "car.bag", [c[:2000] for c in clouds[:2]])
    result = infer_here(tmp / "deployed", bag, "--out", tmp_path / "all")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "4 frames in" in result.stdout  # both LiDARs, every message
    assert [line for line in result.stderr.splitlines() if line.startswith("skipped")] == [
        SKIPPED + ": no intensity); pick topics with --topic"
    ]
    result = infer_here(tmp / "deployed", bag, "--fill-intensity", "0", "--out", tmp_path / "filled")
    assert "4 frames in" in result.stdout and SKIPPED in result.stderr  # a radar's cloud is no LiDAR's
    result = infer_here(tmp / "deployed", bag, "--topic", "/lidar/rear", "--out", tmp_path / "rear")
    assert result.returncode == 0 and "2 frames in" in result.stdout and "skipped" not in result.stderr
    result = infer_here(tmp / "deployed", bag, "--topic", "/lidar/front", "--topic", "/radar/rear", "--out", tmp_path)
    assert result.returncode == 2 and "the cloud has the fields x, y, z, vx, vy, vz, ring" in result.stderr
    args = [tmp / "deployed", bag, tmp_path / "labels", "--topic", "/lidar/front", "--topic", "/lidar/rear"]
    result = run_main(autolabel, args, env, monkeypatch, capsys)
    assert result.returncode == 0, result.stderr[-3000:]
    assert len(list((tmp_path / "labels" / "labels").glob("*_lidar_*.txt"))) == 4
    result = run_main(data, ["bag", bag, tmp_path / "dataset"], env, monkeypatch, capsys)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "bag: 4 frames" in result.stdout and SKIPPED in result.stderr


FRONT = ("base_link", "lidar_front", (1.2, 0.0, 1.9), 0.0)  # at the front, facing forward
MOUNT = ("base_link", "rear_mount", (-0.8, 0.1, 1.5), 0.0)
REAR = ("rear_mount", "lidar_rear", (0.0, 0.0, 0.4), np.pi)  # at the back, turned round: a chain of two links


def _seen_from(points: np.ndarray, *links) -> np.ndarray:
    """base_link points as the LiDAR at the end of ``links`` records them."""
    out = points.copy()
    for _, _, (x, y, z), yaw in links:
        c, s = np.cos(yaw), np.sin(yaw)
        moved = out[:, :3] - np.array([x, y, z])
        out[:, 0], out[:, 1], out[:, 2] = (
            c * moved[:, 0] + s * moved[:, 1],
            -s * moved[:, 0] + c * moved[:, 1],
            moved[:, 2],
        )
    return out.astype(np.float32)


def _two_lidar_bag(kind, path, front: np.ndarray, rear: np.ndarray, pairs: int = 1, odom=()):
    """``front`` and ``rear`` (base_link points) recorded by the two LiDARs 20 ms apart, ``pairs`` times."""
    store = store_for(kind)
    messages = [("/tf_static", TFMESSAGE, 1, tf_message(store, 0, [FRONT, MOUNT, REAR]))]
    messages += [("/tf", TFMESSAGE, stamp, tf_message(store, stamp, [link])) for stamp, link in odom]
    for index in range(pairs):
        stamp = (index + 1) * 100 * MS
        messages.append(
            ("/front", POINTCLOUD2, stamp, cloud(store, _seen_from(front, FRONT), stamp, frame_id="lidar_front"))
        )
        seen = _seen_from(rear, MOUNT, REAR)
        messages.append(
            ("/rear", POINTCLOUD2, stamp + 20 * MS, cloud(store, seen, stamp + 20 * MS, frame_id="/lidar_rear"))
        )
    return write_messages(kind, path, store, messages)


@pytest.mark.parametrize("kind", ["ros1", "ros2-sqlite3"])
def test_two_lidars_are_moved_into_base_link_and_merged(tmp_path, kind):
    from extensions.io.rosbag import Bag
    from mmlab_core.errors import DataFormatError
    from scripts.loop.common.checks import UsageError
    from scripts.loop.infer import sources

    rng = np.random.default_rng(0)
    box = np.c_[rng.uniform([8, 1, -1.6], [12.5, 3, 0], (400, 3)), rng.uniform(0, 1, 400)].astype(np.float32)
    front, rear = box[box[:, 0] >= 10], box[box[:, 0] < 10]  # one car, half seen by each LiDAR
    odom = [
        (50 * MS, ("map", "base_link", (5.0, 0.0, 0.0), 0.0)),
        (150 * MS, ("map", "base_link", (7.0, 0.0, 0.0), 0.0)),
    ]
    bag = _two_lidar_bag(kind, tmp_path / ("two.bag" if kind == "ros1" else "two"), front, rear, pairs=2, odom=odom)
    reading = sources.Reading(frame="base_link", merge_s=0.05)
    with Bag(bag) as source:
        frames = list(sources.read_bag(source, sources.choose_clouds(source, reading, 4), 4, reading))
        assert [(f.stamp_ns, f.topic, f.header.frame_id) for f in frames] == [
            (120 * MS, "/points_merged", "base_link"),
            (220 * MS, "/points_merged", "base_link"),
        ]
        np.testing.assert_allclose(frames[0].points, np.r_[front, rear], atol=1e-4)
        in_map = sources.Reading(frame="map")  # /tf: the latest at or before each cloud's stamp
        moved = list(sources.read_bag(source, source.clouds(["/front"]), 4, in_map))
        np.testing.assert_allclose(moved[0].points[:, :3], front[:, :3] + [5, 0, 0], atol=1e-4)
        np.testing.assert_allclose(moved[1].points[:, :3], front[:, :3] + [7, 0, 0], atol=1e-4)
        with pytest.raises(DataFormatError, match="no transform from frame 'lidar_front' to frame 'odom'") as error:
            next(sources.read_bag(source, source.clouds(), 4, sources.Reading(frame="odom")))
        assert "its TF knows the frames: base_link, lidar_front, lidar_rear, map, rear_mount" in str(error.value)
    with pytest.raises(UsageError, match="add --frame"):
        sources.check_reading(sources.Reading(merge_s=0.05), kind)
    with pytest.raises(UsageError, match="a folder of frames has no TF"):
        sources.check_reading(sources.Reading(frame="base_link"), "frames")


@pytest.mark.slow
def test_an_object_both_lidars_see_is_one_box_in_base_link(deployed, infer_here, learned, datasets, tmp_path):
    """A training frame of the model that detects, split between the two LiDARs (the first car half in each):
    merged in base_link it gives the boxes of the whole frame, and one box on that car."""
    from extensions.io.labels import read_labels
    from extensions.io.points import read_bin
    from scripts.loop.infer.model import load_detector

    truth = datasets / "synthetic"
    name = (truth / "splits" / "train.txt").read_text().split()[0]
    points = read_bin(truth / "points" / f"{name}.bin")
    labels = read_labels(truth / "labels" / f"{name}.txt")
    car = labels.boxes[list(labels.names).index("Car")]
    along = (points[:, 0] - car[0]) * np.cos(car[6]) + (points[:, 1] - car[1]) * np.sin(car[6])
    near = np.hypot(points[:, 0] - car[0], points[:, 1] - car[1]) < 3
    to_front = np.where(near, along >= 0, points[:, 0] >= 0)
    bag = _two_lidar_bag("ros1", tmp_path / "two.bag", points[to_front], points[~to_front])
    out = tmp_path / "out"
    args = ("--checkpoint", learned, "--runtime", "pytorch", "--frame", "base_link", "--merge", "0.05")
    result = infer_here(CONFIG, bag, *args, "--score-thr", "0.3", "--out", out)
    assert result.returncode == 0, result.stderr[-3000:]
    (line,) = [json.loads(line) for line in (out / "detections.jsonl").read_text().splitlines()]
    found = np.array([[*o["center"], *o["size"], o["yaw"]] for o in line["objects"]]).reshape(-1, 7)
    on_car = np.hypot(found[:, 0] - car[0], found[:, 1] - car[1]) < 1.0
    assert on_car.sum() == 1, found
    _, _, detector = load_detector(CONFIG, learned, "pytorch")
    whole = detector.detect(points, None, 0.3).boxes  # the frame as one LiDAR saw it
    assert len(whole) == len(found)
    gaps = np.hypot(*(whole[:, None, :2] - found[None, :, :2]).transpose(2, 0, 1))
    assert gaps.min(axis=1).max() < 0.2, gaps.min(axis=1)


def test_a_file_is_told_by_its_first_bytes(tmp_path):
    """A ROS 1 bag, a ROS 1 profile MCAP whatever its name, a bare ROS 2 MCAP (read as it is); an MCAP of
    another profile and a file of neither kind get a paragraph."""
    from mcap.writer import Writer

    from extensions.io.rosbag import Bag, bag_kind
    from mmlab_core.errors import DataFormatError
    from scripts.loop.infer import sources

    points = np.random.default_rng(1).uniform(-5, 5, (50, 4)).astype(np.float32)
    assert bag_kind(write_bag("ros1", tmp_path / "a.bag", [points])) == "ros1"
    assert bag_kind(write_bag("ros1-mcap", tmp_path / "a.bag2", [points])) == "ros1-mcap"
    bare = next(write_bag("ros2-mcap", tmp_path / "ros2", [points, points]).glob("*.mcap"))
    assert bag_kind(bare) == "ros2-mcap"
    with Bag(bare) as bag:
        frames = list(sources.read_bag(bag, sources.choose_clouds(bag, sources.Reading(), 4), 4))
    assert len(frames) == 2 and np.allclose(frames[1].points, points)
    with (tmp_path / "json.mcap").open("wb") as stream:
        writer = Writer(stream)
        writer.start(profile="", library="tests")
        writer.finish()
    with pytest.raises(DataFormatError, match="is an MCAP file of profile ''; infer reads the ros1 profile"):
        bag_kind(tmp_path / "json.mcap")
    cut = write_bag("ros1-mcap", tmp_path / "cut.mcap", [points] * 20)
    cut.write_bytes(cut.read_bytes()[: cut.stat().st_size // 2])
    with pytest.raises(DataFormatError, match=r"is not a readable ros1-mcap bag .* is it truncated"):
        Bag(cut)
    (tmp_path / "junk.bag").write_bytes(b"junk")
    with pytest.raises(DataFormatError, match=r"starts with b'junk', neither a ROS 1 bag's '#ROSBAG V2\.0' nor MCAP"):
        bag_kind(tmp_path / "junk.bag")
