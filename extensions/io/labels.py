"""The custom LiDAR label format: one object per line, in the LiDAR frame,
``class x y z dx dy dz yaw`` with (x, y, z) the box's centre, metres and radians."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mmlab_core.errors import DataFormatError

FIELDS = 8


@dataclass(frozen=True)
class Labels:
    names: list[str]
    boxes: np.ndarray  # (N, 7) float32: x, y, z (centre), dx, dy, dz, yaw


def parse_labels(text: str, path: str | Path, classes: tuple[str, ...] | None = None) -> Labels:
    """Parse label text; errors name the file and the line."""
    names, rows = [], []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) != FIELDS:
            raise DataFormatError(
                path, f"expected {FIELDS} fields (class x y z dx dy dz yaw), got {len(parts)}", number
            )
        name = parts[0]
        if classes is not None and name not in classes:
            raise DataFormatError(path, f"unknown class {name!r}; known classes: {', '.join(classes)}", number)
        try:
            values = [float(v) for v in parts[1:]]
        except ValueError:
            raise DataFormatError(path, f"not a number in {line!r}", number) from None
        if not all(math.isfinite(v) for v in values):
            raise DataFormatError(path, f"non-finite value in {line!r}", number)
        if min(values[3:6]) <= 0:
            raise DataFormatError(path, f"box sizes dx dy dz must be positive in {line!r}", number)
        names.append(name)
        rows.append(values)
    boxes = np.array(rows, dtype=np.float32).reshape(-1, 7)
    return Labels(names, boxes)


def read_labels(path: str | Path, classes: tuple[str, ...] | None = None) -> Labels:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataFormatError(path, "label file not found") from None
    except UnicodeDecodeError:
        raise DataFormatError(path, "not a UTF-8 text file") from None
    return parse_labels(text, path, classes)


def format_labels(names: list[str], boxes: np.ndarray) -> str:
    return "".join(f"{n} " + " ".join(f"{v:.4f}" for v in box) + "\n" for n, box in zip(names, boxes, strict=True))
