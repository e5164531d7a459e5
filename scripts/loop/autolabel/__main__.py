"""Pre-label unlabelled LiDAR frames (or a bag's clouds), or camera images, with a trained model, for annotators.

``python -m scripts.loop.autolabel MODEL FRAMES OUT [--score-thr 0.5] [--format F]``

LiDAR: MODEL as for ``nox -s infer``; F is custom (default: OUT is a dataset ready for
``nox -s data -- custom OUT``, frames in the val split), scalabel or cvat. Camera: MODEL is a 2D detector's
config (mmdet, e.g. configs/retinanet_r18_camera-synth.py) with ``--checkpoint``, FRAMES a folder of images;
F is coco (default), scalabel or cvat (scripts/loop/autolabel/camera.py). Every format records the model,
the checkpoint's sha256 and each box's score. OUT is written whole or not at all.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mmlab_core.cli import run
from mmlab_core.files import atomic_dir, sha256_of
from scripts.loop.autolabel import camera
from scripts.loop.autolabel.formats import FORMATS, PreLabels
from scripts.loop.common import quiet
from scripts.loop.common.checks import UsageError, check_checkpoint, load_config
from scripts.loop.infer import sources
from scripts.loop.infer.model import load_detector
from scripts.loop.infer.pipeline import frames_of
from scripts.loop.infer.records import objects


def autolabel(
    detector,
    spec,
    frames_path: Path,
    out: Path,
    fmt: str = "custom",
    score_thr: float = 0.5,
    reading: sources.Reading | None = None,
) -> Path:
    """Write ``fmt`` pre-labels of every frame of ``frames_path`` into ``out``; returns the main file."""
    from tqdm import tqdm

    kind = sources.kind_of(frames_path)
    reading = reading or sources.Reading()
    frames, total, reader = frames_of(frames_path, kind, reading, detector.dims, detector.intensity_range)
    provenance = dict(
        model=spec.config,
        runtime=spec.runtime,
        checkpoint=spec.checkpoint,
        checkpoint_sha256=sha256_of(spec.checkpoint),
        score_thr=score_thr,
    )
    try:
        with atomic_dir(out) as stage:
            labels = PreLabels(stage, fmt, provenance)
            for frame in tqdm(frames, total=total, unit="frame", desc=f"autolabel {frames_path.name}", file=sys.stderr):
                labels.add(
                    frame.name, frame.points, objects(detector.detect(frame.points, None, score_thr), detector.classes)
                )
            written = labels.close()
    finally:
        if reader is not None:
            reader.close()
    return out / written.relative_to(stage)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("model", help="a deployed model folder, or a config (.py) with --checkpoint")
    parser.add_argument("frames", type=Path, help="a folder of .bin/.pcd frames (or points/ inside), or a bag")
    parser.add_argument("out", type=Path)
    parser.add_argument("--checkpoint")
    parser.add_argument("--runtime", choices=("onnxruntime", "openvino", "pytorch"))
    parser.add_argument("--score-thr", type=float, default=0.5)
    parser.add_argument("--format", choices=sorted({*FORMATS, *camera.CAMERA_FORMATS}), help="default: custom or coco")
    sources.reading_options(parser)
    args = parser.parse_args(argv)
    quiet.install()
    if args.model.endswith(".py") and camera.is_camera_config(load_config(args.model)):
        return _camera(args)
    fmt = args.format or "custom"
    if fmt not in FORMATS:
        raise UsageError(f"--format {fmt} is for a 2D detector's images; LiDAR pre-labels are {', '.join(FORMATS)}")
    spec, _, detector = load_detector(args.model, args.checkpoint, args.runtime)
    written = autolabel(detector, spec, args.frames, args.out, fmt, args.score_thr, sources.reading_of(args))
    print(f"pre-labels ({fmt}, score >= {args.score_thr}, unreviewed): {written}")
    if fmt == "custom":
        print(f"next: review {args.out / 'labels'}, then nox -s data -- custom {args.out}")
    return 0


def _camera(args: argparse.Namespace) -> int:
    """The 2D mode: an mmdet config and its checkpoint over a folder of images."""
    fmt = args.format or "coco"
    if fmt not in camera.CAMERA_FORMATS:
        raise UsageError(
            f"{args.model} is a 2D detector, and --format {fmt} is the LiDAR layout: use one of "
            f"{', '.join(camera.CAMERA_FORMATS)}"
        )
    if not args.checkpoint or args.runtime not in (None, "pytorch"):
        raise UsageError(f"{args.model} is a 2D detector's config: pass its weights with --checkpoint (PyTorch runs)")
    cfg = load_config(args.model)
    check_checkpoint(cfg, args.checkpoint, args.model)
    provenance = dict(
        model=args.model,
        runtime="pytorch",
        checkpoint=args.checkpoint,
        checkpoint_sha256=sha256_of(args.checkpoint),
        score_thr=args.score_thr,
    )
    written = camera.autolabel_images(
        cfg, args.model, args.checkpoint, args.frames, args.out, fmt, args.score_thr, provenance
    )
    print(f"pre-labels ({fmt}, score >= {args.score_thr}, unreviewed): {written}")
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
