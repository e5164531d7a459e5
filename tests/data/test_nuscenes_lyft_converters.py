"""``nox -s data -- nuscenes|lyft``: mmdet3d's converters over the real nuScenes sample and the real Lyft tables.

nuScenes: the real sample's tables (tests/data/nuscenes_layout.py) convert into infos whose boxes and velocities are
the sample's own mmdet3d info file's, and into a GT database of its objects. Needs
patches/mmdetection3d/nuscenes-info-updater-read-the-tables-from-the-data-root-not.patch (the updater opened the
tables at ./data/nuscenes).

Lyft: the real tables name LiDAR files the sample does not ship, so converting it as is stops with a paragraph
naming the first one. With a point file put under each name, the infos' boxes are the annotations moved from the
global frame into the LiDAR frame, checked against plain matrix algebra. Needs
patches/mmdetection3d/lyft-converter-read-the-scene-lists-from-the-data-root-not-d.patch (the converter read its
scene lists from ./data/lyft).
"""

from __future__ import annotations

import json
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("nuscenes", reason="needs the nuscenes-devkit fork: run `nox -s setup`")
pytest.importorskip("lyft_dataset_sdk", reason="needs the lyft-dataset-sdk fork: run `nox -s setup`")

from mmlab_core.cli import run
from mmlab_core.settings import current
from scripts.data import cli
from tests.data.nuscenes_layout import make_nuscenes_layout, sample_infos

LYFT = current().shared / "data" / "lyft-mini"
VERSION = "v1.01-train"
REPO = Path(__file__).resolve().parents[2]


def data(argv: list) -> int:
    """``nox -s data -- argv``, in process; returns the exit code."""
    return run(lambda: cli.main([str(a) for a in argv]))


def _wrapped(angle: np.ndarray) -> np.ndarray:
    return (angle + np.pi) % (2 * np.pi) - np.pi


@pytest.fixture(scope="module")
def nuscenes_out(tmp_path_factory) -> Path:
    src = make_nuscenes_layout(tmp_path_factory.mktemp("nus-src"))
    out = tmp_path_factory.mktemp("nus-out")
    assert data(["nuscenes", src, out, "--version", "v1.0-mini"]) == 0
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")], "a staging folder was left behind"
    return out


def test_nuscenes_infos_hold_the_samples_boxes(nuscenes_out):
    """The train infos (the samples' scene is a mini_train one) hold the info file's boxes and velocities."""
    reference = {info["token"]: info for info in sample_infos()["data_list"]}
    infos = pickle.loads((nuscenes_out / "nuscenes_infos_train.pkl").read_bytes())
    assert infos["metainfo"]["version"] == "v1.0-mini"
    assert sorted(info["token"] for info in infos["data_list"]) == sorted(reference)
    for info in infos["data_list"]:
        expected = reference[info["token"]]["instances"]
        assert len(info["instances"]) == len(expected) > 30
        boxes = np.array([i["bbox_3d"] for i in info["instances"]])
        truth = np.array([i["bbox_3d"] for i in expected])
        np.testing.assert_allclose(boxes[:, :6], truth[:, :6], atol=1e-4)  # LiDAR-frame centres and sizes
        np.testing.assert_allclose(_wrapped(boxes[:, 6] - truth[:, 6]), 0, atol=1e-4)
        assert [i["bbox_label_3d"] for i in info["instances"]] == [i["bbox_label_3d"] for i in expected]
        # from the annotations' neighbours 0.25 s away, in the global frame, dropping vz as mmdet3d does
        velocity = np.array([i["velocity"] for i in info["instances"]])
        np.testing.assert_allclose(velocity, [i["velocity"] for i in expected], atol=0.01)
        assert len(info["images"]) == 6
    val = pickle.loads((nuscenes_out / "nuscenes_infos_val.pkl").read_bytes())["data_list"]
    assert len(val) == 4  # the velocity carriers, 0.25 s before and after each sample


