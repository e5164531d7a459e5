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


def load_detector(model: str, checkpoint: str | None, runtime: str | None):
    """The checked model spec and its FrameDetector."""
    from scripts.loop.infer.frame import FrameDetector

    spec = resolve(model, checkpoint, runtime)
    cfg = load_config(spec.config)
    check_checkpoint(cfg, spec.checkpoint, spec.config)
    return spec, cfg, FrameDetector(cfg, spec.checkpoint, spec.runtime, spec.onnx)
