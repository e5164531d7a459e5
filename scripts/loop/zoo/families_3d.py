"""mmdet3d's families: LiDAR, indoor, segmentation, camera and multi-modal detectors, with the inputs each
training step gets (keyword arguments of ``mmdet3d.testing.create_detector_inputs``)."""

from __future__ import annotations

from scripts.loop.zoo.deploy_3d import VOXEL_DEPLOY
from scripts.loop.zoo.family import Family

KITTI = dict(points_feat_dim=4, num_points=2000, num_gt_instance=4)
NUS = dict(points_feat_dim=5, num_points=2000, num_gt_instance=4)
NUS_CENTER = dict(NUS, gt_bboxes_dim=9)
MONO = dict(with_points=False, with_img=True, img_size=(128, 256), bboxes_3d_type="cam", num_gt_instance=3)
MM = dict(with_img=True, img_size=(128, 256), num_points=2000, num_gt_instance=4)
# indoor depth clouds: SUN RGB-D and ScanNet detectors read x, y, z and the height above the floor (4 values)
DEPTH = dict(bboxes_3d_type="depth", points_feat_dim=4, num_points=4096, num_gt_instance=4)
SCANNET = dict(DEPTH, with_pts_semantic_mask=True, with_pts_instance_mask=True)  # votes are cut by instance
SEG = dict(num_points=2048, num_gt_instance=1, with_pts_semantic_mask=True)  # points_feat_dim: the backbone's
SEMANTICKITTI = dict(SEG, points_feat_dim=4)  # x, y, z, intensity (probe.py spreads them over 40 m)
# what stops the families built on sparse backends this stack cannot install (tried 2026-12-02)
TORCHSPARSE_MISSING = (
    "needs torchsparse (SPVCNN's point-voxel ops: sphash, spdevoxelize; its backbone accepts no other backend), "
    "and torchsparse is not on the package index"
)
MINKOWSKI_MISSING = (
    "needs MinkowskiEngine (generative transposed convolution and pruning, which spconv lacks). The index has only "
    "the 0.5.4 sdist (2021): its setup.py fails before building, in numpy.distutils' BLAS search "
    "(TypeError in Compiler.__init__ under current setuptools), and wants a system BLAS (libopenblas-dev, not "
    "installed) and a long C++ compile against torch 2.13; no fork of it yet"
)


def _lidar(name, config, frame, group, inputs, deploy=None) -> Family:
    return Family(name, "mmdet3d", config, "lidar", frame, group, inputs, deploy)


def _indoor(name, config, kind, group, inputs, frame="kitti-depth") -> Family:
    return Family(name, "mmdet3d", config, kind, frame, group, inputs)


