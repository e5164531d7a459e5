"""Does the deployed model give what PyTorch gives? Compared twice per sample: the raw
head outputs (PyTorch with mmdeploy's rewrites, i.e. the exported graph) and the final
boxes after post-processing (the original PyTorch model against mmdeploy's backend
model, matched by ``scripts.loop.deploy.box_parity.match``)."""

from __future__ import annotations

import copy

import numpy as np

from scripts.loop.deploy.box_parity import Detections, match
from scripts.loop.deploy.export import backend_of

MAX_ABS_DIFF = 1e-3  # raw head outputs, float32
MIN_MATCHED = 0.95  # final boxes: matched / max(PyTorch boxes, deployed boxes), per sample
MAX_SCORE_DIFF = 1e-3  # final boxes: |score difference| of matched boxes


class Pair:
    """The same inputs through PyTorch and the deployed model (ONNX Runtime or TensorRT)."""

    def __init__(self, deploy_cfg, model_cfg, checkpoint: str, model_path: str, device: str = "cpu"):
        from mmdeploy.apis.utils import build_task_processor
        from mmdeploy.core import patch_model

        import extensions

        extensions.register(rewriters=True)
        self.deploy_cfg = deploy_cfg
        self.backend = backend_of(deploy_cfg)
        self.device = device
        self.processor = build_task_processor(model_cfg, deploy_cfg, device)
        self.torch_model = self.processor.build_pytorch_model(checkpoint)
        # a copy rewritten as exported, for the raw outputs; the original gives the final boxes
        self.patched = patch_model(copy.deepcopy(self.torch_model), cfg=deploy_cfg, backend=self.backend)
        self.deployed = self.processor.build_backend_model([str(model_path)])
        self.input_names = list(deploy_cfg.onnx_config.input_names)

    def inputs(self, sample):
        data, inputs = self.processor.create_input(sample, None, getattr(self.torch_model, "data_preprocessor", None))
        if isinstance(inputs, list) and len(inputs) == 1:
            inputs = inputs[0]
        return data, tuple(inputs) if isinstance(inputs, list | tuple) else (inputs,)

    def run_torch(self, data, args) -> list[np.ndarray]:
        import torch
        from mmdeploy.core import RewriterContext

        opset = self.deploy_cfg.onnx_config.opset_version
        with RewriterContext(cfg=self.deploy_cfg, backend=self.backend, opset=opset), torch.no_grad():
            out = self.patched(*args, data_samples=data["data_samples"], mode="predict")
        _sync(self.device)
        return [t.detach().cpu().numpy() for t in _flatten(out)]

    def run_eager(self, data) -> None:
        """The original model's raw forward (``mode="tensor"``, no mmdeploy rewrites): what PyTorch costs as
        trained. The rewritten copy (``run_torch``) is the exported graph's reference, not a speed baseline:
        on PointPillars its rewrites make it about 12 times slower than the original."""
        import torch

        model = self.torch_model
        with torch.no_grad():
            if getattr(model, "with_pts_bbox", False):  # MVX detectors (CenterPoint) have no tensor mode
                metas = [sample.metainfo for sample in data["data_samples"]]
                model.pts_bbox_head(model.extract_feat(data["inputs"], metas)[1])
            else:
                model(**data, mode="tensor")
        _sync(self.device)

    def run_deployed(self, args) -> list[np.ndarray]:
        """Raw outputs of the deployed model, in the deploy config's output order."""
        outputs = self.deployed.wrapper(dict(zip(self.input_names, args, strict=True)))
        _sync(self.device)
        return [outputs[name].detach().cpu().numpy() for name in self.deploy_cfg.onnx_config.output_names]

    def final_detections(self, sample) -> tuple[Detections, Detections]:
        """Post-processed boxes: the original PyTorch model, and mmdeploy's backend model."""
        import torch

        raw, _ = self.processor.create_input(sample)
        with torch.no_grad():
            ref = self.torch_model.test_step(copy.deepcopy(raw))[0]
            out = self.deployed.test_step(copy.deepcopy(raw))[0]
        return Detections.from_sample(ref), Detections.from_sample(out)


def compare(pair: Pair, sample: str) -> dict:
    """One sample: the largest raw-output difference, the output shapes, and the final-box match."""
    data, args = pair.inputs(sample)
    ref, out = pair.run_torch(data, args), pair.run_deployed(args)
    diffs = [float(np.abs(r.astype(np.float64) - o).max()) if r.size else 0.0 for r, o in zip(ref, out, strict=True)]
    boxes = match(*pair.final_detections(sample))
    return dict(sample=sample, max_abs_diff=max(diffs), shapes=[list(r.shape) for r in ref], boxes=boxes)


def summarise(per_sample: list[dict]) -> dict:
    """The worst sample's figures against the thresholds, and the verdict."""
    worst = max(s["max_abs_diff"] for s in per_sample)
    matched = min(s["boxes"]["matched_fraction"] for s in per_sample)
    score_diff = max(s["boxes"]["max_score_diff"] for s in per_sample)
    return dict(
        max_abs_diff=worst,
        min_matched_fraction=matched,
        max_score_diff=score_diff,
        boxes_matched=sum(s["boxes"]["matched"] for s in per_sample),
        boxes_reference=sum(s["boxes"]["reference_boxes"] for s in per_sample),
        thresholds=dict(max_abs_diff=MAX_ABS_DIFF, min_matched_fraction=MIN_MATCHED, max_score_diff=MAX_SCORE_DIFF),
        passed=worst <= MAX_ABS_DIFF and matched >= MIN_MATCHED and score_diff <= MAX_SCORE_DIFF,
    )


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()


def _flatten(value) -> list:
    import torch

    if isinstance(value, torch.Tensor):
        return [value]
    return [t for item in value for t in _flatten(item)]
