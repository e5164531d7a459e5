"""The per-frame function of a LiDAR segmentation model (mmdet3d's segmentors: MinkUNet, Cylinder3D, SPVCNN ...):
points in, one class index per point out, timed in FrameDetector's stages (voxelize: the test pipeline and the
model's voxelization; network: the segmentor's ``predict``; post-process: the labels back to numpy).

The test pipeline is the config's, after its point loader, without the steps that read and map labels
(``LoadAnnotations3D``, ``PointSegClassMapping``), as ``mmdet3d.apis.inference_segmentor`` runs it. Segmentors
run in PyTorch only: mmdeploy 1.3.1 has no task for mmdet3d's segmentors, so there is no exported graph."""

from __future__ import annotations

import numpy as np

from extensions.classes import SEG_PALETTE
from extensions.io.intensity import recorded_range
from scripts.loop.common.checks import UsageError, point_dims
from scripts.loop.infer.frame import Timer

LABEL_STEPS = ("LoadAnnotations3D", "PointSegClassMapping")  # the test pipeline's steps that need labels


class FrameSegmenter:
    """A segmentation model loaded once; ``segment(points)`` labels one frame's points."""

    runtime = "pytorch"

    def __init__(self, model_cfg, checkpoint: str):
        from mmengine.dataset import Compose
        from mmengine.registry import MODELS, init_default_scope
        from mmengine.runner.checkpoint import load_state_dict

        from scripts.loop.common.checks import load_checkpoint

        init_default_scope(model_cfg.get("default_scope", "mmdet3d"))
        import extensions

        extensions.register()

        self.cfg = model_cfg
        self.classes = list(model_cfg.get("class_names") or model_cfg.metainfo.classes)
        self.palette = [SEG_PALETTE[i % len(SEG_PALETTE)] for i in range(len(self.classes))]
        self.dims = point_dims(model_cfg)
        self.model = MODELS.build(model_cfg.model).eval()
        state = load_checkpoint(checkpoint)
        self.intensity_range = recorded_range(state)  # the training data's (None: not recorded)
        load_state_dict(self.model, state.get("state_dict", state), strict=True)
        steps = [step for step in model_cfg.test_pipeline[1:] if step["type"] not in LABEL_STEPS]
        self.pipeline = Compose(steps)  # after the loader: the points come from us

    def segment(self, points: np.ndarray, timer: Timer | None = None) -> np.ndarray:
        """The class index (int64, into ``classes``) of every point of one cloud ((M, dims) float32)."""
        import torch

        with torch.no_grad():  # only here: a process that also trains (tests) keeps its gradients
            return self._segment(points, timer or Timer())

    def _segment(self, points: np.ndarray, timer: Timer) -> np.ndarray:
        import torch
        from mmdet3d.structures import LiDARPoints
        from mmengine.dataset import pseudo_collate

        with timer.stage("voxelize"):
            lidar = LiDARPoints(torch.from_numpy(np.ascontiguousarray(points[:, : self.dims])), points_dim=self.dims)
            packed = self.pipeline(dict(points=lidar))
            data = self.model.data_preprocessor(pseudo_collate([packed]), False)
        with timer.stage("network"):
            (result,) = self.model.predict(data["inputs"], data["data_samples"])
        with timer.stage("post-process"):
            labels = result.pred_pts_seg.pts_semantic_mask.numpy().astype(np.int64)
        if len(labels) != len(points):
            raise UsageError(
                f"the segmentor returned {len(labels)} labels for {len(points)} points: its config's test pipeline "
                "drops or adds points (a range filter, a sampler), so the labels no longer match the cloud's points. "
                "Leave such steps out of test_pipeline for infer."
            )
        return labels
