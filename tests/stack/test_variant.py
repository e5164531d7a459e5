"""Which torch variant a build uses (scripts/stack/variant.py), and what switching does to the environment."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from mmlab_core.settings import Settings
from scripts.stack import build, identity, lock
from scripts.stack.variant import VARIANTS, VariantError, choose, driver_version, recorded


def _settings(**env: str) -> Settings:
    return Settings.from_env(env)


def _driver(version: str | None):
    return lambda: version


def test_no_driver_builds_cpu_silently():
    variant, note = choose(None, _settings(), driver=_driver(None))
    assert variant.name == "cpu" and note is None


def test_a_recent_driver_builds_cuda_and_says_how_to_force_cpu():
    variant, note = choose(None, _settings(), driver=_driver("580.95.05"))
    assert variant.name == "cu130" and variant.cuda == "13.0"
    assert "580.95.05" in note and "--cpu" in note and "MMLAB_TORCH=cpu" in note and "\n" not in note


def test_an_old_driver_stops_with_the_version_needed():
    with pytest.raises(VariantError) as error:
        choose(None, _settings(), driver=_driver("550.54.14"))
    text = str(error.value)
    assert error.value.exit_code == 2 and "550.54.14" in text and ">= 580" in text and "--cpu" in text
    assert "\n" not in text


def test_explicit_choices_win_over_the_driver_and_the_environment():
    assert choose("cpu", _settings(), current="cu130", driver=_driver("590.1"))[0].name == "cpu"
    assert choose(None, _settings(MMLAB_TORCH="CPU"), driver=_driver("590.1"))[0].name == "cpu"
    assert choose("cu130", _settings(MMLAB_TORCH="cpu"), driver=_driver("590.1")) == (VARIANTS["cu130"], None)
    # asked for CUDA where there is no driver (a build machine): built, with a line saying so
    variant, note = choose(None, _settings(MMLAB_TORCH="cu130"), driver=_driver(None))
    assert variant.name == "cu130" and "no NVIDIA driver" in note
    with pytest.raises(VariantError, match="--cuda"):
        choose("cu130", _settings(), driver=_driver("470.82.01"))


def test_the_environment_keeps_its_variant_until_told_otherwise():
    assert choose(None, _settings(), current="cpu", driver=_driver("590.1"))[0].name == "cpu"
    assert choose(None, _settings(), current="cu130", driver=_driver(None))[0].name == "cu130"


def test_an_unknown_setting_names_the_choices():
    with pytest.raises(VariantError, match=r"MMLAB_TORCH is 'cu118'.*cpu or cu130"):
        choose(None, _settings(MMLAB_TORCH="cu118"), driver=_driver(None))


def test_settings_read_the_torch_and_cuda_variables():
    settings = _settings(MMLAB_TORCH=" cu130 ", TORCH_CUDA_ARCH_LIST="8.6", CUDA_HOME="/usr/local/cuda")
    assert settings.torch == "cu130" and settings.cuda_archs == "8.6" and settings.cuda_home == Path("/usr/local/cuda")
    assert _settings(MMLAB_CUDA_ARCHS="9.0", TORCH_CUDA_ARCH_LIST="8.6").cuda_archs == "9.0"
    assert _settings().torch is None and _settings().cuda_home is None


def _smi(stdout: str, code: int = 0):
    def run(cmd, **kwargs):
        return subprocess.CompletedProcess(cmd, code, stdout, "")

    return run


def _no_smi(cmd, **kwargs):
    raise FileNotFoundError(cmd[0])


def test_driver_version_from_nvidia_smi_or_proc(tmp_path):
    missing = tmp_path / "none"
    assert driver_version(_smi("580.95.05\n580.95.05\n"), missing) == "580.95.05"
    proc = tmp_path / "version"
    proc.write_text("NVRM version: NVIDIA UNIX x86_64 Kernel Module  575.57.08  Sat May 24 2025\nGCC version: 12\n")
    assert driver_version(_no_smi, proc) == "575.57.08"
    proc.write_text("NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  580.65.06  Release Build\n")
    assert driver_version(_smi("", 9), proc) == "580.65.06"
    assert driver_version(_no_smi, missing) is None


class _Recorder(build.Stack):
    def __init__(self, path: Path, variant: str | None = None):
        super().__init__(path=path, variant=VARIANTS[variant] if variant else None)
        self.uv = "/usr/bin/uv"
        self.commands: list[list[str]] = []

    def run_logged(self, what, cmd, env=None):
        self.commands.append(cmd)


def test_switching_variant_resyncs_from_the_other_lock_and_is_recorded(tmp_path):
    venv = tmp_path / "venv"
    venv.mkdir()
    cpu = _Recorder(venv, "cpu")
    cpu.ensure_packages()
    assert cpu.commands[-1][-1] == str(VARIANTS["cpu"].lock) and "--find-links" in cpu.commands[-1]
    assert recorded(venv) == "cpu" and _Recorder(venv).variant.name == "cpu"
    cuda = _Recorder(venv, "cu130")
    assert "installed requirements/stack-cu130.lock" in cuda.ensure_packages()
    (cmd,) = cuda.commands
    assert cmd[-1] == str(VARIANTS["cu130"].lock) and "--find-links" not in cmd  # PyPI's torch is the CUDA one
    assert recorded(venv) == "cu130" and cuda.ensure_packages() == "up to date (cu130)"
    assert _Recorder(venv, "cpu").ensure_packages().startswith("installed requirements/stack.lock")


def test_the_cuda_variant_does_not_install_the_spconv_cpu_fork(tmp_path):
    assert "fork:spconv" in _Recorder(tmp_path, "cpu").editables()
    editables = _Recorder(tmp_path, "cu130").editables()
    assert "fork:spconv" not in editables and "fork:mmdetection3d" in editables and "fork:mmcv" not in editables


def test_lock_sources_and_identity_name_the_variant(tmp_path):
    from mmlab_core.settings import current

    assert "--find-links" not in lock.source_args(current(), VARIANTS["cu130"])
    (tmp_path / "patches").mkdir()
    (tmp_path / "requirements").mkdir()
    (tmp_path / "requirements" / "stack-cu130.lock").write_text("torch==2.13.0\n")
    tags = identity.stack_identity(tmp_path, variant="cu130")
    assert tags["stack.variant"] == "cu130" and tags["stack.cuda"] == "13.0"
    assert tags["stack.lock_sha256"] != "no lock"
    assert identity.stack_identity(tmp_path, variant="cpu")["stack.lock_sha256"] == "no lock"
