"""The infer-memory benchmark's pieces (benchmarks.infer): the bag it writes is what infer's reader reads,
and the growth figure is the slope of resident memory per 1000 frames. Its timings and memory live in
docs/benchmarks.md, not here."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.infer import PERIOD_NS, RANGE, TOPIC, growth, scene_clouds, write_cloud_bag


def test_generated_bag_reads_back_through_infer_sources(tmp_path):
    from extensions.io.rosbag import Bag
    from scripts.loop.infer import sources

    clouds = scene_clouds(scenes=2, points=200)
    assert all(len(c) == 200 for c in clouds)
    inside = [np.all((c[:, :3] >= RANGE[:3]) & (c[:, :3] < RANGE[3:])) for c in clouds]
    assert all(inside)
    bag = write_cloud_bag(tmp_path / "bag", 5, clouds, progress=False)

    kind = sources.kind_of(bag)
    assert kind == "ros2-mcap"
    with Bag(bag, kind) as reader:
        connections = reader.clouds(None)
        assert [c.topic for c in connections] == [TOPIC]
        frames = list(sources.read_bag(reader, connections, 4))
    assert [f.stamp_ns for f in frames] == [(i + 1) * PERIOD_NS for i in range(5)]
    for index, frame in enumerate(frames):
        np.testing.assert_array_equal(frame.points, clouds[index % 2])


def test_growth_is_the_slope_per_1000_frames_once_warm():
    frames = 1000
    # warm-up (the first 10%) is left out: a jump there is not growth
    flat = [(n, 700.0 + (50.0 if n < 100 else 0.0)) for n in range(10, frames + 1, 10)]
    assert growth(flat, frames)["growth_mb_per_1000_frames"] == pytest.approx(0.0, abs=1e-6)
    rising = [(n, 700.0 + n / 100) for n in range(10, frames + 1, 10)]
    figures = growth(rising, frames)
    assert figures["growth_mb_per_1000_frames"] == pytest.approx(10.0)
    assert figures["loop_rss_mb"] == [701.0, 710.0]
    assert growth(rising[:2], frames)["growth_mb_per_1000_frames"] is None
