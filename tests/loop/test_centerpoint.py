"""CenterPoint (pillar and voxel) on the custom LiDAR format: train, evaluate with LidarMetric, and resume
after SIGKILL, through the same CLIs as PointPillars (configs/centerpoint_*_lidar-custom-cpu.py)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from mmlab_core.settings import REPO_ROOT
from tests.helpers.inprocess import run_main
from tests.loop.test_train_cli import _wait_for

pytestmark = pytest.mark.slow
PILLAR = "configs/centerpoint_pillar_lidar-custom-cpu.py"
VOXEL = "configs/centerpoint_voxel_lidar-custom-cpu.py"


def _env(datasets, tmp_path) -> dict:
    return dict(os.environ, MMLAB_DATASET_PATH=str(datasets), MMLAB_CHECKPOINTS_PATH=str(tmp_path / "ckpt"),
                MMLAB_TRACKING_PATH=str(tmp_path / "mlflow"))  # fmt: skip


# voxel: spconv training on the CPU (patches/spconv/return-stream-0-without-cuda-*, whose own test is
# tests/patches/test_spconv_cpu_backward.py); kill and resume are the same code as the pillar model's
@pytest.mark.parametrize("config", [PILLAR, pytest.param(VOXEL, marks=pytest.mark.full)])
def test_trains_is_killed_resumes_and_evaluates(config, datasets, tmp_path):
    """Three epochs of two steps, SIGKILLed in epoch 2, resumed from epoch 1, evaluated by LidarMetric."""
    from mmengine.runner.checkpoint import _load_checkpoint

    env = _env(datasets, tmp_path)
    work, log = tmp_path / "w", tmp_path / "first.log"
    options = ["train_cfg.max_epochs=3", "train_cfg.val_interval=3", "default_hooks.logger.interval=1"]
    args = [config, "--work-dir", str(work), "--cfg-options", *options]
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "scripts.loop.train", *args], cwd=REPO_ROOT, stdout=out,
                                stderr=subprocess.STDOUT, env=env, start_new_session=True)  # fmt: skip
        try:
            _wait_for(log, "Epoch(train) [2][1/2]", proc, timeout=600)
        finally:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    latest = Path((work / "last_checkpoint").read_text().strip())
    assert latest.name == "epoch_1.pth" and not (work / "epoch_2.pth").exists()
    assert _load_checkpoint(str(latest), map_location="cpu")["meta"]["epoch"] == 1

    cmd = [sys.executable, "-m", "scripts.loop.train", *args, "--resume"]
    result = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "resumed epoch: 1, iter: 2" in result.stdout and (work / "epoch_3.pth").exists()
    losses = [line for line in result.stdout.splitlines() if "Epoch(train)" in line]
    assert "[2][1/2]" in losses[0] and "task0.loss_heatmap" in losses[0]
    assert "Epoch(val) [3][1/1]" in result.stdout and "lidar/mAP_3D" in result.stdout  # LidarMetric


@pytest.mark.parametrize("config", [PILLAR, VOXEL])
def test_evaluate_cli_scores_centerpoint_with_lidar_metric(config, datasets, tmp_path, monkeypatch, capsys):
    """`nox -s eval` on a CenterPoint checkpoint (untrained weights: the metric runs, whatever the AP), in this
    process (tests/helpers/inprocess.py): the import of the stack is the test's own."""
    from mmengine.config import Config
    from mmengine.registry import MODELS, init_default_scope
    from mmengine.runner.checkpoint import save_checkpoint

    from scripts.loop.evaluate.command import main

    os.environ.setdefault("MMLAB_DATASET_PATH", str(datasets))
    init_default_scope("mmdet3d")
    import extensions

    extensions.register()

    model = MODELS.build(Config.fromfile(config).model)
    save_checkpoint(dict(state_dict=model.state_dict(), meta={}), str(tmp_path / "m.pth"))
    args = [config, tmp_path / "m.pth", "--frames", "1"]
    result = run_main(main, args, _env(datasets, tmp_path), monkeypatch, capsys)
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads((tmp_path / "ckpt" / Path(config).stem / "eval" / "metrics.json").read_text())
    # the file holds LidarMetric's own figures: per class BEV and 3D AP40, and the mean of the 3D ones
    per_class = {k.split("/")[1] for k in metrics if k.endswith("/3D_AP40")}
    assert {"Car"} <= per_class and all(f"lidar/{name}/BEV_AP40" in metrics for name in per_class)
    mean = sum(metrics[f"lidar/{name}/3D_AP40"] for name in per_class) / len(per_class)
    assert metrics["lidar/mAP_3D"] == pytest.approx(mean, abs=1e-3)
