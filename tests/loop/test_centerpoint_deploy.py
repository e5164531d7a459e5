"""`nox -s deploy` for CenterPoint: the pillar model deploys to ONNX Runtime and OpenVINO with raw-output
and final-box parity; the voxel model (sparse convolution) is refused with a paragraph."""

from __future__ import annotations

import json
import os
import re

import pytest
import torch

from tests.loop.test_deploy_cli import _deploy

pytestmark = pytest.mark.slow
PILLAR = "configs/centerpoint_pillar_lidar-custom-cpu.py"
VOXEL = "configs/centerpoint_voxel_lidar-custom-cpu.py"
ORT = "configs/deploy/voxel-detection_onnxruntime_dynamic.py"
OPENVINO = "configs/deploy/voxel-detection_openvino_dynamic.py"


def _checkpoint(config: str, path, zero_heatmap_bias: bool = True):
    """Untrained weights; the heatmap bias zeroed (score 0.5 before the peaks are picked) so that every frame
    gives many final boxes to compare."""
    from mmengine.config import Config
    from mmengine.registry import MODELS, init_default_scope
    from mmengine.runner.checkpoint import save_checkpoint

    init_default_scope("mmdet3d")
    import extensions

    extensions.register(rewriters=True)

    torch.manual_seed(0)
    state = MODELS.build(Config.fromfile(config).model).state_dict()
    for key in state:
        if zero_heatmap_bias and re.fullmatch(r"pts_bbox_head\.task_heads\.\d+\.heatmap\.\d+\.bias", key):
            state[key].zero_()
    save_checkpoint(dict(state_dict=state, meta={}), str(path))
    return path


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    from scripts.data.convert_lidar import convert
    from scripts.data.synth_scenes import generate

    tmp = tmp_path_factory.mktemp("centerpoint-deploy")
    generate(tmp / "datasets" / "synthetic", train=2, val=2, seed=9)
    convert(tmp / "datasets" / "synthetic")
    os.environ["MMLAB_DATASET_PATH"] = str(tmp / "datasets")  # for Config.fromfile
    env = dict(os.environ, MMLAB_CHECKPOINTS_PATH=str(tmp / "ckpt"), MMLAB_TRACKING_PATH=str(tmp / "mlflow"))
    return tmp, env


# OpenVINO: CenterPoint's graph in OpenVINO is also checked box for box by tests/loop/test_infer_heads.py
@pytest.mark.parametrize("deploy", [ORT, pytest.param(OPENVINO, marks=pytest.mark.full)])
def test_pillar_centerpoint_deploys_with_parity(deploy, workspace):
    if deploy == OPENVINO:
        pytest.importorskip("openvino", reason="openvino is not installed (requirements/stack.txt)")
    tmp, env = workspace
    checkpoint = _checkpoint(PILLAR, tmp / "pillar.pth")
    out = tmp / os.path.basename(deploy)
    result = _deploy(env, deploy, PILLAR, str(checkpoint), "--samples", "2", "--repeat", "2", "--work-dir", str(out))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    report = json.loads((out / "report.json").read_text())
    assert report["passed"] and report["max_abs_diff"] <= 1e-3
    assert report["boxes_reference"] >= 20 and report["min_matched_fraction"] >= 0.95
    assert report["max_score_diff"] <= 1e-3
    assert report["latency"]["speedup_median"] > 0
    assert not [p for p in out.iterdir() if p.is_dir() or p.suffix == ".tmp"]


def test_voxel_centerpoint_is_refused_with_a_paragraph(workspace):
    tmp, env = workspace
    checkpoint = _checkpoint(VOXEL, tmp / "voxel.pth", zero_heatmap_bias=False)
    result = _deploy(env, ORT, VOXEL, str(checkpoint), "--work-dir", str(tmp / "voxel"))
    assert result.returncode == 2
    assert f"{VOXEL} encodes voxels with SparseEncoder (sparse 3D convolution, spconv)" in result.stderr
    assert "spconv's operators do not export to ONNX" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp / "voxel").exists()
