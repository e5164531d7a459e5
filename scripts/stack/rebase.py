"""Carry a fork's patch series onto a new upstream release.

``rebase <fork> <version>`` imports the release as the next ``upstream``
commit, rebases the patch commits onto it, drops (and reports) patches that
upstream now contains, then bumps the pin and exports the series: one change
to review. ``--continue`` resumes after a conflict; ``--abort`` restores the
fork's branches, the pins and ``patches/<fork>/`` exactly as they were.

Everything needed to abort is saved in ``<fork>/.git/mmlab-rebase/`` before
anything is changed, so an interrupted rebase can always be continued or
aborted.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
from dataclasses import asdict, replace
from pathlib import Path

from mmlab_core.cli import run
from mmlab_core.errors import MmlabError
from mmlab_core.files import atomic_path
from mmlab_core.settings import REPO_ROOT
from scripts.stack.artifacts import ArtifactError, artifact_path, fetch, project_files
from scripts.stack.export import export_fork
from scripts.stack.fork import MARKER, PATCHED, REBASE_STATE, Fork, own_commits, require_in_sync
from scripts.stack.gitcmd import GitError, git, git_bytes, is_ancestor, rev
from scripts.stack.pins import Pin, PinError, load_pins, version_key, write_pin
from scripts.stack.release_import import UPSTREAM_BRANCH, find_release_commit, import_release

STATE_DIR = REBASE_STATE
SAVED_REFS = (f"refs/heads/{PATCHED}", f"refs/heads/{UPSTREAM_BRANCH}", MARKER)
IMPORT_SUBJECT = re.compile(r"^Import (\S+) (\S+) from PyPI$", re.M)


class RebaseError(MmlabError):
    """The rebase stopped; the message says what to do next."""


def _state_dir(fork: Fork) -> Path:
    return fork.path / ".git" / STATE_DIR


def _pins_file(root: Path) -> Path:
    return root / "patches" / "upstream.toml"


# ---------------------------------------------------------------- the new pin


def new_pin(pin: Pin, version: str) -> Pin:
    """The pin for ``version``: same kind of artifact, sha256 from the index."""
    artifact = pin.artifact.replace(pin.version, version, 1)
    for entry in project_files(pin.package):
        if entry.get("filename") == artifact:
            sha = entry.get("hashes", {}).get("sha256")
            if not sha:
                raise ArtifactError(f"the index lists {artifact} without a sha256")
            tag = pin.tag.replace(pin.version, version) if pin.tag else ""
            return replace(
                pin, version=version, artifact=artifact, sha256=sha, tag=tag, commit="", commit_verified=True
            )
    raise ArtifactError(f"{pin.package} {version}: no {artifact} on the package index")


# ---------------------------------------------------------------- saved state


def _save_state(fork: Fork, target: Pin, old_base: str) -> None:
    """Snapshot refs, pins and patch files; written before anything changes."""
    with atomic_path(_state_dir(fork)) as tmp:
        _write_state(tmp, fork, target, old_base)


def _write_state(tmp: Path, fork: Fork, target: Pin, old_base: str) -> None:
    (tmp / "patches").mkdir(parents=True)
    shutil.copy2(_pins_file(fork.root), tmp / "upstream.toml")
    for path in fork.patch_dir.iterdir():
        if path.is_file():
            shutil.copy2(path, tmp / "patches" / path.name)
    refs = {ref: rev(fork.path, ref) for ref in SAVED_REFS}
    subjects = {c: git(fork.path, "log", "-1", "--format=%B", c) for c in own_commits(fork.path)}
    state = dict(fork=fork.name, target=asdict(target), old_base=old_base, refs=refs, messages=subjects)
    (tmp / "state.json").write_text(json.dumps(state, indent=2))


def _load_state(fork: Fork) -> dict:
    path = _state_dir(fork) / "state.json"
    if not path.exists():
        raise RebaseError(f"[{fork.name}] no rebase in progress")
    return json.loads(path.read_text())


# ---------------------------------------------------------------- commands


def start(fork: Fork, version: str) -> str:
    if _state_dir(fork).exists():
        raise RebaseError(
            f"[{fork.name}] a rebase is already in progress: `nox -s rebase -- {fork.name} --continue` or `--abort`."
        )
    pinned = fork.pin.version
    if version_key(version) == version_key(pinned):
        raise RebaseError(f"[{fork.name}] is already at {pinned}; nothing to do.")
    old_base = require_in_sync(fork)
    _refuse_downgrade(fork, version)
    target = new_pin(fork.pin, version)
    _save_state(fork, target, old_base)
    return resume(fork)


def _refuse_downgrade(fork: Fork, version: str) -> None:
    """A rebase only moves forward: not to a release the fork had, nor below the pin."""
    pinned = fork.pin.version
    imported = IMPORT_SUBJECT.findall(git(fork.path, "log", "--format=%s", UPSTREAM_BRANCH))
    had = [v for package, v in imported if package == fork.pin.package and version_key(v) == version_key(version)]
    if had:
        why = f"{version} is already in the upstream history of {fork.name}/ (pinned: {pinned})"
    elif version_key(version) < version_key(pinned):
        why = f"{version} is older than the pinned {pinned}"
    else:
        return
    raise RebaseError(
        f"[{fork.name}] {why}: that would be a downgrade, which rebase does not do; nothing was changed. "
        f"Rebase to a release newer than {pinned}, or to go back, revert the commit that bumped "
        f"patches/upstream.toml and patches/{fork.name}/, then run `nox -s sync -- {fork.name}`."
    )


def resume(fork: Fork) -> str:
    """Drive the rebase from wherever it stopped (also after a kill)."""
    state = _load_state(fork)
    target = Pin(**state["target"])
    repo = fork.path
    new_base = find_release_commit(repo, target)
    if new_base is None:
        artifact = fetch(target)
        print(f"[{fork.name}] importing {target.artifact} ({artifact_path(target)})", flush=True)
        new_base = import_release(repo, target, artifact)
    if (repo / ".git" / "rebase-merge").exists() or (repo / ".git" / "rebase-apply").exists():
        _git_rebase(fork, "--continue")
    elif not is_ancestor(repo, new_base, PATCHED):
        git(repo, "checkout", "--quiet", PATCHED)
        _git_rebase(fork, "--empty=drop", "--onto", new_base, state["old_base"], PATCHED)
    return _finish(fork, state, target)


def _git_rebase(fork: Fork, *args: str) -> None:
    try:
        git(fork.path, "rebase", *args, env={"GIT_EDITOR": "true"})
    except GitError as exc:
        raise RebaseError(_conflict_message(fork, exc)) from None


def _conflict_message(fork: Fork, exc: GitError) -> str:
    repo = fork.path
    files = git(repo, "diff", "--name-only", "--diff-filter=U").split()
    subject = git(repo, "log", "-1", "--format=%s", "REBASE_HEAD", check=False).strip() or "(unknown)"
    if not files:
        return f"[{fork.name}] git rebase failed: {exc}"
    shown = "\n".join(f"    {fork.name}/{name}" for name in files)
    return (
        f"[{fork.name}] the patch '{subject}' conflicts with the new release in:\n{shown}\n"
        f"Resolve the conflict markers in those files, `git -C {fork.name} add <files>`, then\n"
        f"  nox -s rebase -- {fork.name} --continue\n"
        f"To drop this patch instead: `git -C {fork.name} rebase --skip`, then --continue.\n"
        f"To undo everything: nox -s rebase -- {fork.name} --abort"
    )


def _finish(fork: Fork, state: dict, target: Pin) -> str:
    kept = {git(fork.path, "log", "-1", "--format=%s", c).strip() for c in own_commits(fork.path)}
    upstream, skipped = [], []
    for commit, message in state["messages"].items():
        subject = message.splitlines()[0]
        if subject in kept:
            continue
        if _upstream_has(fork, commit):
            applied = re.findall(r"^Applied-Upstream: *(.+)$", message, re.M)
            note = f" (Applied-Upstream: {applied[-1].strip()})" if applied else ""
            upstream.append(f"  dropped, already upstream in {target.version}: {subject}{note}")
        else:
            skipped.append(f"  dropped, skipped by you (its change is not in {target.version}): {subject}")
    write_pin(_pins_file(fork.root), target)
    exported = export_fork(Fork(target, fork.root), in_rebase=True)
    shutil.rmtree(_state_dir(fork))
    report = [f"[{fork.name}] rebased onto {target.package} {target.version}; {exported}", *upstream, *skipped]
    report.append("Review and commit: git diff -- patches/upstream.toml patches/" + fork.name)
    return "\n".join(report)


def _upstream_has(fork: Fork, commit: str) -> bool:
    """The change of ``commit`` is already in the rebased tree (it reverse-applies there)."""
    diff = git_bytes(fork.path, "diff", "--full-index", "--binary", f"{commit}^", commit)
    try:
        git(fork.path, "apply", "--check", "--reverse", input=diff)
    except GitError:
        return False
    return True


def abort(fork: Fork) -> str:
    """Put refs, pins and patch files back exactly as they were."""
    state = _load_state(fork)
    repo = fork.path
    saved = _state_dir(fork)
    if (repo / ".git" / "rebase-merge").exists() or (repo / ".git" / "rebase-apply").exists():
        git(repo, "rebase", "--abort", check=False)
    for ref, sha in state["refs"].items():
        if sha:
            git(repo, "update-ref", ref, sha)
        else:
            git(repo, "update-ref", "-d", ref, check=False)
    git(repo, "symbolic-ref", "HEAD", f"refs/heads/{PATCHED}")
    git(repo, "reset", "--quiet", "--hard", f"refs/heads/{PATCHED}")
    shutil.copy2(saved / "upstream.toml", _pins_file(fork.root))
    for path in fork.patch_dir.iterdir():
        if path.is_file():
            path.unlink()
    for path in (saved / "patches").iterdir():
        shutil.copy2(path, fork.patch_dir / path.name)
    shutil.rmtree(saved)
    return f"[{fork.name}] rebase aborted; branches, pins and patches/{fork.name}/ are as before"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="rebase", description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, default=REPO_ROOT, help=argparse.SUPPRESS)
    parser.add_argument("fork")
    parser.add_argument("version", nargs="?")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--continue", dest="cont", action="store_true", help="resume after resolving a conflict")
    group.add_argument("--abort", action="store_true", help="restore everything as it was before")
    args = parser.parse_args(argv)
    pins = load_pins(_pins_file(args.root))
    if args.fork not in pins:
        raise PinError(f"unknown fork {args.fork}; pinned forks are: {', '.join(pins)}")
    fork = Fork(pins[args.fork], args.root)
    if args.abort:
        print(abort(fork))
    elif args.cont:
        print(resume(fork))
    elif args.version:
        print(start(fork, args.version))
    else:
        parser.error("give a version, --continue or --abort")
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
