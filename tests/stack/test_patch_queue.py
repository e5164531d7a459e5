"""The patch-queue tool on small git repositories made in a temp dir."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys

import pytest

from mmlab_core.settings import REPO_ROOT
from scripts.stack.artifacts import ArtifactError
from scripts.stack.check import check_fork
from scripts.stack.export import export_fork
from scripts.stack.fork import PATCHED, PatchQueueError, dirty_files, operation_in_progress, own_commits, read_series
from scripts.stack.gitcmd import git, git_env, rev
from scripts.stack.patch_lint import lint_patch_dir
from scripts.stack.release_import import UPSTREAM_BRANCH, import_release
from scripts.stack.status import fork_status
from scripts.stack.sync import PatchApplyError, sync_fork
from tests.helpers.forks import TINY_FILES, commit_in_fork, edit_in_fork, make_sdist


def _two_patches(tiny):
    """Sync, make two commits, export them; return the patch bytes."""
    sync_fork(tiny)
    commit_in_fork(
        tiny, "tiny/core.py", "def add(a, b):\n    return b + a\n\n\ndef sub(a, b):\n    return a - b\n", "Swap add"
    )
    commit_in_fork(tiny, "tiny/__init__.py", "__version__ = '1.0+x'\n", "Mark the version")
    export_fork(tiny)
    return {name: (tiny.patch_dir / name).read_bytes() for name in read_series(tiny.patch_dir)}


def test_import_is_deterministic_and_keeps_modes(tiny, tmp_path):
    artifact = tmp_path / "cache" / "artifacts" / "tiny-1.0.tar.gz"
    old = os.umask(0o077)
    try:
        first = import_release(tmp_path / "a", tiny.pin, artifact)
    finally:
        os.umask(old)
    second = import_release(tmp_path / "b", tiny.pin, artifact)
    assert first == second
    tree = git(tmp_path / "a", "ls-tree", "-r", UPSTREAM_BRANCH)
    assert "100755 blob" in next(line for line in tree.splitlines() if line.endswith("run.sh"))
    assert "PKG-INFO" not in tree and "egg-info" not in tree


def test_sync_applies_series_as_commits(tiny):
    patches = _two_patches(tiny)
    shutil.rmtree(tiny.path)
    assert sync_fork(tiny).startswith("created")
    subjects = git(tiny.path, "log", "--format=%s", f"{UPSTREAM_BRANCH}..{PATCHED}").splitlines()
    assert subjects == ["Mark the version", "Swap add"]
    assert "return b + a" in (tiny.path / "tiny" / "core.py").read_text()
    assert list(patches) == ["swap-add.patch", "mark-the-version.patch"]


def test_export_round_trip_is_byte_identical(tiny):
    patches = _two_patches(tiny)
    shutil.rmtree(tiny.path)
    sync_fork(tiny)
    export_fork(tiny)
    again = {name: (tiny.patch_dir / name).read_bytes() for name in read_series(tiny.patch_dir)}
    assert again == patches
    first_ids = own_commits(tiny.path)
    shutil.rmtree(tiny.path)
    sync_fork(tiny)
    assert own_commits(tiny.path) == first_ids  # patched commits are deterministic too


def test_a_patch_filename_trailer_keeps_the_file_when_the_subject_is_reworded(tiny):
    sync_fork(tiny)
    commit_in_fork(tiny, "tiny/__init__.py", "__version__ = '1.0+x'\n", "Mark the version")
    export_fork(tiny)
    assert read_series(tiny.patch_dir) == ["mark-the-version.patch"]
    # reword the subject, keeping the file name with the trailer
    message = "Mark the release as ours\n\nExplain the change.\n\nWhy: tests need it\nOrigin: vendor\n"
    message += "Forwarded: no\nPatch-Filename: mark-the-version.patch\n"
    git(tiny.path, "commit", "-q", "--amend", "-m", message, env=git_env({}))
    export_fork(tiny)
    assert read_series(tiny.patch_dir) == ["mark-the-version.patch"]
    assert b"Subject: Mark the release as ours" in (tiny.patch_dir / "mark-the-version.patch").read_bytes()
    shutil.rmtree(tiny.path)  # the trailer travels with the patch: a fresh sync exports the same name
    sync_fork(tiny)
    export_fork(tiny)
    assert sorted(p.name for p in tiny.patch_dir.glob("*.patch")) == ["mark-the-version.patch"]


def test_a_patch_filename_that_is_not_a_plain_patch_name_is_refused(tiny):
    sync_fork(tiny)
    commit_in_fork(tiny, "tiny/__init__.py", "x = 1\n", "Set x", extra="Patch-Filename: ../escape.patch\n")
    with pytest.raises(PatchQueueError, match=r"names its patch file '\.\./escape\.patch' \(Patch-Filename\)"):
        export_fork(tiny)
    assert not (tiny.patch_dir.parent / "escape.patch").exists()


def test_sync_is_a_no_op_when_up_to_date(tiny):
    _two_patches(tiny)
    tip = rev(tiny.path, PATCHED)
    assert sync_fork(tiny).startswith("up to date")
    assert rev(tiny.path, PATCHED) == tip


def test_conflicting_patch_leaves_fork_clean_at_last_good_commit(tiny):
    _two_patches(tiny)
    # A third patch written against the pristine release: it conflicts with "Swap add".
    git(tiny.path, "checkout", "--quiet", UPSTREAM_BRANCH)
    commit_in_fork(
        tiny,
        "tiny/core.py",
        "def add(a, b):\n    return a + b + 0\n\n\ndef sub(a, b):\n    return a - b\n",
        "Other add",
    )
    other = git(tiny.path, "format-patch", "--stdout", "-1", "HEAD", "--zero-commit", "--full-index")
    git(tiny.path, "checkout", "--quiet", PATCHED)
    (tiny.patch_dir / "conflicts.patch").write_text(other)
    with (tiny.patch_dir / "series").open("a") as fh:
        fh.write("conflicts.patch\n")
    series = read_series(tiny.patch_dir)
    # Move conflicts.patch before mark-the-version so that a good patch follows it.
    (tiny.patch_dir / "series").write_text("\n".join([series[0], series[2], series[1]]) + "\n")
    shutil.rmtree(tiny.path)
    with pytest.raises(PatchApplyError) as caught:
        sync_fork(tiny)
    message = str(caught.value)
    assert "conflicts.patch" in message and "tiny/core.py" in message and "2/3" in message
    assert caught.value.files == ["tiny/core.py"]
    assert dirty_files(tiny.path) == []
    assert operation_in_progress(tiny.path) is None
    assert git(tiny.path, "log", "-1", "--format=%s", PATCHED).strip() == "Swap add"
    assert git(tiny.path, "symbolic-ref", "--short", "HEAD").strip() == PATCHED


def test_sync_refuses_a_dirty_fork_and_keeps_the_edit(tiny):
    patches = _two_patches(tiny)
    (tiny.path / "tiny" / "core.py").write_text("# my work in progress\n")
    (tiny.path / "notes.txt").write_text("untracked notes\n")
    (tiny.patch_dir / "series").write_text(next(iter(patches)) + "\n")  # series changed under it
    with pytest.raises(PatchQueueError) as caught:
        sync_fork(tiny)
    assert "tiny/tiny/core.py" in str(caught.value) and "tiny/notes.txt" in str(caught.value)
    assert "export" in str(caught.value) and "--force" in str(caught.value)
    assert (tiny.path / "tiny" / "core.py").read_text() == "# my work in progress\n"
    assert (tiny.path / "notes.txt").exists()


def test_sync_refuses_unexported_commits(tiny):
    _two_patches(tiny)
    commit_in_fork(tiny, "tiny/core.py", "x = 1\n", "My unexported fix")
    tip = rev(tiny.path, PATCHED)
    (tiny.patch_dir / "series").write_text("swap-add.patch\n")
    with pytest.raises(PatchQueueError) as caught:
        sync_fork(tiny)
    assert "My unexported fix" in str(caught.value)
    assert rev(tiny.path, PATCHED) == tip


def test_force_sets_work_aside_before_syncing(tiny):
    _two_patches(tiny)
    commit_in_fork(tiny, "tiny/core.py", "x = 1\n", "My unexported fix")
    tip = rev(tiny.path, PATCHED)
    (tiny.path / "setup.py").write_text("# edit\n")
    result = sync_fork(tiny, force=True)
    assert "refs/mmlab/backup/" in result
    backups = git(tiny.path, "for-each-ref", "--format=%(objectname)", "refs/mmlab/backup/").split()
    assert backups == [tip]
    assert "mmlab sync --force" in git(tiny.path, "stash", "list")
    assert dirty_files(tiny.path) == []
    assert len(own_commits(tiny.path)) == 2


def test_exported_commits_may_be_replaced_by_a_new_series(tiny):
    """Commits that patch files hold are not user work: a pulled series wins."""
    patches = _two_patches(tiny)
    first, second = patches
    (tiny.patch_dir / "series").write_text(second + "\n")
    (tiny.patch_dir / first).unlink()
    assert sync_fork(tiny).startswith("re-applied 1 patch on")


def test_sha256_mismatch_names_the_artifact(tiny, cache):
    (cache / "artifacts" / "tiny-1.0.tar.gz").write_bytes(b"not the release")
    with pytest.raises(ArtifactError) as caught:
        sync_fork(tiny)
    assert "tiny-1.0.tar.gz" in str(caught.value) and tiny.pin.sha256 in str(caught.value)
    assert not tiny.path.exists()


def test_lint_finds_missing_trailers_and_series_mismatch(tiny):
    sync_fork(tiny)
    commit_in_fork(tiny, "tiny/core.py", "x = 1\n", "No trailers here", trailers=False)
    assert "lint: " in export_fork(tiny)
    (tiny.patch_dir / "stray.patch").write_text("x")
    with (tiny.patch_dir / "series").open("a") as fh:
        fh.write("gone.patch\n")
    problems = "\n".join(lint_patch_dir(tiny.patch_dir))
    for expected in (
        "missing the Why: trailer",
        "missing the Origin:",
        "missing the Forwarded:",
        "stray.patch: not listed",
        "gone.patch does not exist",
    ):
        assert expected in problems


def test_check_passes_and_catches_a_hand_edited_patch(tiny):
    patches = _two_patches(tiny)
    assert check_fork(tiny.pin, tiny.root) == []
    name = next(iter(patches))
    # Dropping the index line still applies, but export would write it back.
    edited = b"\n".join(line for line in patches[name].split(b"\n") if not line.startswith(b"index "))
    (tiny.patch_dir / name).write_bytes(edited)
    problems = check_fork(tiny.pin, tiny.root)
    assert any(name in p and "re-export differs" in p for p in problems)


def test_status_reports_release_patches_and_tree(tiny):
    _two_patches(tiny)
    row = fork_status(tiny)
    assert row == {"fork": "tiny", "release": "tiny 1.0", "patches": "2", "tree": "clean", "series": "in sync"}
    (tiny.path / "setup.py").write_text("# edit\n")
    commit_in_fork(tiny, "tiny/core.py", "x = 1\n", "Unexported")
    row = fork_status(tiny)
    assert row["tree"] == "dirty (1 file)" and row["series"].startswith("1 unexported commit (")


def test_a_download_that_does_not_match_is_not_kept(tiny, cache, monkeypatch):
    from scripts.stack import artifacts

    (cache / "artifacts" / "tiny-1.0.tar.gz").unlink()
    monkeypatch.setattr(artifacts, "find_url", lambda package, filename: "https://example.invalid/tiny-1.0.tar.gz")
    monkeypatch.setattr(artifacts, "_download", lambda url, out: out.write(b"tampered"))
    with pytest.raises(ArtifactError) as caught:
        sync_fork(tiny)
    assert "tiny-1.0.tar.gz" in str(caught.value) and "download from https://example.invalid" in str(caught.value)
    assert list((cache / "artifacts").iterdir()) == []  # neither the file nor a partial one is left
    assert not tiny.path.exists()


def test_counts_are_singular_or_plural(tiny):
    sync_fork(tiny)
    commit_in_fork(tiny, "tiny/__init__.py", "__version__ = '1.0+x'\n", "Mark the version")
    assert export_fork(tiny).startswith("exported 1 patch to ")
    assert sync_fork(tiny) == "up to date (1.0 + 1 patch)"
    (tiny.path / "setup.py").write_text("# edit\n")
    assert fork_status(tiny)["tree"] == "dirty (1 file)"


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o027, 0o640)])
def test_downloaded_artifacts_are_readable_as_the_umask_allows(tiny, cache, monkeypatch, umask, mode):
    from scripts.stack import artifacts

    path = cache / "artifacts" / "tiny-1.0.tar.gz"
    data = path.read_bytes()
    path.unlink()
    monkeypatch.setattr(artifacts, "find_url", lambda package, filename: "https://example.invalid/tiny-1.0.tar.gz")
    monkeypatch.setattr(artifacts, "_download", lambda url, out: out.write(data))
    old = os.umask(umask)
    try:
        assert artifacts.fetch(tiny.pin) == path
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == mode


def test_an_unsafe_archive_is_one_paragraph_and_exit_2(tiny, cache):
    files = {**TINY_FILES, "../evil.py": ("x = 1\n", 0o644)}
    sha = make_sdist(cache / "artifacts" / "tiny-1.0.tar.gz", files)
    pin = tiny.pin
    (tiny.root / "patches" / "upstream.toml").write_text(
        f'[tiny]\npackage = "tiny"\nversion = "1.0"\nartifact = "{pin.artifact}"\nsha256 = "{sha}"\n'
    )
    command = [sys.executable, "-m", "scripts.stack.patch_queue", "--root", str(tiny.root), "sync", "tiny"]
    result = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, env=dict(os.environ))
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr
    assert "tiny-1.0.tar.gz" in result.stderr and "../evil.py" in result.stderr


def test_status_after_a_failed_sync_names_the_patch_and_the_repair_works(tiny):
    """Dropping a series entry that a later patch builds on: sync stops, and sync again cannot help."""
    sync_fork(tiny)
    edit_in_fork(tiny, "tiny/core.py", "return a + b", "return b + a", "Swap add")
    edit_in_fork(tiny, "tiny/core.py", "return b + a", "return 2 * (b + a)", "Double add")
    export_fork(tiny)
    (tiny.patch_dir / "series").write_text("double-add.patch\n")
    (tiny.patch_dir / "swap-add.patch").unlink()
    with pytest.raises(PatchApplyError) as caught:
        sync_fork(tiny)
    status = fork_status(tiny)["series"]
    assert "double-add.patch" in status and "does not apply" in status and "run sync" not in status
    # Follow the repair the error gives, literally.
    lines = [line.strip() for line in str(caught.value).splitlines()]
    am = next(line for line in lines if line.startswith("git am --reject"))
    env = git_env({"GIT_EDITOR": "true"})
    assert subprocess.run(shlex.split(am), cwd=tiny.path, env=env, capture_output=True).returncode != 0
    rejected = tiny.path / "tiny" / "core.py.rej"
    assert rejected.exists()
    rejected.unlink()
    text = (tiny.path / "tiny" / "core.py").read_text()
    (tiny.path / "tiny" / "core.py").write_text(text.replace("return a + b", "return 2 * (b + a)"))
    for line in lines[lines.index(am) + 1 :]:
        if line.startswith("git add"):
            subprocess.run(["git", "add", "tiny/core.py"], cwd=tiny.path, env=env, check=True)
        elif line.startswith("git am --continue"):
            subprocess.run(shlex.split(line), cwd=tiny.path, env=env, check=True, capture_output=True)
    assert "nox -s patches -- export tiny" in str(caught.value)
    export_fork(tiny)
    assert fork_status(tiny)["series"] == "in sync"
    data = (tiny.patch_dir / "double-add.patch").read_bytes()
    assert b"+    return 2 * (b + a)" in data and b"Why: tests need it" in data
    assert lint_patch_dir(tiny.patch_dir) == []


def test_status_says_so_in_one_line_when_the_index_is_unreachable(monkeypatch, capsys):
    """No network: the index URL points at a closed local port."""
    from scripts.stack import patch_queue

    monkeypatch.setenv("MMLAB_INDEX_URL", "http://127.0.0.1:9/simple")
    assert patch_queue.main(["status", "mmcv"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("newest releases not checked: the package index could not be reached")
    assert out[1].split() == ["fork", "release", "patches", "tree", "series"]


def test_lint_fails_in_one_paragraph_until_a_test_names_each_patch(tiny, capsys):
    from mmlab_core.cli import run
    from scripts.stack import patch_queue

    pin = tiny.pin
    (tiny.root / "patches" / "upstream.toml").write_text(
        f'[tiny]\npackage = "tiny"\nversion = "1.0"\nartifact = "{pin.artifact}"\nsha256 = "{pin.sha256}"\n'
    )
    sync_fork(tiny)
    commit_in_fork(tiny, "tiny/__init__.py", "__version__ = '1.0+x'\n", "Mark the version")
    export_fork(tiny)
    test_file = tiny.root / "tests" / "test_tiny.py"
    test_file.parent.mkdir()
    test_file.write_text('def test_version():\n    """The version is marked."""\n')
    command = ["--root", str(tiny.root), "lint"]
    assert run(lambda: patch_queue.main(command)) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: `lint` found 1 problem in patches/")
    assert "patches/tiny/mark-the-version.patch: no test under tests/ names it" in err
    test_file.write_text('def test_version():\n    """patches/tiny/mark-the-version.patch: the version is marked."""\n')
    assert run(lambda: patch_queue.main(command)) == 0
