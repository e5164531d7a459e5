"""``nox -s patches -- status``: each fork's release, patch count, tree and series
state, and the action that brings it back in line.
"""

from __future__ import annotations

from scripts.stack.artifacts import ArtifactError, newest_release
from scripts.stack.fork import (
    Fork,
    PatchQueueError,
    counted,
    dirty_files,
    export_commit,
    is_up_to_date,
    operation_in_progress,
    own_commits,
    parent_of_series,
    read_series,
    release_base,
    series_patches,
    unexported_commits,
)
from scripts.stack.gitcmd import GitError, git_bytes, is_repo

COLUMNS = ("fork", "release", "patches", "tree", "series", "newest")


def fork_status(fork: Fork) -> dict[str, str]:
    """Release, patch count and tree state of one fork, for the status table."""
    row = {"fork": fork.name, "release": f"{fork.pin.package} {fork.pin.version}"}
    try:
        row["patches"] = str(len(read_series(fork.patch_dir)))
    except PatchQueueError:
        row["patches"] = "no series"
    repo = fork.path
    if not is_repo(repo):
        row["tree"] = f"missing (run nox -s sync -- {fork.name})"
        return row
    busy = operation_in_progress(repo)
    dirty = dirty_files(repo)
    row["tree"] = busy + " in progress" if busy else (f"dirty ({counted(len(dirty), 'file')})" if dirty else "clean")
    base = release_base(fork)
    if base is None:
        row["series"] = f"release not imported (run nox -s sync -- {fork.name})"
        return row
    try:
        row["series"] = _series_state(fork, base)
    except (PatchQueueError, GitError):
        row["series"] = "unknown"
    return row


def _series_state(fork: Fork, base: str) -> str:
    repo = fork.path
    patches = series_patches(fork.patch_dir)
    blobs = [data for _, data in patches]
    own = own_commits(repo)
    if is_up_to_date(repo, base, own, blobs):
        return "in sync"
    unexported = unexported_commits(repo, own, blobs)
    if unexported:
        return f"{counted(len(unexported), 'unexported commit')} (run nox -s patches -- export {fork.name})"
    stuck = _failed_patch(fork, base, own, patches)
    if stuck:
        return stuck
    return f"behind series (run nox -s sync -- {fork.name})"


def _failed_patch(fork: Fork, base: str, own: list[str], patches: list[tuple[str, bytes]]) -> str | None:
    """After a sync that stopped: the fork holds the series' first patches and the next one does not apply."""
    repo, done = fork.path, len(own)
    if done >= len(patches) or parent_of_series(repo, own) != base:
        return None
    if any(export_commit(repo, commit) != data for commit, (_, data) in zip(own, patches, strict=False)):
        return None
    name, data = patches[done]
    try:
        git_bytes(repo, "apply", "--check", input=data)
    except GitError:
        return (
            f"stopped at {name} ({done + 1}/{len(patches)}): it does not apply; repair it in the fork as "
            f"`nox -s sync -- {fork.name}` explains, then nox -s patches -- export {fork.name}"
        )
    return None


def print_status(forks: list[Fork]) -> None:
    """The status table; the newest release column only when the index answers."""
    rows = [fork_status(fork) for fork in forks]
    columns = COLUMNS
    try:
        for row, fork in zip(rows, forks, strict=True):
            row["newest"] = newest_release(fork.pin.package)
    except ArtifactError as exc:
        columns = COLUMNS[:-1]
        print(f"newest releases not checked: the package index could not be reached ({exc})")
    widths = {c: max(len(c), *(len(r.get(c, "")) for r in rows)) for c in columns}
    print("  ".join(c.ljust(widths[c]) for c in columns))
    for row in rows:
        print("  ".join(row.get(c, "").ljust(widths[c]) for c in columns))
