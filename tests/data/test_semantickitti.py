"""``nox -s data -- semantickitti SRC [OUT]``: a tiny SemanticKITTI tree of generated frames -> mmdet3d's
info files -> LidarSegDataset with the MinkUNet config's test pipeline; and the refusals of bad input."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

from extensions.classes import RAW_TO_SEG, SEG_CLASSES
from extensions.io.point_labels import write_point_labels
from extensions.io.points import write_bin
from mmlab_core.cli import run
from mmlab_core.settings import REPO_ROOT
from scripts.data import cli
from scripts.data.synth_scenes import make_frame

CONFIG = REPO_ROOT / "configs" / "minkunet_lidar-custom-seg-cpu.py"
FRAMES = {"00": 2, "08": 2, "11": 1}  # train, val, test (no labels)


def data(argv: list) -> int:
    """``nox -s data -- argv``, in process; returns the exit code."""
    return run(lambda: cli.main([str(a) for a in argv]))


def make_tree(root: Path, frames: dict[str, int] = FRAMES) -> Path:
    """SemanticKITTI's layout from generated frames; sequences 11-21 get no labels, as in the real set."""
    for seed, (sequence, count) in enumerate(frames.items()):
        folder = root / "sequences" / sequence
        (folder / "velodyne").mkdir(parents=True)
        for index in range(count):
            frame = make_frame(10 * seed + index)
            write_bin(folder / "velodyne" / f"{index:06d}.bin", frame.points)
            if int(sequence) <= 10:
                (folder / "labels").mkdir(exist_ok=True)
                write_point_labels(folder / "labels" / f"{index:06d}.label", frame.point_labels)
    return root


@pytest.fixture(scope="module")
def converted(tmp_path_factory) -> tuple[Path, Path]:
    """The tree converted through the CLI into a separate OUT."""
    src = make_tree(tmp_path_factory.mktemp("semantickitti"))
    out = tmp_path_factory.mktemp("semantickitti-out")
    assert data(["semantickitti", src, out]) == 0
    return src, out


def _infos(out: Path, split: str) -> dict:
    return pickle.loads((out / f"semantickitti_infos_{split}.pkl").read_bytes())


def test_infos_per_split_as_mmdet3d_writes_them(converted):
    src, out = converted
    counts = {split: len(_infos(out, split)["data_list"]) for split in ("train", "val", "test")}
    assert counts == {"train": 2, "val": 2, "test": 1}
    val = _infos(out, "val")
    assert val["metainfo"] == {"DATASET": "SemanticKITTI"}
    first = val["data_list"][1]
    assert set(first) == {"lidar_points", "pts_semantic_mask_path", "sample_id"}
    assert first["lidar_points"]["num_pts_feats"] == 4 and first["sample_id"] == "81"
    assert (out / first["lidar_points"]["lidar_path"]).resolve() == src.resolve() / "sequences/08/velodyne/000001.bin"
    assert (out / first["pts_semantic_mask_path"]).resolve() == src.resolve() / "sequences/08/labels/000001.label"
    assert "pts_semantic_mask_path" not in _infos(out, "test")["data_list"][0]  # no labels in the test sequences
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")], "a staging file was left behind"


def test_out_defaults_to_src_with_upstreams_relative_paths(tmp_path, capsys):
    src = make_tree(tmp_path, {"08": 1})
    assert data(["semantickitti", src]) == 0
    (info,) = _infos(src, "val")["data_list"]
    assert info["lidar_points"]["lidar_path"] == "sequences/08/velodyne/000000.bin"
    assert info["pts_semantic_mask_path"] == "sequences/08/labels/000000.label"
    lines = capsys.readouterr().out.splitlines()
    assert "semantickitti: train: none of sequences 00-07, 09, 10 present, skipped" in lines
    assert sorted(p.name for p in src.glob("*.pkl")) == ["semantickitti_infos_val.pkl"]


def test_lidar_seg_dataset_maps_the_raw_labels(converted):
    """The config's test pipeline on a converted frame: each point's class is RAW_TO_SEG of its raw id."""
    from mmdet3d.registry import DATASETS
    from mmdet3d.utils import register_all_modules
    from mmengine.config import Config

    import extensions

    extensions.register()
    register_all_modules()
    _, out = converted
    cfg = Config.fromfile(str(CONFIG)).test_dataloader.dataset
    cfg.update(data_root=str(out), ann_file="semantickitti_infos_train.pkl")
    dataset = DATASETS.build(cfg)
    assert len(dataset) == 2
    sample = dataset[1]
    raw = make_frame(1).point_labels & 0xFFFF
    ignore = len(SEG_CLASSES)
    expected = np.array([RAW_TO_SEG.get(int(r), ignore) for r in raw])
    mask = sample["data_samples"].gt_pts_seg.pts_semantic_mask
    np.testing.assert_array_equal(np.asarray(mask), expected)
    assert sample["inputs"]["points"].shape == (len(raw), 4)
    assert {0, 1, ignore} <= set(expected.tolist())  # ground, cars and unlisted ids (poles, clutter) all occur


def test_missing_label_is_refused_naming_the_file(tmp_path, capsys):
    src = make_tree(tmp_path)
    label = src / "sequences" / "08" / "labels" / "000001.label"
    label.unlink()
    assert data(["semantickitti", src]) == 2
    err = capsys.readouterr().err
    assert str(label) in err and err.count("\n") == 1
    assert not list(src.glob("*.pkl"))  # every split is checked before any file is written


def test_label_of_the_wrong_length_is_refused_naming_the_file(tmp_path, capsys):
    src = make_tree(tmp_path)
    label = src / "sequences" / "00" / "labels" / "000000.label"
    write_point_labels(label, make_frame(0).point_labels[:-3])
    assert data(["semantickitti", src, tmp_path / "out"]) == 2
    err = capsys.readouterr().err
    assert f"{label}: " in err and "labels for" in err
    assert not (tmp_path / "out").exists()


def test_no_sequence_names_the_folder_and_the_layout(tmp_path, capsys):
    (tmp_path / "sequences" / "notes").mkdir(parents=True)
    assert data(["semantickitti", tmp_path]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path / 'sequences'}: no sequence 00-21 found" in err and "velodyne/NNNNNN.bin" in err
