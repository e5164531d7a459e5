"""The model stages: generate the demo's scenes, train the demo's PointPillars and CenterPoint-voxel on the
device (float32, and mixed precision through mmengine's AmpOptimWrapper), evaluate, and read the throughput.

Training and evaluation are ``scripts.loop.train.command.train`` and ``scripts.loop.evaluate.command.evaluate``
with ``--cfg-options``-style overrides; nothing here re-implements them.
"""

from __future__ import annotations

import re
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from scripts.loop.demo.command import CONFIG as POINTPILLARS
from scripts.loop.demo.command import NEAR  # the demo's config and the field of scenes it sees
from scripts.loop.gpu_check.stages import FAIL, PASS, Deadline, Outcome

CENTERPOINT = "configs/centerpoint_voxel_lidar-custom-cpu.py"
CPU_DEMO_AP = {"lidar/Car/BEV_AP40": 73.5, "lidar/Car/3D_AP40": 72.0}  # README: the CPU demo, 1,200 iterations
PRECISIONS = {"fp32": "OptimWrapper", "amp": "AmpOptimWrapper"}


@dataclass(frozen=True)
class ModelRun:
    """One model at one precision: its config, epochs and the AP it must reach (None: recorded only)."""

    key: str
    config: str
    precision: str
    epochs: int
    reference: dict[str, float] | None


def generate_data(root: Path, train: int, val: int) -> Outcome:
    """The demo's scenes and their infos under ``root`` (the configs' ``$MMLAB_DATASET_PATH/synthetic``)."""
    from scripts.data.convert_lidar import convert
    from scripts.data.synth_scenes import generate

    started = time.monotonic()
    generate(root, train, val, seed=0, field=NEAR)
    written = {name: count for name, (_, count) in convert(root).items()}
    return Outcome(PASS, {"frames": written, "seconds": round(time.monotonic() - started, 1), "root": str(root)})


def options(run: ModelRun, device: str) -> list[str]:
    """The overrides of one run: its epochs, its optimizer wrapper and the demo's schedule."""
    epochs = run.epochs
    wrapper = "BFloat16OptimWrapper" if run.precision == "amp" and device == "cpu" else PRECISIONS[run.precision]
    opts = [
        f"train_cfg.max_epochs={epochs}",
        f"train_cfg.val_interval={epochs + 1}",
        f"default_hooks.checkpoint.interval={epochs}",
        "default_hooks.logger.interval=10",
        "randomness.seed=0",
        # mmengine's AmpOptimWrapper needs CUDA: the CPU dry run's mixed precision is the CPU configs' bfloat16
        f"optim_wrapper.type={wrapper}",
    ]
    if run.config == POINTPILLARS:  # the demo's cosine over the last 40 %
        opts += [f"param_scheduler.1.begin={min(round(epochs * 0.6), epochs - 1)}", f"param_scheduler.1.end={epochs}"]
    return opts


def iteration_seconds(work_dir: Path) -> list[float]:
    """Seconds per iteration from mmengine's log lines (``time: 0.0412``) in the run's log files."""
    found = []
    for log in sorted(work_dir.glob("*/*.log")):
        found += [float(t) for t in re.findall(r"\btime: ([0-9.]+)", log.read_text(errors="replace"))]
    return found


def use_spconv_for(device: str) -> str:
    """On CUDA without a CUDA spconv, let mmdet3d import spconv_triton as ``spconv``; returns the module used."""
    from scripts.loop.gpu_check.spconv_check import backend_for

    backend = backend_for(device)
    if backend == "spconv_triton" and "mmdet3d.models" not in sys.modules:
        import spconv_triton
        import spconv_triton.pytorch

        sys.modules["spconv"], sys.modules["spconv.pytorch"] = spconv_triton, spconv_triton.pytorch
    return backend


