"""Point clouds on disk: raw float32 ``.bin`` (N x 4 or N x 5) and ``.pcd``."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from extensions.errors import DataFormatError

INTENSITY = ("intensity", "i", "reflectance", "reflectivity", "remission")
EXTRA = ("ring", "time", "timestamp", "t", "elongation")


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


def read_points(path: str | Path, dims: int = 4) -> np.ndarray:
    """``.bin`` or ``.pcd`` by extension."""
    if str(path).endswith(".pcd"):
        from extensions.io.pcd import read_pcd

        return read_pcd(path, dims)
    return read_bin(path, dims)


def structured_to_points(table: np.ndarray, fields: list[str], dims: int, path) -> np.ndarray:
    """Named columns (PCD fields, PointCloud2 fields) to (N, dims) float32:
    x, y, z, intensity, then extras (ring, time ...); absent columns are zero,
    points with non-finite coordinates are dropped."""
    lower = {name.lower(): name for name in fields}
    missing = [axis for axis in ("x", "y", "z") if axis not in lower]
    if missing:
        raise DataFormatError(path, f"no {', '.join(missing)} field (fields: {' '.join(fields)})")
    columns = [lower["x"], lower["y"], lower["z"]]
    columns.append(next((lower[n] for n in INTENSITY if n in lower), None))
    extras = [lower[n] for n in EXTRA if n in lower]
    while len(columns) < dims:
        columns.append(extras.pop(0) if extras else None)
    points = np.zeros((len(table), dims), dtype=np.float32)
    for index, name in enumerate(columns[:dims]):
        if name is not None:
            column = table[name]
            points[:, index] = column if column.ndim == 1 else column[:, 0]
    with np.errstate(invalid="ignore"):
        return points[np.isfinite(points[:, :3]).all(axis=1)]
