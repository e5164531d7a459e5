"""mmcv's point-cloud ops on the CPU, checked against NumPy references written here.

Patches:
patches/mmcv/ops-furthest-point-sample-cpu-kernel-allocate-on-the-input-s.patch
patches/mmcv/ops-gather-points-group-points-cpu-kernels-forward-and-backw.patch
patches/mmcv/ops-ball-query-knn-cpu-kernels-knn-runs-without-cuda.patch
patches/mmcv/ops-three-nn-three-interpolate-cpu-kernels.patch
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from mmcv import ops


def _sq_dist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(len(a), len(b)) float32 squared distances, summed x, y, z in order like the kernels."""
    d = a[:, None, :].astype(np.float32) - b[None, :, :].astype(np.float32)
    return d[..., 0] * d[..., 0] + d[..., 1] * d[..., 1] + d[..., 2] * d[..., 2]


def _cloud(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-10, 10, size=shape).astype(np.float32)


# ---- furthest point sampling ----------------------------------------------------------------


def _fps_reference(dist: np.ndarray, m: int) -> list[int]:
    """Greedy furthest point sampling over an (N, N) distance matrix, starting at point 0."""
    if m == 0:
        return []
    temp = np.full(len(dist), 1e10, dtype=np.float32)
    picked = [0]
    for _ in range(1, m):
        temp = np.minimum(temp, dist[picked[-1]])
        picked.append(int(np.argmax(temp)))  # first index of the maximum, like the kernel
    return picked


@pytest.mark.parametrize(("n", "m"), [(200, 50), (64, 64), (1, 3), (3, 6), (10, 0)])
def test_furthest_point_sample_matches_greedy_reference(n, m):
    xyz = _cloud(2, n, 3)
    got = ops.furthest_point_sample(torch.from_numpy(xyz), m)
    assert got.dtype == torch.int32 and got.shape == (2, m)
    for b in range(2):
        assert got[b].tolist() == _fps_reference(_sq_dist(xyz[b], xyz[b]), m)


def test_more_samples_than_points_repeat_point_zero_once_all_are_taken():
    xyz = torch.tensor([[[0.0, 0, 0], [5, 0, 0], [1, 0, 0]]])
    assert ops.furthest_point_sample(xyz, 5).tolist() == [[0, 1, 2, 0, 0]]


def test_furthest_point_sample_with_dist_matches_the_same_reference():
    xyz = _cloud(2, 120, 3, seed=1)
    dist = np.stack([_sq_dist(p, p) for p in xyz])
    got = ops.furthest_point_sample_with_dist(torch.from_numpy(dist), 30)
    for b in range(2):
        assert got[b].tolist() == _fps_reference(dist[b], 30)


def test_furthest_point_sample_from_no_points_raises():
    with pytest.raises(RuntimeError, match="empty point set"):
        ops.furthest_point_sample(torch.zeros(1, 0, 3), 4)


# ---- gather_points / grouping_operation (forward and backward) ------------------------------


def test_gather_points_forward_and_backward():
    feats = torch.from_numpy(_cloud(2, 5, 40, seed=2)).requires_grad_()
    idx = torch.from_numpy(np.random.default_rng(3).integers(0, 40, size=(2, 25)).astype(np.int32))
    idx[:, :3] = 7  # repeated indices: their gradients add up
    out = ops.gather_points(feats, idx)
    expected = np.stack([feats.detach().numpy()[b][:, idx[b].numpy()] for b in range(2)])
    np.testing.assert_array_equal(out.detach().numpy(), expected)

    grad = _cloud(2, 5, 25, seed=4)
    out.backward(torch.from_numpy(grad))
    expected_grad = np.zeros((2, 5, 40), np.float32)
    for b in range(2):
        np.add.at(expected_grad[b].T, idx[b].numpy(), grad[b].T)
    np.testing.assert_allclose(feats.grad.numpy(), expected_grad, rtol=1e-6, atol=1e-6)


def test_grouping_operation_forward_and_backward():
    feats = torch.from_numpy(_cloud(2, 4, 30, seed=5)).requires_grad_()
    idx = torch.from_numpy(np.random.default_rng(6).integers(0, 30, size=(2, 8, 6)).astype(np.int32))
    out = ops.grouping_operation(feats, idx)
    assert out.shape == (2, 4, 8, 6)
    expected = np.stack([feats.detach().numpy()[b][:, idx[b].numpy()] for b in range(2)])
    np.testing.assert_array_equal(out.detach().numpy(), expected)

    grad = _cloud(2, 4, 8, 6, seed=7)
    out.backward(torch.from_numpy(grad))
    expected_grad = np.zeros((2, 4, 30), np.float32)
    for b in range(2):
        np.add.at(expected_grad[b].T, idx[b].numpy().reshape(-1), grad[b].reshape(4, -1).T)
    np.testing.assert_allclose(feats.grad.numpy(), expected_grad, rtol=1e-5, atol=1e-5)


def test_out_of_range_indices_raise_instead_of_reading_past_the_tensor():
    feats = torch.zeros(1, 2, 5)
    with pytest.raises(RuntimeError, match=r"indices must be in \[0, 5\)"):
        ops.gather_points(feats, torch.tensor([[0, 5]], dtype=torch.int32))
    with pytest.raises(RuntimeError, match=r"indices must be in \[0, 5\)"):
        ops.grouping_operation(feats, torch.tensor([[[-1, 0]]], dtype=torch.int32))


# ---- ball query and knn ----------------------------------------------------------------------


