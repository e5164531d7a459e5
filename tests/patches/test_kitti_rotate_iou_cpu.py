"""The KITTI metric's rotated IoU on the CPU, checked against shapely."""

from __future__ import annotations

import math

import numpy as np
import pytest

shapely = pytest.importorskip("shapely")
from shapely.geometry import Polygon  # noqa: E402


def _polygon(box):
    """Independent corner computation: rotate (dx, dy) clockwise by angle."""
    x, y, w, h, angle = box
    c, s = math.cos(angle), math.sin(angle)
    pts = [(-w / 2, -h / 2), (-w / 2, h / 2), (w / 2, h / 2), (w / 2, -h / 2)]
    return Polygon([(c * dx + s * dy + x, -s * dx + c * dy + y) for dx, dy in pts])


def _reference(boxes, query, criterion):
    out = np.zeros((len(boxes), len(query)))
    for n, b in enumerate(boxes):
        for k, q in enumerate(query):
            pb, pq = _polygon(b), _polygon(q)
            inter = pb.intersection(pq).area
            if criterion == -1:
                out[n, k] = inter / (pb.area + pq.area - inter)
            elif criterion == 0:
                out[n, k] = inter / pq.area
            elif criterion == 1:
                out[n, k] = inter / pb.area
            else:
                out[n, k] = inter
    return out


def _random_boxes(rng, n):
    xy = rng.uniform(0, 12, (n, 2))
    wh = rng.uniform(0.5, 5, (n, 2))
    angle = rng.uniform(-np.pi, np.pi, (n, 1))
    return np.concatenate([xy, wh, angle], axis=1).astype(np.float32)


@pytest.mark.parametrize("criterion", [-1, 0, 1, 2])
def test_cpu_rotated_iou_matches_shapely(criterion):
    from mmdet3d.evaluation.functional.kitti_utils.rotate_iou_cpu import rotate_iou_cpu_eval

    rng = np.random.default_rng(criterion + 10)
    boxes, query = _random_boxes(rng, 40), _random_boxes(rng, 30)
    got = rotate_iou_cpu_eval(boxes, query, criterion)
    want = _reference(boxes.astype(np.float64), query.astype(np.float64), criterion)
    assert got.dtype == np.float32 and got.shape == (40, 30)
    assert (want > 0).sum() > 50  # plenty of overlapping pairs
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_identical_and_disjoint_boxes():
    from mmdet3d.evaluation.functional.kitti_utils.rotate_iou_cpu import rotate_iou_cpu_eval

    box = np.array([[1.0, 2.0, 3.0, 1.5, 0.3]], np.float32)
    far = np.array([[50.0, 50.0, 3.0, 1.5, 0.3]], np.float32)
    assert rotate_iou_cpu_eval(box, box)[0, 0] == pytest.approx(1.0, abs=1e-6)
    assert rotate_iou_cpu_eval(box, far)[0, 0] == 0.0
    assert rotate_iou_cpu_eval(np.zeros((0, 5)), box).shape == (0, 1)
