"""Benchmarks recorded in docs/benchmarks.md. Each prints JSON with how it measured.

``python -m benchmarks latency [--frames N --repeat R]``
    PointPillars (configs/pointpillars_lidar-custom-3class.py) on generated
    frames: PyTorch (as exported) vs ONNX Runtime, same inputs, median/p90.
``python -m benchmarks deploy [--frames N --repeat R --checkpoint NAME=PATH --datasets DIR]``
    Every deploy runtime (PyTorch eager, ONNX Runtime, OpenVINO, INT8) x model (PointPillars,
    CenterPoint-pillar, RetinaNet-R18) in one run; writes its table into docs/benchmarks.md
    (``benchmarks.deploy``).
``python -m benchmarks train-iter [--frames N --config C --cfg-options K=V ...]``
    Seconds per training iteration (batch 2) over one epoch, first 2 skipped.
``python -m benchmarks infer-memory [--frames N]``
    Peak memory of ``scripts.loop.infer`` on generated bags of N and 4N clouds (it streams: the two
    should match), with frames/s and the output sizes (``benchmarks.infer``).
``python -m benchmarks infer-speed [--scenes N --points P --rounds R --runtimes ...]``
    ``infer`` end to end per runtime on 35k-point clouds (the demo's PointPillars, deployed), per-stage
    medians, and mmdet3d's ``inference_detector`` on the same frames in the same run (``benchmarks.infer_speed``).
``python -m benchmarks setup [--cold]``
    Wall time of ``nox -s setup``: warm (the stack is built), or cold (a new
    venv and an empty cache in a temporary folder: downloads and mmcv compile).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mmlab_core.cli import run
from mmlab_core.settings import REPO_ROOT, Settings, current

CONFIG = "configs/pointpillars_lidar-custom-3class.py"
DEPLOY = "configs/deploy/voxel-detection_onnxruntime_dynamic.py"


def machine() -> dict:
    info = dict(python=platform.python_version(), cpus=os.cpu_count(), machine=platform.machine())
    try:
        import torch

        info.update(torch=torch.__version__, torch_threads=torch.get_num_threads())
    except ImportError:
        pass
    return info


def _generated(root: Path, train: int, val: int) -> Settings:
    """Generated frames under ``root/synthetic``; the settings whose data root is ``root``."""
    from scripts.data.convert_lidar import convert
    from scripts.data.synth_scenes import generate

    generate(root / "synthetic", train=train, val=val, seed=0)
    convert(root / "synthetic")
    return current().with_(datasets=root)


def latency(frames: int, repeat: int) -> dict:
    """Raw forward of the exported graph, PyTorch vs ONNX Runtime, on ``frames`` generated frames."""
    from mmengine.registry import MODELS, init_default_scope
    from mmengine.runner.checkpoint import save_checkpoint

    from scripts.loop.common.checks import load_config
    from scripts.loop.deploy.command import validation_samples, verify
    from scripts.loop.deploy.export import export
    from scripts.loop.deploy.parity import Pair

    with tempfile.TemporaryDirectory() as tmp:
        settings = _generated(Path(tmp), train=1, val=frames)
        init_default_scope("mmdet3d")
        import extensions

        extensions.register(rewriters=True)

        model_cfg, deploy_cfg = load_config(CONFIG, settings=settings), load_config(DEPLOY)
        state = MODELS.build(model_cfg.model).state_dict()
        state["bbox_head.conv_cls.bias"].zero_()  # every frame decodes the full 50 boxes
        save_checkpoint(dict(state_dict=state, meta={}), f"{tmp}/model.pth")
        samples = validation_samples(model_cfg, frames)
        onnx = export(deploy_cfg, model_cfg, f"{tmp}/model.pth", samples[0], Path(tmp) / "out")
        report = verify(Pair(deploy_cfg, model_cfg, f"{tmp}/model.pth", onnx), samples, repeat)
    return dict(
        what="PointPillars raw forward (voxels in, head outputs out), PyTorch with mmdeploy rewrites vs ONNX Runtime",
        how=f"{frames} generated frames x {repeat} timed runs each (2 warm-up runs per frame), same inputs, CPU",
        latency=report["latency"],
        parity_max_abs_diff=report["max_abs_diff"],
    )


def train_iteration(frames: int, config: str = CONFIG, extra: list[str] | None = None) -> dict:
    """Median seconds per iteration of one epoch of training ``config`` (with ``extra`` cfg-options)."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = _generated(Path(tmp), train=frames, val=1)
        work = Path(tmp) / "work"
        options = [
            "train_cfg.max_epochs=1",
            "default_hooks.logger.interval=1",
            "val_cfg=None",
            "val_dataloader=None",
            "val_evaluator=None",
            *(extra or []),
        ]
        cmd = [sys.executable, "-m", "scripts.loop.train", config, "--work-dir", str(work), "--cfg-options", *options]
        # the generated data, and a throwaway MLflow store instead of the user's
        env = dict(os.environ, MMLAB_TRACKING_PATH=f"{tmp}/mlflow", **settings.config_env())
        subprocess.run(cmd, cwd=REPO_ROOT, check=True, capture_output=True, env=env)
        scalars = next(work.glob("*/vis_data/scalars.json")).read_text().splitlines()
        rows = [json.loads(line) for line in scalars if '"loss"' in line][2:]
    times, data_times = [r["time"] for r in rows], [r["data_time"] for r in rows]
    return dict(
        what=f"{config} training iteration (forward, backward, AdamW step), batch 2",
        options=extra or [],
        how=f"one epoch on {frames} generated frames, mmengine's per-iteration 'time' (data_time: loading and "
        "augmentation, part of it), first 2 iterations skipped",
        iterations=len(times),
        median_s=round(statistics.median(times), 3),
        p90_s=round(sorted(times)[int(0.9 * (len(times) - 1))], 3),
        data_median_s=round(statistics.median(data_times), 3),
    )


