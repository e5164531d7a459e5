"""Deploy a trained model: mmdeploy -> ONNX -> ONNX Runtime, OpenVINO (or TensorRT), then prove it.

``python -m scripts.loop.deploy DEPLOY_CFG MODEL_CFG CHECKPOINT [--samples N]``

On N validation samples it compares PyTorch and the deployed model twice: the
raw head outputs (PyTorch with mmdeploy's rewrites, i.e. the exported graph)
and the final boxes after post-processing (the original PyTorch model against
mmdeploy's backend model, matched by IoU and label). It times both runtimes,
writes ``report.json`` and ``report.md`` next to the model, and exits 1 when
parity misses its thresholds.

``--int8`` also quantizes the exported model (onnxruntime's static quantizer, calibrated on
``--calibration-frames`` training frames, or on the frames of ``--calibration INFO_PKL``), evaluates the
float32 and the INT8 deployed models on the validation set with the config's evaluator, and fails
(exit 1) when any AP falls by more than ``--max-ap-drop`` points. A TensorRT deploy config on a machine without
a CUDA GPU and the ``tensorrt`` package stops with a paragraph (exit 2).
"""

from __future__ import annotations

import argparse
import copy
from dataclasses import dataclass
from pathlib import Path

from extensions.io.intensity import META_KEY, recorded_range
from mmlab_core.settings import current
from scripts.loop.common import quiet, tracking
from scripts.loop.common.checks import (
    UsageError,
    check_checkpoint,
    check_dataset,
    check_pair,
    load_checkpoint,
    load_config,
)
from scripts.loop.deploy.export import (
    BACKENDS,
    backend_of,
    check_backend_package,
    check_exportable,
    export,
    unavailable,
)
from scripts.loop.deploy.int8 import MAX_AP_DROP, check_int8_backend, int8_model, verify_int8
from scripts.loop.deploy.latency import measure
from scripts.loop.deploy.parity import Pair, compare, summarise
from scripts.loop.deploy.quantize import CALIBRATION_FRAMES, calibration_samples
from scripts.loop.deploy.report import metrics, write_report


def verify(pair: Pair, samples: list[str], repeat: int) -> dict:
    """Parity (raw outputs and final boxes) and latency of ``pair`` on ``samples``: the report's figures."""
    per_sample = [compare(pair, sample) for sample in samples]
    return dict(
        backend=pair.backend,
        device=pair.device,
        samples=per_sample,
        **summarise(per_sample),
        latency=measure(pair, samples, repeat),
    )


def checked_inputs(deploy_path: str, model_path: str, checkpoint: str):
    """The deploy and model configs, once every input has been checked (``UsageError`` otherwise)."""
    if not Path(deploy_path).is_file():
        raise UsageError(f"the deploy config {deploy_path} does not exist; see configs/deploy/")
    deploy_cfg = load_config(deploy_path)
    model_cfg = load_config(model_path)
    check_pair(deploy_cfg, model_cfg, deploy_path, model_path)
    if backend_of(deploy_cfg) not in BACKENDS:
        raise UsageError(
            f"{deploy_path} deploys to {backend_of(deploy_cfg)}; this tool deploys to "
            f"{', '.join(BACKENDS)}. Pick a deploy config from configs/deploy/."
        )
    check_backend_package(backend_of(deploy_cfg), deploy_path)
    check_exportable(model_cfg, model_path)
    check_dataset(model_cfg, "test_dataloader")
    check_checkpoint(model_cfg, checkpoint, model_path)
    return deploy_cfg, model_cfg


def validation_samples(model_cfg, count: int) -> list[str]:
    """Input files (LiDAR scans or images) of the first ``count`` frames of the config's test set."""
    from mmengine.registry import DATASETS, init_default_scope

    init_default_scope(model_cfg.get("default_scope", "mmdet3d"))
    dataset = DATASETS.build(model_cfg.test_dataloader.dataset)
    infos = [dataset.get_data_info(i) for i in range(min(count, len(dataset)))]
    return [info["img_path"] if "img_path" in info else info["lidar_points"]["lidar_path"] for info in infos]


def model_files(model_path: Path) -> list[Path]:
    """The deployed model's files: OpenVINO's .xml has its weights in a .bin next to it."""
    weights = model_path.with_suffix(".bin")
    return [model_path, weights] if model_path.suffix == ".xml" and weights.exists() else [model_path]


@dataclass(frozen=True)
class DeployResult:
    """A finished deploy: the exported files, the report (``report.json``'s content) and the verdict."""

    out: Path
    model: Path
    onnx: Path
    report: dict  # the figures written to report.json (parity, latency, int8); its keys are that file's format
    passed: bool
    run_id: str


