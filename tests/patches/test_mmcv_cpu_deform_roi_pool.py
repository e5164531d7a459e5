"""mmcv's deform_roi_pool (mmdet's DCN `dpool` / `mdpool` RoI layers) on the CPU, checked against a NumPy
reference of the CUDA kernel written here, and its gradients with gradcheck in float64.

Patch: patches/mmcv/ops-deform-roi-pool-cpu-forward-and-backward.patch
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from mmcv import ops


def _bilinear(img: np.ndarray, y: float, x: float) -> np.ndarray:
    """(C,) value at (y, x); 0 outside [-1, H] x [-1, W]; clamped to the last row/column."""
    _, height, width = img.shape
    if y < -1 or y > height or x < -1 or x > width:
        return np.zeros(img.shape[0])
    y, x = max(y, 0.0), max(x, 0.0)
    y_low, x_low = int(y), int(x)
    if y_low >= height - 1:
        y_low = y_high = height - 1
        y = float(y_low)
    else:
        y_high = y_low + 1
    if x_low >= width - 1:
        x_low = x_high = width - 1
        x = float(x_low)
    else:
        x_high = x_low + 1
    ly, lx = y - y_low, x - x_low
    hy, hx = 1 - ly, 1 - lx
    return (
        hy * hx * img[:, y_low, x_low]
        + hy * lx * img[:, y_low, x_high]
        + ly * hx * img[:, y_high, x_low]
        + ly * lx * img[:, y_high, x_high]
    )


def _deform_roi_pool_reference(feats, rois, offset, out_size, scale, sampling_ratio, gamma):
    """Average of a grid of bilinear samples per bin (aligned: -0.5 px), the bin moved by gamma * roi size * offset."""
    out = np.zeros((len(rois), feats.shape[1], *out_size))
    for n, (batch, x1, y1, x2, y2) in enumerate(rois.astype(np.float64)):
        start_w, start_h = x1 * scale - 0.5, y1 * scale - 0.5
        roi_w, roi_h = x2 * scale - 0.5 - start_w, y2 * scale - 0.5 - start_h
        bin_h, bin_w = roi_h / out_size[0], roi_w / out_size[1]
        grid_h = sampling_ratio if sampling_ratio > 0 else math.ceil(bin_h)
        grid_w = sampling_ratio if sampling_ratio > 0 else math.ceil(bin_w)
        for ph in range(out_size[0]):
            for pw in range(out_size[1]):
                h0 = start_h + (0 if offset is None else gamma * roi_h * offset[n, 1, ph, pw])
                w0 = start_w + (0 if offset is None else gamma * roi_w * offset[n, 0, ph, pw])
                total = np.zeros(feats.shape[1])
                for iy in range(grid_h):
                    y = h0 + ph * bin_h + (iy + 0.5) * bin_h / grid_h
                    for ix in range(grid_w):
                        total += _bilinear(feats[int(batch)], y, w0 + pw * bin_w + (ix + 0.5) * bin_w / grid_w)
                out[n, :, ph, pw] = total / max(grid_h * grid_w, 1)
    return out


def _rois(*boxes: tuple[float, ...]) -> torch.Tensor:
    return torch.tensor(boxes, dtype=torch.float32)


@pytest.mark.parametrize(("sampling_ratio", "with_offset"), [(0, True), (2, True), (0, False), (3, False)])
def test_deform_roi_pool_matches_reference(sampling_ratio, with_offset):
    rng = np.random.default_rng(0)
    feats = rng.normal(size=(2, 3, 20, 24)).astype(np.float32)
    rois = _rois(
        (0, 10.3, 6.1, 70.2, 50.7),  # inside the map (spatial scale 1/4)
        (1, -20.0, -12.5, 30.6, 22.2),  # over the top-left border
        (1, 60.1, 50.2, 120.0, 95.3),  # over the bottom-right border
        (0, 200.0, 200.0, 260.0, 250.0),  # outside the map: zeros
        (1, 33.2, 21.1, 33.2, 21.1),  # zero size: no samples unless sampling_ratio > 0
        (0, 50.0, 40.0, 30.0, 20.0),  # negative size
    )
    offset = rng.uniform(-1, 1, size=(len(rois), 2, 3, 4)).astype(np.float32) if with_offset else None
    got = ops.deform_roi_pool(
        torch.from_numpy(feats),
        rois,
        None if offset is None else torch.from_numpy(offset),
        (3, 4),
        0.25,
        sampling_ratio,
        0.1,
    )
    expected = _deform_roi_pool_reference(feats, rois.numpy(), offset, (3, 4), 0.25, sampling_ratio, 0.1)
    assert got.shape == (6, 3, 3, 4)
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-5, atol=1e-5)
    assert got[3].abs().max() == 0 and (got[4].abs().max() == 0) == (sampling_ratio == 0)


def test_deform_roi_pool_gradients_in_float64():
    """Input and offset gradients; every sample lies inside the map, where the offset gradient is the true one."""
    torch.manual_seed(1)
    feats = torch.rand(2, 3, 12, 14, dtype=torch.float64, requires_grad=True)
    boxes = [[0, 2.2, 3.1, 9.7, 8.4], [1, 3.3, 2.6, 10.1, 9.2], [1, 4.0, 4.0, 4.0, 4.0]]  # the last one of zero size
    rois = torch.tensor(boxes, dtype=torch.float64)
    offset = ((torch.rand(3, 2, 2, 3, dtype=torch.float64) - 0.5) * 0.4).requires_grad_()

    def pool(f, o):
        return ops.deform_roi_pool(f, rois, o, (2, 3), 1.0, 2, 0.1)

    assert torch.autograd.gradcheck(pool, (feats, offset))
    assert torch.autograd.gradcheck(lambda f: ops.deform_roi_pool(f, rois, None, (2, 3), 1.0, 0, 0.1), (feats,))


def test_deform_roi_pool_of_no_rois_and_of_a_bad_batch_index():
    feats = torch.rand(1, 4, 8, 8, requires_grad=True)
    out = ops.deform_roi_pool(feats, torch.zeros(0, 5), torch.zeros(0, 2, 7, 7), (7, 7))
    assert out.shape == (0, 4, 7, 7)
    out.sum().backward()
    assert feats.grad.abs().sum() == 0
    with pytest.raises(RuntimeError, match=r"RoI batch indices must be in \[0, 1\)"):
        ops.deform_roi_pool(feats, _rois((1, 0, 0, 4, 4)), None, (7, 7))


@pytest.mark.parametrize("pack", ["DeformRoIPoolPack", "ModulatedDeformRoIPoolPack"])
def test_mmdet_dpool_layers_train_on_the_cpu(pack):
    """The `dpool` / `mdpool` RoI layers: both call the same kernel; the offset branch gets a gradient."""
    torch.manual_seed(2)
    layer = getattr(ops, pack)(output_size=7, output_channels=8, deform_fc_channels=16, spatial_scale=0.25)
    feats = torch.rand(2, 8, 25, 30, requires_grad=True)
    rois = _rois((0, 8.0, 12.0, 60.0, 70.0), (1, 30.0, 5.0, 110.0, 90.0))
    out = layer(feats, rois)
    assert out.shape == (2, 8, 7, 7) and torch.isfinite(out).all()
    out.pow(2).sum().backward()
    assert feats.grad.abs().sum() > 0
    assert layer.offset_fc[-1].weight.grad.abs().sum() > 0
