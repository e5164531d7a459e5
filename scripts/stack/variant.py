"""The two torch variants of the stack, and which one a build uses.

``cpu`` (torch 2.13.0+cpu) and ``cu130`` (PyPI's torch 2.13.0, the CUDA 13.0 build, with the CUDA
compiler from the index) share requirements/stack.txt; each adds its own small input file and has its
own hash-checked lock. Choosing, first match wins: ``--cpu``/``--cuda``, the setting ``MMLAB_TORCH``,
the variant the environment already has, and else CUDA where an NVIDIA driver is found (CPU elsewhere).
Standard library only: the driver is found without importing torch.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mmlab_core.errors import MmlabError
from mmlab_core.settings import REPO_ROOT, Settings

REQUIREMENTS_DIR = REPO_ROOT / "requirements"
COMMON = REQUIREMENTS_DIR / "stack.txt"
# CUDA 13.x runs on Linux drivers >= 580 (minor-version compatibility; the CUDA 13.0 GA toolkit lists
# >= 580.65.06 in NVIDIA's CUDA 13.0 release notes, "CUDA Driver").
MIN_DRIVER = 580
DRIVER_FILE = Path("/proc/driver/nvidia/version")
STAMPS = "mmlab-stamps.json"  # the venv's stamp file (scripts/stack/build.py), which records the variant


class VariantError(MmlabError):
    """The variant asked for is unknown, or the NVIDIA driver is too old for it (exit 2)."""


@dataclass(frozen=True)
class Variant:
    """One torch build of the stack: its input files, its lock, and what it installs differently."""

    name: str
    extra: Path  # requirements/torch-<name>.txt, resolved together with stack.txt
    lock: Path
    cuda: str | None  # the CUDA release torch is built for; None for the CPU build
    torch_find_links: bool  # torch's wheel comes from MMLAB_TORCH_FIND_LINKS (the CPU build is not on PyPI)
    skip_forks: tuple[str, ...] = ()  # forks whose package the lock provides in another build

    @property
    def inputs(self) -> tuple[Path, ...]:
        return (COMMON, self.extra)


VARIANTS: dict[str, Variant] = {
    "cpu": Variant("cpu", REQUIREMENTS_DIR / "torch-cpu.txt", REQUIREMENTS_DIR / "stack.lock", None, True),
    "cu130": Variant(
        "cu130",
        REQUIREMENTS_DIR / "torch-cu130.txt",
        REQUIREMENTS_DIR / "stack-cu130.lock",
        "13.0",
        False,
        skip_forks=("spconv",),  # the CPU fork's wheel would shadow spconv-cu126
    ),
}
DEFAULT = "cpu"


def driver_version(
    run: Callable[..., subprocess.CompletedProcess] = subprocess.run, proc_file: Path = DRIVER_FILE
) -> str | None:
    """The NVIDIA driver's version (``580.95.05``) from nvidia-smi or /proc, or None where there is none."""
    try:
        out = run(
            ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        if out.returncode == 0 and re.match(r"\d+\.", out.stdout.strip()):
            return out.stdout.strip().splitlines()[0].strip()
    except (OSError, subprocess.TimeoutExpired):
        pass
    try:
        found = re.search(r"Kernel Module\s+(?:for \S+\s+)?(\d+\.\d+(?:\.\d+)?)", proc_file.read_text())
    except OSError:
        return None
    return found.group(1) if found else None


def _too_old(driver: str) -> bool:
    return int(driver.split(".")[0]) < MIN_DRIVER


def _old_driver_error(driver: str, how: str) -> VariantError:
    return VariantError(
        f"This machine's NVIDIA driver is {driver}, and the CUDA build of the stack ({how}) needs a driver "
        f">= {MIN_DRIVER} (CUDA 13.0; NVIDIA lists >= 580.65.06 for the 13.0 toolkit). Update the driver "
        "(for example nvidia-driver-580 or newer from your distribution or nvidia.com), or build the CPU "
        "stack instead: `nox -s setup -- --cpu` or MMLAB_TORCH=cpu. Nothing was changed."
    )


def recorded(venv: Path) -> str | None:
    """The variant the environment at ``venv`` was last built as (its stamp file), if any."""
    try:
        return json.loads((venv / STAMPS).read_text()).get("variant")
    except (OSError, ValueError):
        return None


def choose(
    flag: str | None,
    settings: Settings,
    current: str | None = None,
    driver: Callable[[], str | None] = driver_version,
) -> tuple[Variant, str | None]:
    """The variant to build and a line to print (or None).

    ``flag``: ``cpu``/``cu130`` from ``--cpu``/``--cuda``; ``current``: what the environment already is.
    """
    asked = flag or settings.torch
    how = ("--cuda" if flag == "cu130" else f"--{flag}") if flag else f"MMLAB_TORCH={settings.torch}"
    if asked:
        if asked not in VARIANTS:
            raise VariantError(
                f"MMLAB_TORCH is {asked!r}, which is not a torch variant of this stack: set it to "
                f"{' or '.join(VARIANTS)} (or unset it to choose by the NVIDIA driver)."
            )
        if VARIANTS[asked].cuda:
            found = driver()
            if found and _too_old(found):
                raise _old_driver_error(found, how)
            if not found:
                return VARIANTS[asked], (
                    f"no NVIDIA driver here: building the {asked} stack as asked ({how}); "
                    "its CUDA code compiles here but runs only where a GPU is"
                )
        return VARIANTS[asked], None
    if current in VARIANTS:
        return VARIANTS[current], None
    found = driver()
    if not found:
        return VARIANTS[DEFAULT], None
    if _too_old(found):
        raise _old_driver_error(found, "chosen because an NVIDIA driver was found")
    return VARIANTS["cu130"], (
        f"NVIDIA driver {found} found: building the CUDA 13.0 stack (cu130); "
        "for the CPU build run `nox -s setup -- --cpu` or set MMLAB_TORCH=cpu"
    )
