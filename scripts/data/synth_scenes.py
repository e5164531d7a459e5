"""Deterministic synthetic driving scenes for tests and the demo.

Each LiDAR frame has a ground plane seen as scan rings; cars, pedestrians
and cyclists of varied sizes as oriented boxes; and clutter that is not an
object (walls, poles, trees, bushes, bins, crates, kiosks), so that false
positives can happen. The simulated sensor (synth_lidar.py) puts points on
the surfaces it faces, denser near it, out to 70 m, and drops the points
hidden behind something nearer (occlusion); an object left with fewer than
MIN_POINTS points is not labelled. Frames are written in the custom LiDAR format::

    <out>/points/000000.bin     float32 x, y, z, intensity
    <out>/labels/000000.txt     class x y z dx dy dz yaw   (LiDAR frame, box centre)
    <out>/splits/{train,val}.txt

with ``--point-labels``, each point's class as SemanticKITTI stores it (``<out>/labels/000000.label``; see
extensions/io/point_labels.py and the ids in extensions/classes.py); and, with ``--camera``, a forward
camera view with 2D boxes as COCO JSON (``<out>/camera/images/*.png``, ``<out>/camera/{train,val}.json``) and the
multi-sensor JSON frames that tie them together (``<out>/frames/*.json``);
with ``--kitti``, the same frames in KITTI layout (``<out>/kitti``).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from extensions.classes import DRIVING_CLASSES, RAW_IDS
from extensions.geometry import bev_corners
from extensions.io.labels import format_labels
from extensions.io.point_labels import write_point_labels
from extensions.io.points import write_bin
from mmlab_core.cli import run
from scripts.data.synth_lidar import MAX_RANGE, SENSOR_HEIGHT, blob_surface, box_surface, ground, occlude

# mean size (dx, dy, dz) and share of objects per class; each object's size varies around the mean by SPREAD
SIZES = {"Car": (4.1, 1.7, 1.56), "Pedestrian": (0.8, 0.6, 1.73), "Cyclist": (1.76, 0.6, 1.73)}
SPREAD = {"Car": (0.8, 1.22), "Pedestrian": (0.85, 1.15), "Cyclist": (0.9, 1.1)}
SHARE = {"Car": 0.6, "Pedestrian": 0.25, "Cyclist": 0.15}
INTENSITY = {"Car": 0.55, "Pedestrian": 0.3, "Cyclist": 0.4}
KIND = {"Car": RAW_IDS["car"], "Pedestrian": RAW_IDS["person"], "Cyclist": RAW_IDS["bicyclist"]}
# where objects are placed: (nearest, farthest, widest |y|) in metres; the default lies inside the full-size
# detectors' range (x 0..69.12 m, |y| <= 39.68 m) with a margin
FIELD = (3.0, 66.0, 37.0)
# a labelled object the sensor sees with fewer points than this (occluded, far) is left unlabelled
MIN_POINTS = 10


@dataclass(frozen=True)
class Frame:
    points: np.ndarray  # (N, 4) float32
    names: list[str]
    boxes: np.ndarray  # (M, 7) float32, centre z
    point_labels: np.ndarray  # (N,) uint32, SemanticKITTI's encoding (instance << 16 | raw class id)


@dataclass(frozen=True)
class Solid:
    """Something the sensor sees: a box (objects, walls, poles, bins) or a rough blob (vegetation)."""

    box: np.ndarray  # x, y, z (centre), dx, dy, dz, yaw; a blob's bounding box
    intensity: float
    blob: bool = False
    kind: int = RAW_IDS["other-object"]  # its SemanticKITTI raw class id


def _overlaps(a: np.ndarray, b: np.ndarray, gap: float) -> bool:
    """Whether two footprints, grown by ``gap``, overlap (separating axes)."""
    grown = [np.r_[box[:3], box[3:5] + gap, box[5:]] for box in (a, b)]
    corners = bev_corners(np.stack(grown))
    for shape in corners:
        for edge in (shape[1] - shape[0], shape[3] - shape[0]):
            axis = np.array([-edge[1], edge[0]])
            pa, pb = corners[0] @ axis, corners[1] @ axis
            if pa.max() < pb.min() or pb.max() < pa.min():
                return False
    return True


def _place(rng: np.random.Generator, size: np.ndarray, taken: list[np.ndarray], field, yaw=None, side=0.0):
    """A box of ``size`` on the ground at a free spot in ``field`` (``side`` metres or more off the x axis),
    or None."""
    for _attempt in range(20):
        distance, bearing = rng.uniform(field[0], field[1]), rng.uniform(-0.9, 0.9)
        x, y = distance * np.cos(bearing), distance * np.sin(bearing)
        if not side <= abs(y) <= field[2] or x < field[0]:
            continue
        heading = rng.uniform(-np.pi, np.pi) if yaw is None else yaw
        box = np.array([x, y, -SENSOR_HEIGHT + size[2] / 2, *size, heading], np.float32)
        if not any(_overlaps(box, other, 0.5) for other in taken):
            return box
    return None


def _objects(rng: np.random.Generator, field) -> tuple[list[str], list[np.ndarray]]:
    names, boxes = [], []
    for _ in range(int(rng.integers(5, 14))):
        name = str(rng.choice(DRIVING_CLASSES, p=[SHARE[c] for c in DRIVING_CLASSES]))
        low, high = SPREAD[name]
        size = np.array(SIZES[name]) * rng.uniform(low, high) * rng.uniform(0.95, 1.05, 3)
        box = _place(rng, size, boxes, field)
        if box is not None:
            names.append(name)
            boxes.append(box)
    return names, boxes


def _clutter(rng: np.random.Generator, taken: list[np.ndarray], field) -> list[Solid]:
    """What is not an object: walls, poles, trees, bushes, and bins, crates and kiosks of parked-object size."""
    solids: list[Solid] = []

    def add(size, intensity, kind: str, yaw=None, blob=False, side=0.0) -> np.ndarray | None:
        box = _place(rng, np.asarray(size, float), taken, field, yaw=yaw, side=side)
        if box is not None:
            taken.append(box)
            solids.append(Solid(box, float(np.clip(intensity + rng.normal(0, 0.05), 0, 1)), blob, RAW_IDS[kind]))
        return box

    for _ in range(rng.integers(1, 3)):  # walls along the road
        wall = (rng.uniform(8, 25), 0.3, rng.uniform(1.0, 3.0))
        add(wall, rng.uniform(0.2, 0.5), "building", yaw=rng.normal(0, 0.08), side=10)
    for _ in range(rng.integers(2, 7)):  # poles
        add((0.25, 0.25, rng.uniform(4, 8)), rng.uniform(0.3, 0.7), "pole")
    for _ in range(rng.integers(1, 5)):  # trees: a trunk, then a crown above it
        height = rng.uniform(1.8, 3.0)
        trunk = add((0.35, 0.35, height), 0.25, "trunk")
        if trunk is not None:
            radius = rng.uniform(1.2, 2.4)
            crown = np.r_[trunk[:2], -SENSOR_HEIGHT + height + radius * 0.8, 2 * radius, 2 * radius, 1.6 * radius, 0]
            vegetation = RAW_IDS["vegetation"]
            solids.append(Solid(crown.astype(np.float32), float(rng.uniform(0.1, 0.3)), blob=True, kind=vegetation))
    for _ in range(rng.integers(1, 5)):  # bushes
        add(rng.uniform(0.8, 2.5, 3) * [1, 1, 0.6], rng.uniform(0.1, 0.3), "vegetation", blob=True)
    negatives = ((0.7, 0.6, 1.1), (1.2, 1.0, 1.3), (2.4, 2.0, 2.5), (3.5, 1.8, 0.9))  # bins, a kiosk, a crate
    for _ in range(rng.integers(2, 6)):
        size = np.array(negatives[rng.integers(len(negatives))]) * rng.uniform(0.85, 1.15, 3)
        add(size, rng.uniform(0.3, 0.7), "other-object")
    return solids


def _sample(rng: np.random.Generator, solid: Solid) -> np.ndarray:
    if solid.blob:
        xyz = blob_surface(rng, solid.box[:3], solid.box[3:6] / 2, roughness=0.3)
    else:
        xyz = box_surface(rng, solid.box)
    xyz += rng.normal(0, 0.02, xyz.shape)
    intensity = np.clip(solid.intensity + rng.normal(0, 0.05, (len(xyz), 1)), 0, 1)
    return np.concatenate([xyz, intensity], 1)


def make_frame(seed: int, field: tuple[float, float, float] = FIELD) -> Frame:
    rng = np.random.default_rng(seed)
    names, boxes = _objects(rng, field)
    solids = [Solid(box, INTENSITY[name], kind=KIND[name]) for name, box in zip(names, boxes, strict=True)]
    solids += _clutter(rng, list(boxes), field)
    floor = ground(rng)
    parts = [np.concatenate([floor, rng.uniform(0.05, 0.15, (len(floor), 1))], 1)]
    owners = [np.full(len(floor), -1)]
    for index, solid in enumerate(solids):
        parts.append(_sample(rng, solid))
        owners.append(np.full(len(parts[-1]), index))
    points, owner = np.concatenate(parts), np.concatenate(owners)
    visible = occlude(points, owner, np.stack([s.box for s in solids]))
    points, owner = points[visible], owner[visible]
    inside = np.hypot(points[:, 0], points[:, 1]) <= MAX_RANGE
    points, owner = points[inside].astype(np.float32), owner[inside]
    seen = [i for i in range(len(names)) if (owner == i).sum() >= MIN_POINTS]
    labelled = np.array([boxes[i] for i in seen], dtype=np.float32).reshape(-1, 7)
    order = rng.permutation(len(points))
    return Frame(points[order], [names[i] for i in seen], labelled, point_labels(owner[order], solids, len(names)))


def point_labels(owner: np.ndarray, solids: list[Solid], objects: int) -> np.ndarray:
    """SemanticKITTI's encoding of each point's owner: ground (-1) is road; an object gets its class and its
    instance number (1-based) in the high 16 bits; everything else its solid's kind."""
    kinds = np.array([RAW_IDS["road"]] + [s.kind for s in solids], np.uint32)
    instance = np.where((owner >= 0) & (owner < objects), owner + 1, 0).astype(np.uint32)
    return kinds[owner + 1] | (instance << 16)


