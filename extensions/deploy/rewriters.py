"""Export-time versions of extension modules, registered with mmdeploy.

``OccupancyPillarScatter.forward_batch`` loops over the batch with boolean
masks, which the ONNX exporter can only trace into a fixed batch and
NonZero/Gather chains. Deployment runs one sample at a time, so the rewrite
scatters all pillars at once with ``scatter_`` (as mmdeploy does for
``PointPillarsScatter``) and writes the occupancy channel the same way.
"""

from __future__ import annotations

import torch
from mmdeploy.core import FUNCTION_REWRITER


@FUNCTION_REWRITER.register_rewriter("extensions.models.occupancy_scatter.OccupancyPillarScatter.forward_batch")
def occupancy_pillar_scatter__forward_batch(self, voxel_features, coors, batch_size=1):
    indices = (coors[:, 2] * self.nx + coors[:, 3]).long()
    canvas = torch.zeros(self.in_channels, self.nx * self.ny, dtype=voxel_features.dtype, device=voxel_features.device)
    canvas.scatter_(dim=1, index=indices.expand(self.in_channels, -1), src=voxel_features.t())
    occupancy = torch.zeros(1, self.nx * self.ny, dtype=voxel_features.dtype, device=voxel_features.device)
    occupancy.scatter_(
        dim=1, index=indices.unsqueeze(0), src=torch.ones_like(indices, dtype=voxel_features.dtype)[None]
    )
    return torch.cat([canvas, occupancy]).view(1, self.in_channels + 1, self.ny, self.nx)
