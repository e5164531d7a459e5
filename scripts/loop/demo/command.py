"""The closed loop on generated data: generate -> convert -> train -> eval ->
deploy -> verify, then a summary with every output path.

``python -m scripts.loop.demo [--train N --val N --epochs E]``; outputs go to
``$MMLAB_DATASET_PATH/synthetic`` and ``$MMLAB_CHECKPOINTS_PATH/demo``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from mmlab_core.settings import current
from scripts.loop.common import tracking

# the CPU-sized PointPillars on a 46 x 46 m field: it learns the generated scenes within the demo's few
# minutes on 2 cores; the scenes place their objects inside that field (NEAR)
CONFIG = "configs/pointpillars_lidar-custom-cpu-near.py"
NEAR = (3.0, 44.0, 21.0)  # nearest, farthest, widest |y| of an object (m): inside x 0..46.08, |y| <= 23.04
DEPLOY = "configs/deploy/voxel-detection_onnxruntime_dynamic.py"


def _step(name: str, started: float) -> None:
    print(f"\n==> {name} ({time.monotonic() - started:.0f}s into the demo)", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--train", type=int, default=200, help="training frames to generate")
    parser.add_argument("--val", type=int, default=20, help="validation frames to generate")
    parser.add_argument("--epochs", type=int, default=12, help="passes over the training frames (batch 2)")
    parser.add_argument("--samples", type=int, default=3, help="validation samples for deploy parity")
    args = parser.parse_args(argv)
    from scripts.data.convert_lidar import convert
    from scripts.data.synth_scenes import generate
    from scripts.loop.deploy import command as deploy
    from scripts.loop.evaluate import command as evaluate
    from scripts.loop.train import command as train

    started = time.monotonic()
    data = current().datasets / "synthetic"
    work = current().checkpoints / "demo"
    _step(f"generate {args.train} + {args.val} frames into {data}", started)
    print(generate(data, args.train, args.val, seed=0, field=NEAR), flush=True)
    _step("convert to mmdet3d infos and the GT database", started)
    for name, (path, count) in convert(data).items():
        print(f"  {name}: {count} -> {path}", flush=True)
    _step(f"train {Path(CONFIG).stem} for {args.epochs} epochs", started)
    options = [
        f"train_cfg.max_epochs={args.epochs}",
        f"train_cfg.val_interval={args.epochs + 1}",
        f"train_cfg.val_begin={args.epochs + 1}",  # mmengine validates after the last epoch; the eval step does
        "default_hooks.logger.interval=20",  # in the log file; the terminal shows a bar per epoch
        "randomness.seed=0",  # the same run every time
        f"default_hooks.checkpoint.interval={args.epochs}",  # the demo keeps only the final checkpoint
        # the learning rate anneals over the last 40 % of the run, whatever its length
        f"param_scheduler.1.begin={min(round(args.epochs * 0.6), args.epochs - 1)}",
        f"param_scheduler.1.end={args.epochs}",
    ]
    trained = train.train(CONFIG, work / "train", cfg_options=options, progress=True)
    checkpoint = str(trained.checkpoint)
    _step("evaluate on the validation frames", started)
    metrics = evaluate.evaluate(CONFIG, checkpoint, work / "eval", progress=True).metrics
    _step("deploy to ONNX Runtime and verify", started)
    deployed = deploy.deploy(DEPLOY, CONFIG, checkpoint, samples=args.samples, repeat=5, work_dir=work / "deploy")
    report = deployed.report
    lat = report["latency"]
    print(
        "\n==> demo summary\n"
        f"  data:        {data}\n"
        f"  config:      {work / 'train' / Path(CONFIG).name}  (as trained; logs in {work / 'train'}/<time>/)\n"
        f"  checkpoint:  {checkpoint}\n"
        f"  metrics:     {work / 'eval' / 'metrics.json'}  (Car BEV AP40 {metrics.get('lidar/Car/BEV_AP40', 0.0):.1f}, "
        f"Car 3D AP40 {metrics.get('lidar/Car/3D_AP40', 0.0):.1f}, mAP_3D {metrics.get('lidar/mAP_3D', 0.0):.1f})\n"
        f"  pictures:    {work / 'eval'}/bev_*.png\n"
        f"  onnx model:  {deployed.onnx}\n"
        f"  deploy:      {deployed.out / 'report.md'} and report.json\n"
        f"               (raw max |diff| {report['max_abs_diff']:.2g}, "
        f"{report['boxes_matched']}/{report['boxes_reference']} boxes matched: "
        f"{'pass' if deployed.passed else 'FAIL'}; ONNX Runtime {lat['onnxruntime']['median_ms']} ms vs PyTorch "
        f"{lat['pytorch']['median_ms']} ms, {lat['speedup_median']}x)\n"
        f"  tracking:    {tracking.tracking_uri()}  (runs train, eval, deploy of experiment "
        f"{CONFIG.rsplit('/', 1)[-1][:-3]})\n"
        f"  wall time:   {time.monotonic() - started:.0f}s",
        flush=True,
    )
    return 0 if deployed.passed else 1
