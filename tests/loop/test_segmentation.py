"""Proof of learning for LiDAR segmentation: MinkUNet (spconv, CPU) overfits four generated frames.

The ``segmented`` fixture (tests/loop/seg_model.py) generates frames with per-point labels, converts them with
the custom converter and trains through ``nox -s train``'s code path; this scores the same frames through
``nox -s eval``'s (mmdet3d's SegMetric). A label convention that breaks on that path (the .label encoding, the
raw id -> class mapping, the ignore index, the point -> voxel -> point mapping of the spconv backend) keeps the
small classes' IoU near 0.
"""

from __future__ import annotations

import json

import pytest

from extensions.classes import SEG_CLASSES
from tests.helpers.inprocess import run_main

pytestmark = pytest.mark.slow


def test_minkunet_overfits_four_frames(segmented, tmp_path, monkeypatch, capsys):
    from scripts.loop.evaluate.command import main as evaluate

    args = [segmented["config"], segmented["checkpoint"], "--work-dir", tmp_path / "eval", "--frames", "1"]
    evaluated = run_main(evaluate, args, segmented["env"], monkeypatch, capsys)
    assert evaluated.returncode == 0, evaluated.stderr[-3000:]

    metrics = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert set(SEG_CLASSES) <= set(metrics), metrics  # per-class IoU, by name
    assert metrics["miou"] >= 0.80, metrics
    assert min(metrics[name] for name in SEG_CLASSES) >= 0.5, metrics  # every class learned (seen: 0.90 to 1.0)
    assert "miou" in evaluated.stdout and (tmp_path / "eval" / "seg_000000.png").stat().st_size > 10_000
