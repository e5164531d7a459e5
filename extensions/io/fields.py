"""Named point fields (PCD FIELDS, PointCloud2 fields) to the (N, dims) float32 columns
the models read: x, y, z, intensity, then extras."""

from __future__ import annotations

import numpy as np

from mmlab_core.errors import DataFormatError

INTENSITY = ("intensity", "i", "reflectance", "reflectivity", "remission")
EXTRA = ("ring", "time", "timestamp", "t", "elongation")


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
