"""Final-box parity: boxes are matched one to one by IoU and label."""

from __future__ import annotations

import numpy as np
import pytest

from scripts.loop.deploy.box_parity import Detections, iou, match


def _dets(boxes, scores, labels) -> Detections:
    boxes = np.array(boxes, float).reshape(len(scores), -1 if scores else 4)
    return Detections(boxes, np.array(scores, float), np.array(labels))


def test_identical_2d_boxes_all_match():
    ref = _dets([[0, 0, 10, 10], [20, 20, 30, 40]], [0.9, 0.4], [1, 2])
    result = match(ref, _dets([[20, 20, 30, 40], [0, 0, 10, 10]], [0.4, 0.9005], [2, 1]))
    assert result["matched"] == 2 and result["matched_fraction"] == 1.0
    assert result["max_score_diff"] == pytest.approx(0.0005) and result["min_iou"] == 1.0


def test_moved_box_wrong_label_and_extra_box_do_not_match():
    ref = _dets([[0, 0, 10, 10], [20, 20, 30, 30]], [0.9, 0.8], [0, 0])
    other = _dets([[3, 0, 13, 10], [20, 20, 30, 30], [50, 50, 60, 60]], [0.9, 0.8, 0.7], [0, 1, 0])
    result = match(ref, other)
    assert result["matched"] == 0 and result["matched_fraction"] == 0.0  # IoU 0.54; label 0 vs 1
    assert result["deployed_boxes"] == 3


def test_one_deployed_box_matches_one_reference_box_only():
    ref = _dets([[0, 0, 10, 10], [0, 0, 10, 10.1]], [0.9, 0.8], [0, 0])
    result = match(ref, _dets([[0, 0, 10, 10]], [0.9], [0]))
    assert result["matched"] == 1 and result["matched_fraction"] == 0.5


def test_rotated_lidar_boxes_use_bev_iou():
    car = [10.0, 5.0, -1.0, 4.0, 2.0, 1.5, 0.3]
    assert iou(np.array([car]), np.array([car]))[0, 0] == pytest.approx(1.0, abs=1e-5)
    turned = [*car[:6], 0.3 + np.pi / 2]  # the same footprint centre, turned a quarter: 2x2 overlap of 8 m^2 each
    assert iou(np.array([car]), np.array([turned]))[0, 0] == pytest.approx(4 / 12, abs=1e-4)
    assert match(_dets([car], [0.7], [2]), _dets([turned], [0.7], [2]))["matched"] == 0


def test_no_boxes_on_either_side_is_a_full_match():
    empty = _dets([], [], [])
    assert match(empty, empty)["matched_fraction"] == 1.0
