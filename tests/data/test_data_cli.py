"""``nox -s data``: mmdet3d's converters over the real KITTI frame and the
generated KITTI layout, KITTI labels moved into the LiDAR frame, and the
paragraphs a user gets for bad input or a missing dataset SDK."""

from __future__ import annotations

import importlib.util
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest

from extensions.geometry import points_in_box
from extensions.io.labels import read_labels
from mmlab_core.cli import run
from mmlab_core.settings import current
from scripts.data import cli, synth_scenes
from tests.data.kitti_layout import FRAME, make_kitti_layout
from tests.helpers.kitti_scan import kitti_infos

SHARED = current().shared / "data"


def data(argv: list) -> int:
    """``nox -s data -- argv``, in process; returns the exit code."""
    return run(lambda: cli.main([str(a) for a in argv]))


def _no_leftovers(folder: Path) -> None:
    assert not [p.name for p in folder.iterdir() if p.name.startswith(".")], "a staging folder was left behind"


@pytest.fixture(scope="module")
def real_kitti(tmp_path_factory) -> tuple[Path, Path]:
    """The real frame in KITTI layout, converted into a separate OUT."""
    src = make_kitti_layout(tmp_path_factory.mktemp("kitti"))
    out = tmp_path_factory.mktemp("kitti-out")
    assert data(["kitti", src, out]) == 0
    return src, out


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    """4 generated frames (3 train, 1 val) with their KITTI layout and camera images."""
    root = tmp_path_factory.mktemp("generated")
    synth_scenes.generate(root, train=3, val=1, seed=3, camera=True, kitti=True)
    return root


def test_kitti_converts_the_real_frame(real_kitti):
    """Infos, GT database and reduced clouds from mmdet3d's converter; point counts match KITTI's own infos."""
    src, out = real_kitti
    reference = kitti_infos()["data_list"][0]["instances"]
    infos = pickle.loads((out / "kitti_infos_train.pkl").read_bytes())
    (info,) = infos["data_list"]
    assert info["sample_idx"] == int(FRAME)
    assert [i["num_lidar_pts"] for i in info["instances"]] == [i["num_lidar_pts"] for i in reference]
    np.testing.assert_allclose([i["bbox_3d"] for i in info["instances"]], [i["bbox_3d"] for i in reference], atol=0.01)
    # 2D boxes projected from the 3D labels (mmdet3d's points_cam2img, the patched path) land on the labelled ones
    projected = [c["bbox"] for c in info["cam_instances"]["CAM2"]]
    labelled = [i["bbox"] for i in reference if i["bbox_label_3d"] >= 0]
    np.testing.assert_allclose(projected, labelled, atol=3.0)
    db = pickle.loads((out / "kitti_dbinfos_train.pkl").read_bytes())
    assert len(db["Car"]) == 6 and len(list((out / "kitti_gt_database").glob("*.bin"))) == 6
    assert (out / "training" / "velodyne_reduced" / f"{FRAME}.bin").stat().st_size > 0
    assert (out / "training" / "velodyne").resolve() == (src / "training" / "velodyne").resolve()
    _no_leftovers(out)
    _no_leftovers(src)


def test_kitti_converts_the_generated_layout(generated):
    root = generated / "kitti"
    assert data(["kitti", root]) == 0
    train = pickle.loads((root / "kitti_infos_train.pkl").read_bytes())["data_list"]
    val = pickle.loads((root / "kitti_infos_val.pkl").read_bytes())["data_list"]
    assert (len(train), len(val)) == (3, 1)
    objects = sum(len(read_labels(generated / "labels" / f"{i:06d}.txt").names) for i in range(3))
    assert sum(len(f["instances"]) for f in train) == objects
    _no_leftovers(root)


def test_kitti_refuses_a_missing_label_file(tmp_path, capsys):
    src = make_kitti_layout(tmp_path / "kitti")
    (src / "training" / "label_2" / f"{FRAME}.txt").unlink()
    assert data(["kitti", src]) == 2
    err = capsys.readouterr().err
    assert f"label_2/{FRAME}.txt" in err and err.count("\n") == 1
    assert not list(src.glob("*.pkl"))


def test_kitti_refuses_a_short_label_line(tmp_path, capsys):
    src = make_kitti_layout(tmp_path / "kitti")
    label = src / "training" / "label_2" / f"{FRAME}.txt"
    label.write_text(label.read_text() + "Car 0 0 0 1 2 3\n")
    assert data(["kitti", src]) == 2
    assert f"{label}:11: 7 fields" in capsys.readouterr().err


def test_kitti_failure_leaves_no_info_files(tmp_path, monkeypatch, capsys):
    """A converter that dies after writing the infos leaves OUT as it was."""
    from scripts.data.mmdet3d_tools import converter

    def dies(*args, **kwargs):
        raise RuntimeError("killed during the GT database")

    monkeypatch.setattr(converter("create_gt_database", "KITTI"), "create_groundtruth_database", dies)
    src = make_kitti_layout(tmp_path / "kitti")
    with pytest.raises(RuntimeError, match="killed"):
        cli.main(["kitti", str(src)])
    assert sorted(p.name for p in src.iterdir()) == ["ImageSets", "training"]


