"""nuScenes and Lyft (nuScenes schema) -> mmdet3d info files (+ GT database for
nuScenes), by mmdet3d's own converters, as ``tools/create_data.py`` runs them.

Input::

    nuScenes: SRC/<version>/*.json (sample.json, sample_data.json, ...)  SRC/samples/  SRC/sweeps/
    Lyft:     SRC/<version>/<version>/*.json                               SRC/<version>/lidar/ ...

Both converters need their dataset SDK (nuscenes-devkit, lyft_dataset_sdk). The
stack does not ship them yet (they pin NumPy < 2 / lint tools; issue 13 §4
brings them in as patched forks); without them the command stops with a
paragraph saying so. Output goes through a staging folder, as for KITTI.
"""

from __future__ import annotations

from pathlib import Path

from scripts.data.mmdet3d_tools import converter, publish, require, staging

TABLES = ("scene", "sample", "sample_data", "sample_annotation", "calibrated_sensor", "ego_pose")
NUSCENES_VERSIONS = ("v1.0-trainval", "v1.0-test", "v1.0-mini")
LYFT_VERSIONS = ("v1.01-train", "v1.01-test")


def check_tables(tables: Path, versions: tuple[str, ...], version: str) -> None:
    """The version is one the converter knows and its folder holds the schema's tables."""
    if version not in versions:
        from extensions.errors import DataFormatError

        raise DataFormatError(tables, f"version {version!r} is not one of {', '.join(versions)}; pass --version")
    for table in TABLES:
        require(tables / f"{table}.json", f"the {table} table")


def _link_view(src: Path, view: Path) -> None:
    """Every entry of SRC linked into the staging folder, so the converter reads SRC and writes the folder."""
    for entry in src.iterdir():
        if not entry.name.startswith("."):
            (view / entry.name).symlink_to(entry.resolve(), target_is_directory=entry.is_dir())


def convert_nuscenes(src: Path, out: Path | None = None, version: str = "v1.0-trainval", sweeps: int = 10) -> list:
    """``nuscenes_infos_{train,val}.pkl`` (or ``_test``) and the GT database, in ``out`` (default SRC)."""
    src, out = src.resolve(), (out or src).resolve()
    check_tables(src / version, NUSCENES_VERSIONS, version)
    nuscenes = converter("nuscenes_converter", "nuScenes")
    update = converter("update_infos_to_v2", "nuScenes")
    gt_database = converter("create_gt_database", "nuScenes")
    from mmengine.registry import init_default_scope

    init_default_scope("mmdet3d")
    splits = ("test",) if version == "v1.0-test" else ("train", "val")
    with staging(out, "nuscenes") as folder:
        _link_view(src, folder)
        print(f"nuscenes: [1/3] infos of {version} (mmdet3d nuscenes_converter)", flush=True)
        nuscenes.create_nuscenes_infos(str(folder), "nuscenes", version=version, max_sweeps=sweeps)
        print("nuscenes: [2/3] infos to mmdet3d 1.x format (update_infos_to_v2)", flush=True)
        for split in splits:
            update.update_pkl_infos(
                "nuscenes", out_dir=str(folder), pkl_path=str(folder / f"nuscenes_infos_{split}.pkl")
            )
        if "train" in splits:
            print("nuscenes: [3/3] GT database (create_gt_database)", flush=True)
            gt_database.create_groundtruth_database(
                "NuScenesDataset", str(folder), "nuscenes", "nuscenes_infos_train.pkl"
            )  # fmt: skip
        outputs = [f"nuscenes_infos_{split}.pkl" for split in splits]
        return publish(folder, out, [*outputs, "nuscenes_dbinfos_train.pkl", "nuscenes_gt_database"])


def convert_lyft(src: Path, out: Path | None = None, version: str = "v1.01-train", sweeps: int = 10) -> list:
    """``lyft_infos_{train,val}.pkl`` (or ``_test``), in ``out`` (default SRC)."""
    src, out = src.resolve(), (out or src).resolve()
    check_tables(src / version / version, LYFT_VERSIONS, version)
    lyft = converter("lyft_converter", "Lyft")
    update = converter("update_infos_to_v2", "Lyft")
    splits = ("test",) if version == "v1.01-test" else ("train", "val")
    with staging(out, "lyft") as folder:
        _link_view(src, folder)
        print(f"lyft: [1/2] infos of {version} (mmdet3d lyft_converter)", flush=True)
        lyft.create_lyft_infos(str(folder), "lyft", version=version, max_sweeps=sweeps)
        print("lyft: [2/2] infos to mmdet3d 1.x format (update_infos_to_v2)", flush=True)
        for split in splits:
            update.update_pkl_infos("lyft", out_dir=str(folder), pkl_path=str(folder / f"lyft_infos_{split}.pkl"))
        return publish(folder, out, [f"lyft_infos_{split}.pkl" for split in splits])
