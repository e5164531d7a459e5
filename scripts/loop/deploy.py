"""Deploy a trained model: mmdeploy -> ONNX -> ONNX Runtime (or TensorRT), then prove it.

``python -m scripts.loop.deploy DEPLOY_CFG MODEL_CFG CHECKPOINT [--samples N]``

On N validation samples it compares PyTorch and the deployed model twice: the
raw head outputs (PyTorch with mmdeploy's rewrites, i.e. the exported graph)
and the final boxes after post-processing (the original PyTorch model against
mmdeploy's backend model, matched by IoU and label). It times both runtimes,
writes ``report.json`` and ``report.md`` next to the model, and exits 1 when
parity misses its thresholds. A TensorRT deploy config on a machine without
a CUDA GPU and the ``tensorrt`` package is skipped with a message (exit 0).
"""

from __future__ import annotations

import argparse
import copy
import importlib.util
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from scripts.loop import tracking
from scripts.loop.box_parity import MATCH_IOU, Detections, match
from scripts.loop.checks import UsageError, check_checkpoint, check_dataset, check_pair, load_config
from scripts.settings import current

MAX_ABS_DIFF = 1e-3  # raw head outputs, float32
MIN_MATCHED = 0.95  # final boxes: matched / max(PyTorch boxes, deployed boxes), per sample
MAX_SCORE_DIFF = 1e-3  # final boxes: |score difference| of matched boxes
BACKENDS = ("onnxruntime", "tensorrt")


def backend_of(deploy_cfg) -> str:
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
    """Export to ``out/end2end.onnx`` (and ``end2end.engine`` for TensorRT), each written whole or not at all."""
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


class Pair:
    """The same inputs through PyTorch and the deployed model (ONNX Runtime or TensorRT)."""

    def __init__(self, deploy_cfg, model_cfg, checkpoint: str, model_path: Path, device: str = "cpu"):
        from mmdeploy.apis.utils import build_task_processor
        from mmdeploy.core import patch_model

        self.deploy_cfg = deploy_cfg
        self.backend = backend_of(deploy_cfg)
        self.device = device
        self.processor = build_task_processor(model_cfg, deploy_cfg, device)
        self.torch_model = self.processor.build_pytorch_model(checkpoint)
        # a copy rewritten as exported, for the raw outputs; the original gives the final boxes
        self.patched = patch_model(copy.deepcopy(self.torch_model), cfg=deploy_cfg, backend=self.backend)
        self.deployed = self.processor.build_backend_model([str(model_path)])
        self.input_names = list(deploy_cfg.onnx_config.input_names)

    def inputs(self, sample):
        data, inputs = self.processor.create_input(sample, None, getattr(self.torch_model, "data_preprocessor", None))
        if isinstance(inputs, list) and len(inputs) == 1:
            inputs = inputs[0]
        return data, tuple(inputs) if isinstance(inputs, list | tuple) else (inputs,)

    def run_torch(self, data, args) -> list[np.ndarray]:
        import torch
        from mmdeploy.core import RewriterContext

        opset = self.deploy_cfg.onnx_config.opset_version
        with RewriterContext(cfg=self.deploy_cfg, backend=self.backend, opset=opset), torch.no_grad():
            out = self.patched(*args, data_samples=data["data_samples"], mode="predict")
        _sync(self.device)
        return [t.detach().cpu().numpy() for t in _flatten(out)]

    def run_deployed(self, args) -> list[np.ndarray]:
        """Raw outputs of the deployed model, in the deploy config's output order."""
        outputs = self.deployed.wrapper(dict(zip(self.input_names, args, strict=True)))
        _sync(self.device)
        return [outputs[name].detach().cpu().numpy() for name in self.deploy_cfg.onnx_config.output_names]

    def final_detections(self, sample) -> tuple[Detections, Detections]:
        """Post-processed boxes: the original PyTorch model, and mmdeploy's backend model."""
        import torch

        raw, _ = self.processor.create_input(sample)
        with torch.no_grad():
            ref = self.torch_model.test_step(copy.deepcopy(raw))[0]
            out = self.deployed.test_step(copy.deepcopy(raw))[0]
        return Detections.from_sample(ref), Detections.from_sample(out)


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()


def _flatten(value) -> list:
    import torch

    if isinstance(value, torch.Tensor):
        return [value]
    return [t for item in value for t in _flatten(item)]


def _timed(fn, repeat: int) -> list[float]:
    for _ in range(2):
        fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return times


def _stats(times: list[float]) -> dict:
    ordered = sorted(times)
    return dict(median_ms=round(statistics.median(ordered), 3), p90_ms=round(ordered[int(0.9 * (len(ordered) - 1))], 3))


