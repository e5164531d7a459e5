"""A forward camera view of synthetic scenes, with 2D boxes as COCO JSON.

The camera sits at the LiDAR origin looking along +x; objects are drawn far to
near as shaded silhouettes of their 3D boxes, over sky and road.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np

from extensions.classes import DRIVING_CLASSES as CLASSES
from extensions.geometry import box_corners
from mmlab_core.files import atomic_write

WIDTH, HEIGHT, FOCAL = 512, 256, 256.0
COLOURS = {"Car": (40, 60, 200), "Pedestrian": (60, 180, 60), "Cyclist": (200, 120, 30)}


def project(points: np.ndarray) -> np.ndarray:
    """LiDAR frame (x forward, y left, z up) to pixels."""
    u = WIDTH / 2 - FOCAL * points[:, 1] / points[:, 0]
    v = HEIGHT / 2 - FOCAL * points[:, 2] / points[:, 0]
    return np.stack([u, v], 1)


def render(names: list[str], boxes: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, list]:
    image = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
    horizon = HEIGHT // 2
    image[:horizon] = np.linspace(230, 160, horizon, dtype=np.uint8)[:, None, None] * np.array([1.0, 0.95, 0.8])
    image[horizon:] = np.linspace(90, 130, HEIGHT - horizon, dtype=np.uint8)[:, None, None]
    annotations = []
    for index in np.argsort(-boxes[:, 0]) if len(boxes) else []:  # far to near
        corners = box_corners(boxes[index])
        if corners[:, 0].min() < 1.0:
            continue
        pixels = project(corners)
        x1, y1 = np.clip(pixels.min(0), 0, [WIDTH - 1, HEIGHT - 1])
        x2, y2 = np.clip(pixels.max(0), 0, [WIDTH - 1, HEIGHT - 1])
        if x2 - x1 < 3 or y2 - y1 < 3:
            continue
        hull = cv2.convexHull(pixels.astype(np.float32)).astype(np.int32)
        shade = float(np.clip(1.2 - boxes[index, 0] / 80, 0.5, 1.1))
        colour = tuple(int(min(255, c * shade)) for c in COLOURS[names[index]])
        cv2.fillConvexPoly(image, hull, colour, lineType=cv2.LINE_AA)
        annotations.append((names[index], [float(x1), float(y1), float(x2 - x1), float(y2 - y1)]))
    noise = rng.normal(0, 4, image.shape)
    return np.clip(image + noise, 0, 255).astype(np.uint8), annotations


def write_camera(out: Path, frames: dict, train_ids: list[str], val_ids: list[str], seed: int) -> None:
    (out / "images").mkdir(parents=True, exist_ok=True)
    categories = [dict(id=i + 1, name=name) for i, name in enumerate(CLASSES)]
    for split, ids in (("train", train_ids), ("val", val_ids)):
        images, annotations = [], []
        for number, frame_id in enumerate(ids):
            frame = frames[frame_id]
            image, boxes = render(frame.names, frame.boxes, np.random.default_rng(seed * 7919 + int(frame_id)))
            cv2.imwrite(str(out / "images" / f"{frame_id}.png"), image)
            images.append(dict(id=number, file_name=f"{frame_id}.png", width=WIDTH, height=HEIGHT))
            for name, bbox in boxes:
                annotations.append(
                    dict(
                        id=len(annotations) + 1,
                        image_id=number,
                        category_id=CLASSES.index(name) + 1,
                        bbox=bbox,
                        area=bbox[2] * bbox[3],
                        iscrowd=0,
                    )
                )
        coco = dict(images=images, annotations=annotations, categories=categories)
        atomic_write(out / f"{split}.json", json.dumps(coco))


def camera_calibration() -> dict:
    """Intrinsics and the LiDAR->camera transform of the synthetic camera."""
    intrinsics = np.array([[FOCAL, 0, WIDTH / 2], [0, FOCAL, HEIGHT / 2], [0, 0, 1]])
    # camera axes: x right (= -y LiDAR), y down (= -z LiDAR), z forward (= x LiDAR)
    lidar_to_camera = np.array([[0, -1, 0, 0], [0, 0, -1, 0], [1, 0, 0, 0], [0, 0, 0, 1]], dtype=float)
    return dict(width=WIDTH, height=HEIGHT, intrinsics=intrinsics, lidar_to_camera=lidar_to_camera)
