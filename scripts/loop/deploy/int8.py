"""The INT8 part of a deploy: quantize the exported model, then judge it by its accuracy.

Raw outputs of an INT8 model differ from float32 by far more than 1e-3, so its verdict is the AP drop
on the validation frames (float32 deployed model against INT8, the same evaluator as ``nox -s eval``)
against a threshold the user sets. The matched-box rate and score deltas against PyTorch, and the
latency against the float32 deployed model on the same inputs, are reported beside it.
"""

from __future__ import annotations

from pathlib import Path

from scripts.loop.common.checks import UsageError
from scripts.loop.deploy.accuracy import ap_drop, evaluate, headline
from scripts.loop.deploy.export import backend_of, to_openvino
from scripts.loop.deploy.latency import stats, timed
from scripts.loop.deploy.parity import Pair, compare, summarise
from scripts.loop.deploy.quantize import model_inputs, quantize

MAX_AP_DROP = 1.0  # AP points (of 100) the INT8 model may lose on any headline AP, by default


def check_int8_backend(deploy_cfg, deploy_path: str) -> None:
    """``UsageError`` for a backend this tool does not quantize for (INT8 here is for the CPU runtimes)."""
    if backend_of(deploy_cfg) not in ("onnxruntime", "openvino"):
        raise UsageError(
            f"--int8 quantizes for the CPU runtimes (ONNX Runtime, OpenVINO), and {deploy_path} deploys to "
            f"{backend_of(deploy_cfg)}. Nothing was exported. Drop --int8, or pick "
            "configs/deploy/*_onnxruntime_*.py or *_openvino_*.py."
        )


def int8_model(deploy_cfg, fp32_pair: Pair, onnx_path: Path, calibration: list[str]) -> Path:
    """``end2end.int8.onnx`` (and its OpenVINO IR for an OpenVINO deploy) beside ``onnx_path``."""
    onnx_int8 = quantize(onnx_path, model_inputs(fp32_pair, calibration), onnx_path.with_name("end2end.int8.onnx"))
    return to_openvino(deploy_cfg, onnx_int8) if backend_of(deploy_cfg) == "openvino" else onnx_int8


def latency_change(fp32: Pair, int8: Pair, samples: list[str], repeat: int) -> dict:
    """Raw forward latency of the float32 and the INT8 deployed model, interleaved per sample."""
    fp32_times, int8_times = [], []
    for sample in samples:
        _, args = fp32.inputs(sample)
        fp32_times += timed(lambda args=args: fp32.run_deployed(args), repeat)
        int8_times += timed(lambda args=args: int8.run_deployed(args), repeat)
    latency = dict(fp32=stats(fp32_times), int8=stats(int8_times))
    latency["speedup_median"] = round(latency["fp32"]["median_ms"] / latency["int8"]["median_ms"], 3)
    return latency


def verify_int8(fp32: Pair, int8: Pair, samples: list[str], repeat: int, max_ap_drop: float) -> dict:
    """The INT8 report: AP of both deployed models on the validation set, the drop against ``max_ap_drop``,
    final-box parity against PyTorch on ``samples``, and the latency change."""
    model_cfg = fp32.processor.model_cfg
    ap_fp32, ap_int8 = evaluate(fp32.deployed, model_cfg), evaluate(int8.deployed, model_cfg)
    per_sample = [compare(int8, sample) for sample in samples]
    parity = summarise(per_sample)
    drop = ap_drop(ap_fp32, ap_int8)
    return dict(
        samples=per_sample,
        max_abs_diff=parity["max_abs_diff"],
        min_matched_fraction=parity["min_matched_fraction"],
        max_score_diff=parity["max_score_diff"],
        mean_score_diff=_mean_score_diff(per_sample),
        boxes_matched=parity["boxes_matched"],
        boxes_reference=parity["boxes_reference"],
        ap=dict(fp32=headline(ap_fp32), int8=headline(ap_int8)),
        ap_drop=round(drop, 4),
        max_ap_drop=max_ap_drop,
        latency=latency_change(fp32, int8, samples, repeat),
        passed=drop <= max_ap_drop,
    )


def _mean_score_diff(per_sample: list[dict]) -> float:
    pairs = sum(s["boxes"]["matched"] for s in per_sample)
    total = sum(s["boxes"]["mean_score_diff"] * s["boxes"]["matched"] for s in per_sample)
    return total / pairs if pairs else 0.0
