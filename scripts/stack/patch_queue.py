"""The patch queue: ``patches/<fork>/series`` <-> commits on the fork's
``patched`` branch (DESIGN.md §3).

Commands: sync (import + apply), export, check, lint, status. Every command
that moves a fork first proves that nothing of the user's is lost.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from scripts.settings import REPO_ROOT
from scripts.stack.artifacts import ArtifactError, fetch, newest_release
from scripts.stack.gitcmd import GitError, git, git_bytes, is_ancestor, is_repo, rev
from scripts.stack.pins import Pin, PinError, load_pins, select
from scripts.stack.release_import import UPSTREAM_BRANCH, find_release_commit, import_release

PATCHED = "patched"
# Tip of ``patched`` when the fork and the series last agreed (after a sync or
# an export). Commits reachable from it are saved in patch files.
MARKER = "refs/mmlab/exported"
BACKUP_PREFIX = "refs/mmlab/backup"
TRAILERS = ("Why", "Origin", "Forwarded")
FORWARDED = re.compile(r"^(no|not-needed|https?://\S+)$")
MBOX_START = b"From 0000000000000000000000000000000000000000 "

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
AM_FLAGS = ("--keep-non-patch", "--keep-cr", "--committer-date-is-author-date", "--quiet")


class PatchQueueError(RuntimeError):
    """A patch-queue command stopped; the message says what to do."""


class PatchApplyError(PatchQueueError):
    """A patch did not apply; the fork was left clean at the last good commit."""

    def __init__(self, fork: str, patch: str, index: int, total: int, files: list[str], detail: str):
        self.fork, self.patch, self.files = fork, patch, files
        shown = "\n".join(f"    {name}" for name in files) or "    (git named no file)"
        super().__init__(
            f"[{fork}] patch {index}/{total} {patch} does not apply.\n"
            f"  files:\n{shown}\n"
            f"  git said: {detail.strip()}\n"
            f"The fork {fork}/ is clean at the last good commit ({index - 1} of {total} patches applied).\n"
            f"To repair it: cd {fork} && git am --3way ../patches/{fork}/{patch}, resolve, "
            f"git am --continue, apply the remaining patches, then `nox -s patches -- export`."
        )


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


# ---------------------------------------------------------------- series files


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


def message_of(patch: bytes) -> str:
    """The commit message part of a mailbox patch (headers and body)."""
    head = patch.split(b"\n---\n", 1)[0].split(b"\ndiff --git ", 1)[0]
    return head.decode("utf-8", "replace")


def lint_patch(name: str, data: bytes) -> list[str]:
    problems = []
    if not data.startswith(MBOX_START):
        problems.append(f"{name}: not a git mailbox patch with a zero commit id (export it, don't hand-write it)")
    message = message_of(data)
    if not re.search(r"^Subject: ", message, re.M):
        problems.append(f"{name}: no Subject: header")
    for trailer in TRAILERS:
        found = re.findall(rf"^{trailer}: *(.*)$", message, re.M)
        if not found or not found[-1].strip():
            problems.append(f"{name}: missing the {trailer}: trailer")
        elif trailer == "Forwarded" and not FORWARDED.match(found[-1].strip()):
            problems.append(f"{name}: Forwarded: must be no, not-needed or a URL, not {found[-1]!r}")
    if b"\ndiff --git " not in data:
        problems.append(f"{name}: carries no diff")
    return problems


def lint_patch_dir(patch_dir: Path) -> list[str]:
    """Everything wrong with one fork's series and patch files."""
    try:
        names = read_series(patch_dir)
    except PatchQueueError as exc:
        return [str(exc)]
    rel = patch_dir.relative_to(patch_dir.parent.parent) if patch_dir.is_absolute() else patch_dir
    problems = []
    seen = set()
    for number, name in enumerate(names, 1):
        if name in seen:
            problems.append(f"{rel}/series: {name} is listed twice")
        seen.add(name)
        path = patch_dir / name
        if "/" in name or not name.endswith(".patch"):
            problems.append(f"{rel}/series entry {number}: {name!r} is not a .patch file name")
        elif not path.is_file():
            problems.append(f"{rel}/series entry {number}: {name} does not exist")
        else:
            problems += [f"{rel}/{p}" for p in lint_patch(name, path.read_bytes())]
    for stray in sorted(p.name for p in patch_dir.glob("*.patch")):
        if stray not in seen:
            problems.append(f"{rel}/{stray}: not listed in series")
    return problems


