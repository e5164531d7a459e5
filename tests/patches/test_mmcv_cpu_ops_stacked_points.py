"""mmcv's ball_query and grouping_operation on stacked batches (PV-RCNN's StackedSAModuleMSG) on the CPU,
checked against NumPy references written here.

Patch: patches/mmcv/ops-stack-ball-query-stack-group-points-cpu-kernels.patch
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from mmcv import ops


def _cloud(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-5, 5, size=shape).astype(np.float32)


def _starts(counts: list[int]) -> list[int]:
    return [int(s) for s in np.concatenate([[0], np.cumsum(counts)[:-1]])] if counts else []


def _batches(point_cnt: list[int], centre_cnt: list[int]):
    """(first point, points, first centre, centres) of each stacked batch."""
    return zip(_starts(point_cnt), point_cnt, _starts(centre_cnt), centre_cnt, strict=True)


def _cnt(counts: list[int]) -> torch.Tensor:
    return torch.tensor(counts, dtype=torch.int32)


def _stack_ball_query_reference(xyz, xyz_cnt, centres, centre_cnt, radius, nsample):
    """First nsample points of the centre's batch with d2 < r^2 (float32, like the kernel); -1 marks an empty ball."""
    out = np.zeros((len(centres), nsample), np.int32)
    for p0, n, c0, m in _batches(xyz_cnt, centre_cnt):
        for i in range(c0, c0 + m):
            d = centres[i].astype(np.float32) - xyz[p0 : p0 + n]
            d2 = d[:, 0] * d[:, 0] + d[:, 1] * d[:, 1] + d[:, 2] * d[:, 2]
            hits = np.flatnonzero(d2 < np.float32(radius) * np.float32(radius))[:nsample]
            if len(hits):
                out[i] = hits[0]
                out[i, : len(hits)] = hits
            else:
                out[i, 0] = -1
    return out


def _stack_group_reference(feats, feat_cnt, idx, idx_cnt):
    """out[m, c, s] = feats[start + idx[m, s], c] for indices inside the batch, else 0."""
    out = np.zeros((len(idx), feats.shape[1], idx.shape[1]), feats.dtype)
    for f0, n, i0, m in _batches(feat_cnt, idx_cnt):
        for i in range(i0, i0 + m):
            for s, k in enumerate(idx[i]):
                if 0 <= k < n:
                    out[i, :, s] = feats[f0 + k]
    return out


@pytest.mark.parametrize(
    ("xyz_cnt", "centre_cnt", "radius", "nsample"),
    [
        ([300, 200], [40, 25], 2.0, 16),  # two ordinary batches
        ([120, 0, 80], [10, 7, 12], 3.0, 8),  # a batch with no points: all its balls are empty
        ([1, 50], [3, 0], 20.0, 6),  # one point (repeated to fill the slots); a batch with no centres
        ([5], [4], 20.0, 12),  # more samples than points
    ],
)
def test_stack_ball_query_matches_reference(xyz_cnt, centre_cnt, radius, nsample):
    xyz, centres = _cloud(sum(xyz_cnt), 3, seed=1), _cloud(sum(centre_cnt), 3, seed=2)
    got = ops.ball_query(
        0, radius, nsample, torch.from_numpy(xyz), torch.from_numpy(centres), _cnt(xyz_cnt), _cnt(centre_cnt)
    )
    assert got.dtype == torch.int32 and got.shape == (sum(centre_cnt), nsample)
    expected = _stack_ball_query_reference(xyz, xyz_cnt, centres, centre_cnt, radius, nsample)
    np.testing.assert_array_equal(got.numpy(), expected)


def test_stack_ball_query_indices_are_local_to_the_batch():
    xyz = torch.tensor([[0.0, 0, 0], [9, 9, 9], [10, 10, 10]])  # batch 0: 1 point, batch 1: 2 points
    centres = torch.tensor([[10.0, 10, 10], [10.0, 10, 10]])
    got = ops.ball_query(0, 0.5, 3, xyz, centres, _cnt([1, 2]), _cnt([1, 1]))
    assert got.tolist() == [[-1, 0, 0], [1, 1, 1]]


