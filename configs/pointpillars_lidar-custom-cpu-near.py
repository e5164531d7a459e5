# The demo's detector: the CPU-sized PointPillars on a 46 x 46 m field in front of the sensor (144 x 144
# pillars, 2.6 times fewer than the 69 x 79 m range), so that 2 cores train 1,200 iterations (12 epochs of
# 200 frames) in the demo's budget. Its scenes must place their objects inside that field:
# `scripts/loop/demo/command.py` generates them with `field=NEAR`. A learning curve on the full range (400 generated
# frames, batch 2, Car BEV AP40 on 20 validation frames): 2.8 after 200 iterations, 14.5 after 400, 54 after
# 1,000; a detector needs about a thousand iterations here, whatever the field, and this one is what fits.
_base_ = ["./pointpillars_lidar-custom-cpu.py"]

point_cloud_range = [0, -23.04, -3, 46.08, 23.04, 1]
grid = [144, 144]  # (y, x) cells of 0.32 m
ground = -1.73
anchor_range = [0, -23.04, ground, 46.08, 23.04, ground]

model = dict(
    # 16 points per pillar instead of 32: the pillar encoder's batch norm over (pillars x points) was a third of
    # each iteration (forward + backward of its layer: 64 ms at 32 points, 24 ms at 16, 3,000 pillars)
    data_preprocessor=dict(voxel_layer=dict(point_cloud_range=point_cloud_range, max_num_points=16)),
    voxel_encoder=dict(point_cloud_range=point_cloud_range),
    middle_encoder=dict(output_shape=grid),
    bbox_head=dict(anchor_generator=dict(ranges=[anchor_range] * 3)),
)

# a higher learning rate than the CPU config's 0.003 (Car BEV AP40 on the demo's validation frames after 1,000
# iterations: 64.2 at 0.003, 68.8 at 0.005, 70.1 at 0.008), the warm-up, then a cosine decay over the last
# 40 % (the demo sets begin/end for its number of epochs). 12 epochs rather than 10: over three training seeds
# Car BEV AP40 72.2-74.5 instead of 68.9-75.6 (docs/benchmarks.md, "The demo")
optim_wrapper = dict(optimizer=dict(lr=0.008))  # bfloat16 autocast, as in the CPU config
param_scheduler = [
    dict(type="LinearLR", start_factor=0.1, by_epoch=False, begin=0, end=30),
    dict(type="CosineAnnealingLR", by_epoch=True, begin=7, end=12, eta_min=3e-5, convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=12)

train_pipeline = [
    {{_base_.points_loader}},
    dict(type="LoadAnnotations3D", with_bbox_3d=True, with_label_3d=True),
    # pasting objects from the GT database: more cars per iteration (without it, 55.2 at 0.003)
    dict(type="ObjectSample", db_sampler={{_base_.db_sampler}}, use_ground_plane=False),
    dict(type="RandomFlip3D", flip_ratio_bev_horizontal=0.5),
    dict(type="PointsRangeFilter", point_cloud_range=point_cloud_range),
    dict(type="ObjectRangeFilter", point_cloud_range=point_cloud_range),
    dict(type="PointShuffle"),
    dict(type="Pack3DDetInputs", keys=["points", "gt_labels_3d", "gt_bboxes_3d"]),
]
test_pipeline = [
    {{_base_.points_loader}},
    dict(type="PointsRangeFilter", point_cloud_range=point_cloud_range),
    dict(type="Pack3DDetInputs", keys=["points"]),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
