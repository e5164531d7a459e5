"""`nox -s deploy -- ... --int8`: a PointPillars that has learned is quantized (onnxruntime's static
quantizer, calibrated on training frames), both deployed models are evaluated with LidarMetric, and the
verdict is the AP drop; a calibration set that is empty or has another point dimension is a paragraph."""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path

import pytest

from mmlab_core.settings import REPO_ROOT, current
from tests.loop.test_deploy_cli import _deploy

CONFIG = "configs/pointpillars_lidar-custom-cpu.py"
ORT = "configs/deploy/voxel-detection_onnxruntime_dynamic.py"


@pytest.fixture(scope="module")
def workspace(datasets, tmp_path_factory):
    """The generated frames, an untrained checkpoint, and a model config whose test set is the training
    frames (a model trained on 4 frames has learned those, not others)."""
    from mmengine.config import Config
    from mmengine.registry import MODELS, init_default_scope
    from mmengine.runner.checkpoint import save_checkpoint

    tmp = tmp_path_factory.mktemp("int8")
    env = dict(os.environ, **current().with_(datasets=datasets).config_env(), MMLAB_CHECKPOINTS_PATH=str(tmp / "ckpt"),
               MMLAB_TRACKING_PATH=str(tmp / "mlflow"))  # fmt: skip
    os.environ["MMLAB_DATASET_PATH"] = str(datasets)  # for Config.fromfile below
    init_default_scope("mmdet3d")
    import extensions

    extensions.register(rewriters=True)

    save_checkpoint(dict(state_dict=MODELS.build(Config.fromfile(CONFIG).model).state_dict(), meta={}),
                    str(tmp / "untrained.pth"))  # fmt: skip
    on_train = tmp / "pointpillars_on-training-frames.py"
    on_train.write_text(f"_base_ = ['{REPO_ROOT / CONFIG}']\n"
                        "test_dataloader = dict(dataset=dict(ann_file='lidar_infos_train.pkl'))\n")  # fmt: skip
    return tmp, env, str(on_train), datasets / "synthetic"


@pytest.mark.slow
def test_int8_deploy_reports_the_ap_drop_of_a_trained_model(workspace, learned):
    """``learned`` (tests/loop/conftest.py): the CPU PointPillars overfit on these 4 frames, shared with the
    learning test, so that the AP drop is measured on a model that detects."""
    tmp, env, config, root = workspace
    out = tmp / "deployed"
    result = _deploy(env, ORT, config, learned, "--samples", "2", "--repeat", "2",
                     "--int8", "--calibration-frames", "4", "--work-dir", str(out))  # fmt: skip
    report = json.loads((out / "report.json").read_text())
    int8 = report["int8"]
    assert result.returncode == (0 if report["passed"] and int8["passed"] else 1), result.stderr[-3000:]
    # the drop comes from two real evaluations of a model that has learned
    fp32_car, int8_car = int8["ap"]["fp32"]["lidar/Car/BEV_AP40"], int8["ap"]["int8"]["lidar/Car/BEV_AP40"]
    assert fp32_car >= 90, int8["ap"]
    drops = [int8["ap"]["fp32"][k] - int8["ap"]["int8"][k] for k in int8["ap"]["fp32"]]
    assert int8["ap_drop"] == pytest.approx(max(drops), abs=1e-3) and int8["passed"] == (max(drops) <= 1.0)
    assert int8_car > 0 and int8["boxes_reference"] > 0 and 0 < int8["boxes_matched"] <= int8["boxes_reference"]
    assert int8["max_abs_diff"] > report["max_abs_diff"]  # INT8 rounds: raw outputs are not float32's
    assert int8["latency"]["int8"]["median_ms"] > 0 and len(int8["calibration"]) == 4
    training_frames = set((root / "splits" / "train.txt").read_text().split())
    assert {Path(path).stem for path in int8["calibration"]} <= training_frames
    text = (out / "report.md").read_text()
    assert "## INT8 (onnxruntime" in text and "| lidar/Car/BEV_AP40 |" in text and "score |diff| mean" in text
    import onnx

    quantized = onnx.load(str(out / "end2end.int8.onnx")).graph
    assert sum(i.data_type == onnx.TensorProto.INT8 for i in quantized.initializer) >= 10  # the conv weights
    assert any(node.op_type == "QuantizeLinear" for node in quantized.node)
    # the heads' last convolutions stay float32 (their weights come straight from an initializer), the rest int8
    from scripts.loop.deploy.quantize import output_convs

    heads = output_convs(onnx.load(str(out / "end2end.onnx")))
    assert heads == ["/conv_cls/Conv", "/conv_dir_cls/Conv", "/conv_reg/Conv"]
    dequantized = {name for node in quantized.node if node.op_type == "DequantizeLinear" for name in node.output}
    weights = {node.name: node.input[1] for node in quantized.node if node.op_type in ("Conv", "ConvTranspose")}
    assert not [name for name in heads if weights[name] in dequantized]
    assert sum(w in dequantized for name, w in weights.items() if name not in heads) >= 10
    assert not [p for p in out.iterdir() if p.is_dir() or p.name.endswith(".tmp")]


def _info_file(root, tmp, name: str, edit) -> str:
    infos = pickle.loads((root / "lidar_infos_train.pkl").read_bytes())
    edit(infos["data_list"])
    path = tmp / name
    path.write_bytes(pickle.dumps(infos))
    return str(path)


def _refused(env, tmp, *args) -> str:
    out = tmp / "refused"
    result = _deploy(env, ORT, CONFIG, str(tmp / "untrained.pth"), "--int8", "--work-dir", str(out), *args)
    assert result.returncode == 2, result.stderr[-3000:]
    assert "Traceback" not in result.stderr and not out.exists()  # stopped before anything was written
    return " ".join(result.stderr.split())


@pytest.mark.full  # CI: the next test checks the same refusal path (another point dimension)
def test_empty_calibration_set_is_a_paragraph(workspace):
    tmp, env, _, root = workspace
    empty = _info_file(root, tmp, "empty_infos.pkl", lambda frames: frames.clear())
    assert f"the calibration set, {empty}, has no frames" in _refused(env, tmp, "--calibration", empty)
    assert "--calibration-frames 0: INT8 calibration needs at least one frame" in _refused(
        env, tmp, "--calibration-frames", "0"
    )


def test_calibration_set_with_another_point_dimension_is_a_paragraph(workspace):
    tmp, env, _, root = workspace

    def five_values(frames):
        for frame in frames:
            frame["lidar_points"]["num_pts_feats"] = 5

    other = _info_file(root, tmp, "five_dim_infos.pkl", five_values)
    message = _refused(env, tmp, "--calibration", other)
    assert f"the calibration set, {other}, holds" in message
    assert "with 5 values per point, and the model reads 4" in message
