"""mmdet's mask paste on CPU (``skip_empty=True``) gives what the whole-image paste gives, also when every box
lies outside the image: patches/mmdetection/mask-heads-paste-nothing-for-boxes-wholly-outside-the-image.patch
(before it, torch.arange raised and QueryInst's predict failed on CPU)."""

from __future__ import annotations

import pytest
import torch

IMG_H, IMG_W = 100, 120
BOXES = {
    "inside": [[10.0, 12.0, 50.0, 60.0], [20.0, 20.0, 31.5, 30.0]],
    "left and above": [[-50.0, -40.0, -10.0, -5.0], [-30.0, 10.0, -20.0, 40.0]],
    "right and below": [[150.0, 10.0, 180.0, 50.0], [10.0, 130.0, 40.0, 170.0]],
    "straddling the border": [[-10.0, -10.0, 15.0, 20.0], [110.0, 90.0, 140.0, 130.0]],
}


def _image_masks(masks, boxes, skip_empty: bool) -> torch.Tensor:
    """Each box's mask pasted into a full image, as FCNMaskHead does."""
    from mmdet.models.roi_heads.mask_heads.fcn_mask_head import _do_paste_mask

    pasted, region = _do_paste_mask(masks, boxes, IMG_H, IMG_W, skip_empty=skip_empty)
    image = torch.zeros(len(boxes), IMG_H, IMG_W)
    image[(slice(None), *region)] = pasted
    return image


@pytest.mark.parametrize("where", list(BOXES))
def test_cpu_paste_matches_the_whole_image_paste(where):
    masks = torch.rand(2, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    boxes = torch.tensor(BOXES[where])
    cpu, whole = _image_masks(masks, boxes, True), _image_masks(masks, boxes, False)
    torch.testing.assert_close(cpu, whole)
    assert (cpu.sum() > 0) == (where in ("inside", "straddling the border"))


def test_mask_head_predicts_empty_masks_for_boxes_outside_the_image():
    from mmdet.models.roi_heads.mask_heads.fcn_mask_head import FCNMaskHead
    from mmdet.utils import register_all_modules
    from mmengine.config import ConfigDict
    from mmengine.structures import InstanceData

    register_all_modules(init_default_scope=True)  # an earlier test may have left another default scope
    head = FCNMaskHead(num_convs=1, in_channels=4, conv_out_channels=4, num_classes=3)
    results = InstanceData(bboxes=torch.tensor(BOXES["left and above"]), labels=torch.tensor([0, 2]))
    results.scores = torch.tensor([0.9, 0.8])
    meta = dict(img_shape=(IMG_H, IMG_W), ori_shape=(IMG_H, IMG_W), scale_factor=(1.0, 1.0))
    out = head.predict_by_feat(
        (torch.randn(2, 3, 28, 28),), [results], [meta], ConfigDict(mask_thr_binary=0.5), rescale=True
    )[0]
    assert out.masks.shape == (2, IMG_H, IMG_W) and not out.masks.any()
