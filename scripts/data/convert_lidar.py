"""Convert a custom LiDAR dataset to mmdet3d 1.x info files and a GT database.

Input (see extensions/io/labels.py for the label format)::

    <root>/points/<id>.bin | <id>.pcd
    <root>/labels/<id>.txt     boxes, and/or
    <root>/labels/<id>.label   per-point classes (SemanticKITTI's encoding, extensions/io/point_labels.py)
    <root>/splits/train.txt and/or val.txt

Output, in <root>, each file written whole or not at all::

    lidar_infos_train.pkl, lidar_infos_val.pkl   (read by extensions' LidarDataset)
    lidar_dbinfos_train.pkl, gt_database/*.bin   (read by mmdet3d's ObjectSample)

A split without its file is skipped with a message (a recording turned into
frames by scripts/data/bag_to_dataset.py has only the split it was given);
at least one split must exist. Every split is read and checked before anything
is written, and the index files (``*.pkl``) are written last.
"""

from __future__ import annotations

import argparse
import pickle
import sys
from pathlib import Path

import numpy as np

from extensions.classes import DRIVING_CLASSES
from extensions.geometry import centre_to_bottom, points_in_box
from extensions.io.fields import TRAINING_FILL
from extensions.io.labels import Labels, read_labels
from extensions.io.point_labels import read_point_labels
from extensions.io.points import read_points
from mmlab_core.cli import run
from mmlab_core.errors import DataFormatError
from mmlab_core.files import atomic_path, atomic_write

SPLITS = ("train", "val")


def read_split(root: Path, split: str) -> list[tuple[str, Path]]:
    """Frame ids of a split with their point files; a missing file names the split line."""
    split_file = root / "splits" / f"{split}.txt"
    if not split_file.exists():
        raise DataFormatError(split_file, "split file not found")
    frames = []
    for number, line in enumerate(split_file.read_text().splitlines(), 1):
        frame_id = line.strip()
        if not frame_id:
            continue
        candidates = [root / "points" / f"{frame_id}{ext}" for ext in (".bin", ".pcd")]
        found = next((p for p in candidates if p.exists()), None)
        if found is None:
            raise DataFormatError(
                split_file, f"frame {frame_id}: neither points/{frame_id}.bin nor .pcd exists", number
            )
        if not any((root / "labels" / f"{frame_id}{ext}").exists() for ext in (".txt", ".label")):
            raise DataFormatError(
                split_file,
                f"frame {frame_id}: neither labels/{frame_id}.txt (boxes) nor .label (points) exists",
                number,
            )
        frames.append((frame_id, found))
    return frames


def build_infos(root: Path, split: str, classes=DRIVING_CLASSES, dims: int = 4) -> dict:
    data_list = []
    for index, (frame_id, points_path) in enumerate(read_split(root, split)):
        box_file, point_file = (root / "labels" / f"{frame_id}{ext}" for ext in (".txt", ".label"))
        labels = read_labels(box_file, classes) if box_file.exists() else Labels([], np.zeros((0, 7), np.float32))
        points = read_points(points_path, dims, TRAINING_FILL)
        instances = []
        for name, box in zip(labels.names, labels.boxes, strict=True):
            instances.append(
                dict(
                    bbox_3d=[float(v) for v in box],  # LiDAR frame, z at the box centre
                    bbox_label_3d=classes.index(name),
                    num_lidar_pts=int(points_in_box(points, box).sum()),
                )
            )
        info = dict(
            sample_idx=index,
            frame_id=frame_id,
            lidar_points=dict(lidar_path=str(points_path.relative_to(root)), num_pts_feats=dims),
            instances=instances,
        )
        if point_file.exists():
            read_point_labels(point_file, len(points))  # one label per point, or a paragraph naming the file
            info["pts_semantic_mask_path"] = str(point_file.relative_to(root))
        data_list.append(info)
    metainfo = dict(classes=list(classes), categories={c: i for i, c in enumerate(classes)}, dataset="custom-lidar")
    return dict(metainfo=metainfo, data_list=data_list)


def build_gt_database(root: Path, infos: dict, dims: int = 4) -> dict:
    """Points of every training object, saved relative to its box (bottom centre)."""
    out = root / "gt_database"
    out.mkdir(exist_ok=True)
    classes = infos["metainfo"]["classes"]
    db: dict[str, list] = {c: [] for c in classes}
    group_id = 0
    for info in infos["data_list"]:
        points = read_points(root / info["lidar_points"]["lidar_path"], dims, TRAINING_FILL)
        for gt_idx, instance in enumerate(info["instances"]):
            box = np.array(instance["bbox_3d"], dtype=np.float32)
            bottom = centre_to_bottom(box)[0]
            inside = points[points_in_box(points, box)].copy()
            inside[:, :3] -= bottom[:3]
            name = classes[instance["bbox_label_3d"]]
            rel = f"gt_database/{info['frame_id']}_{name}_{gt_idx}.bin"
            atomic_write(root / rel, inside.astype(np.float32).tobytes())
            db[name].append(
                dict(
                    name=name,
                    path=rel,
                    image_idx=info["sample_idx"],
                    gt_idx=gt_idx,
                    box3d_lidar=bottom,
                    num_points_in_gt=len(inside),
                    difficulty=0,
                    group_id=group_id,
                )
            )
            group_id += 1
    return db


def available_splits(root: Path) -> list[str]:
    """The splits that have a file in ``<root>/splits``; a ``DataFormatError`` when none has."""
    found = [split for split in SPLITS if (root / "splits" / f"{split}.txt").exists()]
    if not found:
        raise DataFormatError(
            root / "splits", "no split file: list frame ids in splits/train.txt (to train) and splits/val.txt"
        )
    return found


def convert(root: Path, classes=DRIVING_CLASSES, dims: int = 4) -> dict[str, tuple[Path, int]]:
    """Write the info files of the splits that exist, and the GT database of ``train``;
    returns what was written: ``{name: (path, count)}``."""
    infos = {split: build_infos(root, split, classes, dims) for split in available_splits(root)}
    written = {}
    if "train" in infos:
        db = build_gt_database(root, infos["train"], dims)
        written["gt_database"] = (root / "gt_database", sum(len(v) for v in db.values()))
        _write_pickle(root / "lidar_dbinfos_train.pkl", db)
    for split, split_infos in infos.items():
        path = _write_pickle(root / f"lidar_infos_{split}.pkl", split_infos)
        written[split] = (path, len(split_infos["data_list"]))
    return written


def _write_pickle(path: Path, value) -> Path:
    with atomic_path(path) as tmp, tmp.open("wb") as out:
        pickle.dump(value, out)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--dims", type=int, default=4, help="columns per point in the files (4 or 5)")
    args = parser.parse_args(argv)
    written = convert(args.root, dims=args.dims)
    for split in SPLITS:
        if split not in written:
            then = " (and no GT database: list labelled frames there to train)" if split == "train" else ""
            print(f"{split}: no {args.root / 'splits' / f'{split}.txt'}, skipped{then}", flush=True)
    for name, (path, count) in written.items():
        print(f"{name}: {count} -> {path}")
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
