# mmdeploy: 3D voxel detectors (PointPillars, CenterPoint-pillar) -> ONNX -> OpenVINO IR (float32, converted
# by openvino.convert_model), run on the CPU. Voxelization runs outside the graph, as for ONNX Runtime.
# model_inputs gives each input's shape for the conversion; -1 marks a dynamic dimension (the voxel count,
# and the points per voxel, which is the model's voxel_layer.max_num_points).
_base_ = ["./voxel-detection_onnxruntime_dynamic.py"]
backend_config = dict(
    _delete_=True,
    type="openvino",
    model_inputs=[dict(opt_shapes=dict(voxels=[-1, -1, 4], num_points=[-1], coors=[-1, 4]))],
)
