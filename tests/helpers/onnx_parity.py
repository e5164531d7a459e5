"""Export a model with mmdeploy and run the same inputs through PyTorch
(with mmdeploy's rewrites) and ONNX Runtime."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from scripts.loop.box_parity import iou_2d


def export_and_run(model_cfg, deploy_cfg, checkpoint: str, sample, work_dir: Path):
    """Return ``(torch_outputs, ort_outputs, onnx_path)`` as lists of numpy arrays."""
    from mmdeploy.utils import load_config

    from scripts.loop.export import export
    from scripts.loop.parity import Pair

    deploy, model = load_config(deploy_cfg, model_cfg)
    onnx_path = export(deploy, model, checkpoint, sample, work_dir)
    pair = Pair(deploy, model, checkpoint, onnx_path)
    data, args = pair.inputs(sample)
    return pair.run_torch(data, args), pair.run_deployed(args), onnx_path


def match_detections(ref_dets, ref_labels, dets, labels, iou_thr: float = 0.99):
    """Match reference boxes to ONNX Runtime boxes of the same label.

    Returns ``(matched fraction, max |score difference| over matches)``.
    """
    ref_dets, dets = ref_dets.reshape(-1, 5), dets.reshape(-1, 5)
    ref_labels, labels = ref_labels.reshape(-1), labels.reshape(-1)
    iou = iou_2d(ref_dets[:, :4], dets[:, :4])
    iou[ref_labels[:, None] != labels[None, :]] = 0
    best = iou.argmax(axis=1)
    matched = iou[np.arange(len(best)), best] >= iou_thr
    score_diff = np.abs(ref_dets[matched, 4] - dets[best[matched], 4])
    return float(matched.mean()), float(score_diff.max(initial=0.0))
