"""SSD predicts: the dense-head post-processing no longer assumes a ``loss_cls``.

Patch: patches/mmdetection/dense-heads-do-not-assume-every-head-builds-loss-cls.patch
"""

from __future__ import annotations

import torch


def test_ssd_head_predicts_boxes_from_feature_maps():
    from mmdet.models.dense_heads import SSDHead
    from mmdet.utils import register_all_modules
    from mmengine.config import ConfigDict
    from mmengine.structures import InstanceData

    register_all_modules()
    test_cfg = ConfigDict(nms_pre=100, score_thr=0.0, nms=dict(type="nms", iou_threshold=0.45), max_per_img=20)
    head = SSDHead(
        num_classes=3,
        in_channels=(8, 8, 8),
        anchor_generator=dict(
            type="SSDAnchorGenerator",
            scale_major=False,
            input_size=64,
            strides=[8, 16, 32],
            ratios=([2], [2, 3], [2]),
            min_sizes=[12, 24, 40],
            max_sizes=[24, 40, 64],
        ),
        test_cfg=test_cfg,
    )
    assert not hasattr(head, "loss_cls")
    torch.manual_seed(0)
    feats = (torch.rand(1, 8, 8, 8), torch.rand(1, 8, 4, 4), torch.rand(1, 8, 2, 2))
    meta = [dict(img_shape=(64, 64), ori_shape=(64, 64), scale_factor=(1.0, 1.0))]
    cls_scores, bbox_preds = head(feats)
    results = head.predict_by_feat(cls_scores, bbox_preds, batch_img_metas=meta, rescale=False)

    assert len(results) == 1
    result = results[0]
    assert isinstance(result, InstanceData)
    assert 0 < len(result) <= 20
    # softmax scores over the 3 foreground classes + background: strictly inside (0, 1)
    assert bool(((result.scores > 0) & (result.scores < 1)).all())
    assert set(result.labels.tolist()) <= {0, 1, 2}
    assert result.bboxes.shape == (len(result), 4)
