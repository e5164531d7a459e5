"""Boxes from an anchor head's maps for one cloud: what ``Anchor3DHead.predict_by_feat`` computes, the same
tensor operations in the same order (so the same boxes, bit for bit: tests/loop/test_infer_heads.py), without
its per-frame costs:

- the anchors are made once per feature-map size, not on every frame;
- the rotated NMS computes the IoU only of pairs whose axis-aligned bounds meet, in one call to mmcv's rotated-IoU
  kernel (the one ``nms_rotated`` uses), and suppresses greedily with whole-array steps instead of mmcv's
  per-pair loop over tensor slices.
"""

from __future__ import annotations

import numpy as np
import torch


class AnchorPost:
    """``predict(cls_scores, bbox_preds, dir_preds)`` for one cloud (per level: (C, H, W) maps)."""

    def __init__(self, head, test_cfg):
        self.head, self.cfg = head, test_cfg
        self._anchors: dict[tuple, list[torch.Tensor]] = {}

    def anchors(self, sizes: list[torch.Size]) -> list[torch.Tensor]:
        key = tuple(tuple(size) for size in sizes)
        if key not in self._anchors:
            levels = self.head.prior_generator.grid_anchors(list(sizes), device="cpu")
            self._anchors[key] = [a.reshape(-1, self.head.box_code_size) for a in levels]
        return self._anchors[key]

    def predict(self, cls_scores: list, bbox_preds: list, dir_preds: list):
        from mmdet3d.structures import LiDARInstance3DBoxes, limit_period, xywhr2xyxyr
        from mmengine.structures import InstanceData

        head, cfg = self.head, self.cfg
        priors = self.anchors([c.shape[-2:] for c in cls_scores])
        boxes, scores, dirs = [], [], []
        for cls_score, bbox_pred, dir_pred, anchors in zip(cls_scores, bbox_preds, dir_preds, priors, strict=True):
            direction = torch.max(dir_pred.permute(1, 2, 0).reshape(-1, 2), dim=-1)[1]
            logits = cls_score.permute(1, 2, 0).reshape(-1, head.num_classes)
            level = logits.sigmoid() if head.use_sigmoid_cls else logits.softmax(-1)
            deltas = bbox_pred.permute(1, 2, 0).reshape(-1, head.box_code_size)
            nms_pre = cfg.get("nms_pre", -1)
            if 0 < nms_pre < level.shape[0]:
                best = level.max(dim=1)[0] if head.use_sigmoid_cls else level[:, :-1].max(dim=1)[0]
                top = best.topk(nms_pre)[1]
                anchors, deltas, level, direction = anchors[top, :], deltas[top, :], level[top, :], direction[top]
            boxes.append(head.bbox_coder.decode(anchors, deltas))
            scores.append(level)
            dirs.append(direction)
        boxes, scores, dirs = torch.cat(boxes), torch.cat(scores), torch.cat(dirs)
        bev = xywhr2xyxyr(LiDARInstance3DBoxes(boxes, box_dim=head.box_code_size).bev)
        classes = scores.shape[1] if head.use_sigmoid_cls else scores.shape[1] - 1
        kept_boxes, kept_scores, labels, kept_dirs = [], [], [], []
        for label in range(classes):
            chosen = scores[:, label] > cfg.get("score_thr", 0)
            if not chosen.any():
                continue
            keep = nms_bev(bev[chosen, :], scores[chosen, label], cfg.nms_thr, cfg.use_rotate_nms)
            kept_boxes.append(boxes[chosen, :][keep])
            kept_scores.append(scores[chosen, label][keep])
            labels.append(torch.full((len(keep),), label, dtype=torch.long))
            kept_dirs.append(dirs[chosen][keep])
        if kept_boxes:
            boxes, scores = torch.cat(kept_boxes), torch.cat(kept_scores)
            labels, dirs = torch.cat(labels), torch.cat(kept_dirs)
            if boxes.shape[0] > cfg.max_num:
                order = scores.sort(descending=True)[1][: cfg.max_num]
                boxes, labels, scores, dirs = boxes[order, :], labels[order], scores[order], dirs[order]
            yaw = limit_period(boxes[..., 6] - head.dir_offset, head.dir_limit_offset, np.pi)
            boxes[..., 6] = yaw + head.dir_offset + np.pi * dirs.to(boxes.dtype)
        else:
            boxes = scores.new_zeros((0, boxes.size(-1)))
            scores, labels = scores.new_zeros((0,)), scores.new_zeros((0,), dtype=torch.long)
        result = InstanceData()
        result.bboxes_3d = LiDARInstance3DBoxes(boxes, box_dim=head.box_code_size)
        result.scores_3d, result.labels_3d = scores, labels
        return result


def nms_bev(boxes: torch.Tensor, scores: torch.Tensor, thresh: float, rotated: bool = True) -> torch.Tensor:
    """Indices of the boxes (N, 5: x1, y1, x2, y2, yaw) that ``mmdet3d.models.layers.nms_bev`` keeps, in its order."""
    from mmdet3d.models.layers import nms_bev as reference
    from mmdet3d.models.layers import nms_normal_bev

    if not rotated:
        return nms_normal_bev(boxes, scores, thresh)
    if thresh <= 0 or len(boxes) < 2:  # IoU 0 >= 0 suppresses boxes that do not meet: mmdet3d's own loop
        return reference(boxes, scores, thresh)
    order = scores.sort(0, descending=True)[1]  # mmdet3d sorts, then mmcv's kernel sorts the sorted scores again
    boxes, scores = boxes[order].contiguous(), scores[order]
    rank = scores.sort(0, descending=True)[1]
    order = order[rank]
    box = torch.stack(
        ((boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2,
         boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1], boxes[:, 4]),
        dim=-1,
    )[rank]  # fmt: skip
    return order[greedy(suppresses(box, thresh))]


def suppresses(box: torch.Tensor, thresh: float) -> torch.Tensor:
    """(N, N) bool: ``[a, b]`` when box a, ranked above b, overlaps it by IoU >= ``thresh`` (mmcv's rotated IoU,
    its arguments in ``nms_rotated``'s order); pairs whose axis-aligned bounds do not meet have IoU 0."""
    from mmcv.ops import box_iou_rotated

    cos, sin = torch.cos(box[:, 4]).abs(), torch.sin(box[:, 4]).abs()
    half = 0.5 * torch.stack((box[:, 2] * cos + box[:, 3] * sin, box[:, 2] * sin + box[:, 3] * cos), dim=-1)
    reach = (half[:, None, :] + half[None, :, :]) * 1.001 + 1e-3  # generous: a pair too many only costs time
    near = ((box[:, None, :2] - box[None, :, :2]).abs() <= reach).all(dim=-1)  # their axis-aligned bounds meet
    first, second = torch.triu(near, diagonal=1).nonzero(as_tuple=True)
    table = torch.zeros(near.shape, dtype=torch.bool)
    if len(first):
        table[first, second] = box_iou_rotated(box[first], box[second], aligned=True) >= thresh
    return table


def greedy(table: torch.Tensor) -> torch.Tensor:
    """Ranks kept by greedy suppression over ``table`` (``suppresses``): rank b is kept when no kept rank above
    it suppresses it. The kept set is the map's one fixed point; iterating from "all kept" fixes one more rank
    per step at least, and in practice stops after the longest chain of suppressions."""
    keep = torch.ones(table.shape[0], dtype=torch.bool)
    while True:
        again = ~(table & keep[:, None]).any(dim=0)
        if torch.equal(again, keep):
            return keep.nonzero(as_tuple=True)[0]
        keep = again
