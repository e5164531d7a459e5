# MonoFlex (Zhang et al., "Objects are Different: Flexible Monocular 3D Object Detection", CVPR 2021) on KITTI
# mono-3D. mmdet3d 1.4.0 keeps MonoFlexHead and MonoFlexCoder but ships no config (configs/monoflex holds only a
# metafile), so this one is written from their arguments. Its neighbour is upstream's SMOKE: the same DLA-34
# backbone and neck, KITTI mono-3D data, pipelines and schedule, all inherited; only the detector and head differ.
_base_ = ["mmdet3d::smoke/smoke_dla34_dlaneck_gn-all_4xb8-6x_kitti-mono3d.py"]

import math  # noqa: E402

model = dict(
    type="SingleStageMono3DDetector",  # 1.x has no MonoFlex detector class: its one-stage detector is this
    bbox_head=dict(
        _delete_=True,
        type="MonoFlexHead",
        num_classes=3,  # Pedestrian, Cyclist, Car, in KITTI mono-3D's order
        in_channels=64,  # DLANeck's output
        feat_channels=64,
        stacked_convs=0,
        strides=None,
        cls_branch=(256,),
        # the regression outputs, in the order MonoFlexCoder.decode slices them: 2D box (4), 2D centre offset (2),
        # 10 keypoints (20), keypoint-depth uncertainty (3), dimension offsets (3), orientation: bin scores and
        # bin offsets (8, 8), direct depth (1), its uncertainty (1)
        group_reg_dims=((4,), (2,), (20,), (3,), (3,), (8, 8), (1,), (1,)),
        reg_branch=((256,),) * 8,
        use_edge_fusion=True,
        edge_fusion_inds=[(1, 0)],  # the 2D centre offsets (and the class heatmap) take the image-edge features
        edge_heatmap_ratio=1 / 8,
        filter_outside_objs=True,
        use_direction_classifier=False,
        diff_rad_by_sin=False,
        pred_attrs=False,
        pred_velo=False,
        num_attrs=0,
        dir_offset=0,
        dir_branch=(),
        attr_branch=(),
        bbox_code_size=7,
        conv_bias=True,
        dcn_on_last_conv=False,
        norm_cfg=dict(type="GN", num_groups=32, requires_grad=True),
        bbox_coder=dict(
            type="MonoFlexCoder",
            depth_mode="exp",  # direct depth = exp(offset), clamped to depth_range
            base_depth=(28.01, 16.32),  # SMOKE's depth prior (used by depth_mode="linear" only)
            depth_range=[0.1, 100],
            combine_depth=True,  # weigh the direct depth with the three keypoint depths by their uncertainties
            uncertainty_range=[-10, 10],
            # per class: mean l, h, w (SMOKE's priors) and their spread (assumed 15 % of the mean); measure both on
            # the KITTI training split before training for real
            base_dims=(
                (0.88, 1.73, 0.67, 0.13, 0.26, 0.10),
                (1.78, 1.70, 0.58, 0.27, 0.26, 0.09),
                (3.88, 1.63, 1.53, 0.58, 0.24, 0.23),
            ),
            dims_mode="linear",
            multibin=True,
            num_dir_bins=4,
            bin_centers=[0, math.pi / 2, math.pi, -math.pi / 2],
            bin_margin=math.pi / 6,
            code_size=7,
        ),
        loss_cls=dict(type="mmdet.GaussianFocalLoss", loss_weight=1.0),
        loss_bbox=dict(type="mmdet.IoULoss", loss_weight=0.1),
        loss_dir=dict(type="MultiBinLoss", loss_weight=0.1),
        loss_keypoints=dict(type="mmdet.L1Loss", loss_weight=0.1),
        loss_dims=dict(type="mmdet.L1Loss", loss_weight=0.1),
        loss_offsets_2d=dict(type="mmdet.L1Loss", loss_weight=0.1),
        loss_direct_depth=dict(type="mmdet.L1Loss", loss_weight=0.1),
        loss_keypoints_depth=dict(type="mmdet.L1Loss", loss_weight=0.1),
        loss_combined_depth=dict(type="mmdet.L1Loss", loss_weight=0.1),
        loss_attr=None,
    ),
)
