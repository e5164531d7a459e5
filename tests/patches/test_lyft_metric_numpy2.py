"""mmdet3d's LyftMetric computes mAP with the lyft_dataset_sdk fork on NumPy 2, on a real Lyft scene.

The 13 real tables of ``lyft-mini`` are the ground truth. The SDK's own boxes, moved into the LiDAR frame with the
scene's calibration and ego pose, go back in as mmdet3d predictions: LyftMetric converts them to the global frame
and the SDK's mAP evaluation must find every one of them (mAP = 1). Boxes shifted by 3 m must score lower.

Guards patches/lyft-dataset-sdk/drop-flake8-black-and-pytest-from-the-run-time-requirements.patch (the fork's
declared requirements hold no lint/test tools) and
patches/lyft-dataset-sdk/add-the-requirements-txt-that-the-0-0-8-sdist-leaves-out.patch (it declares the
release's run-time requirements at all) and
patches/lyft-dataset-sdk/require-opencv-python-headless-instead-of-opencv-python.patch (one cv2 distribution).
"""

from __future__ import annotations

import importlib.metadata
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from packaging.requirements import Requirement

SAMPLE = Path("/work/shared/data/lyft-mini")
VERSION = "v1.01-train"
CLASSES = ("car", "truck", "bus", "emergency_vehicle", "other_vehicle", "motorcycle", "bicycle", "pedestrian", "animal")
if not SAMPLE.is_dir():
    pytest.skip(f"the real Lyft sample {SAMPLE} is not on this machine", allow_module_level=True)


def test_the_sdk_declares_its_run_time_requirements_only():
    declared = [Requirement(r) for r in importlib.metadata.requires("lyft_dataset_sdk")]
    run_time = {r.name.lower() for r in declared if r.marker is None}
    assert {"numpy", "pyquaternion", "shapely", "pandas"} <= run_time
    assert not run_time & {"flake8", "black", "pytest"}
    assert "opencv-python-headless" in run_time and "opencv-python" not in run_time


def _matrix(record: dict) -> np.ndarray:
    from pyquaternion import Quaternion

    matrix = np.eye(4)
    matrix[:3, :3] = Quaternion(record["rotation"]).rotation_matrix
    matrix[:3, 3] = record["translation"]
    return matrix


def _lidar_frame_ground_truth(lyft, sample: dict) -> tuple[dict, np.ndarray, list[int]]:
    """The sample's mmdet3d info and its annotations as LiDAR-frame boxes (x, y, z, l, w, h, yaw; gravity center)."""
    lidar = lyft.get("sample_data", sample["data"]["LIDAR_TOP"])
    lidar2ego = _matrix(lyft.get("calibrated_sensor", lidar["calibrated_sensor_token"]))
    ego2global = _matrix(lyft.get("ego_pose", lidar["ego_pose_token"]))
    info = dict(token=sample["token"], ego2global=ego2global.tolist(), lidar_points=dict(lidar2ego=lidar2ego.tolist()))
    to_lidar = np.linalg.inv(ego2global @ lidar2ego)
    boxes, labels = [], []
    for box in lyft.get_boxes(lidar["token"]):
        rotation = to_lidar[:3, :3] @ box.orientation.rotation_matrix
        center = to_lidar[:3, :3] @ box.center + to_lidar[:3, 3]
        width, length, height = box.wlh
        boxes.append([*center, length, width, height, np.arctan2(rotation[1, 0], rotation[0, 0])])
        labels.append(CLASSES.index(box.name))
    return info, np.array(boxes), labels


def _evaluate(tmp_path: Path, shift: float = 0.0) -> tuple[dict[str, float], int]:
    from lyft_dataset_sdk.lyftdataset import LyftDataset
    from mmdet3d.evaluation.metrics import LyftMetric
    from mmdet3d.structures import LiDARInstance3DBoxes

    root = tmp_path / "lyft"
    root.mkdir()
    (root / VERSION).symlink_to(SAMPLE / VERSION)
    lyft = LyftDataset(data_path=str(root / VERSION), json_path=str(root / VERSION / VERSION), verbose=False)
    (root / "val.txt").write_text("".join(f"{scene['name']}\n" for scene in lyft.scene))
    infos, results = [], []
    for index, sample in enumerate(lyft.sample):
        info, boxes, labels = _lidar_frame_ground_truth(lyft, sample)
        infos.append(dict(info, sample_idx=index))
        boxes[:, 0] += shift
        pred = dict(
            bboxes_3d=LiDARInstance3DBoxes(torch.tensor(boxes, dtype=torch.float32), origin=(0.5, 0.5, 0.5)),
            scores_3d=torch.linspace(0.9, 0.5, len(labels)),
            labels_3d=torch.tensor(labels),
        )
        results.append(dict(pred_instances_3d=pred, pred_instances=dict(), sample_idx=index))
    (root / "lyft_infos.pkl").write_bytes(pickle.dumps(dict(metainfo=dict(classes=CLASSES), data_list=infos)))
    metric = LyftMetric(data_root=str(root), ann_file="lyft_infos.pkl", metric="bbox")
    metric.dataset_meta = dict(classes=CLASSES, version=VERSION)
    metric.process({}, results)
    return metric.evaluate(len(results)), sum(len(r["pred_instances_3d"]["labels_3d"]) for r in results)


def test_ground_truth_as_predictions_scores_one(tmp_path):
    scores, boxes = _evaluate(tmp_path)
    assert boxes == 4  # every real annotation of the scene's one sample
    assert scores["Lyft metric/pred_instances_3d_Lyft/mAP"] == pytest.approx(1.0, abs=1e-6), scores


def test_shifted_predictions_score_lower(tmp_path):
    scores, _ = _evaluate(tmp_path, shift=3.0)
    assert scores["Lyft metric/pred_instances_3d_Lyft/mAP"] < 0.5, scores
