"""mmdet's 2D families, with the inputs each training step gets (keyword arguments of
``mmdet.testing.demo_mm_inputs``)."""

from __future__ import annotations

from scripts.loop.zoo.family import Family

DET_DEPLOY = "configs/deploy/detection_onnxruntime_static.py"


def _det(name, config, group="2d-conv", deploy=None, **inputs) -> Family:
    return Family(name, "mmdet", config, "2d", "kitti-image", group, inputs, deploy)


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
