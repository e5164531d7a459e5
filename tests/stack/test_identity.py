"""The stack identity every MLflow run carries (scripts/stack/identity.py)."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

from scripts.stack.identity import fork_commit, fork_is_dirty, stack_identity, tree_sha256
from scripts.stack.pins import fork_names


def _git(repo: Path, *args: str) -> str:
    env = {"GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(repo), "PATH": "/usr/bin:/bin"}
    ident = ["-c", "user.name=t", "-c", "user.email=t@t"]
    return subprocess.run(["git", *ident, *args], cwd=repo, env=env, check=True, capture_output=True, text=True).stdout


def test_patches_hash_changes_with_a_patch_edit_or_a_rename(tmp_path):
    (tmp_path / "mmcv").mkdir()
    (tmp_path / "mmcv" / "series").write_text("a.patch\n")
    (tmp_path / "mmcv" / "a.patch").write_text("diff\n")
    before = tree_sha256(tmp_path)
    assert tree_sha256(tmp_path) == before
    (tmp_path / "mmcv" / "a.patch").write_text("diff 2\n")
    edited = tree_sha256(tmp_path)
    (tmp_path / "mmcv" / "a.patch").rename(tmp_path / "mmcv" / "b.patch")
    assert len({before, edited, tree_sha256(tmp_path)}) == 3


def test_fork_commit_and_uncommitted_edits(tmp_path):
    repo = tmp_path / "mmcv"
    repo.mkdir()
    _git(repo, "init", "-q")
    (repo / "setup.py").write_text("x = 1\n")
    _git(repo, "add", "setup.py")
    _git(repo, "commit", "-q", "-m", "one")
    assert fork_commit(repo) == _git(repo, "rev-parse", "HEAD").strip()
    assert not fork_is_dirty(repo)
    (repo / "untracked.txt").write_text("build output\n")
    assert not fork_is_dirty(repo)  # build outputs are not edits
    (repo / "setup.py").write_text("x = 2\n")
    assert fork_is_dirty(repo)
    assert fork_commit(tmp_path / "missing") == "not synced"


def test_identity_names_the_lock_and_every_fork(tmp_path):
    (tmp_path / "patches").mkdir()
    (tmp_path / "requirements").mkdir()
    (tmp_path / "requirements" / "stack.lock").write_text("torch==2.13.0+cpu\n")
    identity = stack_identity(tmp_path)
    assert identity["stack.lock_sha256"] == hashlib.sha256(b"torch==2.13.0+cpu\n").hexdigest()
    forks = {key.removeprefix("stack.commit.") for key in identity if key.startswith("stack.commit.")}
    assert forks == set(fork_names()) and {"mmcv", "mmdetection3d"} <= forks
    assert identity["stack.commit.mmcv"] == "not synced" and identity["stack.uncommitted"] == "none"
