"""Where the project keeps its generated trees, caches and environment."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
PATCHES_DIR = REPO_ROOT / "patches"
PINS_FILE = PATCHES_DIR / "upstream.toml"


def cache_dir() -> Path:
    """Downloads, compiled ops and build logs; shared by every clone of a user.

    ``MMLAB_CACHE_DIR`` overrides it (CI points it inside the clone so that a
    run proves a cold build).
    """
    env = os.environ.get("MMLAB_CACHE_DIR")
    if env:
        return Path(env).expanduser().resolve()
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg) / "mmlab-extension"


def venv_dir() -> Path:
    """The one environment that every stack session shares (``MMLAB_VENV``)."""
    env = os.environ.get("MMLAB_VENV")
    return Path(env).expanduser().resolve() if env else REPO_ROOT / ".venv"


def log_dir() -> Path:
    path = cache_dir() / "logs"
    path.mkdir(parents=True, exist_ok=True)
    return path


def shared_dir() -> Path:
    """The team's shared folder (design notes, the real KITTI scan): ``../shared``
    beside the repository, or ``MMLAB_SHARED_DIR``."""
    env = os.environ.get("MMLAB_SHARED_DIR")
    return Path(env).expanduser().resolve() if env else REPO_ROOT.parent / "shared"
