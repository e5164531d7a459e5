"""mmcv's points-in-boxes and dynamic scatter ops on the CPU, checked against NumPy references written here.

Patches:
patches/mmcv/ops-points-in-boxes-part-all-cpu-kernels.patch
patches/mmcv/ops-dynamic-point-to-voxel-cpu-forward-and-backward.patch
patches/mmcv/ops-roipoint-pool3d-cpu-kernel.patch
patches/mmcv/ops-roiaware-pool3d-cpu-forward-and-backward.patch
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from mmcv import ops

# ---- points_in_boxes -----------------------------------------------------------------------


def _inside(points: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """(N, T) bool: point n in box t; boxes are (x, y, z_bottom, dx, dy, dz, yaw), open in x/y, closed in z."""
    p = points[:, None, :].astype(np.float64)
    b = boxes[None].astype(np.float64)
    dx, dy = p[..., 0] - b[..., 0], p[..., 1] - b[..., 1]
    c, s = np.cos(b[..., 6]), np.sin(b[..., 6])
    u, v = c * dx + s * dy, -s * dx + c * dy  # the offset in the box frame
    in_z = np.abs(p[..., 2] - (b[..., 2] + b[..., 5] / 2)) <= b[..., 5] / 2
    return in_z & (np.abs(u) < b[..., 3] / 2) & (np.abs(v) < b[..., 4] / 2)


def _scene(seed: int = 0):
    rng = np.random.default_rng(seed)
    points = rng.uniform([-20, -20, -3], [20, 20, 3], size=(2, 3000, 3)).astype(np.float32)
    centres = rng.uniform([-15, -15, -2], [15, 15, 0], size=(2, 12, 3))
    sizes = rng.uniform([1, 1, 1], [8, 5, 3], size=(2, 12, 3))
    yaw = rng.uniform(-np.pi, np.pi, size=(2, 12, 1))
    boxes = np.concatenate([centres, sizes, yaw], -1).astype(np.float32)
    boxes[:, 1] = boxes[:, 0]  # overlapping boxes: "part" takes the lowest index
    return points, boxes


def test_points_in_boxes_all_and_part_match_reference():
    points, boxes = _scene()
    flags = ops.points_in_boxes_all(torch.from_numpy(points), torch.from_numpy(boxes))
    first = ops.points_in_boxes_part(torch.from_numpy(points), torch.from_numpy(boxes))
    for b in range(2):
        inside = _inside(points[b], boxes[b])
        assert inside.sum() > 50  # the scene puts points in boxes
        np.testing.assert_array_equal(flags[b].numpy(), inside.astype(np.int32))
        expected = np.where(inside.any(1), inside.argmax(1), -1)
        np.testing.assert_array_equal(first[b].numpy(), expected)


def test_points_in_boxes_with_no_boxes_or_no_points():
    points, boxes = _scene(1)
    no_boxes = torch.zeros(2, 0, 7)
    assert (ops.points_in_boxes_part(torch.from_numpy(points), no_boxes) == -1).all()
    assert ops.points_in_boxes_all(torch.from_numpy(points), no_boxes).shape == (2, 3000, 0)
    assert ops.points_in_boxes_part(torch.zeros(2, 0, 3), torch.from_numpy(boxes)).shape == (2, 0)


def test_roipoint_pool3d_pools_the_first_points_inside_each_box():
    points, boxes = _scene(4)
    feats = np.random.default_rng(5).normal(size=(2, 3000, 5)).astype(np.float32)
    boxes[1, 3] = [100, 100, 0, 1, 1, 1, 0]  # a box with no point in it
    pool = ops.RoIPointPool3d(num_sampled_points=64)
    pooled, empty = pool(torch.from_numpy(points), torch.from_numpy(feats), torch.from_numpy(boxes))
    assert pooled.shape == (2, 12, 64, 8)
    for b in range(2):
        inside = _inside(points[b], boxes[b])
        for t in range(12):
            members = np.nonzero(inside[:, t])[0][:64]
            assert empty[b, t] == (len(members) == 0)
            if len(members) == 0:
                assert (pooled[b, t] == 0).all()
                continue
            picked = members[np.arange(64) % len(members)]  # fewer than 64: repeated cyclically
            expected = np.concatenate([points[b][picked], feats[b][picked]], 1)
            np.testing.assert_array_equal(pooled[b, t].numpy(), expected)
    assert empty[1, 3] == 1


def _voxel_of(points: np.ndarray, box: np.ndarray, out: int) -> np.ndarray:
    """Flat (x, y, z) voxel of each point in the box's out**3 grid, from the offset in the box frame."""
    c, s = np.cos(box[6]), np.sin(box[6])
    dx, dy = points[:, 0] - box[0], points[:, 1] - box[1]
    local = np.stack([c * dx + s * dy + box[3] / 2, -s * dx + c * dy + box[4] / 2, points[:, 2] - box[2]], 1)
    cell = np.clip(np.floor(local / (box[3:6] / out)).astype(int), 0, out - 1)
    return (cell[:, 0] * out + cell[:, 1]) * out + cell[:, 2]


