"""Predict on a real frame through the model's test pipeline, with upstream's own inference APIs
(``mmdet3d.apis``, ``mmdet.apis``): KITTI 000008 (LiDAR, image, intrinsics) and a nuScenes LIDAR_TOP sweep.

The indoor families (SUN RGB-D, ScanNet, S3DIS) read depth-camera clouds of x, y, z, r, g, b in the depth frame
(x right, y forward, z up); no such sample is in the shared data, so they predict on KITTI 000008's scan turned into
that frame and form (``kitti-depth``): its points within 10 m ahead, reflectance as grey colour."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

from mmlab_core.settings import current


def kitti_dir() -> Path:
    return current().shared / "data" / "kitti-000008"


def nuscenes_scan() -> Path:
    return sorted((current().shared / "data" / "nuscenes-samples" / "samples" / "LIDAR_TOP").glob("*.pcd.bin"))[0]


def kitti_calibration() -> dict:
    """CAM2 intrinsics (000008.txt) and the LiDAR->camera transform (000008.pkl), as 4x4 float matrices."""
    folder = kitti_dir()
    cam2img = np.loadtxt(folder / "000008.txt").reshape(4, 4)
    with open(folder / "000008.pkl", "rb") as f:
        info = pickle.load(f)["data_list"][0]
    lidar2cam = np.array(info["images"]["R0_rect"]) @ np.array(info["lidar_points"]["Tr_velo_to_cam"])
    return dict(cam2img=cam2img, lidar2cam=lidar2cam, lidar2img=cam2img @ lidar2cam)


def write_kitti_ann(path: Path) -> Path:
    """An mmdet3d 1.x info file for 000008's CAM2, the form the inference APIs read."""
    calib = kitti_calibration()
    image = dict(img_path="000008.png", **{k: v.tolist() for k, v in calib.items()})
    info = dict(images=dict(CAM2=image), lidar_points=dict(lidar_path="000008.bin", num_pts_feats=4))
    with open(path, "wb") as f:
        pickle.dump(dict(metainfo=dict(DATASET="KITTI"), data_list=[info]), f)
    return path


LIDAR_TO_DEPTH = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])  # x right = -y left, y = x ahead


def write_depth_scan(path: Path) -> Path:
    """KITTI 000008's points up to 10 m ahead and 5 m aside, in the depth frame, as float32 N x 6 (x, y, z, r, g, b)."""
    points = np.fromfile(kitti_dir() / "000008.bin", dtype=np.float32).reshape(-1, 4)
    near = points[(points[:, 0] > 0) & (points[:, 0] < 10) & (np.abs(points[:, 1]) < 5)]
    grey = np.repeat(np.clip(near[:, 3:4], 0, 1) * 255, 3, axis=1)
    np.hstack([near[:, :3] @ LIDAR_TO_DEPTH.T, grey]).astype(np.float32).tofile(path)
    return path


def write_depth_ann(path: Path) -> Path:
    """An info file for 000008's CAM2 seen from the depth frame (``depth2img``), the form SUN RGB-D's carries."""
    calib = kitti_calibration()
    depth2img = calib["lidar2img"][:3, :3] @ LIDAR_TO_DEPTH.T
    image = dict(img_path="000008.png", depth2img=depth2img.tolist())
    info = dict(images=dict(CAM0=image), lidar_points=dict(lidar_path="000008_depth.bin", num_pts_feats=6))
    with open(path, "wb") as f:
        pickle.dump(dict(metainfo=dict(DATASET="SUNRGBD"), data_list=[info]), f)
    return path


def sample_path(frame: str) -> str:
    """The file predicted on (and exported with): a LiDAR scan, or the camera image."""
    if frame == "nuscenes":
        return str(nuscenes_scan())
    return str(kitti_dir() / ("000008.bin" if frame == "kitti" else "000008.png"))


def predict(model, kind: str, frame: str, work_dir: Path):
    """The model's prediction (a data sample) on the frame; ``model.cfg`` is the full config."""
    if kind == "2d":
        from mmdet.apis import inference_detector as detect_2d

        return detect_2d(model, sample_path(frame))
    from mmdet3d.apis import inference_detector, inference_mono_3d_detector, inference_multi_modality_detector

    if kind == "lidar":
        result, _ = inference_detector(model, sample_path(frame))
        return result
    if kind in ("indoor", "seg"):
        from mmdet3d.apis import inference_segmentor

        # SemanticKITTI's segmentors read the KITTI scan as it is; the indoor ones, as a depth cloud
        scan = sample_path(frame) if frame == "kitti" else str(write_depth_scan(work_dir / "000008_depth.bin"))
        result, _ = (inference_segmentor if kind == "seg" else inference_detector)(model, scan)
        return result
    if frame == "kitti-views":
        from scripts.loop.zoo.multiview import predict as predict_views

        return predict_views(model, work_dir)
    if frame == "kitti-depth-image":
        scan, ann = write_depth_scan(work_dir / "000008_depth.bin"), write_depth_ann(work_dir / "000008_depth.pkl")
        image = str(kitti_dir() / "000008.png")
        result, _ = inference_multi_modality_detector(model, str(scan), image, str(ann), cam_type="CAM0")
        return result
    ann = str(write_kitti_ann(work_dir / "000008_ann.pkl"))
    image, scan = str(kitti_dir() / "000008.png"), str(kitti_dir() / "000008.bin")
    if kind == "multimodal":
        result, _ = inference_multi_modality_detector(model, scan, image, ann, cam_type="CAM2")
        return result
    result = inference_mono_3d_detector(model, image, ann, cam_type="CAM2")
    return result[0] if isinstance(result, list | tuple) else result


def boxes_of(result, kind: str) -> dict:
    """Number and shapes of the predicted boxes (of a segmentor: the per-point labels); raises ValueError when
    they are inconsistent."""
    if kind == "seg":
        return labels_of(result)
    if kind == "2d":
        pred = result.pred_instances
        boxes, scores, labels = pred.bboxes, pred.scores, pred.labels
        width = 4
    else:
        pred = result.pred_instances_3d
        boxes, scores, labels = pred.bboxes_3d.tensor, pred.scores_3d, pred.labels_3d
        width = 7
    n = boxes.shape[0]
    if boxes.dim() != 2 or boxes.shape[1] < width or scores.shape != (n,) or labels.shape != (n,):
        raise ValueError(
            f"inconsistent prediction: boxes {tuple(boxes.shape)}, scores {tuple(scores.shape)}, "
            f"labels {tuple(labels.shape)}"
        )
    if not bool(np.isfinite(boxes.detach().cpu().numpy()).all()):
        raise ValueError("predicted boxes hold NaN or inf")
    return dict(boxes=int(n), box_shape=list(boxes.shape))


def labels_of(result) -> dict:
    """A segmentor's per-point labels: one class index per input point."""
    labels = result.pred_pts_seg.pts_semantic_mask
    if labels.dim() != 1 or labels.numel() == 0:
        raise ValueError(f"inconsistent prediction: per-point labels of shape {tuple(labels.shape)}")
    return dict(points=int(labels.numel()), classes=sorted({int(c) for c in labels.unique()}))
