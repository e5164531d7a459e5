"""SemanticKITTI -> mmdet3d info files (``nox -s data -- semantickitti SRC [OUT]``).

Input::

    SRC/sequences/NN/velodyne/NNNNNN.bin    float32 x y z remission
    SRC/sequences/NN/labels/NNNNNN.label    uint32 per point (extensions/io/point_labels.py); not needed in test

Output, in OUT (default SRC), as mmdet3d 1.4.0's converter writes them (``dict(metainfo, data_list)``, each frame
``lidar_points.lidar_path``, ``pts_semantic_mask_path``, ``sample_id``; paths relative to OUT, the data_root)::

    semantickitti_infos_train.pkl   sequences 00-07, 09, 10
    semantickitti_infos_val.pkl     sequence 08
    semantickitti_infos_test.pkl    sequences 11-21

Unlike upstream's, which lists a fixed number of frames per sequence without looking, this one lists the frames
that are there, converts only the sequences present, and checks every labelled frame's ``.label`` against its
cloud (by file size: the 23,201 labelled frames are not read) before it writes anything.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path

from extensions.io.point_labels import read_point_labels
from mmlab_core.errors import DataFormatError
from mmlab_core.files import atomic_path

SPLITS = {"train": (0, 1, 2, 3, 4, 5, 6, 7, 9, 10), "val": (8,), "test": tuple(range(11, 22))}
SPLIT_SEQUENCES = {"train": "00-07, 09, 10", "val": "08", "test": "11-21"}
LABELLED = ("train", "val")
POINT_FEATS = 4  # x y z remission
LAYOUT = "SRC/sequences/NN/velodyne/NNNNNN.bin, with SRC/sequences/NN/labels/NNNNNN.label for 00-10"


def info_path(out: Path, split: str) -> Path:
    return out / f"semantickitti_infos_{split}.pkl"


def sequences(src: Path) -> dict[int, Path]:
    """The split sequences present in ``SRC/sequences`` by number; a ``DataFormatError`` when there is none."""
    root = src / "sequences"
    known = {n for numbers in SPLITS.values() for n in numbers}
    found = {}
    if root.is_dir():
        for folder in sorted(root.iterdir()):
            if folder.is_dir() and folder.name.isdigit() and int(folder.name) in known:
                found[int(folder.name)] = folder
    if not found:
        raise DataFormatError(root, f"no sequence 00-21 found; SemanticKITTI's layout is {LAYOUT}")
    return found


def _point_count(cloud: Path) -> int:
    size = cloud.stat().st_size
    if size % (4 * POINT_FEATS):
        raise DataFormatError(cloud, f"{size} bytes is not a whole number of points ({POINT_FEATS} float32 each)")
    return size // (4 * POINT_FEATS)


def _check_labels(label: Path, points: int) -> None:
    """One uint32 per point, or a paragraph naming ``label``."""
    if not label.is_file():
        raise DataFormatError(label, "not found: every frame of sequences 00-10 needs its labels/<frame>.label")
    if label.stat().st_size != 4 * points:
        read_point_labels(label, points)  # raises, saying how many labels for how many points


def sequence_infos(folder: Path, out: Path, labelled: bool) -> list[dict]:
    """One info per ``velodyne/*.bin`` of a sequence folder, in frame order."""
    clouds = sorted((folder / "velodyne").glob("*.bin"))
    if not clouds:
        raise DataFormatError(folder / "velodyne", f"no .bin point clouds; SemanticKITTI's layout is {LAYOUT}")
    infos = []
    for cloud in clouds:
        label = folder / "labels" / f"{cloud.stem}.label"
        points = _point_count(cloud)
        if labelled:
            _check_labels(label, points)
        info = dict(
            lidar_points=dict(lidar_path=os.path.relpath(cloud.absolute(), out.absolute()), num_pts_feats=POINT_FEATS)
        )
        if labelled or label.is_file():  # the test sequences have no labels
            info["pts_semantic_mask_path"] = os.path.relpath(label.absolute(), out.absolute())
        stem = cloud.stem.lstrip("0") or "0"
        info["sample_id"] = f"{int(folder.name)}{stem}"  # upstream's: sequence and frame numbers, unpadded
        infos.append(info)
    return infos


def build_infos(src: Path, out: Path) -> dict[str, dict]:
    """The info dict of every split with a sequence present, ``{split: dict(metainfo, data_list)}``."""
    present = sequences(src)
    infos = {}
    for split, numbers in SPLITS.items():
        folders = [present[n] for n in numbers if n in present]
        if folders:
            data_list = [i for f in folders for i in sequence_infos(f, out, split in LABELLED)]
            infos[split] = dict(metainfo=dict(DATASET="SemanticKITTI"), data_list=data_list)
    return infos


def convert(src: Path, out: Path | None = None) -> dict[str, tuple[Path, int]]:
    """Write the info files of the splits present; returns ``{split: (path, frames)}``."""
    src = Path(src)
    out = Path(out) if out is not None else src
    infos = build_infos(src, out)  # every split checked before anything is written
    written = {}
    for split, split_infos in infos.items():
        path = info_path(out, split)
        with atomic_path(path) as tmp, tmp.open("wb") as stream:
            pickle.dump(split_infos, stream)
        written[split] = (path, len(split_infos["data_list"]))
    return written


def skipped(split: str) -> str:
    """The line printed for a split none of whose sequences is present."""
    return f"semantickitti: {split}: none of sequences {SPLIT_SEQUENCES[split]} present, skipped"
