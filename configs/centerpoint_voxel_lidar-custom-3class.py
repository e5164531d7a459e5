# CenterPoint-voxel (upstream's nuScenes model, sparse 3D convolutions: spconv 2 on CPU) on the custom
# LiDAR format: one centre-heatmap task for the three classes, 0.05 x 0.05 x 0.1 m voxels over the
# KITTI-like range (SECOND's KITTI grid). mmdeploy has no export for it: spconv does not export to ONNX.
_base_ = [
    "mmdet3d::_base_/models/centerpoint_voxel01_second_secfpn_nus.py",
    "mmdet3d::_base_/schedules/cyclic-20e.py",
    "mmdet3d::_base_/default_runtime.py",
    "./_base_/centerpoint_lidar-custom-data.py",
]
class_names = ["Pedestrian", "Cyclist", "Car"]  # as in the data base
point_cloud_range = [0, -39.68, -3, 69.12, 39.68, 1]

voxel_size = [0.05, 0.05, 0.1]
grid = [1408, 1600, 40]  # (x, y, z) cells: 69.12 / 0.05, 79.36 / 0.05, 4 / 0.1 (z + 1 for SparseEncoder)
out_size_factor = 8  # SparseEncoder's stride
bn_momentum = 0.1  # as in the PointPillars config: statistics that settle in a short run

model = dict(
    data_preprocessor=dict(
        voxel_layer=dict(point_cloud_range=point_cloud_range, voxel_size=voxel_size, max_voxels=(16000, 40000))
    ),
    pts_voxel_encoder=dict(num_features=4),
    pts_middle_encoder=dict(in_channels=4, sparse_shape=[grid[2] + 1, grid[1], grid[0]]),
    pts_backbone=dict(norm_cfg=dict(type="BN", eps=1e-3, momentum=bn_momentum)),
    pts_neck=dict(norm_cfg=dict(type="BN", eps=1e-3, momentum=bn_momentum)),
    pts_bbox_head=dict(
        tasks=[dict(num_class=len(class_names), class_names=class_names)],
        bbox_coder=dict(
            pc_range=point_cloud_range[:2],
            post_center_range=[-10, -50, -10, 80, 50, 10],
            voxel_size=voxel_size[:2],
            out_size_factor=out_size_factor,
        ),
    ),
    train_cfg=dict(
        pts=dict(
            grid_size=grid,
            voxel_size=voxel_size,
            point_cloud_range=point_cloud_range,
            out_size_factor=out_size_factor,
            # the last two weigh the (zero) velocity: nothing to learn there
            code_weights=[1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0],
        )
    ),
    test_cfg=dict(
        pts=dict(
            pc_range=point_cloud_range[:2],
            post_center_limit_range=[-10, -50, -10, 80, 50, 10],
            voxel_size=voxel_size[:2],
            out_size_factor=out_size_factor,
            min_radius=[4],
        )
    ),
)

# a checkpoint every epoch, so that a killed run resumes; evaluation at the end of the schedule
default_hooks = dict(checkpoint=dict(interval=1, max_keep_ckpts=3))
