"""The project's settings: every environment variable it reads, read once.

Standard library only, so the host-side tooling (before ``.venv`` exists), the
ML loop and the data tools share it. Code takes a ``Settings`` (``current()``
by default) instead of reading ``os.environ`` itself.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
PATCHES_DIR = REPO_ROOT / "patches"
PINS_FILE = PATCHES_DIR / "upstream.toml"
DEFAULT_INDEX = "https://pypi.org/simple"
# torch's CPU build is not on PyPI (PyPI's torch is the CUDA one): a local wheel folder, else PyTorch's CPU page.
LOCAL_TORCH_WHEELS = Path("/opt/wheels")
PYTORCH_CPU_LINKS = "https://download.pytorch.org/whl/cpu/torch/"


def _path(value: str | None, default: Path) -> Path:
    return Path(value).expanduser().resolve() if value else default


@dataclass(frozen=True)
class Settings:
    """Where things live; each field names the variable that overrides it."""

    cache: Path  # MMLAB_CACHE_DIR: artifacts, compiled mmcv ops, build logs
    venv: Path  # MMLAB_VENV: the shared stack environment
    index_url: str  # MMLAB_INDEX_URL: package index for the pinned artifacts and the locked packages
    torch_links: str  # MMLAB_TORCH_FIND_LINKS: folder or page with the CPU torch wheel (find-links)
    datasets: Path  # MMLAB_DATASET_PATH: datasets (configs read it too)
    checkpoints: Path  # MMLAB_CHECKPOINTS_PATH: training, eval and deploy outputs
    shared: Path  # MMLAB_SHARED_DIR: the team's shared folder (real samples for tests)
    tracking_path: Path  # MMLAB_TRACKING_PATH: the local MLflow store
    tracking_server: str | None  # MLFLOW_TRACKING_URI: a tracking server instead of the local store
    torch: str | None = None  # MMLAB_TORCH: the torch variant to build, cpu or cu130 (default: by the NVIDIA driver)
    cuda_archs: str | None = None  # MMLAB_CUDA_ARCHS (else TORCH_CUDA_ARCH_LIST): GPU architectures for CUDA ops
    cuda_home: Path | None = None  # CUDA_HOME: a CUDA toolkit of the user's own instead of the index's nvcc
    wheelhouse: str | None = (
        None  # MMLAB_WHEELHOUSE: a folder or URL of compiled mmcv wheels to take instead of compiling
    )

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Settings:
        xdg = _path(env.get("XDG_CACHE_HOME"), Path.home() / ".cache")
        checkpoints = _path(env.get("MMLAB_CHECKPOINTS_PATH"), REPO_ROOT / "checkpoints")
        return cls(
            cache=_path(env.get("MMLAB_CACHE_DIR"), xdg / "mmlab-extension"),
            venv=_path(env.get("MMLAB_VENV"), REPO_ROOT / ".venv"),
            index_url=(env.get("MMLAB_INDEX_URL") or DEFAULT_INDEX).rstrip("/"),
            torch_links=env.get("MMLAB_TORCH_FIND_LINKS")
            or (str(LOCAL_TORCH_WHEELS) if LOCAL_TORCH_WHEELS.is_dir() else PYTORCH_CPU_LINKS),
            datasets=_path(env.get("MMLAB_DATASET_PATH"), REPO_ROOT / "data"),
            checkpoints=checkpoints,
            shared=_path(env.get("MMLAB_SHARED_DIR"), REPO_ROOT.parent / "shared"),
            tracking_path=_path(env.get("MMLAB_TRACKING_PATH"), checkpoints / "mlflow"),
            tracking_server=env.get("MLFLOW_TRACKING_URI") or None,
            torch=(env.get("MMLAB_TORCH") or "").strip().lower() or None,
            cuda_archs=env.get("MMLAB_CUDA_ARCHS") or env.get("TORCH_CUDA_ARCH_LIST") or None,
            cuda_home=Path(env["CUDA_HOME"]).expanduser() if env.get("CUDA_HOME") else None,
            wheelhouse=env.get("MMLAB_WHEELHOUSE") or None,
        )

    def with_(self, **changes) -> Settings:
        """A copy with some fields changed (the demo's and tests' own folders)."""
        return replace(self, **changes)

    @property
    def logs(self) -> Path:
        path = self.cache / "logs"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def config_env(self) -> dict[str, str]:
        """What configs read through mmengine's ``{{$VAR:default}}``: the same data root as everything else."""
        return {"MMLAB_DATASET_PATH": str(self.datasets)}


@cache
def current() -> Settings:
    """The settings of this process, read from the environment on first use."""
    return Settings.from_env()


@contextmanager
def environment(values: Mapping[str, str]) -> Iterator[None]:
    """Set variables for the duration of a block (a config parse, a child process), then put back what was."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
