"""Deterministic synthetic driving scenes for tests and the demo.

Each LiDAR frame has a ground plane seen as scan rings, and cars,
pedestrians and cyclists as oriented boxes with points on the faces the
sensor sees (denser near the sensor), intensity and range noise, out to
70 m. Frames are written in the custom LiDAR format::

    <out>/points/000000.bin     float32 x, y, z, intensity
    <out>/labels/000000.txt     class x y z dx dy dz yaw   (LiDAR frame, box centre)
    <out>/splits/{train,val}.txt

and, with ``--camera``, a forward camera view with 2D boxes as COCO JSON
(``<out>/camera/images/*.png``, ``<out>/camera/{train,val}.json``) and the
multi-sensor JSON frames that tie them together (``<out>/frames/*.json``);
with ``--kitti``, the same frames in KITTI layout (``<out>/kitti``).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from extensions.geometry import points_in_footprint
from extensions.io.labels import format_labels
from extensions.io.points import write_bin

CLASSES = ("Car", "Pedestrian", "Cyclist")
# mean size (dx, dy, dz) and share of objects per class
SIZES = {"Car": (3.9, 1.6, 1.56), "Pedestrian": (0.8, 0.6, 1.73), "Cyclist": (1.76, 0.6, 1.73)}
SHARE = {"Car": 0.6, "Pedestrian": 0.25, "Cyclist": 0.15}
INTENSITY = {"Car": 0.55, "Pedestrian": 0.3, "Cyclist": 0.4}
SENSOR_HEIGHT = 1.73
MAX_RANGE = 70.0


@dataclass(frozen=True)
class Frame:
    points: np.ndarray  # (N, 4) float32
    names: list[str]
    boxes: np.ndarray  # (M, 7) float32, centre z


def _objects(rng: np.random.Generator) -> tuple[list[str], np.ndarray]:
    names, boxes = [], []
    for _ in range(int(rng.integers(4, 12))):
        name = str(rng.choice(CLASSES, p=[SHARE[c] for c in CLASSES]))
        size = np.array(SIZES[name]) * rng.uniform(0.9, 1.1, 3)
        for _attempt in range(20):
            distance, bearing = rng.uniform(4, MAX_RANGE - 5), rng.uniform(-0.8, 0.8)
            x, y = distance * np.cos(bearing), distance * np.sin(bearing)
            if all(np.hypot(x - b[0], y - b[1]) > (size[0] + b[3]) / 2 + 0.5 for b in boxes):
                z = -SENSOR_HEIGHT + size[2] / 2
                boxes.append([x, y, z, *size, rng.uniform(-np.pi, np.pi)])
                names.append(name)
                break
    return names, np.array(boxes, dtype=np.float32).reshape(-1, 7)


def _ground(rng: np.random.Generator) -> np.ndarray:
    """Scan rings on flat ground, as a 32-beam sensor sees it."""
    rings = []
    for angle in np.linspace(np.radians(-24), np.radians(-2), 32):
        r = SENSOR_HEIGHT / np.tan(-angle)
        if r > MAX_RANGE:
            continue
        azimuth = rng.uniform(-np.pi, np.pi, int(np.clip(2400 * 8 / r, 200, 1800)))
        radius = r + rng.normal(0, 0.03, azimuth.size)
        rings.append(
            np.stack([radius * np.cos(azimuth), radius * np.sin(azimuth), np.full_like(azimuth, -SENSOR_HEIGHT)], 1)
        )
    ground = np.concatenate(rings)
    ground[:, 2] += rng.normal(0, 0.02, len(ground))
    return ground


def _surface(rng: np.random.Generator, box: np.ndarray) -> np.ndarray:
    """Points on the box faces that face the sensor; fewer with range."""
    x, y, z, dx, dy, dz, yaw = box
    c, s = np.cos(yaw), np.sin(yaw)
    distance = float(np.hypot(x, y))
    density = 2500.0 / max(distance, 3.0) ** 2  # points per m^2
    faces = []
    # (normal in box frame, the two tangent axes with their half sizes)
    for normal, (u, hu), (v, hv) in (
        ((1, 0, 0), ((0, 1, 0), dy / 2), ((0, 0, 1), dz / 2)),
        ((-1, 0, 0), ((0, 1, 0), dy / 2), ((0, 0, 1), dz / 2)),
        ((0, 1, 0), ((1, 0, 0), dx / 2), ((0, 0, 1), dz / 2)),
        ((0, -1, 0), ((1, 0, 0), dx / 2), ((0, 0, 1), dz / 2)),
        ((0, 0, 1), ((1, 0, 0), dx / 2), ((0, 1, 0), dy / 2)),
    ):
        n = np.array(normal, float)
        centre = np.array([n[0] * dx / 2, n[1] * dy / 2, n[2] * dz / 2])
        world_normal = np.array([c * n[0] - s * n[1], s * n[0] + c * n[1], n[2]])
        world_centre = np.array([c * centre[0] - s * centre[1] + x, s * centre[0] + c * centre[1] + y, centre[2] + z])
        to_sensor = np.array([0.0, 0.0, 0.0]) - world_centre
        if world_normal @ to_sensor <= 0:
            continue
        count = rng.poisson(density * 4 * hu * hv)
        a = rng.uniform(-hu, hu, count)[:, None] * np.array(u) + rng.uniform(-hv, hv, count)[:, None] * np.array(v)
        local = centre + a
        faces.append(
            np.stack([c * local[:, 0] - s * local[:, 1] + x, s * local[:, 0] + c * local[:, 1] + y, local[:, 2] + z], 1)
        )
    return np.concatenate(faces) if faces else np.zeros((0, 3))


def make_frame(seed: int) -> Frame:
    rng = np.random.default_rng(seed)
    names, boxes = _objects(rng)
    ground = _ground(rng)
    keep = np.ones(len(ground), bool)
    for box in boxes:  # objects hide the ground under them
        keep &= ~points_in_footprint(ground, box, margin=0.1)
    parts = [np.concatenate([ground[keep], rng.uniform(0.05, 0.15, (keep.sum(), 1))], 1)]
    for name, box in zip(names, boxes, strict=True):
        xyz = _surface(rng, box)
        xyz += rng.normal(0, 0.02, xyz.shape)
        intensity = np.clip(INTENSITY[name] + rng.normal(0, 0.05, (len(xyz), 1)), 0, 1)
        parts.append(np.concatenate([xyz, intensity], 1))
    points = np.concatenate(parts).astype(np.float32)
    points = points[np.hypot(points[:, 0], points[:, 1]) <= MAX_RANGE]
    return Frame(points[rng.permutation(len(points))], names, boxes)


def generate(
    out: Path, train: int = 40, val: int = 10, seed: int = 0, camera: bool = False, kitti: bool = False
) -> dict:
    """Write ``train + val`` frames; returns a summary."""
    for sub in ("points", "labels", "splits"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    ids = [f"{i:06d}" for i in range(train + val)]
    frames = {}
    for index, frame_id in enumerate(ids):
        frame = make_frame(seed * 100_003 + index)
        write_bin(out / "points" / f"{frame_id}.bin", frame.points)
        (out / "labels" / f"{frame_id}.txt").write_text(format_labels(frame.names, frame.boxes))
        frames[frame_id] = frame
    (out / "splits" / "train.txt").write_text("".join(f"{i}\n" for i in ids[:train]))
    (out / "splits" / "val.txt").write_text("".join(f"{i}\n" for i in ids[train:]))
    if camera:
        from extensions.io.multisensor import write_frame
        from scripts.data.synth_camera import camera_calibration, write_camera

        write_camera(out / "camera", frames, ids[:train], ids[train:], seed)
        (out / "frames").mkdir(exist_ok=True)
        for frame_id, frame in frames.items():
            front = dict(path=f"camera/images/{frame_id}.png", **camera_calibration())
            write_frame(out / "frames" / f"{frame_id}.json", frame_id, f"points/{frame_id}.bin", {"front": front},
                        frame.names, frame.boxes)  # fmt: skip
    if kitti:
        from scripts.data.synth_kitti import write_kitti

        write_kitti(out / "kitti", frames, ids[:train], ids[train:], out / "camera" / "images" if camera else None)
    objects = sum(len(f.names) for f in frames.values())
    return dict(root=str(out), frames=len(ids), objects=objects)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--train", type=int, default=40)
    parser.add_argument("--val", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--camera", action="store_true", help="also write camera images and COCO JSON")
    parser.add_argument("--kitti", action="store_true", help="also write the frames in KITTI layout (<out>/kitti)")
    args = parser.parse_args(argv)
    summary = generate(args.out, args.train, args.val, args.seed, args.camera, args.kitti)
    print(f"wrote {summary['frames']} frames with {summary['objects']} objects to {summary['root']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
