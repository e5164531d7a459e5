"""Compile mmcv's C++ (and, with CUDA, CUDA) ops once per set of inputs.

The compiled ``mmcv/_ext*.so`` is cached under ``<cache>/mmcv-ops/<key>/``,
where the key hashes everything that changes the binary: the op sources and
setup.py in the fork, torch, Python, the compiler and the flags. A cache hit
copies the library into the fork in a second; a miss compiles in the fork
(its ``build/`` folder is kept, so ninja recompiles only changed sources).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from mmlab_core.errors import MmlabError
from mmlab_core.files import atomic_path
from mmlab_core.settings import current
from scripts.stack.wheelhouse import difference, take_library, wheel_name, write_wheel

# setuptools takes CXXFLAGS *instead of* Python's own compile flags (-DNDEBUG -O3), so they are restated here:
# with "-g0" alone every op was built at -O0 and ran 3-28x slower (docs/benchmarks.md, CPU ops).
FLAG_ENV = {"MMCV_WITH_OPS": "1", "CFLAGS": "-O3 -DNDEBUG -g0", "CXXFLAGS": "-O3 -DNDEBUG -g0"}
# Variables the build reads that change the library: the key records them. mmcv's setup.py reads MMCV_CUDA_ARGS and
# the switches of its precompiled header and unity build (MMCV_PCH, MMCV_UNITY); setuptools adds CPPFLAGS and LDFLAGS.
PASSTHROUGH = (
    "FORCE_CUDA",
    "TORCH_CUDA_ARCH_LIST",
    "CUDA_HOME",
    "CC",
    "CXX",
    "MMCV_CUDA_ARGS",
    "MMCV_PCH",
    "MMCV_UNITY",
    "CPPFLAGS",
    "LDFLAGS",
)


class BuildError(MmlabError):
    """The compile failed; the message names the log (a tool failure: exit 1)."""

    exit_code = 1


def torch_info(python: Path) -> dict:
    code = (
        "import json, sysconfig, torch; print(json.dumps({'torch': torch.__version__, "
        "'cuda': torch.version.cuda, 'cuda_available': torch.cuda.is_available(), "
        "'ext_suffix': sysconfig.get_config_var('EXT_SUFFIX')}))"
    )
    out = subprocess.run([str(python), "-c", code], capture_output=True, text=True)
    if out.returncode != 0:
        last = (out.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise BuildError(
            f"{python} cannot import torch ({last}), so mmcv's ops cannot be compiled against it. The stack's "
            "packages are installed before this step: run `nox -s setup` again, and if it stops here again, "
            "remove the environment (MMLAB_VENV, default .venv) so that it is made afresh."
        )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _compiler() -> str:
    cxx = os.environ.get("CXX", "c++")
    try:
        out = subprocess.run([cxx, "--version"], capture_output=True, text=True, check=True)
        return out.stdout.splitlines()[0]
    except (OSError, subprocess.CalledProcessError):
        return f"{cxx} (unknown)"


def source_files(fork: Path) -> list[Path]:
    files = [fork / "setup.py"]
    files += sorted(p for p in (fork / "mmcv" / "ops" / "csrc").rglob("*") if p.is_file())
    return files


def _nvcc(cuda_home: str) -> str | None:
    """nvcc's release line, when a CUDA build will use it (the key records the compiler, not its path)."""
    nvcc = Path(cuda_home) / "bin" / "nvcc" if cuda_home else Path("nvcc")
    try:
        out = subprocess.run([str(nvcc), "--version"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    return next((line for line in out.splitlines() if "release" in line), out.strip().splitlines()[-1])


def build_inputs(fork: Path, info: dict) -> dict:
    """Every input that changes the compiled library, in a form that means the same on every machine:
    the op sources' hash, torch and its CUDA version, Python, the compilers, the flags and the build variables
    (CUDA architectures among them). The wheelhouse records it in each wheel, to say what differed on a miss."""
    digest = hashlib.sha256()
    for path in source_files(fork):
        digest.update(str(path.relative_to(fork)).encode() + b"\0" + path.read_bytes() + b"\0")
    env = {k: os.environ.get(k, "") for k in PASSTHROUGH if k != "CUDA_HOME"}
    cuda_ops = bool(info["cuda_available"]) or env["FORCE_CUDA"] == "1"
    return {
        "sources": digest.hexdigest(),
        "torch": info["torch"],
        "torch_cuda": info["cuda"],
        "cuda_ops": cuda_ops,
        "nvcc": _nvcc(os.environ.get("CUDA_HOME", "")) if cuda_ops else None,
        "ext_suffix": info["ext_suffix"],
        "python": ".".join(map(str, sys.version_info[:2])),
        "compiler": _compiler(),
        "flags": FLAG_ENV,
        "env": env,
    }


def build_key(fork: Path, info: dict) -> str:
    """Hash of :func:`build_inputs`: the compiled-ops cache's and the wheelhouse's key."""
    return key_of(build_inputs(fork, info))


def key_of(inputs: dict) -> str:
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:20]


def mmcv_version(fork: Path) -> str:
    found = re.search(r"__version__ = '([^']+)'", (fork / "mmcv" / "version.py").read_text())
    return found.group(1) if found else "0"


def python_tag(info: dict) -> str:
    """``cp311`` from the extension suffix ``.cpython-311-x86_64-linux-gnu.so``."""
    found = re.search(r"cpython-(\d+)", info["ext_suffix"])
    return f"cp{found.group(1)}" if found else "py3"


def ensure_ops(fork: Path, python: Path, wheelhouse_out: Path | None = None) -> str:
    """Make ``fork/mmcv/_ext*.so`` match the fork's sources (from the cache, else ``MMLAB_WHEELHOUSE``, else
    compiled); with ``wheelhouse_out`` also write the build there as a wheel. Returns what happened."""
    info = torch_info(python)
    inputs = build_inputs(fork, info)  # hashes every op source and asks the compilers: once per build
    key = key_of(inputs)
    lib_name = f"_ext{info['ext_suffix']}"
    cached = current().cache / "mmcv-ops" / key / lib_name
    target = fork / "mmcv" / lib_name
    result = _from_cache_or_wheelhouse(fork, info, inputs, cached, target)
    if result is None:
        kind = "CPU + CUDA" if inputs["cuda_ops"] else "CPU"
        log = current().logs / f"mmcv-ops-{key}.log"
        print(f"    compiling mmcv {kind} ops against torch {info['torch']}; full log: {log}", flush=True)
        _compile(fork, python, log)
        if not target.exists():
            raise BuildError(f"the mmcv build finished but wrote no {target}; see {log}")
        cached.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(cached) as tmp:
            shutil.copy2(target, tmp)
        (cached.parent / "inputs.json").write_text(json.dumps(inputs, indent=2) + "\n")
        result = f"compiled ops and cached them in {cached.parent}"
    if wheelhouse_out is not None:
        wheel = write_wheel(fork, mmcv_version(fork), key, python_tag(info), inputs, wheelhouse_out)
        result += f"; wheel: {wheel}"
    return result


def _from_cache_or_wheelhouse(fork: Path, info: dict, inputs: dict, cached: Path, target: Path) -> str | None:
    """What happened when the library came from the cache or the wheelhouse; None when it must be compiled."""
    if not cached.exists():
        house = current().wheelhouse
        if not house:
            return None
        version = mmcv_version(fork)
        name = wheel_name(version, key_of(inputs), python_tag(info))
        if not take_library(house, name, target.name, cached, inputs):
            print(f"    no matching wheel in MMLAB_WHEELHOUSE: {difference(house, version, inputs)}")
            return None
        _install(cached, target)
        return f"installed compiled ops from the wheelhouse ({name}), no compile"
    if _install(cached, target):
        return f"restored compiled ops from cache ({cached})"
    return f"compiled ops up to date (cache key {key_of(inputs)})"


def _install(cached: Path, target: Path) -> bool:
    """Put the cached library at ``target`` unless it is there already; False when nothing changed.

    A new file renamed over the old one, never a rewrite in place: a process that has the old library
    loaded (training while `nox -s setup` runs) keeps its mapping of the old file instead of crashing."""
    if target.exists() and target.read_bytes() == cached.read_bytes():
        return False
    with atomic_path(target) as tmp:
        shutil.copy2(cached, tmp)
    return True


def _compile(fork: Path, python: Path, log: Path) -> None:
    env = dict(os.environ, **FLAG_ENV)
    env.setdefault("MAX_JOBS", str(os.cpu_count() or 2))
    cmd = [str(python), "setup.py", "build_ext", "--inplace"]
    start = time.monotonic()
    last = 0.0
    with log.open("w") as out:
        out.write(f"$ {' '.join(cmd)}  (cwd {fork})\n")
        out.flush()
        proc = subprocess.Popen(cmd, cwd=fork, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for line in proc.stdout:
            out.write(line)
            step = re.match(r"\[(\d+)/(\d+)\]", line)
            now = time.monotonic()
            if step and (now - last > 15 or step.group(1) == step.group(2)):
                last = now
                minutes, seconds = divmod(int(now - start), 60)
                print(f"    [{minutes:02d}:{seconds:02d}] compiled {step.group(1)}/{step.group(2)}", flush=True)
        code = proc.wait()
    if code != 0:
        tail = "".join(log.read_text(errors="replace").splitlines(keepends=True)[-25:])
        raise BuildError(f"compiling mmcv ops failed (exit {code}); full log: {log}\n--- last lines ---\n{tail}")
