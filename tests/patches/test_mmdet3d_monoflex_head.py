"""MonoFlex, from configs/monoflex_dla34_kitti-mono3d.py (ours: mmdet3d 1.4.0 ships none), initialises, takes a
training step on KITTI 000008's real image and labelled boxes, and predicts. mmdet3d 1.x never ran MonoFlexHead's
init_weights, loss or predict, and each stopped on a port bug. Guards
patches/mmdetection3d/monoflex-make-the-head-s-loss-and-predict-paths-run.patch.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch

from mmlab_core.settings import REPO_ROOT, current


def _kitti_sample():
    """000008's image (BGR, as the data preprocessor expects) and a data sample with its real labels."""
    import mmcv
    from mmdet3d.structures import CameraInstance3DBoxes, Det3DDataSample
    from mmengine.structures import InstanceData

    folder = current().shared / "data" / "kitti-000008"
    image = mmcv.imread(str(folder / "000008.png"))
    with open(folder / "000008.pkl", "rb") as f:
        info = pickle.load(f)["data_list"][0]
    objects = info["instances"]
    sample = Det3DDataSample()
    shape = image.shape[:2]
    sample.set_metainfo(
        dict(
            cam2img=np.array(info["images"]["CAM2"]["cam2img"]),
            img_shape=shape,
            ori_shape=shape,
            pad_shape=shape,
            box_type_3d=CameraInstance3DBoxes,
            affine_aug=False,
            trans_mat=np.eye(3, dtype=np.float32),
        )
    )
    gt_3d = InstanceData()
    gt_3d.bboxes_3d = CameraInstance3DBoxes(torch.tensor([o["bbox_3d"] for o in objects]))
    gt_3d.labels_3d = torch.tensor([o["bbox_label_3d"] for o in objects])
    gt_3d.centers_2d = torch.tensor([o["center_2d"] for o in objects])
    gt_3d.depths = torch.tensor([o["depth"] for o in objects])
    gt_2d = InstanceData(bboxes=torch.tensor([o["bbox"] for o in objects]), labels=gt_3d.labels_3d.clone())
    gt_2d.centers_2d, gt_2d.depths = gt_3d.centers_2d, gt_3d.depths
    sample.gt_instances_3d, sample.gt_instances = gt_3d, gt_2d
    return torch.from_numpy(image).permute(2, 0, 1).contiguous(), sample


@pytest.mark.slow
def test_monoflex_trains_and_predicts_on_a_real_kitti_frame():
    from mmdet3d.registry import MODELS
    from mmdet3d.utils import register_all_modules
    from mmengine.config import Config
    from mmengine.optim import build_optim_wrapper

    register_all_modules(init_default_scope=True)
    cfg = Config.fromfile(str(REPO_ROOT / "configs" / "monoflex_dla34_kitti-mono3d.py"))
    cfg.model.backbone.init_cfg = None  # no download
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    image, sample = _kitti_sample()
    batch = dict(inputs=dict(img=[image]), data_samples=[sample])

    model.train()
    losses = model(**model.data_preprocessor(batch, True), mode="loss")
    assert all(torch.isfinite(v) for v in losses.values()), losses
    assert losses["loss_keypoints"] > 0 and losses["loss_keypoints_depth"] > 0  # the keypoint targets are used
    optim = build_optim_wrapper(model, dict(type="OptimWrapper", optimizer=dict(type="Adam", lr=2.5e-4)))
    optim.update_params(model.parse_losses(losses)[0])

    model.eval()
    with torch.no_grad():
        (result,) = model.test_step(batch)
    pred = result.pred_instances_3d
    n = len(pred.scores_3d)
    assert pred.bboxes_3d.tensor.shape == (n, 7) and pred.labels_3d.shape == (n,)
    assert bool(torch.isfinite(pred.bboxes_3d.tensor).all())
