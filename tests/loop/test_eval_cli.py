"""`nox -s eval` (scripts.loop.evaluate): metrics table, JSON and BEV pictures."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from mmlab_core.settings import REPO_ROOT
from tests.helpers.inprocess import run_main

CONFIG = "configs/pointpillars_lidar-custom-3class.py"


def test_eval_writes_metrics_and_pictures(tmp_path, monkeypatch):
    from mmengine.config import Config
    from mmengine.registry import MODELS, init_default_scope
    from mmengine.runner.checkpoint import save_checkpoint

    from scripts.data.convert_lidar import convert
    from scripts.data.synth_scenes import generate

    generate(tmp_path / "datasets" / "synthetic", train=1, val=2, seed=11)
    convert(tmp_path / "datasets" / "synthetic")
    monkeypatch.setenv("MMLAB_DATASET_PATH", str(tmp_path / "datasets"))
    init_default_scope("mmdet3d")
    import extensions

    extensions.register()

    save_checkpoint(dict(state_dict=MODELS.build(Config.fromfile(CONFIG).model).state_dict()), str(tmp_path / "m.pth"))
    env = dict(os.environ, MMLAB_CHECKPOINTS_PATH=str(tmp_path / "ckpt"))
    cmd = [sys.executable, "-m", "scripts.loop.evaluate", CONFIG, str(tmp_path / "m.pth"), "--frames", "2"]
    result = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    out = tmp_path / "ckpt" / "pointpillars_lidar-custom-3class" / "eval"
    metrics = json.loads((out / "metrics.json").read_text())
    # random weights score about 0; what can go wrong is the bookkeeping: every class with ground truth in the
    # validation frames gets its AP, and the headline is their mean (tests/loop/test_learning.py proves learning)
    names = {line.split()[0] for f in ("000001", "000002")
             for line in (tmp_path / "datasets/synthetic/labels" / f"{f}.txt").read_text().splitlines()}  # fmt: skip
    per_class = [metrics[f"lidar/{name}/3D_AP40"] for name in sorted(names)]
    assert all(f"lidar/{name}/BEV_AP40" in metrics for name in names)
    assert metrics["lidar/mAP_3D"] == pytest.approx(sum(per_class) / len(per_class), abs=1e-3)
    pictures = sorted(out.glob("bev_*.png"))
    assert [p.name for p in pictures] == ["bev_000001.png", "bev_000002.png"]
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and p.stat().st_size > 20_000 for p in pictures)
    assert "lidar/mAP_3D" in result.stdout and f"metrics: {out / 'metrics.json'}" in result.stdout


def _evaluate(*args, env):
    cmd = [sys.executable, "-m", "scripts.loop.evaluate", *args]
    return subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, env=env)


def test_eval_bad_input_gets_a_paragraph(tmp_path, monkeypatch, capsys):
    from scripts.data.convert_lidar import convert
    from scripts.data.synth_scenes import generate
    from scripts.loop.evaluate.command import main

    env = dict(os.environ, MMLAB_DATASET_PATH=str(tmp_path / "none"))
    result = _evaluate("configs/nope.py", "m.pth", env=env)  # the process itself, once
    assert result.returncode == 2 and "the config configs/nope.py does not exist" in result.stderr
    result = run_main(main, [CONFIG, "m.pth"], env, monkeypatch, capsys)  # the rest in this process
    assert result.returncode == 2 and "(from test_dataloader.dataset.data_root) does not exist" in result.stderr
    generate(tmp_path / "datasets" / "synthetic", train=1, val=1, seed=3)
    convert(tmp_path / "datasets" / "synthetic")
    env["MMLAB_DATASET_PATH"] = str(tmp_path / "datasets")
    result = run_main(main, [CONFIG, tmp_path / "m.pth"], env, monkeypatch, capsys)
    assert result.returncode == 2 and f"the checkpoint {tmp_path / 'm.pth'} does not exist" in result.stderr


def test_eval_refuses_a_checkpoint_that_runs_code(tmp_path):
    """patches/mmengine/checkpoint-load-with-weights-only-true-and-an-allow-list-of.patch, at the CLI."""
    from tests.helpers.checkpoints import assert_refused, write_code_running_checkpoint

    (tmp_path / "datasets" / "synthetic").mkdir(parents=True)
    marker = tmp_path / "payload-ran"
    evil = write_code_running_checkpoint(tmp_path / "evil.pth", marker)
    result = _evaluate(CONFIG, str(evil), env=dict(os.environ, MMLAB_DATASET_PATH=str(tmp_path / "datasets")))
    assert_refused(result, evil, marker)