def sparse_conv_in_use() -> str:
    """What mmdet3d's sparse layers actually run on: spconv 2 (and which module), or mmcv's own sparse ops,
    its fallback when ``import spconv`` gives no spconv >= 2 (spconv_triton reports version 1.0.0)."""
    from mmdet3d.models.layers.spconv import IS_SPCONV2_AVAILABLE

    if IS_SPCONV2_AVAILABLE:
        return f"{sys.modules['spconv'].__name__} {getattr(sys.modules['spconv'], '__version__', '?')}"
    return "mmcv.ops sparse convolution (mmdet3d's fallback without spconv 2)"


def train_and_evaluate(run: ModelRun, device: str, out: Path, margin: float, deadline: Deadline) -> Outcome:
    """Train ``run`` on ``device``, evaluate it, and judge its Car AP against the CPU demo's."""
    from scripts.loop.evaluate.command import evaluate
    from scripts.loop.train.command import train

    figures: dict = {"config": run.config, "precision": run.precision, "epochs": run.epochs, "device": device}
    use_spconv_for(device)  # before the first model stage imports mmdet3d.models
    started = time.monotonic()
    trained = train(run.config, out / run.key / "train", cfg_options=options(run, device))
    figures["train_seconds"] = round(time.monotonic() - started, 1)
    if run.config == CENTERPOINT:
        figures["sparse_conv"] = sparse_conv_in_use()
    per_iter = iteration_seconds(out / run.key / "train")
    if per_iter:
        figures["train_iterations_per_s"] = round(1 / statistics.median(per_iter), 2)
        figures["train_s_per_iteration_median"] = round(statistics.median(per_iter), 4)
    figures["checkpoint"] = str(trained.checkpoint)
    if trained.checkpoint is None:
        return Outcome(FAIL, figures, "training wrote no checkpoint")
    started = time.monotonic()
    metrics = evaluate(run.config, str(trained.checkpoint), out / run.key / "eval", frames=0).metrics
    figures["eval_seconds"] = round(time.monotonic() - started, 1)
    figures["ap"] = {k: round(v, 2) for k, v in metrics.items() if k in CPU_DEMO_AP or "mAP" in k}
    if run.reference is None:
        figures["reference"] = "none recorded on the CPU: AP recorded, verdict on training and evaluating"
        return Outcome(PASS, figures)
    figures["reference"] = {k: v for k, v in run.reference.items()}
    figures["margin"] = margin
    short = [
        f"{k} {metrics.get(k, 0.0):.1f} < {v - margin:.1f}"
        for k, v in run.reference.items()
        if metrics.get(k, 0.0) < v - margin
    ]
    if short:
        return Outcome(FAIL, figures, f"AP below the CPU demo's less {margin} points: " + ", ".join(short))
    return Outcome(PASS, figures)


def inference_fps(config: str, checkpoint: str, device: str, frames: int, deadline: Deadline) -> Outcome:
    """Frames per second of the PyTorch model on ``device`` over the first validation frames (after a warm-up)."""
    import torch
    from mmdet3d.apis import inference_detector, init_model
    from mmengine.registry import DATASETS, init_default_scope

    from scripts.loop.common.checks import load_config

    cfg = load_config(config)
    init_default_scope(cfg.get("default_scope", "mmdet3d"))
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    paths = [dataset.get_data_info(i)["lidar_points"]["lidar_path"] for i in range(min(frames, len(dataset)))]
    model = init_model(cfg, checkpoint, device=device)
    inference_detector(model, paths[0])
    times = []
    for path in paths:
        if deadline.left() < 2:
            break
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        started = time.perf_counter()
        inference_detector(model, path)
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        times.append(time.perf_counter() - started)
    median = statistics.median(times)
    figures = {
        "config": config,
        "device": device,
        "frames": len(times),
        "median_ms": round(median * 1000, 2),
        "frames_per_s": round(1 / median, 1),
        "includes": "loading the file, the pipeline, forward, NMS",
    }
    return Outcome(PASS, figures)
