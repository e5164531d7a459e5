"""The wheelhouse round trip on the real mmcv fork: the built ops go into a wheel, a machine with an empty
ops cache takes them from it without compiling, and a changed build variable compiles and says what differed."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from mmlab_core import settings
from mmlab_core.settings import REPO_ROOT
from scripts.stack import mmcv_ops

MMCV = REPO_ROOT / "mmcv"
PYTHON = Path(sys.executable)


class CompileCalled(Exception):
    pass


@pytest.fixture
def no_compile(monkeypatch):
    """Record a compile instead of running one (the real one takes minutes)."""
    calls = []

    def fake(fork, python, log):
        calls.append(log)
        raise CompileCalled(log)

    monkeypatch.setattr(mmcv_ops, "_compile", fake)
    return calls


def _use(monkeypatch, **env) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, str(value))
    settings.current.cache_clear()


def test_a_built_stack_writes_a_wheel_a_new_cache_installs_from_and_a_changed_flag_compiles(
    tmp_path, monkeypatch, capsys, no_compile
):
    info = mmcv_ops.torch_info(PYTHON)
    key = mmcv_ops.build_key(MMCV, info)
    lib = MMCV / "mmcv" / f"_ext{info['ext_suffix']}"
    if not (settings.current().cache / "mmcv-ops" / key / lib.name).exists():
        pytest.skip(f"the ops of this fork are not in this machine's cache (key {key}): run `nox -s setup` first")
    house = tmp_path / "house"
    said = mmcv_ops.ensure_ops(MMCV, PYTHON, wheelhouse_out=house)
    wheel = house / mmcv_ops.wheel_name(mmcv_ops.mmcv_version(MMCV), key, mmcv_ops.python_tag(info))
    assert f"wheel: {wheel}" in said and wheel.is_file()
    assert zipfile.ZipFile(wheel).read(f"mmcv/{lib.name}") == lib.read_bytes()

    # a new machine: empty ops cache, the wheelhouse named; nothing is compiled
    _use(monkeypatch, MMLAB_CACHE_DIR=tmp_path / "new-cache", MMLAB_WHEELHOUSE=house)
    said = mmcv_ops.ensure_ops(MMCV, PYTHON)
    assert said.startswith("installed compiled ops from the wheelhouse") and not no_compile
    assert (tmp_path / "new-cache" / "mmcv-ops" / key / lib.name).read_bytes() == lib.read_bytes()

    # a changed build variable: no wheel matches, one line says what differed, and it compiles
    _use(monkeypatch, MMLAB_CACHE_DIR=tmp_path / "other-cache", MMCV_UNITY="0")
    with pytest.raises(CompileCalled):
        mmcv_ops.ensure_ops(MMCV, PYTHON)
    line = [out for out in capsys.readouterr().out.splitlines() if "no matching wheel" in out]
    assert len(line) == 1 and f"nearest wheel {wheel.name} differs in env" in line[0], line
    assert "'MMCV_UNITY': ''" in line[0] and "'MMCV_UNITY': '0'" in line[0]


def test_the_wheel_installs_with_pip(tmp_path):
    house = Path(tmp_path / "house")
    info = mmcv_ops.torch_info(PYTHON)
    lib = MMCV / "mmcv" / f"_ext{info['ext_suffix']}"
    if not lib.exists():
        pytest.skip("mmcv's ops are not built in this fork: run `nox -s setup` first")
    key = mmcv_ops.build_key(MMCV, info)
    wheel = mmcv_ops.write_wheel(MMCV, mmcv_ops.mmcv_version(MMCV), key, mmcv_ops.python_tag(info), {"key": key}, house)
    target = tmp_path / "site"
    pip = [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--no-compile", "--target", str(target)]
    done = subprocess.run([*pip, str(wheel)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert (target / "mmcv" / lib.name).read_bytes() == lib.read_bytes()
    assert (target / f"mmcv-{mmcv_ops.mmcv_version(MMCV)}+mmlab.{key}.dist-info" / "RECORD").is_file()
