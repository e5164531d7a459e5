"""A v1.0-mini-shaped nuScenes table set written from an mmdet3d info file, for evaluating on real boxes.

The real nuScenes sample (``/work/shared/data/nuscenes-samples``) ships LiDAR files and an mmdet3d info file, not
the devkit's 13 tables. This writes those tables from the info file, in nuScenes' own conventions and with code
independent of mmdet3d's metric: each sample becomes a keyframe of scene-0103 (a ``mini_val`` scene), each box a
``sample_annotation`` in the global frame (center, w-l-h size, rotation quaternion) built with plain matrices from
the info's lidar2ego and ego2global.

What the info file holds but the tables cannot say directly:
- velocity: the devkit derives it from an annotation's ``prev``/``next`` neighbours, so each box gets two, 0.25 s
  before and after it at ``center -/+ v * 0.25 s``, in samples of scene-0061 (``mini_train``, never scored);
- attributes: the info has none; each box gets the one nuScenes defines for its class and speed (moving above
  0.2 m/s).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image
from pyquaternion import Quaternion

CATEGORIES = {
    "car": "vehicle.car",
    "truck": "vehicle.truck",
    "trailer": "vehicle.trailer",
    "bus": "vehicle.bus.rigid",
    "construction_vehicle": "vehicle.construction",
    "bicycle": "vehicle.bicycle",
    "motorcycle": "vehicle.motorcycle",
    "pedestrian": "human.pedestrian.adult",
    "traffic_cone": "movable_object.trafficcone",
    "barrier": "movable_object.barrier",
}
VEHICLES = ("car", "truck", "trailer", "bus", "construction_vehicle")
STILL = {
    "car": "vehicle.parked",
    "truck": "vehicle.parked",
    "trailer": "vehicle.parked",
    "bus": "vehicle.stopped",
    "construction_vehicle": "vehicle.parked",
    "bicycle": "cycle.without_rider",
    "motorcycle": "cycle.without_rider",
    "pedestrian": "pedestrian.standing",
}
MOVING = {"bicycle": "cycle.with_rider", "motorcycle": "cycle.with_rider", "pedestrian": "pedestrian.moving"}
CARRIER_DT = 0.25  # seconds between a box and the neighbours that carry its velocity


def attribute_of(name: str, speed: float) -> str:
    """nuScenes' attribute for a box of class ``name`` moving at ``speed`` m/s ('' for cones and barriers)."""
    if speed > 0.2:
        return "vehicle.moving" if name in VEHICLES else MOVING.get(name, "")
    return STILL.get(name, "")


def global_box(info: dict, box: list[float], velocity: list[float]) -> tuple[list, list, list, np.ndarray]:
    """(center, wlh size, quaternion, xy velocity) in the global frame of an mmdet3d LiDAR box (gravity center)."""
    to_global = np.asarray(info["ego2global"]) @ np.asarray(info["lidar_points"]["lidar2ego"])
    x, y, z, dx, dy, dz, yaw = box
    center = (to_global @ [x, y, z, 1.0])[:3]
    heading = np.array([[np.cos(yaw), -np.sin(yaw), 0], [np.sin(yaw), np.cos(yaw), 0], [0, 0, 1]])
    rotation = Quaternion(matrix=to_global[:3, :3] @ heading, rtol=1e-5, atol=1e-6)
    speed = to_global[:3, :3] @ [*velocity, 0.0]
    return center.tolist(), [dy, dx, dz], rotation.elements.tolist(), speed


def write_tables(info_file: Path, root: Path, version: str = "v1.0-mini") -> Path:
    """Write ``root/<version>/*.json`` (and a 1-pixel map) from ``info_file``; returns ``root``."""
    import pickle

    with info_file.open("rb") as fh:
        data = pickle.load(fh)
    return save_tables(build_tables(data), root, version)


def build_tables(data: dict, scored_scene: str = "scene-0103", carrier_scene: str = "scene-0061") -> dict[str, list]:
    """The tables of an info file's samples (in ``scored_scene``) and their velocity carriers (``carrier_scene``)."""
    classes = data["metainfo"]["CLASSES"]
    tables: dict[str, list] = {name: [] for name in ("visibility", "instance", "sample_annotation")}
    tables["category"] = [{"token": f"cat-{c}", "name": CATEGORIES[c], "description": ""} for c in classes]
    names = sorted({attribute_of(c, s) for c in classes for s in (0, 1)} - {""})
    tables["attribute"] = [{"token": f"attr-{n}", "name": n, "description": ""} for n in names]
    tables["sensor"] = [{"token": "lidar", "channel": "LIDAR_TOP", "modality": "lidar"}]
    tables["log"] = [{"token": "log", "logfile": "", "vehicle": "", "date_captured": "", "location": "boston-seaport"}]
    tables["map"] = [{"token": "map", "log_tokens": ["log"], "category": "semantic_prior", "filename": "maps/map.png"}]
    scored, carriers = [], []
    tables["ego_pose"], tables["calibrated_sensor"], tables["sample_data"] = [], [], []
    for info in data["data_list"]:
        stamp = round(info["timestamp"] * 1e6)
        token = info["token"]
        scored.append((token, stamp))
        carriers += [
            (f"{token}-before", stamp - round(CARRIER_DT * 1e6)),
            (f"{token}-after", stamp + round(CARRIER_DT * 1e6)),
        ]
        for sample_token, _ in (scored[-1], *carriers[-2:]):
            _add_lidar_keyframe(tables, info, sample_token, stamp)
        for index, inst in enumerate(info["instances"]):
            _add_annotated_box(tables, info, index, inst, classes[inst["bbox_label_3d"]])
    tables["scene"], tables["sample"] = [], []
    _add_scene(tables, scored_scene, scored)
    _add_scene(tables, carrier_scene, carriers)
    return tables


