"""A training run's terminal output is readable: progress and paths, no config dump, no known-harmless warnings."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
import torch

from mmlab_core.settings import REPO_ROOT

pytestmark = pytest.mark.slow
CONFIG = "configs/pointpillars_lidar-custom-3class.py"


def test_a_short_train_run_prints_progress_and_paths_not_config_or_warnings(datasets, tmp_path):
    from scripts.loop.common import quiet

    env = dict(os.environ, MMLAB_DATASET_PATH=str(datasets), MMLAB_CHECKPOINTS_PATH=str(tmp_path / "ckpt"))
    env["MMLAB_TRACKING_PATH"] = str(tmp_path / "mlflow")
    options = ["train_cfg.max_epochs=1", "train_cfg.val_interval=2", "default_hooks.logger.interval=1"]
    result = subprocess.run(
        [sys.executable, "-m", "scripts.loop.train", CONFIG, "--cfg-options", *options],
        cwd=REPO_ROOT, capture_output=True, text=True, env=env, timeout=600,
    )  # fmt: skip
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-3000:]
    work = tmp_path / "ckpt" / "pointpillars_lidar-custom-3class"
    assert "Epoch(train) [1][2/2]" in out and f"checkpoints and logs: {work}" in out
    assert f"config: {work / 'pointpillars_lidar-custom-3class.py'}" in out
    assert (work / "pointpillars_lidar-custom-3class.py").is_file()
    # the blocks went to the log file, not the terminal
    assert "Config:" not in out and "System environment" not in out and "Hooks will be executed" not in out
    (log,) = work.glob("*/*.log")
    assert "Config:" in log.read_text() and "System environment" in log.read_text()
    for message, _, _ in quiet.PYTHON_WARNINGS[:3]:  # the ones training meets
        assert not [line for line in out.splitlines() if re.search(message, line)], message
    assert "FileClient" not in out and "mlflow server is running" not in out and "UserWarning" not in out
    assert ("nccl" in out) is torch.cuda.is_available()
    assert "GPU number" not in out and len(out.splitlines()) < 80, out  # 1,800-odd lines before (three config dumps)
