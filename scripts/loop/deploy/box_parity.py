"""Compare final detections of two runtimes: match boxes by IoU and label,
then report how many matched and how far their scores are apart.

This is the project's one box matcher (deploy parity, benchmarks and the tests
use it). Its semantics, in ``match``: one-to-one, greedy from the highest
reference score, a pair needs the same label and IoU >= ``min_iou`` (axis-aligned
for 2D boxes, rotated bird's-eye view for 3D), and boxes left over on *either*
side count against ``matched_fraction``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MATCH_IOU = 0.9  # a deployed box is the same box when it overlaps this much, with the same label


@dataclass
class Detections:
    """One frame's final boxes: 2D ``(N, 4)`` x1y1x2y2 or 3D ``(N, 7)`` LiDAR boxes."""

    boxes: np.ndarray
    scores: np.ndarray
    labels: np.ndarray

    @classmethod
    def from_sample(cls, sample) -> Detections:
        """From an mmdet ``DetDataSample`` or an mmdet3d ``Det3DDataSample``."""
        if "pred_instances_3d" in sample:
            pred = sample.pred_instances_3d
            boxes = pred.bboxes_3d.tensor[:, :7]
            return cls(_np(boxes), _np(pred.scores_3d), _np(pred.labels_3d))
        pred = sample.pred_instances
        return cls(_np(pred.bboxes), _np(pred.scores), _np(pred.labels))


def _np(tensor) -> np.ndarray:
    return tensor.detach().cpu().numpy().astype(np.float64)


def iou_2d(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of every box in ``a`` (N, 4) with every box in ``b`` (M, 4), x1y1x2y2."""
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=2)
    area_a = np.prod(a[:, 2:] - a[:, :2], axis=1)
    area_b = np.prod(b[:, 2:] - b[:, :2], axis=1)
    return inter / np.maximum(area_a[:, None] + area_b[None, :] - inter, 1e-9)


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise IoU: axis-aligned for 2D boxes, rotated bird's-eye view for 3D ones."""
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)))
    if a.shape[1] == 4:
        return iou_2d(a, b)
    from extensions.evaluation.lidar_metric import box_overlaps

    return np.asarray(box_overlaps(a, b, "bev"), dtype=np.float64)


def match(ref: Detections, other: Detections, min_iou: float = MATCH_IOU) -> dict:
    """Greedy one-to-one matching, highest reference score first.

    ``matched_fraction`` counts unmatched boxes on both sides:
    matched / max(len(ref), len(other)); 1.0 when both are empty.
    """
    overlaps = iou(ref.boxes, other.boxes)
    if overlaps.size:
        overlaps[ref.labels[:, None] != other.labels[None, :]] = 0.0
    taken = np.zeros(len(other.boxes), bool)
    pairs = []
    for i in np.argsort(-ref.scores, kind="stable"):
        if not len(other.boxes):
            break
        candidates = np.where(~taken & (overlaps[i] >= min_iou))[0]
        if len(candidates):
            j = candidates[np.argmax(overlaps[i, candidates])]
            taken[j] = True
            pairs.append((i, j))
    total = max(len(ref.boxes), len(other.boxes))
    score_diffs = [abs(ref.scores[i] - other.scores[j]) for i, j in pairs]
    return dict(
        reference_boxes=len(ref.boxes),
        deployed_boxes=len(other.boxes),
        matched=len(pairs),
        matched_fraction=len(pairs) / total if total else 1.0,
        min_iou=min((float(overlaps[i, j]) for i, j in pairs), default=None),
        max_score_diff=float(max(score_diffs, default=0.0)),
        mean_score_diff=float(np.mean(score_diffs)) if score_diffs else 0.0,
    )
