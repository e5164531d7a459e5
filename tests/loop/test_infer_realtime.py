"""`infer --realtime`: a bag replayed at its recorded rate; frames whose processing ends after the next frame's
arrival are counted as missed, on one line and in stats.json. Bags whose stamps are 1 ms apart must miss every
frame (no model runs in 1 ms); 1 s apart, none (and the replay takes the bag's 2 s)."""

from __future__ import annotations

import json

import pytest

from tests.loop.infer_bags import write_bag


@pytest.mark.slow
@pytest.mark.parametrize(("period_ns", "missed"), [(1_000_000, 3), (1_000_000_000, 0)])
def test_realtime_counts_the_frames_that_missed_the_sensor_period(deployed, infer_here, tmp_path, period_ns, missed):
    tmp, _env, clouds = deployed
    bag = write_bag("ros2-mcap", tmp_path / "drive", [c[:3000] for c in clouds[:3]], period_ns=period_ns)
    out = tmp_path / "out"
    result = infer_here(tmp / "deployed", bag, "--realtime", "--out", out)
    assert result.returncode == 0, result.stderr[-3000:]
    line = next(line for line in result.stdout.splitlines() if line.startswith("realtime at"))
    assert f"({period_ns / 1e6:.1f} ms period): {missed} of 3 frames missed it" in line
    assert "latency from arrival median" in line and "per stage (median ms): decode" in line
    real = json.loads((out / "stats.json").read_text())["realtime"]
    assert real["frames"] == 3 and real["missed"] == missed and real["period_ms"] == pytest.approx(period_ns / 1e6)
    assert real["latency_ms"]["median"] > 0
    if missed == 0:  # replayed at the recorded rate: the third frame arrived 2 s after the first
        assert real["span_s"] >= 2.0
