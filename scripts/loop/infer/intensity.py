"""Intensity as sensors record it, made comparable with what the model was trained on.

Sensors disagree on the scale: Velodyne's driver and PCDs give 0-255, KITTI's scans 0-1, some automotive
LiDARs 0-2, and some clouds have no intensity at all. ``--intensity-scale FACTOR`` multiplies the recorded
intensity; ``--sensor NAME`` picks the factor of a known sensor (``SENSORS``), which brings it to 0-1, the
scale of KITTI and of the project's generated data. ``--fill-intensity VALUE`` gives clouds without
intensity that value (without it they are refused). The model's training range (``meta["intensity_range"]``
in its checkpoint, ``intensity_range`` in its report.json) is compared with the first clouds read, and one
line on stderr says when they are far apart.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from fractions import Fraction

import numpy as np

from extensions.io.intensity import summarise

# The factor that brings a sensor's recorded intensity to 0-1.
SENSORS = {
    "kitti": 1.0,  # KITTI's scans (Velodyne HDL-64E, reflectance as float 0-1)
    "velodyne": 1 / 255,  # Velodyne's ROS driver and Velodyne PCDs: 0-255
    "hesai": 1 / 255,  # Hesai's ROS drivers: uint8 0-255
    "livox": 1 / 255,  # Livox's ROS driver: reflectivity uint8 0-255
}
WATCHED_CLOUDS = 3  # the first clouds whose intensity is compared with the training data's
FAR = 4.0  # the 99th percentiles differ by more than this factor: warn


def intensity_options(parser: argparse.ArgumentParser) -> None:
    """``--intensity-scale`` or ``--sensor`` (both set ``intensity_scale``), and ``--fill-intensity``."""
    scale = parser.add_mutually_exclusive_group()
    scale.add_argument(
        "--intensity-scale",
        type=_factor,
        metavar="FACTOR",
        help="multiply the recorded intensity by FACTOR (a number or a fraction, e.g. 1/255)",
    )
    scale.add_argument(
        "--sensor",
        type=_preset,
        dest="intensity_scale",
        metavar="|".join(SENSORS),
        help="the sensor's intensity scale, brought to 0-1: " + ", ".join(f"{k} x{v:.3g}" for k, v in SENSORS.items()),
    )
    parser.add_argument(
        "--fill-intensity",
        type=float,
        metavar="VALUE",
        help="the intensity of clouds recorded without one (default: such clouds are refused)",
    )


def _factor(text: str) -> float:
    try:
        value = float(Fraction(text))
    except (ValueError, ZeroDivisionError):
        raise argparse.ArgumentTypeError(f"{text!r} is not a number or a fraction such as 1/255") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text}: an intensity scale is not negative")
    return value


def _preset(name: str) -> float:
    if name.lower() not in SENSORS:
        raise argparse.ArgumentTypeError(f"unknown sensor {name!r}: one of {', '.join(SENSORS)}")
    return SENSORS[name.lower()]


def scaled(points: np.ndarray, scale: float | None) -> np.ndarray:
    """``points`` with the intensity column (the fourth) multiplied by ``scale`` (None: as recorded); a copy."""
    if scale is None or scale == 1.0 or points.shape[1] < 4:
        return points
    points = points.copy()
    points[:, 3] *= scale
    return points


def watched(frames: Iterator, training: dict | None, scale: float | None) -> Iterator:
    """``frames`` unchanged; after the first ``WATCHED_CLOUDS`` clouds, one line on stderr when their
    intensity's 99th percentile is more than ``FAR`` times off the training data's (``training``)."""
    seen: list[np.ndarray] | None = [] if training else None
    for frame in frames:
        if seen is not None and frame.points.shape[1] >= 4:
            seen.append(frame.points[:, 3])
            if len(seen) == WATCHED_CLOUDS:
                warn_if_far(training, summarise(np.concatenate(seen), len(seen)), scale)
                seen = None
        yield frame
    if seen:
        warn_if_far(training, summarise(np.concatenate(seen), len(seen)), scale)


def mismatch(training: dict, observed: dict, scale: float | None) -> str | None:
    """The warning for ``observed`` against ``training`` (ranges as ``summarise`` gives them), or None."""
    trained, seen = training["p99"], observed["p99"]
    if max(trained, seen) <= FAR * min(trained, seen) or max(trained, seen) == 0:
        return None
    if seen == 0:
        fix = f"clouds without intensity: --fill-intensity {training['p50']:.3g} (the training median)"
    else:
        factor = trained / seen * (scale if scale is not None else 1.0)
        presets = [k for k, v in SENSORS.items() if factor / 2 <= v <= factor * 2]
        fix = f"--intensity-scale {factor:.3g}" + (f" (or --sensor {presets[0]})" if presets else "")
    return (
        f"warning: the intensity of the first {observed['frames']} clouds ({_span(observed)}) is far from the "
        f"model's training data ({_span(training)}); detections will suffer. Fix: {fix}"
    )


def warn_if_far(training: dict, observed: dict, scale: float | None) -> None:
    message = mismatch(training, observed, scale)
    if message:
        from tqdm import tqdm

        tqdm.write(message, file=sys.stderr)  # on a line of its own above the progress bar


def _span(summary: dict) -> str:
    return f"{summary['min']:.3g} to {summary['max']:.3g}, 99th percentile {summary['p99']:.3g}"
