"""The deploy stage: the GPU-trained PointPillars through ``scripts.loop.deploy.command.deploy`` (ONNX Runtime),
then the same exported model on ONNX Runtime's CUDA execution provider with box parity, and TensorRT where
``tensorrt`` imports. A runtime this machine lacks is a stated skip, never a result."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from scripts.loop.gpu_check.stages import FAIL, PASS, SKIP, Deadline, Outcome

ORT = "configs/deploy/voxel-detection_onnxruntime_dynamic.py"
TRT = "configs/deploy/voxel-detection_tensorrt_dynamic.py"


def _parity_figures(report: dict) -> dict:
    lat = report.get("latency", {})
    runtime = next((v for k, v in lat.items() if k not in ("pytorch", "speedup_median") and isinstance(v, dict)), {})
    keys = ("backend", "device", "max_abs_diff", "boxes_matched", "boxes_reference", "passed")
    figures = {k: report.get(k) for k in keys}
    median = runtime.get("median_ms")
    figures.update(
        runtime_median_ms=median,
        frames_per_s=round(1000 / median, 1) if median else None,
        pytorch_median_ms=lat.get("pytorch", {}).get("median_ms"),
    )
    return figures


def cuda_provider() -> str | None:
    """Why ONNX Runtime's CUDA execution provider cannot run here, or None when it can."""
    import onnxruntime

    providers = onnxruntime.get_available_providers()
    if "CUDAExecutionProvider" not in providers:
        return (
            f"onnxruntime {onnxruntime.__version__} here has no CUDAExecutionProvider (it has {', '.join(providers)})"
        )
    return None


def deploy_stage(
    config: str, checkpoint: str | None, device: str, out: Path, samples: int, deadline: Deadline
) -> Outcome:
    """Export and verify on the CPU provider, then the CUDA provider and TensorRT where they exist."""
    if not checkpoint:
        return Outcome(SKIP, reason="no trained PointPillars checkpoint: its training stage did not finish")
    from scripts.loop.deploy.command import deploy, verify
    from scripts.loop.deploy.parity import Pair

    result = deploy(ORT, config, checkpoint, samples=samples, repeat=5, work_dir=out / "onnxruntime")
    figures: dict = {"onnxruntime_cpu": _parity_figures(result.report)}
    failed = [] if result.passed else ["ONNX Runtime (CPU provider) parity"]
    skipped = []
    if not device.startswith("cuda"):
        skipped.append("CUDA execution provider and TensorRT: the check runs on the CPU")
    else:
        why = cuda_provider()
        if why:
            skipped.append(f"ONNX Runtime CUDA: {why}")
        elif deadline.left() > 10:
            from scripts.loop.common.checks import load_config
            from scripts.loop.deploy.command import validation_samples

            deploy_cfg, model_cfg = load_config(ORT), load_config(config)
            pair = Pair(deploy_cfg, model_cfg, checkpoint, str(result.model), device)
            report = verify(pair, validation_samples(model_cfg, samples), repeat=5)
            figures["onnxruntime_cuda"] = _parity_figures(report)
            if not report["passed"]:
                failed.append("ONNX Runtime (CUDA provider) parity")
        if importlib.util.find_spec("tensorrt") is None:
            skipped.append("TensorRT: the tensorrt package is not installed here")
        elif deadline.left() > 30:
            trt = deploy(TRT, config, checkpoint, samples=samples, repeat=5, work_dir=out / "tensorrt")
            figures["tensorrt"] = _parity_figures(trt.report)
            if not trt.passed:
                failed.append("TensorRT parity")
        else:
            skipped.append("TensorRT: the stage's budget was spent")
    figures["not_run"] = skipped
    if failed:
        return Outcome(FAIL, figures, "failed: " + ", ".join(failed))
    return Outcome(PASS, figures, "; ".join(skipped))
