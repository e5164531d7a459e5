"""The deployed graph in ONNX Runtime or OpenVINO: voxels in, the graph's named outputs out (torch tensors over
the arrays the runtime returns: no further copy).

ONNX Runtime runs through mmdeploy's ``ORTWrapper`` (inputs bound by pointer, mmdeploy's custom ops loaded).
OpenVINO runs here rather than through mmdeploy's ``OpenVINOWrapper``, which keys the outputs by
``get_any_name()``: on CenterPoint's graph that is an internal tensor name for two of the three outputs,
cut at its first dot to the same key, so one output was lost."""

from __future__ import annotations

from pathlib import Path

SEPARATORS = "/.:"  # in the internal tensor names OpenVINO gives beside the graph's own output names


class OrtSession:
    def __init__(self, onnx: str):
        from mmdeploy.backend.onnxruntime import ORTWrapper

        self.wrapper = ORTWrapper(onnx, "cpu")  # the outputs the graph names
        self.names = list(self.wrapper.output_names)

    def __call__(self, inputs: dict) -> dict:
        return self.wrapper(inputs)


class OpenVinoSession:
    def __init__(self, onnx: str):
        from openvino import Core

        ir = Path(onnx).with_suffix(".xml")  # an OpenVINO deploy's IR, else the ONNX model, which OpenVINO reads
        core = Core()
        compiled = core.compile_model(
            core.read_model(str(ir if ir.is_file() else onnx)), "CPU", {"INFERENCE_PRECISION_HINT": "f32"}
        )
        self.request = compiled.create_infer_request()
        self.ports = list(compiled.outputs)
        self.names = [output_name(port.get_names()) for port in self.ports]

    def __call__(self, inputs: dict) -> dict:
        import torch

        result = self.request.infer({k: v.numpy() for k, v in inputs.items()}, share_inputs=True)
        return {name: torch.from_numpy(result[port]) for name, port in zip(self.names, self.ports, strict=True)}


def output_name(names: set[str]) -> str:
    """The graph's name of an output among the tensor names OpenVINO gives it (the plain one, not a path)."""
    return min(names, key=lambda name: (any(c in name for c in SEPARATORS), len(name), name))


def open_session(runtime: str, onnx: str):
    """A session of the deployed graph in ``runtime`` (``onnxruntime`` or ``openvino``)."""
    return OrtSession(onnx) if runtime == "onnxruntime" else OpenVinoSession(onnx)