def test_nuscenes_dataset_reads_the_converted_samples(nuscenes_out):
    """mmdet3d's NuScenesDataset over OUT finds each sample's LiDAR file and its sweep."""
    from mmdet3d.datasets import NuScenesDataset

    dataset = NuScenesDataset(
        data_root=str(nuscenes_out), ann_file="nuscenes_infos_train.pkl",
        data_prefix=dict(pts="samples/LIDAR_TOP", sweeps="sweeps/LIDAR_TOP"), test_mode=True,
    )  # fmt: skip
    sweeps = []
    for index in range(len(dataset)):
        info = dataset.get_data_info(index)
        assert Path(info["lidar_points"]["lidar_path"]).is_file()
        sweeps += [Path(s["lidar_points"]["lidar_path"]) for s in info.get("lidar_sweeps", [])]
    assert [path.name for path in sweeps] == ["n015-2018-08-02-17-16-37+0800__LIDAR_TOP__1533201470898274.pcd.bin"]
    assert all(path.is_file() for path in sweeps)


def test_nuscenes_gt_database_has_the_objects(nuscenes_out):
    """One entry per valid box (LiDAR or radar points) of the train samples, at the box's place and of its class."""
    infos = pickle.loads((nuscenes_out / "nuscenes_infos_train.pkl").read_bytes())["data_list"]
    reference = {info["token"]: info["instances"] for info in sample_infos()["data_list"]}
    classes = ("car", "truck", "trailer", "bus", "construction_vehicle", "bicycle", "motorcycle", "pedestrian",
               "traffic_cone", "barrier")  # fmt: skip
    db = pickle.loads((nuscenes_out / "nuscenes_dbinfos_train.pkl").read_bytes())
    entries = [entry for group in db.values() for entry in group]
    valid = [  # per sample, the boxes with LiDAR or radar points; the database numbers them in this order
        [j for j, box in enumerate(reference[info["token"]]) if box["num_lidar_pts"] + box["num_radar_pts"] > 0]
        for info in infos
    ]
    expected = [(i, k) for i, boxes in enumerate(valid) for k in range(len(boxes))]
    assert sorted((e["image_idx"], e["gt_idx"]) for e in entries) == expected and len(expected) > 60
    for entry in entries:
        box = infos[entry["image_idx"]]["instances"][valid[entry["image_idx"]][entry["gt_idx"]]]
        assert entry["name"] == classes[box["bbox_label_3d"]]
        bottom = np.array(box["bbox_3d"]) - [0, 0, box["bbox_3d"][5] / 2, 0, 0, 0, 0]  # mmdet3d: z at the bottom
        np.testing.assert_allclose(entry["box3d_lidar"][:6], bottom[:6], atol=1e-4)
        points = nuscenes_out / entry["path"]
        assert points.is_file() and points.stat().st_size == entry["num_points_in_gt"] * 5 * 4


def test_lyft_as_shipped_names_the_missing_lidar_file(tmp_path):
    """The sample's tables name LiDAR files it does not ship: exit 2, one paragraph, nothing written."""
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-m", "scripts.data.cli", "lyft", str(LYFT), str(out)],
        capture_output=True, text=True, timeout=300, cwd=REPO,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr[-2000:]
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ")
    missing = LYFT.resolve() / VERSION / "lidar" / "host-a101_lidar1_1240710385903083166.bin"  # SRC is resolved
    assert f"{missing}: does not exist" in result.stderr and "sample_data.json" in result.stderr
    assert not out.exists() or not list(out.iterdir())


def _lyft_with_points(root: Path) -> Path:
    """The Lyft tables copied into ``root``, a float32 N x 5 point file under each LiDAR name they hold."""
    for path in (LYFT / VERSION).rglob("*"):  # plain copies: the shared data is read-only
        if path.is_file():
            (root / path.relative_to(LYFT)).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, root / path.relative_to(LYFT))
    rng = np.random.default_rng(0)
    for record in json.loads((root / VERSION / VERSION / "sample_data.json").read_text()):
        if record["fileformat"] == "bin":
            (root / VERSION / record["filename"]).parent.mkdir(parents=True, exist_ok=True)
            rng.uniform(-40, 40, (1000, 5)).astype(np.float32).tofile(root / VERSION / record["filename"])
    return root


