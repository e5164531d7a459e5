"""The one box geometry (corners, yaw rotation) and the one class list that the
converters, generators and configs share."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from extensions.classes import DRIVING_CLASSES, SEG_CLASSES
from extensions.geometry import bev_corners, box_corners, points_in_box
from mmlab_core.settings import REPO_ROOT


def test_yaw_turns_the_box_from_x_towards_y():
    # 4 m long (dx), 2 m wide (dy), turned a quarter: its length now lies along y
    box = np.array([10.0, 5.0, 1.0, 4.0, 2.0, 1.5, np.pi / 2])
    corners = bev_corners(box)[0]
    np.testing.assert_allclose(corners[0], [9.0, 7.0], atol=1e-9)  # front left: +dx/2 along y, +dy/2 along -x
    np.testing.assert_allclose(corners.min(0), [9.0, 3.0], atol=1e-9)
    np.testing.assert_allclose(corners.max(0), [11.0, 7.0], atol=1e-9)
    cube = box_corners(box)
    np.testing.assert_allclose(cube[:, 2], [0.25] * 4 + [1.75] * 4)
    np.testing.assert_allclose(cube[:4, :2], corners)
    inside = points_in_box(np.array([[10.0, 6.9, 1.0], [10.9, 5.0, 1.0], [11.1, 5.0, 1.0], [10.0, 5.0, 1.8]]), box)
    assert inside.tolist() == [True, True, False, False]


def test_footprint_corners_are_a_polygon_in_order():
    boxes = np.array([[0, 0, 0, 4, 2, 1, 0.3], [5, -3, 0, 1, 1, 1, -2.0]])
    corners = bev_corners(boxes)
    edges = np.linalg.norm(np.roll(corners, -1, axis=1) - corners, axis=2)
    np.testing.assert_allclose(edges, [[2, 4, 2, 4], [1, 1, 1, 1]], atol=1e-9)  # no diagonal: polygon order
    assert bev_corners(np.zeros((0, 7))).shape == (0, 4, 2)


def _synthetic_configs() -> list[Path]:
    """Every config whose data is the synthetic set (data_root under .../synthetic/)."""
    return [p for p in sorted((REPO_ROOT / "configs").glob("*.py")) if "/synthetic/" in p.read_text()]


@pytest.mark.parametrize("config", _synthetic_configs(), ids=lambda p: p.name)
def test_configs_on_the_synthetic_data_name_its_classes(config):
    """The order in a detection config is its anchors' order; the set must be the converters' classes. A
    segmentation config predicts the index in SEG_CLASSES, so its order is that one."""
    from mmengine.config import Config

    cfg = Config.fromfile(str(config))
    for loader in ("train_dataloader", "val_dataloader", "test_dataloader"):
        dataset = cfg[loader]["dataset"]
        dataset = dataset.get("dataset", dataset)  # a RepeatDataset wraps the real one
        if dataset["type"] == "LidarSegDataset":
            assert tuple(dataset["metainfo"]["classes"]) == SEG_CLASSES, f"{config.name} {loader}"
            continue
        assert set(dataset["metainfo"]["classes"]) == set(DRIVING_CLASSES), f"{config.name} {loader}"
        assert len(dataset["metainfo"]["classes"]) == len(DRIVING_CLASSES)


def test_every_config_that_uses_the_plugin_imports_exactly_its_component_modules():
    from mmengine.config import Config

    import extensions
    from mmlab_core.settings import REPO_ROOT

    configs = sorted((REPO_ROOT / "configs").glob("*.py"))
    using = [c for c in configs if "custom_imports" in Config.fromfile(str(c))]
    assert len(using) >= 7, using  # the LiDAR configs; the camera config uses mmdet's types only
    for config in using:
        imports = Config.fromfile(str(config)).custom_imports
        assert list(imports["imports"]) == list(extensions.COMPONENTS), config
        assert imports["allow_failed_imports"] is False
