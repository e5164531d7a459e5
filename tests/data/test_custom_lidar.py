"""Synthetic scenes -> custom LiDAR format -> mmdet3d infos + GT database ->
LidarDataset -> PointPillars training and the per-band LiDAR metric."""

from __future__ import annotations

import math
import os
import pickle

import numpy as np
import pytest
import torch

from extensions.geometry import points_in_box
from extensions.io.labels import read_labels
from extensions.io.points import read_bin
from mmlab_core.errors import DataFormatError
from scripts.data.convert_lidar import convert, read_split
from scripts.data.synth_lidar import blocked
from scripts.data.synth_scenes import MAX_RANGE, MIN_POINTS, generate, make_frame

CONFIG = "configs/pointpillars_lidar-custom-3class.py"


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    base = tmp_path_factory.mktemp("datasets")
    generate(base / "synthetic", train=6, val=2, seed=1)
    written = convert(base / "synthetic")
    return base, written


def test_generator_is_deterministic_and_realistic():
    a, b = make_frame(5), make_frame(5)
    np.testing.assert_array_equal(a.points, b.points)
    assert not np.array_equal(a.points, make_frame(6).points)
    assert np.hypot(a.points[:, 0], a.points[:, 1]).max() <= MAX_RANGE
    for box in a.boxes:
        assert points_in_box(a.points, box).sum() >= MIN_POINTS  # every labelled object is seen
    ground = a.points[np.abs(a.points[:, 2] + 1.73) < 0.1]
    assert len(ground) > 0.3 * len(a.points)


def test_a_smaller_field_keeps_every_object_inside_it():
    """The demo's near field (a CPU-sized detector's range): objects and clutter are placed inside it only."""
    near = (3.0, 44.0, 21.0)
    frames = [make_frame(seed, near) for seed in range(4)]
    boxes = np.concatenate([f.boxes for f in frames])
    assert len(boxes) >= 12 and boxes[:, 0].max() <= near[1] and np.abs(boxes[:, 1]).max() <= near[2]
    assert max(np.hypot(*f.boxes[:, :2].T).max() for f in frames if len(f.boxes)) <= near[1]
    default = np.concatenate([make_frame(seed).boxes for seed in range(4)])
    assert np.hypot(*default[:, :2].T).max() > near[1]  # the default field reaches further


def test_scenes_have_clutter_varied_sizes_and_occlusion():
    frames = [make_frame(seed) for seed in range(6)]
    # clutter: many points above the ground belong to no labelled object
    for frame in frames:
        above = frame.points[frame.points[:, 2] > -1.5]
        in_objects = np.zeros(len(above), bool)
        for box in frame.boxes:
            in_objects |= points_in_box(above, box)
        assert (~in_objects).sum() > 100
    cars = np.concatenate([f.boxes[[n == "Car" for n in f.names]] for f in frames])
    assert cars[:, 3].min() < 3.6 and cars[:, 3].max() > 4.6  # compact cars to vans
    # occlusion: a point behind a solid is dropped, one beside it is kept
    wall = np.array([10.0, 0.0, -0.73, 0.3, 4.0, 2.0, 0.0])
    behind, beside = np.array([[20.0, 0.0, -1.0]]), np.array([[20.0, 8.0, -1.0]])
    assert blocked(behind, wall)[0] and not blocked(beside, wall)[0]
    assert not blocked(np.array([[9.8, 0.0, -1.0]]), wall)[0]  # in front of it: seen


def test_converter_writes_infos_and_gt_database(dataset):
    base, written = dataset
    root = base / "synthetic"
    infos = pickle.loads((root / "lidar_infos_train.pkl").read_bytes())
    assert written["train"][1] == 6 and written["val"][1] == 2
    first = infos["data_list"][0]
    labels = read_labels(root / "labels" / f"{first['frame_id']}.txt")
    np.testing.assert_allclose([i["bbox_3d"] for i in first["instances"]], labels.boxes, atol=1e-6)
    db = pickle.loads((root / "lidar_dbinfos_train.pkl").read_bytes())
    entries = [e for group in db.values() for e in group]
    assert len(entries) == written["gt_database"][1] == sum(len(i["instances"]) for i in infos["data_list"])
    sample = max(entries, key=lambda e: e["num_points_in_gt"])
    points = read_bin(root / sample["path"])
    assert len(points) == sample["num_points_in_gt"] > 0
    # stored relative to the bottom centre: z spans [0, height]
    assert points[:, 2].min() >= -0.01 and points[:, 2].max() <= sample["box3d_lidar"][5] + 0.01


def test_missing_frame_names_the_split_line(tmp_path):
    generate(tmp_path, train=2, val=1)
    (tmp_path / "points" / "000001.bin").unlink()
    with pytest.raises(
        DataFormatError, match=r"splits/train\.txt:2: frame 000001: neither points/000001\.bin nor \.pcd"
    ):
        read_split(tmp_path, "train")


