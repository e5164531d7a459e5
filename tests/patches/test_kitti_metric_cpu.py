"""The KITTI 3D/BEV metric runs on the CPU (no numba.cuda), on the real scan.

patches/mmdetection3d/kitti-metric-compute-rotated-bev-iou-on-the-cpu-when-there-i.patch
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch

from tests.helpers.kitti_scan import CLASSES, kitti_infos

FRAMES = 20  # KITTI's AP samples 40 recall points: it needs more than a handful of objects


def _metric_on(predict, tmp_path):
    from mmdet3d.evaluation.metrics import KittiMetric
    from mmdet3d.structures import Box3DMode, CameraInstance3DBoxes

    infos = kitti_infos(FRAMES)  # the same frame FRAMES times
    ann_file = tmp_path / "kitti_infos.pkl"
    ann_file.write_bytes(pickle.dumps(infos))
    info = infos["data_list"][0]
    metric = KittiMetric(ann_file=str(ann_file), metric="bbox", pcd_limit_range=[0, -40, -3, 70.4, 40, 0.0])
    metric.dataset_meta = {"classes": CLASSES}
    instances = [i for i in info["instances"] if i["bbox_label_3d"] >= 0]
    cam = CameraInstance3DBoxes(np.array([i["bbox_3d"] for i in instances], np.float32))
    lidar2cam = np.array(info["images"]["R0_rect"]) @ np.array(info["lidar_points"]["Tr_velo_to_cam"])
    lidar = cam.convert_to(Box3DMode.LIDAR, np.linalg.inv(lidar2cam))
    labels = torch.tensor([i["bbox_label_3d"] for i in instances])
    boxes, labels = predict(lidar, labels)
    scores = torch.linspace(0.9, 0.5, len(labels))  # distinct: KITTI AP needs a ranking
    pred = dict(bboxes_3d=boxes, scores_3d=scores, labels_3d=labels)
    samples = [dict(pred_instances_3d=pred, pred_instances=dict(), sample_idx=i) for i in range(FRAMES)]
    metric.process({}, samples)
    return metric.compute_metrics(metric.results)


@pytest.fixture(autouse=True)
def _cpu_only(monkeypatch):
    """Take the CPU path even where numba sees a GPU: that path used to be missing."""
    from numba import cuda

    monkeypatch.setattr(cuda, "is_available", lambda: False)


def test_ground_truth_as_prediction_scores_full_ap_on_cpu(tmp_path):
    results = _metric_on(lambda boxes, labels: (boxes, labels), tmp_path)
    assert results["pred_instances_3d/KITTI/Car_3D_AP40_moderate_strict"] == pytest.approx(100.0)
    assert results["pred_instances_3d/KITTI/Car_BEV_AP40_moderate_strict"] == pytest.approx(100.0)


def test_shifted_predictions_lose_3d_ap(tmp_path):
    def shift(boxes, labels):
        boxes = boxes.clone()
        boxes.translate([1.5, 0.0, 0.0])
        return boxes, labels

    results = _metric_on(shift, tmp_path)
    assert results["pred_instances_3d/KITTI/Car_3D_AP40_moderate_strict"] < 50.0
