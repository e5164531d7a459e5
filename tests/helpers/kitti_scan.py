"""The real KITTI scan in ../shared/data/kitti-000008, laid out as a tiny
mmdet3d KITTI dataset (info file + velodyne folder) in a temp dir."""

from __future__ import annotations

import pickle
import shutil
from pathlib import Path

from scripts.paths import REPO_ROOT

KITTI_SCAN = REPO_ROOT.parent / "shared" / "data" / "kitti-000008"
CLASSES = ("Pedestrian", "Cyclist", "Car")


def make_kitti_root(root: Path, frames: int = 1) -> Path:
    """Write ``root/kitti_infos.pkl`` and ``root/training/velodyne/000008.bin``."""
    velodyne = root / "training" / "velodyne"
    velodyne.mkdir(parents=True, exist_ok=True)
    shutil.copy(KITTI_SCAN / "000008.bin", velodyne / "000008.bin")
    infos = pickle.loads((KITTI_SCAN / "000008.pkl").read_bytes())
    # mmdet3d's converter writes these keys; the shared copy lacks them
    infos["metainfo"]["categories"] = {**{name: i for i, name in enumerate(CLASSES)}, "DontCare": -1}
    infos["data_list"] = [dict(infos["data_list"][0], sample_idx=i) for i in range(frames)]
    (root / "kitti_infos.pkl").write_bytes(pickle.dumps(infos))
    return root
