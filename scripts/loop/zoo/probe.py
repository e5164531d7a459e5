"""One family, in its own process: build from upstream's config, one training step, predict on a real frame,
and (where mmdeploy supports the model) export to ONNX and compare ONNX Runtime's raw outputs.

``python -m scripts.loop.zoo.probe NAME RESULT_JSON [--no-export]``: the result is rewritten after every stage, so a
process that is killed or aborts still leaves what it had done, and the stage it was in (``running``).
Weights are random: pretrained backbones are not loaded, because nothing is downloaded at run time.
"""

from __future__ import annotations

import json
import math
import sys
import tempfile
import time
import traceback
from pathlib import Path

from mmlab_core.cli import run
from mmlab_core.files import atomic_write
from mmlab_core.settings import REPO_ROOT
from scripts.loop.zoo.families import by_name
from scripts.loop.zoo.family import Family
from scripts.loop.zoo.reasons import first_line, reason

STAGES = ("config", "train", "predict", "export")


def package_configs(scope: str) -> Path:
    import importlib

    return Path(importlib.import_module(scope).__file__).parent / ".mim" / "configs"


def without_pretrained(node) -> None:
    """Drop every pretrained-weight reference (``init_cfg`` of type Pretrained, ``pretrained``) in place."""
    if isinstance(node, dict):
        if "pretrained" in node:
            node["pretrained"] = None
        init = node.get("init_cfg")
        if isinstance(init, dict) and init.get("type") == "Pretrained":
            node["init_cfg"] = None
        for value in node.values():
            without_pretrained(value)
    elif isinstance(node, list | tuple):
        for value in node:
            without_pretrained(value)


def build_config(family: Family):
    """Upstream's config for the family, pretrained weights removed, registries set up."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    if family.config is None:
        raise LookupError(family.missing)
    ours = family.config.startswith("configs/")  # a config of this repository (MonoFlex: upstream ships none)
    cfg = Config.fromfile(str((REPO_ROOT if ours else package_configs(family.scope)) / family.config))
    without_pretrained(cfg.model)
    if "test_dataloader" not in cfg:  # mmdet3d 1.4.0's nuimages/ configs were never ported from mmdet 2.x
        raise LookupError(
            f"{family.config} is still in mmdet 2.x form (data=dict(...), img_scale pipelines, no data_preprocessor "
            "or test_dataloader): the model builds, but no mmdet 3.x runner or inference API can feed it; port the "
            "config to mmdet 3.x (mmdet's own mask_rcnn configs are its 3.x form) to use it"
        )
    if family.scope == "mmdet3d":
        from mmdet3d.utils import register_all_modules
    else:
        from mmdet.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    init_default_scope(cfg.get("default_scope", family.scope))
    return cfg


def train_inputs(family: Family, cfg) -> dict:
    """A batch from upstream's own test helper (plus the camera geometry a mono-3D head reads)."""
    if family.kind == "2d":
        from mmdet.testing import demo_mm_inputs

        return demo_mm_inputs(**{"batch_size": 2, "image_shapes": (3, 128, 128), **family.inputs})
    from mmdet3d.testing import create_detector_inputs

    from scripts.loop.zoo.frames import kitti_calibration

    if family.frame == "kitti-views":
        from scripts.loop.zoo.multiview import train_batch

        return train_batch(family.inputs)

    encoder = cfg.model.get("pts_voxel_encoder") or cfg.model.get("voxel_encoder") or {}
    inputs = dict(family.inputs)
    if family.kind == "lidar" and "in_channels" in encoder:  # the point features the model was built for
        inputs["points_feat_dim"] = encoder["in_channels"]
    if family.kind == "seg" and family.frame != "kitti":  # xyz, colour and (S3DIS) the room-normalised xyz
        inputs["points_feat_dim"] = cfg.model.backbone["in_channels"]
    head = cfg.model.get("bbox_head") or cfg.model.get("pts_bbox_head") or cfg.model.get("decode_head") or {}
    if isinstance(head.get("num_classes"), int):  # labels the head can score: 3DSSD is Car only
        inputs.setdefault("num_classes", head["num_classes"])
    code_size = (head.get("bbox_coder") or {}).get("code_size")
    if isinstance(code_size, int):  # boxes the coder encodes: nuScenes anchor heads carry velocity (9 values)
        inputs.setdefault("gt_bboxes_dim", code_size)
    data = create_detector_inputs(**inputs)
    if family.kind == "seg" and family.frame == "kitti":  # SemanticKITTI segmentors voxelize at 5 cm: a unit cube
        for points in data["inputs"]["points"]:  # is too few voxels for their 4 downsamplings, so spread it over 40 m
            points[:, :3] = points[:, :3] * 40.0 - 20.0
    if family.kind in ("mono3d", "multiview", "multimodal"):
        import numpy as np
        import torch

        calib = kitti_calibration()
        for sample in data["data_samples"]:
            gt = sample.gt_instances_3d
            gt.centers_2d = torch.rand(len(gt), 2) * 100
            gt.depths = torch.rand(len(gt)) * 40 + 5
            sample.gt_instances.centers_2d, sample.gt_instances.depths = gt.centers_2d, gt.depths
            if head.get("pred_attrs"):  # nuScenes attributes, as its info files carry them (FCOS3D, PGD)
                gt.attr_labels = torch.randint(0, head.get("num_attrs", 9), (len(gt),))
            meta = dict(cam2img=calib["cam2img"], lidar2img=calib["lidar2img"], pad_shape=(128, 256))
            sample.set_metainfo(dict(meta, affine_aug=False, trans_mat=np.eye(3, dtype=np.float32)))
    return data


