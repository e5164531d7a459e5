"""The segmentation model the segmentation tests share (``segmented``, once per session: tests/loop/conftest.py
imports it): configs/minkunet_lidar-custom-seg-cpu.py overfit on four generated frames with per-point labels,
through ``nox -s train``'s code path."""

from __future__ import annotations

import os

import pytest

from mmlab_core.settings import current
from tests.helpers.learned import run_module

SEG_CONFIG = "configs/minkunet_lidar-custom-seg-cpu.py"
SEG_EPOCHS = 60  # of 2 iterations (4 frames, batch 2), the cosine schedule stretched to them
# objects within 25 m (the default field reaches 66 m, where a cyclist is a few dozen points: seed 3's four
# frames then hold 377 cyclist points of 220,000, and 120 iterations leave the class at IoU 0); seed 4's frames
# hold 1,370 pedestrian, 2,204 cyclist and 3,626 building points
SEG_FIELD = (3.0, 25.0, 20.0)
SEG_SEED = 4


@pytest.fixture(scope="session")
def segmented(tmp_path_factory) -> dict:
    """``config``, ``checkpoint``, ``env`` (MMLAB_* paths) and ``data`` (the dataset folder) of the overfit model;
    validation is the training frames themselves."""
    from scripts.data.convert_lidar import convert
    from scripts.data.synth_scenes import generate

    tmp = tmp_path_factory.mktemp("seg")
    data = tmp / "datasets" / "synthetic"
    generate(data, train=4, val=0, seed=SEG_SEED, field=SEG_FIELD, point_labels=True)
    (data / "splits" / "val.txt").write_text((data / "splits" / "train.txt").read_text())
    convert(data)
    env = {**os.environ, **current().with_(datasets=tmp / "datasets").config_env()}
    env["MMLAB_TRACKING_PATH"] = str(tmp / "mlflow")
    env["MMLAB_CHECKPOINTS_PATH"] = str(tmp / "ckpt")
    schedule = [f"train_cfg.max_epochs={SEG_EPOCHS}", f"train_cfg.val_interval={SEG_EPOCHS + 1}",
                f"param_scheduler.1.T_max={SEG_EPOCHS}", f"param_scheduler.1.end={SEG_EPOCHS}"]  # fmt: skip
    # overfit the frames as they are: no rotation or scaling
    still = ["train_dataloader.dataset.pipeline.3.rot_range=[0.0,0.0]",
             "train_dataloader.dataset.pipeline.3.scale_ratio_range=[1.0,1.0]"]  # fmt: skip
    logs = [f"default_hooks.checkpoint.interval={SEG_EPOCHS}", "default_hooks.logger.interval=20"]
    options = [*schedule, *still, *logs]
    work = tmp / "work"
    run_module("scripts.loop.train", SEG_CONFIG, "--work-dir", str(work), "--cfg-options", *options, env=env)
    return dict(config=SEG_CONFIG, checkpoint=str(work / f"epoch_{SEG_EPOCHS}.pth"), env=env, data=data)
