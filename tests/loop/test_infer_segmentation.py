"""`nox -s infer` with a LiDAR segmentation model: a folder of frames and a ROS 2 bag of the same frames -> each
cloud with a ``labels`` field, read back and compared with the frames' own labels; exported runtimes, deployed
folders and the box-drawing commands refuse a segmentor with a paragraph."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.helpers.inprocess import run_main
from tests.loop.infer_bags import write_bag
from tests.loop.seg_model import SEG_CONFIG

AGREEMENT = 0.9  # of the labelled points (the model was overfit on these very frames)


def _labelled(out) -> list:
    """Per message of the output bag: (topic, frame_id, field names, labels)."""
    from extensions.io.rosbag import Bag

    read = []
    with Bag(out) as bag:
        for connection, _, _, msg in bag.messages(bag.reader.connections):
            field = next(f for f in msg.fields if f.name == "labels")
            assert field.datatype == 6 and field.count == 1  # uint32
            layout = np.dtype(dict(names=["labels"], formats=["<u4"], offsets=[field.offset], itemsize=msg.point_step))
            labels = np.frombuffer(np.asarray(msg.data, np.uint8).tobytes(), dtype=layout, count=msg.width)["labels"]
            read.append((connection.topic, msg.header.frame_id, [f.name for f in msg.fields], labels))
    return read


def _truth(data) -> list[np.ndarray]:
    """The frames' own labels as class indices (-1: a raw id the classes leave out)."""
    from extensions.classes import RAW_TO_SEG
    from extensions.io.point_labels import read_point_labels

    files = sorted((data / "labels").glob("*.label"))
    return [np.array([RAW_TO_SEG.get(int(raw), -1) for raw in read_point_labels(f)]) for f in files]


@pytest.mark.slow
def test_every_point_gets_a_label_that_agrees_with_the_frames_labels(segmented, tmp_path, monkeypatch, capsys):
    from extensions.classes import SEG_CLASSES
    from extensions.io.points import read_bin
    from scripts.loop.infer.__main__ import main

    data, env = segmented["data"], segmented["env"]
    frames = [read_bin(f) for f in sorted((data / "points").glob("*.bin"))]
    truths = _truth(data)
    nan = np.array([[np.nan, 0.0, 0.0, 0.5]], np.float32)  # a return without a range, in the bag's first cloud
    bag = write_bag("ros2-sqlite3", tmp_path / "drive", [np.vstack([frames[0], nan]), *frames[1:]])
    runs = [(data / "points", "/points/labels", "lidar"), (bag, "/velodyne_points/labels", "velodyne")]
    for source, topic, frame_id in runs:
        out = tmp_path / f"out_{source.name}"
        args = [segmented["config"], source, "--checkpoint", segmented["checkpoint"], "--out", out]
        result = run_main(main, args, env, monkeypatch, capsys)
        assert result.returncode == 0, result.stderr[-3000:]
        assert f"{len(frames)} frames in" in result.stdout
        read = _labelled(out / "detections")
        assert [(t, f) for t, f, _, _ in read] == [(topic, frame_id)] * len(frames)
        lines = [json.loads(line) for line in (out / "detections.jsonl").read_text().splitlines()]
        for index, ((_, _, fields, labels), truth, line) in enumerate(zip(read, truths, lines, strict=True)):
            assert fields[-1] == "labels"
            if source == bag and index == 0:  # the point the model never saw gets the ignore label
                assert len(labels) == len(truth) + 1 and labels[-1] == len(SEG_CLASSES)
                labels = labels[:-1]
            assert len(labels) == len(truth)
            known = truth >= 0
            assert (labels[known] == truth[known]).mean() >= AGREEMENT
            counts = np.bincount(labels, minlength=len(SEG_CLASSES))
            assert line["points"] == {name: int(n) for name, n in zip(SEG_CLASSES, counts, strict=True)}
        if source == bag:
            assert read[0][2] == ["x", "y", "z", "intensity", "ring", "labels"]  # the recorded fields kept
        assert (out / "recording.rrd").stat().st_size > 0
        assert json.loads((out / "stats.json").read_text())["frames"] == len(frames)


def test_exported_runtimes_and_box_commands_refuse_a_segmentor(tmp_path, monkeypatch, capsys):
    from scripts.loop.autolabel.__main__ import main as autolabel
    from scripts.loop.infer.__main__ import main as infer

    env = dict(MMLAB_CHECKPOINTS_PATH=str(tmp_path / "ckpt"), MMLAB_TRACKING_PATH=str(tmp_path / "mlflow"))
    deployed = tmp_path / "deployed"
    deployed.mkdir()
    (deployed / "end2end.onnx").write_bytes(b"")
    (deployed / "report.json").write_text(json.dumps(dict(model_config=SEG_CONFIG, checkpoint="model.pth")))
    (tmp_path / "frames").mkdir()
    cases = [
        (infer, [deployed, tmp_path / "frames"], "the deployed folder"),
        (infer, [SEG_CONFIG, tmp_path / "frames", "--checkpoint", "model.pth", "--runtime", "openvino"], "--runtime"),
        (autolabel, [SEG_CONFIG, tmp_path / "frames", tmp_path / "labelled", "--checkpoint", "model.pth"], "no boxes"),
    ]
    for main, args, said in cases:
        result = run_main(main, args, env, monkeypatch, capsys)
        assert result.returncode == 2, result.stderr[-3000:]
        assert "segmentation model" in result.stderr and said in result.stderr
        if main is infer:
            assert "mmdeploy 1.3.1 has no task" in result.stderr and "--runtime pytorch" in result.stderr
        assert not (tmp_path / "labelled").exists()