FAMILIES_3D = (
    _lidar(
        "PointPillars",
        "pointpillars/pointpillars_hv_secfpn_8xb6-160e_kitti-3d-car.py",
        "kitti",
        "pillar",
        KITTI,
        VOXEL_DEPLOY,
    ),
    _lidar("SECOND", "second/second_hv_secfpn_8xb6-80e_kitti-3d-car.py", "kitti", "spconv", KITTI),
    _lidar("PartA2", "parta2/parta2_hv_secfpn_8xb2-cyclic-80e_kitti-3d-car.py", "kitti", "roiaware", KITTI),
    _lidar("PV-RCNN", "pv_rcnn/pv_rcnn_8xb2-80e_kitti-3d-3class.py", "kitti", "point", KITTI),
    _lidar(
        "CenterPoint-pillar",
        "centerpoint/centerpoint_pillar02_second_secfpn_8xb4-cyclic-20e_nus-3d.py",
        "nuscenes",
        "pillar",
        NUS_CENTER,
    ),
    _lidar(
        "CenterPoint-voxel",
        "centerpoint/centerpoint_voxel0075_second_secfpn_8xb4-cyclic-20e_nus-3d.py",
        "nuscenes",
        "spconv",
        NUS_CENTER,
    ),
    _lidar("SSN", "ssn/ssn_hv_secfpn_sbn-all_16xb2-2x_nus-3d.py", "nuscenes", "pillar", NUS),
    _lidar(
        "RegNet-PointPillars",
        "regnet/pointpillars_hv_regnet-400mf_secfpn_sbn-all_8xb4-2x_nus-3d.py",
        "nuscenes",
        "pillar",
        NUS,
    ),
    _lidar(
        "FreeAnchor",
        "free_anchor/pointpillars_hv_fpn_head-free-anchor_sbn-all_8xb4-2x_nus-3d.py",
        "nuscenes",
        "pillar",
        NUS,
    ),
    _lidar("3DSSD", "3dssd/3dssd_4xb4_kitti-3d-car.py", "kitti", "point", KITTI),
    _lidar("PointRCNN", "point_rcnn/point-rcnn_8xb2_kitti-3d-3class.py", "kitti", "point", KITTI),
    _lidar("SA-SSD", "sassd/sassd_8xb6-80e_kitti-3d-3class.py", "kitti", "spconv", KITTI),
    _lidar("DV-SECOND", "dynamic_voxelization/second_dv_secfpn_8xb6-80e_kitti-3d-car.py", "kitti", "dynamic", KITTI),
    _lidar(
        "DV-PointPillars",
        "dynamic_voxelization/pointpillars_dv_secfpn_8xb6-160e_kitti-3d-car.py",
        "kitti",
        "dynamic",
        KITTI,
    ),
    Family(
        "MVX-Net",
        "mmdet3d",
        "mvxnet/mvxnet_fpn_dv_second_secfpn_8xb2-80e_kitti-3d-3class.py",
        "multimodal",
        "kitti-both",
        "dynamic",
        MM,
    ),
    Family(
        "SMOKE",
        "mmdet3d",
        "smoke/smoke_dla34_dlaneck_gn-all_4xb8-6x_kitti-mono3d.py",
        "mono3d",
        "kitti-image",
        "camera-3d",
        MONO,
    ),
    Family(
        "FCOS3D",
        "mmdet3d",
        "fcos3d/fcos3d_r101-caffe-dcn_fpn_head-gn_8xb2-1x_nus-mono3d.py",
        "mono3d",
        "kitti-image",
        "camera-3d",
        MONO,
    ),
    Family(
        "PGD",
        "mmdet3d",
        "pgd/pgd_r101-caffe_fpn_head-gn_4xb3-4x_kitti-mono3d.py",
        "mono3d",
        "kitti-image",
        "camera-3d",
        MONO,
    ),
    _lidar(
        "PointPillars det3d benchmark",
        "benchmark/hv_pointpillars_secfpn_3x8_100e_det3d_kitti-3d-car.py",
        "kitti",
        "pillar",
        KITTI,
    ),
    _indoor("VoteNet", "votenet/votenet_8xb16_sunrgbd-3d.py", "indoor", "point-indoor", DEPTH),
    _indoor("H3DNet", "h3dnet/h3dnet_8xb3_scannet-seg.py", "indoor", "point-indoor", dict(SCANNET, num_classes=18)),
    _indoor(
        "GroupFree3D",
        "groupfree3d/groupfree3d_head-L6-O256_4xb8_scannet-seg.py",
        "indoor",
        "point-indoor",
        dict(SCANNET, points_feat_dim=3),
    ),
    _indoor(
        "ImVoteNet",
        "imvotenet/imvotenet_stage2_8xb16_sunrgbd-3d.py",
        "multimodal",
        "point-indoor",
        dict(DEPTH, num_classes=10, with_img=True, img_size=(128, 256)),
        frame="kitti-depth-image",
    ),
    _indoor("PointNet++", "pointnet2/pointnet2_ssg_2xb16-cosine-200e_scannet-seg.py", "seg", "point-seg", SEG),
    _indoor("PAConv", "paconv/paconv_ssg_8xb8-cosine-150e_s3dis-seg.py", "seg", "point-seg", SEG),
    _indoor("DGCNN", "dgcnn/dgcnn_4xb32-cosine-100e_s3dis-seg_test-area5.py", "seg", "point-seg", SEG),
    Family(
        "Cylinder3D",
        "mmdet3d",
        "cylinder3d/cylinder3d_4xb4-3x_semantickitti.py",
        "seg",
        "kitti",
        "spconv-seg",
        SEMANTICKITTI,
    ),
    Family(
        "MinkUNet",
        "mmdet3d",
        "minkunet/minkunet34_w32_spconv_8xb2-laser-polar-mix-3x_semantickitti.py",
        "seg",
        "kitti",
        "spconv-seg",
        SEMANTICKITTI,
    ),
    Family(
        "SPVCNN",
        "mmdet3d",
        "spvcnn/spvcnn_w16_8xb2-amp-15e_semantickitti.py",
        "seg",
        "kitti",
        "torchsparse",
        SEMANTICKITTI,
        missing=TORCHSPARSE_MISSING,
    ),
    Family(
        "FCAF3D",
        "mmdet3d",
        "fcaf3d/fcaf3d_2xb8_scannet-3d-18class.py",
        "indoor",
        "kitti-depth",
        "minkowski",
        dict(DEPTH, points_feat_dim=3, num_classes=18),
        missing=MINKOWSKI_MISSING,
    ),
    Family(
        "TR3D",
        "mmdet3d",
        None,
        "indoor",
        "kitti-depth",
        "minkowski",
        dict(DEPTH, points_feat_dim=3, num_classes=18),
        missing="TR3D lives in mmdet3d's projects/TR3D, which the 1.4.0 release artifact does not ship (only the "
        "git tag has it); it is also built on MinkowskiEngine: " + MINKOWSKI_MISSING,
    ),
    Family(
        "MV-FCOS3D",
        "mmdet3d",
        "mvfcos3d/multiview-fcos3d_r101-dcn_8xb2_waymoD5-3d-3class.py",
        "multiview",
        "kitti-views",
        "camera-3d",
        dict(num_gt_instance=3),
    ),
    # mmdet3d's nuImages configs: Mask R-CNN on the nuScenes camera images (2D instance segmentation). Upstream's
    # are still in mmdet 2.x form (probe.build_config says so for nuimages/mask-rcnn_r50_fpn_1x_nuim.py): ours ports it
    Family(
        "nuImages Mask R-CNN",
        "mmdet3d",
        "configs/mask-rcnn_r50_fpn_1x_nuim.py",
        "2d",
        "kitti-image",
        "2d-roi",
        dict(with_mask=True, num_classes=10),
    ),
    # mmdet3d 1.4.0 ships no MonoFlex config (configs/monoflex holds only a metafile): ours, from its head's arguments
    Family("MonoFlex", "mmdet3d", "configs/monoflex_dla34_kitti-mono3d.py", "mono3d", "kitti-image", "camera-3d", MONO),
    Family(
        "ImVoxelNet",
        "mmdet3d",
        "imvoxelnet/imvoxelnet_8xb4_kitti-3d-car.py",
        "multiview",
        "kitti-image",
        "camera-3d",
        MONO,
    ),
)
