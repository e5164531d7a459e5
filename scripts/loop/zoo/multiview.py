"""Multi-view camera inputs (MV-FCOS3D on Waymo's five cameras): KITTI 000008's CAM2 image and calibration stand
for each view, since the shared data holds no multi-camera frame. A training batch in the form upstream's Waymo
multi-view pipeline packs, and an info file for ``inference_multi_modality_detector(..., cam_type="all")``."""

from __future__ import annotations

import pickle
from pathlib import Path

from scripts.loop.zoo.frames import kitti_calibration, kitti_dir

VIEWS = 5  # LoadMultiViewImageFromFiles' default: Waymo's cameras


def train_batch(inputs: dict, size: tuple[int, int] = (128, 192)) -> dict:
    """``create_detector_inputs`` LiDAR boxes, with ``VIEWS`` random images and each view's geometry."""
    import torch
    from mmdet3d.testing import create_detector_inputs

    data = create_detector_inputs(**{**inputs, "with_points": False, "with_img": False})
    calib = kitti_calibration()
    data["inputs"] = dict(img=[torch.rand(VIEWS, 3, *size) * 255])
    for sample in data["data_samples"]:
        sample.set_metainfo(
            dict(
                num_views=VIEWS,
                num_ref_frames=0,
                img_shape=[size] * VIEWS,
                ori_shape=[size] * VIEWS,
                lidar2cam=[calib["lidar2cam"]] * VIEWS,
                cam2img=[calib["cam2img"]] * VIEWS,
                ori_cam2img=[calib["cam2img"]] * VIEWS,
            )
        )
    return data


def write_views_ann(path: Path) -> Path:
    """An info file naming 000008.png as each of the ``VIEWS`` cameras, with KITTI's geometry."""
    calib = kitti_calibration()
    view = dict(img_path="000008.png", cam2img=calib["cam2img"].tolist(), lidar2cam=calib["lidar2cam"].tolist())
    info = dict(images={f"CAM_{i}": dict(view) for i in range(VIEWS)}, lidar_points=dict(lidar_path="000008.bin"))
    with open(path, "wb") as f:
        pickle.dump(dict(metainfo=dict(DATASET="Waymo"), data_list=[info]), f)
    return path


def predict(model, work_dir: Path):
    """The model's prediction on the views, through its test pipeline."""
    from mmdet3d.apis import inference_multi_modality_detector

    ann = write_views_ann(work_dir / "000008_views.pkl")
    scan = str(kitti_dir() / "000008.bin")  # not read: the pipeline loads images only
    result, _ = inference_multi_modality_detector(model, scan, str(kitti_dir()), str(ann), cam_type="all")
    return result
