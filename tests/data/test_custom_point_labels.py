"""The custom LiDAR format's optional per-point labels (``labels/<id>.label``): generated with
``point_labels=True``, carried into the infos as ``pts_semantic_mask_path``, checked against the cloud."""

from __future__ import annotations

import pickle
import re
from pathlib import Path

import numpy as np
import pytest

from extensions.io.point_labels import read_point_labels, write_point_labels
from mmlab_core.errors import DataFormatError
from scripts.data.convert_lidar import convert
from scripts.data.synth_scenes import generate, make_frame


def _infos(root: Path, split: str) -> list[dict]:
    return pickle.loads((root / f"lidar_infos_{split}.pkl").read_bytes())["data_list"]


@pytest.fixture
def labelled(tmp_path) -> Path:
    root = tmp_path / "synthetic"
    generate(root, train=2, val=1, point_labels=True)
    return root


def test_infos_carry_the_point_labels(labelled):
    written = convert(labelled)
    assert (written["train"][1], written["val"][1]) == (2, 1)
    for split in ("train", "val"):
        for info in _infos(labelled, split):
            assert info["pts_semantic_mask_path"] == f"labels/{info['frame_id']}.label"
            labels = read_point_labels(labelled / info["pts_semantic_mask_path"])
            assert len(labels) == len(np.fromfile(labelled / info["lidar_points"]["lidar_path"], np.float32)) // 4
    first = _infos(labelled, "train")[0]
    assert first["instances"]  # the boxes are still there beside the point labels
    raw = make_frame(0).point_labels & 0xFFFF  # generate's seed 0, frame 0
    np.testing.assert_array_equal(read_point_labels(labelled / first["pts_semantic_mask_path"]), raw)


def test_a_frame_with_only_point_labels_has_no_instances(labelled):
    (labelled / "labels" / "000001.txt").unlink()
    convert(labelled)
    second = _infos(labelled, "train")[1]
    assert second["frame_id"] == "000001" and second["instances"] == []
    assert second["pts_semantic_mask_path"] == "labels/000001.label"
    assert _infos(labelled, "train")[0]["instances"]


def test_point_labels_of_the_wrong_length_are_refused_naming_the_file(labelled):
    label = labelled / "labels" / "000002.label"
    write_point_labels(label, np.zeros(5, np.uint32))
    with pytest.raises(DataFormatError, match=rf"^{re.escape(str(label))}: 5 labels for \d+ points"):
        convert(labelled)
    assert not list(labelled.glob("*.pkl"))  # nothing written: every split is checked first


def test_without_point_labels_there_are_none(tmp_path):
    generate(tmp_path, train=1, val=1)
    assert not list((tmp_path / "labels").glob("*.label"))
    convert(tmp_path)
    for split in ("train", "val"):
        (info,) = _infos(tmp_path, split)
        assert "pts_semantic_mask_path" not in info and info["instances"]