def series_patches(patch_dir: Path) -> list[tuple[str, bytes]]:
    """``(name, bytes)`` for each series entry; fails on the first lint problem."""
    names = read_series(patch_dir)
    missing = [n for n in names if not (patch_dir / n).is_file()]
    if missing:
        raise PatchQueueError(f"{patch_dir}/series lists missing files: {', '.join(missing)}")
    return [(name, (patch_dir / name).read_bytes()) for name in names]


# ---------------------------------------------------------------- fork state


def export_commit(repo: Path, commit: str) -> bytes:
    return git_bytes(repo, "format-patch", *FORMAT_PATCH_FLAGS, "-1", commit)


def own_commits(repo: Path) -> list[str]:
    """Commits of ``patched`` that are not upstream imports, oldest first."""
    out = git(repo, "rev-list", "--reverse", PATCHED, "--not", UPSTREAM_BRANCH)
    return out.split()


def dirty_files(repo: Path) -> list[str]:
    """Uncommitted edits, staged changes and untracked files (build outputs excluded)."""
    out = git(repo, "status", "--porcelain=v1", "--untracked-files=all")
    return [line[3:] for line in out.splitlines() if line.strip()]


def operation_in_progress(repo: Path) -> str | None:
    gitdir = repo / ".git"
    for marker, what in (
        ("rebase-apply", "a git am or rebase"),
        ("rebase-merge", "a git rebase"),
        ("MERGE_HEAD", "a git merge"),
        ("CHERRY_PICK_HEAD", "a git cherry-pick"),
    ):
        if (gitdir / marker).exists():
            return what
    return None


def _guard(fork: Fork) -> None:
    """Refuse to act on a fork that is mid-operation or on another branch."""
    repo = fork.path
    if not is_repo(repo):
        raise PatchQueueError(f"{repo} exists but is not a git repository. Move it aside and run `nox -s sync`.")
    busy = operation_in_progress(repo)
    if busy:
        raise PatchQueueError(
            f"[{fork.name}] {busy} is in progress in {repo}. Finish it (--continue) or abort it first."
        )
    branch = git(repo, "symbolic-ref", "--quiet", "--short", "HEAD", check=False).strip()
    if branch != PATCHED:
        raise PatchQueueError(
            f"[{fork.name}] HEAD is on {branch or 'a detached commit'}, not on the {PATCHED} branch. "
            f"Run `git -C {fork.name} switch {PATCHED}` first."
        )


def _base(fork: Fork) -> str | None:
    return find_release_commit(fork.path, fork.pin)


def _is_up_to_date(repo: Path, base: str, own: list[str], patches: list[bytes]) -> bool:
    parent = rev(repo, f"{own[0]}^") if own else rev(repo, PATCHED)
    if parent != base or len(own) != len(patches):
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
    _guard(fork)
    base = _base(fork)
    patches = [data for _, data in series_patches(fork.patch_dir)]
    own = own_commits(fork.path)
    dirty = dirty_files(fork.path)
    if base is None or dirty or not _is_up_to_date(fork.path, base, own, patches):
        raise PatchQueueError(
            f"[{fork.name}] the fork must be clean and in sync with its series first: "
            "export your commits (`nox -s patches -- export`) or run `nox -s sync`."
        )
    return base


def _describe(repo: Path, commit: str) -> str:
    return git(repo, "log", "-1", "--format=%h %s", commit).strip()


# ---------------------------------------------------------------- apply


def _failed_files(detail: str, patch: bytes) -> list[str]:
    files = re.findall(r"^error: patch failed: (.+?):\d+$", detail, re.M)
    files += re.findall(
        r"^error: (.+?): (?:patch does not apply|does not exist in index|already exists in "
        r"(?:index|working directory)|No such file or directory)$",
        detail,
        re.M,
    )
    if not files:  # name what the patch touches rather than nothing
        files = re.findall(r"^diff --git a/(\S+) b/", patch.decode("utf-8", "replace"), re.M)
    return sorted(set(files))


def apply_series(fork: Fork, patches: list[tuple[str, bytes]]) -> None:
    """Apply each patch as one commit on HEAD; stop clean at the first failure."""
    repo = fork.path
    start = rev(repo, "HEAD")
    for index, (name, data) in enumerate(patches, 1):
        try:
            git_bytes(repo, "am", *AM_FLAGS, input=data)
        except GitError as exc:
            git(repo, "am", "--abort", check=False)
            git(repo, "reset", "--quiet", "--hard", "HEAD")
            _mark(repo)
            detail = exc.stderr or exc.stdout
            raise PatchApplyError(fork.name, name, index, len(patches), _failed_files(detail, data), detail) from None
    added = git(repo, "rev-list", "--count", f"{start}..HEAD").strip()
    if int(added) != len(patches):
        raise PatchQueueError(
            f"[{fork.name}] {len(patches)} patches in the series but {added} commits were made; "
            "a patch is empty or duplicated. Run `nox -s patches -- lint`."
        )
    _mark(repo)


