"""The environment of mmcv's CUDA build (scripts/stack/cuda.py), and the ops cache key that records it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from mmlab_core.settings import Settings
from scripts.stack import cuda, mmcv_ops


def _toolkit(site: Path, leave_out: str | None = None) -> Path:
    """A fake ``site-packages/nvidia/cu13`` with every piece the index's wheels install."""
    home = cuda.index_cuda_home(site)
    for rel, _, _ in cuda.INDEX_PIECES:
        if rel != leave_out:
            (home / rel).parent.mkdir(parents=True, exist_ok=True)
            (home / rel).write_text("")
    return home


def _settings(**env: str) -> Settings:
    return Settings.from_env(env)


def test_cuda_home_is_the_index_toolkit_with_cudart_linked_for_the_linker(tmp_path):
    home = _toolkit(tmp_path / "site")
    env = cuda.build_env(tmp_path / "site", _settings(), tmp_path / "link", detect=lambda: None, base={"PATH": "/bin"})
    assert env["CUDA_HOME"] == str(home) and env["FORCE_CUDA"] == "1"
    assert env["PATH"] == f"{home / 'bin'}{os.pathsep}/bin"
    assert env["TORCH_CUDA_ARCH_LIST"] == "8.0;8.6;8.9;9.0;10.0;12.0+PTX"
    link = tmp_path / "link" / "libcudart.so"  # torch links with -lcudart; the wheel has only libcudart.so.13
    assert env["LIBRARY_PATH"] == str(tmp_path / "link") and os.readlink(link) == str(home / "lib" / cuda.CUDART)
    cuda.build_env(tmp_path / "site", _settings(), tmp_path / "link", detect=lambda: None)  # again: no error


def test_architectures_from_the_setting_then_the_gpu_then_the_default():
    assert cuda.arch_list(_settings(MMLAB_CUDA_ARCHS="8.6"), detect=lambda: "9.0")[0] == "8.6"
    assert cuda.arch_list(_settings(TORCH_CUDA_ARCH_LIST="7.5"), detect=lambda: "9.0")[0] == "7.5"
    assert cuda.arch_list(_settings(), detect=lambda: "9.0") == ("9.0", "this machine's GPU")
    assert cuda.arch_list(_settings(), detect=lambda: None)[0] == cuda.DEFAULT_ARCHS


def test_gpu_archs_from_nvidia_smi():
    def smi(out: str, code: int = 0):
        return lambda cmd, **kw: subprocess.CompletedProcess(cmd, code, out, "")

    assert cuda.gpu_archs(smi("9.0\n12.0\n9.0\n")) == "9.0;12.0"
    assert cuda.gpu_archs(smi("", 6)) is None
    assert cuda.gpu_archs(smi("[N/A]\n")) is None

    def missing(cmd, **kw):
        raise FileNotFoundError(cmd[0])

    assert cuda.gpu_archs(missing) is None


@pytest.mark.parametrize(
    ("piece", "package"),
    [("bin/nvcc", "nvidia-cuda-nvcc"), ("nvvm/bin/cicc", "nvidia-nvvm"), ("include/cusparse.h", "nvidia-cusparse")],
)
def test_a_missing_piece_gets_one_paragraph_naming_its_package(tmp_path, piece, package):
    _toolkit(tmp_path / "site", leave_out=piece)
    with pytest.raises(cuda.CudaToolchainError) as error:
        cuda.build_env(tmp_path / "site", _settings(), tmp_path / "link", detect=lambda: None)
    text = str(error.value)
    assert error.value.exit_code == 2 and "\n" not in text
    assert piece in text and package in text and "nox -s setup -- --cuda" in text


def test_a_users_own_cuda_home_is_used_as_it_is(tmp_path):
    own = tmp_path / "cuda-12.9"
    for rel in ("bin/nvcc", "include/cuda_runtime.h", "lib64/libcudart.so"):
        (own / rel).parent.mkdir(parents=True, exist_ok=True)
        (own / rel).write_text("")
    env = cuda.build_env(tmp_path / "site", _settings(CUDA_HOME=str(own)), tmp_path / "link", detect=lambda: "8.9")
    assert env["CUDA_HOME"] == str(own) and env["TORCH_CUDA_ARCH_LIST"] == "8.9" and "LIBRARY_PATH" not in env
    (own / "bin" / "nvcc").unlink()
    with pytest.raises(cuda.CudaToolchainError, match="CUDA_HOME points at a CUDA toolkit of your own"):
        cuda.build_env(tmp_path / "site", _settings(CUDA_HOME=str(own)), tmp_path / "link", detect=lambda: None)


def test_the_ops_cache_key_records_the_cuda_version_and_the_architectures(tmp_path, monkeypatch):
    fork = tmp_path / "mmcv"
    (fork / "mmcv" / "ops" / "csrc").mkdir(parents=True)
    (fork / "setup.py").write_text("")
    cpu = {"torch": "2.13.0+cpu", "cuda": None, "cuda_available": False, "ext_suffix": ".so"}
    cu130 = {"torch": "2.13.0+cu130", "cuda": "13.0", "cuda_available": False, "ext_suffix": ".so"}
    for name in mmcv_ops.PASSTHROUGH:
        monkeypatch.delenv(name, raising=False)
    keys = {mmcv_ops.build_key(fork, cpu), mmcv_ops.build_key(fork, cu130)}
    monkeypatch.setenv("FORCE_CUDA", "1")
    monkeypatch.setenv("TORCH_CUDA_ARCH_LIST", "9.0;12.0")
    keys.add(mmcv_ops.build_key(fork, cu130))
    monkeypatch.setenv("TORCH_CUDA_ARCH_LIST", "8.6")
    keys.add(mmcv_ops.build_key(fork, cu130))
    assert len(keys) == 4


def test_a_users_own_cuda_home_of_another_major_release_is_a_paragraph(tmp_path):
    own = tmp_path / "cuda-12.9"
    for rel in ("include/cuda_runtime.h", "lib64/libcudart.so"):
        (own / rel).parent.mkdir(parents=True, exist_ok=True)
        (own / rel).write_text("")
    nvcc = own / "bin" / "nvcc"
    nvcc.parent.mkdir(parents=True)
    nvcc.write_text("#!/bin/sh\necho 'Cuda compilation tools, release 12.9, V12.9.41'\n")
    nvcc.chmod(0o755)
    with pytest.raises(cuda.CudaToolchainError) as error:
        cuda.build_env(tmp_path / "site", _settings(CUDA_HOME=str(own)), tmp_path / "link", detect=lambda: None)
    text = str(error.value)
    assert "nvcc from CUDA 12.9" in text and "built for CUDA 13.0" in text and "Unset CUDA_HOME" in text
    nvcc.write_text("#!/bin/sh\necho 'Cuda compilation tools, release 13.1, V13.1.80'\n")
    env = cuda.build_env(tmp_path / "site", _settings(CUDA_HOME=str(own)), tmp_path / "link", detect=lambda: None)
    assert env["CUDA_HOME"] == str(own)  # a newer minor release of the same major is fine