@pytest.mark.parametrize("mode", ["max", "avg"])
def test_roiaware_pool3d_forward_and_backward(mode):
    points, boxes = _scene(6)
    points, boxes = points[0], boxes[0]
    feats_np = np.random.default_rng(7).normal(size=(3000, 3)).astype(np.float32)
    feats = torch.from_numpy(feats_np).requires_grad_()
    pool = ops.RoIAwarePool3d(out_size=3, max_pts_per_voxel=128, mode=mode)
    pooled = pool(torch.from_numpy(boxes), torch.from_numpy(points), feats)
    assert pooled.shape == (12, 3, 3, 3, 3)

    grad = np.random.default_rng(8).normal(size=pooled.shape).astype(np.float32)
    pooled.backward(torch.from_numpy(grad))
    expected = np.zeros((12, 27, 3), np.float32)
    expected_grad = np.zeros_like(feats_np)
    inside = _inside(points, boxes)
    for t in range(12):
        members = np.nonzero(inside[:, t])[0]
        voxel = _voxel_of(points[members], boxes[t].astype(np.float64), 3)
        for v in np.unique(voxel):
            pts = members[voxel == v]
            g = grad[t].reshape(27, 3)[v]
            if mode == "max":
                expected[t, v] = feats_np[pts].max(0)
                np.add.at(expected_grad, (pts[feats_np[pts].argmax(0)], np.arange(3)), g)
            else:
                expected[t, v] = feats_np[pts].mean(0)
                expected_grad[pts] += g / len(pts)
    np.testing.assert_allclose(pooled.detach().numpy().reshape(12, 27, 3), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(feats.grad.numpy(), expected_grad, rtol=1e-5, atol=1e-5)


# ---- dynamic scatter -----------------------------------------------------------------------


def _scatter_reference(feats: np.ndarray, coors: np.ndarray, reduce: str):
    keep = (coors >= 0).all(1)
    voxels, inverse = np.unique(coors[keep], axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    out = np.stack([getattr(np, reduce)(feats[keep][inverse == v], axis=0) for v in range(len(voxels))])
    return out, voxels, keep, inverse


@pytest.mark.parametrize("reduce", ["sum", "mean", "max"])
def test_dynamic_scatter_forward_and_backward(reduce):
    rng = np.random.default_rng(2)
    feats_np = rng.normal(size=(500, 4)).astype(np.float32)
    coors_np = rng.integers(0, 4, size=(500, 3)).astype(np.int32)
    coors_np[::37, 1] = -1  # points outside the grid are dropped
    feats = torch.from_numpy(feats_np).requires_grad_()
    voxel_feats, voxel_coors = ops.dynamic_scatter(feats, torch.from_numpy(coors_np), reduce)

    expected, voxels, keep, inverse = _scatter_reference(feats_np, coors_np, reduce)
    np.testing.assert_array_equal(voxel_coors.numpy(), voxels)
    np.testing.assert_allclose(voxel_feats.detach().numpy(), expected, rtol=1e-5, atol=1e-5)

    grad = rng.normal(size=expected.shape).astype(np.float32)
    voxel_feats.backward(torch.from_numpy(grad))
    expected_grad = np.zeros_like(feats_np)
    kept = np.nonzero(keep)[0]
    if reduce == "max":
        for v in range(len(voxels)):
            members = kept[inverse == v]
            winners = members[feats_np[members].argmax(0)]  # the first point holding the maximum
            expected_grad[winners, np.arange(4)] = grad[v]
    else:
        counts = np.bincount(inverse) if reduce == "mean" else np.ones(len(voxels))
        expected_grad[kept] = grad[inverse] / counts[inverse][:, None]
    np.testing.assert_allclose(feats.grad.numpy(), expected_grad, rtol=1e-5, atol=1e-6)


def test_dynamic_scatter_max_gives_a_tied_gradient_to_the_first_point():
    feats = torch.tensor([[1.0], [3.0], [3.0]], requires_grad=True)
    voxel_feats, _ = ops.dynamic_scatter(feats, torch.zeros(3, 3, dtype=torch.int32), "max")
    voxel_feats.sum().backward()
    assert feats.grad.flatten().tolist() == [0.0, 1.0, 0.0]


def test_dynamic_scatter_of_no_points_and_of_only_dropped_points():
    feats, coors = ops.dynamic_scatter(torch.zeros(0, 4), torch.zeros(0, 3, dtype=torch.int32), "mean")
    assert feats.shape == (0, 4) and coors.shape == (0, 3)
    feats, coors = ops.dynamic_scatter(torch.ones(5, 4), -torch.ones(5, 3, dtype=torch.int32), "sum")
    assert feats.shape == (0, 4) and coors.shape == (0, 3)
