"""mmcv's op build parses torch's headers once: a GCC precompiled header, and the dispatch wrappers as one unit.

patches/mmcv/setup-py-parse-torch-s-headers-once-precompiled-header-one-u.patch. The checks read what the last
compile left in mmcv/build (nothing is compiled again but one small file, checked for syntax only).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from mmlab_core.settings import REPO_ROOT, current
from scripts.stack import mmcv_ops

MMCV = REPO_ROOT / "mmcv"
WRAPPERS = MMCV / "mmcv" / "ops" / "csrc" / "pytorch"

_CMDCLASS = """
import json, setuptools, sys
captured = {}
setuptools.setup = lambda **kw: captured.update(kw)
sys.argv = ['setup.py', '--version']
exec(compile(open('setup.py').read(), 'setup.py', 'exec'), {'__name__': '__main__'})
print(json.dumps([cls.__name__ for cls in captured['cmdclass']['build_ext'].__mro__]))
"""


def _build_dir() -> Path:
    """The build folder of the compile that made the current ops, or a skip."""
    key = mmcv_ops.build_key(MMCV, mmcv_ops.torch_info(Path(sys.executable)))
    if not (current().logs / f"mmcv-ops-{key}.log").exists():
        pytest.skip(f"the ops were restored from a cache built elsewhere; no build log for key {key}")
    found = sorted((MMCV / "build").glob(f"temp.*-{sys.implementation.cache_tag}/build.ninja"))
    if not found:
        pytest.skip(f"no ninja build under {MMCV / 'build'}")
    from torch.utils.cpp_extension import include_paths

    torch_include = include_paths()[0]
    if f"-I{torch_include} " not in _ninja_vars(found[0].parent)["cflags"]:
        pytest.skip(f"the last build in {found[0].parent} was for another torch than {torch_include}")
    return found[0].parent


def _ninja_vars(build: Path) -> dict[str, str]:
    lines = (build / "build.ninja").read_text().splitlines()
    return dict(line.split(" = ", 1) for line in lines if re.match(r"(cxx|cflags|post_cflags) = ", line))


def test_setup_py_extends_torchs_build_extension():
    out = subprocess.run([sys.executable, "-c", _CMDCLASS], cwd=MMCV, capture_output=True, text=True, check=True)
    mro = json.loads(out.stdout.strip().splitlines()[-1])
    assert mro[:2] == ["BuildExtensionParsingHeadersOnce", "BuildExtension"], mro


@pytest.mark.skipif(os.environ.get("MMCV_PCH") == "0", reason="MMCV_PCH=0 builds without the precompiled header")
def test_every_cxx_source_was_compiled_with_the_precompiled_header():
    build = _build_dir()
    header = build / "pch" / "mmcv_pch.h"
    assert (build / "pch" / "mmcv_pch.h.gch").is_file()
    assert f"-include {header} -Winvalid-pch" in _ninja_vars(build)["post_cflags"]
    key = mmcv_ops.build_key(MMCV, mmcv_ops.torch_info(Path(sys.executable)))
    log_path = current().logs / f"mmcv-ops-{key}.log"
    log = log_path.read_text(errors="replace")
    compiles = [line for line in log.splitlines() if re.match(r"\[\d+/\d+\] ", line) and " -c " in line]
    if not compiles:
        pytest.skip(f"the build that made these ops recompiled nothing (ninja found every object current): {log_path}")
    assert all(f"-include {header}" in line for line in compiles)
    assert "[-Winvalid-pch]" not in log  # GCC says so when it falls back to parsing the header


@pytest.mark.skipif(os.environ.get("MMCV_PCH") == "0", reason="MMCV_PCH=0 builds without the precompiled header")
def test_a_source_compiled_with_the_builds_flags_reads_the_gch(tmp_path):
    """GCC takes a .gch only when the flags match: -H marks it '!' when used, 'x' when rejected."""
    build = _build_dir()
    flags = _ninja_vars(build)
    source = tmp_path / "add_one.cpp"
    source.write_text('#include "pytorch_cpp_helper.hpp"\n\nTensor add_one(const Tensor &x) { return x + 1; }\n')
    cmd = [*shlex.split(flags["cxx"]), *shlex.split(flags["cflags"])]
    cmd += ["-fsyntax-only", "-H", "-Werror=invalid-pch", str(source), *shlex.split(flags["post_cflags"])]
    out = subprocess.run(cmd, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert f"! {build / 'pch' / 'mmcv_pch.h.gch'}" in out.stderr.splitlines()


@pytest.mark.skipif(os.environ.get("MMCV_UNITY") == "0", reason="MMCV_UNITY=0 builds every wrapper on its own")
def test_the_wrappers_unit_holds_every_wrapper_that_leaks_nothing_into_the_next():
    build = _build_dir()
    unit = build / "unity" / "pytorch_wrappers.cpp"
    included = [Path(p) for p in re.findall(r'^#include "(.+)"$', unit.read_text(), re.MULTILINE)]
    leaking = re.compile(r"^\s*(using\s+namespace\b|#\s*define\b)", re.MULTILINE)
    expected = sorted(p for p in WRAPPERS.glob("*.cpp") if p.name != "pybind.cpp" and not leaking.search(p.read_text()))
    assert sorted(included) == expected and len(expected) > 40
    ninja = (build / "build.ninja").read_text()
    assert f"compile {unit.resolve()}" in ninja
    assert not [p for p in included if f"compile {p}\n" in ninja], "a wrapper compiled twice"


def test_the_ops_cache_key_records_the_pch_and_unity_switches(tmp_path, monkeypatch):
    fork = tmp_path / "mmcv"
    (fork / "mmcv" / "ops" / "csrc").mkdir(parents=True)
    (fork / "setup.py").write_text("")
    info = {"torch": "2.13.0+cpu", "cuda": None, "cuda_available": False, "ext_suffix": ".so"}
    for name in mmcv_ops.PASSTHROUGH:
        monkeypatch.delenv(name, raising=False)
    keys = {mmcv_ops.build_key(fork, info)}
    for name in ("MMCV_PCH", "MMCV_UNITY", "CPPFLAGS", "MMCV_CUDA_ARGS"):
        monkeypatch.setenv(name, "0")
        keys.add(mmcv_ops.build_key(fork, info))
    assert len(keys) == 5
