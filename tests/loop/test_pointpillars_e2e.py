"""mmdet3d PointPillars on CPU, end to end: train, checkpoint, resume, predict
on the real KITTI scan, export with mmdeploy and match ONNX Runtime."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from tests.helpers.kitti_scan import KITTI_SCAN, make_kitti_root
from tests.helpers.pointpillars import pointpillars_config

DEPLOY = "configs/deploy/voxel-detection_onnxruntime_dynamic.py"


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Two iterations, a checkpoint, then a resumed run to four iterations."""
    from mmengine.runner import Runner

    tmp = tmp_path_factory.mktemp("pointpillars")
    root = make_kitti_root(tmp / "kitti", frames=2)
    first = Runner.from_cfg(pointpillars_config(root, tmp / "work", max_iters=2))
    first.train()
    first_history = first.message_hub.get_scalar("train/loss").data[0].tolist()
    losses = [first.message_hub.get_scalar("train/loss").current()]
    resumed_cfg = pointpillars_config(root, tmp / "work", max_iters=4)
    resumed_cfg.resume = True
    second = Runner.from_cfg(resumed_cfg)
    second.train()
    losses.append(second.message_hub.get_scalar("train/loss").current())
    return dict(cfg=resumed_cfg, work=tmp / "work", losses=losses, resumed=second, tmp=tmp, first_history=first_history)


def test_training_gives_finite_losses(trained):
    assert all(math.isfinite(loss) and loss > 0 for loss in trained["losses"])


def test_resume_continues_from_the_checkpoint(trained):
    assert (trained["work"] / "iter_2.pth").exists() and (trained["work"] / "iter_4.pth").exists()
    assert trained["resumed"].iter == 4
    # the message hub (HistoryBuffer) came back from the checkpoint: 2 old + 2 new losses
    history = trained["resumed"].message_hub.get_scalar("train/loss").data[0].tolist()
    assert len(history) == 4 and history[:2] == trained["first_history"]


def test_predict_on_the_real_kitti_scan(trained):
    from mmdet3d.apis import inference_detector, init_model

    model = init_model(trained["cfg"], str(trained["work"] / "iter_4.pth"), device="cpu")
    result, _ = inference_detector(model, str(KITTI_SCAN / "000008.bin"))
    pred = result.pred_instances_3d
    assert pred.bboxes_3d.tensor.shape[1] == 7
    assert len(pred.scores_3d) == len(pred.labels_3d) == len(pred.bboxes_3d)
    assert torch.isfinite(pred.bboxes_3d.tensor).all() and torch.isfinite(pred.scores_3d).all()


def test_export_matches_onnx_runtime(trained):
    from tests.helpers.onnx_parity import export_and_run

    reference, outputs, onnx_path = export_and_run(
        trained["cfg"],
        DEPLOY,
        str(trained["work"] / "iter_4.pth"),
        str(KITTI_SCAN / "000008.bin"),
        trained["tmp"] / "onnx",
    )
    assert onnx_path.stat().st_size > 1_000_000
    assert [r.shape for r in reference] == [o.shape for o in outputs]
    assert [r.shape[1] for r in reference] == [18, 42, 12]  # cls, bbox, dir for 3 classes x 6 anchors
    for ref, out in zip(reference, outputs, strict=True):
        np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-4)
