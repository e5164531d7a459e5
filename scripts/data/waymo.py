"""Waymo Open Dataset (``SRC/waymo_format/{training,validation}/*.tfrecord``) ->
KITTI-format frames, infos and GT database in ``OUT/kitti_format``, by mmdet3d's
``waymo_converter`` as ``tools/create_data.py waymo --version v1.4-mini`` runs it.

mmdet3d's converter needs TensorFlow and waymo-open-dataset. The newest build
(waymo-open-dataset-tf-2-12-0 1.6.7) pins numpy==1.23.5 and tensorflow==2.13, so
it cannot install next to the stack's NumPy 2; the command then stops with a
paragraph saying so.
"""

from __future__ import annotations

from pathlib import Path

from mmlab_core.files import publish, scratch_dir
from scripts.data.mmdet3d_tools import converter, require

SPLITS = ("training", "validation")


def convert(src: Path, out: Path | None = None, workers: int = 2) -> list:
    """Convert the training and validation records; returns what was written to ``out`` (default SRC)."""
    src, out = src.resolve(), (out or src).resolve()
    for split in SPLITS:
        if not any(require(src / "waymo_format" / split, f"the Waymo {split} folder").glob("*.tfrecord")):
            from mmlab_core.errors import DataFormatError

            raise DataFormatError(src / "waymo_format" / split, "holds no .tfrecord files")
    waymo = converter("waymo_converter", "Waymo")
    gt_database = converter("create_gt_database", "Waymo")
    with scratch_dir(out, "waymo") as folder:
        kitti_format = folder / "kitti_format"
        for index, split in enumerate(SPLITS):
            print(f"waymo: [{index + 1}/3] {split} records to KITTI format (mmdet3d waymo_converter)", flush=True)
            job = waymo.Waymo2KITTI(
                str(src / "waymo_format" / split),
                str(kitti_format / "training"),
                prefix=str(index),
                workers=workers,
                test_mode=False,
                info_prefix="waymo",
                split=split,
            )
            job.convert()
            if split == "validation":
                job.merge_trainval_infos()
        waymo.create_ImageSets_img_ids(str(kitti_format), list(SPLITS))
        print("waymo: [3/3] GT database (create_gt_database)", flush=True)
        gt_database.GTDatabaseCreater(
            "WaymoDataset",
            str(kitti_format),
            "waymo",
            "waymo_infos_train.pkl",
            relative_path=False,
            with_mask=False,
            num_worker=workers,
        ).create()
        return publish(folder, out, ["kitti_format"])
