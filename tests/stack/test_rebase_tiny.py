"""Rebase on generated releases (no network): refusals, the drop report, the guards' wording."""

from __future__ import annotations

import hashlib
import subprocess

import pytest

from scripts.stack import rebase
from scripts.stack.export import export_fork
from scripts.stack.fork import Fork, PatchQueueError, read_series
from scripts.stack.gitcmd import git, git_env
from scripts.stack.pins import load_pins
from scripts.stack.rebase import RebaseError, abort, resume, start
from scripts.stack.sync import sync_fork
from tests.helpers.forks import TINY_FILES, edit_in_fork, make_sdist

CORE = "tiny/core.py"
# 1.1 takes "Swap add" upstream and rewrites sub() differently from "Sub by negation".
TINY_11 = {
    **TINY_FILES,
    "tiny/__init__.py": ("__version__ = '1.1'\n", 0o644),
    CORE: ("def add(a, b):\n    return b + a\n\n\ndef sub(a, b):\n    return -(b - a)\n", 0o644),
}


@pytest.fixture
def pinned(tiny, cache, monkeypatch) -> Fork:
    """``tiny`` pinned in ``root/patches/upstream.toml``, with 0.9 and 1.1 on a fake index."""
    listing = [{"filename": "tiny-1.0.tar.gz", "hashes": {"sha256": tiny.pin.sha256}}]
    for version, files in (("0.9", TINY_FILES), ("1.1", TINY_11)):
        name = f"tiny-{version}.tar.gz"
        sha = make_sdist(cache / "artifacts" / name, files, top=f"tiny-{version}")
        listing.append({"filename": name, "hashes": {"sha256": sha}})
    monkeypatch.setattr(rebase, "project_files", lambda package: listing)
    pin = tiny.pin
    (tiny.root / "patches" / "upstream.toml").write_text(
        f'[tiny]\npackage = "tiny"\nversion = "{pin.version}"\nartifact = "{pin.artifact}"\nsha256 = "{pin.sha256}"\n'
    )
    return tiny


def _reload(fork: Fork) -> Fork:
    return Fork(load_pins(fork.root / "patches" / "upstream.toml")["tiny"], fork.root)


def _with_two_patches(fork: Fork) -> None:
    sync_fork(fork)
    edit_in_fork(fork, CORE, "return a + b", "return b + a", "Swap add")
    edit_in_fork(fork, CORE, "return a - b", "return a + -b", "Sub by negation")
    export_fork(fork)


def _snapshot(fork: Fork) -> tuple:
    refs = git(fork.path, "for-each-ref", "--format=%(refname) %(objectname)")
    files = {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in (fork.root / "patches").rglob("*") if p.is_file()
    }
    return refs, files, git(fork.path, "status", "--porcelain")


def test_report_tells_skipped_by_you_apart_from_already_upstream(pinned):
    _with_two_patches(pinned)
    with pytest.raises(RebaseError, match="Sub by negation"):
        start(pinned, "1.1")
    env = git_env({"GIT_EDITOR": "true"})
    subprocess.run(["git", "rebase", "--skip"], cwd=pinned.path, env=env, check=True, capture_output=True)
    report = resume(pinned).splitlines()
    upstream = [line for line in report if "Swap add" in line]
    skipped = [line for line in report if "Sub by negation" in line]
    assert len(upstream) == 1 and "already upstream in 1.1" in upstream[0] and "skipped" not in upstream[0]
    assert len(skipped) == 1 and "skipped by you" in skipped[0] and "upstream" not in skipped[0]
    assert read_series(pinned.patch_dir) == []


@pytest.mark.parametrize(("version", "reason"), [("0.9", "a downgrade"), ("1.0.0", "already at 1.0")])
def test_downgrade_below_the_pin_is_refused_before_anything_changes(pinned, version, reason):
    _with_two_patches(pinned)
    before = _snapshot(pinned)
    with pytest.raises(RebaseError, match=reason):
        start(pinned, version)
    assert _snapshot(pinned) == before
    assert not (pinned.path / ".git" / "mmlab-rebase").exists()


def test_rebase_back_to_a_release_in_the_upstream_history_is_refused(pinned):
    sync_fork(pinned)
    edit_in_fork(pinned, "setup.py", "name='tiny'", "name='tiny', zip_safe=False", "Not zip safe")
    export_fork(pinned)
    start(pinned, "1.1")
    fork = _reload(pinned)
    before = _snapshot(fork)
    with pytest.raises(RebaseError) as caught:
        start(fork, "1.0")
    assert "already in the upstream history" in str(caught.value)
    assert _snapshot(fork) == before
    assert _reload(fork).pin.version == "1.1"
    assert not (fork.path / ".git" / "mmlab-rebase").exists()


def test_a_never_synced_fork_is_said_not_to_exist(pinned):
    with pytest.raises(PatchQueueError) as caught:
        start(pinned, "1.1")
    message = str(caught.value)
    assert "does not exist" in message and "nox -s sync" in message and "not a git repository" not in message


def test_sync_and_export_during_a_rebase_give_the_full_nox_commands(pinned):
    _with_two_patches(pinned)
    with pytest.raises(RebaseError):
        start(pinned, "1.1")
    for command in (sync_fork, export_fork):
        with pytest.raises(PatchQueueError) as caught:
            command(pinned)
        message = str(caught.value)
        assert "nox -s rebase -- tiny --continue" in message and "nox -s rebase -- tiny --abort" in message
    abort(pinned)
