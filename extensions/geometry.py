"""Box geometry shared by the converter, the metric and the generator."""

from __future__ import annotations

import numpy as np


def points_in_footprint(points: np.ndarray, box: np.ndarray, margin: float = 0.0) -> np.ndarray:
    """Mask of points over the box's footprint (bird's-eye view), grown by ``margin``."""
    x, y, _, dx, dy, _, yaw = box[:7]
    c, s = np.cos(-yaw), np.sin(-yaw)
    px, py = points[:, 0] - x, points[:, 1] - y
    lx, ly = c * px - s * py, s * px + c * py
    return (np.abs(lx) <= dx / 2 + margin) & (np.abs(ly) <= dy / 2 + margin)


def points_in_box(points: np.ndarray, box: np.ndarray) -> np.ndarray:
    """Mask of points inside an oriented box ``x, y, z (centre), dx, dy, dz, yaw``."""
    return points_in_footprint(points, box) & (np.abs(points[:, 2] - box[2]) <= box[5] / 2)


def centre_to_bottom(boxes: np.ndarray) -> np.ndarray:
    """mmdet3d's LiDAR boxes put z at the bottom of the box."""
    out = np.array(boxes, dtype=np.float32).reshape(-1, 7).copy()
    out[:, 2] -= out[:, 5] / 2
    return out