def generate(
    out: Path,
    train: int = 40,
    val: int = 10,
    seed: int = 0,
    camera: bool = False,
    kitti: bool = False,
    field: tuple[float, float, float] = FIELD,
    point_labels: bool = False,
) -> dict:
    """Write ``train + val`` frames, objects placed in ``field`` (see FIELD); returns a summary."""
    for sub in ("points", "labels", "splits"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    ids = [f"{i:06d}" for i in range(train + val)]
    frames = {}
    for index, frame_id in enumerate(ids):
        frame = make_frame(seed * 100_003 + index, field)
        write_bin(out / "points" / f"{frame_id}.bin", frame.points)
        (out / "labels" / f"{frame_id}.txt").write_text(format_labels(frame.names, frame.boxes))
        if point_labels:
            write_point_labels(out / "labels" / f"{frame_id}.label", frame.point_labels)
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
            write_frame(
                out / "frames" / f"{frame_id}.json",
                frame_id,
                f"points/{frame_id}.bin",
                {"front": front},
                frame.names,
                frame.boxes,
            )
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
    parser.add_argument("--point-labels", action="store_true", help="also write each point's class (labels/*.label)")
    args = parser.parse_args(argv)
    summary = generate(args.out, args.train, args.val, args.seed, args.camera, args.kitti, FIELD, args.point_labels)
    print(f"wrote {summary['frames']} frames with {summary['objects']} objects to {summary['root']}")
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
