"""The deployed graph in ONNX Runtime or OpenVINO: voxels in, the graph's named outputs out (torch tensors over
the arrays the runtime returns: no further copy).

Both run here rather than through mmdeploy's wrappers: its ``OpenVINOWrapper`` keys the outputs by
``get_any_name()``, on CenterPoint's graph an internal tensor name for two of the three outputs, cut at its first
dot to the same key (one output was lost); its ``ORTWrapper`` leaves ONNX Runtime's threads spinning after each
run, which on 2 cores doubled the post-process that follows. mmdeploy's ONNX Runtime custom ops are loaded."""

from __future__ import annotations

from pathlib import Path

SEPARATORS = "/.:"  # in the internal tensor names OpenVINO gives beside the graph's own output names


class OrtSession:
    def __init__(self, onnx: str):
        import ctypes

        import onnxruntime as ort
        from mmdeploy.backend.onnxruntime.init_plugins import get_lib_path, get_ops_path

        options = ort.SessionOptions()
        # no spinning after a run: on a few cores its threads would take the CPU from the post-process
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        if Path(get_ops_path()).is_file():  # mmdeploy's custom ops, as its ORTWrapper loads them
            if Path(get_lib_path()).is_file():
                ctypes.CDLL(get_lib_path())
            options.register_custom_ops_library(get_ops_path())
        self.session = ort.InferenceSession(onnx, options, providers=["CPUExecutionProvider"])
        self.names = [output.name for output in self.session.get_outputs()]

    def __call__(self, inputs: dict) -> dict:
        import torch

        outputs = self.session.run(self.names, {k: v.numpy() for k, v in inputs.items()})
        return {name: torch.from_numpy(array) for name, array in zip(self.names, outputs, strict=True)}


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
