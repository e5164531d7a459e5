"""Pre-label unlabelled LiDAR frames (or a bag's clouds) with a trained model, for annotators.

``python -m scripts.loop.autolabel MODEL FRAMES OUT [--score-thr 0.5] [--format custom|scalabel|cvat]``

MODEL as for ``nox -s infer``. ``custom`` makes OUT a dataset ready for ``nox -s data -- custom OUT``
(frames in the val split); every format records the model, the checkpoint's sha256 and each box's score.
OUT is written whole or not at all.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

from scripts.cli import run
from scripts.loop import quiet
from scripts.loop.autolabel.formats import FORMATS, PreLabels
from scripts.loop.infer import sources
from scripts.loop.infer.model import load_detector
from scripts.loop.infer.records import objects
from scripts.loop.infer.runner import frames_of, staged


def sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def autolabel(
    detector, spec, frames_path: Path, out: Path, fmt: str = "custom", score_thr: float = 0.5, topic: str | None = None
) -> Path:
    """Write ``fmt`` pre-labels of every frame of ``frames_path`` into ``out``; returns the main file."""
    from tqdm import tqdm

    kind = sources.kind_of(frames_path)
    frames, total, reader = frames_of(frames_path, kind, topic, detector.dims, sources.typestore_for(kind))
    provenance = dict(
        model=spec.config,
        runtime=spec.runtime,
        checkpoint=spec.checkpoint,
        checkpoint_sha256=sha256(spec.checkpoint),
        score_thr=score_thr,
    )
    try:
        with staged(out) as stage:
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
    parser.add_argument("--format", choices=FORMATS, default="custom")
    parser.add_argument("--topic", help="a bag's PointCloud2 topic (default: every cloud topic)")
    args = parser.parse_args(argv)
    quiet.install()
    spec, _, detector = load_detector(args.model, args.checkpoint, args.runtime)
    written = autolabel(detector, spec, args.frames, args.out, args.format, args.score_thr, args.topic)
    print(f"pre-labels ({args.format}, score >= {args.score_thr}, unreviewed): {written}")
    if args.format == "custom":
        print(f"next: review {args.out / 'labels'}, then nox -s data -- custom {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
