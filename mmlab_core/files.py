"""Write files whole or not at all: a temporary name in the same folder, then a rename (and a file's sha256).

Standard library only, so that the host-side tooling (scripts/stack/) and the
ML loop and data tools (scripts/loop/, scripts/data/) share it. A reader sees
the old file or the new one, never half of one; a writer that fails or is
killed leaves at most a hidden ``.<name>.<pid>.tmp`` beside the target.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary path beside ``path`` for a writer that wants a path or a file object
    (``pickle.dump``, ``torch.save``, ``onnx.save``, a download, a folder to fill).

    When the block ends without an exception the temporary file (or folder) is
    flushed to disk and renamed over ``path``; otherwise it is removed and ``path``
    is left as it was (a folder can replace only a missing or empty one). The file gets
    the usual permissions (umask), not mkstemp's 0600.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    _remove(tmp)
    try:
        yield tmp
        if tmp.is_file():
            with tmp.open("rb+") as written:
                os.fsync(written.fileno())
        os.replace(tmp, path)
    finally:
        _remove(tmp)


def atomic_write(path: str | Path, data: bytes | str) -> Path:
    """Write ``data`` (text is UTF-8) to ``path`` whole or not at all; returns ``path``."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data.encode() if isinstance(data, str) else data)
    return Path(path)


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
