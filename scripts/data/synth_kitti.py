"""Write synthetic frames in the KITTI object layout, for tools that expect it::

    <out>/training/velodyne/<id>.bin   training/label_2/<id>.txt   training/calib/<id>.txt
    <out>/training/image_2/<id>.png    (when camera images were rendered)
    <out>/ImageSets/{train,val}.txt

Labels are in the rectified camera frame (KITTI: x right, y down, z forward;
location is the bottom centre; rotation_y = -yaw - pi/2).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from extensions.geometry import box_corners
from extensions.io.points import write_bin
from mmlab_core.files import atomic_write
from scripts.data.synth_camera import HEIGHT, WIDTH, camera_calibration, project


def _calib_text(intrinsics: np.ndarray, lidar_to_camera: np.ndarray) -> str:
    p = np.zeros((3, 4))
    p[:, :3] = intrinsics
    rows = {f"P{i}": p for i in range(4)}
    rows["R0_rect"] = np.eye(3)
    rows["Tr_velo_to_cam"] = lidar_to_camera[:3]
    rows["Tr_imu_to_velo"] = np.eye(4)[:3]
    return "".join(f"{key}: " + " ".join(f"{v:.12e}" for v in np.asarray(m).ravel()) + "\n" for key, m in rows.items())


def label_lines(names: list[str], boxes: np.ndarray, lidar_to_camera: np.ndarray) -> str:
    lines = []
    for name, (x, y, z, dx, dy, dz, yaw) in zip(names, boxes, strict=True):
        bottom = lidar_to_camera @ np.array([x, y, z - dz / 2, 1.0])
        ry = -yaw - np.pi / 2
        ry = (ry + np.pi) % (2 * np.pi) - np.pi
        alpha = ry - np.arctan2(bottom[0], bottom[2])
        corners = box_corners(np.array([x, y, z, dx, dy, dz, yaw]))
        if x > 1.0:
            uv = project(corners)
            x1, y1 = np.clip(uv.min(0), 0, [WIDTH - 1, HEIGHT - 1])
            x2, y2 = np.clip(uv.max(0), 0, [WIDTH - 1, HEIGHT - 1])
        else:
            x1 = y1 = x2 = y2 = 0.0
        lines.append(
            f"{name} 0.00 0 {alpha:.4f} {x1:.2f} {y1:.2f} {x2:.2f} {y2:.2f} "
            f"{dz:.4f} {dy:.4f} {dx:.4f} {bottom[0]:.4f} {bottom[1]:.4f} {bottom[2]:.4f} {ry:.4f}\n"
        )
    return "".join(lines)


def write_kitti(out: Path, frames: dict, train_ids: list[str], val_ids: list[str], images: Path | None = None) -> None:
    calib = camera_calibration()
    training = out / "training"
    for sub in ("velodyne", "label_2", "calib", "image_2"):
        (training / sub).mkdir(parents=True, exist_ok=True)
    (out / "ImageSets").mkdir(parents=True, exist_ok=True)
    for frame_id, frame in frames.items():
        write_bin(training / "velodyne" / f"{frame_id}.bin", frame.points)
        (training / "label_2" / f"{frame_id}.txt").write_text(
            label_lines(frame.names, frame.boxes, calib["lidar_to_camera"])
        )
        (training / "calib" / f"{frame_id}.txt").write_text(_calib_text(calib["intrinsics"], calib["lidar_to_camera"]))
        if images is not None and (images / f"{frame_id}.png").exists():
            shutil.copy(images / f"{frame_id}.png", training / "image_2" / f"{frame_id}.png")
    atomic_write(out / "ImageSets" / "train.txt", "".join(f"{i}\n" for i in train_ids))
    atomic_write(out / "ImageSets" / "val.txt", "".join(f"{i}\n" for i in val_ids))
