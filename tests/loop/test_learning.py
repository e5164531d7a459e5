"""Proof of learning: the CPU PointPillars overfits four generated frames.

Trains ``configs/pointpillars_lidar-custom-cpu.py`` through ``nox -s train``'s code path (generator ->
label files -> converter -> dataset -> assigner), evaluates the same frames through ``nox -s eval``'s
code path (LidarMetric), and checks the predicted headings. A convention that breaks anywhere on that
path (box origin, yaw sign or period, class order, anchor height) keeps Car AP near 0 or the yaw wrong.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from mmlab_core.settings import current
from tests.helpers.inprocess import run_main
from tests.helpers.learned import LEARNED_CONFIG as CONFIG

pytestmark = pytest.mark.slow
ON_TRAINING_FRAMES = "test_dataloader.dataset.ann_file=lidar_infos_train.pkl"


def _yaw_errors(checkpoint: str, datasets) -> tuple[list[float], int]:
    """|predicted - true| yaw, modulo pi, of each ground-truth car matched by a confident box."""
    from mmdet3d.apis import inference_detector, init_model

    from extensions.evaluation.lidar_metric import box_overlaps
    from extensions.geometry import centre_to_bottom
    from extensions.io.labels import read_labels
    from scripts.loop.common.checks import load_config

    root = datasets / "synthetic"
    cfg = load_config(CONFIG, settings=current().with_(datasets=datasets))
    model = init_model(cfg, checkpoint, device="cpu")
    car = model.dataset_meta["classes"].index("Car")
    errors, cars = [], 0
    for frame_id in (root / "splits" / "train.txt").read_text().split():
        labels = read_labels(root / "labels" / f"{frame_id}.txt")
        gt = centre_to_bottom(labels.boxes[[name == "Car" for name in labels.names]])
        cars += len(gt)
        pred = inference_detector(model, str(root / "points" / f"{frame_id}.bin"))[0].pred_instances_3d
        keep = ((pred.labels_3d == car) & (pred.scores_3d >= 0.3)).numpy()
        boxes = pred.bboxes_3d.tensor.numpy()[keep, :7]
        iou = box_overlaps(gt, boxes, "bev")
        for target in range(len(gt)):
            if iou.shape[1] and iou[target].max() >= 0.5:
                diff = boxes[iou[target].argmax(), 6] - gt[target, 6]
                errors.append(float(abs((diff + np.pi / 2) % np.pi - np.pi / 2)))
    return errors, cars


def test_cpu_pointpillars_overfits_four_frames(learned, datasets, tmp_path, monkeypatch, capsys):
    """The ``learned`` fixture trains (tests/loop/conftest.py); this evaluates it on the frames it saw, through
    ``nox -s eval``'s main in this process."""
    from scripts.loop.evaluate.command import main as evaluate

    env = {**os.environ, **current().with_(datasets=datasets).config_env()}
    checkpoint = learned
    args = [CONFIG, checkpoint, "--work-dir", tmp_path / "eval", "--frames", "1", "--cfg-options", ON_TRAINING_FRAMES]
    evaluated = run_main(evaluate, args, env, monkeypatch, capsys)
    assert evaluated.returncode == 0, evaluated.stderr[-3000:]

    metrics = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert metrics["lidar/Car/BEV_AP40"] >= 90, metrics
    assert metrics["lidar/Car/3D_AP40"] >= 70, metrics
    errors, cars = _yaw_errors(checkpoint, datasets)
    assert len(errors) >= 0.9 * cars, f"{len(errors)} of {cars} cars found with a box of score >= 0.3"
    assert np.median(errors) < 0.1 and max(errors) < 0.35, np.round(errors, 2)
