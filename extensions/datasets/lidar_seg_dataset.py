"""LiDAR semantic segmentation data (registered as ``LidarSegDataset``).

Reads info files with per-point labels: the custom format's (``scripts/data/convert_lidar.py``, frames with
``labels/<id>.label``) and SemanticKITTI's (``scripts/data/semantickitti.py``). Labels are SemanticKITTI raw
ids; ``extensions.classes.RAW_TO_SEG`` maps them onto ``SEG_CLASSES``, and every other id onto the ignore index.
"""

from __future__ import annotations

import numpy as np
from mmdet3d.datasets import SemanticKittiDataset
from mmdet3d.registry import DATASETS

from extensions.classes import RAW_TO_SEG, SEG_CLASSES, SEG_PALETTE

MAX_RAW_ID = 259  # SemanticKITTI's largest raw id (moving-other-vehicle)


@DATASETS.register_module()
class LidarSegDataset(SemanticKittiDataset):
    METAINFO = {
        "classes": SEG_CLASSES,
        "palette": [list(c) for c in SEG_PALETTE],
        "seg_valid_class_ids": tuple(range(len(SEG_CLASSES))),
        "seg_all_class_ids": tuple(range(len(SEG_CLASSES))),
    }

    def __init__(self, data_root: str, ann_file: str, pipeline=(), metainfo: dict | None = None, **kwargs):
        metainfo = dict(self.METAINFO, seg_label_mapping=RAW_TO_SEG, max_label=MAX_RAW_ID, **(metainfo or {}))
        kwargs.setdefault("data_prefix", dict(pts="", pts_semantic_mask=""))
        super().__init__(data_root=data_root, ann_file=ann_file, pipeline=list(pipeline), metainfo=metainfo, **kwargs)

    def get_seg_label_mapping(self, metainfo: dict) -> np.ndarray:
        """Raw id -> class index; unlisted ids -> the ignore index (upstream's would make them class 0)."""
        mapping = np.full(metainfo["max_label"] + 1, len(SEG_CLASSES), dtype=np.int64)
        for raw, index in metainfo["seg_label_mapping"].items():
            mapping[raw] = index
        return mapping
