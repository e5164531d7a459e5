"""The GPU check: CUDA against the CPU for every mmcv op and spconv, the demo's models trained and evaluated on
the GPU (float32 and mixed precision), deploy with box parity, throughput; one report.

``python -m scripts.loop.gpu_check [--out DIR] [--budget S] [--only STAGE ...]`` on a CUDA machine writes
``report.json`` and ``report.md`` to ``--out`` (default ``$MMLAB_CHECKPOINTS_PATH/gpu-check``, and also to
``$OUT`` when that is set). Each stage has its own budget and fails or skips alone. ``--device cpu`` runs the
same checks CPU against CPU, to test the check itself. ``--bundle DIR [--download] [--dry-run]`` makes (or
lists) what a lent GPU machine without network needs; ``bootstrap.sh`` runs the check there.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from mmlab_core.errors import MmlabError
from mmlab_core.settings import current
from scripts.loop.gpu_check import bundle, report
from scripts.loop.gpu_check.stages import StageResult, run_stages
from scripts.loop.gpu_check.suite import STAGES, Options, after_stage, build

TOTAL_BUDGET_S = 480  # the 8 minutes on one GPU


class NoCudaError(MmlabError):
    """The check needs a CUDA GPU that torch can use."""


@dataclass(frozen=True)
class GpuCheckResult:
    """A finished check: where the reports went, the verdict, and every stage's result."""

    out: Path
    verdict: str
    stages: list[StageResult]
    report: dict


def _device(requested: str) -> str:
    import torch

    if requested == "cpu":
        return "cpu"
    if not torch.cuda.is_available():
        built = f"built with CUDA {torch.version.cuda}" if torch.version.cuda else "a CPU-only build"
        raise NoCudaError(
            f"this machine has no CUDA GPU that torch can use (torch {torch.__version__}, {built}), so the GPU "
            "check ran nothing and wrote no report; no GPU result exists from this run. Run it on a machine with "
            "an NVIDIA GPU and a CUDA build of torch, or on a lent GPU machine through "
            'scripts/loop/gpu_check/bootstrap.sh (README, "GPU check"). `--device cpu` runs the same checks '
            "CPU against CPU, which tests the check itself and measures nothing about a GPU."
        )
    return "cuda:0"


def machine(device: str) -> report.Machine:
    import torch

    name = torch.cuda.get_device_name(0) if device.startswith("cuda") else platform.processor() or "CPU"
    return report.Machine(
        device,
        name,
        torch.__version__,
        torch.version.cuda,
        platform.python_version(),
        f"{'cuda' if device.startswith('cuda') else 'cpu'} against cpu",
    )


def gpu_check(
    out: Path | None = None,
    device: str = "cuda",
    options: Options | None = None,
    only: tuple[str, ...] = (),
    budget_s: float = TOTAL_BUDGET_S,
    note: str = "",
) -> GpuCheckResult:
    """Run the stages (all, or ``only`` those) within ``budget_s`` and write the report; ``NoCudaError`` on a
    machine without CUDA unless ``device`` is 'cpu'."""
    target = _device(device)
    out = Path(out or current().checkpoints / "gpu-check")
    stages = [s for s in build(target, out, options or Options()) if not only or s.name in only]
    started = time.monotonic()
    results = run_stages(stages, budget_s, after=after_stage)
    info = machine(target)
    data = report.write(out, info, results, time.monotonic() - started, note)
    copy_to = os.environ.get("OUT")  # the device tool's folder of files to bring back, where it exists
    if copy_to and Path(copy_to).is_dir() and Path(copy_to).resolve() != out.resolve():
        for name in ("report.json", "report.md"):
            shutil.copy2(out / name, Path(copy_to) / name)
    print(f"report: {out / 'report.md'} and report.json ({data['verdict']})", flush=True)
    return GpuCheckResult(out, data["verdict"], results, data)


def make_bundle(folder: Path, download: bool, dry_run: bool) -> bundle.Bundle:
    """The bundle for a GPU machine without network; a bundle over the limit is a paragraph (exit 2)."""
    if download and not dry_run:
        bundle.download(folder)
    made = bundle.make(folder, dry_run)
    print(bundle.manifest(made), end="", flush=True)
    if not made.fits:
        raise bundle.BundleError(
            f"the bundle in {folder} and the repository come to {made.total / 2**20:.1f} MiB, over the "
            f"{bundle.LIMIT // 2**20} MiB that a call may carry; drop wheels from {bundle.WHEELS_TXT} or files from "
            "the forks (bundle.py: DROP_PARTS, DROP_FILES) and make it again."
        )
    return made


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", choices=("cuda", "cpu"), default="cuda", help="cpu: CPU against CPU (dry run)")
    parser.add_argument("--out", type=Path, help="default: $MMLAB_CHECKPOINTS_PATH/gpu-check")
    parser.add_argument("--budget", type=float, default=TOTAL_BUDGET_S, help="seconds for all stages together")
    parser.add_argument("--only", nargs="+", choices=STAGES, default=[], help="run these stages only")
    parser.add_argument("--epochs", type=int, default=Options.epochs, help="PointPillars epochs (the demo's 12)")
    parser.add_argument("--centerpoint-epochs", type=int, default=Options.centerpoint_epochs)
    parser.add_argument("--train-frames", type=int, default=Options.train_frames)
    parser.add_argument("--val-frames", type=int, default=Options.val_frames)
    parser.add_argument("--ap-margin", type=float, default=Options.ap_margin, help="AP points below the CPU demo's")
    parser.add_argument("--setup-note", default="", help="recorded in the report (bootstrap.sh's build time)")
    parser.add_argument("--bundle", type=Path, metavar="DIR", help="make the bundle for a GPU machine instead")
    parser.add_argument("--download", action="store_true", help="with --bundle: fetch the missing wheels (pip)")
    parser.add_argument("--dry-run", action="store_true", help="with --bundle: list what would travel, write nothing")
    args = parser.parse_args(argv)
    if args.bundle:
        make_bundle(args.bundle, args.download, args.dry_run)
        return 0
    opts = Options(args.epochs, args.centerpoint_epochs, args.train_frames, args.val_frames, args.ap_margin)
    result = gpu_check(args.out, args.device, opts, tuple(args.only), args.budget, args.setup_note)
    return 0 if result.verdict == report.PASS else 1
