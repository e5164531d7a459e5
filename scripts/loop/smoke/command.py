"""Smoke run of the built stack: import every fork, then run two compiled mmcv
ops (``nms`` and ``Voxelization``) on CPU and check them against plain numpy."""

from __future__ import annotations

import importlib
import sys
import time

import numpy as np


def reference_nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float) -> list[int]:
    """Greedy NMS written independently of mmcv (boxes are x1, y1, x2, y2)."""
    order = list(np.argsort(-scores, kind="stable"))
    keep = []
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    while order:
        best = order.pop(0)
        keep.append(int(best))
        rest = []
        for other in order:
            w = min(boxes[best, 2], boxes[other, 2]) - max(boxes[best, 0], boxes[other, 0])
            h = min(boxes[best, 3], boxes[other, 3]) - max(boxes[best, 1], boxes[other, 1])
            inter = max(w, 0.0) * max(h, 0.0)
            if inter / (area[best] + area[other] - inter) <= iou_threshold:
                rest.append(other)
        order = rest
    return keep


def check_nms(seed: int = 0) -> int:
    import torch
    from mmcv.ops import nms

    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 100, (300, 2)).astype(np.float32)
    wh = rng.uniform(5, 30, (300, 2)).astype(np.float32)
    boxes = np.concatenate([xy, xy + wh], axis=1)
    scores = rng.uniform(0, 1, 300).astype(np.float32)
    _, kept = nms(torch.from_numpy(boxes), torch.from_numpy(scores), iou_threshold=0.5)
    expected = reference_nms(boxes, scores, 0.5)
    if kept.tolist() != expected:
        raise AssertionError(f"mmcv nms kept {len(kept)} boxes, the reference kept {len(expected)}")
    return len(expected)


def check_voxelization(seed: int = 0) -> int:
    import torch
    from mmcv.ops import Voxelization

    rng = np.random.default_rng(seed)
    points = rng.uniform([-10, -10, -3, 0], [60, 50, 2, 1], (5000, 4)).astype(np.float32)
    voxel_size = [0.5, 0.5, 5.0]
    pc_range = [0.0, -40.0, -3.0, 50.0, 40.0, 2.0]
    layer = Voxelization(voxel_size, pc_range, max_num_points=64, max_voxels=100000)
    _, coors, num_points = layer(torch.from_numpy(points))
    inside = np.all((points[:, :3] >= pc_range[:3]) & (points[:, :3] < pc_range[3:]), axis=1)
    cells = np.floor((points[inside, :3] - pc_range[:3]) / voxel_size).astype(np.int64)
    expected = {tuple(c) for c in cells[:, ::-1]}  # mmcv orders coordinates z, y, x
    got = {tuple(c) for c in coors.numpy().tolist()}
    if got != expected or int(num_points.sum()) != int(inside.sum()):
        raise AssertionError(
            f"Voxelization gave {len(got)} voxels / {int(num_points.sum())} points, "
            f"expected {len(expected)} / {int(inside.sum())}"
        )
    return len(expected)


def main() -> int:
    start = time.monotonic()
    for module in ("torch", "mmengine", "mmcv", "mmdet", "mmdet3d", "mmdeploy", "extensions"):
        mod = importlib.import_module(module)
        print(f"  {module:<10} {getattr(mod, '__version__', '?'):<12} {mod.__file__}")
    from mmcv.utils import ext_loader

    ext = ext_loader.load_ext("_ext", ["nms", "hard_voxelize_forward"])
    print(f"  compiled ops: {ext.__name__} from {sys.modules['mmcv._ext'].__file__}")
    print(f"  nms: kept {check_nms()} of 300 boxes, identical to the numpy reference")
    print(f"  Voxelization: {check_voxelization()} voxels, identical to the numpy reference")
    print(f"smoke run passed in {time.monotonic() - start:.1f}s")
    return 0
