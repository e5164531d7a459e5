"""A 3D detector's head, seen from ``infer``: what its network returns (in PyTorch, or as the named outputs of
the graph ``nox -s deploy`` exported) and how that becomes boxes.

Two head families, the ones mmdeploy exports for voxel detectors:

- anchor heads (``Anchor3DHead`` and kin: PointPillars, SECOND): per feature level ``i`` the graph returns
  ``cls_score{i}``, ``bbox_pred{i}`` and ``dir_cls_pred{i}``; boxes come from ``anchor_post.predict``;
- centre heads (``CenterHead``: CenterPoint): mmdeploy's rewrite of ``MVXTwoStageDetector.forward`` concatenates
  the tasks' maps along the channels: ``cls_score0`` the heatmaps, ``bbox_pred0`` reg, height, dim (and vel),
  ``dir_cls_pred0`` rot; they are cut back into per-task dicts for the head's own ``predict_by_feat``.
"""

from __future__ import annotations

from mmlab_core.errors import DataFormatError
from scripts.loop.common.checks import UsageError

CENTER_BOX_KEYS = ("reg", "height", "dim", "vel")  # the order of bbox_pred0's channels in mmdeploy's rewrite


def head_of(model):
    """The model's 3D box head: ``pts_bbox_head`` for MVX detectors (CenterPoint), else ``bbox_head``."""
    return model.pts_bbox_head if getattr(model, "with_pts_bbox", False) else model.bbox_head


class AnchorOutputs:
    """Anchor heads: the three maps per level, boxes by the vectorised ``anchor_post.predict``."""

    def __init__(self, model, levels: int = 1):
        from scripts.loop.infer.anchor_post import AnchorPost

        self.model, self.head = model, head_of(model)
        self.names = [f"{kind}{i}" for i in range(levels) for kind in ("cls_score", "bbox_pred", "dir_cls_pred")]
        self.post = AnchorPost(self.head, model.test_cfg)

    def network(self, inputs: dict, metas: list[dict]):
        return self.head(self.model.extract_feat(inputs))

    def from_graph(self, outputs: dict):
        return tuple([outputs[f"{kind}{i}"] for i in range(len(self.names) // 3)] for kind in _ANCHOR_KINDS)

    def predict(self, raw, metas: list[dict]):
        cls_scores, bbox_preds, dir_preds = raw
        return self.post.predict([c[0] for c in cls_scores], [b[0] for b in bbox_preds], [d[0] for d in dir_preds])


_ANCHOR_KINDS = ("cls_score", "bbox_pred", "dir_cls_pred")


class CenterOutputs:
    """Centre heads: per task a dict of maps, boxes by the head's own ``predict_by_feat``."""

    names = ["cls_score0", "bbox_pred0", "dir_cls_pred0"]

    def __init__(self, model):
        self.model, self.head = model, head_of(model)
        self.tasks = [dict(task.heads) for task in self.head.task_heads]  # name: (channels, convs)

    def network(self, inputs: dict, metas: list[dict]):
        return self.head(self.model.extract_feat(inputs, metas)[1])

    def from_graph(self, outputs: dict):
        import torch

        heatmaps = torch.split(outputs["cls_score0"], [t["heatmap"][0] for t in self.tasks], dim=1)
        boxes = torch.split(
            outputs["bbox_pred0"], [sum(t[k][0] for k in CENTER_BOX_KEYS if k in t) for t in self.tasks], 1
        )
        rots = torch.split(outputs["dir_cls_pred0"], [t["rot"][0] for t in self.tasks], dim=1)
        raw = []
        for task, heatmap, box, rot in zip(self.tasks, heatmaps, boxes, rots, strict=True):
            keys = [k for k in CENTER_BOX_KEYS if k in task]
            maps = dict(zip(keys, torch.split(box, [task[k][0] for k in keys], dim=1), strict=True))
            raw.append([dict(maps, heatmap=heatmap, rot=rot)])
        return tuple(raw)

    def predict(self, raw, metas: list[dict]):
        return self.head.predict_by_feat(raw, metas)[0]


def outputs_for(model, graph_names: list[str] | None = None, source=None):
    """The head family of ``model``; with ``graph_names`` (a deployed graph's outputs, in ``source``) checked
    against what that family's export returns."""
    head = head_of(model)
    if hasattr(head, "task_heads"):
        outputs = CenterOutputs(model)
    elif hasattr(head, "prior_generator") and hasattr(head, "conv_dir_cls"):
        levels = sum(name.startswith("cls_score") for name in graph_names) if graph_names else 1
        outputs = AnchorOutputs(model, max(levels, 1))
    else:
        raise UsageError(
            f"the model's head is {type(head).__name__}: infer runs anchor heads (PointPillars, SECOND: "
            "Anchor3DHead and kin) and centre heads (CenterPoint: CenterHead). Pick a config with one of them."
        )
    if graph_names is not None and sorted(graph_names) != sorted(outputs.names):
        raise DataFormatError(
            source,
            f"the deployed graph returns {', '.join(graph_names)}, but the model config's {type(head).__name__} "
            f"exports as {', '.join(outputs.names)}: the folder was deployed from another config. Deploy this "
            "config again (nox -s deploy), or pass the config it was deployed from.",
        )
    return outputs