def test_dataset_and_padding_loader(dataset):
    from mmdet3d.registry import DATASETS
    from mmdet3d.utils import register_all_modules

    import extensions

    extensions.register()

    register_all_modules()
    base, _ = dataset
    pipeline = [
        dict(type="LoadLidarPoints", load_dim=4, use_dim=5),
        dict(type="LoadAnnotations3D"),
        dict(type="Pack3DDetInputs", keys=["points", "gt_bboxes_3d", "gt_labels_3d"]),
    ]
    root = str(base / "synthetic")
    metainfo = dict(classes=["Pedestrian", "Cyclist", "Car"])
    ann_file = "lidar_infos_train.pkl"
    ds = DATASETS.build(
        dict(type="LidarDataset", data_root=root, ann_file=ann_file, pipeline=pipeline, metainfo=metainfo)
    )
    item = ds[0]
    points = item["inputs"]["points"]
    assert points.shape[1] == 5 and torch.all(points[:, 4] == 0)  # 4-D data padded for a 5-D model
    info = ds.get_data_info(0)
    boxes = item["data_samples"].gt_instances_3d.bboxes_3d
    raw = read_labels(base / "synthetic" / "labels" / f"{info['frame_id']}.txt")
    np.testing.assert_allclose(boxes.gravity_center.numpy(), raw.boxes[:, :3], atol=1e-5)
    order = ["Pedestrian", "Cyclist", "Car"]
    assert [order[i] for i in item["data_samples"].gt_instances_3d.labels_3d.tolist()] == raw.names


def test_lidar_metric_ap_per_class_and_band():
    from extensions.evaluation import average_precision

    gt = np.array([[10, 0, -1.7, 3.9, 1.6, 1.5, 0.3], [40, 5, -1.7, 3.9, 1.6, 1.5, 1.0]], np.float32)
    perfect = [dict(gt=gt, pred=gt.copy(), score=np.array([0.9, 0.8]))]
    assert average_precision(perfect, 0.7, "3d") == pytest.approx(100.0)
    shifted = gt.copy()
    shifted[:, 0] += 1.0  # 1 m off: BEV IoU 0.44 and 0.26
    assert average_precision([dict(gt=gt, pred=shifted, score=np.array([0.9, 0.8]))], 0.7, "bev") == 0.0
    assert average_precision([dict(gt=gt, pred=shifted, score=np.array([0.9, 0.8]))], 0.2, "bev") == pytest.approx(
        100.0
    )
    half = [dict(gt=gt, pred=gt[:1], score=np.array([0.9]))]
    assert average_precision(half, 0.7, "bev") == pytest.approx(50.0)
    assert math.isnan(average_precision([dict(gt=gt[:0], pred=gt, score=np.ones(2))], 0.7, "bev"))


def test_pointpillars_trains_and_evaluates_on_generated_data(dataset, tmp_path, monkeypatch):
    from mmengine.config import Config
    from mmengine.runner import Runner

    base, _ = dataset
    monkeypatch.setenv("MMLAB_DATASET_PATH", str(base))
    cfg = Config.fromfile(CONFIG)
    assert cfg.train_dataloader.dataset.data_root == f"{base}/synthetic/"
    cfg.work_dir = str(tmp_path)
    cfg.train_dataloader.batch_size = 1
    cfg.train_cfg = dict(type="IterBasedTrainLoop", max_iters=2, val_interval=2)
    cfg.param_scheduler = []
    cfg.default_hooks.checkpoint = dict(type="CheckpointHook", interval=2, by_epoch=False)
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert math.isfinite(runner.message_hub.get_scalar("train/loss").current())
    logged = runner.message_hub.log_scalars
    assert "val/lidar/mAP_3D" in logged and "val/lidar/Car/BEV_AP40_0-30m" in logged
    assert os.path.exists(tmp_path / "iter_2.pth")


def test_kitti_layout_holds_the_same_boxes(tmp_path):
    from mmdet3d.structures import Box3DMode, CameraInstance3DBoxes

    generate(tmp_path, train=2, val=1, seed=4, camera=True, kitti=True)
    kitti = tmp_path / "kitti" / "training"
    assert (tmp_path / "kitti" / "ImageSets" / "val.txt").read_text().split() == ["000002"]
    np.testing.assert_array_equal(
        read_bin(kitti / "velodyne" / "000000.bin"), read_bin(tmp_path / "points" / "000000.bin")
    )
    assert (kitti / "image_2" / "000000.png").exists()
    calib = {
        k: np.array(v.split(), float)
        for k, v in (line.split(":", 1) for line in (kitti / "calib" / "000000.txt").read_text().splitlines())
    }
    velo_to_cam = np.vstack([calib["Tr_velo_to_cam"].reshape(3, 4), [0, 0, 0, 1]])
    rows = [line.split() for line in (kitti / "label_2" / "000000.txt").read_text().splitlines()]
    # KITTI: h w l, x y z (camera, bottom), ry  ->  mmdet3d camera boxes: x y z l h w ry
    cam = np.array(
        [[*map(float, r[11:14]), float(r[10]), float(r[8]), float(r[9]), float(r[14])] for r in rows], np.float32
    )
    lidar = CameraInstance3DBoxes(cam).convert_to(Box3DMode.LIDAR, np.linalg.inv(velo_to_cam))
    labels = read_labels(tmp_path / "labels" / "000000.txt")
    np.testing.assert_allclose(lidar.gravity_center.numpy(), labels.boxes[:, :3], atol=2e-3)
    np.testing.assert_allclose(lidar.dims.numpy(), labels.boxes[:, 3:6], atol=2e-3)
    yaw_diff = (lidar.yaw.numpy() - labels.boxes[:, 6] + np.pi) % (2 * np.pi) - np.pi
    np.testing.assert_allclose(yaw_diff, 0, atol=2e-3)
