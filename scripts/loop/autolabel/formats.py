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

FORMATS = ("custom", "scalabel", "cvat")


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
            (self.out / "points" / f"{name}.bin").write_bytes(np.ascontiguousarray(points, "<f4").tobytes())
            lines = [
                " ".join([o["label"], *(f"{v:.4f}" for v in (*o["center"], *o["size"], o["yaw"]))]) for o in objects
            ]
            (self.out / "labels" / f"{name}.txt").write_text("".join(f"{line}\n" for line in lines))

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

    def _attributes(self, obj: dict) -> dict:
        return dict(
            score=obj["score"],
            model=self.provenance["model"],
            checkpoint_sha256=self.provenance["checkpoint_sha256"],
            reviewed=False,
        )

    def _close_scalabel(self) -> Path:
        frames = [
            dict(
                name=name,
                url=f"points/{name}.bin",
                labels=[
                    dict(
                        id=o["id"],
                        category=o["label"],
                        attributes=self._attributes(o),
                        box3d=dict(
                            location=o["center"],
                            dimension=[o["size"][2], o["size"][1], o["size"][0]],
                            orientation=[0.0, 0.0, o["yaw"]],
                        ),
                    )
                    for o in objects
                ],
            )
            for name, objects in self.frames
        ]
        path = self.out / "scalabel.json"
        path.write_text(
            json.dumps(
                dict(config=dict(attributes=["score", "model", "checkpoint_sha256", "reviewed"]), frames=frames),
                indent=1,
            )
            + "\n"
        )
        return path

    def _close_cvat(self) -> Path:
        root = ET.Element("annotations")
        ET.SubElement(root, "version").text = "1.1"
        meta = ET.SubElement(ET.SubElement(root, "meta"), "source")
        meta.text = json.dumps(self.provenance)
        for index, (name, objects) in enumerate(self.frames):
            image = ET.SubElement(root, "image", id=str(index), name=f"{name}.pcd")
            for o in objects:
                values = dict(zip(("position_x", "position_y", "position_z"), o["center"], strict=True))
                values.update(zip(("scale_x", "scale_y", "scale_z"), o["size"], strict=True))
                values.update(rotation_x=0.0, rotation_y=0.0, rotation_z=o["yaw"])
                cuboid = ET.SubElement(
                    image,
                    "cuboid_3d",
                    label=o["label"],
                    source="auto",
                    occluded="0",
                    z_order="0",
                    **{k: f"{v:.6f}" for k, v in values.items()},
                )
                for key, value in self._attributes(o).items():
                    ET.SubElement(cuboid, "attribute", name=key).text = str(value)
        path = self.out / "cvat.xml"
        ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
        return path
