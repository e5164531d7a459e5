"""Parity cases for mmcv's box, voxel and 2D ops (PointPillars, SECOND, CenterPoint, PartA2, PV-RCNN,
the DCN and RoI families, focal losses): the scenes of tests/patches/test_mmcv_cpu_ops_boxes_voxels.py and
test_mmcv_cpu_deform_roi_pool.py, moved here."""

from __future__ import annotations

import numpy as np
import torch

from scripts.loop.gpu_check.cases_points import FLOAT, _ops, cloud, ints
from scripts.loop.gpu_check.parity import EXACT, Case, Tolerance

CONV = Tolerance(1e-4, 1e-4)  # sums of products in another order
GRAD = Tolerance(1e-4, 1e-3)


def scene(seed: int = 0, batch: int = 2, points: int = 3000, boxes: int = 12):
    """Points in a 40 m square and yawed boxes (x, y, z_bottom, dx, dy, dz, yaw) that overlap some of them."""
    rng = np.random.default_rng(seed)
    pts = rng.uniform([-20, -20, -3], [20, 20, 3], size=(batch, points, 3)).astype(np.float32)
    centres = rng.uniform([-15, -15, -2], [15, 15, 0], size=(batch, boxes, 3))
    sizes = rng.uniform([1, 1, 1], [8, 5, 3], size=(batch, boxes, 3))
    yaw = rng.uniform(-np.pi, np.pi, size=(batch, boxes, 1))
    return torch.from_numpy(pts), torch.from_numpy(np.concatenate([centres, sizes, yaw], -1).astype(np.float32))


def boxes_2d(n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 100, size=(n, 2))
    wh = rng.uniform(5, 40, size=(n, 2))
    return torch.from_numpy(np.concatenate([xy, xy + wh], 1).astype(np.float32)), torch.from_numpy(
        rng.uniform(size=n).astype(np.float32)
    )


def _by_coors(outs: list[torch.Tensor], coors_at: int = 1) -> list[torch.Tensor]:
    """Voxels in the order of their coordinates (a device may number them in another order)."""
    coors = outs[coors_at].long()
    key = torch.zeros(len(coors), dtype=torch.long)
    for column in range(coors.shape[1]):
        key = key * 4096 + coors[:, column] + 2048
    order = torch.argsort(key)
    return [o[order] for o in outs]


def _voxelize(x, max_points: int):
    layer = _ops().Voxelization([0.5, 0.5, 0.5], [-20, -20, -3, 20, 20, 3], max_points, 20000)
    return list(layer(x["points"])) if max_points > 0 else [layer(x["points"])]


def _focal(x, device: str):
    from mmdet.models.losses.focal_loss import sigmoid_focal_loss  # mmcv's kernel on CUDA, PyTorch on the CPU

    return [sigmoid_focal_loss(x["pred"], x["labels"].long(), None, 2.0, 0.25, "none")]


def _pool3d(x, mode: str):
    pool = _ops().RoIAwarePool3d(out_size=3, max_pts_per_voxel=128, mode=mode)
    return [pool(x["boxes"], x["points"], x["feats"])]


