"""The multi-sensor JSON format (frames of several cameras and a LiDAR, one JSON file each).

One JSON file per frame::

    {
      "frame_id": "000000",
      "lidar": {"path": "points/000000.bin", "dims": 4},
      "cameras": {
        "front": {"path": "camera/images/000000.png", "width": 512, "height": 256,
                  "intrinsics": [[fx, 0, cx], [0, fy, cy], [0, 0, 1]],
                  "lidar_to_camera": [[...4 x 4...]]}
      },
      "objects": [{"class": "Car", "center": [x, y, z], "size": [dx, dy, dz], "yaw": 0.3}]
    }

Paths are relative to the dataset root; boxes are in the LiDAR frame with the
centre of the box. Errors name the file and the key at fault.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from mmlab_core.errors import DataFormatError


def _get(node: dict, key: str, path: Path, where: str):
    if not isinstance(node, dict) or key not in node:
        raise DataFormatError(path, f"missing key {where}{key}")
    return node[key]


def _matrix(value, shape: tuple[int, int], path: Path, where: str) -> np.ndarray:
    try:
        matrix = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise DataFormatError(path, f"{where} is not a numeric matrix") from None
    if matrix.shape != shape or not np.isfinite(matrix).all():
        raise DataFormatError(path, f"{where} must be a finite {shape[0]}x{shape[1]} matrix, got shape {matrix.shape}")
    return matrix


def read_frame(path: str | Path, classes: tuple[str, ...]) -> dict:
    """Parse and check one frame file."""
    path = Path(path)
    try:
        frame = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataFormatError(path, "frame file not found") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataFormatError(path, f"not valid JSON: {exc}") from None
    lidar = _get(frame, "lidar", path, "")
    cameras = {}
    for name, camera in (frame.get("cameras") or {}).items():
        where = f"cameras.{name}."
        cameras[name] = dict(
            path=str(_get(camera, "path", path, where)),
            width=int(_get(camera, "width", path, where)),
            height=int(_get(camera, "height", path, where)),
            intrinsics=_matrix(_get(camera, "intrinsics", path, where), (3, 3), path, where + "intrinsics"),
            lidar_to_camera=_matrix(
                _get(camera, "lidar_to_camera", path, where), (4, 4), path, where + "lidar_to_camera"
            ),
        )
    names, boxes = [], []
    for index, obj in enumerate(_get(frame, "objects", path, "")):
        where = f"objects[{index}]."
        name = _get(obj, "class", path, where)
        if name not in classes:
            raise DataFormatError(path, f"{where}class: unknown class {name!r}; known classes: {', '.join(classes)}")
        center = _matrix([_get(obj, "center", path, where)], (1, 3), path, where + "center")[0]
        size = _matrix([_get(obj, "size", path, where)], (1, 3), path, where + "size")[0]
        yaw = _get(obj, "yaw", path, where)
        if not isinstance(yaw, int | float) or not math.isfinite(yaw) or (size <= 0).any():
            raise DataFormatError(path, f"{where}: yaw must be a finite number and sizes positive")
        names.append(name)
        boxes.append([*center, *size, float(yaw)])
    return dict(
        frame_id=str(frame.get("frame_id", path.stem)),
        lidar_path=str(_get(lidar, "path", path, "lidar.")),
        dims=int(lidar.get("dims", 4)),
        cameras=cameras,
        names=names,
        boxes=np.array(boxes, dtype=np.float32).reshape(-1, 7),
    )


def write_frame(path: Path, frame_id: str, lidar_path: str, cameras: dict, names: list[str], boxes: np.ndarray) -> None:
    objects = [
        dict(**{"class": n}, center=[float(v) for v in b[:3]], size=[float(v) for v in b[3:6]], yaw=float(b[6]))
        for n, b in zip(names, boxes, strict=True)
    ]
    matrices = ("intrinsics", "lidar_to_camera")
    cams = {
        name: {key: np.asarray(value).tolist() if key in matrices else value for key, value in camera.items()}
        for name, camera in cameras.items()
    }
    body = dict(frame_id=frame_id, lidar=dict(path=lidar_path, dims=4), cameras=cams, objects=objects)
    path.write_text(json.dumps(body, indent=1))
