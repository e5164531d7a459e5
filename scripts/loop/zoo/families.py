"""The zoo's families: one upstream config each, as data (``probe`` runs them, ``matrix`` runs them all).

``config`` is relative to the package's ``.mim/configs`` (``scope`` says which package), or to this repository
when it starts with ``configs/``; ``frame`` is the real input predicted on (``kitti`` LiDAR, ``nuscenes`` LiDAR,
``kitti-image`` camera, ``kitti-both``, ``kitti-depth``: the KITTI scan as an indoor depth cloud, see frames.py);
``inputs`` are keyword arguments for upstream's own test helper (``mmdet3d.testing.create_detector_inputs``
or ``mmdet.testing.demo_mm_inputs``); ``deploy`` a deploy config of ours under configs/deploy/ where
mmdeploy supports the model; ``group`` the ops the family leans on (the CI subset takes one per group).
A family whose ``config`` is None has no upstream config, and ``missing`` says why; a family with a config
and ``missing`` needs a package this stack lacks: the probe still builds it, and reports ``missing`` if that fails.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Family:
    name: str
    scope: str  # "mmdet3d" | "mmdet"
    config: str | None
    kind: str  # "lidar" | "indoor" | "seg" | "mono3d" | "multiview" | "multimodal" | "2d"
    frame: str  # "kitti" | "nuscenes" | "kitti-image" | "kitti-both" | "kitti-depth" | "kitti-depth-image"
    group: str
    inputs: dict = field(default_factory=dict)
    deploy: str | None = None
    missing: str = ""


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
VOXEL_DEPLOY = "configs/deploy/voxel-detection_onnxruntime_dynamic.py"
DET_DEPLOY = "configs/deploy/detection_onnxruntime_static.py"


def _lidar(name, config, frame, group, inputs, deploy=None) -> Family:
    return Family(name, "mmdet3d", config, "lidar", frame, group, inputs, deploy)


def _indoor(name, config, kind, group, inputs, frame="kitti-depth") -> Family:
    return Family(name, "mmdet3d", config, kind, frame, group, inputs)


def _det(name, config, group="2d-conv", deploy=None, **inputs) -> Family:
    return Family(name, "mmdet", config, "2d", "kitti-image", group, inputs, deploy)


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

FAMILIES_2D = (
    _det("RetinaNet", "retinanet/retinanet_r50_fpn_1x_coco.py", "2d-conv", DET_DEPLOY),
    _det("Faster R-CNN", "faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py", "2d-roi", DET_DEPLOY),
    _det("Mask R-CNN", "mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py", "2d-roi", with_mask=True),
    _det("Cascade R-CNN", "cascade_rcnn/cascade-rcnn_r50_fpn_1x_coco.py", "2d-roi"),
    _det("FCOS", "fcos/fcos_r50-caffe_fpn_gn-head_1x_coco.py", "2d-conv", DET_DEPLOY),
    _det("ATSS", "atss/atss_r50_fpn_1x_coco.py"),
    _det("YOLOX", "yolox/yolox_tiny_8xb8-300e_coco.py", "2d-conv", DET_DEPLOY),
    _det("YOLOv3", "yolo/yolov3_mobilenetv2_8xb24-320-300e_coco.py"),
    _det("SSD", "ssd/ssd300_coco.py", image_shapes=(3, 300, 300)),  # its extra layers shrink 300 px to 1 px
    _det("DETR", "detr/detr_r50_8xb2-150e_coco.py", "2d-transformer"),
    _det("Deformable DETR", "deformable_detr/deformable-detr_r50_16xb2-50e_coco.py", "2d-transformer"),
    # two-stage DINO keeps its 900 best encoder tokens: a 128 x 128 image has only 340
    _det("DINO", "dino/dino-4scale_r50_8xb2-12e_coco.py", "2d-transformer", image_shapes=(3, 256, 256)),
    _det("Conditional DETR", "conditional_detr/conditional-detr_r50_8xb2-50e_coco.py", "2d-transformer"),
    _det("DAB-DETR", "dab_detr/dab-detr_r50_8xb2-50e_coco.py", "2d-transformer"),
    _det("Sparse R-CNN", "sparse_rcnn/sparse-rcnn_r50_fpn_1x_coco.py", "2d-roi"),
    _det("QueryInst", "queryinst/queryinst_r50_fpn_1x_coco.py", "2d-roi", with_mask=True),
    _det("GFL", "gfl/gfl_r50_fpn_1x_coco.py"),
    _det("PAA", "paa/paa_r50_fpn_1x_coco.py"),
    _det("TOOD", "tood/tood_r50_fpn_1x_coco.py"),
    _det("CenterNet", "centernet/centernet-update_r50-caffe_fpn_ms-1x_coco.py"),
    # the hourglass halves a 128 px image down to 1 x 1 maps, where batch norm over 2 values explodes the gradient
    _det(
        "CornerNet", "cornernet/cornernet_hourglass104_8xb6-210e-mstest_coco.py", "2d-conv", image_shapes=(3, 512, 512)
    ),
    _det("DCN", "dcn/faster-rcnn_r50-dconv-c3-c5_fpn_1x_coco.py", "2d-deform"),
    _det("DCNv2", "dcnv2/faster-rcnn_r50-mdconv-c3-c5_fpn_1x_coco.py", "2d-deform"),
    _det("DCN dpool", "dcn/faster-rcnn_r50_fpn_dpool_1x_coco.py", "2d-deform"),
    _det("DCNv2 mdpool", "dcnv2/faster-rcnn_r50_fpn_mdpool_1x_coco.py", "2d-deform"),
    _det("VFNet", "vfnet/vfnet_r50_fpn_1x_coco.py"),
    _det("RepPoints", "reppoints/reppoints-moment_r50_fpn-gn_head-gn_1x_coco.py", "2d-deform"),
    _det("FSAF", "fsaf/fsaf_r50_fpn_1x_coco.py"),
    _det("FoveaBox", "foveabox/fovea_r50_fpn_4xb4-1x_coco.py"),
    _det("AutoAssign", "autoassign/autoassign_r50-caffe_fpn_1x_coco.py"),
    # mmcv's deform_conv wants each map at least kernel-sized before padding: P7 of 384 px is 3 x 3
    _det("DDOD", "ddod/ddod_r50_fpn_1x_coco.py", image_shapes=(3, 384, 384)),
    _det("YOLOF", "yolof/yolof_r50-c5_8xb8-1x_coco.py"),
    _det("FreeAnchor 2D", "free_anchor/freeanchor_r50_fpn_1x_coco.py"),
    _det("RTMDet", "rtmdet/rtmdet_tiny_8xb32-300e_coco.py"),
    _det("Cascade RPN", "cascade_rpn/cascade-rpn_faster-rcnn_r50-caffe_fpn_1x_coco.py", "2d-deform"),
    _det("Grid R-CNN", "grid_rcnn/grid-rcnn_r50_fpn_gn-head_1x_coco.py", "2d-roi"),
    _det("Libra R-CNN", "libra_rcnn/libra-faster-rcnn_r50_fpn_1x_coco.py", "2d-roi"),
    _det("HTC", "htc/htc-without-semantic_r50_fpn_1x_coco.py", "2d-roi", with_mask=True),
    _det("PointRend", "point_rend/point-rend_r50-caffe_fpn_ms-1x_coco.py", "2d-roi", with_mask=True),
    _det("SABL", "sabl/sabl-retinanet_r50_fpn_1x_coco.py"),
    _det("SOLOv2", "solov2/solov2-light_r18_fpn_ms-3x_coco.py", "2d-conv", with_mask=True),
    _det("GLIP", "glip/glip_atss_swin-t_a_fpn_dyhead_pretrain_obj365.py", "2d-grounding"),
    _det("Grounding DINO", "grounding_dino/grounding_dino_r50_scratch_8xb2_1x_coco.py", "2d-grounding"),
)

FAMILIES = FAMILIES_3D + FAMILIES_2D


def by_name(name: str) -> Family:
    """The family called ``name`` (case-insensitive); KeyError lists the names."""
    for family in FAMILIES:
        if family.name.lower() == name.lower():
            return family
    raise KeyError(f"no zoo family {name!r}; the families are: {', '.join(f.name for f in FAMILIES)}")
