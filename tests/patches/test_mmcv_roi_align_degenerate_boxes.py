"""roi_align on the CPU takes boxes with x2 < x1 or y2 < y1 (as freshly initialised Sparse R-CNN makes) like CUDA does.

Patch: patches/mmcv/ops-roi-align-cpu-accepts-boxes-of-negative-size-like-cuda.patch

The CUDA kernel has no assert: a negative size gives a negative sampling grid, so with an adaptive
``sampling_ratio`` (0) nothing is sampled and the bin is 0, and with a fixed one the samples walk the
mirrored box backwards, so the output is the mirrored box's output flipped.
"""

from __future__ import annotations

import torch
from mmcv import ops


def _features() -> torch.Tensor:
    torch.manual_seed(0)
    return torch.rand(1, 3, 16, 16, requires_grad=True)


def test_a_fixed_sampling_ratio_samples_the_mirrored_box_backwards():
    roi_align = ops.RoIAlign(output_size=(4, 5), spatial_scale=1.0, sampling_ratio=2, aligned=True)
    feats = _features()
    box = torch.tensor([[0.0, 2.5, 3.0, 11.0, 9.5]])
    mirrored = box[:, [0, 3, 4, 1, 2]]  # x2 < x1 and y2 < y1
    out, out_mirrored = roi_align(feats, box), roi_align(feats, mirrored)
    torch.testing.assert_close(out_mirrored, torch.flip(out, dims=[-2, -1]))
    out_mirrored.sum().backward()  # the backward takes the same boxes
    assert torch.isfinite(feats.grad).all() and feats.grad.abs().sum() > 0


def test_an_adaptive_sampling_ratio_gives_zeros_for_a_negative_box():
    roi_align = ops.RoIAlign(output_size=7, spatial_scale=0.5, sampling_ratio=0, aligned=True)
    feats = _features()
    boxes = torch.tensor([[0.0, 20.0, 20.0, 4.0, 4.0], [0.0, 20.0, 4.0, 4.0, 12.0], [0.0, 2.0, 2.0, 20.0, 20.0]])
    out = roi_align(feats, boxes)
    assert out.shape == (3, 3, 7, 7)
    assert (out[:2] == 0).all()  # nothing sampled, as on CUDA
    assert (out[2] > 0).all()  # a valid box in the same batch is unaffected
    out.sum().backward()
    assert torch.isfinite(feats.grad).all()
