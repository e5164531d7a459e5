"""Pre-label camera images with a trained 2D detector (an mmdet config such as configs/retinanet_r18_camera-synth.py).

Formats: ``coco`` (``images/`` plus ``prelabels.json``, a COCO file the 2D configs train on, every annotation
with its score), Scalabel JSON (``box2d``) and CVAT XML 1.1 (``box`` shapes). Every pre-label records the model,
the checkpoint's sha256, its score and ``reviewed: false``. Boxes are pixels of the original image (x1, y1, x2, y2).
"""

from __future__ import annotations

import json
import shutil
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

from scripts.loop.autolabel.formats import add_cvat_shape, cvat_document, label_attributes, write_cvat, write_scalabel
from scripts.loop.common.checks import UsageError

CAMERA_FORMATS = ("coco", "scalabel", "cvat")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


def is_camera_config(cfg) -> bool:
    """A 2D detector: mmdet's scope, an image detector rather than a LiDAR one."""
    return cfg.get("default_scope") == "mmdet"


def image_files(path: Path) -> list[Path]:
    """The images of a folder (or of its ``images/``), sorted; a paragraph when there are none."""
    folder = path / "images" if (path / "images").is_dir() else path
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES) if folder.is_dir() else []
    if not files:
        raise UsageError(
            f"{path} holds no images ({', '.join(IMAGE_SUFFIXES)}), directly or in images/: a 2D detector "
            "pre-labels camera images. Pass the folder of the frames' images."
        )
    return files


def detections(model, images: list[Path], score_thr: float) -> Iterator[tuple[Path, tuple[int, int], list[dict]]]:
    """(image, (height, width), boxes above ``score_thr``) per image, with mmdet's own inference API."""
    from mmdet.apis import inference_detector
    from tqdm import tqdm

    classes = model.dataset_meta["classes"]
    for image in tqdm(images, unit="image", desc="autolabel (2D)", file=sys.stderr):
        result = inference_detector(model, str(image))
        pred = result.pred_instances
        keep = pred.scores >= score_thr
        boxes, scores, labels = (t[keep].cpu().numpy() for t in (pred.bboxes, pred.scores, pred.labels))
        objects = [
            dict(label=classes[int(label)], score=float(score), box=[float(v) for v in box])
            for box, score, label in zip(boxes, scores, labels, strict=True)
        ]
        yield image, tuple(result.ori_shape), objects


def write(frames: list, out: Path, fmt: str, provenance: dict, classes: tuple[str, ...]) -> Path:
    """The format's files in ``out`` (a staging folder); returns the main file."""
    if fmt == "coco":
        attributes = label_attributes(provenance, 0.0)
        del attributes["score"]
        return _coco(frames, out, provenance, attributes, classes)
    if fmt == "scalabel":

        def label(image: Path, index: int, o: dict) -> dict:
            box2d = dict(zip(("x1", "y1", "x2", "y2"), o["box"], strict=True))
            attributes = label_attributes(provenance, o["score"])
            return dict(id=f"{image.stem}-{index}", category=o["label"], attributes=attributes, box2d=box2d)

        items = [
            dict(
                name=image.name, url=f"images/{image.name}", labels=[label(image, i, o) for i, o in enumerate(objects)]
            )
            for image, _, objects in frames
        ]
        return write_scalabel(out, items)
    root = cvat_document(provenance)
    for index, (image, (height, width), objects) in enumerate(frames):
        node = ET.SubElement(root, "image", id=str(index), name=image.name, width=str(width), height=str(height))
        for o in objects:
            corners = dict(zip(("xtl", "ytl", "xbr", "ybr"), (f"{v:.2f}" for v in o["box"]), strict=True))
            add_cvat_shape(node, "box", o["label"], corners, label_attributes(provenance, o["score"]))
    return write_cvat(out, root)


def _coco(frames, out: Path, provenance: dict, attributes: dict, classes: tuple[str, ...]) -> Path:
    """COCO detection JSON with the images copied next to it: ``data_prefix=dict(img="images/")`` trains on it."""
    (out / "images").mkdir()
    categories = [dict(id=i, name=name) for i, name in enumerate(classes)]
    ids = {name: i for i, name in enumerate(classes)}
    images, annotations = [], []
    for index, (image, (height, width), objects) in enumerate(frames):
        shutil.copyfile(image, out / "images" / image.name)
        images.append(dict(id=index, file_name=image.name, height=height, width=width))
        for o in objects:
            x1, y1, x2, y2 = o["box"]
            box = dict(bbox=[x1, y1, x2 - x1, y2 - y1], area=(x2 - x1) * (y2 - y1), iscrowd=0)
            annotations.append(
                dict(
                    box,
                    id=len(annotations),
                    image_id=index,
                    category_id=ids[o["label"]],
                    score=o["score"],
                    attributes=attributes,
                )
            )
    path = out / "prelabels.json"
    info = dict(provenance, reviewed=False, description="unreviewed pre-labels")
    path.write_text(json.dumps(dict(info=info, images=images, annotations=annotations, categories=categories)) + "\n")
    return path


def autolabel_images(
    cfg, config: str, checkpoint: str, images_path: Path, out: Path, fmt: str, score_thr: float, provenance: dict
) -> Path:
    """Pre-label every image of ``images_path`` into ``out`` (written whole or not at all); returns the main file."""
    from mmdet.apis import init_detector

    from mmlab_core.files import atomic_dir

    images = image_files(images_path)
    model = init_detector(cfg, checkpoint, device="cpu")
    named = (cfg.test_dataloader.dataset.get("metainfo") or {}).get("classes")
    if named:  # the classes the config trains on; mmdet falls back to COCO's when a checkpoint names none
        model.dataset_meta = dict(model.dataset_meta, classes=tuple(named))
    frames = list(detections(model, images, score_thr))
    with atomic_dir(out) as stage:
        written = write(frames, stage, fmt, provenance, tuple(model.dataset_meta["classes"]))
    return out / written.relative_to(stage)
