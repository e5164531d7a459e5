"""`nox -s deploy` to OpenVINO: PointPillars through mmdeploy's patched OpenVINO backend, with the same
parity checks and latency table as ONNX Runtime; a missing openvino package is a paragraph."""

from __future__ import annotations

import json

import pytest

from tests.loop.test_deploy_cli import CONFIG, _deploy, workspace  # noqa: F401 (workspace is a fixture)

pytestmark = pytest.mark.slow
OPENVINO = "configs/deploy/voxel-detection_openvino_dynamic.py"


def test_pointpillars_deploys_to_openvino_with_parity(workspace):  # noqa: F811
    pytest.importorskip("openvino", reason="openvino is not installed (requirements/stack.txt)")
    tmp, env = workspace
    out = tmp / "openvino"
    result = _deploy(env, OPENVINO, CONFIG, str(tmp / "model.pth"), "--samples", "2", "--repeat", "3",
                     "--work-dir", str(out))  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    report = json.loads((out / "report.json").read_text())
    assert report["backend"] == "openvino" and report["model"] == str(out / "end2end.xml")
    assert report["passed"] and report["max_abs_diff"] <= 1e-3
    assert report["boxes_reference"] >= 20 and report["boxes_matched"] >= 0.95 * report["boxes_reference"]
    assert report["latency"]["openvino"]["median_ms"] > 0
    assert (out / "end2end.bin").stat().st_size > 1_000_000  # float32 weights
    assert "openvino median" in (out / "report.md").read_text()


def test_missing_openvino_package_is_a_paragraph(workspace, tmp_path):  # noqa: F811
    """The deploy tool in a Python where `import openvino` finds nothing."""
    tmp, env = workspace
    blocker = tmp_path / "sitecustomize.py"  # hides openvino from importlib.util.find_spec
    blocker.write_text(
        "import importlib.util, sys\n_find = importlib.util.find_spec\n"
        "importlib.util.find_spec = lambda name, *a: None if name == 'openvino' else _find(name, *a)\n"
    )
    env = dict(env, PYTHONPATH=f"{tmp_path}:{env.get('PYTHONPATH', '')}")
    result = _deploy(env, OPENVINO, CONFIG, str(tmp / "model.pth"), "--work-dir", str(tmp / "none"))
    assert result.returncode == 2, result.stderr[-2000:]
    assert f"{OPENVINO} deploys to OpenVINO, and the openvino package is not installed" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp / "none").exists()
