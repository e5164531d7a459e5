"""A reduced `nox -s demo`: the whole loop on a handful of generated frames."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import pytest

from mmlab_core.settings import REPO_ROOT
from tests.helpers.tracking import artifact_names, client, runs_by_name


def test_demo_runs_the_closed_loop(tmp_path):
    env = dict(os.environ, MMLAB_DATASET_PATH=str(tmp_path / "data"), MMLAB_CHECKPOINTS_PATH=str(tmp_path / "ckpt"))
    env.pop("MMLAB_TRACKING_PATH")  # the default: a local store in the checkpoints workspace
    cmd = [sys.executable, "-m", "scripts.loop.demo", "--train", "4", "--val", "2", "--epochs", "1", "--samples", "1"]
    result = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, env=env, timeout=900)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    work = tmp_path / "ckpt" / "demo"
    metrics = json.loads((work / "eval" / "metrics.json").read_text())
    # one epoch learns little (tests/loop/test_learning.py proves learning); the summary must report what eval wrote
    car_bev, car_3d = metrics["lidar/Car/BEV_AP40"], metrics["lidar/Car/3D_AP40"]
    assert f"Car BEV AP40 {car_bev:.1f}, Car 3D AP40 {car_3d:.1f}" in result.stdout
    report = json.loads((work / "deploy" / "report.json").read_text())
    assert report["passed"] and (work / "deploy" / "end2end.onnx").exists()
    assert len(list((work / "eval").glob("bev_*.png"))) == 2
    summary = result.stdout[result.stdout.index("==> demo summary") :]
    outputs = (work / "train" / "epoch_1.pth", work / "train" / "pointpillars_lidar-custom-cpu-near.py",
               work / "eval" / "metrics.json", work / "deploy" / "report.md")  # fmt: skip
    for path in outputs:
        assert path.exists(), path
        assert str(path) in summary

    # every step was tracked in the workspace's MLflow store
    store = tmp_path / "ckpt" / "mlflow"
    runs = runs_by_name(store)
    assert sorted(runs) == ["deploy", "eval", "train"]
    train, evaluation, deploy = runs["train"], runs["eval"], runs["deploy"]
    assert train.data.params["train_cfg.max_epochs"] == "1" and train.data.params["model.type"] == "VoxelNet"
    losses = client(store).get_metric_history(train.info.run_id, "loss")
    assert losses and all(math.isfinite(m.value) for m in losses)
    assert {"config.py", "epoch_1.pth"} <= artifact_names(store, train)
    assert evaluation.data.metrics["lidar/mAP_3D"] == pytest.approx(metrics["lidar/mAP_3D"])
    assert {"metrics.json", "bev_000004.png"} <= artifact_names(store, evaluation)
    assert deploy.data.metrics["max_abs_diff"] == pytest.approx(report["max_abs_diff"])
    assert {"end2end.onnx", "report.json", "report.md"} <= artifact_names(store, deploy)
    assert str(store) in summary
