"""Point loading for the custom formats: ``.bin`` or ``.pcd``, with clear
errors, and zero-filled columns when ``use_dim`` is wider than ``load_dim``
(so 4-D data can feed a model trained on 5-D points). A PCD without intensity gets
``fill_intensity`` (0, as the converters give it; None refuses such files)."""

from __future__ import annotations

import numpy as np
from mmdet3d.datasets.transforms import LoadPointsFromFile
from mmdet3d.registry import TRANSFORMS

from extensions.io.fields import TRAINING_FILL
from extensions.io.points import read_points


@TRANSFORMS.register_module()
class LoadLidarPoints(LoadPointsFromFile):
    """``LoadPointsFromFile`` that also reads PCD and pads missing columns."""

    def __init__(
        self,
        load_dim: int = 4,
        use_dim: int | list[int] = 4,
        coord_type: str = "LIDAR",
        fill_intensity: float | None = TRAINING_FILL,
        **kwargs,
    ):
        width = use_dim if isinstance(use_dim, int) else max(use_dim) + 1
        self.file_dim = load_dim
        self.fill_intensity = fill_intensity
        # the parent checks use_dim against load_dim: give it the padded width
        super().__init__(coord_type=coord_type, load_dim=max(load_dim, width), use_dim=use_dim, **kwargs)

    def _load_points(self, pts_filename: str) -> np.ndarray:
        points = read_points(pts_filename, self.file_dim, self.fill_intensity)
        if self.load_dim > self.file_dim:
            pad = np.zeros((len(points), self.load_dim - self.file_dim), dtype=np.float32)
            points = np.concatenate([points, pad], axis=1)
        return points.reshape(-1)
