"""Sparse convolution on CPU: spconv 2 (requirements/stack.txt) is the backend mmdet3d picks by itself,
so SECOND-style voxel encoders run without mmcv's sparse ops (which have no CPU kernel)."""

from __future__ import annotations

import torch


def _sparse_input(batch: int, shape: tuple[int, int, int], per_sample: int, channels: int, seed: int):
    """Random distinct active voxels: features (N, C) and coordinates (N, 4) as (batch, z, y, x)."""
    gen = torch.Generator().manual_seed(seed)
    coords = []
    for b in range(batch):
        flat = torch.randperm(shape[0] * shape[1] * shape[2], generator=gen)[:per_sample]
        z, rest = flat // (shape[1] * shape[2]), flat % (shape[1] * shape[2])
        coords.append(torch.stack([torch.full_like(z, b), z, rest // shape[2], rest % shape[2]], dim=1))
    coors = torch.cat(coords).int()
    return torch.randn(len(coors), channels, generator=gen), coors


def test_mmdet3d_selects_spconv2():
    from mmdet3d.models.layers.spconv import IS_SPCONV2_AVAILABLE

    assert IS_SPCONV2_AVAILABLE, "spconv 2 is not importable: run `nox -s build` (it is in requirements/stack.lock)"


def test_submanifold_conv_matches_a_dense_conv3d():
    """spconv's CPU SubMConv3d gives, at every active voxel, what a dense conv3d gives on the zero-filled grid."""
    import spconv.pytorch as spconv

    shape, channels = (6, 9, 8), 3
    features, coors = _sparse_input(2, shape, 40, channels, seed=0)
    conv = spconv.SubMConv3d(channels, 5, kernel_size=3, padding=1, bias=True, indice_key="subm")
    with torch.no_grad():
        out = conv(spconv.SparseConvTensor(features, coors, list(shape), 2))
        dense_in = spconv.SparseConvTensor(features, coors, list(shape), 2).dense()  # (B, C, D, H, W)
        weight = conv.weight.permute(0, 4, 1, 2, 3)  # spconv keeps (out, kD, kH, kW, in)
        dense_out = torch.nn.functional.conv3d(dense_in, weight, conv.bias, padding=1)
    b, z, y, x = out.indices.long().unbind(1)
    assert torch.equal(out.indices, coors)  # submanifold: the output lives on the input's voxels
    torch.testing.assert_close(out.features, dense_out[b, :, z, y, x], rtol=1e-4, atol=1e-5)


def test_second_sparse_encoder_runs_a_forward_on_cpu():
    """SECOND's middle encoder (configs/_base_/models/second_hv_secfpn_kitti.py) on a 41 x 200 x 176 grid."""
    from mmdet3d.registry import MODELS
    from mmdet3d.utils import register_all_modules

    register_all_modules(init_default_scope=True)  # an earlier test may have left another default scope
    torch.manual_seed(0)
    encoder = MODELS.build(
        dict(type="SparseEncoder", in_channels=4, sparse_shape=[41, 200, 176], order=("conv", "norm", "act"))
    ).eval()
    features, coors = _sparse_input(2, (41, 200, 176), 3000, 4, seed=1)
    with torch.no_grad():
        bev = encoder(features, coors, 2)
    assert bev.shape == (2, 256, 25, 22)  # 128 channels x 2 height cells, x/y downsampled 8 times
    assert torch.isfinite(bev).all() and (bev.abs().sum(dim=(1, 2, 3)) > 0).all()
    empty_sample = _sparse_input(2, (41, 200, 176), 3000, 4, seed=1)
    keep = empty_sample[1][:, 0] == 0  # only sample 0 has points: sample 1's map is all zeros
    with torch.no_grad():
        half = encoder(empty_sample[0][keep], empty_sample[1][keep], 2)
    assert half[1].abs().sum() == 0 and half[0].abs().sum() > 0
