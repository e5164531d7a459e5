"""The custom LiDAR dataset (registered as ``LidarDataset``).

Reads the info files written by ``scripts/data/convert_lidar.py``; boxes are in the
LiDAR frame with z at the box centre.
"""

from __future__ import annotations

import numpy as np
from mmdet3d.datasets import Det3DDataset
from mmdet3d.registry import DATASETS
from mmdet3d.structures import LiDARInstance3DBoxes

from extensions.classes import DRIVING_CLASSES


@DATASETS.register_module()
class LidarDataset(Det3DDataset):
    METAINFO = {
        "classes": DRIVING_CLASSES,
        "palette": [(255, 128, 0), (0, 128, 255), (0, 200, 100)],
    }

    def __init__(self, data_root: str, ann_file: str, pipeline=(), modality=None, box_type_3d="LiDAR", **kwargs):
        modality = modality or dict(use_lidar=True, use_camera=False)
        super().__init__(
            data_root=data_root,
            ann_file=ann_file,
            pipeline=list(pipeline),
            modality=modality,
            box_type_3d=box_type_3d,
            data_prefix=kwargs.pop("data_prefix", dict(pts="")),
            **kwargs,
        )

    def parse_ann_info(self, info: dict) -> dict:
        ann_info = super().parse_ann_info(info)
        if ann_info is None:
            ann_info = dict(
                gt_bboxes_3d=np.zeros((0, 7), dtype=np.float32),
                gt_labels_3d=np.zeros(0, dtype=np.int64),
            )
        ann_info["gt_bboxes_3d"] = LiDARInstance3DBoxes(
            np.asarray(ann_info["gt_bboxes_3d"], dtype=np.float32).reshape(-1, 7), origin=(0.5, 0.5, 0.5)
        )
        return ann_info


@DATASETS.register_module()
class MultiSensorDataset(LidarDataset):
    """LiDAR + camera frames converted by ``scripts/data/convert_multisensor.py``."""

    def __init__(self, data_root: str, ann_file: str, pipeline=(), modality=None, default_cam_key="front", **kwargs):
        modality = modality or dict(use_lidar=True, use_camera=True)
        kwargs.setdefault("data_prefix", dict(pts="", img=""))
        super().__init__(data_root, ann_file, pipeline, modality=modality, default_cam_key=default_cam_key, **kwargs)