def cases() -> list[Case]:
    """Every box, voxel and 2D op, forward and (where it has one) backward."""
    pts, bxs = scene(0)
    single = {"points": pts[0], "boxes": bxs[0], "feats": cloud(3000, 3, seed=7, scale=1)}
    out = [
        Case(
            "nms",
            "nms",
            lambda: dict(zip(("boxes", "scores"), boxes_2d(500), strict=True)),
            lambda x, d: list(_ops().nms(x["boxes"], x["scores"], 0.5))[::-1],  # indices first, exact
            FLOAT,
        ),
        Case(
            "nms_rotated",
            "nms_rotated",
            lambda: {
                "boxes": torch.cat(
                    [
                        boxes_2d(300)[0][:, :2],
                        cloud(300, 2, seed=1, scale=1).abs() * 20 + 2,
                        cloud(300, 1, seed=2, scale=3),
                    ],
                    1,
                ),
                "scores": boxes_2d(300)[1],
            },
            lambda x, d: [_ops().nms_rotated(x["boxes"], x["scores"], 0.3)[1]],
        ),
        Case(
            "box_iou_rotated",
            "box_iou_rotated",
            lambda: {"a": bxs[0][:, [0, 1, 3, 4, 6]], "b": bxs[1][:, [0, 1, 3, 4, 6]]},
            lambda x, d: [_ops().box_iou_rotated(x["a"], x["b"])],
            Tolerance(1e-5, 1e-4),
        ),
        Case(
            "voxelization_hard",
            "voxelization (hard)",
            lambda: {"points": cloud(20000, 4, seed=3, scale=20)},
            lambda x, d: _voxelize(x, 16),
            EXACT,
            canon=_by_coors,
        ),
        Case(
            "voxelization_dynamic",
            "voxelization (dynamic)",
            lambda: {"points": cloud(20000, 4, seed=4, scale=20)},
            lambda x, d: _voxelize(x, -1),
        ),
        Case(
            "points_in_boxes_all",
            "points_in_boxes_all",
            lambda: {"points": pts, "boxes": bxs},
            lambda x, d: [_ops().points_in_boxes_all(x["points"], x["boxes"])],
        ),
        Case(
            "points_in_boxes_part",
            "points_in_boxes_part",
            lambda: {"points": pts, "boxes": bxs},
            lambda x, d: [_ops().points_in_boxes_part(x["points"], x["boxes"])],
        ),
        Case(
            "roipoint_pool3d",
            "roipoint_pool3d",
            lambda: {"points": pts, "feats": cloud(2, 3000, 5, seed=5, scale=1), "boxes": bxs},
            lambda x, d: list(_ops().RoIPointPool3d(64)(x["points"], x["feats"], x["boxes"])),
        ),
        Case(
            "roiaware_pool3d_max",
            "roiaware_pool3d (max)",
            lambda: dict(single),
            lambda x, d: _pool3d(x, "max"),
            FLOAT,
            ("feats",),
        ),
        Case(
            "roiaware_pool3d_avg",
            "roiaware_pool3d (avg)",
            lambda: dict(single),
            lambda x, d: _pool3d(x, "avg"),
            FLOAT,
            ("feats",),
        ),
        Case(
            "roi_align",
            "roi_align",
            lambda: {
                "feats": cloud(2, 8, 40, 48, seed=9, scale=1),
                "rois": torch.cat([ints(2, 30, 1, seed=1).float(), boxes_2d(30, seed=2)[0] * 1.5], 1),
            },
            lambda x, d: [_ops().roi_align(x["feats"], x["rois"], (7, 7), 0.25, 2, "avg", True)],
            FLOAT,
            ("feats",),
            GRAD,
        ),
        Case(
            "deform_roi_pool",
            "deform_roi_pool",
            lambda: {
                "feats": cloud(2, 3, 20, 24, seed=0, scale=1),
                "rois": torch.cat([ints(2, 20, 1, seed=3).float(), boxes_2d(20, seed=4)[0] * 0.7], 1),
                "offset": cloud(20, 2, 3, 4, seed=5, scale=1),
            },
            lambda x, d: [_ops().deform_roi_pool(x["feats"], x["rois"], x["offset"], (3, 4), 0.25, 2, 0.1)],
            FLOAT,
            ("feats", "offset"),
            GRAD,
        ),
        Case(
            "deform_conv2d",
            "deform_conv",
            lambda: {
                "x": cloud(2, 8, 24, 24, seed=6, scale=1),
                "offset": cloud(2, 18, 24, 24, seed=7, scale=2),
                "weight": cloud(16, 8, 3, 3, seed=8, scale=0.2),
            },
            lambda x, d: [_ops().deform_conv2d(x["x"], x["offset"], x["weight"], 1, 1)],
            CONV,
            ("x", "offset", "weight"),
            GRAD,
        ),
        Case(
            "modulated_deform_conv2d",
            "modulated_deform_conv",
            lambda: {
                "x": cloud(2, 8, 24, 24, seed=9, scale=1),
                "offset": cloud(2, 18, 24, 24, seed=10, scale=2),
                "mask": cloud(2, 9, 24, 24, seed=11, scale=1).sigmoid(),
                "weight": cloud(16, 8, 3, 3, seed=12, scale=0.2),
                "bias": cloud(16, seed=13, scale=0.1),
            },
            lambda x, d: [_ops().modulated_deform_conv2d(x["x"], x["offset"], x["mask"], x["weight"], x["bias"], 1, 1)],
            CONV,
            ("x", "offset", "mask", "weight"),
            GRAD,
        ),
        Case(
            "sigmoid_focal_loss",
            "sigmoid_focal_loss",
            lambda: {"pred": cloud(400, 10, seed=14, scale=3), "labels": ints(11, 400, seed=15)},
            _focal,
            FLOAT,
            ("pred",),
        ),
    ]
    for reduce in ("sum", "mean", "max"):
        out.append(
            Case(
                f"dynamic_scatter_{reduce}",
                f"dynamic_scatter ({reduce})",
                lambda: {"feats": cloud(5000, 4, seed=2, scale=1), "coors": _dropped(ints(8, 5000, 3, seed=3))},
                lambda x, d, r=reduce: list(_ops().dynamic_scatter(x["feats"], x["coors"], r)),
                FLOAT,
                ("feats",),
            )
        )
    return out


def _dropped(coors: torch.Tensor) -> torch.Tensor:
    coors[::37, 1] = -1  # points outside the grid are dropped
    return coors
