"""The run's other two records, written frame by frame: a JSON-lines file (one line per frame: stamp,
name, objects with class, score, centre, size and yaw, and the stage latencies) and a rerun recording
(``.rrd``: the points and the labelled boxes per frame on a ``frame`` and a ``stamp`` time line;
open it with ``rerun FILE``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np


def objects(detections, classes: list[str]) -> list[dict]:
    """JSON-ready boxes: centre (the box's middle, not mmdet3d's bottom), size and yaw, LiDAR frame."""
    return [
        dict(
            label=classes[int(label)],
            score=round(float(score), 5),
            center=[float(box[0]), float(box[1]), float(box[2] + box[5] / 2)],
            size=[float(v) for v in box[3:6]],
            yaw=float(box[6]),
        )
        for box, score, label in zip(detections.boxes, detections.scores, detections.labels, strict=True)
    ]


class Records:
    """``detections.jsonl`` and ``recording.rrd`` at the paths given, appended to per frame."""

    def __init__(self, jsonl: Path, rrd: Path, classes: list[str]):
        import rerun as rr

        self.classes = classes
        self.lines = jsonl.open("w")
        self.rr = rr
        self.recording = rr.RecordingStream("mmlab-infer")
        self.recording.save(str(rrd))
        self.recording.log("/", rr.ViewCoordinates.RIGHT_HAND_Z_UP, static=True)

    def frame(self, index: int, frame, seconds: dict, **found) -> None:
        """One line of the JSON-lines file (the frame, ``found`` and the stage latencies), and the recording's
        time lines moved to this frame."""
        line = dict(frame=index, stamp_ns=int(frame.stamp_ns), name=frame.name, **found)
        line["latency_ms"] = {k: round(v * 1000, 3) for k, v in seconds.items()}
        self.lines.write(json.dumps(line) + "\n")
        self.recording.set_time("frame", sequence=index)
        self.recording.set_time("stamp", timestamp=np.datetime64(int(frame.stamp_ns), "ns"))

    def write(self, index: int, frame, detections, seconds: dict) -> None:
        found = objects(detections, self.classes)
        self.frame(index, frame, seconds, objects=found)
        rr, rec = self.rr, self.recording
        rec.log("lidar/points", rr.Points3D(frame.points[:, :3]))
        rec.log(
            "lidar/boxes",
            rr.Boxes3D(
                centers=[o["center"] for o in found],
                sizes=[o["size"] for o in found],
                rotation_axis_angles=[rr.RotationAxisAngle(axis=[0, 0, 1], radians=o["yaw"]) for o in found],
                labels=[f"{o['label']} {o['score']:.2f}" for o in found],
                class_ids=[int(label) for label in detections.labels],
            ),
        )

    def close(self) -> None:
        self.lines.close()
        self.recording.flush()
        self.recording.disconnect()
