"""spconv's sparse convolutions take a training step on CPU-only torch, with the gradients of a dense conv3d.

Guards patches/spconv/return-stream-0-without-cuda-so-sparse-convolution-trains-on.patch (the backward asked
torch.cuda for a stream and raised "Torch not compiled with CUDA enabled") and
patches/spconv/add-pyproject-toml-so-the-wheel-imported-tree-installs-edita.patch (spconv is installed from the
fork at all). The reference is PyTorch's own conv3d on the zero-filled dense grid: a regular sparse conv gives what
the dense conv gives everywhere (a site with no active input in its window is zero in both), and a submanifold
conv gives it at the active sites.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

spconv = pytest.importorskip("spconv.pytorch", reason="spconv is not in this environment")

SHAPE, CHANNELS, BATCH = (6, 9, 8), 3, 2


def _sparse_input(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """40 distinct active voxels per sample: features (N, C) and coordinates (N, 4) as (batch, z, y, x)."""
    gen = torch.Generator().manual_seed(seed)
    coords = []
    for b in range(BATCH):
        flat = torch.randperm(SHAPE[0] * SHAPE[1] * SHAPE[2], generator=gen)[:40]
        z, rest = flat // (SHAPE[1] * SHAPE[2]), flat % (SHAPE[1] * SHAPE[2])
        coords.append(torch.stack([torch.full_like(z, b), z, rest // SHAPE[2], rest % SHAPE[2]], dim=1))
    return torch.randn(BATCH * 40, CHANNELS, generator=gen), torch.cat(coords).int()


def _dense_reference(conv, features, coors, stride: int, padding: int):
    """The same weights as a dense conv3d on the zero-filled grid; returns (output, d features, d weight, d bias)."""
    feats = features.detach().clone().requires_grad_(True)
    weight = conv.weight.detach().permute(0, 4, 1, 2, 3).clone().requires_grad_(True)  # (out, kD, kH, kW, in)
    bias = conv.bias.detach().clone().requires_grad_(True)
    grid = torch.zeros(BATCH, *SHAPE, CHANNELS, dtype=feats.dtype)
    b, z, y, x = coors.long().unbind(1)
    grid = grid.index_put((b, z, y, x), feats).permute(0, 4, 1, 2, 3)
    out = torch.nn.functional.conv3d(grid, weight, bias, stride=stride, padding=padding)
    return out, feats, weight, bias


@pytest.mark.parametrize("kind", ["regular", "submanifold"])
def test_backward_matches_a_dense_conv3d(kind):
    features, coors = _sparse_input(seed=0)
    torch.manual_seed(0)
    if kind == "regular":
        conv = spconv.SparseConv3d(CHANNELS, 5, kernel_size=3, stride=2, padding=1, bias=True)
    else:
        conv = spconv.SubMConv3d(CHANNELS, 5, kernel_size=3, padding=1, bias=True, indice_key="s")
    stride = 2 if kind == "regular" else 1
    feats = features.clone().requires_grad_(True)
    out = conv(spconv.SparseConvTensor(feats, coors, list(SHAPE), BATCH))
    ref_out, ref_feats, ref_weight, ref_bias = _dense_reference(conv, features, coors, stride, 1)
    upstream = torch.randn(ref_out.shape, generator=torch.Generator().manual_seed(1), dtype=ref_out.dtype)
    ob, oz, oy, ox = out.indices.long().unbind(1)
    # the loss sees the active outputs: all of the dense output's non-zero sites (regular), the input sites (subm)
    (out.features * upstream[ob, :, oz, oy, ox]).sum().backward()
    (ref_out[ob, :, oz, oy, ox] * upstream[ob, :, oz, oy, ox]).sum().backward()

    torch.testing.assert_close(out.features, ref_out[ob, :, oz, oy, ox].detach())
    torch.testing.assert_close(feats.grad, ref_feats.grad)
    torch.testing.assert_close(conv.weight.grad.permute(0, 4, 1, 2, 3), ref_weight.grad)
    torch.testing.assert_close(conv.bias.grad, ref_bias.grad)
    if kind == "regular":  # every site the sparse output leaves out has no active input: the dense conv gives bias
        mask = torch.zeros(ref_out.shape[0], *ref_out.shape[2:], dtype=torch.bool)
        mask[ob, oz, oy, ox] = True
        rest = ref_out.detach().permute(0, 2, 3, 4, 1)[~mask]
        torch.testing.assert_close(rest, conv.bias.detach().expand_as(rest))


def test_spconv_is_the_patched_fork():
    import spconv as package

    from mmlab_core.settings import REPO_ROOT

    assert Path(package.__file__).resolve().is_relative_to(REPO_ROOT / "spconv"), package.__file__
