"""A PointPillars (KITTI 3-class) config that trains on the real scan."""

from __future__ import annotations

from pathlib import Path

from tests.helpers.kitti_scan import CLASSES

BASE = "mmdet3d::pointpillars/pointpillars_hv_secfpn_8xb6-160e_kitti-3d-3class.py"


def pointpillars_config(data_root: Path, work_dir: Path, max_iters: int = 2):
    """Upstream's config with a tiny train set, no augmentation and no validation."""
    from mmengine.config import Config

    stub = work_dir / "pointpillars_kitti000008.py"
    work_dir.mkdir(parents=True, exist_ok=True)
    stub.write_text(f"_base_ = ['{BASE}']\n")
    cfg = Config.fromfile(str(stub))
    pcr = cfg.point_cloud_range
    pipeline = [
        dict(type="LoadPointsFromFile", coord_type="LIDAR", load_dim=4, use_dim=4),
        dict(type="LoadAnnotations3D", with_bbox_3d=True, with_label_3d=True),
        dict(type="PointsRangeFilter", point_cloud_range=pcr),
        dict(type="ObjectRangeFilter", point_cloud_range=pcr),
        dict(type="Pack3DDetInputs", keys=["points", "gt_bboxes_3d", "gt_labels_3d"]),
    ]
    cfg.train_dataloader = dict(
        batch_size=1,
        num_workers=0,
        persistent_workers=False,
        sampler=dict(type="DefaultSampler", shuffle=False),
        dataset=dict(
            type="KittiDataset",
            data_root=str(data_root),
            ann_file="kitti_infos.pkl",
            data_prefix=dict(pts="training/velodyne"),
            pipeline=pipeline,
            modality=dict(use_lidar=True, use_camera=False),
            metainfo=dict(classes=list(CLASSES)),
            box_type_3d="LiDAR",
        ),
    )
    cfg.train_cfg = dict(type="IterBasedTrainLoop", max_iters=max_iters, val_interval=10**6)
    cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
    cfg.param_scheduler = []
    cfg.default_hooks.checkpoint = dict(type="CheckpointHook", interval=2, by_epoch=False)
    cfg.default_hooks.logger = dict(type="LoggerHook", interval=1)
    cfg.work_dir = str(work_dir)
    cfg.randomness = dict(seed=0)
    return cfg
