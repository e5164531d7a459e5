"""nuScenes-schema tables (nuScenes, Lyft) checked for what mmdet3d's converters follow in them, before they run.

The converters index the tables by token and open the LiDAR files they name; a missing record or file would stop
them with a bare ``KeyError`` or ``FileNotFoundError`` deep inside the dataset SDK, after part of the work. This
says which table or file is at fault, and what to do, before anything is written.
"""

from __future__ import annotations

import json
from pathlib import Path

from mmlab_core.errors import DataFormatError
from scripts.data.mmdet3d_tools import require

TABLES = ("scene", "sample", "sample_data", "sensor", "calibrated_sensor", "ego_pose", "sample_annotation")
CAMERAS = ("CAM_FRONT", "CAM_FRONT_RIGHT", "CAM_FRONT_LEFT", "CAM_BACK", "CAM_BACK_LEFT", "CAM_BACK_RIGHT")


def load_table(tables: Path, name: str) -> list[dict]:
    """The rows of ``tables/<name>.json``."""
    path = require(tables / f"{name}.json", f"the {name} table")
    try:
        rows = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise DataFormatError(path, f"not valid JSON ({exc.msg}); restore it from the dataset", exc.lineno) from exc
    if not isinstance(rows, list):
        raise DataFormatError(path, "holds no list of records; a nuScenes-schema table is a JSON list")
    return rows


def _require_file(files: Path, tables: Path, record: dict) -> None:
    path = files / record["filename"]
    if not path.is_file():
        raise DataFormatError(
            path,
            f"does not exist, and sample_data record {record['token']} of {tables / 'sample_data.json'} "
            f"names it; put the dataset's LiDAR files under {files} (the tables' file names are relative to it)",
        )


def check_references(tables: Path, files: Path, sweeps: int) -> int:
    """Each sample's LIDAR_TOP file and six cameras, its ``sweeps`` earlier LiDAR sweeps and each scene's first
    sample exist; returns the number of samples. File names in the tables are relative to ``files``."""
    for name in TABLES:
        require(tables / f"{name}.json", f"the {name} table")
    samples = {row["token"]: row for row in load_table(tables, "sample")}
    records = {row["token"]: row for row in load_table(tables, "sample_data")}
    channel = {row["token"]: row["channel"] for row in load_table(tables, "sensor")}
    sensor_of = {row["token"]: channel.get(row["sensor_token"]) for row in load_table(tables, "calibrated_sensor")}
    keyframes: dict[str, dict[str, dict]] = {}
    for record in records.values():
        if record["is_key_frame"]:
            keyframes.setdefault(record["sample_token"], {})[sensor_of.get(record["calibrated_sensor_token"])] = record
    for token in samples:
        frames = keyframes.get(token, {})
        missing = [name for name in ("LIDAR_TOP", *CAMERAS) if name not in frames]
        if missing:
            raise DataFormatError(
                tables / "sample_data.json",
                f"sample {token} has no key frame of {', '.join(missing)}; mmdet3d's "
                "converter reads the LIDAR_TOP file and the six cameras' calibration of every sample",
            )
        record = frames["LIDAR_TOP"]
        _require_file(files, tables, record)
        for _ in range(sweeps):
            if not record["prev"]:
                break
            if record["prev"] not in records:
                raise DataFormatError(
                    tables / "sample_data.json",
                    f"LiDAR record {record['token']} names an earlier sweep "
                    f"{record['prev']} that the table does not hold; add the sweep's records, or pass --sweeps 0",
                )
            record = records[record["prev"]]
            _require_file(files, tables, record)
    for scene in load_table(tables, "scene"):
        if scene["first_sample_token"] not in samples:
            raise DataFormatError(
                tables / "scene.json",
                f"scene {scene['name']!r} starts at sample {scene['first_sample_token']}, "
                "which sample.json does not hold; give the scene its first sample, or drop the scene",
            )
    return len(samples)


def read_scene_list(path: Path) -> list[str]:
    """Scene names, one a line, of a Lyft split list (``train.txt``, ``val.txt``, ``test.txt``)."""
    require(
        path,
        "the Lyft scene list mmdet3d's converter splits by (scene names, one a line; mmdet3d's "
        f"repository ships its lists as data/lyft/{path.name})",
    )
    return [line.strip() for line in path.read_text().splitlines() if line.strip()]
