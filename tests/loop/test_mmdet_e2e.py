"""mmdet detectors on CPU with random init: train steps, predict, export with
mmdeploy (NMS in the graph) and match ONNX Runtime against PyTorch.

patches/mmdeploy/apis-onnx-export-with-the-torchscript-exporter-dynamo-false.patch
patches/mmdeploy/mmcv-ops-roi-align-cast-batch-indices-without-symbolic-opset.patch
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from tests.helpers.mmdet_models import detector_config, random_batch, train_and_save
from tests.helpers.onnx_parity import export_and_run, match_detections

DEPLOY = "configs/deploy/detection_onnxruntime_static.py"
SIZE = 128
MODELS = {
    "retinanet-r18": "retinanet/retinanet_r18_fpn_1x_coco.py",
    # two-stage: its RoIAlign export guards the _cast_Long patch
    "faster-rcnn-r18": "faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py",
    "yolox-tiny": "yolox/yolox_tiny_8xb8-300e_coco.py",
}


@pytest.fixture(scope="module", params=sorted(MODELS))
def trained(request, tmp_path_factory):
    work = tmp_path_factory.mktemp(request.param)
    cfg = detector_config(MODELS[request.param], work, SIZE)
    losses = train_and_save(cfg, work / "model.pth", steps=2, size=SIZE)
    return dict(name=request.param, cfg=cfg, work=work, losses=losses)


def test_two_training_steps_give_finite_losses(trained):
    assert len(trained["losses"]) == 2
    assert all(math.isfinite(loss) and loss > 0 for loss in trained["losses"])


def test_predict_returns_boxes(trained):
    from mmdet.apis import init_detector

    model = init_detector(trained["cfg"], str(trained["work"] / "model.pth"), device="cpu")
    with torch.no_grad():
        results = model.test_step(random_batch(np.random.default_rng(3), SIZE, batch=1))
    pred = results[0].pred_instances
    assert pred.bboxes.shape[1] == 4 and len(pred.scores) == len(pred.labels) > 0
    assert torch.isfinite(pred.bboxes).all()


def test_onnx_runtime_matches_pytorch(trained):
    image = np.random.default_rng(1).integers(0, 255, (SIZE, SIZE, 3), dtype=np.uint8)
    reference, outputs, _ = export_and_run(
        trained["cfg"], DEPLOY, str(trained["work"] / "model.pth"), image, trained["work"] / "onnx"
    )
    (ref_dets, ref_labels), (dets, labels) = reference, outputs
    assert ref_dets.shape == dets.shape and ref_dets.shape[1] == 100  # keep_top_k boxes
    matched, score_diff = match_detections(ref_dets, ref_labels, dets, labels)
    # near-tied scores of a barely trained model may swap a box at the top-100 cut
    assert matched >= 0.95, f"{trained['name']}: only {matched:.0%} of the boxes match"
    assert score_diff < 1e-4
