"""Named point fields (PCD FIELDS, PointCloud2 fields) to the (N, dims) float32 columns
the models read: x, y, z, intensity, then extras."""

from __future__ import annotations

import numpy as np

from mmlab_core.errors import DataFormatError

INTENSITY = ("intensity", "i", "reflectance", "reflectivity", "remission")
EXTRA = ("ring", "time", "timestamp", "t", "elongation")
# The intensity the training-data readers (converters, LoadLidarPoints, bag to dataset) give a cloud recorded
# without one, as they always have; the model's recorded intensity range then shows it. infer refuses such
# clouds unless --fill-intensity is given.
TRAINING_FILL = 0.0


def missing_fields(fields: list[str], dims: int, fill_intensity: float | None = None) -> list[str]:
    """What a cloud with ``fields`` lacks for a model reading ``dims`` columns: x, y, z, and an intensity
    when the model reads four or more and no ``fill_intensity`` stands in for it."""
    lower = {name.lower() for name in fields}
    missing = [axis for axis in ("x", "y", "z") if axis not in lower]
    if dims >= 4 and fill_intensity is None and not lower & set(INTENSITY):
        missing.append(f"intensity (or one of {', '.join(INTENSITY[1:])})")
    return missing


def check_fields(fields: list[str], dims: int, source, fill_intensity: float | None = None) -> None:
    """Refuse, with a paragraph naming ``source`` and its fields, a cloud that lacks a column the model reads."""
    missing = missing_fields(fields, dims, fill_intensity)
    if not missing:
        return
    fill = (
        " A sensor that records no intensity: pass --fill-intensity VALUE, the intensity every point then gets "
        "(near the training data's, which the model's report.json gives as intensity_range)."
        if missing[-1].startswith("intensity")
        else ""
    )
    raise DataFormatError(
        source,
        f"the cloud has the fields {', '.join(fields) or 'none'}, but the model reads {dims} columns "
        f"(x, y, z, intensity ...) and {', '.join(missing)} {'is' if len(missing) == 1 else 'are'} missing. "
        f"Pick the topic of the LiDAR driver's raw cloud, or a model trained on these fields.{fill}",
    )


def structured_to_points(
    table: np.ndarray, fields: list[str], dims: int, path, fill_intensity: float | None = None
) -> np.ndarray:
    """Named columns (PCD fields, PointCloud2 fields) to (N, dims) float32: x, y, z, intensity, then extras
    (ring, time ...); absent extras are zero, an absent intensity is ``fill_intensity`` (None: refused, as
    :func:`check_fields` does), points with non-finite coordinates are dropped."""
    lower = {name.lower(): name for name in fields}
    missing = [axis for axis in ("x", "y", "z") if axis not in lower]
    if missing:
        raise DataFormatError(path, f"no {', '.join(missing)} field (fields: {' '.join(fields)})")
    check_fields(fields, dims, path, fill_intensity)
    columns = [lower["x"], lower["y"], lower["z"]]
    columns.append(next((lower[n] for n in INTENSITY if n in lower), None))
    extras = [lower[n] for n in EXTRA if n in lower]
    while len(columns) < dims:
        columns.append(extras.pop(0) if extras else None)
    points = np.zeros((len(table), dims), dtype=np.float32)
    if dims >= 4 and columns[3] is None:
        points[:, 3] = fill_intensity
    for index, name in enumerate(columns[:dims]):
        if name is not None:
            column = table[name]
            points[:, index] = column if column.ndim == 1 else column[:, 0]
    with np.errstate(invalid="ignore"):
        return points[np.isfinite(points[:, :3]).all(axis=1)]
