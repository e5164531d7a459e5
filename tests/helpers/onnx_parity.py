"""Export a model with mmdeploy and run the same inputs through PyTorch
(with mmdeploy's rewrites) and ONNX Runtime."""

from __future__ import annotations

from pathlib import Path

from scripts.loop.deploy.box_parity import Detections, match


def export_and_run(model_cfg, deploy_cfg, checkpoint: str, sample, work_dir: Path):
    """Return ``(torch_outputs, ort_outputs, onnx_path)`` as lists of numpy arrays."""
    from mmdeploy.utils import load_config

    from scripts.loop.deploy.export import export
    from scripts.loop.deploy.parity import Pair

    deploy, model = load_config(deploy_cfg, model_cfg)
    onnx_path = export(deploy, model, checkpoint, sample, work_dir)
    pair = Pair(deploy, model, checkpoint, onnx_path)
    data, args = pair.inputs(sample)
    return pair.run_torch(data, args), pair.run_deployed(args), onnx_path


def match_detections(ref_dets, ref_labels, dets, labels, iou_thr: float = 0.99):
    """mmdet's raw deploy outputs (``dets`` (N, 5) x1y1x2y2 + score, ``labels``) compared with the
    project's one box matcher, ``scripts.loop.deploy.box_parity.match`` (greedy one-to-one, same label,
    unmatched boxes on either side count against the fraction).

    Returns ``(matched fraction, max |score difference| over matches)``.
    """
    ref_dets, dets = ref_dets.reshape(-1, 5), dets.reshape(-1, 5)
    ref = Detections(ref_dets[:, :4], ref_dets[:, 4], ref_labels.reshape(-1))
    other = Detections(dets[:, :4], dets[:, 4], labels.reshape(-1))
    result = match(ref, other, min_iou=iou_thr)
    return result["matched_fraction"], result["max_score_diff"]
