"""Write a fork's patch commits to ``patches/<fork>/``: one file per commit and the series in commit order.

A patch file is named after its commit's subject, unless the message has a ``Patch-Filename:`` trailer
(Electron's convention): rewording a subject then keeps the file, its history and the series line.
"""

from __future__ import annotations

import re
from pathlib import Path

from mmlab_core.files import atomic_write
from scripts.stack.fork import (
    PATCHED,
    Fork,
    PatchQueueError,
    counted,
    dirty_files,
    export_commit,
    guard,
    mark_exported,
    own_commits,
    parent_of_series,
    release_base,
)
from scripts.stack.gitcmd import git
from scripts.stack.patch_lint import lint_patch


def patch_name(subject: str) -> str:
    """The file stem for a commit subject: lower-case words joined by dashes, at most 60 characters."""
    slug = re.sub(r"[^A-Za-z0-9]+", "-", subject).strip("-").lower()
    return slug[:60].rstrip("-") or "patch"


def file_name(repo: Path, commit: str) -> str:
    """The commit's ``Patch-Filename`` trailer, else its subject's :func:`patch_name` with ``.patch``."""
    fixed = git(repo, "log", "-1", "--format=%(trailers:key=Patch-Filename,valueonly,separator=%x2C)", commit)
    name = fixed.strip().split(",")[0].strip()
    if name:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*\.patch", name):
            raise PatchQueueError(
                f"[{repo.name}] commit {commit[:12]} names its patch file {name!r} (Patch-Filename): use letters, "
                "digits, '.', '_' and '-', ending in .patch. Reword the commit's trailer, then export again."
            )
        return name
    return f"{patch_name(git(repo, 'log', '-1', '--format=%s', commit).strip())}.patch"


def export_fork(fork: Fork, in_rebase: bool = False) -> str:
    """Write the fork's commits as patch files and series; one-line summary.

    ``in_rebase``: called by ``nox -s rebase`` to finish, while its state is still saved.
    """
    guard(fork, in_rebase=in_rebase)
    repo = fork.path
    base = release_base(fork)
    if base is None:
        raise PatchQueueError(f"[{fork.name}] the pinned release {fork.pin.version} is not imported; run `nox -s sync`")
    own = own_commits(repo)
    if parent_of_series(repo, own) != base:
        raise PatchQueueError(
            f"[{fork.name}] {PATCHED} is not based on the pinned release {fork.pin.version}; "
            f"rebase it onto that release first (`nox -s rebase -- {fork.name} <version>`)."
        )
    files: dict[str, bytes] = {}
    for commit in own:
        candidate, n = file_name(repo, commit), 2
        stem = candidate.removesuffix(".patch")
        while candidate in files:
            candidate, n = f"{stem}-{n}.patch", n + 1
        files[candidate] = export_commit(repo, commit)
    write_patch_dir(fork.patch_dir, files)
    mark_exported(repo)
    dirty = dirty_files(repo)
    warning = f"; {counted(len(dirty), 'uncommitted edit')} NOT exported (commit them first)" if dirty else ""
    problems = [p for name, data in files.items() for p in lint_patch(name, data)]
    hint = f"; lint: {counted(len(problems), 'problem')} (run `nox -s patches -- lint`)" if problems else ""
    return f"exported {counted(len(files), 'patch', 'patches')} to {fork.patch_dir}{warning}{hint}"


def write_patch_dir(patch_dir: Path, files: dict[str, bytes]) -> None:
    """Make ``patch_dir`` hold exactly ``files`` (in series order) and their series."""
    patch_dir.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        _write_if_changed(patch_dir / name, data)
    for stale in patch_dir.glob("*.patch"):
        if stale.name not in files:
            stale.unlink()
    _write_if_changed(patch_dir / "series", "".join(f"{name}\n" for name in files).encode())


def _write_if_changed(path: Path, data: bytes) -> None:
    if path.exists() and path.read_bytes() == data:
        return
    atomic_write(path, data)
