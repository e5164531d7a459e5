"""The deployed model the infer tests share (``deployed``, once per session: tests/loop/conftest.py imports
it), and ``infer_here``: ``python -m scripts.loop.infer`` in this process."""

from __future__ import annotations

import os

import numpy as np
import pytest

from tests.helpers.inprocess import run_main

CONFIG = "configs/pointpillars_lidar-custom-cpu.py"
DEPLOY = "configs/deploy/voxel-detection_onnxruntime_dynamic.py"


@pytest.fixture(scope="session")
def deployed(tmp_path_factory):
    """Four generated frames (1 train, 3 val), an untrained checkpoint (classifier bias zeroed: every box scores
    0.5; the frames' intensity range in its meta) and its deployed folder, written by scripts.loop.deploy itself."""
    from mmengine.config import Config
    from mmengine.registry import MODELS, init_default_scope
    from mmengine.runner.checkpoint import save_checkpoint

    from extensions.io.intensity import META_KEY, summarise
    from extensions.io.points import read_bin
    from scripts.data.convert_lidar import convert
    from scripts.data.synth_scenes import generate
    from scripts.loop.deploy import command as deploy

    tmp = tmp_path_factory.mktemp("infer")
    generate(tmp / "datasets" / "synthetic", train=1, val=3, seed=4)
    convert(tmp / "datasets" / "synthetic")
    env = dict(
        MMLAB_DATASET_PATH=str(tmp / "datasets"),
        MMLAB_CHECKPOINTS_PATH=str(tmp / "ckpt"),
        MMLAB_TRACKING_PATH=str(tmp / "mlflow"),
    )
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        init_default_scope("mmdet3d")
        import extensions

        extensions.register(rewriters=True)

        state = MODELS.build(Config.fromfile(CONFIG).model).state_dict()
        state["bbox_head.conv_cls.bias"].zero_()
        # the intensity range IntensityRangeHook records in a trained checkpoint (infer compares recordings with it)
        train = [read_bin(f)[:, 3] for f in sorted((tmp / "datasets" / "synthetic" / "points").glob("*.bin"))]
        meta = {META_KEY: summarise(np.concatenate(train), len(train))}
        save_checkpoint(dict(state_dict=state, meta=meta), str(tmp / "model.pth"))
        args = [
            DEPLOY,
            CONFIG,
            str(tmp / "model.pth"),
            "--samples",
            "1",
            "--repeat",
            "1",
            "--work-dir",
            str(tmp / "deployed"),
        ]
        assert deploy.main(args) == 0
    finally:
        for key, value in saved.items():
            os.environ.pop(key) if value is None else os.environ.__setitem__(key, value)
    frames = sorted((tmp / "datasets" / "synthetic" / "points").glob("*.bin"))
    return tmp, dict(os.environ, **env), [read_bin(f) for f in frames]


@pytest.fixture
def infer_here(deployed, monkeypatch, capsys):
    """``python -m scripts.loop.infer ARGS`` in this process: one import of the stack for every run (the
    exit code and output are the process's: tests/helpers/inprocess.py); the bad-input test keeps one run
    in a process of its own."""
    from scripts.loop.infer.__main__ import main

    return lambda *args: run_main(main, args, deployed[1], monkeypatch, capsys)
