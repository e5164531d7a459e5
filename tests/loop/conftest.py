"""Fixtures shared by the training tests: a tiny generated LiDAR dataset."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def datasets(tmp_path_factory):
    """Four generated training frames and one validation frame, converted (``MMLAB_DATASET_PATH``)."""
    from scripts.data.convert_lidar import convert
    from scripts.data.synth_scenes import generate

    root = tmp_path_factory.mktemp("train") / "datasets"
    generate(root / "synthetic", train=4, val=1, seed=7)
    convert(root / "synthetic")
    return root