@dataclass(frozen=True)
class Int8Options:
    """``--int8``: calibration frames (an info file, else the training set) and the AP verdict."""

    calibration: str | None = None
    calibration_frames: int = CALIBRATION_FRAMES
    max_ap_drop: float = MAX_AP_DROP


def deploy(
    deploy_config: str,
    model_config: str,
    checkpoint: str,
    samples: int = 3,
    repeat: int = 10,
    work_dir: str | Path | None = None,
    int8: Int8Options | None = None,
) -> DeployResult:
    """Export ``checkpoint`` with ``deploy_config``, compare it with PyTorch on ``samples`` validation frames,
    time both, and (with ``int8``) quantize and judge the AP drop; writes report.json and report.md."""
    quiet.install()
    deploy_cfg, model_cfg = checked_inputs(deploy_config, model_config, checkpoint)
    logged_cfg = copy.deepcopy(model_cfg)  # mmdeploy's task processor changes the config it is given
    if int8:
        check_int8_backend(deploy_cfg, deploy_config)
        calibration = calibration_samples(model_cfg, int8.calibration, int8.calibration_frames)
    backend = backend_of(deploy_cfg)
    reason = unavailable(backend)
    if reason:
        raise UsageError(
            f"{deploy_config} deploys to {backend}, and {reason} on this machine, so nothing was exported. "
            "Run it where TensorRT runs, or use configs/deploy/*_onnxruntime_*.py or *_openvino_*.py here."
        )
    device = "cuda:0" if backend == "tensorrt" else "cpu"
    out = Path(work_dir or current().checkpoints / Path(model_config).stem / "deploy")
    inputs = validation_samples(model_cfg, samples)
    print(f"exporting {model_config} with {deploy_config} -> {out}", flush=True)
    model_path = export(deploy_cfg, model_cfg, checkpoint, inputs[0], out, device)
    print(f"comparing PyTorch and {backend} on {len(inputs)} validation samples", flush=True)
    pair = Pair(deploy_cfg, model_cfg, checkpoint, model_path, device)
    report = verify(pair, inputs, repeat)
    onnx = out / "end2end.onnx"
    report.update(model_config=model_config, deploy_config=deploy_config, checkpoint=checkpoint)
    report.update(model=str(model_path), onnx=str(onnx))
    report[META_KEY] = recorded_range(load_checkpoint(checkpoint))  # the training data's, for infer
    int8_files = []
    if int8:
        print(f"quantizing to INT8 on {len(calibration)} calibration frames; evaluating float32 and INT8", flush=True)
        int8_path = int8_model(deploy_cfg, pair, onnx, calibration)
        int8_pair = Pair(deploy_cfg, model_cfg, checkpoint, int8_path, device)
        verdict = verify_int8(pair, int8_pair, inputs, repeat, int8.max_ap_drop)
        report["int8"] = dict(model=str(int8_path), calibration=calibration, **verdict)
        int8_files = model_files(int8_path)
    write_report(report, out)
    print((out / "report.md").read_text())
    print(f"report: {out / 'report.json'}, {out / 'report.md'}")
    reports = [out / "report.json", out / "report.md"]
    files = list(dict.fromkeys([onnx, *model_files(model_path), *int8_files, *reports]))
    tags = dict(deploy_config=deploy_config, checkpoint=checkpoint)
    run_id = tracking.log_run(logged_cfg, model_config, "deploy", metrics(report), files, **tags)
    print(f"tracked: MLflow run {run_id} at {tracking.tracking_uri()}")
    passed = report["passed"] and report.get("int8", {}).get("passed", True)
    return DeployResult(out, Path(model_path), onnx, report, passed, run_id)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("deploy_config")
    parser.add_argument("model_config")
    parser.add_argument("checkpoint")
    parser.add_argument("--samples", type=int, default=3, help="validation samples to compare and time")
    parser.add_argument("--repeat", type=int, default=10, help="timed runs per sample and runtime")
    parser.add_argument("--work-dir", help="default: <checkpoints>/<config name>/deploy")
    parser.add_argument("--int8", action="store_true", help="also quantize to INT8 and report its AP drop")
    parser.add_argument("--calibration", metavar="INFO_PKL", help="INT8 calibration frames (default: training set)")
    parser.add_argument("--calibration-frames", type=int, default=CALIBRATION_FRAMES)
    parser.add_argument("--max-ap-drop", type=float, default=MAX_AP_DROP, help="INT8 verdict, in AP points")
    args = parser.parse_args(argv)
    int8 = Int8Options(args.calibration, args.calibration_frames, args.max_ap_drop) if args.int8 else None
    paths = (args.deploy_config, args.model_config, args.checkpoint)
    result = deploy(*paths, samples=args.samples, repeat=args.repeat, work_dir=args.work_dir, int8=int8)
    return 0 if result.passed else 1
