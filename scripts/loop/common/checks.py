"""Checks on what a user passes to train, eval and deploy: each failure is one
paragraph that says what to do."""

from __future__ import annotations

import argparse
import pickle
import re
from pathlib import Path

from mmlab_core.errors import MmlabError
from mmlab_core.settings import Settings, current, environment

SAFE_LOAD_PATCH = "patches/mmengine/checkpoint-load-with-weights-only-true-and-an-allow-list-of.patch"


class UsageError(MmlabError):
    """Bad input from the user; the message says what to do."""


class CheckpointRefused(UsageError):
    """A checkpoint holds pickled objects outside the allow-list: loading it could run code."""

    def __init__(self, checkpoint: str, refusal: Exception):
        found = re.search(r"it holds (`[^`]+`|an object)", str(refusal))
        what = found.group(1) if found else "an object"
        super().__init__(
            f"refused to load the checkpoint {checkpoint}: it holds {what}, a type outside the allow-list "
            "(tensors and the types mmengine itself writes), and unpickling it could run arbitrary code. "
            f"Nothing was loaded or run ({SAFE_LOAD_PATCH}). Use a checkpoint that this project's training "
            "wrote; if this is a legacy checkpoint from a source you trust, load it anyway by prefixing this "
            "one command with MMENGINE_TRUST_CHECKPOINTS=1 (for example `MMENGINE_TRUST_CHECKPOINTS=1 nox -s "
            "eval -- ...`)."
        )


def load_checkpoint(checkpoint: str) -> dict:
    """The checkpoint's contents, loaded weights-only with mmengine's allow-list (see SAFE_LOAD_PATCH).

    This is where a checkpoint path enters: a missing file or a refused pickle is a ``UsageError``."""
    from mmengine.runner.checkpoint import _load_checkpoint

    if not Path(checkpoint).is_file():
        raise UsageError(f"the checkpoint {checkpoint} does not exist")
    try:
        return _load_checkpoint(checkpoint, map_location="cpu")
    except pickle.UnpicklingError as exc:
        raise CheckpointRefused(checkpoint, exc) from None


def load_config(path: str, options: list[str] | None = None, settings: Settings | None = None):
    """The config with ``--cfg-options`` merged, or a one-paragraph error. ``{{$MMLAB_DATASET_PATH}}`` in
    the config resolves to ``settings.datasets``, the same data root the rest of the project uses."""
    from mmengine.config import Config, DictAction

    if not Path(path).is_file():
        raise UsageError(
            f"the config {path} does not exist. Configs live in configs/ (for example "
            "configs/pointpillars_lidar-custom-3class.py); give the path from the repository root."
        )
    with environment((settings or current()).config_env()):
        cfg = Config.fromfile(path)
    if options:
        parser = argparse.ArgumentParser()
        parser.add_argument("--cfg-options", nargs="+", action=DictAction)
        cfg.merge_from_dict(parser.parse_args(["--cfg-options", *options]).cfg_options)
    return cfg


def check_dataset(cfg, loader: str = "train_dataloader") -> None:
    dataset = cfg.get(loader, {}).get("dataset", {})
    root = dataset.get("data_root")
    if root and not Path(root).exists():
        raise UsageError(
            f"the dataset root {root} (from {loader}.dataset.data_root) does not exist. Generate the synthetic "
            "set with `python -m scripts.data.synth_scenes data/synthetic && python -m scripts.data.convert_lidar "
            "data/synthetic`, point MMLAB_DATASET_PATH at the folder that holds your datasets, or override it "
            f"with --cfg-options {loader}.dataset.data_root=..."
        )


def check_pair(deploy_cfg, model_cfg, deploy_path: str, model_path: str) -> None:
    """The deploy config must be for the model's codebase."""
    codebase = deploy_cfg.get("codebase_config", {}).get("type")
    scope = model_cfg.get("default_scope")
    if codebase is None:
        raise UsageError(f"{deploy_path} has no codebase_config.type: it is not an mmdeploy deploy config")
    if scope and codebase != scope:
        task = deploy_cfg.codebase_config.get("task")
        raise UsageError(
            f"{deploy_path} deploys {codebase} models ({task}), but {model_path} is an {scope} model. "
            "Pick a deploy config for its codebase from configs/deploy/ (voxel-detection_* for mmdet3d LiDAR "
            "detectors, detection_* for mmdet 2D detectors)."
        )


def check_checkpoint(model_cfg, checkpoint: str, model_path: str) -> None:
    """The checkpoint must hold weights for every parameter of the config's model."""
    from mmengine.registry import MODELS, init_default_scope

    state = load_checkpoint(checkpoint)
    state = state.get("state_dict", state)
    init_default_scope(model_cfg.get("default_scope", "mmdet3d"))
    model = MODELS.build(model_cfg.model)
    expected = model.state_dict()
    missing = [k for k in expected if k not in state]
    wrong = [k for k in expected if k in state and tuple(state[k].shape) != tuple(expected[k].shape)]
    if missing or wrong:
        detail = "; ".join(
            f"{len(v)} {name}, e.g. {v[0]}" for name, v in (("missing", missing), ("wrong shape", wrong)) if v
        )
        raise UsageError(
            f"the checkpoint {checkpoint} does not match the model in {model_path} ({detail}). Use the "
            "checkpoint that training with this config wrote (see its work dir), or the config it was trained with."
        )


def point_dims(model_cfg) -> int:
    """How many columns (x, y, z, intensity ...) the config's point loader feeds the model."""
    loader = model_cfg.test_pipeline[0]
    use = loader.get("use_dim", loader.get("load_dim", 4))
    return use if isinstance(use, int) else len(use)
