"""The one per-frame function: points in, boxes out (voxelize, network, post-process), timed per stage.

Used by the bag and folder runner, by auto-labelling and by the ROS 2 node. The network runs in
PyTorch, ONNX Runtime or OpenVINO (the model ``nox -s deploy`` exported: voxels in, raw head outputs out);
the pre-processing (the config's test pipeline after loading, then voxelization) and the
post-processing are the same in every runtime. What the network returns and how it becomes boxes depends on
the head (anchor heads: PointPillars, SECOND; centre heads: CenterPoint): ``scripts.loop.infer.heads``.
"""

from __future__ import annotations

import time
from contextlib import contextmanager

import numpy as np

from extensions.io.fields import check_fields  # noqa: F401  (the one check: infer's sources and the ROS 2 node)
from extensions.io.intensity import recorded_range
from scripts.loop.common.checks import point_dims
from scripts.loop.deploy.box_parity import Detections
from scripts.loop.infer.heads import outputs_for
from scripts.loop.infer.runtimes import open_session

RUNTIMES = ("onnxruntime", "openvino", "pytorch")
STAGES = ("decode", "voxelize", "network", "post-process")


class Timer:
    """Seconds spent per stage, for one frame."""

    def __init__(self):
        self.seconds: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str):
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start


class FrameDetector:
    """A voxel 3D detector (voxelize, voxel encoder + backbone + head, post-process) loaded once;
    ``detect(points)`` runs one frame."""

    def __init__(self, model_cfg, checkpoint: str, runtime: str = "pytorch", onnx: str | None = None):
        from mmengine.dataset import Compose
        from mmengine.registry import MODELS, init_default_scope
        from mmengine.runner.checkpoint import load_state_dict

        from scripts.loop.common.checks import load_checkpoint

        init_default_scope(model_cfg.get("default_scope", "mmdet3d"))
        import extensions

        extensions.register(rewriters=True)

        self.cfg = model_cfg
        self.runtime = runtime
        self.classes = list(model_cfg.get("class_names") or model_cfg.metainfo.classes)
        self.dims = point_dims(model_cfg)
        self.model = MODELS.build(model_cfg.model).eval()
        state = load_checkpoint(checkpoint)
        self.intensity_range = recorded_range(state)  # the training data's (None: not recorded)
        load_state_dict(self.model, state.get("state_dict", state), strict=True)
        self.pipeline = Compose(model_cfg.test_pipeline[1:])  # after the loader: the points come from us
        self.session = None if runtime == "pytorch" else open_session(runtime, onnx)
        self.head = outputs_for(self.model, self.session and self.session.names, onnx)

    def detect(self, points: np.ndarray, timer: Timer | None = None, score_thr: float = 0.0) -> Detections:
        """Boxes (N, 7: x, y, z bottom, dx, dy, dz, yaw; LiDAR frame), scores and labels of one cloud
        ((M, dims) float32), those scoring below ``score_thr`` left out."""
        import torch

        with torch.no_grad():  # only here: a process that also trains (tests, the demo) keeps its gradients
            return self._detect(points, timer, score_thr)

    def _detect(self, points: np.ndarray, timer: Timer | None, score_thr: float) -> Detections:
        timer = timer or Timer()
        raw, metas = self.raw(points, timer)
        with timer.stage("post-process"):
            result = self.head.predict(raw, metas)
            found = Detections(
                result.bboxes_3d.tensor[:, :7].numpy().astype(np.float64),
                result.scores_3d.numpy().astype(np.float64),
                result.labels_3d.numpy(),
            )
            keep = found.scores >= score_thr
        return Detections(found.boxes[keep], found.scores[keep], found.labels[keep])

    def raw(self, points: np.ndarray, timer: Timer) -> tuple[object, list[dict]]:
        """The network's outputs for one cloud, as the head returns them, and the sample's meta."""
        import torch
        from mmdet3d.structures import LiDARPoints
        from mmengine.dataset import pseudo_collate

        with timer.stage("voxelize"):
            lidar = LiDARPoints(torch.from_numpy(np.ascontiguousarray(points[:, : self.dims])), points_dim=self.dims)
            packed = self.pipeline(dict(points=lidar, box_type_3d=_lidar_box_type(), box_mode_3d=3))
            data = self.model.data_preprocessor(pseudo_collate([packed]), False)
        voxels, samples = data["inputs"]["voxels"], data["data_samples"]
        with timer.stage("network"):
            metas = [sample.metainfo for sample in samples]
            if self.session is None:
                raw = self.head.network(data["inputs"], metas)
            else:
                raw = self.head.from_graph(self.session({k: voxels[k] for k in ("voxels", "num_points", "coors")}))
        return raw, metas


def _lidar_box_type():
    from mmdet3d.structures import LiDARInstance3DBoxes

    return LiDARInstance3DBoxes
