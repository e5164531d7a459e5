"""Train a model from a config, in one process.

``python -m scripts.train CONFIG [--resume] [--work-dir DIR]
[--cfg-options key=value ...]``. Checkpoints go to
``$MMLAB_CHECKPOINTS_PATH/<config name>/`` unless ``--work-dir`` says otherwise.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from scripts.checks import UsageError, check_dataset, load_config
from scripts.workspace import checkpoints_dir


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
