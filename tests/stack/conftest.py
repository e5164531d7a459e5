"""Fixtures of the patch queue's tests: a cache folder and a fork pinned to a generated release."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.stack.fork import Fork
from scripts.stack.pins import Pin
from tests.helpers.forks import TINY_FILES, make_sdist


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "cache"
    monkeypatch.setenv("MMLAB_CACHE_DIR", str(path))
    (path / "artifacts").mkdir(parents=True)
    return path


@pytest.fixture
def tiny(tmp_path, cache) -> Fork:
    """A fork 'tiny' pinned to a generated release, with an empty series."""
    artifact = cache / "artifacts" / "tiny-1.0.tar.gz"
    sha = make_sdist(artifact, TINY_FILES)
    root = tmp_path / "root"
    (root / "patches" / "tiny").mkdir(parents=True)
    (root / "patches" / "tiny" / "series").write_text("")
    pin = Pin(fork="tiny", package="tiny", version="1.0", artifact="tiny-1.0.tar.gz", sha256=sha)
    return Fork(pin, root)
