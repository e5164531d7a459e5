"""MMLAB_DATASET_PATH / MMLAB_CHECKPOINTS_PATH and `nox -s link`."""

from __future__ import annotations

import pytest

from scripts.stack.fork import dirty_files
from scripts.stack.workspace import WorkspaceError, link


@pytest.fixture
def root(tmp_path, monkeypatch):
    for fork in ("mmdetection", "mmdetection3d"):
        (tmp_path / fork / ".git" / "info").mkdir(parents=True)
    monkeypatch.setenv("MMLAB_DATASET_PATH", str(tmp_path / "datasets"))
    monkeypatch.setenv("MMLAB_CHECKPOINTS_PATH", str(tmp_path / "ckpts"))
    return tmp_path


def test_link_is_idempotent_and_points_at_the_workspace(root):
    first = link(root)
    assert len(first) == 4 and (root / "mmdetection3d" / "data").resolve() == root / "datasets"
    assert (root / "mmdetection" / "checkpoints").resolve() == root / "ckpts"
    second = link(root)
    assert all(line.endswith("(already)") for line in second)
    assert (root / "mmdetection" / ".git" / "info" / "exclude").read_text().split().count("/data") == 1


def test_link_refuses_a_real_directory_with_content(root):
    (root / "mmdetection" / "data").mkdir()
    (root / "mmdetection" / "data" / "coco.json").write_text("{}")
    with pytest.raises(WorkspaceError, match="real directory with content"):
        link(root)
    assert (root / "mmdetection" / "data" / "coco.json").read_text() == "{}"


def test_links_do_not_dirty_a_real_fork(tmp_path, monkeypatch):
    import subprocess

    for fork in ("mmdetection", "mmdetection3d"):
        subprocess.run(["git", "init", "-q", str(tmp_path / fork)], check=True)
    monkeypatch.setenv("MMLAB_DATASET_PATH", str(tmp_path / "datasets"))
    monkeypatch.setenv("MMLAB_CHECKPOINTS_PATH", str(tmp_path / "ckpts"))
    link(tmp_path)
    assert dirty_files(tmp_path / "mmdetection3d") == []