def train_step(model, family: Family, cfg) -> dict:
    """One optimizer step; the loss must be finite and some parameters must change."""
    import torch
    from mmengine.logging import MessageHub
    from mmengine.optim import build_optim_wrapper

    model.train()
    optim_cfg = dict(cfg.get("optim_wrapper", {}), type="OptimWrapper")
    optim_cfg.pop("loss_scale", None)
    optim = build_optim_wrapper(model, optim_cfg)
    before = {name: p.detach().clone() for name, p in model.named_parameters() if p.requires_grad}
    hub = MessageHub.get_current_instance()  # what the runner tells the model: TOOD's head reads the epoch
    hub.update_info("iter", 0)
    hub.update_info("epoch", 0)
    log_vars = model.train_step(train_inputs(family, cfg), optim)
    loss = float(torch.as_tensor(log_vars["loss"]).detach())
    if not math.isfinite(loss):
        raise FloatingPointError(f"the training loss is {loss}")
    params = dict(model.named_parameters())
    changed = sum(not torch.equal(params[name].detach(), value) for name, value in before.items())
    if changed == 0:
        norm = hub.log_scalars.get("train/grad_norm")  # OptimWrapper's clip_grad logs it
        why = f"; the gradient norm is {norm.current():.4g}, which clip_grad scales to a zero step" if norm else ""
        raise AssertionError(f"no parameter changed in the optimizer step (loss {loss:.4g}{why})")
    return dict(loss=loss, changed_params=changed, params=len(before))


def probe(family: Family, result_path: Path, with_export: bool = True) -> dict:
    """Run the stages in order; a failed stage skips the ones that need it."""
    import torch

    from scripts.loop.common import quiet

    quiet.install()
    torch.manual_seed(0)
    result = dict(name=family.name, scope=family.scope, config=family.config, kind=family.kind, stages={})

    def stage(name: str, work):
        result["stages"][name] = dict(ok=None, running=True)
        atomic_write(result_path, json.dumps(result, indent=1))
        start = time.perf_counter()
        try:
            figures = work() or {}
            entry = dict(ok=True, **figures)
        except Exception as exc:
            traceback.print_exc()  # into the family's log
            figures, entry = None, dict(ok=False, reason=reason(exc), error=str(exc).strip()[:500])
        entry["seconds"] = round(time.perf_counter() - start, 2)
        result["stages"][name] = entry
        atomic_write(result_path, json.dumps(result, indent=1))
        return figures

    with tempfile.TemporaryDirectory(prefix="zoo-") as tmp:
        work_dir = Path(tmp)
        built = {}

        def build():
            from mmengine.registry import MODELS

            cfg = build_config(family)
            try:
                model = MODELS.build(cfg.model)
            except Exception as exc:
                if family.missing:  # a package this stack lacks: say which, and what was tried
                    raise LookupError(f"{family.missing} ({first_line(exc)})") from exc
                raise
            model.init_weights()
            model.cfg = cfg
            built.update(cfg=cfg, model=model)
            return dict(params=sum(p.numel() for p in model.parameters()))

        if stage("config", build) is None:
            return result
        cfg = built["cfg"]
        model = built["model"]
        stage("train", lambda: train_step(model, family, cfg))
        from scripts.loop.zoo.frames import boxes_of, predict

        def predict_frame():
            model.eval()
            with torch.no_grad():
                return boxes_of(predict(model, family.kind, family.frame, work_dir), family.kind)

        stage("predict", predict_frame)
        if family.deploy and with_export:
            from scripts.loop.zoo.export_stage import export_parity

            stage("export", lambda: export_parity(model, family, cfg, work_dir))
    return result


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    if len(args) < 2:  # run by the zoo (scripts/loop/zoo/matrix.py), one family per process
        print("usage: python -m scripts.loop.zoo.probe FAMILY RESULT_JSON [--no-export]", file=sys.stderr)
        return 2
    probe(by_name(args[0]), Path(args[1]), with_export="--no-export" not in args)
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
