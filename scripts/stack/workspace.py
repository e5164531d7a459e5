"""Where datasets and checkpoints live (``MMLAB_DATASET_PATH``, ``MMLAB_CHECKPOINTS_PATH``), and
the symlinks that make upstream tools find them.

``MMLAB_DATASET_PATH`` (default ``data/``) and ``MMLAB_CHECKPOINTS_PATH``
(default ``checkpoints/``) are both ignored by git.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mmlab_core.cli import run
from mmlab_core.errors import MmlabError
from mmlab_core.settings import REPO_ROOT, current

LINKED_FORKS = ("mmdetection", "mmdetection3d")


class WorkspaceError(MmlabError):
    """A path in the way of a link; the message says what to do."""


def link(root: Path = REPO_ROOT) -> list[str]:
    """Create ``<fork>/checkpoints`` and ``<fork>/data`` links; idempotent."""
    settings = current()
    targets = {"checkpoints": settings.checkpoints, "data": settings.datasets}
    done = []
    for fork in LINKED_FORKS:
        if not (root / fork).is_dir():
            raise WorkspaceError(f"{root / fork} does not exist: run `nox -s sync` first")
        _exclude(root / fork, targets)
        for name, target in targets.items():
            target.mkdir(parents=True, exist_ok=True)
            path = root / fork / name
            if path.is_symlink():
                if path.resolve() == target:
                    done.append(f"{path} -> {target} (already)")
                    continue
                path.unlink()  # a link that points elsewhere holds nothing itself
            elif path.is_dir():
                if any(path.iterdir()):
                    raise WorkspaceError(
                        f"{path} is a real directory with content; refusing to replace it with a link to {target}. "
                        f"Move its content into {target} (or set the variable to point at it) and run again."
                    )
                path.rmdir()
            elif path.exists():
                raise WorkspaceError(f"{path} is a file; remove it and run again")
            path.symlink_to(target, target_is_directory=True)
            done.append(f"{path} -> {target}")
    return done


def _exclude(fork: Path, names) -> None:
    """Keep the links out of the fork's `git status`."""
    exclude = fork / ".git" / "info" / "exclude"
    text = exclude.read_text() if exclude.exists() else ""
    missing = [f"/{name}" for name in names if f"/{name}" not in text.split()]
    if missing:
        exclude.parent.mkdir(parents=True, exist_ok=True)
        exclude.write_text(text + "".join(f"{m}\n" for m in missing))


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(description="link the forks' checkpoints/ and data/ to the workspace").parse_args(argv)
    for line in link():
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
