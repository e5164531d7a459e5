# mmdeploy: monocular 3D detectors (SMOKE) -> ONNX -> ONNX Runtime.
# The graph takes the preprocessed camera image and returns the head's raw
# class heatmap and box regression; mmdeploy decodes the boxes in Python with
# the camera intrinsics of each sample.
_base_ = ["./_base_onnxruntime.py"]
onnx_config = dict(
    input_names=["input"],
    # the names mmdeploy's mono-detection backend model reads
    output_names=["cls_score", "bbox_pred"],
    dynamic_axes={
        "input": {0: "batch", 2: "height", 3: "width"},
        "cls_score": {0: "batch", 2: "height", 3: "width"},
        "bbox_pred": {0: "batch", 2: "height", 3: "width"},
    },
)
codebase_config = dict(type="mmdet3d", task="MonoDetection", model_type="end2end")