def setup_time(cold: bool) -> dict:
    """Wall time of ``nox -s setup``; cold uses a new venv and an empty cache."""
    env = dict(os.environ)
    with tempfile.TemporaryDirectory() as tmp:
        if cold:
            env.update(MMLAB_CACHE_DIR=f"{tmp}/cache", MMLAB_VENV=f"{tmp}/venv")
        started = time.monotonic()
        subprocess.run(["nox", "-s", "setup"], cwd=REPO_ROOT, check=True, env=env, capture_output=True)
        wall = time.monotonic() - started
    return dict(
        what="nox -s setup, " + ("cold: new venv, empty cache (downloads, mmcv compile)" if cold else "warm"),
        how="wall clock of the whole nox session",
        seconds=round(wall, 1),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="which", required=True)
    lat = sub.add_parser("latency")
    lat.add_argument("--frames", type=int, default=5)
    lat.add_argument("--repeat", type=int, default=10)
    it = sub.add_parser("train-iter")
    it.add_argument("--frames", type=int, default=24)
    it.add_argument("--config", default=CONFIG)
    it.add_argument("--cfg-options", nargs="+", default=[], metavar="KEY=VALUE", help="e.g. optim_wrapper.type=...")
    dep = sub.add_parser("deploy")
    dep.add_argument("--frames", type=int, default=3)
    dep.add_argument("--repeat", type=int, default=10)
    dep.add_argument(
        "--checkpoint",
        action="append",
        default=[],
        metavar="NAME=PATH",
        help="a trained checkpoint for a model (PointPillars=PATH): AP changes",
    )
    dep.add_argument("--datasets", type=Path, help="a dataset root to use instead of generated frames")
    dep.add_argument("--models", nargs="+", default=None, help="default: all")
    dep.add_argument("--doc", type=Path, default=REPO_ROOT / "docs" / "benchmarks.md")
    mem = sub.add_parser("infer-memory")
    mem.add_argument("--frames", type=int, default=500, help="N: the bags hold N and 4N clouds")
    speed = sub.add_parser("infer-speed")
    speed.add_argument("--scenes", type=int, default=5, help="distinct generated clouds")
    speed.add_argument("--points", type=int, default=35_000, help="points per cloud")
    speed.add_argument("--rounds", type=int, default=10, help="times the bag cycles through the clouds")
    speed.add_argument("--runtimes", nargs="+", default=["onnxruntime", "openvino", "pytorch"])
    setup = sub.add_parser("setup")
    setup.add_argument("--cold", action="store_true")
    args = parser.parse_args(argv)
    if args.which == "latency":
        result = latency(args.frames, args.repeat)
    elif args.which == "deploy":
        from benchmarks.deploy import MODELS, deploy_table

        checkpoints = dict(item.split("=", 1) for item in args.checkpoint)
        models = args.models or list(MODELS)
        result = deploy_table(args.frames, args.repeat, checkpoints, args.datasets, models, args.doc)
    elif args.which == "infer-memory":
        from benchmarks.infer import infer_memory

        result = infer_memory(args.frames)
    elif args.which == "infer-speed":
        from benchmarks.infer_speed import infer_speed

        result = infer_speed(args.scenes, args.points, args.rounds, tuple(args.runtimes))
    elif args.which == "train-iter":
        result = train_iteration(args.frames, args.config, args.cfg_options)
    else:
        result = setup_time(args.cold)
    print(json.dumps(dict(result, machine=machine(), date=time.strftime("%Y-%m-%d")), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
