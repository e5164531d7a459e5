"""The mmcv ops cache key and cache hits, without compiling anything."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from mmlab_core.settings import current
from scripts.stack import mmcv_ops


@pytest.fixture
def fake_fork(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("MMLAB_CACHE_DIR", str(tmp_path / "cache"))
    fork = tmp_path / "mmcv"
    (fork / "mmcv" / "ops" / "csrc" / "pytorch").mkdir(parents=True)
    (fork / "setup.py").write_text("# setup\n")
    (fork / "mmcv" / "ops" / "csrc" / "pytorch" / "nms.cpp").write_text("int nms();\n")
    return fork


def test_key_changes_with_sources_and_flags_only(fake_fork, monkeypatch):
    info = mmcv_ops.torch_info(Path(sys.executable))
    key = mmcv_ops.build_key(fake_fork, info)
    assert mmcv_ops.build_key(fake_fork, info) == key
    (fake_fork / "mmcv" / "ops" / "csrc" / "pytorch" / "nms.cpp").write_text("int nms(int);\n")
    changed_source = mmcv_ops.build_key(fake_fork, info)
    assert changed_source != key
    (fake_fork / "mmcv" / "cnn.py").write_text("# python-only change\n")
    assert mmcv_ops.build_key(fake_fork, info) == changed_source
    monkeypatch.setenv("TORCH_CUDA_ARCH_LIST", "9.0")
    assert mmcv_ops.build_key(fake_fork, info) != changed_source
    assert mmcv_ops.build_key(fake_fork, {**info, "torch": "2.14.0"}) != key


def test_cache_hit_restores_the_library_without_compiling(fake_fork, monkeypatch):
    python = Path(sys.executable)
    info = mmcv_ops.torch_info(python)
    key = mmcv_ops.build_key(fake_fork, info)
    cached = current().cache / "mmcv-ops" / key / f"_ext{info['ext_suffix']}"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"compiled library")
    monkeypatch.setattr(mmcv_ops, "_compile", lambda *a: pytest.fail("must not compile on a cache hit"))
    assert "restored" in mmcv_ops.ensure_ops(fake_fork, python)
    assert (fake_fork / "mmcv" / cached.name).read_bytes() == b"compiled library"
    assert "up to date" in mmcv_ops.ensure_ops(fake_fork, python)
    shutil.rmtree(cached.parent)
