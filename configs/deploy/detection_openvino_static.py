# mmdeploy: 2D detectors (RetinaNet, YOLOX, Faster R-CNN) -> ONNX -> OpenVINO IR (float32, converted by
# openvino.convert_model), run on the CPU, NMS inside the graph as for ONNX Runtime. One image at a time.
_base_ = ["./detection_onnxruntime_static.py"]
backend_config = dict(_delete_=True, type="openvino", model_inputs=[dict(opt_shapes=dict(input=[1, 3, -1, -1]))])
