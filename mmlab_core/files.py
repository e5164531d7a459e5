"""Write files and folders whole or not at all (and a file's sha256): the project's one atomic-write helper.

Standard library only, so that the host-side tooling (scripts/stack/), the ML
loop and the data tools share it. Every writer goes through a temporary name
in the same folder and a rename: a reader sees the old file (or folder) or the
new one, never half of one; a writer that fails or is killed leaves at most a
hidden ``.<name>.<pid>.tmp`` beside the target.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path


def _temporary(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary path beside ``path`` for a writer that wants a path or a file object
    (``pickle.dump``, ``torch.save``, ``onnx.save``, a copy, a folder to fill).

    When the block ends without an exception the temporary file (or folder) is
    flushed to disk and moved over ``path`` (:func:`replace`); otherwise it is
    removed and ``path`` is left as it was. The file gets the usual permissions
    (umask), not mkstemp's 0600.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temporary(path)
    _remove(tmp)
    try:
        yield tmp
        if tmp.is_file():
            with tmp.open("rb+") as written:
                os.fsync(written.fileno())
        replace(tmp, path)
    finally:
        _remove(tmp)


@contextmanager
def atomic_dir(path: str | Path) -> Iterator[Path]:
    """An empty staging folder that replaces the folder ``path`` (if any) when the block succeeds."""
    with atomic_path(path) as tmp:
        tmp.mkdir()
        yield tmp


@contextmanager
def scratch_dir(parent: str | Path, name: str) -> Iterator[Path]:
    """A hidden folder ``parent/.<name>.<pid>.tmp`` to stage several outputs in; removed whatever happens.

    Move what it made into place with :func:`publish` before the block ends.
    """
    folder = _temporary(Path(parent) / name)
    _remove(folder)
    folder.mkdir(parents=True)
    try:
        yield folder
    finally:
        _remove(folder)


def atomic_write(path: str | Path, data: bytes | str) -> Path:
    """Write ``data`` (text is UTF-8) to ``path`` whole or not at all; returns ``path``."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data.encode() if isinstance(data, str) else data)
    return Path(path)


def replace(source: Path, target: Path) -> None:
    """Rename ``source`` (a file or a folder) over ``target``. A folder that ``target`` already holds is
    moved aside first and removed after the rename, so ``target`` is never missing its content for long."""
    if target.is_dir() and not target.is_symlink():
        old = target.with_name(f".{target.name}.{os.getpid()}.old")
        _remove(old)
        os.replace(target, old)
        try:
            os.replace(source, target)
        except OSError:
            os.replace(old, target)  # put the old folder back rather than leave the target missing
            raise
        _remove(old)
    else:
        os.replace(source, target)


def publish(folder: Path, out: Path, names: Iterable[str]) -> list[Path]:
    """Move each finished ``folder/<name>`` (file or folder) over ``out/<name>``; returns the targets."""
    targets = []
    for name in names:
        source, target = folder / name, out / name
        if source.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            replace(source, target)
            targets.append(target)
    return targets


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def sha256_of(path: Path) -> str:
    """The file's sha256 (hex), read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
