# A CPU-sized CenterPoint-pillar for tests and laptops: 0.32 m pillars (a quarter of the cells), a thinner
# and shallower backbone, and a constant learning rate after a warm-up, so that any
# --cfg-options train_cfg.max_epochs=N is a whole schedule. The full config stays the one for real training.
_base_ = ["./centerpoint_pillar_lidar-custom-3class.py"]

voxel_size = [0.32, 0.32, 4]
grid = [216, 248]  # (x, y) cells

model = dict(
    data_preprocessor=dict(voxel_layer=dict(max_num_points=32, voxel_size=voxel_size, max_voxels=(12000, 12000))),
    pts_voxel_encoder=dict(feat_channels=[32], voxel_size=voxel_size),
    pts_middle_encoder=dict(in_channels=32, output_shape=grid[::-1]),
    pts_backbone=dict(in_channels=32, layer_nums=[1, 2, 2], out_channels=[32, 64, 128]),
    pts_neck=dict(in_channels=[32, 64, 128], out_channels=[64, 64, 64]),
    pts_bbox_head=dict(in_channels=192, share_conv_channel=32, bbox_coder=dict(voxel_size=voxel_size[:2])),
    train_cfg=dict(pts=dict(grid_size=[*grid, 1], voxel_size=voxel_size)),
    test_cfg=dict(pts=dict(voxel_size=voxel_size[:2])),
)

lr = 0.001
optim_wrapper = dict(optimizer=dict(lr=lr))
param_scheduler = [dict(type="LinearLR", start_factor=0.1, by_epoch=False, begin=0, end=30)]
train_cfg = dict(by_epoch=True, max_epochs=40, val_interval=41)
