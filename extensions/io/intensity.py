"""The intensity range of a set of clouds: what a model was trained on (kept in its checkpoint's meta and
its deploy report) and what a recording gives, so that the two can be compared."""

from __future__ import annotations

import numpy as np

META_KEY = "intensity_range"  # the key in a checkpoint's ``meta`` and in the deploy folder's report.json


def summarise(values: np.ndarray, frames: int) -> dict:
    """Min, median, 99th percentile and max of ``values`` (one intensity per point), with how many points
    and frames they came from."""
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    if not len(values):
        return dict(min=0.0, p50=0.0, p99=0.0, max=0.0, points=0, frames=frames)
    low, p50, p99, high = np.percentile(values, [0, 50, 99, 100])
    return dict(min=float(low), p50=float(p50), p99=float(p99), max=float(high), points=len(values), frames=frames)


def recorded_range(checkpoint: dict) -> dict | None:
    """The training data's intensity range a checkpoint (as ``torch.load`` gives it) records, if any."""
    meta = checkpoint.get("meta") if isinstance(checkpoint, dict) else None
    return (meta or {}).get(META_KEY)
