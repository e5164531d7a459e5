"""infer's heads (scripts/loop/infer/heads.py, anchor_post.py): CenterPoint deployed by `nox -s deploy` goes
through `infer` in ONNX Runtime and OpenVINO with its PyTorch boxes; the anchor post-process keeps exactly
the boxes of mmdet3d's own ``predict_by_feat`` and ``nms_bev``."""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest
import torch

from tests.helpers.inprocess import run_main
from tests.loop.test_centerpoint_deploy import PILLAR, _checkpoint

ORT = "configs/deploy/voxel-detection_onnxruntime_dynamic.py"
POINTPILLARS = "configs/pointpillars_lidar-custom-cpu.py"


def _overlapping_boxes(seed: int, count: int = 120) -> tuple[torch.Tensor, torch.Tensor]:
    """BEV boxes (x1, y1, x2, y2, yaw) in a few tight clusters, so that many pairs overlap; scores with ties."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(-20, 20, (6, 2))[rng.integers(0, 6, count)] + rng.normal(0, 1.0, (count, 2))
    size = rng.uniform(0.5, 4.5, (count, 2))
    boxes = np.concatenate([centres - size / 2, centres + size / 2, rng.uniform(-np.pi, np.pi, (count, 1))], 1)
    scores = np.round(rng.uniform(0.1, 1.0, count), 2)  # rounded: equal scores, as an untrained head gives
    return torch.tensor(boxes, dtype=torch.float32), torch.tensor(scores, dtype=torch.float32)


def test_nms_keeps_the_boxes_mmdet3d_keeps_in_its_order():
    from mmdet3d.models.layers import nms_bev as reference

    from scripts.loop.infer.anchor_post import nms_bev

    suppressed = 0
    for seed in range(8):  # mmdet3d's own loop takes about 0.1 s a call
        boxes, scores = _overlapping_boxes(seed)
        for thresh in (0.01, 0.2, 0.5):
            expected = reference(boxes, scores, thresh)
            assert torch.equal(nms_bev(boxes, scores, thresh), expected), (seed, thresh)
            suppressed += len(boxes) - len(expected)
    assert suppressed > 300  # the clusters did overlap


def test_anchor_post_process_gives_predict_by_feat_boxes_bit_for_bit():
    """The demo's PointPillars head on maps whose high scores cluster (neighbouring anchors overlap): the same
    boxes, scores and labels as the head's ``predict_by_feat``, frame after frame (the anchors are cached)."""
    from mmdet3d.structures import LiDARInstance3DBoxes
    from mmengine.registry import MODELS, init_default_scope

    from scripts.loop.common.checks import load_config
    from scripts.loop.infer.anchor_post import AnchorPost

    init_default_scope("mmdet3d")
    cfg = load_config(POINTPILLARS)
    head = MODELS.build(cfg.model).bbox_head
    post, meta = AnchorPost(head, cfg.model.test_cfg), dict(box_type_3d=LiDARInstance3DBoxes)
    generator, kept = torch.Generator().manual_seed(0), 0
    for _ in range(6):
        size = (124, 108)
        blobs = torch.nn.functional.avg_pool2d(torch.randn(1, 18, *size, generator=generator), 9, 1, 4) * 30
        cls, box = blobs - 1, torch.randn(1, 42, *size, generator=generator) * 0.3
        direction = torch.randn(1, 12, *size, generator=generator)
        expected = head.predict_by_feat([cls], [box], [direction], [meta], cfg=cfg.model.test_cfg)[0]
        found = post.predict([cls[0]], [box[0]], [direction[0]])
        assert torch.equal(found.bboxes_3d.tensor, expected.bboxes_3d.tensor)
        assert torch.equal(found.scores_3d, expected.scores_3d) and torch.equal(found.labels_3d, expected.labels_3d)
        kept += len(found.scores_3d)
    assert 20 < kept < 6 * cfg.model.test_cfg.nms_pre  # boxes kept, and the NMS suppressed some