def _one_sample_scene(root: Path) -> str:
    """The mini tables keep one of the scene's 126 samples: point the scene record at that one; its name."""
    tables = root / VERSION / VERSION
    (sample,) = json.loads((tables / "sample.json").read_text())
    (scene,) = json.loads((tables / "scene.json").read_text())
    scene.update(first_sample_token=sample["token"], last_sample_token=sample["token"], nbr_samples=1)
    (tables / "scene.json").write_text(json.dumps([scene]))
    return scene["name"]


def test_lyft_refuses_dangling_references(tmp_path, capsys):
    """A sweep the tables do not hold, a scene whose first sample is missing and a missing scene list are
    paragraphs naming the table or file."""
    src = _lyft_with_points(tmp_path / "lyft")
    assert data(["lyft", src]) == 2
    err = capsys.readouterr().err
    assert f"{src / VERSION / VERSION / 'sample_data.json'}: LiDAR record" in err and "--sweeps 0" in err
    assert data(["lyft", src, "--sweeps", "0"]) == 2
    assert f"{src / VERSION / VERSION / 'scene.json'}: scene 'host-a101-" in capsys.readouterr().err
    _one_sample_scene(src)
    assert data(["lyft", src, "--sweeps", "0"]) == 2  # no scene lists
    assert f"{src / 'train.txt'}: the Lyft scene list" in capsys.readouterr().err
    assert not list(src.glob("*.pkl"))


def _rotation(quaternion: list[float]) -> np.ndarray:
    w, x, y, z = quaternion
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
        [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
        [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
    ])  # fmt: skip


def test_lyft_infos_hold_the_annotations_in_the_lidar_frame(tmp_path):
    src = _lyft_with_points(tmp_path / "lyft")
    (src / "train.txt").write_text(_one_sample_scene(src) + "\n")
    (src / "val.txt").write_text("")
    out = tmp_path / "out"
    assert data(["lyft", src, out, "--sweeps", "0"]) == 0
    assert not (out / "lyft_infos_val.pkl").exists()  # no val scene
    (info,) = pickle.loads((out / "lyft_infos_train.pkl").read_bytes())["data_list"]

    tables = src / VERSION / VERSION
    load = {name: {r["token"]: r for r in json.loads((tables / f"{name}.json").read_text())}
            for name in ("sample_data", "ego_pose", "calibrated_sensor", "sensor", "sample_annotation")}  # fmt: skip
    (lidar,) = [r for r in load["sample_data"].values() if r["filename"].endswith(info["lidar_points"]["lidar_path"])]
    calibration = load["calibrated_sensor"][lidar["calibrated_sensor_token"]]
    assert load["sensor"][calibration["sensor_token"]]["channel"] == "LIDAR_TOP"
    pose = load["ego_pose"][lidar["ego_pose_token"]]
    annotations = [a for a in load["sample_annotation"].values() if a["sample_token"] == info["token"]]
    assert len(info["instances"]) == len(annotations) == 4

    centres = np.array([a["translation"] for a in annotations])  # global frame
    in_ego = (centres - pose["translation"]) @ _rotation(pose["rotation"])  # R^T (p - t), row-wise
    in_lidar = (in_ego - calibration["translation"]) @ _rotation(calibration["rotation"])
    boxes = np.array([i["bbox_3d"] for i in info["instances"]])
    np.testing.assert_allclose(boxes[:, :3], in_lidar, atol=1e-3)
    np.testing.assert_allclose(boxes[:, 3:6], [[a["size"][1], a["size"][0], a["size"][2]] for a in annotations])
    assert (out / VERSION / "lidar" / info["lidar_points"]["lidar_path"]).is_file()
