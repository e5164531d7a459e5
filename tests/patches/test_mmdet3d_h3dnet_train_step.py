"""H3DNet, from upstream's ScanNet config, takes a training step: its refinement head added the proposal features
into a ReLU's output in place, and autograd needs that output for the ReLU's backward ("one of the variables needed
for gradient computation has been modified by an inplace operation"). Guards
patches/mmdetection3d/h3dnet-add-the-proposal-features-out-of-place-so-the-refinem.patch.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch


@pytest.mark.slow
def test_h3dnet_trains_a_step_from_upstreams_config():
    import mmdet3d
    from mmdet3d.registry import MODELS
    from mmdet3d.testing import create_detector_inputs
    from mmdet3d.utils import register_all_modules
    from mmengine.config import Config
    from mmengine.optim import build_optim_wrapper

    register_all_modules(init_default_scope=True)
    cfg = Config.fromfile(str(Path(mmdet3d.__file__).parent / ".mim/configs/h3dnet/h3dnet_8xb3_scannet-seg.py"))
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.train()
    # ScanNet clouds: x, y, z and the height above the floor, with the per-point masks H3DNet's targets read
    batch = create_detector_inputs(
        num_points=4096,
        points_feat_dim=4,
        num_gt_instance=4,
        num_classes=18,
        bboxes_3d_type="depth",
        with_pts_semantic_mask=True,
        with_pts_instance_mask=True,
    )
    refine = model.roi_head.bbox_head.bbox_pred
    before = [p.detach().clone() for p in refine.parameters()]
    optim = build_optim_wrapper(model, dict(type="OptimWrapper", optimizer=dict(type="SGD", lr=0.01)))
    log_vars = model.train_step(batch, optim)
    assert torch.isfinite(log_vars["loss"]), log_vars
    assert any(not torch.equal(p.detach(), b) for p, b in zip(refine.parameters(), before, strict=True))
