"""One zoo family: an upstream config, the inputs its training step gets and the frame it predicts on.

``config`` is relative to the package's ``.mim/configs`` (``scope`` says which package), or to this repository
when it starts with ``configs/``; ``frame`` is the real input predicted on (``kitti`` LiDAR, ``nuscenes`` LiDAR,
``kitti-image`` camera, ``kitti-both``, ``kitti-depth``: the KITTI scan as an indoor depth cloud, see frames.py);
``inputs`` are keyword arguments for upstream's own test helper (``mmdet3d.testing.create_detector_inputs``
or ``mmdet.testing.demo_mm_inputs``); ``deploy`` a deploy config of ours under configs/deploy/ where
mmdeploy supports the model (deploy_3d.py sets it for the mmdet3d families its tasks could take);
``no_export`` why mmdeploy has no task for the family at all (the zoo shows "n/a"); ``group`` the ops the
family leans on (the CI subset takes one per group).
A family whose ``config`` is None has no upstream config, and ``missing`` says why; a family with a config
and ``missing`` needs a package this stack lacks: the probe still builds it, and reports ``missing`` if that fails.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Family:
    name: str
    scope: str  # "mmdet3d" | "mmdet"
    config: str | None
    kind: str  # "lidar" | "indoor" | "seg" | "mono3d" | "multiview" | "multimodal" | "2d"
    frame: str  # "kitti" | "nuscenes" | "kitti-image" | "kitti-both" | "kitti-depth" | "kitti-depth-image"
    group: str
    inputs: dict = field(default_factory=dict)
    deploy: str | None = None
    missing: str = ""
    no_export: str = ""
