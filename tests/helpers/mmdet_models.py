"""Small mmdet detectors built from upstream configs, trained for a few steps
on generated images, saved as mmengine checkpoints."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

CLASSES = ("car", "pedestrian", "cyclist")


def detector_config(base: str, work_dir: Path, image_size: int):
    """Upstream's config with 3 classes, no pretrained weights and a small test size."""
    from mmengine.config import Config

    work_dir.mkdir(parents=True, exist_ok=True)
    stub = work_dir / "detector.py"
    stub.write_text(f"_base_ = ['mmdet::{base}']\n")
    cfg = Config.fromfile(str(stub))
    head = cfg.model.roi_head.bbox_head if "roi_head" in cfg.model else cfg.model.bbox_head
    head.num_classes = len(CLASSES)
    if "init_cfg" in cfg.model.backbone:
        cfg.model.backbone.init_cfg = None
    if cfg.model.backbone.type == "ResNet" and cfg.model.backbone.depth != 18:  # keep CPU tests small
        cfg.model.backbone.depth = 18
        cfg.model.neck.in_channels = [64, 128, 256, 512]
    # a barely trained model scores low: keep its boxes so that parity has something to compare
    test_cfg = cfg.model.test_cfg.rcnn if "rcnn" in cfg.model.test_cfg else cfg.model.test_cfg
    test_cfg.score_thr = 0.0
    cfg.test_pipeline = cfg.test_dataloader.dataset.pipeline = [
        dict(type="LoadImageFromFile"),
        dict(type="Resize", scale=(image_size, image_size), keep_ratio=True),
        dict(type="Pad", size=(image_size, image_size), pad_val=dict(img=(114, 114, 114))),
        dict(type="PackDetInputs", meta_keys=("img_id", "img_path", "ori_shape", "img_shape", "scale_factor")),
    ]
    return cfg


def random_batch(rng: np.random.Generator, size: int, batch: int = 2) -> dict:
    """Images with a few boxes each, in the form a data loader would give."""
    from mmdet.structures import DetDataSample
    from mmengine.structures import InstanceData

    inputs, samples = [], []
    for _ in range(batch):
        image = torch.from_numpy(rng.integers(0, 255, (3, size, size), dtype=np.uint8))
        xy = rng.uniform(0, size * 0.6, (3, 2))
        wh = rng.uniform(size * 0.1, size * 0.35, (3, 2))
        sample = DetDataSample(metainfo=dict(img_shape=(size, size), ori_shape=(size, size), scale_factor=(1.0, 1.0)))
        sample.gt_instances = InstanceData(
            bboxes=torch.tensor(np.concatenate([xy, xy + wh], 1), dtype=torch.float32),
            labels=torch.tensor(rng.integers(0, len(CLASSES), 3)),
        )
        inputs.append(image)
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def train_and_save(cfg, path: Path, steps: int = 2, size: int = 128) -> list[float]:
    """Build the detector, run ``steps`` training steps, save a checkpoint."""
    from mmdet.registry import MODELS
    from mmdet.utils import register_all_modules
    from mmengine.logging import MessageHub
    from mmengine.optim import build_optim_wrapper
    from mmengine.runner.checkpoint import save_checkpoint, weights_to_cpu

    register_all_modules()
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.train()
    optim = build_optim_wrapper(model, dict(optimizer=dict(type="SGD", lr=0.001, momentum=0.9)))
    rng = np.random.default_rng(0)
    losses = []
    for step in range(steps):
        MessageHub.get_current_instance().update_info("iter", step)  # as a runner would
        log_vars = model.train_step(random_batch(rng, size), optim)
        losses.append(float(log_vars["loss"]))
    meta = dict(dataset_meta=dict(classes=CLASSES))
    save_checkpoint(dict(state_dict=weights_to_cpu(model.state_dict()), meta=meta), str(path))
    return losses
