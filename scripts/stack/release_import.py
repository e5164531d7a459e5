"""Turn a release artifact into a deterministic commit on a fork's ``upstream``
branch.

The commit is built with ``git fast-import`` straight from the archive members,
so file modes come from the archive (not the umask) and author, committer and
date are fixed: the same release gives the same commit id on every machine.
"""

from __future__ import annotations

import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from mmlab_core.errors import MmlabError
from scripts.stack.gitcmd import git, git_bytes, rev
from scripts.stack.pins import Pin

IMPORT_NAME = "OpenMMLab release import"
IMPORT_EMAIL = "upstream@mmlab-extension.invalid"
UPSTREAM_BRANCH = "upstream"

# Build outputs that must never make a fork look dirty.
FORK_EXCLUDES = """\
# written by mmlab-extension: build outputs of an editable install
build/
dist/
.eggs/
*.egg-info/
__pycache__/
*.py[cod]
*.so
"""


class ReleaseImportError(MmlabError):
    """The artifact cannot be imported (an unsafe path, or no files); the message names it."""


def _skip(path: PurePosixPath) -> bool:
    """Packaging metadata that pip regenerates is not upstream source."""
    first = path.parts[0]
    return (
        str(path) == "PKG-INFO"
        or first.endswith((".egg-info", ".dist-info"))
        or any(part == "__pycache__" for part in path.parts)
    )


def _clean(artifact: Path, name: str, strip_top: bool) -> PurePosixPath | None:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts:
        raise ReleaseImportError(
            f"{artifact}: the archive member {name} points outside the release; nothing was imported. "
            "This is not a plain release archive: check the artifact and sha256 pinned in patches/upstream.toml."
        )
    parts = path.parts[1:] if strip_top else path.parts
    if not parts:
        return None
    path = PurePosixPath(*parts)
    return None if _skip(path) else path


def archive_members(artifact: Path) -> Iterator[tuple[str, str, bytes, int]]:
    """Yield ``(path, git mode, content, mtime)`` for each file, sorted by path."""
    entries = []
    if artifact.name.endswith(".whl") or artifact.suffix == ".zip":
        strip = not artifact.name.endswith(".whl")
        with zipfile.ZipFile(artifact) as zf:
            for info in zf.infolist():
                if info.is_dir():
                    continue
                path = _clean(artifact, info.filename, strip)
                if path is None:
                    continue
                unix_mode = info.external_attr >> 16
                mode = "100755" if unix_mode & 0o111 else "100644"
                mtime = _zip_time(info.date_time)
                entries.append((str(path), mode, zf.read(info), mtime))
    else:
        with tarfile.open(artifact) as tf:
            for member in tf.getmembers():
                path = _clean(artifact, member.name, True)
                if path is None:
                    continue
                if member.issym():
                    data = member.linkname.encode()
                    entries.append((str(path), "120000", data, int(member.mtime)))
                elif member.isfile():
                    mode = "100755" if member.mode & 0o111 else "100644"
                    data = tf.extractfile(member).read()
                    entries.append((str(path), mode, data, int(member.mtime)))
    entries.sort(key=lambda entry: entry[0])
    yield from entries


def _zip_time(date_time: tuple) -> int:
    import calendar

    return calendar.timegm((*date_time, 0, 0, 0))


def import_message(pin: Pin) -> str:
    lines = [f"Import {pin.package} {pin.version} from PyPI", "", f"Artifact: {pin.artifact}"]
    lines.append(f"Sha256: {pin.sha256}")
    if pin.tag:
        lines.append(f"Upstream-Tag: {pin.tag}")
    if pin.commit:
        lines.append(f"Upstream-Commit: {pin.commit}")
    return "\n".join(lines) + "\n"


def import_release(repo: Path, pin: Pin, artifact: Path) -> str:
    """Add ``artifact`` as the next commit of ``repo``'s upstream branch.

    Creates the repository if needed. Returns the new commit id. The working
    tree is not touched.
    """
    if not (repo / ".git").exists():
        repo.mkdir(parents=True, exist_ok=True)
        git(repo, "init", "--quiet")
        (repo / ".git" / "info").mkdir(exist_ok=True)
        (repo / ".git" / "info" / "exclude").write_text(FORK_EXCLUDES)
    members = list(archive_members(artifact))
    if not members:
        raise ReleaseImportError(
            f"{artifact}: the archive holds no files; check the artifact pinned in patches/upstream.toml"
        )
    stamp = max(mtime for *_, mtime in members)
    parent = rev(repo, UPSTREAM_BRANCH)
    message = import_message(pin).encode()
    ident = f"{IMPORT_NAME} <{IMPORT_EMAIL}> {stamp} +0000"
    stream = bytearray()
    stream += f"commit refs/heads/{UPSTREAM_BRANCH}\n".encode()
    stream += f"author {ident}\ncommitter {ident}\n".encode()
    stream += f"data {len(message)}\n".encode() + message + b"\n"
    if parent:
        stream += f"from {parent}\n".encode()
    stream += b"deleteall\n"
    for path, mode, data, _ in members:
        stream += f"M {mode} inline {_quote(path)}\n".encode()
        stream += f"data {len(data)}\n".encode() + data + b"\n"
    stream += b"done\n"
    git_bytes(repo, "fast-import", "--quiet", "--done", "--date-format=raw", input=bytes(stream))
    return rev(repo, UPSTREAM_BRANCH)


def _quote(path: str) -> str:
    if any(ch in path for ch in '"\\\n') or path.startswith(" "):
        escaped = path.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'"{escaped}"'
    return path


def find_release_commit(repo: Path, pin: Pin) -> str | None:
    """The commit on the upstream branch that imported exactly this artifact."""
    if rev(repo, UPSTREAM_BRANCH) is None:
        return None
    out = git(repo, "log", "--format=%H", "--fixed-strings", f"--grep=Sha256: {pin.sha256}", UPSTREAM_BRANCH)
    found = out.split()
    return found[0] if found else None
