"""A pillar scatter that also tells the backbone where the pillars are.

``PointPillarsScatter`` writes pillar features into a BEV canvas, so an empty
cell and a pillar whose features happen to be zero look the same. This
variant adds one occupancy channel (1 where a pillar exists), which helps
with the sparse, far returns of driving scenes. The backbone then takes
``in_channels + 1`` channels.
"""

from __future__ import annotations

import torch
from mmdet3d.models.middle_encoders import PointPillarsScatter
from mmdet3d.registry import MODELS


@MODELS.register_module()
class OccupancyPillarScatter(PointPillarsScatter):
    @property
    def out_channels(self) -> int:
        return self.in_channels + 1

    def forward_batch(self, voxel_features: torch.Tensor, coors: torch.Tensor, batch_size: int) -> torch.Tensor:
        canvases = []
        for sample in range(batch_size):
            mask = coors[:, 0] == sample
            indices = (coors[mask, 2] * self.nx + coors[mask, 3]).long()
            canvas = voxel_features.new_zeros(self.out_channels, self.nx * self.ny)
            canvas[:-1, indices] = voxel_features[mask].t()
            canvas[-1, indices] = 1.0
            canvases.append(canvas)
        return torch.stack(canvases).view(batch_size, self.out_channels, self.ny, self.nx)
