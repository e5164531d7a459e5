"""Export a trained model with mmdeploy: to ONNX, and on to OpenVINO IR or a TensorRT engine.

Which backends the deploy tool runs, whether this machine can run one, and the
export itself, each file written whole or not at all.
"""

from __future__ import annotations

import importlib.util
import shutil
import tempfile
from pathlib import Path

from scripts.loop.common.checks import UsageError

BACKENDS = ("onnxruntime", "openvino", "tensorrt")
OPENVINO_OLDEST = (2023, 1)  # openvino.convert_model and openvino.Core, which our mmdeploy patches use
# [oldest, first unsupported) TensorRT: the name-based tensor API of our mmdeploy patch
TENSORRT_SUPPORTED = ((8, 6), (12, 0))
TENSORRT_PATCH = "patches/mmdeploy/backend-tensorrt-port-to-tensorrt-10-s-name-based-tensor-api.patch"
# middle encoders built on sparse 3D convolution (spconv), which the ONNX exporter cannot trace
SPARSE_ENCODERS = ("SparseEncoder", "SparseEncoderSASSD", "SparseUNet")


def backend_of(deploy_cfg) -> str:
    """The backend a deploy config targets (``backend_config.type``)."""
    return deploy_cfg.backend_config.type


def check_exportable(model_cfg, model_path: str) -> None:
    """``UsageError`` for a model that mmdeploy cannot export: a sparse-convolution (voxel) encoder."""
    model = model_cfg.model
    encoder = (model.get("middle_encoder") or model.get("pts_middle_encoder") or {}).get("type", "")
    if encoder in SPARSE_ENCODERS:
        raise UsageError(
            f"{model_path} encodes voxels with {encoder} (sparse 3D convolution, spconv), and mmdeploy has no "
            "export for it: spconv's operators do not export to ONNX, so neither ONNX Runtime, OpenVINO nor "
            "TensorRT can run this model through mmdeploy. Nothing was exported. Deploy a pillar model instead "
            "(configs/centerpoint_pillar_*.py, configs/pointpillars_*.py), or run this one in PyTorch "
            "(nox -s eval)."
        )


def tensorrt_version() -> str | None:
    """The installed TensorRT's version (``tensorrt`` for 8.x, ``tensorrt-cu12``/``-cu13`` for 10 on), read from
    the package metadata: the module itself does not import without NVIDIA's libraries."""
    from importlib.metadata import packages_distributions, version

    dists = packages_distributions().get("tensorrt", [])
    return version(dists[0]) if dists else None


def check_tensorrt_version(deploy_path: str) -> None:
    """``UsageError`` when an installed TensorRT is one that our mmdeploy patch does not drive."""
    installed = tensorrt_version()
    if installed is None:
        return
    (low, high), parsed = TENSORRT_SUPPORTED, tuple(int(part) for part in installed.split(".")[:2])
    if not low <= parsed < high:
        raise UsageError(
            f"{deploy_path} deploys to TensorRT, and this environment has tensorrt {installed}. mmdeploy's TensorRT "
            f"backend here ({TENSORRT_PATCH}) drives TensorRT {low[0]}.{low[1]} to {high[0] - 1}.x through the "
            f"name-based tensor API: pip install 'tensorrt>={low[0]}.{low[1]},<{high[0]}'. Nothing was exported."
        )


def check_backend_package(backend: str, deploy_path: str) -> None:
    """``UsageError`` when a CPU backend's package is missing or too old for our mmdeploy patches, or when
    TensorRT is installed in a version that they do not drive."""
    if backend == "tensorrt":
        check_tensorrt_version(deploy_path)
    if backend != "openvino":
        return
    if importlib.util.find_spec("openvino") is None:
        raise UsageError(
            f"{deploy_path} deploys to OpenVINO, and the openvino package is not installed in this environment. "
            "It is in requirements/stack.txt: regenerate the lock (nox -s lock) and rebuild (nox -s setup), "
            "or pick a configs/deploy/*_onnxruntime_*.py config. Nothing was exported."
        )
    from importlib.metadata import version

    installed = version("openvino")
    if tuple(int(part) for part in installed.split(".")[:2]) < OPENVINO_OLDEST:
        raise UsageError(
            f"{deploy_path} deploys to OpenVINO, and this environment has openvino {installed}. mmdeploy's "
            "OpenVINO backend here is patched for openvino.Core and openvino.convert_model "
            "(patches/mmdeploy/backend-openvino-*.patch), which need openvino >= "
            f"{'.'.join(map(str, OPENVINO_OLDEST))}: install the version in requirements/stack.lock. "
            "Nothing was exported."
        )


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
    return None


def export(deploy_cfg, model_cfg, checkpoint: str, sample: str, out: Path, device: str = "cpu") -> Path:
    """Export to ``out/end2end.onnx`` (and ``end2end.engine`` for TensorRT, ``end2end.xml`` + ``.bin`` for
    OpenVINO), each written whole or not at all: mmdeploy writes into a temporary folder inside ``out``,
    and each file is renamed into place when done."""
    from mmdeploy.apis import torch2onnx

    import extensions

    extensions.register(rewriters=True)
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
        elif backend_of(deploy_cfg) == "openvino":
            target = to_openvino(deploy_cfg, target)
    return target


def to_openvino(deploy_cfg, onnx_path: Path) -> Path:
    """OpenVINO IR (``<stem>.xml`` + ``.bin``) of ``onnx_path``, beside it, each file written whole."""
    from mmdeploy.backend.openvino import OpenVINOManager

    out = onnx_path.parent
    with tempfile.TemporaryDirectory(dir=out) as tmp:
        staged = Path(tmp) / onnx_path.name  # mmdeploy names the IR after the ONNX file
        shutil.copy(onnx_path, staged)
        OpenVINOManager.to_backend([str(staged)], tmp, deploy_cfg)
        for suffix in (".bin", ".xml"):  # the .xml last: it names the weights next to it
            shutil.move(str(staged.with_suffix(suffix)), out / f"{onnx_path.stem}{suffix}")
    return out / f"{onnx_path.stem}.xml"
