"""The recipe of the ``learned`` fixture (tests/loop/conftest.py), and running a module the way nox does."""

from __future__ import annotations

import subprocess
import sys

from mmlab_core.settings import REPO_ROOT

LEARNED_CONFIG = "configs/pointpillars_lidar-custom-cpu.py"
LEARNED_EPOCHS = 80  # 4 frames, batch 2: 160 iterations


def run_module(module: str, *args: str, env: dict) -> subprocess.CompletedProcess:
    """``python -m module args`` from the repository root; fails the test with the output's tail."""
    result = subprocess.run([sys.executable, "-m", module, *args], cwd=REPO_ROOT, capture_output=True, text=True,
                            env=env)  # fmt: skip
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    return result
