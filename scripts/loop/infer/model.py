"""MODEL on the command line: a deployed model folder (what ``nox -s deploy`` writes: ``end2end.onnx``
and ``report.json``, which names the model config and the checkpoint), or a config plus ``--checkpoint``.

A deployed folder runs in ONNX Runtime (the default) or OpenVINO (its ``end2end.xml`` when an OpenVINO
deploy wrote one, else the ONNX model, which OpenVINO reads directly)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from mmlab_core.settings import REPO_ROOT
from scripts.loop.common.checks import UsageError, check_checkpoint, load_config


@dataclass
class ModelSpec:
    config: str
    checkpoint: str
    onnx: str | None
    runtime: str


def _existing(path: str, base: Path) -> str:
    """A path from report.json: as written (relative to the folder deploy ran in), else from the repository root."""
    for candidate in (Path(path), base / path, REPO_ROOT / path):
        if candidate.exists():
            return str(candidate)
    return path


def resolve(model: str, checkpoint: str | None, runtime: str | None) -> ModelSpec:
    """What to load and run, or a paragraph saying what is missing."""
    path = Path(model)
    if path.is_dir():
        report = path / "report.json"
        if not report.is_file() or not (path / "end2end.onnx").is_file():
            raise UsageError(
                f"{path} is not a deployed model folder: it needs end2end.onnx and report.json, which "
                "`nox -s deploy -- configs/deploy/D.py configs/X.py CKPT` writes. Or pass a config with --checkpoint."
            )
        written = json.loads(report.read_text())
        spec = ModelSpec(
            _existing(written["model_config"], Path.cwd()),
            _existing(written["checkpoint"], Path.cwd()),
            str(path / "end2end.onnx"),
            runtime or "onnxruntime",
        )
        if checkpoint:
            spec.checkpoint = checkpoint
        return spec
    if path.suffix != ".py":
        raise UsageError(
            f"the model {model} is neither a deployed model folder nor a config (.py). Pass the folder "
            "`nox -s deploy` wrote (with end2end.onnx and report.json), or configs/X.py --checkpoint CKPT."
        )
    if not checkpoint:
        raise UsageError(f"{model} is a config: pass its weights with --checkpoint CKPT")
    if runtime in ("onnxruntime", "openvino"):
        raise UsageError(
            f"--runtime {runtime} needs the exported model: pass the folder `nox -s deploy` wrote for {model} "
            "instead of the config, or use --runtime pytorch"
        )
    return ModelSpec(model, checkpoint, None, "pytorch")


def load_model(model: str, checkpoint: str | None, runtime: str | None, segmentors: bool = True):
    """The checked model spec, its config, and its FrameDetector, or its FrameSegmenter for a segmentation model
    (PyTorch only: anything else is refused with a paragraph, as is any segmentor unless ``segmentors``)."""
    from scripts.loop.evaluate.seg_pictures import is_segmentor

    if Path(model).suffix == ".py" and runtime in ("onnxruntime", "openvino") and is_segmentor(load_config(model)):
        raise _no_export(model, f"--runtime {runtime}")
    spec = resolve(model, checkpoint, runtime)
    cfg = load_config(spec.config)
    segmentor = is_segmentor(cfg)
    if segmentor and spec.onnx is not None:
        raise _no_export(spec.config, f"the deployed folder {model}")
    if segmentor and not segmentors:
        raise UsageError(
            f"{spec.config} is a segmentation model: it gives every point a class and draws no boxes, which "
            "auto-labelling and the ROS 2 node publish. Run it with `nox -s infer -- "
            f"{spec.config} INPUT --checkpoint {spec.checkpoint}`, which writes the labelled clouds."
        )
    check_checkpoint(cfg, spec.checkpoint, spec.config)
    if segmentor:
        from scripts.loop.infer.segment import FrameSegmenter

        return spec, cfg, FrameSegmenter(cfg, spec.checkpoint)
    from scripts.loop.infer.frame import FrameDetector

    return spec, cfg, FrameDetector(cfg, spec.checkpoint, spec.runtime, spec.onnx)


def load_detector(model: str, checkpoint: str | None, runtime: str | None):
    """The checked model spec, its config and its FrameDetector (a segmentation model is refused)."""
    return load_model(model, checkpoint, runtime, segmentors=False)


def _no_export(config: str, what: str) -> UsageError:
    return UsageError(
        f"{config} is a segmentation model, and {what} needs its exported graph, which does not exist: mmdeploy "
        "1.3.1 has no task for mmdet3d's segmentors (MinkUNet, Cylinder3D, SPVCNN ...), so `nox -s deploy` "
        f"cannot export it. Run it in PyTorch instead: `nox -s infer -- {config} INPUT --checkpoint CKPT "
        "--runtime pytorch`."
    )
