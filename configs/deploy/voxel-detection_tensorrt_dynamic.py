# mmdeploy: 3D voxel detectors -> ONNX -> TensorRT (fp32), on an NVIDIA GPU with the
# `tensorrt` package. Without them `nox -s deploy` says so and skips this backend.
_base_ = ["./voxel-detection_onnxruntime_dynamic.py"]
backend_config = dict(
    _delete_=True,
    type="tensorrt",
    common_config=dict(fp16_mode=False, max_workspace_size=1 << 30),
    model_inputs=[
        dict(
            input_shapes=dict(
                voxels=dict(min_shape=[1, 32, 4], opt_shape=[12000, 32, 4], max_shape=[40000, 32, 4]),
                num_points=dict(min_shape=[1], opt_shape=[12000], max_shape=[40000]),
                coors=dict(min_shape=[1, 4], opt_shape=[12000, 4], max_shape=[40000, 4]),
            )
        )
    ],
)
