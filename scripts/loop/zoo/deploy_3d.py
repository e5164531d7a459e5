"""What mmdeploy 1.3.1 can export of mmdet3d's families (its mmdet3d codebase has two tasks, VoxelDetection and
MonoDetection): the deploy config each family is tried with, the known cause when a model is refused, and why a
family of a kind neither task covers has no export stage at all (the zoo shows "n/a")."""

from __future__ import annotations

from dataclasses import replace

from scripts.loop.zoo.family import Family

VOXEL_DEPLOY = "configs/deploy/voxel-detection_onnxruntime_dynamic.py"
MONO_DEPLOY = "configs/deploy/mono-detection_onnxruntime_dynamic.py"
TASKS = "mmdeploy 1.3.1's mmdet3d tasks are voxel detection (LiDAR voxels in) and mono detection (one camera image in)"
NO_TASK = {
    "indoor": f"{TASKS}; an indoor detector reads raw depth points, which neither feeds",
    "seg": "mmdeploy 1.3.1 has no 3D segmentation task (its mmdet3d codebase has voxel and mono detection only)",
    "multiview": f"{TASKS}; a multi-view or image-to-voxel detector (not a SingleStageMono3DDetector) fits neither",
}
NO_TASK_BY_NAME = {"ImVoteNet": NO_TASK["indoor"]}  # multi-modal, but on indoor depth points
SPARSE_ENCODERS = ("SparseEncoder", "SparseEncoderSASSD", "SparseUNet")
MONO_HEADS = ("SMOKEMono3DHead",)  # the one head whose raw outputs the mono-detection task decodes


def with_export_facts(family: Family) -> Family:
    """The family with the deploy config mmdeploy's task is tried with, or why no task fits (``no_export``)."""
    if family.scope != "mmdet3d" or family.deploy or (family.config is None and not family.missing):
        return family
    if family.kind in ("lidar", "multimodal") and family.name not in NO_TASK_BY_NAME:
        return replace(family, deploy=VOXEL_DEPLOY)
    if family.kind == "mono3d":
        return replace(family, deploy=MONO_DEPLOY)
    why = NO_TASK_BY_NAME.get(family.name) or NO_TASK.get(family.kind, "")
    return replace(family, no_export=why)


def refusal(model_cfg, kind: str) -> str:
    """What in the model mmdeploy 1.3.1 has no export for ("" when nothing known): one line, causes joined."""
    model = model_cfg.model
    encoder = (model.get("voxel_encoder") or model.get("pts_voxel_encoder") or {}).get("type", "")
    middle = (model.get("middle_encoder") or model.get("pts_middle_encoder") or {}).get("type", "")
    head = (model.get("bbox_head") or model.get("pts_bbox_head") or {}).get("type", "")
    voxel = (model.get("data_preprocessor") or {}).get("voxel", False)
    causes = []
    if kind == "mono3d" and head == "MonoFlexHead":
        causes.append(
            "its mono-detection graph calls the head with features only, and MonoFlexHead.forward also needs the "
            "images' meta (batch_img_metas: its edge fusion reads the padded image size from them)"
        )
    elif kind == "mono3d" and head not in MONO_HEADS:
        causes.append(
            "its mono-detection graph keeps the head's first two outputs and decodes them as one level (SMOKE's "
            f"form); {head} has more levels and outputs (direction, centerness, ...) than that carries"
        )
    if kind == "multimodal":
        causes.append("its voxel-detection task feeds voxels only, so a fusion model's image branch has no input")
    if kind == "lidar" and not voxel:
        causes.append("its voxel-detection task feeds voxels, and this detector takes raw points (no voxelization)")
    if encoder.startswith("Dynamic"):
        causes.append(
            f"its voxel-detection task feeds hard voxels (voxels, num_points, coors), and {encoder} takes points "
            "with per-point voxel coordinates (dynamic voxelization)"
        )
    if middle in SPARSE_ENCODERS:
        causes.append(f"{middle} is sparse 3D convolution (spconv), which has no ONNX symbolic and no rewriter")
    if model.get("roi_head"):
        causes.append(f"it exports a dense head only: {model['roi_head']['type']} (second stage) has no rewriter")
    return "mmdeploy 1.3.1 cannot export it: " + "; ".join(causes) if causes else ""
