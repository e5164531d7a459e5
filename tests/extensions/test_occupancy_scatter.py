"""The custom pillar scatter (extensions.models) and its mmdeploy rewriter."""

from __future__ import annotations

import math

import numpy as np
import torch

import extensions

extensions.register(rewriters=True)
from tests.helpers.kitti_scan import KITTI_SCAN, make_kitti_root  # noqa: E402
from tests.helpers.pointpillars import pointpillars_config  # noqa: E402

DEPLOY = "configs/deploy/voxel-detection_onnxruntime_dynamic.py"


def _scatter():
    from extensions.models import OccupancyPillarScatter

    return OccupancyPillarScatter(in_channels=4, output_shape=[6, 5])


def test_occupancy_channel_marks_the_pillars():
    scatter = _scatter()
    features = torch.arange(12, dtype=torch.float32).view(3, 4)
    coors = torch.tensor([[0, 0, 1, 2], [0, 0, 5, 4], [1, 0, 0, 0]])
    out = scatter(features, coors, batch_size=2)
    assert out.shape == (2, 5, 6, 5)
    assert out[0, 4].sum() == 2 and out[0, 4, 1, 2] == 1 and out[0, 4, 5, 4] == 1
    assert out[1, 4, 0, 0] == 1 and torch.equal(out[0, :4, 1, 2], features[0])


def test_rewriter_gives_the_same_canvas_for_one_sample():
    from extensions.deploy.rewriters import occupancy_pillar_scatter__forward_batch

    scatter = _scatter()
    rng = np.random.default_rng(0)
    cells = rng.choice(30, 10, replace=False)
    coors = torch.tensor(np.stack([np.zeros(10), np.zeros(10), cells // 5, cells % 5], 1), dtype=torch.int64)
    features = torch.tensor(rng.normal(size=(10, 4)), dtype=torch.float32)
    expected = scatter.forward_batch(features, coors, 1)
    assert torch.equal(occupancy_pillar_scatter__forward_batch(scatter, features, coors, 1), expected)


def test_pointpillars_with_occupancy_trains_exports_and_matches_onnx_runtime(tmp_path):
    import onnx
    from mmengine.runner import Runner

    from tests.helpers.onnx_parity import export_and_run

    cfg = pointpillars_config(make_kitti_root(tmp_path / "kitti"), tmp_path / "work", max_iters=2)
    cfg.custom_imports = dict(imports=list(extensions.COMPONENTS), allow_failed_imports=False)
    cfg.model.middle_encoder = dict(type="OccupancyPillarScatter", in_channels=64, output_shape=[496, 432])
    cfg.model.backbone.in_channels = 65
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert math.isfinite(runner.message_hub.get_scalar("train/loss").current())
    reference, outputs, onnx_path = export_and_run(
        cfg, DEPLOY, str(tmp_path / "work" / "iter_2.pth"), str(KITTI_SCAN / "000008.bin"), tmp_path / "onnx"
    )
    ops = {node.op_type for node in onnx.load(str(onnx_path)).graph.node}
    assert "ScatterElements" in ops and "NonZero" not in ops  # the rewriter, not the training loop, was exported
    for ref, out in zip(reference, outputs, strict=True):
        np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-4)
