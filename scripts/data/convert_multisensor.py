"""Convert multi-sensor JSON frames (extensions/io/multisensor.py) to mmdet3d
1.x info files for extensions' MultiSensorDataset.

Input: ``<root>/frames/<id>.json`` and ``<root>/splits/{train,val}.txt``.
Output: ``<root>/multisensor_infos_{train,val}.pkl``.
"""

from __future__ import annotations

import argparse
import pickle
import sys
from pathlib import Path

import numpy as np

from extensions.classes import DRIVING_CLASSES
from extensions.geometry import points_in_box
from extensions.io.fields import TRAINING_FILL
from extensions.io.multisensor import read_frame
from extensions.io.points import read_points
from mmlab_core.cli import run
from mmlab_core.errors import DataFormatError
from mmlab_core.files import atomic_path


def _camera_info(camera: dict) -> dict:
    cam2img = np.eye(4)
    cam2img[:3, :3] = camera["intrinsics"]
    return dict(
        img_path=camera["path"],
        width=camera["width"],
        height=camera["height"],
        cam2img=cam2img.tolist(),
        lidar2cam=camera["lidar_to_camera"].tolist(),
        lidar2img=(cam2img @ camera["lidar_to_camera"]).tolist(),
    )


def build_infos(root: Path, split: str, classes=DRIVING_CLASSES) -> dict:
    split_file = root / "splits" / f"{split}.txt"
    if not split_file.exists():
        raise DataFormatError(split_file, "split file not found")
    data_list = []
    for number, frame_id in enumerate(split_file.read_text().split(), 1):
        frame_file = root / "frames" / f"{frame_id}.json"
        if not frame_file.exists():
            raise DataFormatError(split_file, f"frame {frame_id}: frames/{frame_id}.json does not exist", number)
        frame = read_frame(frame_file, classes)
        for name, camera in frame["cameras"].items():
            if not (root / camera["path"]).exists():
                raise DataFormatError(frame_file, f"cameras.{name}.path: {camera['path']} does not exist")
        points = read_points(root / frame["lidar_path"], frame["dims"], TRAINING_FILL)
        instances = [
            dict(
                bbox_3d=[float(v) for v in box],
                bbox_label_3d=classes.index(name),
                num_lidar_pts=int(points_in_box(points, box).sum()),
            )
            for name, box in zip(frame["names"], frame["boxes"], strict=True)
        ]
        data_list.append(
            dict(
                sample_idx=len(data_list),
                frame_id=frame["frame_id"],
                lidar_points=dict(lidar_path=frame["lidar_path"], num_pts_feats=frame["dims"]),
                images={name: _camera_info(camera) for name, camera in frame["cameras"].items()},
                instances=instances,
            )
        )
    metainfo = dict(classes=list(classes), categories={c: i for i, c in enumerate(classes)}, dataset="multisensor")
    return dict(metainfo=metainfo, data_list=data_list)


def convert(root: Path, classes=DRIVING_CLASSES) -> dict:
    """Write both splits' info files, each whole or not at all, after both were read and checked."""
    infos = {split: build_infos(root, split, classes) for split in ("train", "val")}
    written = {}
    for split, split_infos in infos.items():
        path = root / f"multisensor_infos_{split}.pkl"
        with atomic_path(path) as tmp, tmp.open("wb") as out:
            pickle.dump(split_infos, out)
        written[split] = (path, len(split_infos["data_list"]))
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("root", type=Path)
    args = parser.parse_args(argv)
    written = convert(args.root)
    for name, (path, count) in written.items():
        print(f"{name}: {count} frames -> {path}")
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
