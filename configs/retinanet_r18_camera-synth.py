# A small 2D detector (RetinaNet, ResNet-18) on the generated camera images.
# Data: `python -m scripts.data.synth_scenes data/synthetic --camera`.
_base_ = ["mmdet::retinanet/retinanet_r18_fpn_1x_coco.py"]

data_root = "{{$MMLAB_DATASET_PATH:data}}/synthetic/camera/"
classes = ("Car", "Pedestrian", "Cyclist")
metainfo = dict(classes=classes, palette=[(220, 60, 40), (60, 180, 60), (30, 120, 200)])
image_size = (512, 256)

# no download: train from scratch
model = dict(backbone=dict(init_cfg=None), bbox_head=dict(num_classes=len(classes)))

train_pipeline = [
    dict(type="LoadImageFromFile"),
    dict(type="LoadAnnotations", with_bbox=True),
    dict(type="Resize", scale=image_size, keep_ratio=True),
    dict(type="RandomFlip", prob=0.5),
    dict(type="PackDetInputs"),
]
test_pipeline = [
    dict(type="LoadImageFromFile"),
    dict(type="Resize", scale=image_size, keep_ratio=True),
    dict(type="LoadAnnotations", with_bbox=True),
    dict(type="PackDetInputs", meta_keys=("img_id", "img_path", "ori_shape", "img_shape", "scale_factor")),
]
train_dataloader = dict(
    batch_size=4,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        data_root=data_root,
        metainfo=metainfo,
        ann_file="train.json",
        data_prefix=dict(img="images/"),
        filter_cfg=dict(filter_empty_gt=True, min_size=2),
        pipeline=train_pipeline,
    ),
)
val_dataloader = dict(
    batch_size=1,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        data_root=data_root,
        metainfo=metainfo,
        ann_file="val.json",
        data_prefix=dict(img="images/"),
        pipeline=test_pipeline,
    ),
)
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + "val.json")
test_evaluator = val_evaluator
