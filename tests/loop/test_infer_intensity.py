"""Intensity in `nox -s infer`: the training range travels with the model (checkpoint meta, report.json), a
recording on another scale is warned about once, ``--intensity-scale``/``--sensor`` fix it, and a cloud
without intensity is refused alike in a folder and a bag unless ``--fill-intensity`` is given."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pytest

from extensions.io.points import write_bin
from scripts.loop.infer.intensity import intensity_options, mismatch
from tests.helpers.pcd_writer import write_pcd
from tests.loop.infer_bags import write_bag

WARNING = "warning: the intensity of the first"


def _warnings(result) -> list[str]:
    assert result.returncode == 0, result.stderr[-3000:]
    return [line for line in result.stderr.splitlines() if line.startswith(WARNING)]


@pytest.mark.slow
def test_uint8_scale_clouds_warn_once_and_the_scale_flag_or_preset_silences_it(deployed, infer_here, tmp_path):
    tmp, _, clouds = deployed
    trained = json.loads((tmp / "deployed" / "report.json").read_text())["intensity_range"]
    assert 0.5 < trained["p99"] <= 1.0 and trained["frames"] == len(clouds)  # deploy copied the checkpoint's
    folder = tmp_path / "velodyne"
    folder.mkdir()
    for index, points in enumerate(clouds):  # four clouds as a Velodyne driver gives them: intensity 0-255
        write_bin(folder / f"{index:06d}.bin", points * np.array([1, 1, 1, 255], np.float32))

    (warning,) = _warnings(infer_here(tmp / "deployed", folder, "--out", tmp_path / "raw"))
    assert f"99th percentile {trained['p99']:.3g}" in warning  # the training range ...
    observed = np.percentile(np.concatenate([c[:, 3] for c in clouds[:3]]) * 255, 99)
    assert f"99th percentile {observed:.3g}" in warning  # ... and the first clouds' range
    assert "--intensity-scale 0.00" in warning and "(or --sensor velodyne)" in warning

    assert _warnings(infer_here(tmp / "deployed", folder, "--intensity-scale", "1/255", "--out", tmp_path / "a")) == []
    scaled = tmp_path / "b"
    assert _warnings(infer_here(tmp / "deployed", folder, "--sensor", "velodyne", "--out", scaled)) == []
    plain = tmp_path / "c"
    assert _warnings(infer_here(tmp / "deployed", tmp / "datasets" / "synthetic", "--out", plain)) == []
    counts = [[len(json.loads(row)["objects"]) for row in (p / "detections.jsonl").open()] for p in (scaled, plain)]
    assert counts[0] == counts[1]  # the preset brought the clouds back to the scale of the generated frames


@pytest.mark.slow
def test_cloud_without_intensity_is_refused_in_a_folder_and_a_bag_unless_filled(deployed, infer_here, tmp_path):
    tmp, _, clouds = deployed
    small = [c[:3000] for c in clouds[:2]]
    folder = tmp_path / "hesai"
    folder.mkdir()
    for index, points in enumerate(small):
        write_pcd(folder / f"{index:06d}.pcd", points[:, :3], fields=("x", "y", "z"), data="ascii")
    bag = write_bag("ros2-mcap", tmp_path / "xyz", small, names=("x", "y", "z"))
    for source, where in ((folder, folder / "000000.pcd"), (bag, f"{bag}:/velodyne_points")):
        out = tmp_path / f"out-{source.name}"
        result = infer_here(tmp / "deployed", source, "--out", out)
        assert result.returncode == 2, result.stderr[-3000:]
        paragraph = result.stderr.strip().splitlines()[-1]
        for phrase in (str(where), "the cloud has the fields x, y, z", "(or one of i,", "--fill-intensity VALUE"):
            assert phrase in paragraph
        assert not out.exists()

        filled = infer_here(tmp / "deployed", source, "--fill-intensity", "0.5", "--out", out)
        assert filled.returncode == 0, filled.stderr[-3000:]
        assert len((out / "detections.jsonl").read_text().splitlines()) == len(small)


@pytest.mark.slow
def test_training_records_the_intensity_range_in_every_checkpoint(learned, datasets):
    """IntensityRangeHook (the configs' custom_hooks): the range of the training frames' points, measured with
    the dataset's own loader, is in the checkpoint's meta."""
    import pickle

    from extensions.io.intensity import summarise
    from extensions.io.points import read_bin
    from scripts.loop.common.checks import load_checkpoint

    recorded = load_checkpoint(learned)["meta"]["intensity_range"]
    infos = pickle.loads((datasets / "synthetic" / "lidar_infos_train.pkl").read_bytes())["data_list"]
    points = [read_bin(datasets / "synthetic" / i["lidar_points"]["lidar_path"]) for i in infos]
    assert recorded == pytest.approx(summarise(np.concatenate([p[:, 3] for p in points]), len(points)))


def test_scale_options_and_when_a_range_is_far():
    parser = argparse.ArgumentParser()
    intensity_options(parser)
    assert parser.parse_args(["--intensity-scale", "1/255"]).intensity_scale == pytest.approx(1 / 255)
    assert parser.parse_args(["--sensor", "velodyne"]).intensity_scale == pytest.approx(1 / 255)
    assert parser.parse_args(["--fill-intensity", "0.2"]).fill_intensity == 0.2
    for wrong in (["--sensor", "kitti", "--intensity-scale", "2"], ["--sensor", "radar"], ["--intensity-scale", "-1"]):
        with pytest.raises(SystemExit):
            parser.parse_args(wrong)
    training = dict(min=0.0, p50=0.3, p99=0.9, max=1.0, frames=4)
    span = dict(min=0.0, p50=0.0, max=2.0, frames=3)
    assert mismatch(training, dict(span, p99=1.8), None) is None  # a 0-2 sensor is within the factor 4
    fix = "Fix: --intensity-scale 0.00391 (or --sensor velodyne)"  # the whole factor, from what was read
    assert mismatch(training, dict(span, p99=230.0), None).endswith(fix)
    assert mismatch(training, dict(span, p99=115.0), 0.5).endswith(fix)  # 115 after a wrong --intensity-scale 0.5
    assert "--fill-intensity 0.3" in mismatch(training, dict(span, p99=0.0), None)  # filled with 0
