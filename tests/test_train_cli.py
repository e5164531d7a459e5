"""`nox -s train` (scripts.train): bad input gets a paragraph, good input trains."""

from __future__ import annotations

import subprocess
import sys

import pytest

from scripts.paths import REPO_ROOT
from scripts.synth_scenes import generate

pytest.importorskip("torch", reason="needs the stack environment: run `nox -s test`")
pytestmark = pytest.mark.stack
CONFIG = "configs/pointpillars_lidar-custom-3class.py"


def _train(*args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "scripts.train", *args], cwd=REPO_ROOT, capture_output=True, text=True, env=env
    )


def test_missing_config_says_where_configs_live():
    result = _train("configs/nope.py")
    assert result.returncode == 2 and "the config configs/nope.py does not exist" in result.stderr


def test_missing_dataset_root_says_how_to_make_it(tmp_path):
    import os

    result = _train(CONFIG, env=dict(os.environ, MMLAB_DATASET_PATH=str(tmp_path / "none")))
    assert result.returncode == 2
    assert (
        f"the dataset root {tmp_path}/none/synthetic/ (from train_dataloader.dataset.data_root) does not exist"
        in result.stderr
    )
    assert "scripts.synth_scenes" in result.stderr


def test_trains_one_epoch_into_the_checkpoints_workspace(tmp_path):
    import os

    from scripts.convert_lidar import convert

    generate(tmp_path / "datasets" / "synthetic", train=4, val=1, seed=7)
    convert(tmp_path / "datasets" / "synthetic")
    env = dict(os.environ, MMLAB_DATASET_PATH=str(tmp_path / "datasets"), MMLAB_CHECKPOINTS_PATH=str(tmp_path / "ckpt"))
    result = _train(CONFIG, "--cfg-options", "train_cfg.max_epochs=1", "default_hooks.logger.interval=1", env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    work = tmp_path / "ckpt" / "pointpillars_lidar-custom-3class"
    assert (work / "epoch_1.pth").exists()
    assert f"checkpoints and logs: {work}" in result.stdout
