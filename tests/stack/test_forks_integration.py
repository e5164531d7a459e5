"""Integration: a fresh sync of every real fork from their pinned PyPI
artifacts, then the CI gate (`check`). Downloads once into the cache."""

from __future__ import annotations

import shutil

import pytest

from mmlab_core.settings import PATCHES_DIR
from scripts.stack.check import check_fork
from scripts.stack.fork import PATCHED, Fork, dirty_files, own_commits, read_series
from scripts.stack.gitcmd import git, rev
from scripts.stack.pins import fork_names, load_pins
from scripts.stack.release_import import UPSTREAM_BRANCH
from scripts.stack.sync import sync_fork

pytestmark = [pytest.mark.slow, pytest.mark.network]


@pytest.fixture(scope="module")
def fresh_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("fresh")
    shutil.copytree(PATCHES_DIR, root / "patches")
    for pin in load_pins().values():
        sync_fork(Fork(pin, root))
    return root


def test_pins_cover_every_fork():
    pins = load_pins()
    assert {p.fork: p.version for p in pins.values()} == {
        "mmengine": "0.10.7",
        "mmcv": "2.1.0",
        "mmdetection": "3.3.0",
        "mmdetection3d": "1.4.0",
        "mmdeploy": "1.3.1",
        "nuscenes-devkit": "1.2.0",
        "lyft-dataset-sdk": "0.0.8",
        "spconv": "2.3.8",
    }


@pytest.mark.parametrize("name", fork_names())
def test_fresh_sync_gives_upstream_plus_series(fresh_root, name):
    fork = Fork(load_pins()[name], fresh_root)
    assert dirty_files(fork.path) == []
    assert git(fork.path, "symbolic-ref", "--short", "HEAD").strip() == PATCHED
    assert len(own_commits(fork.path)) == len(read_series(fork.patch_dir))
    message = git(fork.path, "log", "-1", "--format=%B", UPSTREAM_BRANCH)
    assert f"Sha256: {fork.pin.sha256}" in message


@pytest.mark.parametrize("name", fork_names())
def test_import_commit_is_the_same_in_every_clone(fresh_root, tmp_path, name):
    """A second, independent import gives the same upstream commit id."""
    pin = load_pins()[name]
    other = tmp_path / "root"
    shutil.copytree(PATCHES_DIR, other / "patches")
    sync_fork(Fork(pin, other))
    assert rev(other / name, UPSTREAM_BRANCH) == rev(fresh_root / name, UPSTREAM_BRANCH)
    assert rev(other / name, PATCHED) == rev(fresh_root / name, PATCHED)


@pytest.mark.parametrize("name", fork_names())
def test_check_passes_for_the_committed_series(name):
    assert check_fork(load_pins()[name]) == []
