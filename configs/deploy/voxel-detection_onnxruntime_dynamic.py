# mmdeploy: 3D voxel detectors (PointPillars, SECOND, CenterPoint) -> ONNX -> ONNX Runtime.
# Voxelization runs outside the graph; the graph takes voxels and returns the
# raw head outputs, and mmdeploy decodes the boxes in Python.
onnx_config = dict(
    type="onnx",
    export_params=True,
    keep_initializers_as_inputs=False,
    opset_version=11,
    save_file="end2end.onnx",
    input_names=["voxels", "num_points", "coors"],
    output_names=["cls_score", "bbox_pred", "dir_cls_pred"],
    input_shape=None,
    optimize=True,
    dynamic_axes={
        "voxels": {0: "voxels_num"},
        "num_points": {0: "voxels_num"},
        "coors": {0: "voxels_num"},
    },
)
codebase_config = dict(type="mmdet3d", task="VoxelDetection", model_type="end2end")
backend_config = dict(type="onnxruntime")
