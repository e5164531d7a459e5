"""Fixtures shared by the training tests: a tiny generated LiDAR dataset, and a model that learned it."""

from __future__ import annotations

import os

import pytest

from mmlab_core.settings import current
from tests.helpers.learned import LEARNED_CONFIG, LEARNED_EPOCHS, run_module
from tests.loop.infer_model import deployed, infer_here  # noqa: F401 (the infer tests' shared fixtures)
from tests.loop.seg_model import segmented  # noqa: F401


@pytest.fixture(scope="session")
def datasets(tmp_path_factory):
    """Four generated training frames and one validation frame, converted (``MMLAB_DATASET_PATH``)."""
    from scripts.data.convert_lidar import convert
    from scripts.data.synth_scenes import generate

    root = tmp_path_factory.mktemp("train") / "datasets"
    generate(root / "synthetic", train=4, val=1, seed=7)
    convert(root / "synthetic")
    return root


@pytest.fixture(scope="session")
def learned(datasets, tmp_path_factory) -> str:
    """The CPU PointPillars overfit on the four training frames through ``nox -s train``'s code path (no flip,
    seed 0): the checkpoint of a model that detects, trained once per session (test_learning checks it)."""
    env = {**os.environ, **current().with_(datasets=datasets).config_env()}
    work = tmp_path_factory.mktemp("learned")
    no_flip = "train_dataloader.dataset.pipeline.2.flip_ratio_bev_horizontal=0.0"  # overfit the frames as they are
    options = [no_flip, f"train_cfg.max_epochs={LEARNED_EPOCHS}", f"train_cfg.val_interval={LEARNED_EPOCHS + 1}",
               "randomness.seed=0", f"default_hooks.checkpoint.interval={LEARNED_EPOCHS}",
               "default_hooks.logger.interval=20"]  # fmt: skip
    env["MMLAB_TRACKING_PATH"] = str(work / "mlflow")
    run_module("scripts.loop.train", LEARNED_CONFIG, "--work-dir", str(work), "--cfg-options", *options, env=env)
    return str(work / f"epoch_{LEARNED_EPOCHS}.pth")
