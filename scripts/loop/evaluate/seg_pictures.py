"""Bird's-eye views of a segmentation model's frames: the points coloured by their labelled class, beside
the same points coloured by the class the model predicts."""

from __future__ import annotations

from pathlib import Path

import numpy as np

SEGMENTORS = ("MinkUNet", "Cylinder3D", "EncoderDecoder3D", "SPVCNN")


def is_segmentor(cfg) -> bool:
    """Whether the config's model labels points (mmdet3d's segmentors) rather than drawing boxes."""
    return cfg.model.get("type") in SEGMENTORS


def _colours(labels: np.ndarray, palette: list) -> np.ndarray:
    """RGB in 0..1 per point; the ignore index (and anything past the palette) is light grey."""
    table = np.vstack([np.asarray(palette, float) / 255.0, [[0.85, 0.85, 0.85]]])
    return table[np.clip(labels, 0, len(palette))]


def render_seg_bev(points: np.ndarray, truth: np.ndarray | None, pred: np.ndarray, meta: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    panels = [("labelled", truth), ("predicted", pred)] if truth is not None else [("predicted", pred)]
    fig, axes = plt.subplots(1, len(panels), figsize=(8 * len(panels), 8), dpi=100, squeeze=False)
    keep = np.arange(0, len(points), max(1, len(points) // 60000))
    for ax, (title, labels) in zip(axes[0], panels, strict=True):
        colours = _colours(labels[keep], meta["palette"])
        ax.scatter(points[keep, 0], points[keep, 1], s=0.6, c=colours, linewidths=0)
        ax.set_aspect("equal")
        ax.set_title(f"{path.stem.removeprefix('seg_')}: {title}")
        ax.set_xlabel("x (m)")
        ax.set_ylabel("y (m)")
    handles = [
        Patch(color=np.asarray(c) / 255.0, label=n) for n, c in zip(meta["classes"], meta["palette"], strict=True)
    ]
    axes[0][-1].legend(handles=handles, loc="upper right", fontsize=8)
    fig.savefig(path, bbox_inches="tight")
    plt.close(fig)


def render_seg_frames(cfg, checkpoint: str, out: Path, frames: int) -> list[Path]:
    """Draw the first ``frames`` frames of the test set: labelled classes (where the frame has labels) and
    predicted ones."""
    from mmdet3d.apis import inference_segmentor, init_model
    from mmengine.registry import DATASETS, init_default_scope

    init_default_scope(cfg.get("default_scope", "mmdet3d"))
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    model = init_model(cfg, checkpoint, device="cpu")
    written = []
    for index in range(min(frames, len(dataset))):
        info = dataset.get_data_info(index)
        sample = dataset[index]  # the test pipeline: points and (mapped) labels as the metric saw them
        result, data = inference_segmentor(model, info["lidar_points"]["lidar_path"])
        pred = result.pred_pts_seg.pts_semantic_mask.numpy()
        truth = sample["data_samples"].gt_pts_seg.get("pts_semantic_mask")
        truth = None if truth is None else np.asarray(truth)
        path = out / f"seg_{info.get('frame_id', index)}.png"
        render_seg_bev(data["inputs"]["points"].numpy(), truth, pred, dataset.metainfo, path)
        written.append(path)
    return written
