"""Point clouds on disk: raw float32 ``.bin`` (N x 4 or N x 5) and ``.pcd``."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from extensions.io.pcd import read_pcd
from mmlab_core.errors import DataFormatError


def read_bin(path: str | Path, dims: int = 4) -> np.ndarray:
    """A float32 ``.bin`` cloud as an (N, dims) array, checked for truncation."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataFormatError(path, "point file not found") from None
    if len(raw) % (4 * dims):
        raise DataFormatError(
            path, f"{len(raw)} bytes is not a whole number of {dims}-float32 points (truncated or wrong load_dim?)"
        )
    points = np.frombuffer(raw, dtype=np.float32).reshape(-1, dims)
    if not np.isfinite(points[:, :3]).all():
        raise DataFormatError(path, "non-finite coordinates")
    return points


def write_bin(path: str | Path, points: np.ndarray) -> None:
    Path(path).write_bytes(np.ascontiguousarray(points, dtype=np.float32).tobytes())


def read_points(path: str | Path, dims: int = 4, fill_intensity: float | None = None) -> np.ndarray:
    """``.bin`` or ``.pcd`` by extension; a PCD without intensity gets ``fill_intensity`` (None: refused)."""
    if str(path).endswith(".pcd"):
        return read_pcd(path, dims, fill_intensity)
    return read_bin(path, dims)
