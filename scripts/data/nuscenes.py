"""nuScenes and Lyft (nuScenes schema) -> mmdet3d info files (+ GT database for
nuScenes), by mmdet3d's own converters, as ``tools/create_data.py`` runs them.

Input::

    nuScenes: SRC/<version>/*.json (scene, sample, sample_data, ...)   SRC/samples/  SRC/sweeps/  SRC/maps/
    Lyft:     SRC/<version>/<version>/*.json   SRC/<version>/{lidar,maps}/   SRC/{train,val}.txt (or test.txt)

The dataset SDKs (nuscenes-devkit 1.2.0, lyft_dataset_sdk 0.0.8) are in the stack
as patched forks. The tables are checked first for the records and LiDAR files
the converters follow (``nuscenes_schema``). Output goes through a staging folder,
as for KITTI; when OUT is not SRC, OUT links to SRC's data.
"""

from __future__ import annotations

from contextlib import chdir
from pathlib import Path

from mmlab_core.errors import DataFormatError
from mmlab_core.files import publish, scratch_dir
from scripts.data.mmdet3d_tools import converter
from scripts.data.nuscenes_schema import check_references, read_scene_list

NUSCENES_VERSIONS = ("v1.0-trainval", "v1.0-test", "v1.0-mini")
LYFT_VERSIONS = ("v1.01-train", "v1.01-test")


def check_version(tables: Path, versions: tuple[str, ...], version: str) -> None:
    """The version is one the converter knows."""
    if version not in versions:
        raise DataFormatError(tables, f"version {version!r} is not one of {', '.join(versions)}; pass --version")


def _link_view(src: Path, view: Path) -> None:
    """SRC's entries linked into ``view`` (the staging folder, or an OUT apart from SRC) where it has none."""
    for entry in src.iterdir():
        link = view / entry.name
        if not entry.name.startswith(".") and not link.exists() and not link.is_symlink():
            link.symlink_to(entry.resolve(), target_is_directory=entry.is_dir())


def _update_split(name: str, folder: Path, split: str, **kwargs) -> list[str]:
    """``<name>_infos_<split>.pkl`` in mmdet3d 1.x format, in place; an empty split is dropped (mmdet3d's updater
    fails on one). Returns the file's name, or none."""
    import pickle

    pkl = folder / f"{name}_infos_{split}.pkl"
    if not pickle.loads(pkl.read_bytes())["infos"]:
        print(f"{name}: no {split} samples, so no {pkl.name}", flush=True)
        pkl.unlink()
        return []
    update = converter("update_infos_to_v2", name)
    update.update_pkl_infos(name, out_dir=str(folder), pkl_path=str(pkl), **kwargs)
    return [pkl.name]


def convert_nuscenes(src: Path, out: Path | None = None, version: str = "v1.0-trainval", sweeps: int = 10) -> list:
    """``nuscenes_infos_{train,val}.pkl`` (or ``_test``) and the GT database, in ``out`` (default SRC)."""
    src, out = src.resolve(), (out or src).resolve()
    check_version(src / version, NUSCENES_VERSIONS, version)
    samples = check_references(src / version, src, sweeps)
    print(f"nuscenes: {samples} samples of {version} in {src}", flush=True)
    nuscenes = converter("nuscenes_converter", "nuScenes")
    gt_database = converter("create_gt_database", "nuScenes")
    from mmengine.registry import init_default_scope

    init_default_scope("mmdet3d")
    splits = ("test",) if version == "v1.0-test" else ("train", "val")
    with scratch_dir(out, "nuscenes") as folder:
        _link_view(src, folder)
        print(f"nuscenes: [1/3] infos of {version} (mmdet3d nuscenes_converter)", flush=True)
        with chdir(folder):  # the converter writes sweep paths relative to the working directory
            nuscenes.create_nuscenes_infos(str(folder), "nuscenes", version=version, max_sweeps=sweeps)
        print("nuscenes: [2/3] infos to mmdet3d 1.x format (update_infos_to_v2)", flush=True)
        outputs = [name for split in splits for name in _update_split("nuscenes", folder, split, data_root=str(folder))]
        if "nuscenes_infos_train.pkl" in outputs:
            print("nuscenes: [3/3] GT database (create_gt_database)", flush=True)
            gt_database.create_groundtruth_database(
                "NuScenesDataset", str(folder), "nuscenes", "nuscenes_infos_train.pkl"
            )
        if out != src:
            _link_view(src, out)
        return publish(folder, out, [*outputs, "nuscenes_dbinfos_train.pkl", "nuscenes_gt_database"])


def convert_lyft(src: Path, out: Path | None = None, version: str = "v1.01-train", sweeps: int = 10) -> list:
    """``lyft_infos_{train,val}.pkl`` (or ``_test``), in ``out`` (default SRC)."""
    src, out = src.resolve(), (out or src).resolve()
    check_version(src / version / version, LYFT_VERSIONS, version)
    splits = ("test",) if version == "v1.01-test" else ("train", "val")
    samples = check_references(src / version / version, src / version, sweeps)
    scenes = {split: read_scene_list(src / f"{split}.txt") for split in splits}
    print(
        f"lyft: {samples} samples of {version} in {src}; scene lists: "
        + ", ".join(f"{len(names)} {split}" for split, names in scenes.items()),
        flush=True,
    )
    lyft = converter("lyft_converter", "Lyft")
    with scratch_dir(out, "lyft") as folder:
        _link_view(src, folder)
        print(f"lyft: [1/2] infos of {version} (mmdet3d lyft_converter)", flush=True)
        with chdir(folder):  # the converter writes LiDAR paths relative to the working directory
            lyft.create_lyft_infos(str(folder), "lyft", version=version, max_sweeps=sweeps)
        print("lyft: [2/2] infos to mmdet3d 1.x format (update_infos_to_v2)", flush=True)
        outputs = [name for split in splits for name in _update_split("lyft", folder, split)]
        if out != src:
            _link_view(src, out)
        return publish(folder, out, outputs)
