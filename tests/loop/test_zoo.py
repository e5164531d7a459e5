"""The zoo matrix's CI subset: one family per op group, and the 2D families our mmdet/mmcv patches change,
run through the same probe code and subprocess runner as `nox -s zoo` (scripts/loop/zoo/), with real
outcomes asserted: a finite loss, parameters that changed, and boxes of the right shape predicted on a
real frame."""

from __future__ import annotations

import math

import pytest

LIMIT = 200  # s per family


@pytest.fixture(scope="module")
def log_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("zoo")


def _run(name: str, log_dir) -> dict:
    from scripts.loop.zoo.families import by_name
    from scripts.loop.zoo.matrix import run_family

    result = run_family(by_name(name), LIMIT, log_dir, with_export=False)
    assert result["peak_rss_mb"] > 100 and result["wall_s"] > 0
    return result


def _assert_green(result: dict, box_width: int) -> None:
    stages = result["stages"]
    failed = {s: e.get("reason") for s, e in stages.items() if not e.get("ok")}
    assert not failed, f"{result['name']}: {failed} (log: {result['log']})"
    assert math.isfinite(stages["train"]["loss"]) and stages["train"]["changed_params"] > 0
    n, width = stages["predict"]["box_shape"]
    assert n == stages["predict"]["boxes"] and width >= box_width


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "box_width"),
    [
        ("PointPillars", 7),
        ("SMOKE", 7),
        ("VoteNet", 7),
        ("RetinaNet", 4),
        # the patches these two need have their own tests (tests/patches/test_mmdet_ssd_predict.py,
        # test_mmcv_cpu_deform_roi_pool.py): the whole family again is a second configuration, for -m full
        pytest.param("SSD", 4, marks=pytest.mark.full),
        pytest.param("DCNv2 mdpool", 4, marks=pytest.mark.full),
    ],
    ids=["pillar", "camera-3d", "point-indoor", "2d", "2d-ssd-head-patch", "2d-deform-roi-pool-cpu"],
)
def test_family_builds_trains_and_predicts(name, box_width, log_dir):
    _assert_green(_run(name, log_dir), box_width)


@pytest.mark.slow
def test_sparse_conv_family_trains_and_predicts_on_cpu(log_dir):
    """SECOND's middle encoder is spconv 2 (the fork: its backward runs without CUDA, issue 12 §1)."""
    _assert_green(_run("SECOND", log_dir), 7)


@pytest.mark.slow
def test_point_based_family_trains_on_the_cpu_point_ops(log_dir):
    """3DSSD samples with furthest point sampling (F-FPS and D-FPS) and groups with ball query: the CPU
    kernels of issue 12 §2. Its head is Car only, so the batch's labels must fit one class."""
    _assert_green(_run("3DSSD", log_dir), 7)


def test_a_family_over_its_limit_is_killed_and_reported(tmp_path):
    from scripts.loop.zoo.families import by_name
    from scripts.loop.zoo.matrix import run_family

    result = run_family(by_name("PointPillars"), 1, tmp_path)
    assert result["wall_s"] < 30
    reasons = [e["reason"] for e in result["stages"].values() if e.get("ok") is False]
    assert reasons and ("1 s limit" in reasons[0] or "signal 9" in reasons[0]), result


def test_a_missing_cpu_op_becomes_an_actionable_reason():
    """The real error of mmcv's furthest point sampling on CPU tensors, turned into the user's reason."""
    import torch
    from mmcv.ops import furthest_point_sample

    from scripts.loop.zoo.reasons import reason

    points = torch.rand(1, 64, 3)
    try:
        sampled = furthest_point_sample(points, 8)
    except Exception as exc:
        assert "furthest_point_sample" in reason(exc)
    else:  # the CPU op has landed: it samples distinct indices
        assert sampled.shape == (1, 8) and len(set(sampled[0].tolist())) == 8


def test_a_family_needing_an_absent_package_reports_what_is_missing(tmp_path):
    """SPVCNN's upstream config is tried for real (torchsparse is absent, so its build fails), and the row says
    what is missing and what was tried rather than upstream's "Please follow get_started.md"."""
    from scripts.loop.zoo.families import by_name
    from scripts.loop.zoo.families_3d import TORCHSPARSE_MISSING
    from scripts.loop.zoo.probe import probe

    result = probe(by_name("SPVCNN"), tmp_path / "spvcnn.json")
    config = result["stages"]["config"]
    assert config["ok"] is False and config["reason"].startswith(TORCHSPARSE_MISSING), config
    assert "Torchsparse" in config["reason"]  # upstream's own error follows, in brackets
    assert set(result["stages"]) == {"config"}


def test_the_indoor_families_frame_is_the_kitti_scan_as_a_depth_cloud(tmp_path):
    """KITTI 000008's points ahead, turned into the depth frame (x right, y forward, z up) with grey colour: what
    the SUN RGB-D / ScanNet / S3DIS pipelines load (6 values a point)."""
    import numpy as np

    from scripts.loop.zoo.frames import kitti_dir, write_depth_scan

    cloud = np.fromfile(write_depth_scan(tmp_path / "depth.bin"), dtype=np.float32).reshape(-1, 6)
    scan = np.fromfile(kitti_dir() / "000008.bin", dtype=np.float32).reshape(-1, 4)
    ahead = scan[(scan[:, 0] > 0) & (scan[:, 0] < 10) & (np.abs(scan[:, 1]) < 5)]
    assert len(cloud) == len(ahead) > 1000
    np.testing.assert_allclose(cloud[:, 1], ahead[:, 0])  # forward
    np.testing.assert_allclose(cloud[:, 0], -ahead[:, 1])  # right = -left
    np.testing.assert_allclose(cloud[:, 2], ahead[:, 2])
    assert (cloud[:, 3:] >= 0).all() and (cloud[:, 3:] <= 255).all() and (cloud[:, 3] == cloud[:, 5]).all()


def test_an_upstream_config_in_mmdet_2x_form_is_reported_as_such(tmp_path):
    """mmdet3d 1.4.0's nuimages configs were never ported to mmdet 3.x: the row says so (our port,
    configs/mask-rcnn_r50_fpn_1x_nuim.py, is the zoo's nuImages family)."""
    from dataclasses import replace

    from scripts.loop.zoo.families import by_name
    from scripts.loop.zoo.probe import probe

    upstream = replace(by_name("nuImages Mask R-CNN"), config="nuimages/mask-rcnn_r50_fpn_1x_nuim.py")
    config = probe(upstream, tmp_path / "nuim.json")["stages"]["config"]
    assert config["ok"] is False and "mmdet 2.x form" in config["reason"], config


@pytest.mark.slow
def test_lidar_segmentation_family_trains_and_predicts_on_spconv(log_dir):
    """Cylinder3D: cylindrical voxels on spconv 2 (the mmdet3d patch that takes it off mmcv's CUDA-only sparse
    conv), a training step and one label per point of the real KITTI scan."""
    result = _run("Cylinder3D", log_dir)
    stages = result["stages"]
    failed = {s: e.get("reason") for s, e in stages.items() if not e.get("ok")}
    assert not failed, f"{result['name']}: {failed} (log: {result['log']})"
    assert math.isfinite(stages["train"]["loss"]) and stages["train"]["changed_params"] > 0
    assert stages["predict"]["points"] > 10_000 and stages["predict"]["classes"], stages["predict"]