def save_tables(tables: dict[str, list], root: Path, version: str = "v1.0-mini") -> Path:
    """``root/<version>/<table>.json`` for each table, and the 1-pixel map they name; returns ``root``."""
    folder = root / version
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in tables.items():
        (folder / f"{name}.json").write_text(json.dumps(rows))
    (root / "maps").mkdir(exist_ok=True)
    Image.new("L", (1, 1)).save(root / "maps" / "map.png")
    return root


def _add_lidar_keyframe(tables: dict, info: dict, sample_token: str, stamp: int) -> None:
    ego2global, lidar2ego = np.asarray(info["ego2global"]), np.asarray(info["lidar_points"]["lidar2ego"])
    for table, matrix in (("ego_pose", ego2global), ("calibrated_sensor", lidar2ego)):
        record = {
            "token": f"{sample_token}-{table}",
            "translation": matrix[:3, 3].tolist(),
            "rotation": Quaternion(matrix=matrix[:3, :3], rtol=1e-5, atol=1e-6).elements.tolist(),
        }
        if table == "calibrated_sensor":
            record.update(sensor_token="lidar", camera_intrinsic=[])
        tables[table].append(record)
    tables["sample_data"].append(
        {
            "token": f"{sample_token}-lidar",
            "sample_token": sample_token,
            "ego_pose_token": f"{sample_token}-ego_pose",
            "calibrated_sensor_token": f"{sample_token}-calibrated_sensor",
            "timestamp": stamp,
            "fileformat": "pcd",
            "is_key_frame": True,
            "filename": f"samples/LIDAR_TOP/{info['lidar_points']['lidar_path']}",
            "height": 0,
            "width": 0,
            "prev": "",
            "next": "",
        }
    )


def _add_annotated_box(tables: dict, info: dict, index: int, inst: dict, name: str) -> None:
    """One instance: the scored annotation and its two velocity carriers, linked prev -> box -> next."""
    center, size, rotation, velocity = global_box(info, inst["bbox_3d"], inst["velocity"])
    instance = f"{info['token']}-box{index}"
    attribute = attribute_of(name, float(np.hypot(*velocity[:2])))
    tokens = [f"{instance}-before", instance, f"{instance}-after"]
    samples = [f"{info['token']}-before", info["token"], f"{info['token']}-after"]
    for step, token in enumerate(tokens):
        shift = (step - 1) * CARRIER_DT * velocity
        tables["sample_annotation"].append(
            {
                "token": token,
                "sample_token": samples[step],
                "instance_token": instance,
                "visibility_token": "",
                "translation": (np.asarray(center) + shift).tolist(),
                "size": size,
                "rotation": rotation,
                "attribute_tokens": [f"attr-{attribute}"] if attribute else [],
                "num_lidar_pts": int(inst["num_lidar_pts"]),
                "num_radar_pts": int(inst["num_radar_pts"]),
                "prev": tokens[step - 1] if step else "",
                "next": tokens[step + 1] if step < 2 else "",
            }
        )
    tables["instance"].append(
        {
            "token": instance,
            "category_token": f"cat-{name}",
            "nbr_annotations": 3,
            "first_annotation_token": tokens[0],
            "last_annotation_token": tokens[-1],
        }
    )


def _add_scene(tables: dict, name: str, samples: list[tuple[str, int]]) -> None:
    samples = sorted(samples, key=lambda item: item[1])
    scene = f"scene-token-{name}"
    tokens = [token for token, _ in samples]
    for i, (token, stamp) in enumerate(samples):
        tables["sample"].append(
            {
                "token": token,
                "timestamp": stamp,
                "scene_token": scene,
                "prev": tokens[i - 1] if i else "",
                "next": tokens[i + 1] if i + 1 < len(tokens) else "",
            }
        )
    tables["scene"].append(
        {
            "token": scene,
            "name": name,
            "description": "",
            "log_token": "log",
            "nbr_samples": len(tokens),
            "first_sample_token": tokens[0],
            "last_sample_token": tokens[-1],
        }
    )
