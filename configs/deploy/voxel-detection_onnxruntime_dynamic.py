# mmdeploy: 3D voxel detectors (PointPillars, SECOND, CenterPoint) -> ONNX -> ONNX Runtime.
# Voxelization runs outside the graph; the graph takes voxels and returns the
# raw head outputs, and mmdeploy decodes the boxes in Python.
_base_ = ["./_base_onnxruntime.py"]
onnx_config = dict(
    input_names=["voxels", "num_points", "coors"],
    # one level of outputs; mmdeploy's backend model reads them as <name><level>
    output_names=["cls_score0", "bbox_pred0", "dir_cls_pred0"],
    dynamic_axes={
        "voxels": {0: "voxels_num"},
        "num_points": {0: "voxels_num"},
        "coors": {0: "voxels_num"},
    },
)
codebase_config = dict(type="mmdet3d", task="VoxelDetection", model_type="end2end")
