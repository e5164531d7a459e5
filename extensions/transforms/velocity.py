"""Zero velocity for boxes without it, for heads that regress velocity (CenterPoint's ``CenterHead``).

``CenterHead`` builds its regression targets from 9-value boxes (x, y, z, l, w, h, yaw, vx, vy). The custom
LiDAR format has no velocity, so its 7-value boxes get vx = vy = 0; put this after ``ObjectSample`` (whose
database boxes are 7-value too).
"""

from __future__ import annotations

import torch
from mmcv.transforms import BaseTransform
from mmdet3d.registry import TRANSFORMS


@TRANSFORMS.register_module()
class ZeroVelocity(BaseTransform):
    """7-value ``gt_bboxes_3d`` become 9-value boxes with zero velocity; 9-value boxes pass unchanged."""

    def transform(self, results: dict) -> dict:
        boxes = results.get("gt_bboxes_3d")
        if boxes is not None and boxes.box_dim == 7:
            padded = torch.cat([boxes.tensor, boxes.tensor.new_zeros(len(boxes), 2)], dim=1)
            results["gt_bboxes_3d"] = type(boxes)(padded, box_dim=9, with_yaw=boxes.with_yaw)
        return results
