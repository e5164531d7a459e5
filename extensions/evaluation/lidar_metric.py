"""BEV and 3D average precision per class and per distance band, on the CPU.

Predictions and ground truth are matched greedily by score at a per-class
IoU threshold (rotated BEV IoU, or that times the height overlap for 3D);
AP is the mean interpolated precision at 40 recall points (KITTI's AP40).
A distance band keeps the boxes whose centre lies within it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from mmdet3d.evaluation.functional.kitti_utils.rotate_iou_cpu import rotate_iou_cpu_eval
from mmdet3d.registry import METRICS
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

BANDS = ((0.0, 30.0), (30.0, 50.0), (50.0, math.inf))
IOU = {"Car": 0.7, "Pedestrian": 0.5, "Cyclist": 0.5}


def _band_name(band: tuple[float, float]) -> str:
    low, high = band
    return f"{low:g}-{high:g}m" if math.isfinite(high) else f"beyond{low:g}m"


def box_overlaps(a: np.ndarray, b: np.ndarray, kind: str) -> np.ndarray:
    """IoU of boxes ``x, y, z (bottom), dx, dy, dz, yaw``: ``bev`` or ``3d``."""
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)), dtype=np.float32)
    bev_a, bev_b = a[:, [0, 1, 3, 4, 6]], b[:, [0, 1, 3, 4, 6]]
    if kind == "bev":
        return rotate_iou_cpu_eval(bev_a, bev_b, -1)
    inter_area = rotate_iou_cpu_eval(bev_a, bev_b, 2)
    top = np.minimum(a[:, None, 2] + a[:, None, 5], b[None, :, 2] + b[None, :, 5])
    bottom = np.maximum(a[:, None, 2], b[None, :, 2])
    inter = inter_area * np.clip(top - bottom, 0, None)
    volume_a, volume_b = np.prod(a[:, 3:6], axis=1), np.prod(b[:, 3:6], axis=1)
    return inter / np.maximum(volume_a[:, None] + volume_b[None, :] - inter, 1e-9)


def average_precision(frames: Sequence[dict], threshold: float, kind: str) -> float:
    """AP40 over frames of ``dict(gt=(G, 7), pred=(P, 7), score=(P,))``; nan without GT."""
    total_gt = sum(len(f["gt"]) for f in frames)
    if total_gt == 0:
        return math.nan
    scored = []  # (score, is true positive)
    for frame in frames:
        iou = box_overlaps(frame["pred"], frame["gt"], kind)
        taken = np.zeros(len(frame["gt"]), bool)
        for index in np.argsort(-frame["score"], kind="stable"):
            candidates = np.where(~taken & (iou[index] >= threshold))[0] if iou.size else []
            hit = len(candidates) > 0
            if hit:
                taken[candidates[np.argmax(iou[index, candidates])]] = True
            scored.append((float(frame["score"][index]), hit))
    if not scored:
        return 0.0
    scored.sort(key=lambda item: -item[0])
    hits = np.array([hit for _, hit in scored], dtype=float)
    tp = np.cumsum(hits)
    recall = tp / total_gt
    precision = tp / np.arange(1, len(hits) + 1)
    points = np.linspace(1 / 40, 1.0, 40)
    best = [precision[recall >= r].max() if (recall >= r).any() else 0.0 for r in points]
    return float(np.mean(best)) * 100


@METRICS.register_module()
class LidarMetric(BaseMetric):
    """BEV/3D AP per class and distance band for LiDAR-frame boxes."""

    default_prefix = "lidar"

    def __init__(self, iou_thresholds: dict | None = None, bands=BANDS, collect_device: str = "cpu", prefix=None):
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.iou_thresholds = {**IOU, **(iou_thresholds or {})}
        self.bands = [tuple(b) for b in bands]

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            pred = sample["pred_instances_3d"]
            gt = sample["eval_ann_info"]
            self.results.append(
                dict(
                    pred=pred["bboxes_3d"].tensor[:, :7].cpu().numpy(),
                    score=pred["scores_3d"].cpu().numpy(),
                    pred_label=pred["labels_3d"].cpu().numpy(),
                    gt=gt["gt_bboxes_3d"].tensor[:, :7].cpu().numpy(),
                    gt_label=np.asarray(gt["gt_labels_3d"]),
                )
            )

    def compute_metrics(self, results: list) -> dict[str, float]:
        classes = self.dataset_meta["classes"]
        metrics: dict[str, float] = {}
        for label, name in enumerate(classes):
            threshold = self.iou_thresholds.get(name, 0.5)
            for band in [(0.0, math.inf), *self.bands]:
                frames = [_select(r, label, band) for r in results]
                suffix = "" if band == (0.0, math.inf) else f"_{_band_name(band)}"
                for kind in ("bev", "3d"):
                    ap = average_precision(frames, threshold, kind)
                    if not math.isnan(ap):
                        metrics[f"{name}/{kind.upper()}_AP40{suffix}"] = round(ap, 4)
        overall = [metrics[k] for k in metrics if k.endswith("/3D_AP40")]
        metrics["mAP_3D"] = round(float(np.mean(overall)), 4) if overall else 0.0
        MMLogger.get_current_instance().info(_table(metrics))
        return metrics


def _select(result: dict, label: int, band: tuple[float, float]) -> dict:
    def in_band(boxes: np.ndarray) -> np.ndarray:
        distance = np.hypot(boxes[:, 0], boxes[:, 1])
        return (distance >= band[0]) & (distance < band[1])

    gt = result["gt"][(result["gt_label"] == label)]
    keep = result["pred_label"] == label
    pred, score = result["pred"][keep], result["score"][keep]
    in_pred = in_band(pred)
    return dict(gt=gt[in_band(gt)], pred=pred[in_pred], score=score[in_pred])


def _table(metrics: dict[str, float]) -> str:
    width = max(len(k) for k in metrics)
    return "\n".join(["LiDAR detection metrics (AP40, %):"] + [f"  {k:<{width}}  {v:8.2f}" for k, v in metrics.items()])