def _mark(repo: Path) -> None:
    git(repo, "update-ref", MARKER, "HEAD")


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


# ---------------------------------------------------------------- commands


def sync_fork(fork: Fork, force: bool = False) -> str:
    """Bring the fork to pinned release + series; return a one-line summary."""
    patches = series_patches(fork.patch_dir)
    blobs = [data for _, data in patches]
    repo = fork.path
    if not repo.exists() or (repo.is_dir() and not any(repo.iterdir())):
        artifact = fetch(fork.pin)
        print(f"[{fork.name}] importing {fork.pin.artifact} into {repo}", flush=True)
        import_release(repo, fork.pin, artifact)
        git(repo, "checkout", "--quiet", "-B", PATCHED, UPSTREAM_BRANCH)
        apply_series(fork, patches)
        return f"created at {fork.pin.version} + {len(patches)} patches"
    _guard(fork)
    base = _base(fork)
    if base is None:
        print(f"[{fork.name}] importing {fork.pin.artifact} as the next upstream commit", flush=True)
        base = import_release(repo, fork.pin, fetch(fork.pin))
    own = own_commits(repo)
    dirty = dirty_files(repo)
    if _is_up_to_date(repo, base, own, blobs):
        kept = f"; {len(dirty)} uncommitted edits left as they are" if dirty else ""
        return f"up to date ({fork.pin.version} + {len(patches)} patches){kept}"
    unexported = unexported_commits(repo, own, blobs)
    note = ""
    if dirty or unexported:
        if not force:
            raise PatchQueueError(_refusal(fork, dirty, unexported))
        note = "; " + _backup(fork, dirty)
    git(repo, "reset", "--quiet", "--hard", base)
    apply_series(fork, patches)
    return f"re-applied {len(patches)} patches on {fork.pin.version}{note}"


def _refusal(fork: Fork, dirty: list[str], unexported: list[str]) -> str:
    lines = [f"[{fork.name}] refusing to sync: the fork holds work that no patch file has."]
    if dirty:
        lines.append("  uncommitted edits:")
        lines += [f"    {fork.name}/{path}" for path in dirty[:20]]
        if len(dirty) > 20:
            lines.append(f"    ... and {len(dirty) - 20} more")
    if unexported:
        lines.append("  commits not in the series:")
        lines += [f"    {_describe(fork.path, commit)}" for commit in unexported]
    lines.append(
        f"To keep them: commit them in {fork.name}/ and run `nox -s patches -- export`. "
        f"To set them aside and sync anyway: `nox -s sync -- --force {fork.name}` "
        "(the old tip is kept as a backup ref and edits go to git stash)."
    )
    return "\n".join(lines)


def _slug(subject: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "-", subject).strip("-").lower()
    return slug[:60].rstrip("-") or "patch"


def export_fork(fork: Fork) -> str:
    """Write the fork's commits as patch files and series; one-line summary."""
    _guard(fork)
    repo = fork.path
    base = _base(fork)
    if base is None:
        raise PatchQueueError(f"[{fork.name}] the pinned release {fork.pin.version} is not imported; run sync")
    own = own_commits(repo)
    parent = rev(repo, f"{own[0]}^") if own else rev(repo, PATCHED)
    if parent != base:
        raise PatchQueueError(
            f"[{fork.name}] {PATCHED} is not based on the pinned release {fork.pin.version}; "
            "rebase it onto that release first (nox -s rebase)."
        )
    names: list[str] = []
    files: dict[str, bytes] = {}
    for commit in own:
        subject = git(repo, "log", "-1", "--format=%s", commit).strip()
        name = _slug(subject)
        candidate, n = f"{name}.patch", 2
        while candidate in files:
            candidate, n = f"{name}-{n}.patch", n + 1
        names.append(candidate)
        files[candidate] = export_commit(repo, commit)
    _write_patch_dir(fork.patch_dir, names, files)
    _mark(repo)
    dirty = dirty_files(repo)
    warning = f"; {len(dirty)} uncommitted edits were NOT exported (commit them first)" if dirty else ""
    problems = [p for name in names for p in lint_patch(name, files[name])]
    hint = f"; lint: {len(problems)} problems (run `nox -s patches -- lint`)" if problems else ""
    return f"exported {len(names)} patches to {fork.patch_dir}{warning}{hint}"


