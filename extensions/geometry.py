"""Box geometry shared by the converters, the generators, the metric and the pictures.

Boxes are ``x, y, z (centre), dx, dy, dz, yaw`` in the LiDAR frame (x forward,
y left, z up); yaw turns the box's x axis towards y (counter-clockwise seen from
above). mmdet3d's own LiDAR boxes put z at the bottom: see ``centre_to_bottom``.
"""

from __future__ import annotations

import numpy as np


def yaw_rotation(yaw: float | np.ndarray) -> np.ndarray:
    """The rotation by ``yaw`` about z, box frame -> LiDAR frame for column vectors: (2, 2), or (N, 2, 2)
    for N angles."""
    c, s = np.cos(yaw), np.sin(yaw)
    return np.stack([np.stack([c, -s], -1), np.stack([s, c], -1)], -2)


def bev_corners(boxes: np.ndarray) -> np.ndarray:
    """(N, 7) boxes -> (N, 4, 2) footprint corners in polygon order: front left, front right, rear right,
    rear left."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 7)
    local = np.array([[1, 1], [1, -1], [-1, -1], [-1, 1]]) / 2 * boxes[:, None, 3:5]
    return local @ np.swapaxes(yaw_rotation(boxes[:, 6]), -1, -2) + boxes[:, None, :2]


def box_corners(box: np.ndarray) -> np.ndarray:
    """The 8 corners (8, 3) of one box: its footprint at the bottom (first 4) and at the top (last 4)."""
    x, y, z, dx, dy, dz, yaw = np.asarray(box, dtype=np.float64)[:7]
    footprint = bev_corners(np.array([x, y, z, dx, dy, dz, yaw]))[0]
    return np.concatenate([np.c_[footprint, np.full(4, z - dz / 2)], np.c_[footprint, np.full(4, z + dz / 2)]])


def points_in_footprint(points: np.ndarray, box: np.ndarray, margin: float = 0.0) -> np.ndarray:
    """Mask of points over the box's footprint (bird's-eye view), grown by ``margin``."""
    x, y, _, dx, dy, _, yaw = box[:7]
    local = (points[:, :2] - [x, y]) @ yaw_rotation(yaw)  # LiDAR frame -> box frame
    return (np.abs(local[:, 0]) <= dx / 2 + margin) & (np.abs(local[:, 1]) <= dy / 2 + margin)


def points_in_box(points: np.ndarray, box: np.ndarray) -> np.ndarray:
    """Mask of points inside an oriented box ``x, y, z (centre), dx, dy, dz, yaw``."""
    return points_in_footprint(points, box) & (np.abs(points[:, 2] - box[2]) <= box[5] / 2)


def centre_to_bottom(boxes: np.ndarray) -> np.ndarray:
    """mmdet3d's LiDAR boxes put z at the bottom of the box."""
    out = np.array(boxes, dtype=np.float32).reshape(-1, 7).copy()
    out[:, 2] -= out[:, 5] / 2
    return out