def test_stack_ball_query_of_nothing_and_with_wrong_counts():
    empty = ops.ball_query(0, 1.0, 4, torch.zeros(0, 3), torch.zeros(0, 3), _cnt([0, 0]), _cnt([0, 0]))
    assert empty.shape == (0, 4)
    with pytest.raises(RuntimeError, match="xyz_batch_cnt sums to 3 but xyz has 4 points"):
        ops.ball_query(0, 1.0, 4, torch.zeros(4, 3), torch.zeros(2, 3), _cnt([1, 2]), _cnt([1, 1]))


@pytest.mark.parametrize(("feat_cnt", "idx_cnt"), [([30, 20], [8, 5]), ([12, 0, 9], [4, 3, 6]), ([1], [3])])
def test_stack_grouping_operation_forward_and_backward(feat_cnt, idx_cnt):
    rng = np.random.default_rng(3)
    feats = torch.from_numpy(_cloud(sum(feat_cnt), 5, seed=4)).requires_grad_()
    # indices from -1 to N_b: -1 (an empty ball) and N_b are outside the batch and group nothing
    per_batch = [rng.integers(-1, n + 1, size=(m, 6)) for n, m in zip(feat_cnt, idx_cnt, strict=True)]
    idx = np.concatenate(per_batch).astype(np.int32)
    idx[0, :3] = 0  # repeated indices: their gradients add up
    out = ops.grouping_operation(feats, torch.from_numpy(idx), _cnt(feat_cnt), _cnt(idx_cnt))
    assert out.shape == (sum(idx_cnt), 5, 6)
    expected = _stack_group_reference(feats.detach().numpy(), feat_cnt, idx, idx_cnt)
    np.testing.assert_array_equal(out.detach().numpy(), expected)

    grad = _cloud(*out.shape, seed=5)
    out.backward(torch.from_numpy(grad))
    expected_grad = np.zeros(feats.shape, np.float32)
    for f0, n, i0, m in _batches(feat_cnt, idx_cnt):
        for i in range(i0, i0 + m):
            for s, k in enumerate(idx[i]):
                if 0 <= k < n:
                    expected_grad[f0 + k] += grad[i, :, s]
    np.testing.assert_allclose(feats.grad.numpy(), expected_grad, rtol=1e-5, atol=1e-5)


def test_stack_grouping_operation_gradcheck_in_float64():
    feats = torch.rand(9, 4, dtype=torch.float64, requires_grad=True)
    idx = torch.tensor([[0, 1, 1], [3, 0, 2], [2, 2, 2], [1, 0, 3]], dtype=torch.int32)
    feat_cnt, idx_cnt = _cnt([4, 5]), _cnt([2, 2])
    assert torch.autograd.gradcheck(lambda f: ops.grouping_operation(f, idx, feat_cnt, idx_cnt), (feats,))


def test_stack_grouping_operation_of_no_centres_and_with_wrong_counts():
    feats = torch.rand(4, 3, requires_grad=True)
    out = ops.grouping_operation(feats, torch.zeros(0, 5, dtype=torch.int32), _cnt([4]), _cnt([0]))
    assert out.shape == (0, 3, 5)
    out.sum().backward()
    assert feats.grad.abs().sum() == 0
    with pytest.raises(RuntimeError, match="features_batch_cnt sums to 5 but there are 4 features rows"):
        ops.grouping_operation(feats, torch.zeros(2, 5, dtype=torch.int32), _cnt([2, 3]), _cnt([1, 1]))


def test_pv_rcnn_stacked_set_abstraction_runs_forward_and_backward():
    """mmdet3d's StackedSAModuleMSG, the PV-RCNN layer that calls both ops, with a batch of no points."""
    from mmdet3d.models.layers.pointnet_modules.stack_point_sa_module import StackedSAModuleMSG

    torch.manual_seed(0)
    module = StackedSAModuleMSG(in_channels=4, radius=[0.8, 1.6], sample_nums=[8, 16], mlp_channels=[[8, 16], [8, 16]])
    xyz = torch.rand(150, 3) * 4
    feats = torch.rand(150, 4, requires_grad=True)
    new_xyz = torch.rand(30, 3) * 4
    _, new_feats = module(xyz, _cnt([150, 0]), new_xyz, _cnt([20, 10]), feats)
    assert new_feats.shape == (30, 32) and torch.isfinite(new_feats).all()
    new_feats.sum().backward()
    assert feats.grad.abs().sum() > 0 and torch.isfinite(feats.grad).all()
