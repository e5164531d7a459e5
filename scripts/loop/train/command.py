"""Train a model from a config, in one process or several.

``python -m scripts.loop.train CONFIG [--resume] [--nproc N] [--work-dir DIR]
[--cfg-options key=value ...]``. Checkpoints go to
``$MMLAB_CHECKPOINTS_PATH/<config name>/`` unless ``--work-dir`` says otherwise.
With ``--nproc N`` (N > 1) the command re-runs itself under torchrun on this
machine: gloo on CPU, nccl on GPU. Every run is tracked (see scripts/loop/common/tracking.py).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from mmlab_core.settings import current
from scripts.loop.common import quiet, tracking
from scripts.loop.common.checks import check_dataset, load_checkpoint, load_config


def torchrun_command(nproc: int, argv: list[str]) -> list[str]:
    """This command under torchrun, N processes on this machine."""
    return [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        f"--nproc-per-node={nproc}",
        "-m",
        "scripts.loop.train",
        *argv,
    ]


def _launch(nproc: int, argv: list[str]) -> int:
    env = dict(os.environ)
    # share the cores between the processes instead of oversubscribing them
    threads = str(max(1, (os.cpu_count() or 1) // nproc))
    env.setdefault("OMP_NUM_THREADS", threads)
    env.setdefault("MKL_NUM_THREADS", threads)  # mmengine warns and picks 1 when it is unset
    print(f"==> torchrun: {nproc} processes", flush=True)
    return subprocess.call(torchrun_command(nproc, argv), env=env)


def _without_nproc(argv: list[str]) -> list[str]:
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--nproc":
            skip = True
        elif not arg.startswith("--nproc="):
            out.append(arg)
    return out


def _check_start_checkpoint(cfg, resume: bool) -> None:
    """The checkpoint training will start from (``load_from``, else with ``--resume`` the work dir's latest)
    must load safely: a refused pickle is a paragraph before any process starts, not a runner traceback."""
    from mmengine.runner import find_latest_checkpoint

    checkpoint = cfg.get("load_from") or (find_latest_checkpoint(cfg.work_dir) if resume else None)
    if checkpoint:
        load_checkpoint(checkpoint)


@dataclass(frozen=True)
class TrainResult:
    """Where a training run went: its work dir, its last checkpoint and its MLflow run (rank 0 only)."""

    work_dir: Path
    checkpoint: Path | None
    run_id: str | None


def train(
    config: str, work_dir: str | Path | None = None, resume: bool = False, cfg_options=(), progress: bool = False
) -> TrainResult:
    """Train ``config`` in this process (one rank of torchrun when ``WORLD_SIZE`` says so); ``progress``
    shows a bar per epoch instead of mmengine's iteration lines."""
    return _run(_checked_config(config, work_dir, resume, cfg_options), config, resume, progress)


def _checked_config(config: str, work_dir: str | Path | None, resume: bool, cfg_options):
    """The loaded config with its work dir, once its data and start checkpoint are checked (``UsageError``)."""
    quiet.install()
    cfg = load_config(config, list(cfg_options))
    check_dataset(cfg)
    cfg.work_dir = str(work_dir or current().checkpoints / Path(config).stem)
    _check_start_checkpoint(cfg, resume)
    return cfg


def _run(cfg, config: str, resume: bool, progress: bool = False) -> TrainResult:
    from scripts.loop.common import loop_runner

    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        cfg.launcher = "pytorch"
    cfg.resume = resume
    cfg.visualizer.vis_backends = [*cfg.visualizer.get("vis_backends", []), tracking.backend_cfg(config, "train")]
    # named after this run, not the shared "visualizer": a later Runner in this process must not reuse it
    cfg.visualizer.pop("name", None)
    uri = tracking.tracking_uri()
    checkpoint = run_id = None
    with tracking.keep_environment():
        runner = loop_runner.build(cfg, progress)
        runner.train()
        if runner.rank == 0:
            final = Path(cfg.work_dir, "last_checkpoint")
            checkpoint = Path(final.read_text().strip()) if final.exists() else None
            run_id = tracking.log_artifacts_to_last_run([checkpoint] if checkpoint else [])
            print(f"checkpoints and logs: {cfg.work_dir}", flush=True)
            print(f"tracked: MLflow run {run_id} at {uri}", flush=True)
    return TrainResult(Path(cfg.work_dir), checkpoint, run_id)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("config")
    parser.add_argument("--resume", action="store_true", help="continue from the last checkpoint in the work dir")
    parser.add_argument("--nproc", type=int, default=1, help="processes on this machine (torchrun)")
    parser.add_argument("--work-dir")
    parser.add_argument("--cfg-options", nargs="+", default=[], metavar="KEY=VALUE")
    args = parser.parse_args(argv)
    cfg = _checked_config(args.config, args.work_dir, args.resume, args.cfg_options)
    if args.nproc > 1 and "LOCAL_RANK" not in os.environ:  # checked here before any process starts
        return _launch(args.nproc, _without_nproc(argv))
    _run(cfg, args.config, args.resume)
    return 0
