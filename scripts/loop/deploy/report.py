"""The deploy report: ``report.json`` (every figure) and ``report.md`` (for people),
and the figures logged to MLflow."""

from __future__ import annotations

import json
from pathlib import Path

from mmlab_core.files import atomic_write
from scripts.loop.deploy.box_parity import MATCH_IOU


def markdown(report: dict) -> str:
    lat, limits, backend = report["latency"], report["thresholds"], report["backend"]
    boxes = report["boxes_reference"] + sum(s["boxes"]["deployed_boxes"] for s in report["samples"])
    nothing_to_compare = "" if boxes else " (no box scored above the model's score_thr in these samples)"
    lines = [
        f"# Deploy report: {report['model_config']}",
        "",
        f"- checkpoint: `{report['checkpoint']}`",
        f"- model: `{report['model']}` ({backend}, {report['device']})",
        f"- verdict: **{'pass' if report['passed'] else 'FAIL'}**",
        f"- training intensity: {_intensity(report.get('intensity_range'))}",
        f"- raw head outputs: max |PyTorch - {backend}| = {report['max_abs_diff']:.3g} "
        f"(threshold {limits['max_abs_diff']:g})",
        f"- final boxes: {report['boxes_matched']} of {report['boxes_reference']} PyTorch boxes matched "
        f"(IoU >= {MATCH_IOU}, same label); worst sample {report['min_matched_fraction']:.3f} matched "
        f"(threshold {limits['min_matched_fraction']}); max score |diff| {report['max_score_diff']:.3g} "
        f"(threshold {limits['max_score_diff']:g}){nothing_to_compare}",
        f"- latency over {len(report['samples'])} samples: PyTorch median {lat['pytorch']['median_ms']} ms "
        f"(p90 {lat['pytorch']['p90_ms']}), {backend} median {lat[backend]['median_ms']} ms "
        f"(p90 {lat[backend]['p90_ms']}), speed-up {lat['speedup_median']}x",
        "",
        "| sample | raw max abs diff | PyTorch boxes | deployed boxes | matched | max score diff |",
        "| --- | --- | --- | --- | --- | --- |",
        *[
            f"| {s['sample']} | {s['max_abs_diff']:.3g} | {s['boxes']['reference_boxes']} | "
            f"{s['boxes']['deployed_boxes']} | {s['boxes']['matched']} | {s['boxes']['max_score_diff']:.3g} |"
            for s in report["samples"]
        ],
    ]
    if "int8" in report:
        lines += ["", *int8_markdown(report["int8"], backend)]
    return "\n".join(lines) + "\n"


def _intensity(summary: dict | None) -> str:
    if not summary:
        return "not recorded (a checkpoint saved without IntensityRangeHook)"
    return (
        f"{summary['min']:.3g} to {summary['max']:.3g}, 99th percentile {summary['p99']:.3g} "
        f"({summary['frames']} frames); infer compares recordings with it"
    )


def int8_markdown(int8: dict, backend: str) -> list[str]:
    """The INT8 section: verdict by AP drop, APs side by side, box parity and latency change."""
    lat, ap = int8["latency"], int8["ap"]
    return [
        f"## INT8 ({backend}, `{int8['model']}`, calibrated on {len(int8['calibration'])} training frames)",
        "",
        f"- verdict: **{'pass' if int8['passed'] else 'FAIL'}**: largest AP drop {int8['ap_drop']:.2f} points "
        f"(threshold {int8['max_ap_drop']:g}), float32 deployed vs INT8 on the validation set",
        f"- final boxes against PyTorch: {int8['boxes_matched']} of {int8['boxes_reference']} matched "
        f"(IoU >= {MATCH_IOU}, same label); worst sample {int8['min_matched_fraction']:.3f}; score |diff| "
        f"mean {int8['mean_score_diff']:.3g}, max {int8['max_score_diff']:.3g}; raw outputs max |diff| "
        f"{int8['max_abs_diff']:.3g} (not judged: INT8 rounds activations)",
        f"- latency: float32 median {lat['fp32']['median_ms']} ms (p90 {lat['fp32']['p90_ms']}), INT8 median "
        f"{lat['int8']['median_ms']} ms (p90 {lat['int8']['p90_ms']}), speed-up {lat['speedup_median']}x",
        "",
        "| AP | float32 | INT8 | change |",
        "| --- | --- | --- | --- |",
        *[
            f"| {k} | {v:.2f} | {ap['int8'].get(k, float('nan')):.2f} | {ap['int8'].get(k, float('nan')) - v:+.2f} |"
            for k, v in ap["fp32"].items()
        ],
    ]


def write_report(report: dict, out: Path) -> tuple[Path, Path]:
    """``report.json`` and ``report.md`` in ``out``, each written whole (temporary file + rename)."""
    return (
        atomic_write(out / "report.json", json.dumps(report, indent=2)),
        atomic_write(out / "report.md", markdown(report)),
    )


def metrics(report: dict) -> dict:
    """The report's figures as MLflow metrics."""
    lat, backend = report["latency"], report["backend"]
    return dict(
        max_abs_diff=report["max_abs_diff"],
        min_matched_fraction=report["min_matched_fraction"],
        max_score_diff=report["max_score_diff"],
        passed=float(report["passed"]),
        pytorch_median_ms=lat["pytorch"]["median_ms"],
        pytorch_p90_ms=lat["pytorch"]["p90_ms"],
        deployed_median_ms=lat[backend]["median_ms"],
        deployed_p90_ms=lat[backend]["p90_ms"],
        speedup_median=lat["speedup_median"],
        **(int8_metrics(report["int8"]) if "int8" in report else {}),
    )


def int8_metrics(int8: dict) -> dict:
    """The INT8 figures as MLflow metrics."""
    return dict(
        int8_ap_drop=int8["ap_drop"],
        int8_passed=float(int8["passed"]),
        int8_median_ms=int8["latency"]["int8"]["median_ms"],
        int8_min_matched_fraction=int8["min_matched_fraction"],
        int8_mean_score_diff=int8["mean_score_diff"],
    )
