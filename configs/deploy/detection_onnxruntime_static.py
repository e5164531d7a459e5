# mmdeploy: 2D detectors (RetinaNet, YOLOX, Faster R-CNN) -> ONNX -> ONNX Runtime,
# with NMS inside the graph (ONNX NonMaxSuppression).
_base_ = ["./_base_onnxruntime.py"]
onnx_config = dict(input_names=["input"], output_names=["dets", "labels"])
codebase_config = dict(
    type="mmdet",
    task="ObjectDetection",
    model_type="end2end",
    post_processing=dict(
        score_threshold=0.05,
        confidence_threshold=0.005,
        iou_threshold=0.5,
        max_output_boxes_per_class=200,
        pre_top_k=5000,
        keep_top_k=100,
        background_label_id=-1,
    ),
)
