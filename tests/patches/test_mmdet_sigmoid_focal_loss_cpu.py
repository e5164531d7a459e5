"""mmdet's functional ``sigmoid_focal_loss`` on CPU equals the focal loss written out in NumPy, with mmcv's label
convention (a label of C or more is background), weights and reductions: guards
patches/mmdetection/losses-sigmoid-focal-loss-computes-on-cpu-without-mmcv-s-cud.patch (before it, the
function always called mmcv's op, which has no CPU kernel, and SA-SSD's auxiliary loss failed on CPU)."""

from __future__ import annotations

import numpy as np
import pytest
import torch


def _reference(pred: np.ndarray, labels: np.ndarray, gamma: float, alpha: float) -> np.ndarray:
    """Element-wise sigmoid focal loss (Lin et al. 2017), (N, C), in float64."""
    p = 1 / (1 + np.exp(-pred))
    target = (labels[:, None] == np.arange(pred.shape[1])[None, :]).astype(np.float64)
    p_t = p * target + (1 - p) * (1 - target)
    alpha_t = alpha * target + (1 - alpha) * (1 - target)
    return -alpha_t * (1 - p_t) ** gamma * np.log(np.clip(p_t, 1e-12, None))


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_cpu_focal_loss_matches_the_formula(reduction):
    from mmdet.models.losses import sigmoid_focal_loss

    gen = torch.Generator().manual_seed(0)
    pred = torch.randn(50, 3, generator=gen, dtype=torch.float64) * 3
    labels = torch.randint(0, 4, (50,), generator=gen)  # 3 = background
    weight = torch.rand(50, generator=gen, dtype=torch.float64)
    loss = sigmoid_focal_loss(pred, labels, weight, gamma=2.0, alpha=0.25, reduction=reduction, avg_factor=None)
    expected = _reference(pred.numpy(), labels.numpy(), 2.0, 0.25) * weight.numpy()[:, None]
    expected = {"none": expected, "mean": expected.mean(), "sum": expected.sum()}[reduction]
    np.testing.assert_allclose(loss.numpy(), expected, rtol=1e-10, atol=1e-12)


def test_avg_factor_and_gradient_on_one_class():
    """SA-SSD's use: one class, labels 0/1, per-point weights, an average factor; the gradient flows."""
    from mmdet.models.losses import sigmoid_focal_loss

    gen = torch.Generator().manual_seed(1)
    pred = (torch.randn(40, 1, generator=gen, dtype=torch.float64)).requires_grad_(True)
    labels = torch.randint(0, 2, (40,), generator=gen)
    loss = sigmoid_focal_loss(pred, labels, torch.ones(40, dtype=torch.float64), avg_factor=7.0)
    expected = _reference(pred.detach().numpy(), labels.numpy(), 2.0, 0.25).sum() / 7.0
    np.testing.assert_allclose(loss.item(), expected, rtol=1e-7)
    assert torch.autograd.gradcheck(lambda p: sigmoid_focal_loss(p, labels, avg_factor=7.0), (pred,))
