"""`nox -s deploy` (scripts.deploy): export, parity on validation samples,
latency, report; bad input gets a paragraph."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from scripts.paths import REPO_ROOT

torch = pytest.importorskip("torch", reason="needs the stack environment: run `nox -s test`")
pytestmark = pytest.mark.stack
CONFIG = "configs/pointpillars_lidar-custom-3class.py"
DEPLOY = "configs/deploy/voxel-detection_onnxruntime_dynamic.py"


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """Generated data and an (untrained) checkpoint of the config's model."""
    from mmengine.config import Config
    from mmengine.registry import MODELS, init_default_scope
    from mmengine.runner.checkpoint import save_checkpoint

    from scripts.convert_lidar import convert
    from scripts.synth_scenes import generate

    tmp = tmp_path_factory.mktemp("deploy")
    generate(tmp / "datasets" / "synthetic", train=2, val=2, seed=9)
    convert(tmp / "datasets" / "synthetic")
    os.environ["MMLAB_DATASET_PATH"] = str(tmp / "datasets")  # for Config.fromfile below
    init_default_scope("mmdet3d")
    import extensions  # noqa: F401

    model = MODELS.build(Config.fromfile(CONFIG).model)
    save_checkpoint(dict(state_dict=model.state_dict(), meta={}), str(tmp / "model.pth"))
    env = dict(os.environ, MMLAB_DATASET_PATH=str(tmp / "datasets"), MMLAB_CHECKPOINTS_PATH=str(tmp / "ckpt"))
    return tmp, env


def _deploy(env, *args):
    cmd = [sys.executable, "-m", "scripts.deploy", *args]
    return subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, env=env)


def test_deploy_exports_verifies_and_reports(workspace):
    tmp, env = workspace
    result = _deploy(env, DEPLOY, CONFIG, str(tmp / "model.pth"), "--samples", "2", "--repeat", "3")
    assert result.returncode == 0, result.stderr[-3000:]
    out = tmp / "ckpt" / "pointpillars_lidar-custom-3class" / "deploy"
    report = json.loads((out / "report.json").read_text())
    assert report["passed"] and report["max_abs_diff"] <= 1e-3 and len(report["samples"]) == 2
    assert report["latency"]["onnxruntime"]["median_ms"] > 0 and report["latency"]["speedup_median"] > 0
    assert (out / "end2end.onnx").stat().st_size > 1_000_000
    assert "**pass**" in (out / "report.md").read_text()
    assert not [p for p in out.iterdir() if p.is_dir()]  # no half-written export left behind


def test_deploy_config_for_the_wrong_task(workspace):
    tmp, env = workspace
    result = _deploy(env, "configs/deploy/detection_onnxruntime_static.py", CONFIG, str(tmp / "model.pth"))
    assert result.returncode == 2
    assert (
        "deploys mmdet models (ObjectDetection), but configs/pointpillars_lidar-custom-3class.py is an mmdet3d model"
        in result.stderr
    )


def test_checkpoint_that_does_not_match_the_config(workspace):
    tmp, env = workspace
    other = tmp / "other.pth"
    torch.save({"state_dict": {"backbone.blocks.0.0.weight": torch.zeros(3, 3)}}, other)
    result = _deploy(env, DEPLOY, CONFIG, str(other))
    assert (
        result.returncode == 2
        and "does not match the model in configs/pointpillars_lidar-custom-3class.py" in result.stderr
    )
