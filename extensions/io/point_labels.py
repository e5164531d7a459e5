"""Per-point labels as SemanticKITTI stores them: ``<id>.label``, one little-endian uint32 per point, the raw
class id in the low 16 bits and an instance number in the high 16 (see extensions/classes.py for the ids)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mmlab_core.errors import DataFormatError
from mmlab_core.files import atomic_write


def write_point_labels(path: str | Path, labels: np.ndarray) -> None:
    atomic_write(Path(path), np.ascontiguousarray(labels, dtype="<u4").tobytes())


def read_point_labels(path: str | Path, points: int | None = None) -> np.ndarray:
    """The raw class ids (low 16 bits) of a ``.label`` file; with ``points``, its length is checked."""
    path = Path(path)
    size = path.stat().st_size
    if size % 4:
        raise DataFormatError(path, f"{size} bytes is not a whole number of uint32 labels: the file is cut short")
    labels = np.fromfile(path, dtype="<u4")
    if points is not None and len(labels) != points:
        raise DataFormatError(
            path, f"{len(labels)} labels for {points} points: a .label file has one uint32 per point of its cloud"
        )
    return labels & 0xFFFF
