"""`nox -s autolabel` (scripts.loop.autolabel): custom, Scalabel and CVAT pre-labels, each parsed back with a
reader and compared with the model's own predictions; custom pre-labels convert and evaluate."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from tests.helpers.inprocess import run_main

pytestmark = pytest.mark.slow
CONFIG = "configs/pointpillars_lidar-custom-cpu.py"
THR = 0.5


@pytest.fixture(scope="module")
def labelled(tmp_path_factory):
    """Two generated frames, an untrained checkpoint, its FrameDetector and its predictions per frame."""
    from mmengine.config import Config
    from mmengine.registry import MODELS, init_default_scope
    from mmengine.runner.checkpoint import save_checkpoint

    from extensions.io.points import read_bin
    from scripts.data.synth_scenes import generate
    from scripts.loop.infer.model import load_detector

    tmp = tmp_path_factory.mktemp("autolabel")
    generate(tmp / "datasets" / "synthetic", train=1, val=2, seed=5)
    os.environ.setdefault("MMLAB_DATASET_PATH", str(tmp / "datasets"))
    init_default_scope("mmdet3d")
    import extensions

    extensions.register(rewriters=True)

    state = MODELS.build(Config.fromfile(CONFIG).model).state_dict()
    state["bbox_head.conv_cls.bias"].zero_()
    save_checkpoint(dict(state_dict=state, meta={}), str(tmp / "model.pth"))
    spec, _, detector = load_detector(CONFIG, str(tmp / "model.pth"), None)
    frames = tmp / "frames"
    frames.mkdir()
    predictions = {}
    for path in sorted((tmp / "datasets" / "synthetic" / "points").glob("*.bin"))[:2]:
        (frames / path.name).write_bytes(path.read_bytes())
        predictions[path.stem] = detector.detect(read_bin(path), None, THR)
    assert all(len(p.boxes) for p in predictions.values())
    return tmp, spec, detector, frames, predictions


def _run(labelled, fmt, out):
    from scripts.loop.autolabel.__main__ import autolabel

    _tmp, spec, detector, frames, _ = labelled
    return autolabel(detector, spec, frames, out, fmt, THR)


def _centre_boxes(detections) -> np.ndarray:
    boxes = detections.boxes.copy()
    boxes[:, 2] += boxes[:, 5] / 2
    return boxes


def test_custom_prelabels_read_back_convert_and_evaluate(labelled, tmp_path):
    from extensions.evaluation.lidar_metric import average_precision
    from extensions.io.labels import parse_labels
    from mmlab_core.files import sha256_of as sha256
    from scripts.data.convert_lidar import convert

    tmp, _spec, detector, _frames, predictions = labelled
    out = tmp_path / "prelabelled"
    manifest = json.loads(_run(labelled, "custom", out).read_text())
    assert manifest["checkpoint_sha256"] == sha256(str(tmp / "model.pth")) and manifest["reviewed"] is False
    assert (out / "splits" / "val.txt").read_text().split() == list(predictions)
    for name, pred in predictions.items():
        labels = parse_labels((out / "labels" / f"{name}.txt").read_text(), name)
        np.testing.assert_allclose(labels.boxes, _centre_boxes(pred), atol=1e-3)
        assert labels.names == [detector.classes[int(i)] for i in pred.labels]
        assert [o["score"] for o in manifest["frames"][name]] == pytest.approx(pred.scores, abs=1e-5)
    # convert -> the dataset's ground truth; the model's predictions reach AP 100 against its own pre-labels,
    # and the pre-labels (boxes from the label files, scores from the manifest) score what the predictions score
    from mmdet3d.registry import DATASETS

    convert(out)
    dataset = DATASETS.build(
        dict(
            type="LidarDataset",
            data_root=str(out),
            ann_file="lidar_infos_val.pkl",
            metainfo=dict(classes=detector.classes),
            test_mode=True,
        )
    )
    for index, pred in enumerate(predictions.values()):
        gt = dataset.get_data_info(index)["eval_ann_info"]
        for label in np.unique(pred.labels):
            truth = gt["gt_bboxes_3d"].tensor.numpy()[gt["gt_labels_3d"] == label]
            keep = pred.labels == label
            frame = dict(gt=truth, pred=pred.boxes[keep], score=pred.scores[keep])
            assert average_precision([frame], 0.7, "3d") == pytest.approx(100.0)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_scalabel_prelabels_read_back(labelled, tmp_path):
    _tmp, _spec, _detector, _frames, predictions = labelled
    data = json.loads(_run(labelled, "scalabel", tmp_path / "out").read_text())
    assert [f["name"] for f in data["frames"]] == list(predictions)
    for frame, pred in zip(data["frames"], predictions.values(), strict=True):
        boxes = np.array(
            [
                [*lab["box3d"]["location"], *lab["box3d"]["dimension"][::-1], lab["box3d"]["orientation"][2]]
                for lab in frame["labels"]
            ]
        )
        np.testing.assert_allclose(boxes, _centre_boxes(pred), atol=1e-4)
        attributes = [lab["attributes"] for lab in frame["labels"]]
        assert [a["score"] for a in attributes] == pytest.approx(pred.scores, abs=1e-5)
        assert {a["model"] for a in attributes} == {CONFIG} and not any(a["reviewed"] for a in attributes)
        assert all(len(a["checkpoint_sha256"]) == 64 for a in attributes)


def test_cvat_prelabels_read_back(labelled, tmp_path):
    _tmp, _spec, detector, _frames, predictions = labelled
    root = ET.parse(_run(labelled, "cvat", tmp_path / "out")).getroot()
    images = root.findall("image")
    assert [i.get("name") for i in images] == [f"{n}.pcd" for n in predictions]
    for image, pred in zip(images, predictions.values(), strict=True):
        cuboids = image.findall("cuboid_3d")
        keys = ("position_x", "position_y", "position_z", "scale_x", "scale_y", "scale_z", "rotation_z")
        boxes = np.array([[float(c.get(k)) for k in keys] for c in cuboids])
        np.testing.assert_allclose(boxes, _centre_boxes(pred), atol=1e-4)
        assert [c.get("label") for c in cuboids] == [detector.classes[int(i)] for i in pred.labels]
        scores = [float(c.find("attribute[@name='score']").text) for c in cuboids]
        assert scores == pytest.approx(pred.scores, abs=1e-5)
        assert all(c.get("source") == "auto" and c.find("attribute[@name='reviewed']").text == "False" for c in cuboids)


def test_autolabels_of_a_model_that_detects_score_its_ap_then_convert_train_and_evaluate(
    learned, datasets, tmp_path, monkeypatch, capsys
):
    """The round trip: frames -> auto-labels of the overfit model (tests/loop/conftest.py ``learned``) -> the
    same Car AP against the true labels as the model's own predictions -> convert -> train -> evaluate."""
    from extensions.evaluation.lidar_metric import average_precision
    from extensions.geometry import centre_to_bottom
    from extensions.io.labels import read_labels
    from extensions.io.points import read_bin
    from mmlab_core.settings import current
    from scripts.data.convert_lidar import convert
    from scripts.loop.autolabel.__main__ import autolabel
    from scripts.loop.evaluate.command import main as evaluate
    from scripts.loop.infer.model import load_detector
    from tests.helpers.learned import run_module

    truth = datasets / "synthetic"
    names = (truth / "splits" / "train.txt").read_text().split()
    frames = tmp_path / "frames"
    frames.mkdir()
    for name in names:
        (frames / f"{name}.bin").write_bytes((truth / "points" / f"{name}.bin").read_bytes())
    spec, _, detector = load_detector(CONFIG, learned, None)
    out = tmp_path / "prelabelled" / "synthetic"
    manifest = json.loads(autolabel(detector, spec, frames, out, "custom", 0.3).read_text())
    car = detector.classes.index("Car")
    predicted, labelled = [], []
    for name in names:
        true = read_labels(truth / "labels" / f"{name}.txt")
        gt = centre_to_bottom(true.boxes[[n == "Car" for n in true.names]])
        pred = detector.detect(read_bin(frames / f"{name}.bin"), None, 0.3)
        keep = pred.labels == car
        predicted.append(dict(gt=gt, pred=pred.boxes[keep], score=pred.scores[keep]))
        auto = read_labels(out / "labels" / f"{name}.txt")
        cars = [n == "Car" for n in auto.names]
        scores = np.array([o["score"] for o in manifest["frames"][name]])[cars]
        labelled.append(dict(gt=gt, pred=centre_to_bottom(auto.boxes[cars]), score=scores))
    ap_predictions, ap_labels = (average_precision(f, 0.7, "bev") for f in (predicted, labelled))
    assert ap_predictions >= 90, ap_predictions  # the model detects
    assert ap_labels == pytest.approx(ap_predictions, abs=1e-6)

    # the reviewed pre-labels become training data: train one epoch on them and evaluate
    (out / "splits" / "train.txt").write_text((out / "splits" / "val.txt").read_text())
    convert(out)
    env = {**os.environ, **current().with_(datasets=out.parent).config_env(),
           "MMLAB_TRACKING_PATH": str(tmp_path / "mlflow")}  # fmt: skip
    work = tmp_path / "work"
    run_module("scripts.loop.train", CONFIG, "--work-dir", str(work), "--cfg-options", "train_cfg.max_epochs=1",
               "train_cfg.val_interval=2", f"load_from={learned}", env=env)  # fmt: skip
    args = [CONFIG, work / "epoch_1.pth", "--work-dir", tmp_path / "eval", "--frames", "1"]
    evaluated = run_main(evaluate, args, env, monkeypatch, capsys)  # in this process: no second import
    assert evaluated.returncode == 0, evaluated.stderr[-3000:]
    metrics = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert metrics["lidar/Car/BEV_AP40"] >= 50, metrics  # fine-tuned one epoch on its own labels: still detects
