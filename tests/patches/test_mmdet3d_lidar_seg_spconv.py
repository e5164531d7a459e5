"""mmdet3d's LiDAR segmentors take a training step and predict on CPU with spconv 2, from upstream's configs.

Cylinder3D guards patches/mmdetection3d/build-cylinder3d-on-spconv-2-when-it-is-installed.patch (its backbone and
head imported mmcv's sparse convolution, which has no CPU kernel: "get_indice_pairs is not implemented on CPU") and,
in predict, patches/spconv/add-the-bias-after-the-convolution-on-cpu-in-eval-mode.patch (its head's SubMConv3d has a
bias). MinkUNet with the spconv backend guards
patches/mmdetection3d/keep-minkunet-s-voxel-indices-on-the-points-device.patch (the voxelization called ``.cuda()``:
"Torch not compiled with CUDA enabled").
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

NUM_POINTS = 600


def _config(name: str, **overrides):
    """Upstream's config, with ``overrides`` as dotted keys (``model.backbone.sparseconv_backend``)."""
    import mmdet3d
    from mmengine.config import Config

    cfg = Config.fromfile(str(Path(mmdet3d.__file__).parent / ".mim" / "configs" / name))
    cfg.merge_from_dict(overrides)
    return cfg


def _batch(num_classes: int, extent_m: float) -> dict:
    """Two random clouds spread over ``extent_m`` metres around the sensor, with a label for every point."""
    from mmdet3d.testing import create_detector_inputs

    samples = [
        create_detector_inputs(seed=seed, num_points=NUM_POINTS, num_classes=num_classes, with_pts_semantic_mask=True)
        for seed in (0, 1)
    ]
    points = [p for s in samples for p in s["inputs"]["points"]]
    for cloud in points:  # the helper draws x, y, z in [0, 1): too small for the 5 cm grids of these models
        cloud[:, :3] = cloud[:, :3] * extent_m - extent_m / 2
    return dict(inputs=dict(points=points), data_samples=[d for s in samples for d in s["data_samples"]])


def _train_step_then_predict(cfg) -> None:
    from mmdet3d.registry import MODELS
    from mmdet3d.utils import register_all_modules
    from mmengine.optim import build_optim_wrapper

    register_all_modules(init_default_scope=True)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    num_classes = cfg.model.decode_head.num_classes
    optim = build_optim_wrapper(model, dict(type="OptimWrapper", optimizer=dict(type="SGD", lr=0.01)))
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    model.train()
    log_vars = model.train_step(_batch(num_classes, extent_m=40.0), optim)
    assert torch.isfinite(log_vars["loss"]), log_vars
    changed = [n for n, p in model.named_parameters() if not torch.equal(p.detach(), before[n])]
    assert any(n.startswith("backbone.") for n in changed) and any(n.startswith("decode_head.") for n in changed)

    model.eval()
    with torch.no_grad():
        results = model.test_step(_batch(num_classes, extent_m=40.0))
    assert len(results) == 2
    for result in results:
        labels = result.pred_pts_seg.pts_semantic_mask
        assert labels.shape == (NUM_POINTS,)
        assert int(labels.min()) >= 0 and int(labels.max()) < num_classes


def test_cylinder3d_trains_and_predicts_on_spconv():
    _train_step_then_predict(_config("cylinder3d/cylinder3d_4xb4-3x_semantickitti.py"))


MINKUNET_SPCONV = dict(  # the torchsparse config on spconv, as upstream's spconv configs set it
    {"model.backbone.sparseconv_backend": "spconv", "model.data_preprocessor.batch_first": True}
)


@pytest.mark.parametrize(
    "name, overrides",
    [
        ("minkunet/minkunet34_w32_spconv_8xb2-laser-polar-mix-3x_semantickitti.py", {}),
        ("minkunet/minkunet18_w16_torchsparse_8xb2-amp-15e_semantickitti.py", MINKUNET_SPCONV),
    ],
    ids=["minkunet34-spconv", "minkunet18-torchsparse-on-spconv"],
)
def test_minkunet_trains_and_predicts_on_spconv(name, overrides):
    _train_step_then_predict(_config(name, **overrides))
