"""`nox -s autolabel` in 2D mode (scripts/loop/autolabel/camera.py): a RetinaNet config pre-labels generated
camera images as COCO, Scalabel and CVAT, each read back (COCO by mmdet's own CocoDataset) and compared with
mmdet's inference_detector on the same images; bad input gets a paragraph."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from mmlab_core.settings import REPO_ROOT
from tests.helpers.inprocess import run_main

pytestmark = pytest.mark.slow
CONFIG = "configs/retinanet_r18_camera-synth.py"
THR = 0.3


@pytest.fixture(scope="module")
def camera(tmp_path_factory):
    """Three generated camera images, a RetinaNet checkpoint whose classifier scores 0.5 before training, and
    mmdet's own predictions per image."""
    from mmdet.apis import inference_detector, init_detector
    from mmengine.config import Config
    from mmengine.registry import MODELS, init_default_scope
    from mmengine.runner.checkpoint import save_checkpoint

    from scripts.data.synth_scenes import generate

    tmp = tmp_path_factory.mktemp("autolabel2d")
    generate(tmp / "datasets" / "synthetic", train=1, val=2, seed=4, camera=True)
    os.environ.setdefault("MMLAB_DATASET_PATH", str(tmp / "datasets"))
    init_default_scope("mmdet")
    cfg = Config.fromfile(CONFIG)
    state = MODELS.build(cfg.model).state_dict()
    state["bbox_head.retina_cls.bias"].zero_()
    save_checkpoint(dict(state_dict=state, meta=dict(dataset_meta=dict(cfg.metainfo))), str(tmp / "model.pth"))
    images = tmp / "datasets" / "synthetic" / "camera" / "images"
    model = init_detector(cfg, str(tmp / "model.pth"), device="cpu")
    expected = {}
    for image in sorted(images.glob("*.png")):
        pred = inference_detector(model, str(image)).pred_instances
        keep = pred.scores >= THR
        expected[image.name] = (pred.bboxes[keep].numpy(), pred.scores[keep].numpy(), pred.labels[keep].numpy())
    assert all(len(boxes) for boxes, _, _ in expected.values())
    return tmp, images, expected, tuple(cfg.metainfo["classes"])


def _autolabel(tmp, images, out, *extra):
    cmd = [sys.executable, "-m", "scripts.loop.autolabel", CONFIG, str(images), str(out),
           "--checkpoint", str(tmp / "model.pth"), "--score-thr", str(THR), *extra]  # fmt: skip
    env = dict(os.environ, MMLAB_DATASET_PATH=str(tmp / "datasets"))
    return subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, env=env)


def test_coco_prelabels_load_in_mmdet_with_the_predicted_boxes(camera, tmp_path):
    from mmdet.datasets import CocoDataset

    from mmlab_core.files import sha256_of as sha256

    tmp, images, expected, classes = camera
    result = _autolabel(tmp, images, tmp_path / "out")
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"pre-labels (coco, score >= {THR}, unreviewed): {tmp_path / 'out' / 'prelabels.json'}" in result.stdout
    info = json.loads((tmp_path / "out" / "prelabels.json").read_text())["info"]
    assert info["checkpoint_sha256"] == sha256(str(tmp / "model.pth")) and info["reviewed"] is False
    folder = dict(data_root=str(tmp_path / "out"), ann_file="prelabels.json", data_prefix=dict(img="images/"))
    dataset = CocoDataset(**folder, metainfo=dict(classes=classes), filter_cfg=dict(filter_empty_gt=False), pipeline=[])
    assert [os.path.basename(dataset[i]["img_path"]) for i in range(len(dataset))] == list(expected)
    for index, (boxes, _scores, labels) in enumerate(expected.values()):
        instances = dataset[index]["instances"]
        np.testing.assert_allclose([i["bbox"] for i in instances], boxes, atol=1e-3)
        assert [i["bbox_label"] for i in instances] == labels.tolist()
        assert (tmp_path / "out" / "images" / list(expected)[index]).is_file()


def test_scalabel_and_cvat_prelabels_read_back(camera, tmp_path):
    from mmengine.config import Config

    from scripts.loop.autolabel.camera import autolabel_images

    tmp, images, expected, classes = camera
    provenance = dict(model=CONFIG, checkpoint_sha256="0" * 64)
    cfg = Config.fromfile(CONFIG)
    scalabel = json.loads(
        autolabel_images(cfg, CONFIG, str(tmp / "model.pth"), images, tmp_path / "s", "scalabel", THR, provenance)
        .read_text()
    )  # fmt: skip
    cvat = ET.parse(
        autolabel_images(cfg, CONFIG, str(tmp / "model.pth"), images, tmp_path / "c", "cvat", THR, provenance)
    ).getroot()
    assert [f["name"] for f in scalabel["frames"]] == [i.get("name") for i in cvat.findall("image")] == list(expected)
    for frame, image, (boxes, scores, labels) in zip(
        scalabel["frames"], cvat.findall("image"), expected.values(), strict=True
    ):
        corners = [[lab["box2d"][k] for k in ("x1", "y1", "x2", "y2")] for lab in frame["labels"]]
        np.testing.assert_allclose(corners, boxes, atol=1e-3)
        assert [lab["category"] for lab in frame["labels"]] == [classes[i] for i in labels]
        assert [lab["attributes"]["score"] for lab in frame["labels"]] == pytest.approx(scores, abs=1e-6)
        assert not any(lab["attributes"]["reviewed"] for lab in frame["labels"])
        shapes = image.findall("box")
        np.testing.assert_allclose([[float(b.get(k)) for k in ("xtl", "ytl", "xbr", "ybr")] for b in shapes], boxes,
                                   atol=0.01)  # fmt: skip
        assert [float(b.find("attribute[@name='score']").text) for b in shapes] == pytest.approx(scores, abs=1e-6)
        assert all(b.get("source") == "auto" for b in shapes)


def test_bad_input_gets_a_paragraph_and_writes_nothing(camera, tmp_path, monkeypatch, capsys):
    from scripts.loop.autolabel.__main__ import main

    tmp, images, _expected, _classes = camera
    wrong_format = _autolabel(tmp, images, tmp_path / "a", "--format", "custom")
    assert wrong_format.returncode == 2 and "is a 2D detector, and --format custom is the LiDAR layout" in (
        wrong_format.stderr
    )
    (tmp_path / "empty").mkdir()
    args = [CONFIG, tmp_path / "empty", tmp_path / "b", "--checkpoint", tmp / "model.pth", "--score-thr", THR]
    env = dict(os.environ, MMLAB_DATASET_PATH=str(tmp / "datasets"))
    no_images = run_main(main, args, env, monkeypatch, capsys)  # in this process: no second import
    assert no_images.returncode == 2 and "holds no images" in no_images.stderr
    assert "Traceback" not in wrong_format.stderr + no_images.stderr
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()
