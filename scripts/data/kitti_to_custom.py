"""KITTI object layout -> the project's custom LiDAR layout (extensions/io/labels.py).

KITTI labels are boxes in the rectified camera frame (bottom centre, l h w,
rotation_y); ours are LiDAR-frame boxes (centre, dx dy dz, yaw). The move is
mmdet3d's own: ``CameraInstance3DBoxes.convert_to(Box3DMode.LIDAR, rt_mat)``
with ``rt_mat = inv(R0_rect @ Tr_velo_to_cam)``, labels parsed by mmdet3d's
``kitti_data_utils.get_label_anno``. DontCare regions are dropped.

Output::

    OUT/points/<id>.bin   OUT/labels/<id>.txt   OUT/splits/{train,val}.txt
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from extensions.io.labels import format_labels
from mmlab_core.errors import DataFormatError
from mmlab_core.files import atomic_path, atomic_write
from scripts.data.kitti import check_frame, read_ids
from scripts.data.mmdet3d_tools import converter, require


def read_calib(path: Path) -> dict[str, np.ndarray]:
    """``R0_rect`` and ``Tr_velo_to_cam`` of a KITTI calib file, as 4x4 matrices."""
    rows = dict(line.split(":", 1) for line in path.read_text().splitlines() if ":" in line)
    matrices = {}
    for key, shape in (("R0_rect", (3, 3)), ("Tr_velo_to_cam", (3, 4))):
        try:
            values = np.array(rows[key].split(), dtype=np.float64).reshape(shape)
        except (KeyError, ValueError):
            raise DataFormatError(path, f"{key} is missing or is not {shape[0]}x{shape[1]} numbers") from None
        matrix = np.eye(4)
        matrix[: shape[0], : shape[1]] = values
        matrices[key] = matrix
    return matrices


def lidar_boxes(label_path: Path, calib_path: Path) -> tuple[list[str], np.ndarray]:
    """Names and (N, 7) LiDAR-frame boxes (centre, dx dy dz, yaw) of one KITTI label file."""
    from mmdet3d.structures import Box3DMode, CameraInstance3DBoxes

    annos = converter("kitti_data_utils", "KITTI").get_label_anno(str(label_path))
    keep = annos["name"] != "DontCare"
    camera = np.concatenate(
        [annos["location"][keep], annos["dimensions"][keep], annos["rotation_y"][keep, None]], axis=1
    ).reshape(-1, 7)
    calib = read_calib(calib_path)
    rt_mat = np.linalg.inv(calib["R0_rect"] @ calib["Tr_velo_to_cam"])
    lidar = CameraInstance3DBoxes(camera.astype(np.float32)).convert_to(Box3DMode.LIDAR, rt_mat)
    boxes = np.concatenate([lidar.gravity_center.numpy(), lidar.dims.numpy(), lidar.yaw.numpy()[:, None]], axis=1)
    return [str(name) for name in annos["name"][keep]], boxes


def convert(src: Path, out: Path) -> int:
    """Write every train/val frame of ``src`` to ``out`` in the custom layout; returns the number of frames."""
    require(src / "training", "the KITTI training folder")
    splits = {"train": read_ids(src, "train"), "val": read_ids(src, "val")}
    frames = sorted(set(splits["train"] + splits["val"]))
    for sub in ("points", "labels", "splits"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    training = src / "training"
    for index, frame_id in enumerate(frames, 1):
        check_frame(src, frame_id, ("velodyne", "calib", "label_2"))
        label = training / "label_2" / f"{frame_id}.txt"
        try:
            names, boxes = lidar_boxes(label, training / "calib" / f"{frame_id}.txt")
        except (ValueError, IndexError) as exc:
            raise DataFormatError(label, f"not a KITTI label file ({exc})") from None
        with atomic_path(out / "points" / f"{frame_id}.bin") as tmp:
            shutil.copyfile(training / "velodyne" / f"{frame_id}.bin", tmp)
        atomic_write(out / "labels" / f"{frame_id}.txt", format_labels(names, boxes))
        print(f"kitti-to-custom: [{index}/{len(frames)}] {frame_id}: {len(names)} objects", flush=True)
    for split, ids in splits.items():
        atomic_write(out / "splits" / f"{split}.txt", "".join(f"{i}\n" for i in ids))
    return len(frames)
