"""The environment that compiles mmcv's CUDA ops with the CUDA compiler from the package index.

In the cu130 variant the lock installs nvcc, NVVM, the headers and cudart as ``nvidia-*`` wheels, all in
``site-packages/nvidia/cu13`` (bin/nvcc, nvvm/bin/cicc, include/, include/cccl/, lib/). ``build_env``
points ``CUDA_HOME`` there (unless the user set CUDA_HOME to a toolkit of their own), sets ``FORCE_CUDA=1``
and the GPU architectures, and names the package of any piece that is missing. Standard library only.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

from mmlab_core.errors import MmlabError
from mmlab_core.settings import Settings

# Without a GPU to ask (CI, a build machine for a fleet): Ampere, Ada, Hopper, Blackwell (B200, RTX 50), and
# PTX of the newest so that a later GPU can still run the ops (its driver compiles the PTX on first use).
DEFAULT_ARCHS = "8.0;8.6;8.9;9.0;10.0;12.0+PTX"
CUDART = "libcudart.so.13"
# (path under CUDA_HOME, what it is, the wheel that installs it) for the index's layout.
INDEX_PIECES = (
    ("bin/nvcc", "the CUDA compiler driver", "nvidia-cuda-nvcc"),
    ("bin/ptxas", "the PTX assembler", "nvidia-cuda-nvcc"),
    ("nvvm/bin/cicc", "NVVM, nvcc's device compiler", "nvidia-nvvm"),
    ("include/crt/host_config.h", "the CUDA compiler's runtime headers", "nvidia-cuda-crt"),
    ("include/cuda_runtime.h", "the CUDA runtime headers", "nvidia-cuda-runtime"),
    (f"lib/{CUDART}", "the CUDA runtime library", "nvidia-cuda-runtime"),
    ("include/cccl/thrust/version.h", "Thrust/CUB/libcu++ (CCCL)", "nvidia-cuda-cccl"),
    ("include/cublas_v2.h", "the cuBLAS headers (torch's CUDA headers include them)", "nvidia-cublas"),
    ("include/cusparse.h", "the cuSPARSE headers (torch's CUDA headers include them)", "nvidia-cusparse"),
    ("include/cusolverDn.h", "the cuSOLVER headers (torch's CUDA headers include them)", "nvidia-cusolver"),
)
# A toolkit of the user's own (CUDA_HOME): the system layout, so only the two pieces every toolkit has.
OWN_PIECES = (
    ("bin/nvcc", "the CUDA compiler driver", "the CUDA toolkit"),
    ("include/cuda_runtime.h", "the CUDA runtime headers", "the CUDA toolkit"),
)


class CudaToolchainError(MmlabError):
    """A piece of the CUDA compiler toolchain is missing; the message names the package (exit 2)."""


def index_cuda_home(site_packages: Path) -> Path:
    """Where the ``nvidia-*`` CUDA 13 wheels put the toolkit."""
    return site_packages / "nvidia" / "cu13"


def gpu_archs(run: Callable[..., subprocess.CompletedProcess] = subprocess.run) -> str | None:
    """This machine's GPU architectures (``9.0`` or ``8.6;9.0``) from nvidia-smi, or None without a GPU."""
    try:
        out = run(["nvidia-smi", "--query-gpu=compute_cap", "--format=csv,noheader"], capture_output=True, text=True)
    except OSError:
        return None
    caps = {line.strip() for line in out.stdout.splitlines() if line.strip()}
    if out.returncode != 0 or not caps or not all(c.replace(".", "", 1).isdigit() for c in caps):
        return None
    return ";".join(sorted(caps, key=float))


def arch_list(settings: Settings, detect: Callable[[], str | None] = gpu_archs) -> tuple[str, str]:
    """``TORCH_CUDA_ARCH_LIST`` and where it came from: the setting, this machine's GPU, or the default."""
    if settings.cuda_archs:
        return settings.cuda_archs, "MMLAB_CUDA_ARCHS"
    found = detect()
    if found:
        return found, "this machine's GPU"
    return DEFAULT_ARCHS, "no GPU here: Ampere to Blackwell"


