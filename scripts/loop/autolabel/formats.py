"""Pre-label writers: the custom LiDAR label format (``points/``, ``labels/<id>.txt``, ``splits/val.txt``
and ``prelabels.json``, the manifest), Scalabel JSON (3D boxes) and CVAT XML 1.1 (``cuboid_3d`` shapes).

Every pre-label records the model, the checkpoint's sha256 and its score, with ``reviewed`` false, so
that reviewed and unreviewed labels can be told apart. Boxes are in the LiDAR frame, centre (x, y, z),
size (dx, dy, dz: length along x at yaw 0, width, height) and yaw about z, the custom format's convention.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from extensions.io.labels import format_labels
from extensions.io.points import write_bin

FORMATS = ("custom", "scalabel", "cvat")


SCALABEL_ATTRIBUTES = ["score", "model", "checkpoint_sha256", "reviewed"]


def label_attributes(provenance: dict, score: float) -> dict:
    """What every pre-label carries, in Scalabel and CVAT alike: its score, the model, the checkpoint's sha256."""
    return dict(
        score=score, model=provenance["model"], checkpoint_sha256=provenance["checkpoint_sha256"], reviewed=False
    )


def write_scalabel(out: Path, frames: list[dict]) -> Path:
    """``out/scalabel.json``: Scalabel frames (each with its ``labels``, 2D or 3D boxes); returns its path."""
    path = out / "scalabel.json"
    document = dict(config=dict(attributes=SCALABEL_ATTRIBUTES), frames=frames)
    path.write_text(json.dumps(document, indent=1) + "\n")
    return path


def cvat_document(provenance: dict) -> ET.Element:
    """An empty CVAT XML 1.1 annotation document whose meta records where the pre-labels came from."""
    root = ET.Element("annotations")
    ET.SubElement(root, "version").text = "1.1"
    ET.SubElement(ET.SubElement(root, "meta"), "source").text = json.dumps(provenance)
    return root


def add_cvat_shape(image: ET.Element, tag: str, label: str, geometry: dict[str, str], attributes: dict) -> None:
    """One automatic shape (``box`` or ``cuboid_3d``) on a CVAT ``image`` element, with its attributes."""
    shape = ET.SubElement(image, tag, label=label, source="auto", occluded="0", z_order="0", **geometry)
    for key, value in attributes.items():
        ET.SubElement(shape, "attribute", name=key).text = str(value)


def write_cvat(out: Path, root: ET.Element) -> Path:
    """``out/cvat.xml``; returns its path."""
    path = out / "cvat.xml"
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
    return path


class PreLabels:
    """Collects one frame at a time; ``custom`` writes points and labels as it goes, the others at ``close``."""

    def __init__(self, out: Path, fmt: str, provenance: dict):
        self.out, self.fmt, self.provenance = out, fmt, provenance
        self.frames: list[tuple[str, list[dict]]] = []
        if fmt == "custom":
            for sub in ("points", "labels", "splits"):
                (out / sub).mkdir(parents=True, exist_ok=True)

    def add(self, name: str, points: np.ndarray, objects: list[dict]) -> None:
        """One frame's boxes (``scripts.loop.infer.records.objects``: label, score, center, size, yaw)."""
        self.frames.append((name, [dict(o, id=f"{name}-{i}") for i, o in enumerate(objects)]))
        if self.fmt == "custom":
            write_bin(self.out / "points" / f"{name}.bin", points)
            boxes = np.array([[*o["center"], *o["size"], o["yaw"]] for o in objects], dtype=float).reshape(-1, 7)
            (self.out / "labels" / f"{name}.txt").write_text(format_labels([o["label"] for o in objects], boxes))

    def close(self) -> Path:
        """Write the format's files; returns the main one."""
        return getattr(self, f"_close_{self.fmt}")()

    def _close_custom(self) -> Path:
        (self.out / "splits" / "val.txt").write_text("".join(f"{name}\n" for name, _ in self.frames))
        manifest = dict(
            self.provenance,
            reviewed=False,
            frames={name: [dict(label=o["label"], score=o["score"]) for o in objects] for name, objects in self.frames},
        )
        path = self.out / "prelabels.json"
        path.write_text(json.dumps(manifest, indent=1) + "\n")
        return path

    def _close_scalabel(self) -> Path:
        def label(o: dict) -> dict:
            box3d = dict(location=o["center"], dimension=o["size"][::-1], orientation=[0.0, 0.0, o["yaw"]])
            attributes = label_attributes(self.provenance, o["score"])
            return dict(id=o["id"], category=o["label"], attributes=attributes, box3d=box3d)

        frames = [
            dict(name=name, url=f"points/{name}.bin", labels=[label(o) for o in objects])
            for name, objects in self.frames
        ]
        return write_scalabel(self.out, frames)

    def _close_cvat(self) -> Path:
        root = cvat_document(self.provenance)
        for index, (name, objects) in enumerate(self.frames):
            image = ET.SubElement(root, "image", id=str(index), name=f"{name}.pcd")
            for o in objects:
                values = dict(zip(("position_x", "position_y", "position_z"), o["center"], strict=True))
                values.update(zip(("scale_x", "scale_y", "scale_z"), o["size"], strict=True))
                values.update(rotation_x=0.0, rotation_y=0.0, rotation_z=o["yaw"])
                geometry = {k: f"{v:.6f}" for k, v in values.items()}
                add_cvat_shape(image, "cuboid_3d", o["label"], geometry, label_attributes(self.provenance, o["score"]))
        return write_cvat(self.out, root)
