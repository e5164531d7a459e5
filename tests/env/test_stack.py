"""The built stack: imports, compiled mmcv ops on CPU, and the build patches."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import subprocess
import sys

import pytest
import torch

from mmlab_core.settings import REPO_ROOT


def test_torch_is_the_pinned_release():
    assert torch.__version__.split("+")[0] == "2.13.0"


@pytest.mark.parametrize(
    ("module", "fork"),
    [
        ("mmengine", "mmengine"),
        ("mmcv", "mmcv"),
        ("mmdet", "mmdetection"),
        ("mmdet3d", "mmdetection3d"),
        ("mmdeploy", "mmdeploy"),
    ],
)
def test_forks_are_imported_from_the_editable_trees(module, fork):
    """For mmdeploy: patches/mmdeploy/add-pyproject-toml-so-the-wheel-imported-tree-installs-edita.patch"""
    mod = importlib.import_module(module)
    assert mod.__file__.startswith(str(REPO_ROOT / fork / module))
    dist = importlib.metadata.distribution(module)
    direct_url = json.loads(dist.read_text("direct_url.json"))
    assert direct_url["dir_info"]["editable"] is True


def test_mmcv_compiled_ops_are_loaded():
    from mmcv.utils import ext_loader

    ext = ext_loader.load_ext("_ext", ["nms", "hard_voxelize_forward"])
    assert ext.__file__.startswith(str(REPO_ROOT / "mmcv" / "mmcv" / "_ext"))


def test_nms_matches_an_independent_reference():
    from scripts.loop.smoke.command import check_nms

    assert check_nms(seed=1) > 10


def test_voxelization_matches_an_independent_reference():
    from scripts.loop.smoke.command import check_voxelization

    assert check_voxelization(seed=2) > 100


def test_smoke_run_succeeds():
    result = subprocess.run([sys.executable, "-m", "scripts.loop.smoke"], cwd=REPO_ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "smoke run passed" in result.stdout


def test_environment_has_no_pkg_resources():
    """setuptools >= 82 ships no pkg_resources; the fork patches below rely on that being true here."""
    assert importlib.util.find_spec("pkg_resources") is None


@pytest.mark.parametrize(("fork", "version"), [("mmcv", "2.1.0"), ("mmengine", "0.10.7")])
def test_setup_py_runs_without_pkg_resources(fork, version):
    """Guards the mmcv and mmengine setup.py patches (pkg_resources -> importlib.metadata).

    patches/mmcv/setup-py-use-importlib-metadata-and-packaging-instead-of-pkg.patch
    patches/mmengine/setup-py-use-importlib-metadata-instead-of-pkg-resources.patch
    """
    result = subprocess.run(
        [sys.executable, "setup.py", "--version"], cwd=REPO_ROOT / fork, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == version


def test_pip_check_finds_no_conflicts():
    """Every fork's declared requirements are met by the stack (no protobuf pin conflict)."""
    result = subprocess.run([sys.executable, "-m", "pip", "check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
