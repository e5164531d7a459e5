# PointPillars (upstream's KITTI 3-class model) on the custom LiDAR format.
# Data: `python -m scripts.data.synth_scenes data/synthetic && python -m scripts.data.convert_lidar data/synthetic`,
# or your own frames in the same layout (see extensions/io/labels.py).
_base_ = ["mmdet3d::pointpillars/pointpillars_hv_secfpn_8xb6-160e_kitti-3d-3class.py"]
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
# the order of the model's anchors (Pedestrian, Cyclist, Car)
class_names = ["Pedestrian", "Cyclist", "Car"]
metainfo = dict(classes=class_names)
point_cloud_range = [0, -39.68, -3, 69.12, 39.68, 1]
points_loader = dict(type="LoadLidarPoints", load_dim=4, use_dim=4)

# BatchNorm statistics: upstream's momentum 0.01 needs thousands of iterations to settle, and a short run
# then predicts with nearly the initial statistics (scores saturated at 1.0, boxes hundreds of metres
# long). 0.1, PyTorch's default, settles within tens of iterations.
bn_momentum = 0.1
model = dict(
    voxel_encoder=dict(norm_cfg=dict(type="BN1d", eps=1e-3, momentum=bn_momentum)),
    backbone=dict(norm_cfg=dict(type="BN", eps=1e-3, momentum=bn_momentum)),
    neck=dict(norm_cfg=dict(type="BN", eps=1e-3, momentum=bn_momentum)),
)

db_sampler = dict(
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
    dataset=dict(_delete_=True, ann_file="lidar_infos_train.pkl", pipeline=train_pipeline, **dataset_common),
)
val_dataloader = dict(
    batch_size=1,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        _delete_=True, ann_file="lidar_infos_val.pkl", pipeline=test_pipeline, test_mode=True, **dataset_common
    ),
)
test_dataloader = val_dataloader
val_evaluator = dict(_delete_=True, type="LidarMetric")
test_evaluator = val_evaluator

# a checkpoint every epoch (upstream keeps only the last), so that a killed run resumes
default_hooks = dict(checkpoint=dict(interval=1, max_keep_ckpts=3))