def _wrapped(angle: np.ndarray) -> np.ndarray:
    return (angle + np.pi) % (2 * np.pi) - np.pi


def test_kitti_to_custom_gives_back_the_generated_boxes(generated, tmp_path):
    """The generated KITTI labels come from known LiDAR-frame boxes; the move back recovers them."""
    out = tmp_path / "custom"
    assert data(["kitti-to-custom", generated / "kitti", out]) == 0
    for frame_id in [f"{i:06d}" for i in range(4)]:
        original = read_labels(generated / "labels" / f"{frame_id}.txt")
        moved = read_labels(out / "labels" / f"{frame_id}.txt")
        assert moved.names == original.names
        np.testing.assert_allclose(moved.boxes[:, :6], original.boxes[:, :6], atol=1e-3)
        np.testing.assert_allclose(_wrapped(moved.boxes[:, 6] - original.boxes[:, 6]), 0, atol=1e-3)
    assert (out / "splits" / "train.txt").read_text().split() == ["000000", "000001", "000002"]
    assert data(["custom", out]) == 0
    assert len(pickle.loads((out / "lidar_infos_train.pkl").read_bytes())["data_list"]) == 3


def test_kitti_to_custom_boxes_hold_the_real_cars_points(real_kitti, tmp_path):
    """On the real frame, each moved box holds the car's LiDAR points (KITTI's own count), and a box with
    the yaw convention flipped would not."""
    src, _ = real_kitti
    out = tmp_path / "custom"
    assert data(["kitti-to-custom", src, out]) == 0
    labels = read_labels(out / "labels" / f"{FRAME}.txt")
    points = np.fromfile(out / "points" / f"{FRAME}.bin", dtype=np.float32).reshape(-1, 4)
    reference = [i["num_lidar_pts"] for i in kitti_infos()["data_list"][0]["instances"] if i["bbox_label_3d"] >= 0]
    assert labels.names == ["Car"] * 6
    for box, expected in zip(labels.boxes, reference, strict=True):
        inside = points_in_box(points, box).sum()
        flipped = points_in_box(points, np.concatenate([box[:6], -box[6:]])).sum()
        assert abs(inside - expected) <= max(2, 0.02 * expected)
        assert flipped < 0.9 * inside


def _needs_missing(module: str) -> None:
    if importlib.util.find_spec(module) is not None:
        pytest.skip(f"{module} is installed: the conversion itself is tested instead")


def test_nuscenes_without_the_devkit_says_what_is_missing(tmp_path, capsys):
    _needs_missing("nuscenes")
    src = tmp_path / "nuscenes"
    shutil.copytree(SHARED / "nuscenes-samples", src)
    shutil.copytree(SHARED / "lyft-mini" / "v1.01-train" / "v1.01-train", src / "v1.0-mini")  # same schema
    assert data(["nuscenes", src, "--version", "v1.0-mini"]) == 2
    err = capsys.readouterr().err
    assert "nuscenes_converter.py" in err and "nuscenes-devkit" in err and "patches/nuscenes-devkit/" in err
    _no_leftovers(src)


def test_nuscenes_refuses_a_folder_without_tables(capsys):
    assert data(["nuscenes", SHARED / "nuscenes-samples", "--version", "v1.0-mini"]) == 2
    assert "nuscenes-samples/v1.0-mini/scene.json" in capsys.readouterr().err


def test_lyft_without_the_sdk_says_what_is_missing(tmp_path, capsys):
    _needs_missing("lyft_dataset_sdk")
    assert data(["lyft", SHARED / "lyft-mini", tmp_path]) == 2
    assert "lyft_dataset_sdk" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_waymo_without_its_sdk_says_what_is_missing(tmp_path, capsys):
    _needs_missing("waymo_open_dataset")
    for split in ("training", "validation"):
        (tmp_path / "waymo_format" / split).mkdir(parents=True)
        (tmp_path / "waymo_format" / split / "segment-0.tfrecord").write_bytes(b"")
    assert data(["waymo", tmp_path]) == 2
    err = capsys.readouterr().err
    assert "waymo_converter.py" in err and "waymo-open-dataset" in err and "numpy==1.23.5" in err


def test_bag_then_custom(tmp_path):
    from tests.data.test_rosbag import _write

    rng = np.random.default_rng(0)
    clouds = [np.c_[rng.uniform(-20, 20, (200, 3)), rng.uniform(0, 1, (200, 1))].astype(np.float32) for _ in range(3)]
    _write("ros1", tmp_path / "drive.bag", clouds)
    assert data(["bag", tmp_path / "drive.bag", tmp_path / "frames"]) == 0
    infos = pickle.loads((tmp_path / "frames" / "lidar_infos_val.pkl").read_bytes())
    assert len(infos["data_list"]) == 3
