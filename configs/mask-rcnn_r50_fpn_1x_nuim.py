# Mask R-CNN (R-50 FPN, 1x) on nuImages, the nuScenes camera images with 2D boxes and instance masks: the model
# of mmdet3d 1.4.0's nuimages/mask-rcnn_r50_fpn_1x_nuim.py in mmdet 3.x form. Upstream's nuimages configs were never
# ported from mmdet 2.x (data=dict(...), img_scale pipelines, `pretrained` on the detector, no data_preprocessor or
# test_dataloader), so no mmdet 3.x runner or inference API can use them. This one keeps their model, classes,
# image scales and annotation files, on mmdet's own 3.x Mask R-CNN config.
_base_ = ["mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py"]

classes = (
    "car",
    "truck",
    "trailer",
    "bus",
    "construction_vehicle",
    "bicycle",
    "motorcycle",
    "pedestrian",
    "traffic_cone",
    "barrier",
)
data_root = "data/nuimages/"
metainfo = dict(classes=classes)

model = dict(
    roi_head=dict(bbox_head=dict(num_classes=len(classes)), mask_head=dict(num_classes=len(classes))),
)

train_pipeline = [
    dict(type="LoadImageFromFile"),
    dict(type="LoadAnnotations", with_bbox=True, with_mask=True),
    dict(type="RandomResize", scale=[(1280, 720), (1920, 1080)], keep_ratio=True),  # nuImages' multiscale range
    dict(type="RandomFlip", prob=0.5),
    dict(type="PackDetInputs"),
]
test_pipeline = [
    dict(type="LoadImageFromFile"),
    dict(type="Resize", scale=(1600, 900), keep_ratio=True),
    dict(type="LoadAnnotations", with_bbox=True, with_mask=True),
    dict(type="PackDetInputs", meta_keys=("img_id", "img_path", "ori_shape", "img_shape", "scale_factor")),
]
train_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        metainfo=metainfo,
        ann_file="annotations/nuimages_v1.0-train.json",
        data_prefix=dict(img=""),
        pipeline=train_pipeline,
    )
)
val_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        metainfo=metainfo,
        ann_file="annotations/nuimages_v1.0-val.json",
        data_prefix=dict(img=""),
        pipeline=test_pipeline,
    )
)
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + "annotations/nuimages_v1.0-val.json", metric=["bbox", "segm"])
test_evaluator = val_evaluator
