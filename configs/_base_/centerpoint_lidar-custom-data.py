# The custom LiDAR data for the CenterPoint configs: the same data, pipelines and metric as
# configs/pointpillars_lidar-custom-3class.py, plus ZeroVelocity (CenterHead regresses velocity, and the
# custom format has none). Data only, so that it combines with upstream's model, schedule and runtime bases.
# The plugin's component modules (extensions.COMPONENTS); each registers itself when imported.
custom_imports = dict(
    imports=[
        "extensions.datasets",
        "extensions.transforms",
        "extensions.evaluation",
        "extensions.models",
        "extensions.optim",
        "extensions.hooks",
    ],
    allow_failed_imports=False,
)
# every checkpoint records the training data's intensity range (meta["intensity_range"]; infer compares it)
custom_hooks = [dict(type="IntensityRangeHook")]

# MMLAB_DATASET_PATH (default: data/) holds the datasets
data_root = "{{$MMLAB_DATASET_PATH:data}}/synthetic/"
class_names = ["Pedestrian", "Cyclist", "Car"]
metainfo = dict(classes=class_names)
point_cloud_range = [0, -39.68, -3, 69.12, 39.68, 1]
points_loader = dict(type="LoadLidarPoints", load_dim=4, use_dim=4)

db_sampler = dict(
    type="DataBaseSampler",
    data_root=data_root,
    info_path=data_root + "lidar_dbinfos_train.pkl",
    rate=1.0,
    prepare=dict(filter_by_difficulty=[-1], filter_by_min_points=dict(Car=5, Pedestrian=5, Cyclist=5)),
    classes=class_names,
    sample_groups=dict(Car=10, Pedestrian=6, Cyclist=6),
    points_loader=points_loader,
)
train_pipeline = [
    points_loader,
    dict(type="LoadAnnotations3D", with_bbox_3d=True, with_label_3d=True),
    dict(type="ObjectSample", db_sampler=db_sampler, use_ground_plane=False),
    dict(type="ZeroVelocity"),
    dict(type="RandomFlip3D", flip_ratio_bev_horizontal=0.5),
    dict(type="GlobalRotScaleTrans", rot_range=[-0.78539816, 0.78539816], scale_ratio_range=[0.95, 1.05]),
    dict(type="PointsRangeFilter", point_cloud_range=point_cloud_range),
    dict(type="ObjectRangeFilter", point_cloud_range=point_cloud_range),
    dict(type="PointShuffle"),
    dict(type="Pack3DDetInputs", keys=["points", "gt_labels_3d", "gt_bboxes_3d"]),
]
test_pipeline = [
    points_loader,
    dict(type="PointsRangeFilter", point_cloud_range=point_cloud_range),
    dict(type="Pack3DDetInputs", keys=["points"]),
]

dataset_common = dict(type="LidarDataset", data_root=data_root, metainfo=metainfo, box_type_3d="LiDAR")
train_dataloader = dict(
    batch_size=2,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type="DefaultSampler", shuffle=True),
    dataset=dict(ann_file="lidar_infos_train.pkl", pipeline=train_pipeline, **dataset_common),
)
val_dataloader = dict(
    batch_size=1,
    num_workers=0,
    persistent_workers=False,
    drop_last=False,
    sampler=dict(type="DefaultSampler", shuffle=False),
    dataset=dict(ann_file="lidar_infos_val.pkl", pipeline=test_pipeline, test_mode=True, **dataset_common),
)
test_dataloader = val_dataloader
val_evaluator = dict(type="LidarMetric")
test_evaluator = val_evaluator

vis_backends = [dict(type="LocalVisBackend")]
visualizer = dict(type="Det3DLocalVisualizer", vis_backends=vis_backends, name="visualizer")
