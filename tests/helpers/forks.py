"""A tiny generated release ('tiny-1.0') and the commits a user makes in a fork, for the patch queue's tests."""

from __future__ import annotations

import hashlib
import io
import subprocess
import tarfile
from pathlib import Path

from scripts.stack.fork import Fork
from scripts.stack.gitcmd import git_env

TINY_FILES = {
    "tiny/__init__.py": ("__version__ = '1.0'\n", 0o644),
    "tiny/core.py": ("def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n", 0o644),
    "setup.py": ("from setuptools import setup\nsetup(name='tiny')\n", 0o644),
    "run.sh": ("#!/bin/sh\necho tiny\n", 0o755),
    "PKG-INFO": ("Name: tiny\n", 0o644),
    "tiny.egg-info/PKG-INFO": ("Name: tiny\n", 0o644),
}


def make_sdist(path: Path, files: dict[str, tuple[str, int]], top: str = "tiny-1.0") -> str:
    """Write a .tar.gz like an sdist; return its sha256."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, (text, mode) in sorted(files.items()):
            data = text.encode()
            info = tarfile.TarInfo(f"{top}/{name}")
            info.size, info.mode, info.mtime = len(data), mode, 1700000000
            tar.addfile(info, io.BytesIO(data))
    path.write_bytes(buffer.getvalue())
    return hashlib.sha256(path.read_bytes()).hexdigest()


def commit_in_fork(fork: Fork, path: str, text: str, subject: str, trailers: bool = True, extra: str = "") -> None:
    """Edit a file in the fork and commit it the way a user would."""
    (fork.path / path).write_text(text)
    body = f"{subject}\n\nExplain the change.\n"
    if trailers:
        body += f"\nWhy: tests need it\nOrigin: vendor\nForwarded: no\n{extra}"
    env = git_env({"GIT_AUTHOR_NAME": "Dev", "GIT_AUTHOR_EMAIL": "dev@example.com"})
    subprocess.run(["git", "add", path], cwd=fork.path, check=True, env=env)
    subprocess.run(["git", "commit", "-q", "-m", body], cwd=fork.path, check=True, env=env)


def edit_in_fork(fork: Fork, path: str, old: str, new: str, subject: str, **kwargs) -> None:
    """Replace ``old`` by ``new`` in one fork file and commit that as a patch."""
    text = (fork.path / path).read_text()
    assert old in text, f"{old!r} not in {path}"
    commit_in_fork(fork, path, text.replace(old, new), subject, **kwargs)
