"""KITTI object layout -> mmdet3d info files and GT database, by mmdet3d's own
converter (``tools/create_data.py kitti``, step by step).

Input (KITTI's download)::

    SRC/training/{velodyne,image_2,calib,label_2}/<id>.*   SRC/ImageSets/{train,val}[,test].txt

Output, in OUT (default SRC)::

    kitti_infos_{train,val,trainval,test}.pkl   kitti_dbinfos_train.pkl   kitti_gt_database/
    training/velodyne_reduced/                 (and, when OUT is not SRC, links to SRC's folders)

Everything is written into a hidden staging folder in OUT and renamed into place
when the whole conversion succeeded, so OUT never holds half-written info files.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from mmengine.registry import init_default_scope

from mmlab_core.errors import DataFormatError
from mmlab_core.files import publish, scratch_dir
from scripts.data.mmdet3d_tools import converter, require

PREFIX = "kitti"
FOLDERS = ("velodyne", "image_2", "calib", "label_2")
CALIB_KEYS = ("P2", "R0_rect", "Tr_velo_to_cam")
OUTPUTS = (
    *(f"{PREFIX}_infos_{split}.pkl" for split in ("train", "val", "trainval", "test")),
    f"{PREFIX}_dbinfos_train.pkl",
    f"{PREFIX}_gt_database",
    "training/velodyne_reduced",
    "testing/velodyne_reduced",
)


def read_ids(src: Path, split: str, required: bool = True) -> list[str]:
    """Frame ids of ``ImageSets/<split>.txt`` (an optional split that is missing has none)."""
    path = src / "ImageSets" / f"{split}.txt"
    if not path.exists() and not required:
        return []
    return [line.strip() for line in require(path, f"the {split} split").read_text().splitlines() if line.strip()]


def check_frame(src: Path, frame_id: str, folders: tuple[str, ...] = FOLDERS) -> None:
    """A training frame's files exist, its label lines have 15 fields and its calib the needed keys."""
    training = src / "training"
    suffix = {"velodyne": ".bin", "image_2": ".png", "calib": ".txt", "label_2": ".txt"}
    for folder in folders:
        require(training / folder / f"{frame_id}{suffix[folder]}", f"frame {frame_id}'s {folder} file")
    label = training / "label_2" / f"{frame_id}.txt"
    for number, line in enumerate(label.read_text().splitlines(), 1):
        if line.strip() and len(line.split()) not in (15, 16):
            raise DataFormatError(
                label,
                f"{len(line.split())} fields; a KITTI label line has 15 (type truncated occluded alpha "
                "x1 y1 x2 y2 h w l x y z rotation_y) or 16 with a score",
                number,
            )
    calib = training / "calib" / f"{frame_id}.txt"
    keys = {line.split(":")[0] for line in calib.read_text().splitlines() if ":" in line}
    missing = [key for key in CALIB_KEYS if key not in keys]
    if missing:
        raise DataFormatError(calib, f"no {', '.join(missing)}; a KITTI calib file has P0-P3, R0_rect, Tr_velo_to_cam")


def _link_view(src: Path, view: Path) -> None:
    """``view/{training,testing}/<folder>`` as links to SRC's folders, so the converter reads SRC."""
    for part in ("training", "testing"):
        for folder in FOLDERS:
            source, link = src / part / folder, view / part / folder
            if source.is_dir() and not link.exists():
                link.parent.mkdir(parents=True, exist_ok=True)
                link.symlink_to(source.resolve(), target_is_directory=True)


def convert(src: Path, out: Path | None = None) -> list[Path]:
    """Run mmdet3d's KITTI conversion over ``src``; returns the files and folders written to ``out``."""
    src, out = src.resolve(), (out or src).resolve()
    require(src / "training", "the KITTI training folder")
    splits = {"train": read_ids(src, "train"), "val": read_ids(src, "val"), "test": read_ids(src, "test", False)}
    frames = sorted(set(splits["train"] + splits["val"]))
    for frame_id in frames:
        check_frame(src, frame_id)
    print(
        f"kitti: {len(frames)} labelled frames ({len(splits['train'])} train, {len(splits['val'])} val, "
        f"{len(splits['test'])} test) in {src}",
        flush=True,
    )

    init_default_scope("mmdet3d")  # as tools/create_data.py does: the GT database builds a KittiDataset
    kitti = converter("kitti_converter", "KITTI")
    update = converter("update_infos_to_v2", "KITTI")
    gt_database = converter("create_gt_database", "KITTI")
    with scratch_dir(out, PREFIX) as folder:
        _link_view(src, folder)
        (folder / "ImageSets").mkdir()
        for split, ids in splits.items():
            (folder / "ImageSets" / f"{split}.txt").write_text("".join(f"{i}\n" for i in ids))
        print("kitti: [1/4] infos (mmdet3d kitti_converter)", flush=True)
        kitti.create_kitti_info_file(str(folder), PREFIX)
        print("kitti: [2/4] reduced point clouds (points in the camera's field of view)", flush=True)
        kitti.create_reduced_point_cloud(str(folder), PREFIX)
        print("kitti: [3/4] infos to mmdet3d 1.x format (update_infos_to_v2)", flush=True)
        converted = ("train", "val", "trainval", "test") if splits["test"] else ("train", "val", "trainval")
        for split in converted:  # mmdet3d's update fails on an empty split (no test frames)
            update.update_pkl_infos("kitti", out_dir=str(folder), pkl_path=str(folder / f"{PREFIX}_infos_{split}.pkl"))
        if not splits["test"]:
            (folder / f"{PREFIX}_infos_test.pkl").unlink()
        print("kitti: [4/4] GT database (create_gt_database)", flush=True)
        gt_database.create_groundtruth_database("KittiDataset", str(folder), PREFIX, f"{PREFIX}_infos_train.pkl")
        if out != src:
            _link_view(src, out)
            shutil.copytree(folder / "ImageSets", out / "ImageSets", dirs_exist_ok=True)
        written = publish(folder, out, OUTPUTS)
    return written
