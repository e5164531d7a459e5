"""Rebasing patch series onto real upstream releases from PyPI (downloads are cached, the
index is asked for every new pin). The same rules on generated releases, offline: test_rebase_tiny.py."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.version import Version

from mmlab_core.settings import PATCHES_DIR, REPO_ROOT
from scripts.stack.artifacts import newest_release
from scripts.stack.check import check_fork
from scripts.stack.export import export_fork
from scripts.stack.fork import Fork, read_series
from scripts.stack.gitcmd import git
from scripts.stack.pins import load_pins
from scripts.stack.rebase import RebaseError, abort, resume, start
from scripts.stack.status import fork_status
from scripts.stack.sync import sync_fork
from tests.helpers.forks import edit_in_fork

pytestmark = pytest.mark.network

MMDET3D_130 = """[mmdetection3d]
package = "mmdet3d"
version = "1.3.0"
artifact = "mmdet3d-1.3.0.tar.gz"
sha256 = "851eddad5150fd769ded494cb3df356db191eb4f29e83766f833186fe6496010"
git_url = "https://github.com/open-mmlab/mmdetection3d.git"
tag = "v1.3.0"
commit = "5c0613be29bd2e51771ec5e046d89ba3089887c7"
"""
MMDET3D_140_SHA = "2c76b591edb65c3009265c9c308646ccee2ca31375b1dd3f27bd3773621c333d"
INIT = "mmdet3d/__init__.py"
OLD_BOUND = "mmdet_maximum_version = '3.3.0'"


def _fork(root: Path, name: str) -> Fork:
    return Fork(load_pins(root / "patches" / "upstream.toml")[name], root)


@pytest.fixture
def mmdet3d_130(tmp_path) -> Fork:
    """mmdet3d 1.3.0 with two patches: one upstream keeps, one 1.4.0 already has."""
    (tmp_path / "patches" / "mmdetection3d").mkdir(parents=True)
    (tmp_path / "patches" / "upstream.toml").write_text(MMDET3D_130)
    (tmp_path / "patches" / "mmdetection3d" / "series").write_text("")
    fork = _fork(tmp_path, "mmdetection3d")
    sync_fork(fork)
    sampler = "mmdet3d/datasets/transforms/dbsampler.py"
    edit_in_fork(fork, sampler, "dtype=np.long)", "dtype=np.int64)", "dbsampler: label dtype int64")
    edit_in_fork(
        fork, INIT, OLD_BOUND, "mmdet_maximum_version = '3.4.0'", "Allow mmdet 3.3", extra="Applied-Upstream: 1.4.0\n"
    )
    export_fork(fork)
    return fork


def _snapshot(fork: Fork) -> dict:
    """Every ref of the fork and the hash of every file under patches/."""
    refs = git(fork.path, "for-each-ref", "--format=%(refname) %(objectname)")
    files = {
        str(p.relative_to(fork.root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted((fork.root / "patches").rglob("*"))
        if p.is_file()
    }
    head = git(fork.path, "symbolic-ref", "-q", "HEAD", check=False).strip()
    return dict(refs=refs, files=files, head=head, status=git(fork.path, "status", "--porcelain"))


def test_mmdet3d_1_3_to_1_4_drops_the_patch_upstream_has(mmdet3d_130):
    report = start(mmdet3d_130, "1.4.0")
    assert "dropped" in report and "Allow mmdet 3.3" in report and "Applied-Upstream: 1.4.0" in report
    root = mmdet3d_130.root
    pin = load_pins(root / "patches" / "upstream.toml")["mmdetection3d"]
    assert (pin.version, pin.artifact, pin.sha256, pin.tag) == (
        "1.4.0",
        "mmdet3d-1.4.0.tar.gz",
        MMDET3D_140_SHA,
        "v1.4.0",
    )
    assert read_series(mmdet3d_130.patch_dir) == ["dbsampler-label-dtype-int64.patch"]
    fork = _fork(root, "mmdetection3d")
    assert fork_status(fork)["series"] == "in sync"
    imports = git(fork.path, "log", "--format=%s", "upstream").splitlines()
    assert imports == ["Import mmdet3d 1.4.0 from PyPI", "Import mmdet3d 1.3.0 from PyPI"]
    assert check_fork(fork.pin, root) == []


@pytest.mark.slow
def test_mmcv_2_1_to_2_2_carries_the_real_series(tmp_path):
    shutil.copytree(PATCHES_DIR, tmp_path / "patches")
    fork = _fork(tmp_path, "mmcv")
    sync_fork(fork)
    before = read_series(fork.patch_dir)
    start(fork, "2.2.0")
    fork = _fork(tmp_path, "mmcv")
    assert fork.pin.version == "2.2.0" and read_series(fork.patch_dir) == before
    assert check_fork(fork.pin, tmp_path) == []


def test_mmdeploy_1_3_0_to_1_3_1_gives_back_the_committed_patches(tmp_path):
    shutil.copytree(PATCHES_DIR, tmp_path / "patches")
    pins = tmp_path / "patches" / "upstream.toml"
    text = pins.read_text()
    for old, new in (
        ('version = "1.3.1"', 'version = "1.3.0"'),
        ("mmdeploy-1.3.1-py3", "mmdeploy-1.3.0-py3"),
        (
            "24407d9b9ca0274e9a97b39754ca2bca921d9189c4dba31b262350ecb909b923",
            "b4c2a79748486e7e2fd35a973c7f7865bbd97e100b595ba5d78f22ffcfbd10e1",
        ),
    ):
        text = text.replace(old, new)
    pins.write_text(text)
    fork = _fork(tmp_path, "mmdeploy")
    sync_fork(fork)  # the series written for 1.3.1 applies to 1.3.0
    start(fork, "1.3.1")
    for name in read_series(PATCHES_DIR / "mmdeploy"):
        assert (fork.patch_dir / name).read_bytes() == (PATCHES_DIR / "mmdeploy" / name).read_bytes()


def _conflicting(fork: Fork) -> None:
    """Replace "Allow mmdet 3.3" by a patch that changes the same line as 1.4.0, differently."""
    git(fork.path, "reset", "--quiet", "--hard", "HEAD~1")
    edit_in_fork(fork, INIT, OLD_BOUND, "mmdet_maximum_version = '3.3.1'", "Allow mmdet 3.3.1")
    export_fork(fork)


def test_conflict_names_fork_patch_and_files_then_continue(mmdet3d_130):
    _conflicting(mmdet3d_130)
    with pytest.raises(RebaseError) as caught:
        start(mmdet3d_130, "1.4.0")
    message = str(caught.value)
    for expected in ("[mmdetection3d]", "'Allow mmdet 3.3.1'", f"mmdetection3d/{INIT}", "--continue", "--abort"):
        assert expected in message
    # resolve: keep upstream's newer bound and add our own line
    text = (mmdet3d_130.path / INIT).read_text()
    start_marker, end_marker = text.index("<<<<<<<"), text.index(">>>>>>>")
    end_marker = text.index("\n", end_marker) + 1
    resolved = text[:start_marker] + "mmdet_maximum_version = '3.4.1'\n" + text[end_marker:]
    (mmdet3d_130.path / INIT).write_text(resolved)
    git(mmdet3d_130.path, "add", INIT)
    report = resume(mmdet3d_130)
    assert "rebased onto mmdet3d 1.4.0" in report
    series = read_series(mmdet3d_130.patch_dir)
    assert series == ["dbsampler-label-dtype-int64.patch", "allow-mmdet-3-3-1.patch"]
    assert b"+mmdet_maximum_version = '3.4.1'" in (mmdet3d_130.patch_dir / series[1]).read_bytes()


def test_abort_leaves_everything_byte_identical(mmdet3d_130):
    _conflicting(mmdet3d_130)
    before = _snapshot(mmdet3d_130)
    with pytest.raises(RebaseError):
        start(mmdet3d_130, "1.4.0")
    assert _snapshot(mmdet3d_130) != before
    print(abort(mmdet3d_130))
    assert _snapshot(mmdet3d_130) == before


def test_refuses_a_fork_with_unexported_work(mmdet3d_130):
    (mmdet3d_130.path / INIT).write_text("# local edit\n")
    with pytest.raises(Exception, match="clean and in sync"):
        start(mmdet3d_130, "1.4.0")
    assert (mmdet3d_130.path / INIT).read_text() == "# local edit\n"


KILL = """
import os, signal, sys
sys.path.insert(0, {repo!r})
import scripts.stack.rebase as rebase
target = {target!r}
real = getattr(rebase, target)
def killed(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)
setattr(rebase, target, killed)
sys.exit(rebase.main(["--root", {root!r}, "mmdetection3d", "1.4.0"]))
"""


@pytest.mark.parametrize("point", ["import_release", "_git_rebase", "export_fork"])
def test_sigkill_mid_rebase_can_be_continued_or_aborted(mmdet3d_130, tmp_path, point):
    """Killed before the import, before the git rebase, or half-way through writing the result."""
    root = mmdet3d_130.root
    pristine = tmp_path / "pristine"
    shutil.copytree(root, pristine, symlinks=True)
    before = _snapshot(mmdet3d_130)
    code = KILL.format(repo=str(REPO_ROOT), target=point, root=str(root))
    result = subprocess.run([sys.executable, "-c", code], env=dict(os.environ), capture_output=True, text=True)
    assert result.returncode == -9, result.stderr
    abort(mmdet3d_130)
    assert _snapshot(mmdet3d_130) == before
    # the same kill, then --continue, ends where an uninterrupted rebase ends
    result = subprocess.run([sys.executable, "-c", code], env=dict(os.environ), capture_output=True, text=True)
    assert result.returncode == -9
    report = resume(mmdet3d_130)
    assert "rebased onto mmdet3d 1.4.0" in report
    assert read_series(mmdet3d_130.patch_dir) == ["dbsampler-label-dtype-int64.patch"]
    assert fork_status(_fork(root, "mmdetection3d"))["series"] == "in sync"


def test_newest_release_comes_from_the_index():
    assert Version(newest_release("mmdet3d")) >= Version("1.4.0")
