"""mmengine's Runner as the loop CLIs build it: the distributed backend that fits
this machine, and a terminal that says where the config and the full log are
instead of printing them.
"""

from __future__ import annotations

import os.path as osp

from mmengine.runner import Runner

from scripts.loop.common import quiet


def match_dist_backend(cfg) -> None:
    """gloo without CUDA, nccl with it. Upstream configs (``default_runtime.py``) say nccl whatever the machine."""
    import torch

    cfg.setdefault("env_cfg", {}).setdefault("dist_cfg", {})
    cfg.env_cfg.dist_cfg.backend = "nccl" if torch.cuda.is_available() else "gloo"


class LoopRunner(Runner):
    """A Runner whose terminal leaves out the environment, config and hook-order blocks; the log file keeps them."""

    def build_logger(self, *args, **kwargs):
        logger = super().build_logger(*args, **kwargs)
        quiet.quiet_console(logger)
        return logger

    def _log_env(self, env_cfg: dict) -> None:
        super()._log_env(env_cfg)
        import torch

        config = osp.join(self.work_dir, osp.basename(self.cfg.filename or f"{self.timestamp}.py"))
        device = "CUDA" if torch.cuda.is_available() else "CPU"
        backend = env_cfg.get("dist_cfg", {}).get("backend", "-") if self.distributed else "-"
        self.logger.info(
            f"torch {torch.__version__} on {device}, {self.world_size} process(es), dist backend {backend}, "
            f"seed {self.seed}; config: {config}; full log: {osp.join(self.log_dir, self.timestamp + '.log')}"
        )


def build(cfg, progress: bool = False) -> LoopRunner:
    """The loop's Runner from a loaded config; ``progress``: a bar per epoch instead of iteration lines."""
    match_dist_backend(cfg)
    runner = LoopRunner.from_cfg(cfg)
    if progress:
        from scripts.loop.common.progress import use_progress_bars

        use_progress_bars(runner)
    return runner
