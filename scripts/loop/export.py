"""Export a trained model with mmdeploy: to ONNX, and on to a TensorRT engine.

Which backends the deploy tool runs, whether this machine can run one, and the
export itself, each file written whole or not at all.
"""

from __future__ import annotations

import importlib.util
import shutil
import tempfile
from pathlib import Path

BACKENDS = ("onnxruntime", "tensorrt")


def backend_of(deploy_cfg) -> str:
    """The backend a deploy config targets (``backend_config.type``)."""
    return deploy_cfg.backend_config.type


def unavailable(backend: str) -> str | None:
    """Why this machine cannot run the backend, or None when it can."""
    if backend == "tensorrt":
        import torch

        missing = [
            what
            for what, ok in (
                ("a CUDA GPU", torch.cuda.is_available()),
                ("the tensorrt package", importlib.util.find_spec("tensorrt") is not None),
            )
            if not ok
        ]
        if missing:
            return f"TensorRT needs {' and '.join(missing)}"
        import tensorrt

        if int(tensorrt.__version__.split(".")[0]) >= 10:
            return (
                f"mmdeploy 1.3.1's TensorRT wrapper runs TensorRT 8.x, and this machine has {tensorrt.__version__} "
                "(TensorRT 10 removed the binding API it uses): pip install 'tensorrt<10'"
            )
    return None


def export(deploy_cfg, model_cfg, checkpoint: str, sample: str, out: Path, device: str = "cpu") -> Path:
    """Export to ``out/end2end.onnx`` (and ``end2end.engine`` for TensorRT), each written whole or not at all:
    mmdeploy writes into a temporary folder inside ``out``, and each file is renamed into place when done."""
    from mmdeploy.apis import torch2onnx

    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out) as tmp:
        torch2onnx(sample, tmp, "end2end.onnx", deploy_cfg, model_cfg, checkpoint, device=device)
        target = out / "end2end.onnx"
        shutil.move(str(Path(tmp) / "end2end.onnx"), target)
        if backend_of(deploy_cfg) == "tensorrt":
            from mmdeploy.apis.tensorrt import onnx2tensorrt

            onnx2tensorrt(tmp, "end2end.engine", 0, deploy_cfg, str(target), device=device)
            target = out / "end2end.engine"
            shutil.move(str(Path(tmp) / "end2end.engine"), target)
    return target