@pytest.fixture(scope="module")
def centerpoint(tmp_path_factory):
    """Generated frames, an untrained CenterPoint-pillar (heatmap bias zeroed: many boxes) and the folder
    scripts.loop.deploy writes for it."""
    from scripts.data.convert_lidar import convert
    from scripts.data.synth_scenes import generate

    tmp = tmp_path_factory.mktemp("infer-centerpoint")
    generate(tmp / "datasets" / "synthetic", train=1, val=2, seed=5)
    convert(tmp / "datasets" / "synthetic")
    env = dict(
        MMLAB_DATASET_PATH=str(tmp / "datasets"),
        MMLAB_CHECKPOINTS_PATH=str(tmp / "ckpt"),
        MMLAB_TRACKING_PATH=str(tmp / "mlflow"),
    )
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        checkpoint = _checkpoint(PILLAR, tmp / "centerpoint.pth")
    return tmp, env, checkpoint


@pytest.mark.slow
def test_centerpoint_through_infer_gives_its_pytorch_boxes(centerpoint, monkeypatch, capsys, tmp_path):
    from scripts.loop.deploy import command as deploy
    from scripts.loop.deploy.box_parity import match
    from scripts.loop.infer.__main__ import main as infer

    tmp, env, checkpoint = centerpoint
    args = [ORT, PILLAR, checkpoint, "--samples", "1", "--repeat", "1", "--work-dir", tmp / "deployed"]
    assert run_main(deploy.main, args, env, monkeypatch, capsys).returncode == 0
    runtimes = [("pytorch", PILLAR), ("onnxruntime", tmp / "deployed")]
    if importlib.util.find_spec("openvino") is not None:
        runtimes.append(("openvino", tmp / "deployed"))
    runs = {}
    for runtime, model in runtimes:
        out = tmp_path / runtime
        args = [model, tmp / "datasets" / "synthetic", "--checkpoint", checkpoint, "--runtime", runtime]
        result = run_main(infer, [*args, "--out", out, "--score-thr", "0"], env, monkeypatch, capsys)
        assert result.returncode == 0, result.stderr[-3000:]
        lines = (out / "detections.jsonl").read_text().splitlines()
        runs[runtime] = [_detections(json.loads(line)["objects"]) for line in lines]
    assert len(runs["pytorch"]) == 3 and sum(len(d.scores) for d in runs["pytorch"]) >= 60
    for runtime in runs:
        for ref, other in zip(runs["pytorch"], runs[runtime], strict=True):
            found = match(ref, other)
            assert found["matched_fraction"] >= 0.95 and found["max_score_diff"] <= 1e-3, runtime


def _detections(objects: list[dict]):
    from scripts.loop.deploy.box_parity import Detections

    boxes = np.array([[*o["center"], *o["size"], o["yaw"]] for o in objects]).reshape(-1, 7)
    boxes[:, 2] -= boxes[:, 5] / 2
    labels = np.array([["Pedestrian", "Cyclist", "Car"].index(o["label"]) for o in objects])
    return Detections(boxes, np.array([o["score"] for o in objects]), labels)


def test_a_graph_from_another_config_is_refused_with_a_paragraph():
    from mmengine.registry import MODELS, init_default_scope

    from mmlab_core.errors import DataFormatError
    from scripts.loop.common.checks import load_config
    from scripts.loop.infer.heads import outputs_for

    init_default_scope("mmdet3d")
    model = MODELS.build(load_config(POINTPILLARS).model)
    assert outputs_for(model, ["cls_score0", "bbox_pred0", "dir_cls_pred0"]).names[0] == "cls_score0"
    two_levels = ["cls_score0", "bbox_pred0", "dir_cls_pred0", "cls_score1", "bbox_pred1", "dir_cls_pred1"]
    assert len(outputs_for(model, two_levels).names) == 6  # anchor heads: as many levels as the graph returns
    with pytest.raises(DataFormatError, match="deployed from another config"):
        outputs_for(model, ["cls_score0", "bbox_pred0"], "deployed/end2end.onnx")
