"""Deploy a trained model: mmdeploy -> ONNX -> ONNX Runtime, then prove it.

``python -m scripts.deploy DEPLOY_CFG MODEL_CFG CHECKPOINT [--samples N]``

On N validation samples it compares the raw outputs of PyTorch (with
mmdeploy's rewrites, i.e. the exported graph) and ONNX Runtime, times both,
and writes ``report.json`` and ``report.md`` next to ``end2end.onnx``. It
exits 1 when parity misses its thresholds.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from scripts.checks import UsageError, check_checkpoint, check_dataset, check_pair, load_config
from scripts.workspace import checkpoints_dir

MAX_ABS_DIFF = 1e-3  # raw head outputs, float32


def export(deploy_cfg, model_cfg, checkpoint: str, sample: str, out: Path) -> Path:
    """Export to ``out/end2end.onnx``, written whole or not at all."""
    from mmdeploy.apis import torch2onnx

    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out) as tmp:
        torch2onnx(sample, tmp, "end2end.onnx", deploy_cfg, model_cfg, checkpoint, device="cpu")
        target = out / "end2end.onnx"
        shutil.move(str(Path(tmp) / "end2end.onnx"), target)
    return target


class Pair:
    """The same inputs through PyTorch (rewritten as exported) and ONNX Runtime."""

    def __init__(self, deploy_cfg, model_cfg, checkpoint: str, onnx_path: Path):
        import onnxruntime as ort
        from mmdeploy.apis.utils import build_task_processor
        from mmdeploy.core import patch_model

        self.deploy_cfg = deploy_cfg
        self.processor = build_task_processor(model_cfg, deploy_cfg, "cpu")
        self.torch_model = self.processor.build_pytorch_model(checkpoint)
        self.patched = patch_model(self.torch_model, cfg=deploy_cfg, backend="onnxruntime")
        self.session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])

    def inputs(self, sample):
        data, inputs = self.processor.create_input(sample, None, getattr(self.torch_model, "data_preprocessor", None))
        if isinstance(inputs, list) and len(inputs) == 1:
            inputs = inputs[0]
        return data, tuple(inputs) if isinstance(inputs, list | tuple) else (inputs,)

    def run_torch(self, data, args) -> list[np.ndarray]:
        import torch
        from mmdeploy.core import RewriterContext

        with RewriterContext(cfg=self.deploy_cfg, backend="onnxruntime", opset=11), torch.no_grad():
            out = self.patched(*args, data_samples=data["data_samples"], mode="predict")
        return [t.detach().cpu().numpy() for t in _flatten(out)]

    def run_ort(self, args) -> list[np.ndarray]:
        feeds = {i.name: a.detach().cpu().numpy() for i, a in zip(self.session.get_inputs(), args, strict=True)}
        return [np.asarray(o) for o in self.session.run(None, feeds)]


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
    torch_times, ort_times = [], []
    for sample in samples:
        data, args = pair.inputs(sample)
        ref, out = pair.run_torch(data, args), pair.run_ort(args)
        diffs = [
            float(np.abs(r.astype(np.float64) - o).max()) if r.size else 0.0 for r, o in zip(ref, out, strict=True)
        ]
        per_sample.append(dict(sample=sample, max_abs_diff=max(diffs), shapes=[list(r.shape) for r in ref]))
        torch_times += _timed(lambda data=data, args=args: pair.run_torch(data, args), repeat)
        ort_times += _timed(lambda args=args: pair.run_ort(args), repeat)
    worst = max(s["max_abs_diff"] for s in per_sample)
    latency = dict(pytorch=_stats(torch_times), onnxruntime=_stats(ort_times))
    latency["speedup_median"] = round(latency["pytorch"]["median_ms"] / latency["onnxruntime"]["median_ms"], 3)
    return dict(
        samples=per_sample, max_abs_diff=worst, threshold=MAX_ABS_DIFF, passed=worst <= MAX_ABS_DIFF, latency=latency
    )


def write_report(report: dict, out: Path) -> None:
    (out / "report.json").write_text(json.dumps(report, indent=2))
    lat = report["latency"]
    lines = [
        f"# Deploy report: {report['model_config']}",
        "",
        f"- checkpoint: `{report['checkpoint']}`",
        f"- model: `{report['onnx']}` (ONNX Runtime, CPU)",
        f"- parity: max |PyTorch - ONNX Runtime| over raw outputs = {report['max_abs_diff']:.3g} "
        f"(threshold {report['threshold']:g}): **{'pass' if report['passed'] else 'FAIL'}**",
        f"- latency over {len(report['samples'])} samples: PyTorch median {lat['pytorch']['median_ms']} ms "
        f"(p90 {lat['pytorch']['p90_ms']}), ONNX Runtime median {lat['onnxruntime']['median_ms']} ms "
        f"(p90 {lat['onnxruntime']['p90_ms']}), speed-up {lat['speedup_median']}x",
        "",
        "| sample | max abs diff |",
        "| --- | --- |",
        *[f"| {s['sample']} | {s['max_abs_diff']:.3g} |" for s in report["samples"]],
    ]
    (out / "report.md").write_text("\n".join(lines) + "\n")


def validation_samples(model_cfg, count: int) -> list[str]:
    from mmengine.registry import DATASETS, init_default_scope

    init_default_scope(model_cfg.get("default_scope", "mmdet3d"))
    dataset = DATASETS.build(model_cfg.test_dataloader.dataset)
    return [dataset.get_data_info(i)["lidar_points"]["lidar_path"] for i in range(min(count, len(dataset)))]


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
        check_dataset(model_cfg, "test_dataloader")
        check_checkpoint(model_cfg, args.checkpoint, args.model_config)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    out = Path(args.work_dir or checkpoints_dir() / Path(args.model_config).stem / "deploy")
    samples = validation_samples(model_cfg, args.samples)
    print(f"exporting {args.model_config} with {args.deploy_config} -> {out}", flush=True)
    onnx_path = export(deploy_cfg, model_cfg, args.checkpoint, samples[0], out)
    print(f"comparing PyTorch and ONNX Runtime on {len(samples)} validation samples", flush=True)
    report = verify(Pair(deploy_cfg, model_cfg, args.checkpoint, onnx_path), samples, args.repeat)
    report.update(model_config=args.model_config, deploy_config=args.deploy_config, checkpoint=args.checkpoint,
                  onnx=str(onnx_path))  # fmt: skip
    write_report(report, out)
    print((out / "report.md").read_text())
    print(f"report: {out / 'report.json'}, {out / 'report.md'}")
    return 0 if report["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
