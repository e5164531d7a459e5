"""The real KITTI scan in ../shared/data/kitti-000008, laid out as a tiny
mmdet3d KITTI dataset (info file + velodyne folder) in a temp dir."""

from __future__ import annotations

import pickle
import shutil
from pathlib import Path

import pytest

from mmlab_core.settings import current

KITTI_SCAN = current().shared / "data" / "kitti-000008"
CLASSES = ("Pedestrian", "Cyclist", "Car")


def require_scan() -> Path:
    """The scan's folder; fails (not skips) when ../shared is missing."""
    if not (KITTI_SCAN / "000008.bin").exists():
        pytest.fail(f"the real KITTI scan is missing: {KITTI_SCAN} (clone next to ../shared or set MMLAB_SHARED_DIR)")
    return KITTI_SCAN


def kitti_infos(frames: int = 1) -> dict:
    """The scan's mmdet3d info dict, ``frames`` times, as mmdet3d's converter writes it."""
    infos = pickle.loads((require_scan() / "000008.pkl").read_bytes())
    # mmdet3d's converter writes these keys; the shared copy lacks them
    infos["metainfo"]["categories"] = {**{name: i for i, name in enumerate(CLASSES)}, "DontCare": -1}
    infos["data_list"] = [dict(infos["data_list"][0], sample_idx=i) for i in range(frames)]
    return infos


def make_kitti_root(root: Path, frames: int = 1) -> Path:
    """Write ``root/kitti_infos.pkl`` and ``root/training/velodyne/000008.bin``."""
    velodyne = root / "training" / "velodyne"
    velodyne.mkdir(parents=True, exist_ok=True)
    shutil.copy(require_scan() / "000008.bin", velodyne / "000008.bin")
    (root / "kitti_infos.pkl").write_bytes(pickle.dumps(kitti_infos(frames)))
    return root
