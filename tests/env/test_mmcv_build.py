"""mmcv builds and runs on torch 2.13 and numpy 2 (the mmcv patches)."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from mmlab_core.settings import REPO_ROOT, current

MMCV = REPO_ROOT / "mmcv"

_CAPTURE = """
import json, setuptools, sys
captured = {}
setuptools.setup = lambda **kw: captured.update(kw)
sys.argv = ['setup.py', '--version']
exec(compile(open('setup.py').read(), 'setup.py', 'exec'), {'__name__': '__main__'})
print(json.dumps([e.extra_compile_args for e in captured['ext_modules']]))
"""


def test_setup_py_leaves_the_cxx_standard_to_torch():
    """patches/mmcv/setup-py-let-torch-2-1-choose-the-c-standard.patch"""
    out = subprocess.run([sys.executable, "-c", _CAPTURE], cwd=MMCV, capture_output=True, text=True, check=True)
    args = __import__("json").loads(out.stdout.strip().splitlines()[-1])
    flags = [flag for ext in args for flag in ext.get("cxx", []) + ext.get("nvcc", [])]
    assert not [flag for flag in flags if "std" in flag], flags


def test_compiled_ops_were_built_as_cxx20():
    from scripts.stack import mmcv_ops

    key = mmcv_ops.build_key(MMCV, mmcv_ops.torch_info(Path(sys.executable)))
    log = current().logs / f"mmcv-ops-{key}.log"
    if not log.exists():
        pytest.skip(f"the ops were restored from a cache built elsewhere; no build log at {log}")
    text = log.read_text(errors="replace")
    compiles = [line for line in text.splitlines() if line.startswith("[") and " -c " in line]
    if not compiles:
        pytest.skip(f"the build that made these ops recompiled nothing (ninja found every object current): {log}")
    assert all("-std=c++20" in line and "-std=c++17" not in line for line in compiles)
    assert "-Wc++20-extensions" not in text


def test_compiled_ops_were_built_optimised():
    """setuptools takes CXXFLAGS instead of Python's -DNDEBUG -O3: scripts/stack/mmcv_ops.py must restate them."""
    from scripts.stack import mmcv_ops

    key = mmcv_ops.build_key(MMCV, mmcv_ops.torch_info(Path(sys.executable)))
    log = current().logs / f"mmcv-ops-{key}.log"
    if not log.exists():
        pytest.skip(f"the ops were restored from a cache built elsewhere; no build log at {log}")
    lines = log.read_text(errors="replace").splitlines()
    compiles = [line for line in lines if line.startswith("[") and " -c " in line]
    if not compiles:
        pytest.skip(f"the build that made these ops recompiled nothing (ninja found every object current): {log}")
    assert all(" -O3 " in line and " -DNDEBUG " in line for line in compiles)


def test_pixel_group_parrots_branch_runs_on_numpy_2(monkeypatch):
    """patches/mmcv/ops-pixel-group-replace-np-float-with-float.patch"""
    module = importlib.import_module("mmcv.ops.pixel_group")

    class FakeExt:
        @staticmethod
        def pixel_group(*args, **kwargs):
            return torch.tensor([[2.0, 3.0, 0.5, 1.0, 0.25, 2.0, 3.0]])

    monkeypatch.setattr(torch, "__version__", "parrots")
    monkeypatch.setattr(module, "ext_module", FakeExt)
    h = w = 4
    result = module.pixel_group(
        np.ones((h, w), np.float32),
        np.ones((h, w), bool),
        np.zeros((h, w, 4), np.float32),
        np.zeros((h, w), np.int32),
        np.zeros((h, w), np.uint8),
        2,
        0.8,
    )
    assert [r.tolist() for r in result] == [[0.5, 1.0], [0.25, 2.0, 3.0]]
    assert all(r.dtype == np.float64 for r in result)
