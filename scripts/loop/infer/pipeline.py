"""Run the per-frame function over an input, streaming: one message is read, detected and written
before the next is read, so memory does not grow with the bag's length. Everything goes to a hidden
staging folder beside OUT that is renamed to OUT only when the whole input went through."""

from __future__ import annotations

import functools
import json
import resource
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from extensions.io.rosbag import Bag, typestore_for
from mmlab_core.files import atomic_dir
from scripts.loop.infer import sources
from scripts.loop.infer.bag_out import BagOut, bag_name
from scripts.loop.infer.frame import STAGES, FrameDetector, Timer
from scripts.loop.infer.intensity import watched
from scripts.loop.infer.labels_out import LabelRecords, LabelsBagOut
from scripts.loop.infer.realtime import Pacer
from scripts.loop.infer.records import Records
from scripts.loop.infer.segment import FrameSegmenter


def frames_of(
    path: Path, kind: str, reading: sources.Reading, dims: int, trained_intensity: dict | None = None
) -> tuple[Iterator, int | None, Bag | None]:
    """The input's frames (an iterator), how many there are (None when merged), and the bag to close (None
    for folders). The first frames' intensity is compared with ``trained_intensity``, the model's training
    range (one line on stderr when far off: scripts/loop/infer/intensity.py)."""
    sources.check_reading(reading, kind)
    if kind == "frames":
        frames = sources.read_frames(path, dims, reading)
        return watched(frames, trained_intensity, reading.intensity_scale), len(sources.frame_files(path)), None
    bag = Bag(path, kind)
    try:
        clouds = sources.choose_clouds(bag, reading, dims)
    except Exception:
        bag.close()
        raise
    total = None if reading.merge_s is not None else sum(c.msgcount for c in clouds)
    frames = sources.read_bag(bag, clouds, dims, reading)
    return watched(frames, trained_intensity, reading.intensity_scale), total, bag


def summary(latencies: dict[str, list[float]], frames: int, wall_s: float) -> dict:
    """Throughput and per-stage latency (ms: mean, median, p90), and the process's peak memory."""
    stages = {
        stage: dict(
            mean_ms=float(np.mean(v) * 1e3),
            median_ms=float(np.median(v) * 1e3),
            p90_ms=float(np.percentile(v, 90) * 1e3),
        )
        for stage, v in latencies.items()
        if v
    }
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return dict(
        frames=frames,
        wall_s=wall_s,
        frames_per_s=frames / wall_s if wall_s else 0.0,
        latency=stages,
        peak_rss_mb=peak_mb,
    )


def writers(model, score_thr: float) -> tuple:
    """The per-frame function of ``model`` and the classes that write its results: boxes (BagOut, Records)
    for a detector, labelled clouds (scripts/loop/infer/labels_out.py) for a segmentation model."""
    if isinstance(model, FrameSegmenter):
        records = functools.partial(LabelRecords, classes=model.classes, palette=model.palette)
        return model.segment, LabelsBagOut, records
    records = functools.partial(Records, classes=model.classes)
    return functools.partial(model.detect, score_thr=score_thr), BagOut, records


def infer(
    detector: FrameDetector | FrameSegmenter,
    path: Path,
    out: Path,
    reading: sources.Reading | None = None,
    score_thr: float = 0.3,
    progress: bool = True,
    realtime: bool = False,
) -> dict:
    """Detections (or a segmentation model's labelled clouds) for every cloud of ``path`` into ``out``: the
    detections bag, ``detections.jsonl``, ``recording.rrd`` and ``stats.json``; returns the figures written to
    ``stats.json``. ``realtime`` replays the input at its recorded rate and reports the frames that missed it
    (scripts/loop/infer/realtime.py)."""
    from tqdm import tqdm

    kind = sources.kind_of(path)
    out_kind = "ros2-mcap" if kind == "frames" else kind
    store = typestore_for(out_kind)
    frames, total, reader = frames_of(path, kind, reading or sources.Reading(), detector.dims, detector.intensity_range)
    latencies: dict[str, list[float]] = {stage: [] for stage in STAGES}
    pacer = Pacer() if realtime else None
    predict, bag_out, records_out = writers(detector, score_thr)
    try:
        with atomic_dir(out) as stage_dir:
            records = records_out(stage_dir / "detections.jsonl", stage_dir / "recording.rrd")
            start, count = time.perf_counter(), 0
            try:
                with bag_out(stage_dir / bag_name(out_kind), out_kind, store, detector.classes) as bag:
                    bar = tqdm(
                        frames,
                        total=total,
                        unit="frame",
                        desc=f"infer {path.name}",
                        disable=not progress,
                        file=sys.stderr,
                        mininterval=1.0,
                    )
                    for frame in bar:
                        timer = Timer()
                        timer.seconds["decode"] = frame.decode_s
                        if pacer:
                            pacer.arrive(frame.stamp_ns, frame.decode_s)
                        result = predict(frame.points, timer)
                        if pacer:
                            pacer.done()
                        bag.write(frame, result)
                        records.write(count, frame, result, timer.seconds)
                        for stage, seconds in timer.seconds.items():
                            latencies[stage].append(seconds)
                        count += 1
            finally:
                records.close()
            stats = summary(latencies, count, time.perf_counter() - start)
            stats.update(
                input=str(path),
                input_kind=kind,
                output_bag=str(out / bag_name(out_kind)),
                runtime=detector.runtime,
                score_thr=score_thr,
            )
            if pacer:
                stats["realtime"] = pacer.summary()
            (stage_dir / "stats.json").write_text(json.dumps(stats, indent=2) + "\n")
    finally:
        if reader is not None:
            reader.close()
    return stats
