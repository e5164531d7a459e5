"""patches/mmdetection3d/convert-kitti-without-nuscenes-devkit.patch: mmdet3d's
KITTI converter, its info updater and ``mmdet3d.datasets.convert_utils`` import
and project boxes without nuscenes-devkit (which pins numpy<2)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

# import the KITTI converter path with nuscenes made unimportable, whether or not the devkit is installed
WITHOUT_NUSCENES = """
import sys
sys.modules["nuscenes"] = None
from scripts.data.mmdet3d_tools import converter
for name in ("kitti_converter", "update_infos_to_v2", "create_gt_database"):
    converter(name, "KITTI")
import mmdet3d.datasets.convert_utils
print("imported")
"""


def test_the_kitti_converter_imports_without_nuscenes():
    result = subprocess.run([sys.executable, "-c", WITHOUT_NUSCENES], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().endswith("imported")


def test_kitti_style_2d_boxes_are_the_pinhole_projection():
    """``get_kitti_style_2d_boxes`` projects with mmdet3d's points_cam2img (was nuscenes' view_points)."""
    from mmdet3d.datasets.convert_utils import get_kitti_style_2d_boxes

    intrinsics = np.array([[700.0, 0, 600, 0], [0, 700.0, 180, 0], [0, 0, 1, 0], [0, 0, 0, 1]])
    # a 2 m cube straight ahead, 10 m away, bottom centre 1 m below the camera (camera frame: y down)
    annos = dict(
        name=np.array(["Car"]), location=np.array([[0.0, 1.0, 10.0]]), dimensions=np.array([[2.0, 2.0, 2.0]]),
        rotation_y=np.array([0.0]), truncated=np.array([0.0]), occluded=np.array([0]), alpha=np.array([0.0]),
        bbox=np.zeros((1, 4)), score=np.zeros(1), difficulty=np.array([0]),
    )  # fmt: skip
    info = dict(
        image=dict(image_idx=0, image_shape=np.array([375, 1242])),
        calib=dict(P2=intrinsics, R0_rect=np.eye(4), Tr_velo_to_cam=np.eye(4)),
    )
    (record,) = get_kitti_style_2d_boxes(info, cam_idx=2, occluded=(0, 1, 2, 3), annos=annos)
    half = 700 * 1.0 / 9.0  # the near face, 9 m away, spans -1..1 m both ways
    np.testing.assert_allclose(record["bbox"], [600 - half, 180 - half, 600 + half, 180 + half], atol=1e-3)
