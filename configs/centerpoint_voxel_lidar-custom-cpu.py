# A CPU-sized CenterPoint-voxel for tests and laptops: 0.32 x 0.32 x 0.1 m voxels, thinner sparse and dense
# layers, and a constant learning rate after a warm-up (any --cfg-options train_cfg.max_epochs=N is a whole
# schedule). The full config stays the one for real training.
_base_ = ["./centerpoint_voxel_lidar-custom-3class.py"]

voxel_size = [0.32, 0.32, 0.1]
grid = [216, 248, 40]

model = dict(
    data_preprocessor=dict(voxel_layer=dict(max_num_points=10, voxel_size=voxel_size, max_voxels=(12000, 12000))),
    pts_middle_encoder=dict(
        sparse_shape=[grid[2] + 1, grid[1], grid[0]],
        output_channels=64,
        # one residual block and one strided conv a stage (upstream: two blocks and wider channels)
        encoder_channels=((16, 32), (32, 64), (64, 64), (64,)),
        encoder_paddings=((0, 1), (0, 1), (0, [0, 1, 1]), (0,)),
    ),
    # stride 1 in both stages: the 27 x 31 map of 0.32 m voxels / 8 does not halve evenly
    pts_backbone=dict(in_channels=128, out_channels=[64, 128], layer_nums=[2, 2], layer_strides=[1, 1]),
    pts_neck=dict(in_channels=[64, 128], out_channels=[64, 64], upsample_strides=[1, 1]),
    pts_bbox_head=dict(in_channels=128, share_conv_channel=32, bbox_coder=dict(voxel_size=voxel_size[:2])),
    train_cfg=dict(pts=dict(grid_size=grid, voxel_size=voxel_size)),
    test_cfg=dict(pts=dict(voxel_size=voxel_size[:2])),
)

lr = 0.001
optim_wrapper = dict(optimizer=dict(lr=lr))
param_scheduler = [dict(type="LinearLR", start_factor=0.1, by_epoch=False, begin=0, end=30)]
train_cfg = dict(by_epoch=True, max_epochs=40, val_interval=41)