def _ball_query_reference(xyz, centres, r_min, r_max, nsample):
    out = np.zeros((len(centres), nsample), np.int32)
    d2 = _sq_dist(centres, xyz)
    for p in range(len(centres)):
        hits = [k for k in range(len(xyz)) if d2[p, k] == 0 or r_min**2 <= d2[p, k] < r_max**2][:nsample]
        if hits:
            out[p] = hits[0]
            out[p, : len(hits)] = hits
    return out


@pytest.mark.parametrize(("r_min", "r_max", "nsample"), [(0.0, 4.0, 16), (2.0, 5.0, 8), (0.0, 0.5, 4)])
def test_ball_query_matches_reference(r_min, r_max, nsample):
    xyz, centres = _cloud(2, 300, 3, seed=8), _cloud(2, 40, 3, seed=9)
    centres[0, 0] = xyz[0, 17]  # a centre on a point: d2 == 0 is always taken
    got = ops.ball_query(r_min, r_max, nsample, torch.from_numpy(xyz), torch.from_numpy(centres))
    for b in range(2):
        np.testing.assert_array_equal(got[b].numpy(), _ball_query_reference(xyz[b], centres[b], r_min, r_max, nsample))


def test_ball_query_takes_a_point_at_the_centre_even_inside_min_radius():
    xyz = torch.tensor([[[0.5, 0, 0], [0, 0, 0], [3, 0, 0]]])
    assert ops.ball_query(1.0, 4.0, 3, xyz, torch.zeros(1, 1, 3)).tolist() == [[[1, 2, 1]]]


def test_ball_query_with_no_neighbour_and_with_no_points_returns_zeros():
    far = torch.tensor([[[100.0, 100, 100]]])
    assert ops.ball_query(0.0, 1.0, 4, torch.zeros(1, 3, 3), far).tolist() == [[[0, 0, 0, 0]]]
    assert ops.ball_query(0.0, 1.0, 4, torch.zeros(1, 0, 3), far).tolist() == [[[0, 0, 0, 0]]]


def _knn_reference(xyz, centres, k):
    d2 = _sq_dist(centres, xyz)
    order = np.argsort(d2, axis=1, kind="stable")[:, :k]
    out = np.zeros((len(centres), k), np.int32)
    out[:, : order.shape[1]] = order
    return out.T  # (k, npoint), like mmcv's knn


@pytest.mark.parametrize(("n", "k"), [(200, 16), (5, 8), (1, 1)])
def test_knn_matches_reference(n, k):
    xyz, centres = _cloud(2, n, 3, seed=10), _cloud(2, 30, 3, seed=11)
    got = ops.knn(k, torch.from_numpy(xyz), torch.from_numpy(centres))
    assert got.shape == (2, k, 30)
    for b in range(2):
        np.testing.assert_array_equal(got[b].numpy(), _knn_reference(xyz[b], centres[b], k))


def test_knn_of_a_cloud_with_itself_finds_each_point_first():
    xyz = torch.from_numpy(_cloud(1, 50, 3, seed=12))
    assert ops.knn(4, xyz)[0, 0].tolist() == list(range(50))


# ---- three_nn / three_interpolate -------------------------------------------------------------


def test_three_nn_matches_reference():
    target, source = _cloud(2, 100, 3, seed=13), _cloud(2, 60, 3, seed=14)
    dist, idx = ops.three_nn(torch.from_numpy(target), torch.from_numpy(source))
    for b in range(2):
        d2 = _sq_dist(target[b], source[b])
        order = np.argsort(d2, axis=1, kind="stable")[:, :3]
        np.testing.assert_array_equal(idx[b].numpy(), order)
        np.testing.assert_allclose(dist[b].numpy(), np.sqrt(np.take_along_axis(d2, order, 1)), rtol=1e-6)


def test_three_nn_with_fewer_than_three_sources_pads_with_index_zero_at_infinity():
    dist, idx = ops.three_nn(torch.zeros(1, 2, 3), torch.tensor([[[1.0, 0, 0], [0, 2, 0]]]))
    assert idx.tolist() == [[[0, 1, 0], [0, 1, 0]]]
    assert dist[0, 0, :2].tolist() == [1.0, 2.0] and torch.isinf(dist[..., 2]).all()


def test_three_interpolate_forward_and_backward():
    rng = np.random.default_rng(15)
    feats = torch.from_numpy(_cloud(2, 6, 20, seed=16)).requires_grad_()
    idx = torch.from_numpy(rng.integers(0, 20, size=(2, 50, 3)).astype(np.int32))
    weight = torch.from_numpy(rng.uniform(0, 1, size=(2, 50, 3)).astype(np.float32))
    out = ops.three_interpolate(feats, idx, weight)
    f, i, w = feats.detach().numpy(), idx.numpy(), weight.numpy()
    expected = np.stack([(f[b][:, i[b]] * w[b][None]).sum(-1) for b in range(2)])
    np.testing.assert_allclose(out.detach().numpy(), expected, rtol=1e-5, atol=1e-5)

    grad = _cloud(2, 6, 50, seed=17)
    out.backward(torch.from_numpy(grad))
    expected_grad = np.zeros((2, 6, 20), np.float32)
    for b in range(2):
        for k in range(3):
            np.add.at(expected_grad[b].T, i[b][:, k], (grad[b] * w[b][:, k][None]).T)
    np.testing.assert_allclose(feats.grad.numpy(), expected_grad, rtol=1e-5, atol=1e-5)


def test_point_ops_on_empty_batches_return_empty_results():
    empty = torch.zeros(1, 0, 3)
    assert ops.three_nn(empty, torch.zeros(1, 4, 3))[1].shape == (1, 0, 3)
    assert ops.gather_points(torch.zeros(1, 2, 4), torch.zeros(1, 0, dtype=torch.int32)).shape == (1, 2, 0)
    assert ops.knn(2, torch.zeros(1, 4, 3), empty).shape == (1, 2, 0)
