"""spconv's sparse convolutions with a bias predict on CPU (eval mode), as a dense conv3d does.

Guards patches/spconv/add-the-bias-after-the-convolution-on-cpu-in-eval-mode.patch: in eval mode spconv handed the
bias to the kernel to fuse, and the CPU kernels assert "cpu don't support act and bias".
"""

from __future__ import annotations

import pytest
import torch

from tests.patches.test_spconv_cpu_backward import BATCH, CHANNELS, SHAPE, _dense_reference, _sparse_input

spconv = pytest.importorskip("spconv.pytorch", reason="spconv is not in this environment")


@pytest.mark.parametrize("kind", ["regular", "submanifold"])
def test_eval_mode_adds_the_bias(kind):
    features, coors = _sparse_input(seed=2)
    torch.manual_seed(2)
    if kind == "regular":
        conv = spconv.SparseConv3d(CHANNELS, 5, kernel_size=3, stride=2, padding=1, bias=True)
    else:
        conv = spconv.SubMConv3d(CHANNELS, 5, kernel_size=3, padding=1, bias=True)
    torch.nn.init.uniform_(conv.bias, 1.0, 2.0)  # a bias far from zero, so a dropped one shows
    conv.eval()
    with torch.no_grad():
        out = conv(spconv.SparseConvTensor(features, coors, list(SHAPE), BATCH))
    ref_out = _dense_reference(conv, features, coors, 2 if kind == "regular" else 1, 1)[0].detach()
    b, z, y, x = out.indices.long().unbind(1)
    torch.testing.assert_close(out.features, ref_out[b, :, z, y, x])
