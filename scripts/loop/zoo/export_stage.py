"""The zoo's export stage: export a family with mmdeploy to ONNX and compare ONNX Runtime's raw outputs with
PyTorch's (rewritten) ones. A failure on a model mmdeploy 1.3.1 is known not to handle says which part of it
(deploy_3d.refusal), followed by the error itself."""

from __future__ import annotations

import os
from pathlib import Path

from mmlab_core.settings import REPO_ROOT
from scripts.loop.zoo.deploy_3d import refusal
from scripts.loop.zoo.family import Family
from scripts.loop.zoo.reasons import first_line


def export_sample(family: Family, work_dir: Path) -> str:
    """What mmdeploy's task reads: a LiDAR scan or an image (2D), or, for mono detection, an info file naming
    the KITTI image and its calibration."""
    from scripts.loop.zoo.frames import kitti_dir, sample_path, write_kitti_ann

    if family.kind != "mono3d":
        return sample_path(family.frame)
    image = work_dir / "000008.png"  # the task reads the image beside the info file
    if not image.exists():
        os.symlink(kitti_dir() / "000008.png", image)
    return str(write_kitti_ann(work_dir / "000008_mono.pkl"))


def output_names(deploy_cfg, model_cfg) -> list[str]:
    """The deploy config's output names, one set per level of an anchor head (FPN necks give several), in the
    order the rewritten forward returns them (MVX detectors interleave the levels, VoxelNet groups them)."""
    names = list(deploy_cfg.onnx_config.output_names)
    head = model_cfg.model.get("bbox_head") or model_cfg.model.get("pts_bbox_head") or {}
    levels = len((head.get("anchor_generator") or {}).get("scales", [1]))  # Anchor3DRangeGenerator.num_levels
    if levels == 1 or not all(n.endswith("0") for n in names):
        return names
    stems = [n[:-1] for n in names]
    if model_cfg.model.get("pts_bbox_head"):
        return [f"{stem}{i}" for i in range(levels) for stem in stems]
    return [f"{stem}{i}" for stem in stems for i in range(levels)]


def export_parity(model, family: Family, cfg, work_dir: Path) -> dict:
    """Export with mmdeploy to ONNX Runtime; the largest raw-output difference from PyTorch, within MAX_ABS_DIFF."""
    try:
        return _export_parity(model, family, cfg, work_dir)
    except Exception as exc:
        known = refusal(cfg, family.kind) if family.scope == "mmdet3d" else ""
        if known:
            raise LookupError(f"{known} ({first_line(exc)})") from exc
        raise


def _export_parity(model, family: Family, cfg, work_dir: Path) -> dict:
    import numpy as np
    from mmdeploy.utils import load_config
    from mmengine.runner.checkpoint import save_checkpoint, weights_to_cpu

    from scripts.loop.deploy.export import export
    from scripts.loop.deploy.parity import MAX_ABS_DIFF, Pair

    checkpoint = str(work_dir / "random.pth")
    meta = dict(dataset_meta=dict(classes=list(cfg.get("class_names", ["a"]))))
    save_checkpoint(dict(state_dict=weights_to_cpu(model.state_dict()), meta=meta), checkpoint)
    (deploy_cfg,) = load_config(str(REPO_ROOT / family.deploy))
    deploy_cfg.onnx_config.output_names = output_names(deploy_cfg, cfg)
    sample = export_sample(family, work_dir)
    onnx_path = export(deploy_cfg, cfg, checkpoint, sample, work_dir / "deploy")
    pair = Pair(deploy_cfg, cfg, checkpoint, str(onnx_path))
    data, args = pair.inputs(sample)
    ref, out = pair.run_torch(data, args), pair.run_deployed(args)
    if len(ref) != len(out):
        raise ValueError(f"the graph returns {len(ref)} outputs, and the deploy config names {len(out)}")
    diffs = [np.abs(r.astype(np.float64) - o) if r.size else np.zeros(1) for r, o in zip(ref, out, strict=True)]
    worst = int(np.argmax([d.max() for d in diffs]))
    diff = float(diffs[worst].max())
    if diff > MAX_ABS_DIFF:
        where = np.unravel_index(diffs[worst].argmax(), diffs[worst].shape)
        channel = f" channel {where[1]} of {ref[worst].shape[1]}" if ref[worst].ndim == 4 else ""
        raise AssertionError(
            f"ONNX Runtime differs from PyTorch by {diff:.3g} (> {MAX_ABS_DIFF}) in "
            f"{deploy_cfg.onnx_config.output_names[worst]}{channel} (PyTorch {float(ref[worst][where]):.4g} there, "
            f"largest magnitude {float(np.abs(ref[worst]).max()):.3g})"
        )
    return dict(max_abs_diff=diff, deploy=family.deploy, outputs=[list(r.shape) for r in ref])
