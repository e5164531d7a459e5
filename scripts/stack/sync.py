"""Bring a fork to its pinned release + series: import the release when it is new,
then apply each patch as one commit. Refuses when that would lose the user's work
unless ``--force``, which first sets that work aside.
"""

from __future__ import annotations

import re
import time

from scripts.stack.artifacts import fetch
from scripts.stack.fork import (
    BACKUP_PREFIX,
    PATCHED,
    Fork,
    PatchQueueError,
    counted,
    describe,
    dirty_files,
    guard,
    is_up_to_date,
    mark_exported,
    own_commits,
    release_base,
    series_patches,
    unexported_commits,
)
from scripts.stack.gitcmd import GitError, git, git_bytes, rev
from scripts.stack.release_import import UPSTREAM_BRANCH, import_release

AM_FLAGS = ("--keep-non-patch", "--keep-cr", "--committer-date-is-author-date", "--quiet")


class PatchApplyError(PatchQueueError):
    """A patch did not apply; the fork was left clean at the last good commit."""

    def __init__(self, fork: str, names: list[str], index: int, files: list[str], detail: str):
        patch, total = names[index - 1], len(names)
        self.fork, self.patch, self.files = fork, patch, files
        shown = "\n".join(f"    {name}" for name in files) or "    (git named no file)"
        rest = " ".join(f"../patches/{fork}/{name}" for name in names[index:])
        later = f"  git am {rest}\n" if rest else ""
        super().__init__(
            f"[{fork}] patch {index}/{total} {patch} does not apply.\n"
            f"  files:\n{shown}\n"
            f"  git said: {detail.strip()}\n"
            f"The fork {fork}/ is clean at the last good commit ({index - 1} of {counted(total, 'patch', 'patches')} "
            f"applied). To repair the patch, in {fork}/:\n"
            f"  git am --reject ../patches/{fork}/{patch}\n"
            "  (it applies what fits and stops; make the changes of the *.rej files by hand, then delete them)\n"
            "  git add <the files>\n"
            "  git am --continue\n"
            f"{later}"
            f"then write the series back with `nox -s patches -- export {fork}` and commit patches/{fork}/."
        )


def failed_files(detail: str, patch: bytes) -> list[str]:
    """The files git could not patch (or, failing that, every file the patch touches)."""
    files = re.findall(r"^error: patch failed: (.+?):\d+$", detail, re.M)
    files += re.findall(
        r"^error: (.+?): (?:patch does not apply|does not exist in index|already exists in "
        r"(?:index|working directory)|No such file or directory)$",
        detail,
        re.M,
    )
    if not files:
        files = re.findall(r"^diff --git a/(\S+) b/", patch.decode("utf-8", "replace"), re.M)
    return sorted(set(files))


def apply_series(fork: Fork, patches: list[tuple[str, bytes]]) -> None:
    """Apply each patch as one commit on HEAD; stop clean at the first failure."""
    repo = fork.path
    start = rev(repo, "HEAD")
    names = [name for name, _ in patches]
    for index, (_, data) in enumerate(patches, 1):
        try:
            git_bytes(repo, "am", *AM_FLAGS, input=data)
        except GitError as exc:
            git(repo, "am", "--abort", check=False)
            git(repo, "reset", "--quiet", "--hard", "HEAD")
            mark_exported(repo)
            detail = exc.stderr or exc.stdout
            raise PatchApplyError(fork.name, names, index, failed_files(detail, data), detail) from None
    added = int(git(repo, "rev-list", "--count", f"{start}..HEAD").strip())
    if added != len(patches):
        raise PatchQueueError(
            f"[{fork.name}] {counted(len(patches), 'patch', 'patches')} in the series but "
            f"{counted(added, 'commit')} made; a patch is empty or duplicated. Run `nox -s patches -- lint`."
        )
    mark_exported(repo)


def _backup(fork: Fork, dirty: list[str]) -> str:
    """Set aside the fork's tip and uncommitted edits; returns how to get them back."""
    repo = fork.path
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    ref = f"{BACKUP_PREFIX}/{stamp}"
    git(repo, "update-ref", ref, "HEAD")
    notes = [f"the old tip is kept as {ref} (git -C {fork.name} log {ref})"]
    if dirty:
        git(repo, "stash", "push", "--include-untracked", "--quiet", "-m", f"mmlab sync --force {stamp}")
        notes.append(f"uncommitted edits are in the stash (git -C {fork.name} stash list)")
    return "; ".join(notes)


def sync_fork(fork: Fork, force: bool = False) -> str:
    """Bring the fork to pinned release + series; return a one-line summary."""
    patches = series_patches(fork.patch_dir)
    blobs = [data for _, data in patches]
    repo = fork.path
    count = counted(len(patches), "patch", "patches")
    if not repo.exists() or (repo.is_dir() and not any(repo.iterdir())):
        artifact = fetch(fork.pin)
        print(f"[{fork.name}] importing {fork.pin.artifact} into {repo}", flush=True)
        import_release(repo, fork.pin, artifact)
        git(repo, "checkout", "--quiet", "-B", PATCHED, UPSTREAM_BRANCH)
        apply_series(fork, patches)
        return f"created at {fork.pin.version} + {count}"
    guard(fork)
    base = release_base(fork)
    if base is None:
        print(f"[{fork.name}] importing {fork.pin.artifact} as the next upstream commit", flush=True)
        base = import_release(repo, fork.pin, fetch(fork.pin))
    own = own_commits(repo)
    dirty = dirty_files(repo)
    if is_up_to_date(repo, base, own, blobs):
        kept = f"; {counted(len(dirty), 'uncommitted edit')} left as they are" if dirty else ""
        return f"up to date ({fork.pin.version} + {count}){kept}"
    unexported = unexported_commits(repo, own, blobs)
    note = ""
    if dirty or unexported:
        if not force:
            raise PatchQueueError(_refusal(fork, dirty, unexported))
        note = "; " + _backup(fork, dirty)
    git(repo, "reset", "--quiet", "--hard", base)
    apply_series(fork, patches)
    return f"re-applied {count} on {fork.pin.version}{note}"


def _refusal(fork: Fork, dirty: list[str], unexported: list[str]) -> str:
    lines = [f"[{fork.name}] refusing to sync: the fork holds work that no patch file has."]
    if dirty:
        lines.append("  uncommitted edits:")
        lines += [f"    {fork.name}/{path}" for path in dirty[:20]]
        if len(dirty) > 20:
            lines.append(f"    ... and {len(dirty) - 20} more")
    if unexported:
        lines.append("  commits not in the series:")
        lines += [f"    {describe(fork.path, commit)}" for commit in unexported]
    lines.append(
        f"To keep them: commit them in {fork.name}/ and run `nox -s patches -- export {fork.name}`. "
        f"To set them aside and sync anyway: `nox -s sync -- --force {fork.name}` "
        "(the old tip is kept as a backup ref and edits go to git stash)."
    )
    return "\n".join(lines)
