"""The real KITTI frame 000008 (../shared/data/kitti-000008) written back into
KITTI's own folder layout (velodyne, image_2, calib, label_2, ImageSets), so the
converters read it the way they read a downloaded KITTI."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from tests.helpers.kitti_scan import CLASSES, kitti_infos, require_scan

FRAME = "000008"


def _row(key: str, matrix) -> str:
    return f"{key}: " + " ".join(f"{v:.12e}" for v in np.asarray(matrix, dtype=float).ravel()) + "\n"


def calib_text(info: dict) -> str:
    """KITTI's calib file: P0-P3 (3x4), R0_rect (3x3), Tr_velo_to_cam and Tr_imu_to_velo (3x4)."""
    images, lidar = info["images"], info["lidar_points"]
    rows = [_row(f"P{i}", np.asarray(images[f"CAM{i}"]["cam2img"])[:3]) for i in range(4)]
    rows.append(_row("R0_rect", np.asarray(images["R0_rect"])[:3, :3]))
    rows.append(_row("Tr_velo_to_cam", np.asarray(lidar["Tr_velo_to_cam"])[:3]))
    rows.append(_row("Tr_imu_to_velo", np.asarray(lidar["Tr_imu_to_velo"])[:3]))
    return "".join(rows)


def label_text(info: dict) -> str:
    """KITTI's label file: type trunc occl alpha x1 y1 x2 y2 h w l x y z ry (camera frame, bottom centre)."""
    lines = []
    for obj in info["instances"]:
        x, y, z, length, height, width, ry = obj["bbox_3d"]
        x1, y1, x2, y2 = obj["bbox"]
        name = CLASSES[obj["bbox_label_3d"]] if obj["bbox_label_3d"] >= 0 else "DontCare"
        lines.append(
            f"{name} {obj['truncated']:.2f} {obj['occluded']} {obj['alpha']:.2f} {x1:.2f} {y1:.2f} {x2:.2f} {y2:.2f} "
            f"{height:.2f} {width:.2f} {length:.2f} {x:.2f} {y:.2f} {z:.2f} {ry:.2f}\n"
        )
    return "".join(lines)


def make_kitti_layout(root: Path) -> Path:
    """``root/training/{velodyne,image_2,calib,label_2}/000008.*`` and ``root/ImageSets/{train,val,test}.txt``."""
    scan, info = require_scan(), kitti_infos()["data_list"][0]
    training = root / "training"
    for sub in ("velodyne", "image_2", "calib", "label_2"):
        (training / sub).mkdir(parents=True, exist_ok=True)
    shutil.copy(scan / f"{FRAME}.bin", training / "velodyne" / f"{FRAME}.bin")
    shutil.copy(scan / f"{FRAME}.png", training / "image_2" / f"{FRAME}.png")
    (training / "calib" / f"{FRAME}.txt").write_text(calib_text(info))
    (training / "label_2" / f"{FRAME}.txt").write_text(label_text(info))
    (root / "ImageSets").mkdir(exist_ok=True)
    for split, ids in (("train", FRAME), ("val", FRAME), ("test", "")):
        (root / "ImageSets" / f"{split}.txt").write_text(f"{ids}\n" if ids else "")
    return root
