"""`nox -s deploy` (scripts.loop.deploy): export, parity on validation samples,
latency, report; bad input gets a paragraph."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from mmlab_core.settings import REPO_ROOT
from scripts.loop.deploy.export import unavailable
from tests.helpers.tracking import runs_by_name

CONFIG = "configs/pointpillars_lidar-custom-3class.py"
DEPLOY = "configs/deploy/voxel-detection_onnxruntime_dynamic.py"
TENSORRT_MISSING = unavailable("tensorrt")  # None where a GPU and the tensorrt package are present


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """Generated data and an untrained checkpoint of the config's model, its classifier bias
    zeroed (score 0.5 everywhere) so that every frame gives the full 50 final boxes to compare."""
    from mmengine.config import Config
    from mmengine.registry import MODELS, init_default_scope
    from mmengine.runner.checkpoint import save_checkpoint

    from scripts.data.convert_lidar import convert
    from scripts.data.synth_scenes import generate

    tmp = tmp_path_factory.mktemp("deploy")
    generate(tmp / "datasets" / "synthetic", train=2, val=2, seed=9)
    convert(tmp / "datasets" / "synthetic")
    os.environ["MMLAB_DATASET_PATH"] = str(tmp / "datasets")  # for Config.fromfile below
    init_default_scope("mmdet3d")
    import extensions

    extensions.register(rewriters=True)

    model = MODELS.build(Config.fromfile(CONFIG).model)
    state = model.state_dict()
    state["bbox_head.conv_cls.bias"].zero_()
    save_checkpoint(dict(state_dict=state, meta={}), str(tmp / "model.pth"))
    env = dict(os.environ, MMLAB_DATASET_PATH=str(tmp / "datasets"), MMLAB_CHECKPOINTS_PATH=str(tmp / "ckpt"),
               MMLAB_TRACKING_PATH=str(tmp / "mlflow"))  # fmt: skip
    return tmp, env


def _deploy(env, *args):
    cmd = [sys.executable, "-m", "scripts.loop.deploy", *args]
    return subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, env=env)


def test_deploy_exports_verifies_and_reports(workspace):
    tmp, env = workspace
    result = _deploy(env, DEPLOY, CONFIG, str(tmp / "model.pth"), "--samples", "2", "--repeat", "3")
    assert result.returncode == 0, result.stderr[-3000:]
    out = tmp / "ckpt" / "pointpillars_lidar-custom-3class" / "deploy"
    report = json.loads((out / "report.json").read_text())
    assert report["passed"] and report["max_abs_diff"] <= 1e-3 and len(report["samples"]) == 2
    # zeroed classifier bias: every anchor scores about 0.5, so each frame keeps many boxes (up to 50 after NMS;
    # how many survive NMS depends on the generated frame)
    assert report["boxes_reference"] >= 20 and report["boxes_matched"] >= 0.95 * report["boxes_reference"]
    assert sum(s["boxes"]["deployed_boxes"] for s in report["samples"]) == report["boxes_reference"]
    assert report["max_score_diff"] <= 1e-3 and report["samples"][0]["boxes"]["min_iou"] >= 0.9
    assert report["latency"]["onnxruntime"]["median_ms"] > 0 and report["latency"]["speedup_median"] > 0
    assert (out / "end2end.onnx").stat().st_size > 1_000_000
    assert "**pass**" in (out / "report.md").read_text()
    assert not [p for p in out.iterdir() if p.is_dir() or p.suffix == ".tmp"]  # nothing half-written left behind
    run = runs_by_name(Path(env["MMLAB_TRACKING_PATH"]))["deploy"]
    assert run.data.metrics["max_abs_diff"] == pytest.approx(report["max_abs_diff"])
    assert run.data.tags["checkpoint"] == str(tmp / "model.pth")


def test_deploy_exits_1_when_parity_misses_its_threshold(workspace, monkeypatch, capsys):
    from scripts.loop.deploy import command as deploy
    from scripts.loop.deploy import parity

    tmp, env = workspace
    for key in ("MMLAB_DATASET_PATH", "MMLAB_CHECKPOINTS_PATH", "MMLAB_TRACKING_PATH"):
        monkeypatch.setenv(key, env[key])
    monkeypatch.setattr(parity, "MAX_SCORE_DIFF", -1.0)  # no score difference can meet it
    out = tmp / "strict"
    args = [DEPLOY, CONFIG, str(tmp / "model.pth"), "--samples", "1", "--repeat", "1", "--work-dir", str(out)]
    code = deploy.main(args)
    assert code == 1
    assert json.loads((out / "report.json").read_text())["passed"] is False
    assert "**FAIL**" in capsys.readouterr().out


@pytest.mark.skipif(TENSORRT_MISSING is None, reason="TensorRT can run here")
def test_tensorrt_without_a_gpu_or_its_package_is_a_paragraph(workspace):
    tmp, env = workspace
    trt = "configs/deploy/voxel-detection_tensorrt_dynamic.py"
    result = _deploy(env, trt, CONFIG, str(tmp / "model.pth"), "--work-dir", str(tmp / "trt"))
    assert result.returncode == 2, result.stderr[-3000:]
    assert f"{trt} deploys to tensorrt, and {TENSORRT_MISSING} on this machine, so nothing was exported" in (
        result.stderr
    )
    assert "Traceback" not in result.stderr and not (tmp / "trt").exists()


@pytest.mark.skipif(TENSORRT_MISSING is not None, reason=str(TENSORRT_MISSING))
def test_tensorrt_engine_matches_pytorch(workspace):
    tmp, env = workspace
    trt = "configs/deploy/voxel-detection_tensorrt_dynamic.py"
    result = _deploy(env, trt, CONFIG, str(tmp / "model.pth"), "--samples", "2", "--work-dir", str(tmp / "trt"))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    report = json.loads((tmp / "trt" / "report.json").read_text())
    assert report["backend"] == "tensorrt" and report["passed"] and (tmp / "trt" / "end2end.engine").exists()


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


def test_checkpoint_that_runs_code_is_refused_with_a_paragraph(workspace):
    """patches/mmengine/checkpoint-load-with-weights-only-true-and-an-allow-list-of.patch, at the CLI."""
    from tests.helpers.checkpoints import assert_refused, write_code_running_checkpoint

    tmp, env = workspace
    marker = tmp / "payload-ran"
    evil = write_code_running_checkpoint(tmp / "evil.pth", marker)
    result = _deploy(env, DEPLOY, CONFIG, str(evil), "--work-dir", str(tmp / "evil"))
    assert_refused(result, evil, marker)
    assert not (tmp / "evil").exists()  # nothing exported


def test_deploy_config_for_a_backend_this_tool_does_not_run(workspace):
    tmp, env = workspace
    ncnn = tmp / "voxel-detection_ncnn.py"
    ncnn.write_text(f"_base_ = ['{REPO_ROOT / DEPLOY}']\nbackend_config = dict(_delete_=True, type='ncnn')\n")
    result = _deploy(env, str(ncnn), CONFIG, str(tmp / "model.pth"))
    assert result.returncode == 2
    assert f"{ncnn} deploys to ncnn; this tool deploys to onnxruntime, openvino, tensorrt" in result.stderr
