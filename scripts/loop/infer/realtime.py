"""``infer --realtime``: the input replayed at its recorded rate (a bag by its message stamps, a folder of frames
at 10 Hz), as the sensor would deliver it. No frame is dropped: a frame that arrives while the previous one is
still being processed waits for it. A frame *misses* when its processing ends after the next frame's arrival
(the last frame: one median period after its own).

Frame i arrives at ``start + (stamp_i - stamp_0)``; its processing begins with its decoding, at its arrival or
when frame i - 1 is done, whichever is later."""

from __future__ import annotations

import time

import numpy as np

FOLDER_PERIOD_S = 0.1  # a folder of frames has no stamps: 10 Hz, as sources.read_frames stamps them


class Pacer:
    """Holds each frame back until its arrival, and records when its processing ended."""

    def __init__(self, clock=time.perf_counter, sleep=time.sleep):
        self.clock, self.sleep = clock, sleep
        self.first: tuple[float, int] | None = None  # (clock, stamp) of the first arrival
        self.arrivals: list[float] = []
        self.ends: list[float] = []

    def arrive(self, stamp_ns: int, decode_s: float) -> None:
        """Call with a frame just decoded (``decode_s`` seconds ago): waits so that its decoding is as if begun
        at its arrival, unless the previous frame's processing already ran past that."""
        now = self.clock()
        began = now - decode_s  # when decoding began: right after the previous frame was done
        if self.first is None:
            self.first = (began, stamp_ns)
        arrival = self.first[0] + (stamp_ns - self.first[1]) / 1e9
        if began < arrival:  # ahead of the sensor: the message had not arrived yet
            self.sleep(arrival - began)
        self.arrivals.append(arrival)

    def done(self) -> None:
        """Call when the frame's detections are out."""
        self.ends.append(self.clock())

    def summary(self) -> dict:
        """Missed frames and the latency from arrival to detections (ms)."""
        arrivals, ends = np.array(self.arrivals), np.array(self.ends)
        gaps = np.diff(arrivals)
        period = float(np.median(gaps)) if len(gaps) else FOLDER_PERIOD_S
        deadlines = np.append(arrivals[1:], arrivals[-1:] + period) if len(arrivals) else arrivals
        latency = (ends - arrivals) * 1e3
        missed = int(np.sum(ends > deadlines))
        return dict(
            frames=len(ends),
            period_ms=period * 1e3,
            missed=missed,
            missed_fraction=missed / len(ends) if len(ends) else 0.0,
            span_s=float(ends[-1] - arrivals[0]) if len(ends) else 0.0,  # first arrival to last detections
            latency_ms=dict(
                median=float(np.median(latency)) if len(latency) else 0.0,
                p90=float(np.percentile(latency, 90)) if len(latency) else 0.0,
                max=float(latency.max()) if len(latency) else 0.0,
            ),
        )


def line(stats: dict) -> str:
    """The one-line report: missed frames, latency from arrival, and the per-stage medians."""
    real, stages = stats["realtime"], stats["latency"]
    per_stage = ", ".join(f"{k} {v['median_ms']:.1f}" for k, v in stages.items())
    return (
        f"realtime at {1e3 / real['period_ms']:.1f} Hz ({real['period_ms']:.1f} ms period): {real['missed']} of "
        f"{real['frames']} frames missed it; latency from arrival median {real['latency_ms']['median']:.1f} ms, "
        f"p90 {real['latency_ms']['p90']:.1f} ms, max {real['latency_ms']['max']:.1f} ms; "
        f"per stage (median ms): {per_stage}"
    )
