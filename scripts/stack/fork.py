"""A pinned fork and what its git tree says: its patch commits, its edits, whether
it agrees with ``patches/<fork>/series`` (README.md, "Changing upstream code"), and the guards that
refuse to move a fork that holds work no patch file has.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mmlab_core.errors import MmlabError
from mmlab_core.settings import REPO_ROOT
from scripts.stack.gitcmd import git, git_bytes, is_ancestor, is_repo, rev
from scripts.stack.pins import Pin
from scripts.stack.release_import import UPSTREAM_BRANCH, find_release_commit

PATCHED = "patched"
# Tip of ``patched`` when the fork and the series last agreed (after a sync or
# an export). Commits reachable from it are saved in patch files.
MARKER = "refs/mmlab/exported"
BACKUP_PREFIX = "refs/mmlab/backup"
# ``<fork>/.git/<REBASE_STATE>/`` exists while ``nox -s rebase`` is under way.
REBASE_STATE = "mmlab-rebase"

FORMAT_PATCH_FLAGS = (
    "--keep-subject",
    "--no-stat",
    "--no-signature",
    "--zero-commit",
    "--full-index",
    "--no-numbered",
    "--no-cover-letter",
    "--no-thread",
    "--no-signoff",
    "--unified=3",
    "--diff-algorithm=myers",
    "--binary",
    "--encoding=UTF-8",
    "--stdout",
)


class PatchQueueError(MmlabError):
    """A patch-queue command stopped; the message says what to do."""


@dataclass(frozen=True)
class Fork:
    """A pinned fork: its git tree and its patch directory."""

    pin: Pin
    root: Path = REPO_ROOT

    @property
    def name(self) -> str:
        return self.pin.fork

    @property
    def path(self) -> Path:
        return self.root / self.pin.fork

    @property
    def patch_dir(self) -> Path:
        return self.root / "patches" / self.pin.fork


def counted(number: int, noun: str, plural: str | None = None) -> str:
    """``1 patch``, ``2 patches``."""
    return f"{number} {noun if number == 1 else plural or noun + 's'}"


def read_series(patch_dir: Path) -> list[str]:
    """Patch file names in order; blank lines and ``#`` comments are ignored."""
    series = patch_dir / "series"
    if not series.exists():
        raise PatchQueueError(f"{series}: file not found (an empty series is an empty file)")
    names = []
    for line in series.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            names.append(line)
    return names


def series_patches(patch_dir: Path) -> list[tuple[str, bytes]]:
    """``(name, bytes)`` for each series entry."""
    names = read_series(patch_dir)
    missing = [n for n in names if not (patch_dir / n).is_file()]
    if missing:
        raise PatchQueueError(f"{patch_dir}/series lists missing files: {', '.join(missing)}")
    return [(name, (patch_dir / name).read_bytes()) for name in names]


def export_commit(repo: Path, commit: str) -> bytes:
    """The patch file that ``commit`` exports to, byte for byte."""
    return git_bytes(repo, "format-patch", *FORMAT_PATCH_FLAGS, "-1", commit)


def own_commits(repo: Path) -> list[str]:
    """Commits of ``patched`` that are not upstream imports, oldest first."""
    return git(repo, "rev-list", "--reverse", PATCHED, "--not", UPSTREAM_BRANCH).split()


def dirty_files(repo: Path) -> list[str]:
    """Uncommitted edits, staged changes and untracked files (build outputs excluded)."""
    out = git(repo, "status", "--porcelain=v1", "--untracked-files=all")
    return [line[3:] for line in out.splitlines() if line.strip()]


def operation_in_progress(repo: Path) -> str | None:
    """``"a git rebase"`` and the like while git is mid-operation in ``repo``."""
    gitdir = repo / ".git"
    if (gitdir / "rebase-apply").exists():
        return "a git am" if (gitdir / "rebase-apply" / "applying").exists() else "a git rebase"
    for marker, what in (
        ("rebase-merge", "a git rebase"),
        ("MERGE_HEAD", "a git merge"),
        ("CHERRY_PICK_HEAD", "a git cherry-pick"),
    ):
        if (gitdir / marker).exists():
            return what
    return None


def guard(fork: Fork, in_rebase: bool = False) -> None:
    """Refuse to act on a fork that is missing, mid-operation or on another branch.

    ``in_rebase`` lets ``nox -s rebase`` itself through its own saved state.
    """
    repo = fork.path
    if not repo.exists():
        raise PatchQueueError(
            f"[{fork.name}] {repo} does not exist: the fork was never synced. Run `nox -s sync -- {fork.name}` first."
        )
    if not is_repo(repo):
        raise PatchQueueError(f"{repo} exists but is not a git repository. Move it aside and run `nox -s sync`.")
    if (repo / ".git" / REBASE_STATE).exists() and not in_rebase:
        raise PatchQueueError(
            f"[{fork.name}] a `nox -s rebase` is in progress. Finish it with "
            f"`nox -s rebase -- {fork.name} --continue` or undo it with `nox -s rebase -- {fork.name} --abort` first."
        )
    busy = operation_in_progress(repo)
    if busy and not in_rebase:
        command = busy.split()[-1]
        raise PatchQueueError(
            f"[{fork.name}] {busy} is in progress in {repo}. Finish it with `git -C {fork.name} {command} --continue` "
            f"or undo it with `git -C {fork.name} {command} --abort` first."
        )
    branch = git(repo, "symbolic-ref", "--quiet", "--short", "HEAD", check=False).strip()
    if branch != PATCHED:
        raise PatchQueueError(
            f"[{fork.name}] HEAD is on {branch or 'a detached commit'}, not on the {PATCHED} branch. "
            f"Run `git -C {fork.name} switch {PATCHED}` first."
        )


def release_base(fork: Fork) -> str | None:
    """The upstream commit that imported the pinned release, if it is imported."""
    return find_release_commit(fork.path, fork.pin)


def parent_of_series(repo: Path, own: list[str]) -> str | None:
    """The commit the fork's patch commits start from."""
    return rev(repo, f"{own[0]}^") if own else rev(repo, PATCHED)


def is_up_to_date(repo: Path, base: str, own: list[str], patches: list[bytes]) -> bool:
    """The fork is exactly ``base`` + ``patches``."""
    if parent_of_series(repo, own) != base or len(own) != len(patches):
        return False
    return all(export_commit(repo, c) == p for c, p in zip(own, patches, strict=True))


def unexported_commits(repo: Path, own: list[str], patches: list[bytes]) -> list[str]:
    """Commits that no patch file holds: neither exported before nor in the series."""
    known = set(patches)
    marker = rev(repo, MARKER)
    return [
        commit
        for commit in own
        if not (marker and is_ancestor(repo, commit, marker)) and export_commit(repo, commit) not in known
    ]


def require_in_sync(fork: Fork) -> str:
    """Refuse unless the fork is clean and exactly its series; returns its base commit."""
    guard(fork)
    base = release_base(fork)
    patches = [data for _, data in series_patches(fork.patch_dir)]
    own = own_commits(fork.path)
    if base is None or dirty_files(fork.path) or not is_up_to_date(fork.path, base, own, patches):
        raise PatchQueueError(
            f"[{fork.name}] the fork must be clean and in sync with its series first: "
            "export your commits (`nox -s patches -- export`) or run `nox -s sync`."
        )
    return base


def describe(repo: Path, commit: str) -> str:
    """``<short id> <subject>``."""
    return git(repo, "log", "-1", "--format=%h %s", commit).strip()


def mark_exported(repo: Path) -> None:
    """Record that the fork and its series agree at HEAD."""
    git(repo, "update-ref", MARKER, "HEAD")
