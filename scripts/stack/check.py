"""The CI gate: from a fresh import in a temporary folder, every series applies
and exports back to the very bytes committed in ``patches/``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from mmlab_core.settings import REPO_ROOT
from scripts.stack.fork import Fork, PatchQueueError, export_commit, own_commits, series_patches
from scripts.stack.patch_lint import lint_patch_dir
from scripts.stack.pins import Pin
from scripts.stack.sync import sync_fork


def check_fork(pin: Pin, root: Path = REPO_ROOT) -> list[str]:
    """Problems found by a fresh import of ``pin`` with its series (none: it round-trips)."""
    patch_dir = root / "patches" / pin.fork
    problems = lint_patch_dir(patch_dir)
    if problems:
        return problems
    with tempfile.TemporaryDirectory(prefix=f"check-{pin.fork}-") as tmp:
        scratch = Fork(pin, Path(tmp))
        (Path(tmp) / "patches").symlink_to(root / "patches")
        try:
            sync_fork(scratch)
        except PatchQueueError as exc:
            return [str(exc)]
        expected = dict(series_patches(patch_dir))
        for commit, (name, data) in zip(own_commits(scratch.path), expected.items(), strict=True):
            if export_commit(scratch.path, commit) != data:
                problems.append(
                    f"patches/{pin.fork}/{name}: re-export differs from the file "
                    "(regenerate it with `nox -s patches -- export`, don't hand-edit patches)"
                )
    return problems
