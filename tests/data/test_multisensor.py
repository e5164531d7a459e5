"""The multi-sensor JSON format: converter, dataset, calibration, bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest

from extensions.classes import DRIVING_CLASSES as CLASSES
from extensions.io.multisensor import read_frame
from mmlab_core.errors import DataFormatError
from scripts.data.convert_multisensor import convert
from scripts.data.synth_scenes import generate


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    root = tmp_path_factory.mktemp("multisensor")
    generate(root, train=3, val=1, seed=2, camera=True)
    convert(root)
    return root


def test_dataset_gives_points_image_and_calibration(root):
    from mmdet3d.registry import DATASETS
    from mmdet3d.utils import register_all_modules

    import extensions

    extensions.register()

    register_all_modules()
    pipeline = [
        dict(type="LoadLidarPoints"),
        dict(type="LoadImageFromFileMono3D"),
        dict(type="LoadAnnotations3D"),
        dict(type="Pack3DDetInputs", keys=["points", "img", "gt_bboxes_3d", "gt_labels_3d"]),
    ]
    ds = DATASETS.build(
        dict(type="MultiSensorDataset", data_root=str(root), ann_file="multisensor_infos_train.pkl", pipeline=pipeline)
    )
    item = ds[0]
    assert item["inputs"]["img"].shape == (3, 256, 512) and item["inputs"]["points"].shape[1] == 4
    # the calibration projects each object's box onto its 2D box in the COCO file
    sample = item["data_samples"]
    lidar2img = np.asarray(sample.lidar2img)
    corners = sample.gt_instances_3d.bboxes_3d.corners.numpy()
    coco = json.loads((root / "camera" / "train.json").read_text())
    frame_boxes = [a["bbox"] for a in coco["annotations"] if a["image_id"] == 0]
    projected = []
    for box in corners:
        if box[:, 0].min() < 1.0:
            continue
        uvw = np.c_[box, np.ones(8)] @ lidar2img.T
        uv = uvw[:, :2] / uvw[:, 2:3]
        x1, y1 = np.clip(uv.min(0), 0, [511, 255])
        x2, y2 = np.clip(uv.max(0), 0, [511, 255])
        if x2 - x1 >= 3 and y2 - y1 >= 3:
            projected.append([x1, y1, x2 - x1, y2 - y1])
    assert sorted(map(tuple, np.round(projected, 3))) == sorted(map(tuple, np.round(frame_boxes, 3)))


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda f: f.pop("lidar"), "missing key lidar"),
        (lambda f: f["cameras"]["front"].pop("intrinsics"), "missing key cameras.front.intrinsics"),
        (
            lambda f: f["cameras"]["front"].update(lidar_to_camera=[[1, 0], [0, 1]]),
            "lidar_to_camera must be a finite 4x4",
        ),
        (lambda f: f["objects"][0].update({"class": "Tram"}), r"objects\[0\].class: unknown class 'Tram'"),
        (lambda f: f["objects"][0].update(size=[1, -2, 1]), "sizes positive"),
    ],
)
def test_bad_frames_name_the_file_and_key(root, tmp_path, edit, expected):
    frame = json.loads((root / "frames" / "000000.json").read_text())
    edit(frame)
    path = tmp_path / "000000.json"
    path.write_text(json.dumps(frame))
    with pytest.raises(DataFormatError, match=expected) as caught:
        read_frame(path, CLASSES)
    assert str(path) in str(caught.value)


def test_missing_image_names_the_frame_and_key(root, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(root, copy)
    (copy / "camera" / "images" / "000001.png").unlink()
    with pytest.raises(DataFormatError, match=r"000001\.json: cameras\.front\.path: camera/images/000001\.png"):
        convert(copy)
