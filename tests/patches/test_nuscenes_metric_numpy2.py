"""mmdet3d's NuScenesMetric computes mAP and NDS with the nuscenes-devkit fork on NumPy 2.

Ground truth given back as predictions scores mAP = 1 and NDS ~ 1 on the real nuScenes sample: the boxes come from
mmdet3d's NuScenesDataset (the info file of ``nuscenes-samples``), the metric converts them to the global frame,
and the devkit compares them with annotation tables written from the same info file by independent code
(tests/helpers/nuscenes_tables.py). A shifted copy of the boxes must score lower, so the check can fail.

Guards patches/nuscenes-devkit/allow-numpy-2-and-shapely-2-1.patch (the stack installs the devkit next to NumPy 2)
and patches/nuscenes-devkit/add-pyproject-toml-so-the-wheel-imported-tree-installs-edita.patch (it is installed
from the fork at all); patches/nuscenes-devkit/drop-parameterized-from-the-run-time-requirements.patch (its test
helper is no run-time requirement).
"""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import numpy as np
import pytest
import torch
from packaging.requirements import Requirement

from tests.helpers.nuscenes_tables import write_tables

SAMPLE = Path("/work/shared/data/nuscenes-samples")
if not SAMPLE.is_dir():
    pytest.skip(f"the real nuScenes sample {SAMPLE} is not on this machine", allow_module_level=True)


def test_the_devkit_accepts_numpy_2():
    """The installed devkit's requirements admit the stack's numpy and shapely."""
    wanted = {Requirement(r).name.lower(): Requirement(r) for r in importlib.metadata.requires("nuscenes-devkit")}
    for name in ("numpy", "shapely"):
        version = importlib.metadata.version(name)
        assert wanted[name].specifier.contains(version), (
            f"nuscenes-devkit requires {wanted[name]}, the stack has {version}"
        )
    assert np.__version__.startswith("2.")
    assert "parameterized" not in wanted


def _evaluate(tmp_path: Path, shift: float = 0.0) -> dict[str, float]:
    from mmdet3d.datasets import NuScenesDataset
    from mmdet3d.evaluation.metrics import NuScenesMetric

    root = write_tables(SAMPLE / "nus_info.pkl", tmp_path / "nuscenes")
    dataset = NuScenesDataset(
        data_root=str(SAMPLE),
        ann_file="nus_info.pkl",
        data_prefix=dict(pts="samples/LIDAR_TOP", sweeps="sweeps/LIDAR_TOP"),
        test_mode=False,
    )
    results = []
    for index in range(len(dataset)):
        info = dataset.get_data_info(index)
        boxes, labels = info["ann_info"]["gt_bboxes_3d"], info["ann_info"]["gt_labels_3d"]
        boxes.tensor[:, 0] += shift
        scores = torch.linspace(0.9, 0.5, len(labels))
        pred = dict(bboxes_3d=boxes, scores_3d=scores, labels_3d=torch.as_tensor(labels))
        results.append(dict(pred_instances_3d=pred, pred_instances=dict(), sample_idx=info["sample_idx"]))
    metric = NuScenesMetric(data_root=str(root), ann_file=str(SAMPLE / "nus_info.pkl"), metric="bbox")
    metric.dataset_meta = dict(classes=dataset.metainfo["classes"], version="v1.0-mini")
    metric.process({}, results)
    return metric.evaluate(len(results))


def test_ground_truth_as_predictions_scores_one(tmp_path):
    scores = _evaluate(tmp_path)
    prefix = "NuScenes metric/pred_instances_3d_NuScenes"
    assert scores[f"{prefix}/mAP"] == pytest.approx(1.0, abs=1e-6)
    assert scores[f"{prefix}/NDS"] > 0.99, scores
    for error in ("mATE", "mASE", "mAOE", "mAVE", "mAAE"):
        assert scores[f"{prefix}/{error}"] < 0.01, (error, scores[f"{prefix}/{error}"])


def test_shifted_predictions_score_lower(tmp_path):
    """Boxes 1 m off: true positives at a 0.5 m threshold vanish and the translation error is ~1 m."""
    scores = _evaluate(tmp_path, shift=1.0)
    prefix = "NuScenes metric/pred_instances_3d_NuScenes"
    assert scores[f"{prefix}/mAP"] < 0.9
    assert scores[f"{prefix}/mATE"] == pytest.approx(1.0, abs=0.05)
    assert scores[f"{prefix}/NDS"] < 0.9
