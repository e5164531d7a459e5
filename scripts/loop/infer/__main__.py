"""Detect objects in what the car recorded: a ROS 1/ROS 2 bag or a folder of frames -> a detections bag,
a JSON-lines file and a rerun recording.

``python -m scripts.loop.infer MODEL INPUT [--out DIR] [--topic /points ...] [--frame base_link [--merge 0.05]]
[--score-thr 0.3] [--runtime R] [--realtime]``

MODEL is the folder ``nox -s deploy`` wrote (ONNX Runtime by default) or a config with ``--checkpoint``
(PyTorch). A segmentation model (a config with --checkpoint; PyTorch only) writes each cloud with a ``labels``
field instead of boxes. Throughput and per-stage latency are printed, written to ``OUT/stats.json`` and logged
to MLflow.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mmlab_core.cli import run
from mmlab_core.settings import current
from scripts.loop.common import quiet, tracking
from scripts.loop.infer import realtime
from scripts.loop.infer.frame import RUNTIMES
from scripts.loop.infer.model import load_model
from scripts.loop.infer.pipeline import infer
from scripts.loop.infer.sources import reading_of, reading_options


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("model", help="a deployed model folder, or a config (.py) with --checkpoint")
    parser.add_argument("input", type=Path, help="a ROS 1 .bag, a ROS 2 bag folder, or a folder of .bin/.pcd frames")
    parser.add_argument("--checkpoint", help="weights for a config MODEL (or instead of the deployed model's)")
    parser.add_argument("--out", type=Path, help="default: <checkpoints>/infer/<input name>")
    reading_options(parser)
    parser.add_argument("--score-thr", type=float, default=0.3)
    parser.add_argument(
        "--realtime",
        action="store_true",
        help="replay the input at its recorded rate (bag stamps; frame folders at 10 Hz) and report the frames "
        "whose processing ended after the next frame arrived",
    )
    parser.add_argument(
        "--runtime",
        choices=RUNTIMES,
        help="default: onnxruntime for a deployed folder, pytorch for a config",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    quiet.install()
    spec, cfg, detector = load_model(args.model, args.checkpoint, args.runtime)
    out = args.out or current().checkpoints / "infer" / args.input.name.removesuffix(".bag")
    reading = reading_of(args)
    stats = infer(detector, args.input, out, reading, args.score_thr, realtime=args.realtime)
    stages = ", ".join(f"{k} {v['median_ms']:.1f} ms" for k, v in stats["latency"].items())
    print(
        f"{stats['frames']} frames in {stats['wall_s']:.1f} s: {stats['frames_per_s']:.2f} frames/s "
        f"({spec.runtime}); median per frame: {stages}; peak memory {stats['peak_rss_mb']:.0f} MB"
    )
    if args.realtime:
        print(realtime.line(stats))
    print(
        f"wrote {out}: {Path(stats['output_bag']).name} (bag), detections.jsonl, recording.rrd "
        f"(`rerun {out / 'recording.rrd'}`), stats.json"
    )
    metrics = dict(
        frames=stats["frames"],
        frames_per_s=stats["frames_per_s"],
        peak_rss_mb=stats["peak_rss_mb"],
        **{f"{k}_median_ms": v["median_ms"] for k, v in stats["latency"].items()},
    )
    if args.realtime:
        metrics.update(realtime_missed=stats["realtime"]["missed"])
    run_id = tracking.log_run(
        cfg,
        spec.config,
        "infer",
        metrics,
        [out / "stats.json"],
        input=str(args.input),
        checkpoint=spec.checkpoint,
        runtime=spec.runtime,
    )
    print(f"tracked: MLflow run {run_id} at {tracking.tracking_uri()}")
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