def missing_pieces(home: Path, own: bool) -> list[str]:
    """One line per missing piece: the path, what it is, and the package (or toolkit) that provides it."""
    return [
        f"{home / rel} ({what}; from {package})"
        for rel, what, package in (OWN_PIECES if own else INDEX_PIECES)
        if not (home / rel).exists()
    ]


def _cudart_link(home: Path, link_dir: Path) -> Path | None:
    """torch links CUDA ops with ``-lcudart``; the wheel ships only ``libcudart.so.13``, so link a
    ``libcudart.so`` to it in ``link_dir`` (put on LIBRARY_PATH); None where ``lib/libcudart.so`` exists."""
    if (home / "lib" / "libcudart.so").exists():
        return None
    link_dir.mkdir(parents=True, exist_ok=True)
    link = link_dir / "libcudart.so"
    target = home / "lib" / CUDART
    if not (link.is_symlink() and os.readlink(link) == str(target)):
        link.unlink(missing_ok=True)
        link.symlink_to(target)
    return link_dir


def nvcc_release(home: Path) -> str | None:
    """``13.0`` from ``nvcc --version`` ("Cuda compilation tools, release 13.0, V13.0.88"); None if unknown."""
    try:
        out = subprocess.run([str(home / "bin" / "nvcc"), "--version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    found = re.search(r"release (\d+\.\d+)", out.stdout)
    return found.group(1) if found else None


def _check_release(home: Path, release: str) -> None:
    found = nvcc_release(home)
    if found and found.split(".")[0] != release.split(".")[0]:
        raise CudaToolchainError(
            f"CUDA_HOME={home} holds nvcc from CUDA {found}, but the stack's torch is built for CUDA {release}, "
            "and torch refuses to compile extensions across CUDA major releases. Unset CUDA_HOME (the build then "
            f"uses the CUDA {release} compiler from the package index), or point it at a CUDA {release} toolkit."
        )


def build_env(
    site_packages: Path,
    settings: Settings,
    link_dir: Path,
    detect: Callable[[], str | None] = gpu_archs,
    base: dict[str, str] | None = None,
    release: str = "13.0",
) -> dict[str, str]:
    """The variables to add to the environment of mmcv's CUDA build (``base``: the environment, for PATH;
    ``release``: the CUDA release torch is built for, which a toolkit of the user's own must match)."""
    base = dict(os.environ if base is None else base)
    own = settings.cuda_home is not None
    home = settings.cuda_home if own else index_cuda_home(site_packages)
    missing = missing_pieces(home, own)
    if missing:
        where = (
            "CUDA_HOME points at a CUDA toolkit of your own, which lacks them: fix or unset CUDA_HOME (unset, "
            "the build uses the toolkit from the package index)"
            if own
            else "the cu130 lock installs them: run `nox -s setup -- --cuda` again, and if they are still "
            "missing, remove the environment (MMLAB_VENV, default .venv) so that it is made afresh"
        )
        raise CudaToolchainError(
            f"mmcv's CUDA ops cannot be compiled: {'; '.join(missing)} {'is' if len(missing) == 1 else 'are'} "
            f"missing. {where[0].upper()}{where[1:]}."
        )
    if own:
        _check_release(home, release)
    archs, _ = arch_list(settings, detect)
    env = {
        "CUDA_HOME": str(home),
        "FORCE_CUDA": "1",
        "TORCH_CUDA_ARCH_LIST": archs,
        "PATH": os.pathsep.join(filter(None, [str(home / "bin"), base.get("PATH", "")])),
    }
    linked = None if own else _cudart_link(home, link_dir)
    if linked:
        env["LIBRARY_PATH"] = os.pathsep.join(filter(None, [str(linked), base.get("LIBRARY_PATH", "")]))
    return env
