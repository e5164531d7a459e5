"""mmlab_core/files.py: files written whole or not at all (host side, standard library only)."""

from __future__ import annotations

import os
import pickle

import pytest

from mmlab_core.files import atomic_path, atomic_write


def test_atomic_write_replaces_the_file_with_the_usual_mode(tmp_path):
    target = tmp_path / "report.json"
    target.write_text("old")
    old_umask = os.umask(0o022)
    try:
        assert atomic_write(target, "new ✓") == target
        atomic_write(tmp_path / "blob.bin", b"\x00\x01")
    finally:
        os.umask(old_umask)
    assert target.read_text() == "new ✓" and (tmp_path / "blob.bin").read_bytes() == b"\x00\x01"
    assert target.stat().st_mode & 0o777 == 0o644  # not mkstemp's 0600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blob.bin", "report.json"]


def test_a_writer_that_fails_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "infos.pkl"
    target.write_bytes(pickle.dumps({"frames": 3}))
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        with tmp.open("wb") as out:
            out.write(b"half a pick")
        raise RuntimeError("killed mid-write")
    assert pickle.loads(target.read_bytes()) == {"frames": 3}
    assert [p.name for p in tmp_path.iterdir()] == ["infos.pkl"]


def test_a_folder_is_filled_under_a_temporary_name_then_renamed(tmp_path):
    target = tmp_path / "state"
    with atomic_path(target) as tmp:
        (tmp / "patches").mkdir(parents=True)
        (tmp / "state.json").write_text("{}")
        assert not target.exists()
    assert (target / "state.json").read_text() == "{}" and (target / "patches").is_dir()
    assert [p.name for p in tmp_path.iterdir()] == ["state"]
