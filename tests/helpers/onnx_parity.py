"""Export a model with mmdeploy and run the same inputs through PyTorch
(with mmdeploy's rewrites) and ONNX Runtime."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch


def export_and_run(model_cfg, deploy_cfg: str, checkpoint: str, sample, work_dir: Path, input_shape=None):
    """Return ``(torch_outputs, ort_outputs, onnx_path)`` as lists of numpy arrays."""
    import onnxruntime as ort
    from mmdeploy.apis import torch2onnx
    from mmdeploy.apis.utils import build_task_processor
    from mmdeploy.core import RewriterContext, patch_model
    from mmdeploy.utils import load_config

    deploy, model = load_config(deploy_cfg, model_cfg)
    work_dir.mkdir(parents=True, exist_ok=True)
    torch2onnx(sample, str(work_dir), "end2end.onnx", deploy, model, checkpoint, device="cpu")
    onnx_path = work_dir / "end2end.onnx"

    processor = build_task_processor(model, deploy, "cpu")
    torch_model = processor.build_pytorch_model(checkpoint)
    data, inputs = processor.create_input(
        sample, input_shape, data_preprocessor=getattr(torch_model, "data_preprocessor", None)
    )
    if isinstance(inputs, list) and len(inputs) == 1:
        inputs = inputs[0]
    args = tuple(inputs) if isinstance(inputs, (list, tuple)) else (inputs,)
    patched = patch_model(torch_model, cfg=deploy, backend="onnxruntime")
    with RewriterContext(cfg=deploy, backend="onnxruntime", opset=11), torch.no_grad():
        reference = patched(*args, data_samples=data["data_samples"], mode="predict")
    reference = [t.detach().cpu().numpy() for t in _flatten(reference)]

    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    feeds = {i.name: a.detach().cpu().numpy() for i, a in zip(session.get_inputs(), args, strict=True)}
    outputs = session.run(None, feeds)
    return reference, [np.asarray(o) for o in outputs], onnx_path


def _flatten(value):
    if isinstance(value, torch.Tensor):
        return [value]
    out = []
    for item in value:
        out += _flatten(item)
    return out


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of every box in ``a`` (N, 4) with every box in ``b`` (M, 4), x1y1x2y2."""
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=2)
    area_a = np.prod(a[:, 2:] - a[:, :2], axis=1)
    area_b = np.prod(b[:, 2:] - b[:, :2], axis=1)
    return inter / np.maximum(area_a[:, None] + area_b[None, :] - inter, 1e-9)


def match_detections(ref_dets, ref_labels, dets, labels, iou_thr: float = 0.99):
    """Match reference boxes to ONNX Runtime boxes of the same label.

    Returns ``(matched fraction, max |score difference| over matches)``.
    """
    ref_dets, dets = ref_dets.reshape(-1, 5), dets.reshape(-1, 5)
    ref_labels, labels = ref_labels.reshape(-1), labels.reshape(-1)
    iou = box_iou(ref_dets[:, :4], dets[:, :4])
    iou[ref_labels[:, None] != labels[None, :]] = 0
    best = iou.argmax(axis=1)
    matched = iou[np.arange(len(best)), best] >= iou_thr
    score_diff = np.abs(ref_dets[matched, 4] - dets[best[matched], 4])
    return float(matched.mean()), float(score_diff.max(initial=0.0))
