"""The stack's identity: what a run was made with, as flat string tags (MLflow records them on every run).

Standard library only; torch's version is read from the installed metadata, so
this works on the host too (it then says torch is not installed).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import subprocess
import sys
from functools import cache
from pathlib import Path

from mmlab_core.settings import REPO_ROOT, current
from scripts.stack.pins import fork_names
from scripts.stack.variant import DEFAULT, VARIANTS, recorded


def tree_sha256(folder: Path) -> str:
    """One hash over every file under ``folder``: relative paths and contents, in sorted order."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _git(fork: Path, *args: str) -> str | None:
    proc = subprocess.run(["git", "-C", str(fork), *args], capture_output=True, text=True)
    return proc.stdout.strip() if proc.returncode == 0 else None


def fork_commit(fork: Path) -> str:
    """The fork's checked-out commit (its ``patched`` branch after a sync), or why there is none."""
    return _git(fork, "rev-parse", "HEAD") or "not synced"


def fork_is_dirty(fork: Path) -> bool:
    """Tracked files edited but not committed: the run used code that no commit (and no patch) holds."""
    return bool(_git(fork, "status", "--porcelain", "--untracked-files=no"))


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def installed_variant() -> str:
    """The torch variant of the environment this process runs in (its build stamp), else of MMLAB_VENV's."""
    return recorded(Path(sys.prefix)) or recorded(current().venv) or DEFAULT


def stack_identity(root: Path = REPO_ROOT, variant: str | None = None) -> dict[str, str]:
    """``stack.variant`` (cpu, cu130), ``stack.cuda``, ``stack.patches_sha256``, ``stack.lock_sha256`` (the
    variant's lock), ``stack.torch``, ``stack.commit.<fork>`` per fork, and ``stack.uncommitted``: the forks
    with uncommitted edits (``none``)."""
    chosen = VARIANTS.get(variant or installed_variant(), VARIANTS[DEFAULT])
    lock = root / chosen.lock.relative_to(REPO_ROOT)
    identity = {
        "stack.variant": chosen.name,
        "stack.cuda": chosen.cuda or "none",
        "stack.patches_sha256": tree_sha256(root / "patches"),
        "stack.lock_sha256": hashlib.sha256(lock.read_bytes()).hexdigest() if lock.exists() else "no lock",
        "stack.torch": _version("torch"),
    }
    identity.update({f"stack.commit.{fork}": fork_commit(root / fork) for fork in fork_names()})
    identity["stack.uncommitted"] = ",".join(fork for fork in fork_names() if fork_is_dirty(root / fork)) or "none"
    return identity


@cache
def current_identity() -> dict[str, str]:
    """This checkout's identity, computed once per process (ten git calls and a hash of patches/)."""
    return stack_identity()
