"""The real nuScenes sample (../shared/data/nuscenes-samples) laid out as a nuScenes download, for the converter.

The sample has LiDAR files and an mmdet3d info file but no tables; tests/helpers/nuscenes_tables.py writes them
from the info file. The converter needs more than the metric does, so this adds:
- the six cameras of each sample (mmdet3d's converter reads their calibration; the info file holds each camera's
  intrinsics, camera-to-ego pose and time, not its ego pose, for which the LiDAR's is used; no images exist);
- the LiDAR sweep the info file lists, as a non-key frame before its sample (``sweeps/LIDAR_TOP``).
The info file's samples go in scene-0061, a ``mini_train`` scene, so the converter puts them in the train infos and
builds the GT database from them; their velocity carriers go in scene-0103 (``mini_val``). The scene names say
which split, not which real scene. ``samples/`` and ``sweeps/`` are links to the real files.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
from pyquaternion import Quaternion

from mmlab_core.settings import current
from tests.helpers.nuscenes_tables import build_tables, save_tables

SAMPLE = current().shared / "data" / "nuscenes-samples"
TRAIN_SCENE, VAL_SCENE = "scene-0061", "scene-0103"
CAMERAS = ("CAM_FRONT", "CAM_FRONT_RIGHT", "CAM_FRONT_LEFT", "CAM_BACK", "CAM_BACK_LEFT", "CAM_BACK_RIGHT")


def sample_infos() -> dict:
    """The real sample's mmdet3d info file (``nus_info.pkl``)."""
    return pickle.loads((SAMPLE / "nus_info.pkl").read_bytes())


def _pose(token: str, matrix: list) -> dict:
    matrix = np.asarray(matrix)
    rotation = Quaternion(matrix=matrix[:3, :3], rtol=1e-5, atol=1e-6)
    return {"token": token, "translation": matrix[:3, 3].tolist(), "rotation": rotation.elements.tolist()}


def _add_cameras(tables: dict, info: dict, sample_token: str) -> None:
    for cam in CAMERAS:
        image, token = info["images"][cam], f"{sample_token}-{cam}"
        calibration = _pose(f"{token}-calibrated_sensor", image["cam2ego"])
        calibration.update(sensor_token=f"sensor-{cam}", camera_intrinsic=image["cam2img"])
        tables["calibrated_sensor"].append(calibration)
        tables["sample_data"].append(
            {
                "token": token,
                "sample_token": sample_token,
                "ego_pose_token": f"{sample_token}-ego_pose",
                "calibrated_sensor_token": calibration["token"],
                "timestamp": round(image["timestamp"] * 1e6),
                "fileformat": "jpg",
                "is_key_frame": True,
                "filename": f"samples/{cam}/{image['img_path']}",
                "height": 900,
                "width": 1600,
                "prev": "",
                "next": "",
            }
        )


def _add_sweeps(tables: dict, info: dict) -> list[str]:
    """The info's distinct LiDAR sweeps as non-key frames chained before its key frame; their file names."""
    keyframe = next(r for r in tables["sample_data"] if r["token"] == f"{info['token']}-lidar")
    names = []
    for sweep in {s["sample_data_token"]: s for s in info.get("lidar_sweeps", [])}.values():
        token, name = sweep["sample_data_token"], Path(sweep["lidar_points"]["lidar_path"]).name
        tables["ego_pose"].append(_pose(f"{token}-ego_pose", sweep["ego2global"]))
        calibration = _pose(f"{token}-calibrated_sensor", sweep["lidar_points"]["lidar2ego"])
        tables["calibrated_sensor"].append({**calibration, "sensor_token": "lidar", "camera_intrinsic": []})
        tables["sample_data"].append(
            {
                **keyframe,
                "token": token,
                "ego_pose_token": f"{token}-ego_pose",
                "calibrated_sensor_token": f"{token}-calibrated_sensor",
                "timestamp": round(sweep["timestamp"] * 1e6),
                "is_key_frame": False,
                "filename": f"sweeps/LIDAR_TOP/{name}",
                "prev": keyframe["prev"],
                "next": keyframe["token"],
            }
        )
        keyframe["prev"] = token
        names.append(name)
    return names


def make_nuscenes_layout(root: Path, version: str = "v1.0-mini") -> Path:
    """``root/<version>/*.json``, ``root/maps/``, and links ``root/samples``, ``root/sweeps`` to the real files."""
    data = sample_infos()
    tables = build_tables(data, scored_scene=TRAIN_SCENE, carrier_scene=VAL_SCENE)
    tables["sensor"] += [{"token": f"sensor-{cam}", "channel": cam, "modality": "camera"} for cam in CAMERAS]
    for info in data["data_list"]:
        for sample_token in (info["token"], f"{info['token']}-before", f"{info['token']}-after"):
            _add_cameras(tables, info, sample_token)
        _add_sweeps(tables, info)
    save_tables(tables, root, version)
    for folder in ("samples", "sweeps"):
        (root / folder).symlink_to(SAMPLE / folder, target_is_directory=True)
    return root