def _write_patch_dir(patch_dir: Path, names: list[str], files: dict[str, bytes]) -> None:
    patch_dir.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        _atomic_write(patch_dir / name, data)
    for stale in patch_dir.glob("*.patch"):
        if stale.name not in files:
            stale.unlink()
    _atomic_write(patch_dir / "series", "".join(f"{n}\n" for n in names).encode())


def _atomic_write(path: Path, data: bytes) -> None:
    if path.exists() and path.read_bytes() == data:
        return
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def check_fork(pin: Pin, root: Path = REPO_ROOT) -> list[str]:
    """Prove from a fresh import that the series applies and re-exports unchanged."""
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


def fork_status(fork: Fork) -> dict[str, str]:
    """Release, patch count and tree state of one fork, for the status table."""
    row = {"fork": fork.name, "release": f"{fork.pin.package} {fork.pin.version}"}
    try:
        row["patches"] = str(len(read_series(fork.patch_dir)))
    except PatchQueueError:
        row["patches"] = "no series"
    repo = fork.path
    if not is_repo(repo):
        row["tree"] = "missing (run nox -s sync)"
        return row
    busy = operation_in_progress(repo)
    dirty = dirty_files(repo)
    row["tree"] = busy + " in progress" if busy else (f"dirty ({len(dirty)} files)" if dirty else "clean")
    base = _base(fork)
    if base is None:
        row["series"] = "release not imported"
        return row
    try:
        patches = [data for _, data in series_patches(fork.patch_dir)]
        own = own_commits(repo)
    except (PatchQueueError, GitError):
        row["series"] = "unknown"
        return row
    if _is_up_to_date(repo, base, own, patches):
        row["series"] = "in sync"
    else:
        count = len(unexported_commits(repo, own, patches))
        row["series"] = f"{count} unexported commits" if count else "behind series (run sync)"
    return row


# ---------------------------------------------------------------- CLI


def _forks(names: list[str]) -> list[Fork]:
    return [Fork(pin) for pin in select(load_pins(), names)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="patches", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name, text in (
        ("sync", "import the pinned release and apply the series"),
        ("export", "write the fork's commits to patches/<fork>/"),
        ("check", "from a fresh import: every series applies and re-exports unchanged"),
        ("lint", "series and files match; every patch has Why/Origin/Forwarded"),
        ("status", "pinned release, patch count and tree state of each fork"),
    ):
        cmd = sub.add_parser(name, help=text)
        cmd.add_argument("forks", nargs="*", help="fork directories (default: all)")
        if name == "sync":
            cmd.add_argument("--force", action="store_true", help="set aside unexported work, then sync")
    args = parser.parse_args(argv)
    try:
        return _run(args)
    except (PatchQueueError, PinError, ArtifactError, GitError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def _run(args: argparse.Namespace) -> int:
    forks = _forks(args.forks)
    if args.command == "sync":
        for fork in forks:
            print(f"[{fork.name}] {sync_fork(fork, args.force)}", flush=True)
    elif args.command == "export":
        for fork in forks:
            print(f"[{fork.name}] {export_fork(fork)}")
    elif args.command in ("lint", "check"):
        problems = []
        for fork in forks:
            found = lint_patch_dir(fork.patch_dir) if args.command == "lint" else check_fork(fork.pin)
            problems += found
            print(f"[{fork.name}] {'ok' if not found else f'{len(found)} problems'}", flush=True)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return 1 if problems else 0
    elif args.command == "status":
        rows = [fork_status(fork) for fork in forks]
        columns = ("fork", "release", "patches", "tree", "series", "newest")
        try:
            for row, fork in zip(rows, forks, strict=True):
                row["newest"] = newest_release(fork.pin.package)
        except ArtifactError as exc:
            columns = columns[:-1]
            print(f"newest releases not checked: the package index could not be reached ({exc})")
        widths = {c: max(len(c), *(len(r.get(c, "")) for r in rows)) for c in columns}
        print("  ".join(c.ljust(widths[c]) for c in columns))
        for row in rows:
            print("  ".join(row.get(c, "").ljust(widths[c]) for c in columns))
    return 0


if __name__ == "__main__":
    sys.exit(main())