def verify(pair: Pair, samples: list[str], repeat: int) -> dict:
    per_sample = []
    torch_times, deployed_times = [], []
    for sample in samples:
        data, args = pair.inputs(sample)
        ref, out = pair.run_torch(data, args), pair.run_deployed(args)
        diffs = [
            float(np.abs(r.astype(np.float64) - o).max()) if r.size else 0.0 for r, o in zip(ref, out, strict=True)
        ]
        boxes = match(*pair.final_detections(sample))
        shapes = [list(r.shape) for r in ref]
        per_sample.append(dict(sample=sample, max_abs_diff=max(diffs), shapes=shapes, boxes=boxes))
        torch_times += _timed(lambda data=data, args=args: pair.run_torch(data, args), repeat)
        deployed_times += _timed(lambda args=args: pair.run_deployed(args), repeat)
    worst = max(s["max_abs_diff"] for s in per_sample)
    matched = min(s["boxes"]["matched_fraction"] for s in per_sample)
    score_diff = max(s["boxes"]["max_score_diff"] for s in per_sample)
    latency = {"pytorch": _stats(torch_times), pair.backend: _stats(deployed_times)}
    latency["speedup_median"] = round(latency["pytorch"]["median_ms"] / latency[pair.backend]["median_ms"], 3)
    thresholds = dict(max_abs_diff=MAX_ABS_DIFF, min_matched_fraction=MIN_MATCHED, max_score_diff=MAX_SCORE_DIFF)
    passed = worst <= MAX_ABS_DIFF and matched >= MIN_MATCHED and score_diff <= MAX_SCORE_DIFF
    return dict(
        backend=pair.backend,
        device=pair.device,
        samples=per_sample,
        max_abs_diff=worst,
        min_matched_fraction=matched,
        max_score_diff=score_diff,
        boxes_matched=sum(s["boxes"]["matched"] for s in per_sample),
        boxes_reference=sum(s["boxes"]["reference_boxes"] for s in per_sample),
        thresholds=thresholds,
        passed=passed,
        latency=latency,
    )


def write_report(report: dict, out: Path) -> None:
    """``report.json`` and ``report.md``, each written whole (temp file + rename)."""
    lat, limits, backend = report["latency"], report["thresholds"], report["backend"]
    boxes = report["boxes_reference"] + sum(s["boxes"]["deployed_boxes"] for s in report["samples"])
    nothing_to_compare = "" if boxes else " (no box scored above the model's score_thr in these samples)"
    lines = [
        f"# Deploy report: {report['model_config']}",
        "",
        f"- checkpoint: `{report['checkpoint']}`",
        f"- model: `{report['model']}` ({backend}, {report['device']})",
        f"- verdict: **{'pass' if report['passed'] else 'FAIL'}**",
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
    _write_atomic(out / "report.json", json.dumps(report, indent=2))
    _write_atomic(out / "report.md", "\n".join(lines) + "\n")


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)


def validation_samples(model_cfg, count: int) -> list[str]:
    from mmengine.registry import DATASETS, init_default_scope

    init_default_scope(model_cfg.get("default_scope", "mmdet3d"))
    dataset = DATASETS.build(model_cfg.test_dataloader.dataset)
    infos = [dataset.get_data_info(i) for i in range(min(count, len(dataset)))]
    return [info["img_path"] if "img_path" in info else info["lidar_points"]["lidar_path"] for info in infos]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("deploy_config")
    parser.add_argument("model_config")
    parser.add_argument("checkpoint")
    parser.add_argument("--samples", type=int, default=3, help="validation samples to compare and time")
    parser.add_argument("--repeat", type=int, default=10, help="timed runs per sample and runtime")
    parser.add_argument("--work-dir", help="default: <checkpoints>/<config name>/deploy")
    args = parser.parse_args(argv)
    try:
        if not Path(args.deploy_config).is_file():
            raise UsageError(f"the deploy config {args.deploy_config} does not exist; see configs/deploy/")
        deploy_cfg = load_config(args.deploy_config)
        model_cfg = load_config(args.model_config)
        check_pair(deploy_cfg, model_cfg, args.deploy_config, args.model_config)
        if backend_of(deploy_cfg) not in BACKENDS:
            raise UsageError(
                f"{args.deploy_config} deploys to {backend_of(deploy_cfg)}; this tool deploys to "
                f"{' and '.join(BACKENDS)}. Pick a deploy config from configs/deploy/."
            )
        check_dataset(model_cfg, "test_dataloader")
        check_checkpoint(model_cfg, args.checkpoint, args.model_config)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    backend = backend_of(deploy_cfg)
    reason = unavailable(backend)
    if reason:
        print(f"skipped: {args.deploy_config} deploys to {backend}, and {reason} on this machine. "
              "Nothing was exported; use configs/deploy/*_onnxruntime_*.py here.")  # fmt: skip
        return 0
    device = "cuda:0" if backend == "tensorrt" else "cpu"
    out = Path(args.work_dir or current().checkpoints / Path(args.model_config).stem / "deploy")
    samples = validation_samples(model_cfg, args.samples)
    print(f"exporting {args.model_config} with {args.deploy_config} -> {out}", flush=True)
    model_path = export(deploy_cfg, model_cfg, args.checkpoint, samples[0], out, device)
    print(f"comparing PyTorch and {backend} on {len(samples)} validation samples", flush=True)
    report = verify(Pair(deploy_cfg, model_cfg, args.checkpoint, model_path, device), samples, args.repeat)
    report.update(model_config=args.model_config, deploy_config=args.deploy_config, checkpoint=args.checkpoint,
                  model=str(model_path), onnx=str(out / "end2end.onnx"))  # fmt: skip
    write_report(report, out)
    print((out / "report.md").read_text())
    print(f"report: {out / 'report.json'}, {out / 'report.md'}")
    run_id = tracking.log_run(
        load_config(args.model_config),
        args.model_config,
        "deploy",
        _numbers(report),
        list(dict.fromkeys([Path(report["onnx"]), model_path, out / "report.json", out / "report.md"])),
        deploy_config=args.deploy_config,
        checkpoint=args.checkpoint,
    )
    print(f"tracked: MLflow run {run_id} at {tracking.tracking_uri()}")
    return 0 if report["passed"] else 1


def _numbers(report: dict) -> dict:
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
    )


if __name__ == "__main__":
    sys.exit(main())
