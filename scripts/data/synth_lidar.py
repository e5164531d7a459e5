"""The simulated sensor of the synthetic scenes: what a LiDAR at the origin, 1.73 m above flat
ground, sees of solids (boxes and blobs) around it.

Points are sampled on the faces that face the sensor (denser near it), then every point whose ray from
the sensor passes through another solid first is dropped (occlusion), so objects behind others get fewer
points or none, and the ground has shadows.
"""

from __future__ import annotations

import numpy as np

from extensions.geometry import yaw_rotation

SENSOR_HEIGHT = 1.73
MAX_RANGE = 70.0
# the box faces, each as (outward normal, the two tangent axes) in the box frame
_FACES = (((1, 0, 0), 1, 2), ((-1, 0, 0), 1, 2), ((0, 1, 0), 0, 2), ((0, -1, 0), 0, 2), ((0, 0, 1), 0, 1))


def density(distance: float) -> float:
    """Points per square metre of a surface facing the sensor at ``distance``."""
    return 10000.0 / max(distance, 3.0) ** 2


def ground(rng: np.random.Generator) -> np.ndarray:
    """Scan rings on flat ground, as a 32-beam sensor sees it: (N, 3)."""
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
    points = np.concatenate(rings)
    points[:, 2] += rng.normal(0, 0.02, len(points))
    return points


def box_surface(rng: np.random.Generator, box: np.ndarray, inset: float = 0.05) -> np.ndarray:
    """Points on the faces of ``box`` (x, y, z centre, dx, dy, dz, yaw) that face the sensor, ``inset`` metres
    inside them so that range noise keeps them in the box (a labelled box is tight around its points): (N, 3)."""
    centre, half, yaw = np.asarray(box[:3], float), np.asarray(box[3:6], float) / 2 - inset, float(box[6])
    rotation = np.eye(3)
    rotation[:2, :2] = yaw_rotation(yaw)
    points_per_m2 = density(float(np.hypot(*centre[:2])))
    faces = []
    for normal, u, v in _FACES:
        n = np.array(normal, float)
        face_centre = centre + rotation @ (n * half)
        if (rotation @ n) @ -face_centre <= 0:  # faces away from the sensor
            continue
        count = rng.poisson(points_per_m2 * 4 * half[u] * half[v])
        local = np.tile(n * half, (count, 1))
        local[:, u] = rng.uniform(-half[u], half[u], count)
        local[:, v] = rng.uniform(-half[v], half[v], count)
        faces.append(local @ rotation.T + centre)
    return np.concatenate(faces) if faces else np.zeros((0, 3))


def blob_surface(rng: np.random.Generator, centre: np.ndarray, radii: np.ndarray, roughness: float) -> np.ndarray:
    """Points on the sensor side of a rough ellipsoid (a bush, a tree's crown): (N, 3)."""
    area = 4 * np.pi * (np.prod(radii) ** (2 / 3))
    count = rng.poisson(density(float(np.hypot(*centre[:2]))) * area / 2)
    direction = rng.normal(size=(count * 2, 3))
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    direction = direction[direction @ -np.asarray(centre, float) > 0][:count]  # the half facing the sensor
    scale = 1 + rng.uniform(-roughness, 0, (len(direction), 1))  # leaves: points inside the hull too
    return centre + direction * radii * scale


def blocked(points: np.ndarray, box: np.ndarray, margin: float = 0.05) -> np.ndarray:
    """Mask of points whose ray from the sensor passes through ``box`` more than ``margin`` before them."""
    centre, half = np.asarray(box[:3], float), np.asarray(box[3:6], float) / 2
    rotation = np.eye(3)
    rotation[:2, :2] = yaw_rotation(float(box[6]))
    origin = -centre @ rotation  # the sensor in the box frame
    ray = (points[:, :3] - centre) @ rotation - origin
    with np.errstate(divide="ignore", invalid="ignore"):
        t1, t2 = (-half - origin) / ray, (half - origin) / ray
    enter = np.nan_to_num(np.minimum(t1, t2), nan=-np.inf).max(1)
    leave = np.nan_to_num(np.maximum(t1, t2), nan=np.inf).min(1)
    length = np.linalg.norm(ray, axis=1)
    return (enter < leave) & (leave > 0) & (enter < 1 - margin / np.maximum(length, 1e-6))


def occlude(points: np.ndarray, owner: np.ndarray, solids: np.ndarray) -> np.ndarray:
    """Mask of the points that the sensor sees: not behind any solid other than their own (``owner``,
    the index into ``solids`` of the solid a point lies on, -1 for the ground)."""
    visible = np.ones(len(points), bool)
    azimuth, distance = np.arctan2(points[:, 1], points[:, 0]), np.hypot(points[:, 0], points[:, 1])
    for index, solid in enumerate(solids):
        x, y, _, dx, dy = solid[:5]
        reach = np.hypot(dx, dy) / 2
        near = max(float(np.hypot(x, y)) - reach, 0.1)
        spread = np.arcsin(min(reach / max(float(np.hypot(x, y)), reach), 1.0))
        bearing = np.arctan2(y, x)
        # only points behind the solid's nearest edge and within its angular extent can be hidden by it
        within = np.abs(np.angle(np.exp(1j * (azimuth - bearing)))) <= spread
        candidates = np.flatnonzero(visible & (owner != index) & (distance > near) & within)
        visible[candidates[blocked(points[candidates], solid)]] = False
    return visible
