# Shared by the deploy configs: the TorchScript ONNX exporter (opset 11) and ONNX Runtime.
onnx_config = dict(
    type="onnx",
    export_params=True,
    keep_initializers_as_inputs=False,
    opset_version=11,
    save_file="end2end.onnx",
    input_shape=None,
    optimize=False,  # the passes need mmdeploy's TorchScript extension, which the wheel does not ship
)
backend_config = dict(type="onnxruntime")
