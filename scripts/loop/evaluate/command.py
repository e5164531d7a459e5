"""Evaluate a checkpoint on a config's test set: a metrics table, a JSON file,
and bird's-eye-view pictures (points, ground truth, predictions) of a few frames;
for a segmentation model, mIoU and per-class IoU, and the points coloured by class.

``python -m scripts.loop.evaluate CONFIG CHECKPOINT [--frames N] [--work-dir DIR]``
writes ``metrics.json`` and ``bev_<frame>.png`` to
``$MMLAB_CHECKPOINTS_PATH/<config name>/eval/`` and logs the run to MLflow.
"""

from __future__ import annotations

import argparse
import copy
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from extensions.geometry import bev_corners
from mmlab_core.files import atomic_write
from mmlab_core.settings import current
from scripts.loop.common import quiet, tracking
from scripts.loop.common.checks import check_checkpoint, check_dataset, load_config
from scripts.loop.evaluate.seg_pictures import is_segmentor, render_seg_frames

SCORE_TO_DRAW = 0.3
DRAWN_RANGE = [0, -40, -3, 70, 40, 1]  # what a picture covers when the config has no point_cloud_range


def run_test(cfg, checkpoint: str, work_dir: Path, progress: bool = False) -> dict:
    from scripts.loop.common import loop_runner as runner

    cfg.work_dir = str(work_dir / "logs")
    cfg.load_from = checkpoint
    return runner.build(cfg, progress).test()


def render_bev(
    points: np.ndarray,
    gt: np.ndarray,
    pred: np.ndarray,
    scores: np.ndarray,
    title: str,
    path: Path,
    extent: tuple[float, float, float, float],
) -> None:
    """A bird's-eye view of ``extent`` (x min, x max, y min, y max; m) with the boxes drawn."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 8), dpi=100)
    keep = points[:: max(1, len(points) // 40000)]
    ax.scatter(keep[:, 0], keep[:, 1], s=0.5, c="0.35", alpha=0.5, linewidths=0)
    for box in bev_corners(gt):
        ax.add_patch(plt.Polygon(box, fill=False, edgecolor="tab:green", linewidth=1.5))
    for box, score in zip(bev_corners(pred), scores, strict=True):
        ax.add_patch(plt.Polygon(box, fill=False, edgecolor="tab:red", linewidth=1.0))
        ax.text(box[:, 0].mean(), box[:, 1].mean(), f"{score:.2f}", color="tab:red", fontsize=6)
    ax.set_xlim(*extent[:2])
    ax.set_ylim(*extent[2:])
    ax.set_aspect("equal")
    ax.set_title(f"{title}: ground truth (green), predictions >= {SCORE_TO_DRAW} (red)")
    ax.set_xlabel("x (m)")
    ax.set_ylabel("y (m)")
    fig.savefig(path, bbox_inches="tight")
    plt.close(fig)


def render_frames(cfg, checkpoint: str, out: Path, frames: int) -> list[Path]:
    from mmdet3d.apis import inference_detector, init_model
    from mmengine.registry import DATASETS, init_default_scope

    init_default_scope(cfg.get("default_scope", "mmdet3d"))
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    model = init_model(cfg, checkpoint, device="cpu")
    written = []
    x0, y0, _, x1, y1, _ = cfg.get("point_cloud_range", DRAWN_RANGE)  # draw what the model sees
    extent = (x0, x1, y0, y1)
    for index in range(min(frames, len(dataset))):
        info = dataset.get_data_info(index)
        lidar_path = info["lidar_points"]["lidar_path"]
        result, data = inference_detector(model, lidar_path)
        pred = result.pred_instances_3d
        keep = (pred.scores_3d >= SCORE_TO_DRAW).numpy()
        gt = info["eval_ann_info"]["gt_bboxes_3d"].tensor.numpy() if info.get("eval_ann_info") else np.zeros((0, 7))
        path = out / f"bev_{info.get('frame_id', index)}.png"
        points = data["inputs"]["points"].numpy()
        boxes = pred.bboxes_3d.tensor.numpy()[keep, :7]  # CenterPoint's boxes carry velocity after the yaw
        render_bev(points, gt, boxes, pred.scores_3d.numpy()[keep], Path(lidar_path).stem, path, extent)
        written.append(path)
    return written


@dataclass(frozen=True)
class EvalResult:
    """A finished evaluation: the metrics, where they and the pictures went, and the MLflow run."""

    metrics: dict[str, float]
    metrics_file: Path
    pictures: list[Path]
    run_id: str


def evaluate(
    config: str,
    checkpoint: str,
    work_dir: str | Path | None = None,
    frames: int = 3,
    cfg_options=(),
    progress: bool = False,
) -> EvalResult:
    """Score ``checkpoint`` on the config's test set, draw ``frames`` frames and log the run."""
    quiet.install()
    cfg = load_config(config, list(cfg_options))
    check_dataset(cfg, "test_dataloader")
    check_checkpoint(cfg, checkpoint, config)
    out = Path(work_dir or current().checkpoints / Path(config).stem / "eval")
    out.mkdir(parents=True, exist_ok=True)
    # the Runner and init_model change the config they are given: each gets its own copy, and the
    # config logged to MLflow stays as loaded
    metrics = run_test(copy.deepcopy(cfg), checkpoint, out, progress)
    atomic_write(out / "metrics.json", json.dumps(metrics, indent=2))
    draw = render_seg_frames if is_segmentor(cfg) else render_frames
    pictures = draw(copy.deepcopy(cfg), checkpoint, out, frames)
    # the metric logged the full table (per-class AP, or per-class IoU)
    headline = {k: v for k, v in metrics.items() if "mAP" in k or k in ("miou", "acc")} or metrics
    print(f"metrics: {out / 'metrics.json'} (" + ", ".join(f"{k} {v:.3f}" for k, v in headline.items()) + ")")
    print("pictures: " + ", ".join(str(p) for p in pictures))
    files = [out / "metrics.json", *pictures]
    run_id = tracking.log_run(cfg, config, "eval", metrics, files, checkpoint=checkpoint)
    print(f"tracked: MLflow run {run_id} at {tracking.tracking_uri()}")
    return EvalResult(metrics, out / "metrics.json", pictures, run_id)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("config")
    parser.add_argument("checkpoint")
    parser.add_argument("--frames", type=int, default=3, help="frames to draw")
    parser.add_argument("--work-dir", help="default: <checkpoints>/<config name>/eval")
    example = "e.g. test_dataloader.dataset.ann_file=lidar_infos_train.pkl"
    parser.add_argument("--cfg-options", nargs="+", default=[], metavar="KEY=VALUE", help=example)
    args = parser.parse_args(argv)
    evaluate(args.config, args.checkpoint, args.work_dir, args.frames, args.cfg_options)
    return 0
