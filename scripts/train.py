"""Train a model from a config, in one process.

``python -m scripts.train CONFIG [--resume] [--work-dir DIR]
[--cfg-options key=value ...]``. Checkpoints go to
``$MMLAB_CHECKPOINTS_PATH/<config name>/`` unless ``--work-dir`` says otherwise.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from scripts.workspace import checkpoints_dir


class UsageError(RuntimeError):
    """Bad input from the user; the message says what to do."""


def load_config(path: str, options: list[str] | None = None):
    """The config with ``--cfg-options`` merged, or a one-paragraph error."""
    from mmengine.config import Config, DictAction

    if not Path(path).is_file():
        raise UsageError(
            f"the config {path} does not exist. Configs live in configs/ (for example "
            "configs/pointpillars_lidar-custom-3class.py); give the path from the repository root."
        )
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
            "set with `python -m scripts.synth_scenes data/synthetic && python -m scripts.convert_lidar "
            "data/synthetic`, point MMLAB_DATASET_PATH at the folder that holds your datasets, or override it "
            f"with --cfg-options {loader}.dataset.data_root=..."
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("config")
    parser.add_argument("--resume", action="store_true", help="continue from the last checkpoint in the work dir")
    parser.add_argument("--work-dir")
    parser.add_argument("--cfg-options", nargs="+", default=[], metavar="KEY=VALUE")
    args = parser.parse_args(argv)
    try:
        cfg = load_config(args.config, args.cfg_options)
        check_dataset(cfg)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from mmengine.runner import Runner

    cfg.work_dir = args.work_dir or str(checkpoints_dir() / Path(args.config).stem)
    cfg.resume = args.resume
    runner = Runner.from_cfg(cfg)
    runner.train()
    print(f"checkpoints and logs: {cfg.work_dir}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
